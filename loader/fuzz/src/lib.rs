//! The loader's CSV reading, `loader/src/records.rs` and `columns.rs`
//! compiled here as they are (the loader is a binary: nothing of it is made
//! public for this), and one entry point per fuzz target, each checking what
//! must hold whatever the input. Under `cargo fuzz` (`--cfg fuzzing`) a
//! record's limits are small (`records::limits`), so short inputs reach them.

#![allow(dead_code, unreachable_pub)]

use std::io::BufReader;

#[path = "../../src/columns.rs"]
mod columns;
#[path = "../../src/records.rs"]
mod records;

use columns::Columns;
use records::{Read, Record, Records, MAX_RECORD};

/// Stands in for the loader's `Refused` (main.rs), which `columns::open` returns.
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Longest reason a reject may give: a field quoted is at most
/// `columns::MAX_QUOTED` characters, each escaped to at most 10 bytes.
const MAX_REASON: usize = columns::MAX_QUOTED * 10 + 200;

/// Every record of `data` read through a buffer of `capacity` bytes (so the
/// fast path sees whole lines or none), with the fields of each.
fn read_all(data: &[u8], capacity: usize) -> Vec<(Read, Vec<Vec<u8>>)> {
    let mut records = Records::new(BufReader::with_capacity(capacity, data));
    let mut rec = Record::default();
    let mut out = Vec::new();
    loop {
        let read = records.read(&mut rec).expect("reading memory cannot fail");
        if read == Read::End {
            return out;
        }
        let fields: Vec<Vec<u8>> = rec.iter().map(<[u8]>::to_vec).collect();
        match read {
            Read::Record { .. } => {
                assert!(fields.iter().map(Vec::len).sum::<usize>() <= MAX_RECORD);
                assert_eq!(fields.len(), rec.len());
            }
            _ => assert!(fields.is_empty(), "a skipped record keeps no field"),
        }
        out.push((read, fields));
    }
}

/// The record reader: the same records, lines and lengths whatever the
/// buffer's size (the fast path or the state machine), lines in order and
/// within the input, and the csv crate's fields when no record was too long.
pub fn records(data: &[u8]) {
    let whole = read_all(data, data.len().max(1));
    for capacity in [1, 7, 64] {
        assert_eq!(read_all(data, capacity), whole, "buffer of {capacity} bytes");
    }
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut last = 0;
    for (read, _) in &whole {
        let line = match *read {
            Read::Record { line } | Read::TooLong { line, .. } => line,
            Read::End => unreachable!(),
        };
        assert!(line >= last && line <= lines, "line {line} after {last}, of {lines}");
        last = line;
    }
    if whole.iter().all(|(r, _)| matches!(r, Read::Record { .. })) {
        // After a blank line, which it skips, so that it keeps a BOM as ours does.
        let theirs: Vec<Vec<Vec<u8>>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&[b"\n", data].concat()[..])
            .byte_records()
            .map(|r| r.expect("in memory").iter().map(<[u8]>::to_vec).collect())
            .collect();
        let ours: Vec<Vec<Vec<u8>>> = whole.into_iter().map(|(_, f)| f).collect();
        assert_eq!(ours, theirs);
    }
}

/// Any header: refused, or mapped and every row parsed (see [`fields`]).
pub fn header(data: &[u8]) {
    if let Ok((records, columns)) = columns::open(data, "fuzz") {
        parse_all(records, &columns);
    }
}

/// Headers of the three schemas seen: the Kaggle files, the old system's
/// columns (the bundled sample) and the BTS files.
const HEADERS: [&str; 3] = [
    "FL_DATE,OP_CARRIER,OP_CARRIER_FL_NUM,ORIGIN,DEST,CRS_DEP_TIME,DEP_TIME,DEP_DELAY,TAXI_OUT,WHEELS_OFF,\
     WHEELS_ON,TAXI_IN,CRS_ARR_TIME,ARR_TIME,ARR_DELAY,CANCELLED,CANCELLATION_CODE,DIVERTED,CRS_ELAPSED_TIME,\
     ACTUAL_ELAPSED_TIME,AIR_TIME,DISTANCE,CARRIER_DELAY,WEATHER_DELAY,NAS_DELAY,SECURITY_DELAY,\
     LATE_AIRCRAFT_DELAY,Unnamed: 27",
    "FL_DATE,OP_CARRIER,OP_CARRIER_FL_NUM,ORIGIN,DEST,CRS_DEP_TIME,DEP_TIME,DEP_DELAY,CANCELLED,DIVERTED",
    "FlightDate,Reporting_Airline,Origin,Dest,DepDelay,ArrDelay,Cancelled,CancellationCode,Diverted,\
     CarrierDelay,WeatherDelay,NASDelay,SecurityDelay,LateAircraftDelay",
];

/// Rows under a known header (the first byte picks which): each parses to
/// a flight within the bounds, or is rejected with a short reason and a
/// short raw text.
pub fn fields(data: &[u8]) {
    let Some((&pick, rows)) = data.split_first() else {
        return;
    };
    let header = HEADERS[usize::from(pick) % HEADERS.len()];
    let names: Vec<&str> = header.split(',').collect();
    let columns = Columns::from_header(&names).expect("a known header");
    parse_all(Records::new(rows), &columns);
}

fn parse_all(mut records: Records<&[u8]>, columns: &Columns) {
    let mut rec = Record::default();
    loop {
        match records.read(&mut rec).expect("reading memory cannot fail") {
            Read::End => return,
            Read::TooLong { bytes, .. } => assert!(columns::too_long(bytes).len() < 100),
            Read::Record { .. } => match columns.parse(&rec) {
                Ok(f) => {
                    let delays = columns::MIN_DELAY_MINUTES..=columns::MAX_DELAY_MINUTES;
                    let causes = columns::MIN_CAUSE_MINUTES..=columns::MAX_CAUSE_MINUTES;
                    assert!(f.dep_delay.into_iter().chain(f.arr_delay).all(|d| delays.contains(&d)));
                    assert!(f.causes.iter().flatten().all(|m| causes.contains(m)));
                    assert!(!f.origin.is_empty());
                    let text = [Some(f.origin), f.carrier, f.dest, f.cancellation_code];
                    assert!(text.iter().flatten().all(|t| !t.contains('\0')));
                }
                Err(reason) => {
                    assert!(reason.len() <= MAX_REASON, "{} bytes: {reason}", reason.len());
                    let raw = columns::raw_line(&rec);
                    assert!(raw.len() <= columns::MAX_RAW + 60, "{} bytes", raw.len());
                    assert!(!raw.contains('\0'));
                    // Whole (not cut, nothing replaced), it reads back as the same fields.
                    // (Field by field: the record's bytes may be UTF-8 where its fields are not,
                    // a character split across two.)
                    let clean = rec
                        .iter()
                        .all(|f| std::str::from_utf8(f).is_ok_and(|t| !t.contains('\0')));
                    if clean && raw.len() <= columns::MAX_RAW {
                        let mut again = Record::default();
                        let read = Records::new(raw.as_bytes()).read(&mut again).expect("in memory");
                        assert!(matches!(read, Read::Record { .. }), "{raw:?}: {read:?}");
                        assert!(rec.iter().eq(again.iter()), "{raw:?}");
                    }
                }
            },
        }
    }
}
