//! `loader detect`: the anomaly detection run client-side, for Aurora/RDS
//! where the extension cannot be installed. With a database it reads the
//! daily series with the extension's own query and writes exactly the rows
//! `refresh_year` would; with `--input` it needs no database at all.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use arima::{detect_many, summary_columns, ArimaError, Cancel, DetectOptions, Detection, ModelSummary};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use tokio_util::io::SyncIoBridge;

use crate::columns::Columns;
use crate::pg;
use crate::source::{self, S3};

/// One airport's daily series in one year.
#[derive(Debug, Default, Clone)]
pub struct Daily {
    pub origin: String,
    pub year: i32,
    pub dates: Vec<NaiveDate>,
    pub mean_delay: Vec<f64>,
    pub flights: Vec<i64>,
}

/// What a detect run did.
#[derive(Debug, Default, Serialize)]
pub struct DetectSummary {
    pub airports_fitted: usize,
    pub airports_skipped: usize,
    pub days: usize,
    pub anomalies: usize,
    pub seconds: f64,
}

pub struct DetectArgs {
    pub year: Option<i32>,
    pub opts: DetectOptions,
    pub airports: Vec<String>,
    pub input: Vec<String>,
    pub out: Option<PathBuf>,
    pub models: Option<PathBuf>,
    pub endpoint_url: Option<String>,
}

pub async fn run(args: &DetectArgs) -> Result<DetectSummary> {
    let start = Instant::now();
    let mut series = if args.input.is_empty() {
        from_database(args).await?
    } else {
        from_files(args).await?
    };
    if !args.airports.is_empty() {
        series.retain(|s| args.airports.contains(&s.origin));
    }
    if series.is_empty() {
        bail!("no daily series to model (check --year and --airport)");
    }
    let values: Vec<&[f64]> = series.iter().map(|s| s.mean_delay.as_slice()).collect();
    let results = detect_many(&values, &args.opts, &Cancel::default());

    if args.input.is_empty() {
        write_database(args, &series, &results).await?;
    }
    if let Some(out) = &args.out {
        write_summary_csv(out, &series, &results)?;
    }
    if let Some(path) = &args.models {
        write_models_csv(path, &series, &results, &args.opts)?;
    }
    let fitted = results.iter().filter(|r| r.is_ok()).count();
    let anomalies = results
        .iter()
        .flatten()
        .map(|d| d.anomaly.iter().filter(|a| **a).count())
        .sum();
    Ok(DetectSummary {
        airports_fitted: fitted,
        airports_skipped: series.len() - fitted,
        days: series.iter().map(|s| s.dates.len()).sum(),
        anomalies,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The year's series from `flights`, with the extension's query.
async fn from_database(args: &DetectArgs) -> Result<Vec<Daily>> {
    let Some(year) = args.year else {
        bail!("--year is required when reading from the database")
    };
    let client = pg::connect(&pg::config()?).await?;
    pg::require_schema(&client).await?;
    let rows = client
        .query(pg::DAILY_SQL, &[&year, &None::<String>])
        .await
        .context("reading daily series")?;
    if rows.is_empty() {
        bail!("no flights dated {year}: load the year first");
    }
    let mut out: Vec<Daily> = Vec::new();
    for row in rows {
        let origin: String = row.get(0);
        if out.last().is_none_or(|d| d.origin != origin) {
            out.push(Daily {
                origin,
                year,
                ..Daily::default()
            });
        }
        let d = out.last_mut().expect("pushed above");
        d.dates.push(row.get(1));
        d.mean_delay.push(row.get(2));
        d.flights.push(row.get(3));
    }
    Ok(out)
}

/// Daily series from raw flight files: the same rule as the query (finite,
/// non-null delays only), per origin and year.
async fn from_files(args: &DetectArgs) -> Result<Vec<Daily>> {
    let s3 = S3::new(args.endpoint_url.clone());
    let sources = source::expand(&args.input, &s3).await?;
    // (origin, date) -> (sum, count), ordered so series come out sorted.
    let mut days: BTreeMap<(String, NaiveDate), (f64, i64)> = BTreeMap::new();
    for src in &sources {
        let stream = source::open(src, &s3, Arc::new(AtomicU64::new(0))).await?;
        let name = src.to_string();
        let partial = tokio::task::spawn_blocking(move || -> Result<BTreeMap<(String, NaiveDate), (f64, i64)>> {
            let mut csv = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(SyncIoBridge::new(stream));
            let header = csv
                .headers()
                .with_context(|| format!("{name}: cannot read the header"))?
                .clone();
            let columns = Columns::from_header(&header).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let mut acc = BTreeMap::new();
            let mut rec = csv::ByteRecord::new();
            while csv
                .read_byte_record(&mut rec)
                .with_context(|| format!("{name}: read failed"))?
            {
                // Malformed rows are skipped here as the load would reject them.
                let Ok(f) = columns.parse(&rec) else { continue };
                if let Some(delay) = f.dep_delay {
                    let e: &mut (f64, i64) = acc.entry((f.origin, f.date)).or_default();
                    e.0 += delay;
                    e.1 += 1;
                }
            }
            Ok(acc)
        })
        .await??;
        for (k, (s, n)) in partial {
            let e = days.entry(k).or_default();
            e.0 += s;
            e.1 += n;
        }
    }
    let mut out: Vec<Daily> = Vec::new();
    for ((origin, date), (sum, n)) in days {
        if args.year.is_some_and(|y| y != date.year()) {
            continue;
        }
        if out.last().is_none_or(|d| d.origin != origin || d.year != date.year()) {
            out.push(Daily {
                origin: origin.clone(),
                year: date.year(),
                ..Daily::default()
            });
        }
        let d = out.last_mut().expect("pushed above");
        d.dates.push(date);
        d.mean_delay.push(sum / n as f64);
        d.flights.push(n);
    }
    Ok(out)
}

/// Models, then days, in one transaction: the rows `refresh_year` writes.
async fn write_database(args: &DetectArgs, series: &[Daily], results: &[Result<Detection, ArimaError>]) -> Result<()> {
    let year = args.year.expect("checked when reading");
    let mut client = pg::connect(&pg::config()?).await?;
    let tx = client.transaction().await?;
    for (s, r) in series.iter().zip(results) {
        let m = ModelSummary::of(r, s.dates.len(), &args.opts);
        let part = |f: fn(&arima::Order) -> usize| m.order.as_ref().map(|o| f(o) as i32);
        tx.execute(
            pg::UPSERT_MODEL_SQL,
            &[
                &s.origin,
                &year,
                &part(|o| o.p),
                &part(|o| o.d),
                &part(|o| o.q),
                &m.param_names,
                &m.params,
                &m.sigma2,
                &m.loglike,
                &m.aic,
                &(m.points as i32),
                &m.grid_searched,
                &m.converged,
                &m.level,
                &m.lower_clip,
                &m.upper_clip,
                &m.skip_reason,
            ],
        )
        .await
        .context("writing airport_models")?;
    }
    let (mut dates, mut origins, mut means, mut flights) = (vec![], vec![], vec![], vec![]);
    let (mut flags, mut preds, mut highs, mut lows) = (vec![], vec![], vec![], vec![]);
    for (s, r) in series.iter().zip(results) {
        for t in 0..s.dates.len() {
            let (flag, pred, hi, lo) = summary_columns(r, t);
            dates.push(s.dates[t]);
            origins.push(s.origin.clone());
            means.push(s.mean_delay[t]);
            flights.push(s.flights[t]);
            flags.push(flag);
            preds.push(pred);
            highs.push(hi);
            lows.push(lo);
        }
    }
    let scope: Option<Vec<String>> = (!args.airports.is_empty()).then(|| args.airports.clone());
    tx.execute(
        pg::UPSERT_SUMMARY_SQL,
        &[
            &year, &dates, &origins, &means, &flights, &flags, &preds, &highs, &lows, &scope,
        ],
    )
    .await
    .context("writing airport_daily_summary")?;
    tx.commit().await.context("committing")?;
    Ok(())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn write_summary_csv(path: &PathBuf, series: &[Daily], results: &[Result<Detection, ArimaError>]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("{}: cannot create", path.display()))?;
    w.write_record([
        "date",
        "origin_airport",
        "average_dep_delay",
        "flights",
        "dep_delay_anomaly",
        "dep_delay_pred",
        "dep_delay_higher_ci",
        "dep_delay_lower_ci",
    ])?;
    for (s, r) in series.iter().zip(results) {
        for t in 0..s.dates.len() {
            let (flag, pred, hi, lo) = summary_columns(r, t);
            w.write_record([
                s.dates[t].to_string(),
                s.origin.clone(),
                s.mean_delay[t].to_string(),
                s.flights[t].to_string(),
                opt(&flag),
                opt(&pred),
                opt(&hi),
                opt(&lo),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

fn write_models_csv(
    path: &PathBuf,
    series: &[Daily],
    results: &[Result<Detection, ArimaError>],
    opts: &DetectOptions,
) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("{}: cannot create", path.display()))?;
    w.write_record([
        "origin_airport",
        "year",
        "order",
        "params",
        "sigma2",
        "loglike",
        "aic",
        "points",
        "grid_searched",
        "skip_reason",
    ])?;
    for (s, r) in series.iter().zip(results) {
        let m = ModelSummary::of(r, s.dates.len(), opts);
        let params = m.params.as_ref().map(|p| {
            let names = m.param_names.clone().unwrap_or_default();
            names
                .iter()
                .zip(p)
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        });
        w.write_record([
            s.origin.clone(),
            s.year.to_string(),
            opt(&m.order),
            params.unwrap_or_default(),
            opt(&m.sigma2),
            opt(&m.loglike),
            opt(&m.aic),
            m.points.to_string(),
            m.grid_searched.to_string(),
            m.skip_reason.unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
