//! Mapping a flight file's header to our columns, by name, and parsing
//! its rows. Two schemas are known: the 2009-2018 Kaggle files
//! (`FL_DATE, OP_CARRIER, ...`) and the BTS on-time files
//! (`FlightDate, Reporting_Airline, ...`).

use chrono::{Datelike, NaiveDate};

use crate::records::{Read, Record, Records};

/// One parsed flight, as the `flights` table holds it, borrowing its
/// text from the record (a row costs no allocation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flight<'r> {
    pub date: NaiveDate,
    /// `None` when blank: the computation does not use it, so the row loads.
    pub carrier: Option<&'r str>,
    pub fl_num: Option<i32>,
    pub origin: &'r str,
    /// `None` when blank, as the carrier.
    pub dest: Option<&'r str>,
    pub crs_dep_time: Option<i32>,
    pub dep_time: Option<i32>,
    pub dep_delay: Option<f64>,
    pub cancelled: bool,
    pub diverted: bool,
    /// Arrival delay, minutes; `None` when missing or not in the file.
    pub arr_delay: Option<f64>,
    /// Delay minutes by cause: carrier, weather, NAS, security, late
    /// aircraft (the columns' order); `None` when blank or not in the file
    /// (BTS fills them for arrivals 15+ minutes late).
    pub causes: [Option<f64>; 5],
    /// A carrier, B weather, C national air system, D security.
    pub cancellation_code: Option<&'r str>,
}

/// Our column, and the names it has in each schema.
struct Field {
    names: &'static [&'static str],
    required: bool,
}

/// Where each field sits in [`FIELDS`].
mod at {
    pub(super) const FL_DATE: usize = 0;
    pub(super) const OP_CARRIER: usize = 1;
    pub(super) const OP_CARRIER_FL_NUM: usize = 2;
    pub(super) const ORIGIN: usize = 3;
    pub(super) const DEST: usize = 4;
    pub(super) const CRS_DEP_TIME: usize = 5;
    pub(super) const DEP_TIME: usize = 6;
    pub(super) const DEP_DELAY: usize = 7;
    pub(super) const CANCELLED: usize = 8;
    pub(super) const DIVERTED: usize = 9;
    pub(super) const ARR_DELAY: usize = 10;
    /// The five causes follow, in the order of `Flight::causes`.
    pub(super) const CARRIER_DELAY: usize = 11;
    pub(super) const CANCELLATION_CODE: usize = 16;
}

const fn field(names: &'static [&'static str], required: bool) -> Field {
    Field { names, required }
}

/// The Kaggle name first (what messages say), then the BTS names. Only the
/// old system's columns are required; the rest load as NULL when absent.
const FIELDS: [Field; 17] = [
    field(&["FL_DATE", "FlightDate"], true),
    field(&["OP_CARRIER", "Reporting_Airline", "UniqueCarrier", "Carrier"], true),
    field(
        &["OP_CARRIER_FL_NUM", "Flight_Number_Reporting_Airline", "FlightNum"],
        false,
    ),
    field(&["ORIGIN", "Origin"], true),
    field(&["DEST", "Dest"], true),
    field(&["CRS_DEP_TIME", "CRSDepTime"], false),
    field(&["DEP_TIME", "DepTime"], false),
    field(&["DEP_DELAY", "DepDelay"], true),
    field(&["CANCELLED", "Cancelled"], false),
    field(&["DIVERTED", "Diverted"], false),
    field(&["ARR_DELAY", "ArrDelay"], false),
    field(&["CARRIER_DELAY", "CarrierDelay"], false),
    field(&["WEATHER_DELAY", "WeatherDelay"], false),
    field(&["NAS_DELAY", "NASDelay"], false),
    field(&["SECURITY_DELAY", "SecurityDelay"], false),
    field(&["LATE_AIRCRAFT_DELAY", "LateAircraftDelay"], false),
    field(&["CANCELLATION_CODE", "CancellationCode"], false),
];

/// Where each of our columns sits in a file.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    at: [Option<usize>; FIELDS.len()],
    width: usize,
}

/// `str::trim`, after a cheaper look at the ends (fields are rarely padded).
fn trim(v: &str) -> &str {
    match (v.as_bytes().first(), v.as_bytes().last()) {
        (Some(a), Some(b)) if !a.is_ascii_whitespace() && !b.is_ascii_whitespace() && a.is_ascii() && b.is_ascii() => v,
        _ => v.trim(),
    }
}

fn normalise(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .trim_matches('"')
        .to_ascii_uppercase()
}

/// A record reader over `reader` (named `name` in messages), past its
/// header, and the header's column map. A header without a required
/// column refuses the file. `load` and `detect --input` read files this one way.
pub(crate) fn open<R: std::io::BufRead>(reader: R, name: &str) -> anyhow::Result<(Records<R>, Columns)> {
    use anyhow::Context;
    let mut records = Records::new(reader);
    let mut header = Record::default();
    let refuse = |e: String| anyhow::Error::new(crate::Refused(format!("{name}: {e}")));
    match records
        .read(&mut header)
        .with_context(|| format!("{name}: cannot read the header"))?
    {
        Read::Record { .. } => {}
        Read::TooLong { .. } => return Err(refuse("the header is longer than a record may be".into())),
        Read::End => return Err(refuse("empty file: no header".into())),
    }
    let names: Vec<String> = header.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
    let columns = Columns::from_header(&names).map_err(refuse)?;
    Ok((records, columns))
}

impl Columns {
    /// Maps a header; refuses one missing a required column, naming it.
    pub(crate) fn from_header<S: AsRef<str>>(header: &[S]) -> Result<Columns, String> {
        let names: Vec<String> = header.iter().map(|h| normalise(h.as_ref())).collect();
        let mut at = [None; FIELDS.len()];
        for (i, field) in FIELDS.iter().enumerate() {
            at[i] = field
                .names
                .iter()
                .find_map(|n| names.iter().position(|h| *h == n.to_ascii_uppercase()));
            if at[i].is_none() && field.required {
                return Err(format!(
                    "missing required column {} (or {})",
                    field.names[0],
                    field.names[1..].join(", ")
                ));
            }
        }
        Ok(Columns {
            at,
            width: header.len(),
        })
    }

    fn text<'r>(&self, rec: &'r Record, whole: Option<&'r str>, i: usize) -> Result<&'r str, String> {
        match self.at[i].and_then(|col| rec.text(whole, col)) {
            Some(Ok(v)) => Ok(trim(v)),
            Some(Err(_)) => Err(format!("{}: not UTF-8", FIELDS[i].names[0])),
            None => Ok(""),
        }
    }

    /// Parses one row, or says what is wrong with it.
    pub(crate) fn parse<'r>(&self, rec: &'r Record) -> Result<Flight<'r>, String> {
        if rec.len() != self.width {
            return Err(format!("expected {} fields, found {}", self.width, rec.len()));
        }
        let name = |i: usize| FIELDS[i].names[0];
        let line = rec.as_str();
        let required = |i: usize| -> Result<&'r str, String> {
            let v = self.text(rec, line, i)?;
            if v.is_empty() {
                Err(format!("{} is empty", name(i)))
            } else {
                Ok(v)
            }
        };
        let optional = |i: usize| -> Result<Option<&'r str>, String> {
            let v = self.text(rec, line, i)?;
            Ok((!v.is_empty()).then_some(v))
        };
        let whole = |i: usize| -> Result<Option<i32>, String> {
            let v = self.text(rec, line, i)?;
            if v.is_empty() {
                return Ok(None);
            }
            // Most are plain integers or, in the Kaggle files, `1802.0`.
            if let Ok(x) = v.strip_suffix(".0").unwrap_or(v).parse::<i32>() {
                return Ok(Some(x));
            }
            let x: f64 = v.parse().map_err(|_| format!("{}: invalid number {v:?}", name(i)))?;
            if x.fract() != 0.0 || x.abs() > i32::MAX as f64 {
                return Err(format!("{}: not a whole number {v:?}", name(i)));
            }
            Ok(Some(x as i32))
        };
        let flag = |i: usize| -> Result<bool, String> {
            match self.text(rec, line, i)? {
                "" | "0" | "0.0" | "0.00" | "false" | "False" | "FALSE" => Ok(false),
                "1" | "1.0" | "1.00" | "true" | "True" | "TRUE" => Ok(true),
                v => Err(format!("{}: invalid flag {v:?}", name(i))),
            }
        };
        let minutes = |i: usize| -> Result<Option<f64>, String> {
            let v = self.text(rec, line, i)?;
            if v.is_empty() {
                return Ok(None);
            }
            match whole_minutes(v).map_or_else(|| v.parse::<f64>(), Ok) {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(format!("{}: invalid number {v:?}", name(i))),
            }
        };
        Ok(Flight {
            date: parse_date(required(at::FL_DATE)?)?,
            carrier: optional(at::OP_CARRIER)?,
            fl_num: whole(at::OP_CARRIER_FL_NUM)?,
            origin: required(at::ORIGIN)?,
            dest: optional(at::DEST)?,
            crs_dep_time: whole(at::CRS_DEP_TIME)?,
            dep_time: whole(at::DEP_TIME)?,
            dep_delay: minutes(at::DEP_DELAY)?,
            cancelled: flag(at::CANCELLED)?,
            diverted: flag(at::DIVERTED)?,
            arr_delay: minutes(at::ARR_DELAY)?,
            causes: [
                minutes(at::CARRIER_DELAY)?,
                minutes(at::CARRIER_DELAY + 1)?,
                minutes(at::CARRIER_DELAY + 2)?,
                minutes(at::CARRIER_DELAY + 3)?,
                minutes(at::CARRIER_DELAY + 4)?,
            ],
            cancellation_code: optional(at::CANCELLATION_CODE)?,
        })
    }
}

/// `12`, `-3.0` or `15.00` (how the files write minutes, always whole) as
/// `str::parse::<f64>` reads them, without its general machinery (six
/// numbers a row; this halved their cost); `None` sends anything else there.
fn whole_minutes(v: &str) -> Option<f64> {
    let digits = v.strip_suffix(".00").or_else(|| v.strip_suffix(".0")).unwrap_or(v);
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    let n = digits
        .bytes()
        .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))?;
    let x = f64::from(n);
    Some(if negative { -x } else { x })
}

/// The first year of the BTS on-time records.
const FIRST_YEAR: i32 = 1987;

/// Next year, the last a flight date may fall in (read from the clock once).
fn last_year() -> i32 {
    static LAST_YEAR: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    *LAST_YEAR.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        chrono::DateTime::from_timestamp(now, 0).map_or(9998, |t| t.year() + 1)
    })
}

/// `2015-01-31` (Kaggle, BTS) or `1/31/2015` with an optional time part,
/// from 1987 (the first BTS records) to next year: anything else is a
/// typo that would make a partition of its own.
fn parse_date(v: &str) -> Result<NaiveDate, String> {
    let day = v.split_whitespace().next().unwrap_or(v);
    let date = iso_date(day)
        .or_else(|| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
        .or_else(|| NaiveDate::parse_from_str(day, "%m/%d/%Y").ok())
        .ok_or_else(|| format!("FL_DATE: invalid date {v:?}"))?;
    let last_year = last_year();
    if !(FIRST_YEAR..=last_year).contains(&date.year()) {
        return Err(format!("FL_DATE: {date} is outside {FIRST_YEAR}..{last_year}"));
    }
    Ok(date)
}

/// `YYYY-MM-DD` exactly, without chrono's format machinery (the common
/// case, and a third of the parsing time); `None` sends it the slow way.
fn iso_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter()
            .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// The reason given for a record longer than a record may be.
pub(crate) fn too_long(bytes: u64) -> String {
    format!(
        "record too long: {bytes} bytes, above the {} KiB limit",
        crate::records::MAX_RECORD / 1024
    )
}

/// The row's fields joined back into a CSV line, for the rejects table.
pub(crate) fn raw_line(rec: &Record) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(rec.iter());
    let bytes = w.into_inner().unwrap_or_default();
    truncate_raw(String::from_utf8_lossy(&bytes).trim_end_matches('\n'))
}

/// Most bytes of a rejected row kept in `flight_rejects.raw`.
pub(crate) const MAX_RAW: usize = 4096;

/// The row's text, cut at [`MAX_RAW`] bytes (on a character boundary) with
/// a note of how much was left out, so one huge line cannot bloat the table.
fn truncate_raw(text: &str) -> String {
    if text.len() <= MAX_RAW {
        return text.to_string();
    }
    let mut end = MAX_RAW;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KAGGLE: &str = "FL_DATE,OP_CARRIER,OP_CARRIER_FL_NUM,ORIGIN,DEST,CRS_DEP_TIME,DEP_TIME,DEP_DELAY,TAXI_OUT,CANCELLED,DIVERTED,Unnamed: 27";

    fn header(s: &str) -> Vec<&str> {
        s.split(',').collect()
    }

    fn row(s: &str) -> Record {
        Record::parse(s)
    }

    #[test]
    fn kaggle_row() {
        let c = Columns::from_header(&header(KAGGLE)).unwrap();
        let rows = [
            row("2015-01-02,AA,1230.0,JFK,LAX,1745,1802.0,17.0,12.0,0.0,0.0,"),
            row("2015-01-02,AA,1,JFK,LAX,1745,,,,1.0,0.0,"),
            row("2015-01-02,,1,JFK,,1745,1750,5,,0,0,"),
        ];
        let f = c.parse(&rows[0]).unwrap();
        assert_eq!(f.date, NaiveDate::from_ymd_opt(2015, 1, 2).unwrap());
        assert_eq!(
            (f.fl_num, f.crs_dep_time, f.dep_time, f.dep_delay),
            (Some(1230), Some(1745), Some(1802), Some(17.0))
        );
        assert!(!f.cancelled);
        let cancelled = c.parse(&rows[1]).unwrap();
        assert_eq!((cancelled.dep_delay, cancelled.cancelled), (None, true));
        // A blank carrier or destination loads: the rule uses neither.
        let blank = c.parse(&rows[2]).unwrap();
        assert_eq!((blank.carrier, blank.dest, blank.dep_delay), (None, None, Some(5.0)));
        assert_eq!(f.carrier, Some("AA"));
    }

    #[test]
    fn bts_header_maps_by_name() {
        let c = Columns::from_header(&header(
            "Year,FlightDate,Reporting_Airline,Origin,Dest,DepDelay,Cancelled",
        ))
        .unwrap();
        let rec = row("2016,1/5/2016 12:00:00 AM,DL,ATL,ORD,-3.00,0.00");
        let f = c.parse(&rec).unwrap();
        assert_eq!(
            (f.origin, f.dep_delay, f.date.to_string().as_str()),
            ("ATL", Some(-3.0), "2016-01-05")
        );
        // The BTS names of the explaining columns (as the on-time files write them).
        let c = Columns::from_header(&header(
            "FlightDate,Reporting_Airline,Origin,Dest,DepDelay,ArrDelay,Cancelled,CancellationCode,Diverted,\
             CarrierDelay,WeatherDelay,NASDelay,SecurityDelay,LateAircraftDelay",
        ))
        .unwrap();
        let rec = row("2016-01-05,DL,ATL,ORD,47.00,52.00,0.00,,1.00,10.00,30.00,12.00,0.00,0.00");
        let f = c.parse(&rec).unwrap();
        assert_eq!((f.arr_delay, f.diverted, f.cancellation_code), (Some(52.0), true, None));
        assert_eq!(f.causes, [Some(10.0), Some(30.0), Some(12.0), Some(0.0), Some(0.0)]);
    }

    #[test]
    fn bad_rows_say_why() {
        let c = Columns::from_header(&header(KAGGLE)).unwrap();
        let err = |s| c.parse(&row(s)).unwrap_err();
        assert_eq!(err("2015-01-02,AA,1,JFK"), "expected 12 fields, found 4");
        assert_eq!(
            err("2015-13-02,AA,1,JFK,LAX,1745,1802,17,1,0,0,"),
            "FL_DATE: invalid date \"2015-13-02\""
        );
        assert_eq!(
            err("2015-01-02,AA,1,JFK,LAX,1745,1802,abc,1,0,0,"),
            "DEP_DELAY: invalid number \"abc\""
        );
        assert_eq!(err("2015-01-02,AA,1,,LAX,1745,1802,3,1,0,0,"), "ORIGIN is empty");
        assert_eq!(
            err("1901-01-02,AA,1,JFK,LAX,1745,1802,3,1,0,0,"),
            format!("FL_DATE: 1901-01-02 is outside 1987..{}", last_year())
        );
        assert_eq!(
            err("2999-01-02,AA,1,JFK,LAX,1745,1802,3,1,0,0,"),
            format!("FL_DATE: 2999-01-02 is outside 1987..{}", last_year())
        );
        assert_eq!(
            err("2015-01-02,AA,1,JFK,LAX,17x5,1802,3,1,0,0,"),
            "CRS_DEP_TIME: invalid number \"17x5\""
        );
        assert_eq!(
            err("2015-01-02,AA,1,JFK,LAX,1745,1802,NaN,1,0,0,"),
            "DEP_DELAY: invalid number \"NaN\""
        );
    }

    #[test]
    fn causes_arrivals_and_cancellation_codes_load_when_present() {
        let c = Columns::from_header(&crate::generate::KAGGLE_HEADER).unwrap();
        let mut fields = vec![""; crate::generate::KAGGLE_HEADER.len()];
        fields[..8].copy_from_slice(&["2015-01-02", "AA", "1", "JFK", "LAX", "1745", "1850", "65.0"]);
        fields[14] = "71.0"; // ARR_DELAY
        fields[22..27].copy_from_slice(&["0.0", "56.0", "15.0", "0.0", "0.0"]);
        let rec = row(&fields.join(","));
        let f = c.parse(&rec).unwrap();
        assert_eq!(f.arr_delay, Some(71.0));
        assert_eq!(f.causes, [Some(0.0), Some(56.0), Some(15.0), Some(0.0), Some(0.0)]);
        assert_eq!(f.cancellation_code, None);

        fields[7] = "";
        fields[14] = "";
        fields[15] = "1.0";
        fields[16] = "B";
        fields[22..27].copy_from_slice(&[""; 5]);
        let rec = row(&fields.join(","));
        let f = c.parse(&rec).unwrap();
        assert_eq!(
            (f.cancelled, f.cancellation_code, f.causes),
            (true, Some("B"), [None; 5])
        );

        fields[23] = "lots";
        assert_eq!(
            c.parse(&row(&fields.join(","))).unwrap_err(),
            "WEATHER_DELAY: invalid number \"lots\""
        );
        // A file without them (the old system's columns only) loads them as NULL.
        let old = Columns::from_header(&header(KAGGLE)).unwrap();
        let rec = row("2015-01-02,AA,1,JFK,LAX,1745,1802,17,1,0,0,");
        let f = old.parse(&rec).unwrap();
        assert_eq!((f.arr_delay, f.causes, f.cancellation_code), (None, [None; 5], None));
    }

    /// The fast path reads exactly what `str::parse` reads, signed zero
    /// included, and leaves everything else to it.
    #[test]
    fn whole_minutes_read_as_parse_reads_them() {
        for v in ["0", "12", "-3", "15.0", "-7.00", "-0.0", "1440.00", "123456789"] {
            let fast = whole_minutes(v).unwrap();
            let slow: f64 = v.parse().unwrap();
            assert_eq!(fast.to_bits(), slow.to_bits(), "{v}");
        }
        for v in ["", "-", ".0", "1.5", "1e3", "+4", "1234567890", "12.000", " 1", "abc"] {
            assert_eq!(whole_minutes(v), None, "{v}");
        }
    }

    #[test]
    fn missing_column_is_named() {
        let e = Columns::from_header(&header("FL_DATE,OP_CARRIER,ORIGIN,DEST")).unwrap_err();
        assert_eq!(e, "missing required column DEP_DELAY (or DepDelay)");
    }

    #[test]
    fn a_huge_rejected_row_is_kept_cut() {
        let long = format!("2015-01-02,{}", "é".repeat(5000));
        let raw = raw_line(&Record::parse(&format!("\"{long}\"")));
        assert!(raw.len() < MAX_RAW + 40, "{} bytes kept", raw.len());
        assert!(raw.starts_with("\"2015-01-02,é") || raw.starts_with("2015-01-02,é"));
        assert!(raw.ends_with("more bytes)"));
        assert_eq!(raw_line(&Record::parse("a,b")), "a,b");
    }
}
