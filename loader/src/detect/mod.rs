//! `loader detect`: the anomaly detection run client-side, for Aurora/RDS
//! where the extension cannot be installed. Reading (`read`), computing
//! (the `summary` crate, as `refresh_year` does) and writing (`write`) are
//! apart: with a database it writes exactly the rows `refresh_year` would;
//! with `--input` it needs no database at all.

mod read;
mod write;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use arima::{Cancel, DetectOptions};
use serde::Serialize;
use summary::Outcome;

/// What a detect run did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct DetectSummary {
    /// With `--input`: the rows read, used and rejected.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub input: Option<read::RowCounts>,
    pub airports_fitted: usize,
    pub airports_skipped: usize,
    pub days: usize,
    pub anomalies: usize,
    pub seconds: f64,
}

pub(crate) struct DetectArgs {
    pub year: Option<i32>,
    pub opts: DetectOptions,
    pub airports: Vec<String>,
    pub input: Vec<String>,
    pub out: Option<PathBuf>,
    pub models: Option<PathBuf>,
    pub endpoint_url: Option<String>,
}

pub(crate) async fn run(args: &DetectArgs) -> Result<DetectSummary> {
    let start = Instant::now();
    let (mut series, input, read_at) = if args.input.is_empty() {
        let (series, read_at) = read::from_database(args.year).await?;
        (series, None, Some(read_at))
    } else {
        let (series, counts) = read::from_files(&args.input, args.year, args.endpoint_url.clone()).await?;
        (series, Some(counts), None)
    };
    if !args.airports.is_empty() {
        series.retain(|s| args.airports.contains(&s.origin));
    }
    if series.is_empty() {
        match &input {
            Some(c) => bail!(
                "no daily series to model: {} rows read, {} with a departure delay, {} rejected {:?} (check --year and --airport)",
                c.rows_read,
                c.rows_used,
                c.rows_rejected,
                c.reject_reasons
            ),
            None => bail!("no daily series to model (check --year and --airport)"),
        }
    }
    let opts = args.opts.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let results = summary::detect(&series, &opts, &Cancel::default());
        Outcome::new(&series, &results, &opts)
    })
    .await?;

    if let (Some(read_at), Some(year)) = (read_at, args.year) {
        write::to_database(year, &args.airports, &outcome, read_at).await?;
    }
    if let Some(path) = &args.out {
        write::summary_csv(path, &outcome)?;
    }
    if let Some(path) = &args.models {
        write::models_csv(path, &outcome)?;
    }
    let fitted = outcome.fitted();
    Ok(DetectSummary {
        input,
        airports_fitted: fitted,
        airports_skipped: outcome.models.len() - fitted,
        days: outcome.days.len(),
        anomalies: outcome.anomalies(),
        seconds: start.elapsed().as_secs_f64(),
    })
}
