//! Where `detect` gets its daily series: the database (with the
//! extension's own query) or raw flight files.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::columns;
use crate::inflate::Inflated;
use crate::pg;
use crate::records::{Read, Record};
use crate::source::{self, S3};
use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashMap;
use serde::Serialize;
use summary::{sql, DailySeries, DayPoint};

/// The year's series from `flights`, with the query `refresh_year` runs.
pub(super) async fn from_database(year: Option<i32>) -> Result<Vec<DailySeries>> {
    let Some(year) = year else {
        bail!("--year is required when reading from the database")
    };
    let client = pg::connect(&pg::config()?).await?;
    pg::require_schema(&client).await?;
    let row = client
        .query_one(sql::DAILY, &[&year, &None::<String>, &None::<NaiveDate>])
        .await
        .context("reading daily series")?;
    let series = DailySeries::from_json(row.get::<_, Option<&str>>(0)).context("reading daily series")?;
    if series.is_empty() {
        bail!("no flights dated {year}: load the year first");
    }
    Ok(series)
}

/// What reading raw files found, with the same parser as `load`: rows
/// read, rows used (a finite delay), rows rejected and why (by field).
#[derive(Debug, Default, Serialize)]
pub(crate) struct RowCounts {
    pub rows_read: u64,
    pub rows_used: u64,
    pub rows_rejected: u64,
    pub reject_reasons: BTreeMap<String, u64>,
}

impl RowCounts {
    fn reject(&mut self, reason: &str) {
        self.rows_rejected += 1;
        // Counted by the field at fault (the reason's part before a colon).
        let field = reason.split(':').next().unwrap_or(reason);
        *self.reject_reasons.entry(field.to_string()).or_default() += 1;
    }

    fn add(&mut self, other: RowCounts) {
        self.rows_read += other.rows_read;
        self.rows_used += other.rows_used;
        self.rows_rejected += other.rows_rejected;
        for (reason, n) in other.reject_reasons {
            *self.reject_reasons.entry(reason).or_default() += n;
        }
    }
}

/// Delay sums per airport-day: airports numbered as first seen, so a row
/// costs one lookup by `&str` and one by a pair of integers (FxHash: the
/// airports of one file are a few hundred short codes; SipHash was 4 % of the run).
#[derive(Default)]
struct DaySums {
    origins: FxHashMap<String, u32>,
    sums: FxHashMap<(u32, NaiveDate), (f64, i64)>,
}

impl DaySums {
    fn add(&mut self, origin: &str, date: NaiveDate, delay: f64) {
        let id = match self.origins.get(origin) {
            Some(&id) => id,
            None => {
                let id = self.origins.len() as u32;
                self.origins.insert(origin.to_string(), id);
                id
            }
        };
        let e = self.sums.entry((id, date)).or_default();
        e.0 += delay;
        e.1 += 1;
    }

    /// The days by (origin, date), in order.
    fn into_days(self) -> BTreeMap<(String, NaiveDate), (f64, i64)> {
        let mut names = vec![String::new(); self.origins.len()];
        for (name, id) in self.origins {
            names[id as usize] = name;
        }
        self.sums
            .into_iter()
            .map(|((id, date), v)| ((names[id as usize].clone(), date), v))
            .collect()
    }
}

/// Daily series from raw flight files: the same rule as the query (finite,
/// non-null delays only), per origin and year; only `year` if given.
pub(super) async fn from_files(
    inputs: &[String],
    year: Option<i32>,
    endpoint_url: Option<String>,
) -> Result<(Vec<DailySeries>, RowCounts)> {
    let s3 = S3::new(endpoint_url);
    let sources = source::expand(inputs, &s3).await?;
    let mut days = BTreeMap::new();
    let mut counts = RowCounts::default();
    for src in &sources {
        let input = source::open(src, &s3, Arc::new(AtomicU64::new(0))).await?;
        let name = src.to_string();
        let (partial, file_counts) = tokio::task::spawn_blocking(move || sum_days(input, &name)).await??;
        for (k, (s, n)) in partial.into_days() {
            let e: &mut (f64, i64) = days.entry(k).or_default();
            e.0 += s;
            e.1 += n;
        }
        counts.add(file_counts);
    }
    let points = days
        .into_iter()
        .filter(|((_, date), _)| year.is_none_or(|y| y == date.year()))
        .map(|((origin, date), (sum, n))| DayPoint {
            origin,
            date,
            mean_delay: sum / n as f64,
            flights: n,
        });
    Ok((DailySeries::group(points), counts))
}

/// One file's delay sums per airport-day, and its row counts.
fn sum_days(input: Inflated, name: &str) -> Result<(DaySums, RowCounts)> {
    let (mut records, columns) = columns::open(input, name)?;
    let mut acc = DaySums::default();
    let mut counts = RowCounts::default();
    let mut rec = Record::default();
    loop {
        match records.read(&mut rec).with_context(|| format!("{name}: read failed"))? {
            Read::End => break,
            Read::TooLong { bytes, .. } => counts.reject(&columns::too_long(bytes)),
            Read::Record { .. } => match columns.parse(&rec) {
                Ok(f) => {
                    if let Some(delay) = f.dep_delay {
                        counts.rows_used += 1;
                        acc.add(f.origin, f.date, delay);
                    }
                }
                Err(reason) => counts.reject(&reason),
            },
        }
        counts.rows_read += 1;
    }
    Ok((acc, counts))
}
