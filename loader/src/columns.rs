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

/// The physical range of a departure or arrival delay, in minutes: a day
/// early to five days late (the largest of the 2009-2018 files is about
/// 2,750). A value outside it is a typo or garbage, and rejects the row.
pub(crate) const MIN_DELAY_MINUTES: f64 = -1440.0;
/// See [`MIN_DELAY_MINUTES`].
pub(crate) const MAX_DELAY_MINUTES: f64 = 7200.0;
/// The physical range of a cause's delay minutes (`CARRIER_DELAY` ..
/// `LATE_AIRCRAFT_DELAY`): none to five days.
pub(crate) const MIN_CAUSE_MINUTES: f64 = 0.0;
/// See [`MIN_CAUSE_MINUTES`].
pub(crate) const MAX_CAUSE_MINUTES: f64 = 7200.0;

/// Most characters of a field a reject's reason quotes.
pub(crate) const MAX_QUOTED: usize = 64;

/// A field's text for a reason: quoted and escaped as `{:?}` does, cut at
/// [`MAX_QUOTED`] characters with the field's length after it, so a reason
/// stays short (at most ~700 bytes, every character escaped) whatever the field.
fn quoted(v: &str) -> String {
    match v.char_indices().nth(MAX_QUOTED) {
        None => format!("{v:?}"),
        Some((end, _)) => format!("{:?}…({} bytes)", &v[..end], v.len()),
    }
}

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
        // Text that goes to the table as text, which cannot hold a NUL.
        let text = |i: usize| -> Result<&'r str, String> {
            let v = self.text(rec, line, i)?;
            if v.contains('\0') {
                return Err(format!("{}: a NUL byte in {}", name(i), quoted(v)));
            }
            Ok(v)
        };
        let required = |i: usize| -> Result<&'r str, String> {
            let v = text(i)?;
            if v.is_empty() {
                Err(format!("{} is empty", name(i)))
            } else {
                Ok(v)
            }
        };
        let optional = |i: usize| -> Result<Option<&'r str>, String> {
            let v = text(i)?;
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
            let x: f64 = v
                .parse()
                .map_err(|_| format!("{}: invalid number {}", name(i), quoted(v)))?;
            if x.fract() != 0.0 || x.abs() > i32::MAX as f64 {
                return Err(format!("{}: not a whole number {}", name(i), quoted(v)));
            }
            Ok(Some(x as i32))
        };
        let flag = |i: usize| -> Result<bool, String> {
            match self.text(rec, line, i)? {
                "" | "0" | "0.0" | "0.00" | "false" | "False" | "FALSE" => Ok(false),
                "1" | "1.0" | "1.00" | "true" | "True" | "TRUE" => Ok(true),
                v => Err(format!("{}: invalid flag {}", name(i), quoted(v))),
            }
        };
        // Minutes within a physical range (NaN and infinities are not numbers here).
        let minutes = |i: usize, min: f64, max: f64| -> Result<Option<f64>, String> {
            let v = self.text(rec, line, i)?;
            if v.is_empty() {
                return Ok(None);
            }
            match whole_minutes(v).map_or_else(|| v.parse::<f64>(), Ok) {
                Ok(x) if (min..=max).contains(&x) => Ok(Some(x)),
                Ok(x) if x.is_finite() => Err(format!("{}: {} is outside [{min}, {max}] minutes", name(i), quoted(v))),
                _ => Err(format!("{}: invalid number {}", name(i), quoted(v))),
            }
        };
        let delay = |i: usize| minutes(i, MIN_DELAY_MINUTES, MAX_DELAY_MINUTES);
        let cause = |i: usize| minutes(i, MIN_CAUSE_MINUTES, MAX_CAUSE_MINUTES);
        Ok(Flight {
            date: parse_date(required(at::FL_DATE)?)?,
            carrier: optional(at::OP_CARRIER)?,
            fl_num: whole(at::OP_CARRIER_FL_NUM)?,
            origin: required(at::ORIGIN)?,
            dest: optional(at::DEST)?,
            crs_dep_time: whole(at::CRS_DEP_TIME)?,
            dep_time: whole(at::DEP_TIME)?,
            dep_delay: delay(at::DEP_DELAY)?,
            cancelled: flag(at::CANCELLED)?,
            diverted: flag(at::DIVERTED)?,
            arr_delay: delay(at::ARR_DELAY)?,
            causes: [
                cause(at::CARRIER_DELAY)?,
                cause(at::CARRIER_DELAY + 1)?,
                cause(at::CARRIER_DELAY + 2)?,
                cause(at::CARRIER_DELAY + 3)?,
                cause(at::CARRIER_DELAY + 4)?,
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
        .ok_or_else(|| format!("FL_DATE: invalid date {}", quoted(v)))?;
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

/// Most bytes of a rejected row kept in `flight_rejects.raw`.
pub(crate) const MAX_RAW: usize = 1024;

/// The row's fields joined back into a CSV line, for the rejects table:
/// at most [`MAX_RAW`] bytes of it (on a character boundary), then a note
/// that it was cut and how long the row is, so one huge line cannot bloat
/// the table or the loader. Only enough of the row to fill that is re-joined
/// and quoted; invalid UTF-8 and NUL bytes (which `text` cannot hold)
/// become U+FFFD.
pub(crate) fn raw_line(rec: &Record) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // The row's field bytes and commas; what is written grows at least as fast.
    let (mut all, mut written) = (0, 0);
    for (i, field) in rec.iter().enumerate() {
        all += field.len() + usize::from(i > 0);
        if written <= MAX_RAW {
            let part = &field[..field.len().min(MAX_RAW + 1)];
            written += part.len() + usize::from(i > 0);
            let _ = w.write_field(part);
        }
    }
    if rec.len() == 1 && all == 0 {
        return "\"\"".into(); // a lone empty field, as the csv crate writes it
    }
    let _ = w.write_record(None::<&[u8]>); // the end of the row closes a quoted field
    let bytes = w.into_inner().unwrap_or_default();
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let text = String::from_utf8_lossy(bytes).replace('\0', "\u{fffd}");
    if text.len() <= MAX_RAW {
        return text;
    }
    let mut end = MAX_RAW;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (cut: the row has {all} bytes)", &text[..end])
}

#[cfg(test)]
mod tests {
    /// The daily aggregate (`sql/daily.sql`, run by `refresh_year` and
    /// `loader detect`) leaves out what this parser rejects: the same bounds
    /// in both places.
    #[test]
    fn the_daily_aggregate_uses_the_loaders_range() {
        let daily = summary::sql::DAILY;
        let delay = format!("dep_delay BETWEEN {MIN_DELAY_MINUTES} AND {MAX_DELAY_MINUTES}");
        assert!(daily.contains(&delay), "{delay} not in sql/daily.sql");
        for cause in ["carrier", "weather", "nas", "security", "late_aircraft"] {
            let range = format!("{cause}_delay BETWEEN {MIN_CAUSE_MINUTES} AND {MAX_CAUSE_MINUTES}");
            assert!(daily.contains(&range), "{range} not in sql/daily.sql");
        }
    }

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

    /// A BOM before the header is dropped, the names quoted or not.
    #[test]
    fn a_header_after_a_bom_maps() {
        for header in [
            "\u{feff}FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY",
            "\u{feff}\"FL_DATE\",\"OP_CARRIER\",ORIGIN,DEST,\"DEP_DELAY\"",
        ] {
            let text = format!("{header}\n2013-01-01,UA,EWR,IAH,2.0\n");
            let (mut records, c) = open(text.as_bytes(), "bom").unwrap();
            let mut rec = Record::default();
            assert_eq!(records.read(&mut rec).unwrap(), Read::Record { line: 2 });
            assert_eq!(c.parse(&rec).unwrap().dep_delay, Some(2.0), "{header}");
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
        assert!(raw.ends_with("… (cut: the row has 10011 bytes)"), "{raw}");
        assert_eq!(raw_line(&Record::parse("a,b")), "a,b");
        assert_eq!(raw_line(&Record::parse("\"\"")), "\"\"");
        assert_eq!(raw_line(&Record::parse("a,\"b,c\",\"d\"\"\"")), "a,\"b,c\",\"d\"\"\"");
    }

    /// The row that costs most to quote: every field a quote, which the CSV
    /// writer doubles and encloses; or thousands of fields. Only the cap's worth is kept.
    #[test]
    fn quoting_a_hostile_row_stays_under_the_cap() {
        let quotes = format!("\"{}\"", "\"\"".repeat(30_000));
        let raw = raw_line(&Record::parse(&format!("{quotes},{quotes}")));
        assert!(raw.len() <= MAX_RAW + 40, "{} bytes kept", raw.len());
        assert!(
            raw.starts_with("\"\"\"\"\"") && raw.ends_with("(cut: the row has 60001 bytes)"),
            "{raw}"
        );
        let commas = ",".repeat(4000);
        let raw = raw_line(&Record::parse(&commas));
        assert!(
            raw.len() <= MAX_RAW + 40 && raw.ends_with("(cut: the row has 4000 bytes)"),
            "{raw}"
        );
        // NUL (which Postgres text refuses) and invalid UTF-8 are kept as U+FFFD.
        let mut rec = Record::default();
        Records::new(&b"a\0b,\xff\n"[..]).read(&mut rec).unwrap();
        assert_eq!(raw_line(&rec), "a\u{fffd}b,\u{fffd}");
    }

    fn kaggle_columns() -> (Columns, Vec<&'static str>) {
        let c = Columns::from_header(&crate::generate::KAGGLE_HEADER).unwrap();
        let mut fields = vec![""; crate::generate::KAGGLE_HEADER.len()];
        fields[..8].copy_from_slice(&["2015-01-02", "AA", "1", "JFK", "LAX", "1745", "1850", "65.0"]);
        fields[14] = "71.0"; // ARR_DELAY
        fields[22..27].copy_from_slice(&["0.0", "56.0", "15.0", "0.0", "0.0"]);
        (c, fields)
    }

    /// Each delay and cause column, at and past each end of its range.
    #[test]
    fn delays_and_cause_minutes_outside_their_physical_range_reject_the_row() {
        let (c, base) = kaggle_columns();
        let parse = |at: usize, v: &str| {
            let mut fields = base.clone();
            fields[at] = v;
            c.parse(&row(&fields.join(","))).map(|_| ())
        };
        let delays = [(7, "DEP_DELAY"), (14, "ARR_DELAY")];
        let causes = [
            (22, "CARRIER_DELAY"),
            (23, "WEATHER_DELAY"),
            (24, "NAS_DELAY"),
            (25, "SECURITY_DELAY"),
            (26, "LATE_AIRCRAFT_DELAY"),
        ];
        assert_eq!((MIN_DELAY_MINUTES, MAX_DELAY_MINUTES), (-1440.0, 7200.0));
        assert_eq!((MIN_CAUSE_MINUTES, MAX_CAUSE_MINUTES), (0.0, 7200.0));
        for (at, name) in delays {
            for ok in ["-1440", "-1440.0", "7200.00", "2750"] {
                assert!(parse(at, ok).is_ok(), "{name} {ok}");
            }
            for bad in ["-1441", "-1440.5", "7200.5", "7201", "1e308", "-1e308"] {
                assert_eq!(
                    parse(at, bad).unwrap_err(),
                    format!("{name}: \"{bad}\" is outside [-1440, 7200] minutes")
                );
            }
        }
        for (at, name) in causes {
            for ok in ["0", "0.0", "-0", "7200", "7200.00"] {
                assert!(parse(at, ok).is_ok(), "{name} {ok}");
            }
            for bad in ["-1", "-0.5", "7201", "7200.5", "1e308"] {
                assert_eq!(
                    parse(at, bad).unwrap_err(),
                    format!("{name}: \"{bad}\" is outside [0, 7200] minutes")
                );
            }
        }
        // Not numbers at all, as before.
        for (at, name) in delays.into_iter().chain(causes) {
            for bad in ["NaN", "inf", "-inf", "infinity", "1e309"] {
                assert_eq!(
                    parse(at, bad).unwrap_err(),
                    format!("{name}: invalid number \"{bad}\""),
                    "{name} {bad}"
                );
            }
        }
    }

    /// A reason quotes at most MAX_QUOTED characters of a field, however
    /// long the field and however its characters escape.
    #[test]
    fn a_reason_quotes_a_field_cut() {
        let (c, base) = kaggle_columns();
        let parse = |at: usize, v: &str| {
            let mut fields = base.clone();
            fields[at] = v;
            let line = fields
                .iter()
                .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(",");
            c.parse(&row(&line)).unwrap_err()
        };
        let huge = format!("{}10000", "0".repeat(60_000));
        assert_eq!(
            parse(7, &huge),
            format!(
                "DEP_DELAY: \"{}\"…(60005 bytes) is outside [-1440, 7200] minutes",
                &huge[..64]
            )
        );
        let controls = "\u{1}".repeat(60_000);
        let reason = parse(14, &controls);
        assert!(
            reason.starts_with("ARR_DELAY: invalid number \"\\u{1}\\u{1}"),
            "{reason}"
        );
        assert!(
            reason.ends_with("\"…(60000 bytes)") && reason.len() < 64 * 6 + 60,
            "{reason}"
        );
        let quotes = "\"".repeat(50_000);
        let reason = parse(0, &quotes);
        assert!(
            reason.len() < 64 * 2 + 60 && reason.ends_with("…(50000 bytes)"),
            "{reason}"
        );
        for (at, what) in [(15, "invalid flag"), (2, "invalid number"), (5, "invalid number")] {
            let reason = parse(at, &"x".repeat(10_000));
            assert!(reason.contains(what) && reason.len() < 150, "{reason}");
        }
        assert_eq!(quoted(&"é".repeat(64)), format!("\"{}\"", "é".repeat(64)));
        assert_eq!(quoted(&"é".repeat(65)), format!("\"{}\"…(130 bytes)", "é".repeat(64)));
    }

    #[test]
    fn a_nul_in_a_text_column_rejects_the_row() {
        let (c, mut fields) = kaggle_columns();
        fields[3] = "J\0K";
        assert_eq!(
            c.parse(&row(&fields.join(","))).unwrap_err(),
            "ORIGIN: a NUL byte in \"J\\0K\""
        );
        fields[3] = "JFK";
        fields[27] = "a\0b"; // a column not loaded: the row loads
        assert!(c.parse(&row(&fields.join(","))).is_ok());
    }

    /// The bundled sample (328,521 departures, -43 to 1,301 minutes) loses
    /// no row to the delay bounds, nor any other rule.
    #[test]
    fn the_sample_loses_no_row() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/sample/nycflights13-2013.csv.gz");
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let gz = std::io::BufReader::new(flate2::bufread::GzDecoder::new(file));
        let (mut records, c) = open(gz, "sample").unwrap();
        let (mut rec, mut rows, mut rejects) = (Record::default(), 0, Vec::new());
        while let crate::records::Read::Record { line } = records.read(&mut rec).unwrap() {
            rows += 1;
            if let Err(e) = c.parse(&rec) {
                rejects.push((line, e));
            }
        }
        assert_eq!(
            (rows, rejects.len()),
            (336_776, 0),
            "{:?}",
            &rejects[..rejects.len().min(5)]
        );
    }

    /// `loader generate` writes delays and cause minutes inside the bounds
    /// (its delays stay within a few hundred minutes): none of its rows is rejected.
    #[test]
    fn generated_years_lose_no_row() {
        let dir = std::env::temp_dir().join(format!("columns-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.csv");
        for seed in [1, 42] {
            let args = crate::generate::GenerateArgs {
                year: 2016,
                airports: 30,
                flights: 100_000,
                seed,
                malformed: 0,
            };
            let written = crate::generate::run(&args, &path).unwrap();
            let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
            let (mut records, c) = open(file, "generated").unwrap();
            let (mut rec, mut rows, mut worst) = (Record::default(), 0, 0.0f64);
            while let crate::records::Read::Record { .. } = records.read(&mut rec).unwrap() {
                rows += 1;
                let f = c.parse(&rec).unwrap();
                worst = f
                    .dep_delay
                    .into_iter()
                    .chain(f.arr_delay)
                    .fold(worst, |w, d| w.max(d.abs()));
            }
            assert_eq!(rows, written);
            assert!(worst < 1000.0, "{worst}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
