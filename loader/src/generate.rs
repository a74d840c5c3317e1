//! `loader generate`: realistic synthetic flight files in the Kaggle
//! schema, for benchmarks at full scale. Deterministic from a seed.
//!
//! Airport sizes follow a Zipf-like spread (the busiest has ~1/9 of all
//! departures, the smallest a handful a week); flights and delays have a
//! weekly and a seasonal pattern, holiday peaks, storm days with heavy
//! delays and cancellations, and cancelled flights have an empty
//! DEP_DELAY. `--malformed N` adds N broken lines of three kinds.
//!
//! A flight at least 15 minutes late at arrival carries its delay minutes
//! by cause, as the BTS records them: on storm days mostly weather and the
//! air system (NAS), otherwise mostly the carrier and late aircraft; a
//! cancellation carries its code (B, weather, on storm days). These come
//! from a random stream of their own, so the rest of a file is the same for
//! a seed as before they existed.

use std::fs::File;
use std::io::{BufWriter, Write};

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{Datelike, NaiveDate, Weekday};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub(crate) const KAGGLE_HEADER: [&str; 28] = [
    "FL_DATE",
    "OP_CARRIER",
    "OP_CARRIER_FL_NUM",
    "ORIGIN",
    "DEST",
    "CRS_DEP_TIME",
    "DEP_TIME",
    "DEP_DELAY",
    "TAXI_OUT",
    "WHEELS_OFF",
    "WHEELS_ON",
    "TAXI_IN",
    "CRS_ARR_TIME",
    "ARR_TIME",
    "ARR_DELAY",
    "CANCELLED",
    "CANCELLATION_CODE",
    "DIVERTED",
    "CRS_ELAPSED_TIME",
    "ACTUAL_ELAPSED_TIME",
    "AIR_TIME",
    "DISTANCE",
    "CARRIER_DELAY",
    "WEATHER_DELAY",
    "NAS_DELAY",
    "SECURITY_DELAY",
    "LATE_AIRCRAFT_DELAY",
    "Unnamed: 27",
];

const BUSIEST: [&str; 30] = [
    "ATL", "ORD", "DFW", "DEN", "LAX", "SFO", "PHX", "IAH", "LAS", "MSP", "MCO", "SEA", "DTW", "BOS", "EWR", "CLT",
    "LGA", "SLC", "JFK", "BWI", "MDW", "DCA", "FLL", "SAN", "MIA", "PHL", "TPA", "DAL", "HOU", "BNA",
];
const CARRIERS: [&str; 10] = ["AA", "DL", "UA", "WN", "B6", "AS", "NK", "F9", "OO", "EV"];

pub(crate) struct GenerateArgs {
    pub year: i32,
    pub airports: usize,
    pub flights: u64,
    pub seed: u64,
    pub malformed: usize,
}

/// The airport codes: the real busiest first, then made-up ones.
fn airport_codes(n: usize) -> Vec<String> {
    let mut codes: Vec<String> = BUSIEST.iter().take(n).map(|s| s.to_string()).collect();
    let mut i = 0u32;
    while codes.len() < n {
        let c: String = [
            b'Q' + (i / 676 % 10) as u8,
            b'A' + (i / 26 % 26) as u8,
            b'A' + (i % 26) as u8,
        ]
        .iter()
        .map(|&b| b as char)
        .collect();
        if !codes.contains(&c) {
            codes.push(c);
        }
        i += 1;
    }
    codes
}

fn normal(rng: &mut SmallRng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Holiday peaks: more flights and longer delays around these days.
fn holiday(date: NaiveDate) -> bool {
    let (m, d) = (date.month(), date.day());
    (m == 12 && d >= 20)
        || (m == 1 && d <= 3)
        || (m == 7 && (2..=6).contains(&d))
        || (m == 11 && (22..=28).contains(&d))
}

fn hhmm(minutes: i64) -> i64 {
    let m = minutes.rem_euclid(24 * 60);
    (m / 60) * 100 + m % 60
}

/// Writes the year to `out` (gzip for `.gz`, zstd for `.zst`, plain otherwise).
pub(crate) fn run(args: &GenerateArgs, out: &Path) -> Result<u64> {
    let file = File::create(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let sink: Box<dyn Write> = match out.extension().and_then(|e| e.to_str()) {
        Some("gz") => Box::new(flate2::write::GzEncoder::new(
            BufWriter::new(file),
            flate2::Compression::fast(),
        )),
        Some("zst") => Box::new(zstd::Encoder::new(BufWriter::new(file), 3)?.auto_finish()),
        _ => Box::new(BufWriter::with_capacity(1 << 20, file)),
    };
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(sink);
    w.write_record(KAGGLE_HEADER)?;
    let mut rng = SmallRng::seed_from_u64(args.seed);
    let mut cause_rng = SmallRng::seed_from_u64(args.seed ^ 0xca05_e5ca_05e5);
    let codes = airport_codes(args.airports.max(2));
    let weights: Vec<f64> = (1..=codes.len()).map(|a| (a as f64).powf(-0.9)).collect();
    let total: f64 = weights.iter().sum();
    let first = NaiveDate::from_ymd_opt(args.year, 1, 1).context("year out of range")?;
    let ndays = if NaiveDate::from_ymd_opt(args.year, 2, 29).is_some() {
        366
    } else {
        365
    };
    let per_day = args.flights as f64 / ndays as f64;
    // Spread malformed lines evenly through the file.
    let every = if args.malformed > 0 {
        (args.flights / (args.malformed as u64 + 1)).max(1)
    } else {
        u64::MAX
    };
    let mut written = 0u64;
    let mut bad = 0usize;
    let mut rec: Vec<String> = vec![String::new(); KAGGLE_HEADER.len()];
    for day in 0..ndays {
        let date = first + chrono::Days::new(day as u64);
        let season = (std::f64::consts::TAU * (day as f64 - 15.0) / ndays as f64).cos(); // winter +, autumn −
        let weekly = match date.weekday() {
            Weekday::Sat => 0.82,
            Weekday::Fri | Weekday::Sun => 1.05,
            _ => 1.0,
        };
        let peak = holiday(date);
        for (a, origin) in codes.iter().enumerate() {
            let storm = rng.random::<f64>() < 0.012;
            let base = per_day * weights[a] / total * weekly * (1.0 + 0.08 * season) * if peak { 1.1 } else { 1.0 };
            let n = (base + base.sqrt() * 0.3 * normal(&mut rng)).round().max(0.0) as u64;
            let mean = 9.0
                + 5.0 * season
                + if peak { 8.0 } else { 0.0 }
                + if storm { 45.0 + 60.0 * rng.random::<f64>() } else { 0.0 }
                + 3.0 * normal(&mut rng)
                + if date.weekday() == Weekday::Fri { 3.0 } else { 0.0 };
            let cancel_p = if storm { 0.2 } else { 0.012 };
            for _ in 0..n {
                let cancelled = rng.random::<f64>() < cancel_p;
                let delay = (mean
                    + 18.0 * normal(&mut rng)
                    + if rng.random::<f64>() < 0.08 {
                        60.0 * rng.random::<f64>()
                    } else {
                        0.0
                    })
                .max(-25.0)
                .round();
                let crs = 300 + rng.random_range(0..1200i64);
                let dest = &codes[rng.random_range(0..codes.len())];
                rec[0] = date.to_string();
                rec[1] = CARRIERS[rng.random_range(0..CARRIERS.len())].to_string();
                rec[2] = format!("{}.0", rng.random_range(1..7000));
                rec[3] = origin.clone();
                rec[4] = dest.clone();
                rec[5] = hhmm(crs).to_string();
                rec[6] = if cancelled {
                    String::new()
                } else {
                    format!("{}.0", hhmm(crs + delay as i64))
                };
                rec[7] = if cancelled {
                    String::new()
                } else {
                    format!("{delay:.1}")
                };
                let (arr_delay, by_cause) = if cancelled {
                    (None, [None; 5])
                } else {
                    let (arr, by_cause) = causes(&mut cause_rng, delay, storm);
                    (Some(arr), by_cause)
                };
                rec[14] = arr_delay.map_or_else(String::new, |d| format!("{d:.1}"));
                rec[15] = if cancelled { "1.0" } else { "0.0" }.to_string();
                rec[16] = if cancelled {
                    cancellation_code(&mut cause_rng, storm)
                } else {
                    ""
                }
                .to_string();
                for (field, m) in rec[22..27].iter_mut().zip(by_cause) {
                    *field = m.map_or_else(String::new, |m| format!("{m}.0"));
                }
                rec[17] = "0.0".to_string();
                rec[21] = format!("{}.0", 100 + rng.random_range(0..2500));
                written += 1;
                if written.is_multiple_of(every) && bad < args.malformed {
                    w.write_record(malformed(bad, &rec))?;
                    bad += 1;
                } else {
                    w.write_record(&rec)?;
                }
            }
        }
    }
    w.flush()?;
    drop(w);
    Ok(written)
}

/// Mean shares of the delay minutes by cause (carrier, weather, NAS,
/// security, late aircraft), on a storm day and on any other.
const STORM_CAUSES: [f64; 5] = [0.05, 0.55, 0.25, 0.0, 0.15];
const USUAL_CAUSES: [f64; 5] = [0.35, 0.015, 0.25, 0.005, 0.38];

/// The arrival delay and the five cause columns of a departed flight:
/// causes only from 15 minutes late, summing to the arrival delay.
fn causes(rng: &mut SmallRng, dep_delay: f64, storm: bool) -> (f64, [Option<i64>; 5]) {
    let arr_delay = (dep_delay + 5.0 * normal(rng)).round();
    if arr_delay < 15.0 {
        return (arr_delay, [None; 5]);
    }
    let mean = if storm { STORM_CAUSES } else { USUAL_CAUSES };
    let weights: Vec<f64> = mean.iter().map(|m| m * (0.5 + rng.random::<f64>())).collect();
    let total: f64 = weights.iter().sum();
    let mut minutes: [i64; 5] = std::array::from_fn(|i| (arr_delay * weights[i] / total).floor() as i64);
    // What rounding left goes to the largest cause, so the five sum exactly.
    let largest = (0..5).max_by(|&a, &b| weights[a].total_cmp(&weights[b])).unwrap_or(0);
    minutes[largest] += arr_delay as i64 - minutes.iter().sum::<i64>();
    (arr_delay, minutes.map(Some))
}

/// A cancelled flight's code: A carrier, B weather, C national air system.
fn cancellation_code(rng: &mut SmallRng, storm: bool) -> &'static str {
    let u = rng.random::<f64>();
    match (storm, u) {
        (true, u) if u < 0.9 => "B",
        (true, _) => "C",
        (false, u) if u < 0.6 => "A",
        (false, u) if u < 0.7 => "B",
        _ => "C",
    }
}

/// Three kinds of broken line, in turn: too few fields, an impossible date, a bad number.
fn malformed(i: usize, rec: &[String]) -> Vec<String> {
    let mut r = rec.to_vec();
    match i % 3 {
        0 => r.truncate(12),
        1 => r[0] = r[0].replace("-01-", "-02-").replace("-0", "-3") + "x",
        _ => r[7] = "12..5".into(),
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cause minutes sum to the arrival delay and follow the storms: weather
    /// leads on storm days (airport-days with a mean delay over 45 minutes)
    /// and is marginal otherwise.
    #[test]
    fn cause_minutes_follow_the_storms() {
        let dir = std::env::temp_dir().join(format!("generate-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.csv");
        let args = GenerateArgs {
            year: 2015,
            airports: 20,
            flights: 120_000,
            seed: 7,
            malformed: 0,
        };
        run(&args, &path).unwrap();
        let mut csv = csv::Reader::from_path(&path).unwrap();
        let num = |s: &str| s.parse::<f64>().ok();
        let mut days: std::collections::HashMap<(String, String), (f64, f64, [f64; 5])> = Default::default();
        for r in csv.records() {
            let r = r.unwrap();
            let Some(dep) = num(&r[7]) else { continue };
            let e = days.entry((r[3].to_string(), r[0].to_string())).or_default();
            e.0 += dep;
            e.1 += 1.0;
            let by_cause: Vec<f64> = (22..27).filter_map(|i| num(&r[i])).collect();
            if !by_cause.is_empty() {
                assert_eq!(
                    by_cause.iter().sum::<f64>(),
                    num(&r[14]).unwrap(),
                    "causes must sum to ARR_DELAY"
                );
                for (t, m) in e.2.iter_mut().zip(&by_cause) {
                    *t += m;
                }
            }
        }
        let share = |storm: bool| {
            let mut t = [0.0; 5];
            for (sum, n, c) in days.values() {
                if (sum / n > 45.0) == storm {
                    for (a, b) in t.iter_mut().zip(c) {
                        *a += b;
                    }
                }
            }
            t[1] / t.iter().sum::<f64>()
        };
        let (storm, usual) = (share(true), share(false));
        assert!(storm > 0.4, "weather share on storm days {storm}");
        assert!(usual < 0.05, "weather share on other days {usual}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
