//! Where `detect` gets its daily series: the database (with the
//! extension's own query) or raw flight files.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::columns::{self, Flight};
use crate::inflate::Inflated;
use crate::pg;
use crate::records::{Read, Record};
use crate::source::{self, S3};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;
use summary::{sql, DailySeries, DayFacts, DayPoint};

/// The year's series from `flights`, with the query `refresh_year` runs,
/// and when it was read: after the year's lock, the one loads and
/// `refresh_year` take, so a load of the year committed either before the
/// read (and is in it) or records a later `loaded_at` (and stays pending).
pub(super) async fn from_database(year: Option<i32>) -> Result<(Vec<DailySeries>, DateTime<Utc>)> {
    let Some(year) = year else {
        bail!("--year is required when reading from the database")
    };
    let (mut client, schema) = pg::open_tables(&pg::config()?).await?;
    let tx = client.transaction().await?;
    tx.execute(sql::LOCK_YEAR, &[&year])
        .await
        .with_context(|| format!("waiting for a load of {year} to commit"))?;
    let read_at: DateTime<Utc> = tx.query_one("SELECT clock_timestamp()", &[]).await?.get(0);
    let row = tx
        .query_one(
            &schema.statement(sql::DAILY),
            &[&year, &None::<String>, &None::<NaiveDate>],
        )
        .await
        .context("reading daily series")?;
    let series = DailySeries::from_json(row.get::<_, Option<&str>>(0)).context("reading daily series")?;
    tx.commit().await?;
    if series.is_empty() {
        bail!("no flights dated {year}: load the year first");
    }
    Ok((series, read_at))
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

/// One airport-day's sums, as `sql/daily.sql` aggregates them: the mean
/// over finite delays, the other counts and cause minutes over every flight.
#[derive(Debug, Default, Clone)]
struct Day {
    delay_sum: f64,
    delays: i64,
    facts: DayFacts,
}

impl Day {
    /// One flight's contribution.
    fn of(f: &Flight) -> Day {
        let [carrier, weather, nas, security, late_aircraft] = f.causes;
        Day {
            delay_sum: f.dep_delay.unwrap_or(0.0),
            delays: i64::from(f.dep_delay.is_some()),
            facts: DayFacts {
                flights_scheduled: 1,
                flights_cancelled: i64::from(f.cancelled),
                flights_diverted: i64::from(f.diverted),
                carrier_delay_minutes: carrier,
                weather_delay_minutes: weather,
                nas_delay_minutes: nas,
                security_delay_minutes: security,
                late_aircraft_delay_minutes: late_aircraft,
            },
        }
    }

    /// Adds `other`'s flights (of the same airport-day).
    fn merge(&mut self, other: &Day) {
        if other.delays > 0 {
            self.delay_sum += other.delay_sum;
            self.delays += other.delays;
        }
        let (a, b) = (&mut self.facts, &other.facts);
        a.flights_scheduled += b.flights_scheduled;
        a.flights_cancelled += b.flights_cancelled;
        a.flights_diverted += b.flights_diverted;
        add_minutes(&mut a.carrier_delay_minutes, b.carrier_delay_minutes);
        add_minutes(&mut a.weather_delay_minutes, b.weather_delay_minutes);
        add_minutes(&mut a.nas_delay_minutes, b.nas_delay_minutes);
        add_minutes(&mut a.security_delay_minutes, b.security_delay_minutes);
        add_minutes(&mut a.late_aircraft_delay_minutes, b.late_aircraft_delay_minutes);
    }
}

/// SQL's `sum`: NULLs are skipped, and a sum of none is NULL.
fn add_minutes(sum: &mut Option<f64>, minutes: Option<f64>) {
    if let Some(m) = minutes {
        *sum = Some(sum.unwrap_or(0.0) + m);
    }
}

/// Sums per airport-day: airports numbered as first seen, so a row
/// costs one lookup by `&str` and one by a pair of integers (FxHash: the
/// airports of one file are a few hundred short codes; SipHash was 4 % of the run).
#[derive(Default)]
struct DaySums {
    origins: FxHashMap<String, u32>,
    days: FxHashMap<(u32, NaiveDate), Day>,
}

impl DaySums {
    fn add(&mut self, f: &Flight) {
        let id = match self.origins.get(f.origin) {
            Some(&id) => id,
            None => {
                let id = self.origins.len() as u32;
                self.origins.insert(f.origin.to_string(), id);
                id
            }
        };
        self.days.entry((id, f.date)).or_default().merge(&Day::of(f));
    }

    /// The days by (origin, date), in order.
    fn into_days(self) -> BTreeMap<(String, NaiveDate), Day> {
        let mut names = vec![String::new(); self.origins.len()];
        for (name, id) in self.origins {
            names[id as usize] = name;
        }
        self.days
            .into_iter()
            .map(|((id, date), v)| ((names[id as usize].clone(), date), v))
            .collect()
    }
}

/// Daily series from raw flight files: the same rule as the query (the
/// mean over finite, non-null delays; a day without one is not a point),
/// per origin and year; only `year` if given.
pub(super) async fn from_files(
    inputs: &[String],
    year: Option<i32>,
    endpoint_url: Option<String>,
) -> Result<(Vec<DailySeries>, RowCounts)> {
    let s3 = S3::new(endpoint_url);
    let sources = source::expand(inputs, &s3).await?;
    let mut days: BTreeMap<(String, NaiveDate), Day> = BTreeMap::new();
    let mut counts = RowCounts::default();
    for src in &sources {
        let input = source::open(src, &s3, Arc::new(AtomicU64::new(0))).await?;
        let name = src.to_string();
        let (partial, file_counts) = tokio::task::spawn_blocking(move || sum_days(input, &name)).await??;
        for (k, day) in partial.into_days() {
            days.entry(k).or_default().merge(&day);
        }
        counts.add(file_counts);
    }
    let points = days
        .into_iter()
        .filter(|((_, date), day)| day.delays > 0 && year.is_none_or(|y| y == date.year()))
        .map(|((origin, date), day)| DayPoint {
            origin,
            date,
            mean_delay: day.delay_sum / day.delays as f64,
            flights: day.delays,
            facts: day.facts,
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
                    counts.rows_used += u64::from(f.dep_delay.is_some());
                    acc.add(&f);
                }
                Err(reason) => counts.reject(&reason),
            },
        }
        counts.rows_read += 1;
    }
    Ok((acc, counts))
}
