//! Where `detect` gets its daily series: the database (with the
//! extension's own query) or raw flight files.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use summary::{sql, DailySeries, DayPoint};
use tokio_util::io::SyncIoBridge;

use crate::pg;
use crate::source::{self, S3};

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

/// (origin, date) → (sum of delays, count), ordered so series come out sorted.
type DaySums = BTreeMap<(String, NaiveDate), (f64, i64)>;

/// What reading raw files found, with the same parser as `load`: rows
/// read, rows used (a finite delay), rows rejected and why (by field).
#[derive(Debug, Default, Serialize)]
pub(crate) struct RowCounts {
    pub rows_read: u64,
    pub rows_used: u64,
    pub rows_rejected: u64,
    pub reject_reasons: BTreeMap<String, u64>,
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
    let mut days = DaySums::new();
    let mut counts = RowCounts::default();
    for src in &sources {
        let stream = source::open(src, &s3, Arc::new(AtomicU64::new(0))).await?;
        let name = src.to_string();
        let (partial, file_counts) =
            tokio::task::spawn_blocking(move || sum_days(SyncIoBridge::new(stream), &name)).await??;
        for (k, (s, n)) in partial {
            let e = days.entry(k).or_default();
            e.0 += s;
            e.1 += n;
        }
        counts.rows_read += file_counts.rows_read;
        counts.rows_used += file_counts.rows_used;
        counts.rows_rejected += file_counts.rows_rejected;
        for (reason, n) in file_counts.reject_reasons {
            *counts.reject_reasons.entry(reason).or_default() += n;
        }
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
fn sum_days(reader: impl std::io::Read, name: &str) -> Result<(DaySums, RowCounts)> {
    let (mut csv, columns) = crate::columns::open(reader, name)?;
    let mut acc = DaySums::new();
    let mut counts = RowCounts::default();
    let mut rec = csv::ByteRecord::new();
    while csv
        .read_byte_record(&mut rec)
        .with_context(|| format!("{name}: read failed"))?
    {
        counts.rows_read += 1;
        match columns.parse(&rec) {
            Ok(f) => {
                if let Some(delay) = f.dep_delay {
                    counts.rows_used += 1;
                    let e = acc.entry((f.origin, f.date)).or_default();
                    e.0 += delay;
                    e.1 += 1;
                }
            }
            // Rejected as the load rejects it; counted by the field at fault.
            Err(reason) => {
                counts.rows_rejected += 1;
                let field = reason.split(':').next().unwrap_or(&reason).to_string();
                *counts.reject_reasons.entry(field).or_default() += 1;
            }
        }
    }
    Ok((acc, counts))
}
