//! Rows in PostgreSQL's binary COPY format, encoded on the parsing thread so
//! the database side only forwards ready buffers. (tokio-postgres' row-at-a-
//! time BinaryCopyInWriter, awaited per row, held the load at ~65 % of
//! `psql \copy`; see BENCHMARKS.md.) Columns are those of COPY_COLUMNS.

use bytes::{BufMut, BytesMut};
use chrono::NaiveDate;

use crate::columns::Flight;

/// The columns written, in order.
pub(crate) const COPY_COLUMNS: &str = "fl_date, op_carrier, op_carrier_fl_num, origin, dest, crs_dep_time, dep_time, \
     dep_delay, cancelled, diverted, source_file, arr_delay, carrier_delay, weather_delay, nas_delay, \
     security_delay, late_aircraft_delay, cancellation_code";

/// How many columns [`COPY_COLUMNS`] names.
const FIELD_COUNT: i16 = 18;

/// Signature, flags (none) and header-extension length (none).
pub(crate) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The file trailer: a field count of -1.
pub(crate) const TRAILER: [u8; 2] = (-1i16).to_be_bytes();

fn days_since_2000(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date")).num_days() as i32
}

fn text(buf: &mut BytesMut, s: &str) {
    buf.put_i32(s.len() as i32);
    buf.put_slice(s.as_bytes());
}

fn opt_text(buf: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => text(buf, s),
        None => buf.put_i32(-1),
    }
}

fn int4(buf: &mut BytesMut, v: Option<i32>) {
    match v {
        Some(x) => {
            buf.put_i32(4);
            buf.put_i32(x);
        }
        None => buf.put_i32(-1),
    }
}

fn float8(buf: &mut BytesMut, v: Option<f64>) {
    match v {
        Some(x) => {
            buf.put_i32(8);
            buf.put_f64(x);
        }
        None => buf.put_i32(-1),
    }
}

fn bool1(buf: &mut BytesMut, v: bool) {
    buf.put_i32(1);
    buf.put_u8(u8::from(v));
}

/// Appends one row.
pub(crate) fn encode(buf: &mut BytesMut, f: &Flight, source_file: &str) {
    buf.put_i16(FIELD_COUNT);
    buf.put_i32(4);
    buf.put_i32(days_since_2000(f.date));
    opt_text(buf, f.carrier);
    int4(buf, f.fl_num);
    text(buf, f.origin);
    opt_text(buf, f.dest);
    int4(buf, f.crs_dep_time);
    int4(buf, f.dep_time);
    float8(buf, f.dep_delay);
    bool1(buf, f.cancelled);
    bool1(buf, f.diverted);
    text(buf, source_file);
    float8(buf, f.arr_delay);
    for minutes in f.causes {
        float8(buf, minutes);
    }
    opt_text(buf, f.cancellation_code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_layout() {
        let f = Flight {
            date: NaiveDate::from_ymd_opt(2000, 1, 3).unwrap(),
            carrier: Some("AA"),
            fl_num: None,
            origin: "JFK",
            dest: Some("LAX"),
            crs_dep_time: Some(1745),
            dep_time: None,
            dep_delay: Some(-2.5),
            cancelled: false,
            diverted: true,
            arr_delay: Some(20.0),
            causes: [Some(5.0), None, None, None, Some(15.0)],
            cancellation_code: None,
        };
        let mut b = BytesMut::new();
        encode(&mut b, &f, "f");
        let mut want: Vec<u8> = vec![0, 18, 0, 0, 0, 4, 0, 0, 0, 2]; // 18 fields; date = 2 days after 2000-01-01
        want.extend([0, 0, 0, 2, b'A', b'A']);
        want.extend((-1i32).to_be_bytes()); // fl_num NULL
        want.extend([0, 0, 0, 3, b'J', b'F', b'K', 0, 0, 0, 3, b'L', b'A', b'X']);
        want.extend([0, 0, 0, 4]);
        want.extend(1745i32.to_be_bytes());
        want.extend((-1i32).to_be_bytes()); // dep_time NULL
        want.extend([0, 0, 0, 8]);
        want.extend((-2.5f64).to_be_bytes());
        want.extend([0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, b'f']);
        for minutes in [Some(20.0), Some(5.0), None, None, None, Some(15.0)] {
            match minutes {
                Some(x) => {
                    want.extend([0, 0, 0, 8]);
                    want.extend(f64::to_be_bytes(x));
                }
                None => want.extend((-1i32).to_be_bytes()),
            }
        }
        want.extend((-1i32).to_be_bytes()); // cancellation_code NULL
        assert_eq!(COPY_COLUMNS.split(", ").count(), FIELD_COUNT as usize);
        assert_eq!(&b[..], &want[..]);
        assert_eq!(HEADER.len(), 19);
    }
}
