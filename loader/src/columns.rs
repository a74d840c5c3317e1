//! Mapping a flight file's header to our columns, by name, and parsing
//! its rows. Two schemas are known: the 2009-2018 Kaggle files
//! (`FL_DATE, OP_CARRIER, ...`) and the BTS on-time files
//! (`FlightDate, Reporting_Airline, ...`).

use chrono::{Datelike, NaiveDate};

/// One parsed flight, as the `flights` table holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flight {
    pub date: NaiveDate,
    /// `None` when blank: the computation does not use it, so the row loads.
    pub carrier: Option<String>,
    pub fl_num: Option<i32>,
    pub origin: String,
    /// `None` when blank, as the carrier.
    pub dest: Option<String>,
    pub crs_dep_time: Option<i32>,
    pub dep_time: Option<i32>,
    pub dep_delay: Option<f64>,
    pub cancelled: bool,
    pub diverted: bool,
}

/// Our column, and the names it has in each schema.
struct Field {
    names: &'static [&'static str],
    required: bool,
}

const FIELDS: [Field; 10] = [
    Field {
        names: &["FL_DATE", "FlightDate"],
        required: true,
    },
    Field {
        names: &["OP_CARRIER", "Reporting_Airline", "UniqueCarrier", "Carrier"],
        required: true,
    },
    Field {
        names: &["OP_CARRIER_FL_NUM", "Flight_Number_Reporting_Airline", "FlightNum"],
        required: false,
    },
    Field {
        names: &["ORIGIN", "Origin"],
        required: true,
    },
    Field {
        names: &["DEST", "Dest"],
        required: true,
    },
    Field {
        names: &["CRS_DEP_TIME", "CRSDepTime"],
        required: false,
    },
    Field {
        names: &["DEP_TIME", "DepTime"],
        required: false,
    },
    Field {
        names: &["DEP_DELAY", "DepDelay"],
        required: true,
    },
    Field {
        names: &["CANCELLED", "Cancelled"],
        required: false,
    },
    Field {
        names: &["DIVERTED", "Diverted"],
        required: false,
    },
];

/// Where each of our columns sits in a file.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    at: [Option<usize>; 10],
    width: usize,
}

fn normalise(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .trim_matches('"')
        .to_ascii_uppercase()
}

/// A CSV reader over `reader` (named `name` in messages), past its header,
/// and the header's column map. A header without a required column
/// refuses the file. `load` and `detect --input` read files this one way.
pub(crate) fn open<R: std::io::Read>(reader: R, name: &str) -> anyhow::Result<(csv::Reader<R>, Columns)> {
    use anyhow::Context;
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let header = csv
        .headers()
        .with_context(|| format!("{name}: cannot read the header"))?
        .clone();
    let columns =
        Columns::from_header(&header).map_err(|e| anyhow::Error::new(crate::Refused(format!("{name}: {e}"))))?;
    Ok((csv, columns))
}

impl Columns {
    /// Maps a header; refuses one missing a required column, naming it.
    pub(crate) fn from_header(header: &csv::StringRecord) -> Result<Columns, String> {
        let names: Vec<String> = header.iter().map(normalise).collect();
        let mut at = [None; 10];
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

    fn text<'r>(&self, rec: &'r csv::ByteRecord, i: usize) -> Result<&'r str, String> {
        match self.at[i] {
            Some(col) => std::str::from_utf8(rec.get(col).unwrap_or_default())
                .map(str::trim)
                .map_err(|_| format!("{}: not UTF-8", FIELDS[i].names[0])),
            None => Ok(""),
        }
    }

    /// Parses one row, or says what is wrong with it.
    pub(crate) fn parse(&self, rec: &csv::ByteRecord) -> Result<Flight, String> {
        if rec.len() != self.width {
            return Err(format!("expected {} fields, found {}", self.width, rec.len()));
        }
        let name = |i: usize| FIELDS[i].names[0];
        let required = |i: usize| -> Result<String, String> {
            let v = self.text(rec, i)?;
            if v.is_empty() {
                Err(format!("{} is empty", name(i)))
            } else {
                Ok(v.to_string())
            }
        };
        let optional = |i: usize| -> Result<Option<String>, String> {
            let v = self.text(rec, i)?;
            Ok((!v.is_empty()).then(|| v.to_string()))
        };
        let whole = |i: usize| -> Result<Option<i32>, String> {
            let v = self.text(rec, i)?;
            if v.is_empty() {
                return Ok(None);
            }
            let x: f64 = v.parse().map_err(|_| format!("{}: invalid number {v:?}", name(i)))?;
            if x.fract() != 0.0 || x.abs() > i32::MAX as f64 {
                return Err(format!("{}: not a whole number {v:?}", name(i)));
            }
            Ok(Some(x as i32))
        };
        let flag = |i: usize| -> Result<bool, String> {
            match self.text(rec, i)? {
                "" | "0" | "0.0" | "0.00" | "false" | "False" | "FALSE" => Ok(false),
                "1" | "1.0" | "1.00" | "true" | "True" | "TRUE" => Ok(true),
                v => Err(format!("{}: invalid flag {v:?}", name(i))),
            }
        };
        let delay = self.text(rec, 7)?;
        let dep_delay = if delay.is_empty() {
            None
        } else {
            match delay.parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => return Err(format!("DEP_DELAY: invalid number {delay:?}")),
            }
        };
        Ok(Flight {
            date: parse_date(&required(0)?)?,
            carrier: optional(1)?,
            fl_num: whole(2)?,
            origin: required(3)?,
            dest: optional(4)?,
            crs_dep_time: whole(5)?,
            dep_time: whole(6)?,
            dep_delay,
            cancelled: flag(8)?,
            diverted: flag(9)?,
        })
    }
}

/// The first year of the BTS on-time records.
const FIRST_YEAR: i32 = 1987;

/// Next year, the last a flight date may fall in.
fn last_year() -> i32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(now, 0).map_or(9998, |t| t.year() + 1)
}

/// `2015-01-31` (Kaggle, BTS) or `1/31/2015` with an optional time part,
/// from 1987 (the first BTS records) to next year: anything else is a
/// typo that would make a partition of its own.
fn parse_date(v: &str) -> Result<NaiveDate, String> {
    let day = v.split_whitespace().next().unwrap_or(v);
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(day, "%m/%d/%Y"))
        .map_err(|_| format!("FL_DATE: invalid date {v:?}"))?;
    let last_year = last_year();
    if !(FIRST_YEAR..=last_year).contains(&date.year()) {
        return Err(format!("FL_DATE: {date} is outside {FIRST_YEAR}..{last_year}"));
    }
    Ok(date)
}

/// The row's fields joined back into a CSV line, for the rejects table.
pub(crate) fn raw_line(rec: &csv::ByteRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_byte_record(rec);
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

    fn header(s: &str) -> csv::StringRecord {
        csv::StringRecord::from(s.split(',').collect::<Vec<_>>())
    }

    fn row(s: &str) -> csv::ByteRecord {
        csv::ByteRecord::from(s.split(',').collect::<Vec<_>>())
    }

    #[test]
    fn kaggle_row() {
        let c = Columns::from_header(&header(KAGGLE)).unwrap();
        let f = c
            .parse(&row("2015-01-02,AA,1230.0,JFK,LAX,1745,1802.0,17.0,12.0,0.0,0.0,"))
            .unwrap();
        assert_eq!(f.date, NaiveDate::from_ymd_opt(2015, 1, 2).unwrap());
        assert_eq!(
            (f.fl_num, f.crs_dep_time, f.dep_time, f.dep_delay),
            (Some(1230), Some(1745), Some(1802), Some(17.0))
        );
        assert!(!f.cancelled);
        let cancelled = c.parse(&row("2015-01-02,AA,1,JFK,LAX,1745,,,,1.0,0.0,")).unwrap();
        assert_eq!((cancelled.dep_delay, cancelled.cancelled), (None, true));
        // A blank carrier or destination loads: the rule uses neither.
        let blank = c.parse(&row("2015-01-02,,1,JFK,,1745,1750,5,,0,0,")).unwrap();
        assert_eq!((blank.carrier, blank.dest, blank.dep_delay), (None, None, Some(5.0)));
        assert_eq!(f.carrier.as_deref(), Some("AA"));
    }

    #[test]
    fn bts_header_maps_by_name() {
        let c = Columns::from_header(&header(
            "Year,FlightDate,Reporting_Airline,Origin,Dest,DepDelay,Cancelled",
        ))
        .unwrap();
        let f = c
            .parse(&row("2016,1/5/2016 12:00:00 AM,DL,ATL,ORD,-3.00,0.00"))
            .unwrap();
        assert_eq!(
            (f.origin.as_str(), f.dep_delay, f.date.to_string().as_str()),
            ("ATL", Some(-3.0), "2016-01-05")
        );
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
    fn missing_column_is_named() {
        let e = Columns::from_header(&header("FL_DATE,OP_CARRIER,ORIGIN,DEST")).unwrap_err();
        assert_eq!(e, "missing required column DEP_DELAY (or DepDelay)");
    }

    #[test]
    fn a_huge_rejected_row_is_kept_cut() {
        let long = format!("2015-01-02,{}", "é".repeat(5000));
        let raw = raw_line(&csv::ByteRecord::from(vec![long.as_bytes()]));
        assert!(raw.len() < MAX_RAW + 40, "{} bytes kept", raw.len());
        assert!(raw.starts_with("\"2015-01-02,é") || raw.starts_with("2015-01-02,é"));
        assert!(raw.ends_with("more bytes)"));
        assert_eq!(raw_line(&csv::ByteRecord::from(vec!["a", "b"])), "a,b");
    }
}
