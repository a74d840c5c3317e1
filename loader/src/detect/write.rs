//! Where `detect` puts its rows: the database (with the statements
//! `refresh_year` runs) or CSV files.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use summary::{sql, Outcome};

use crate::pg;

/// Models, then days, in one transaction: the rows `refresh_year` writes.
/// With `airports`, only their days are removed when gone. The year is
/// recorded refreshed as of `read_at`, when its flights were read (not
/// now: a load committed since is not in these rows, and stays pending).
pub(super) async fn to_database(
    year: i32,
    airports: &[String],
    outcome: &Outcome,
    read_at: DateTime<Utc>,
) -> Result<()> {
    let (mut client, schema) = pg::open_tables(&pg::config()?).await?;
    let tx = client.transaction().await?;
    tx.execute(&schema.statement(sql::UPSERT_MODEL), &[&outcome.models_json()])
        .await
        .context("writing airport_models")?;
    let scope: Option<&[String]> = (!airports.is_empty()).then_some(airports);
    tx.execute(
        &schema.statement(sql::UPSERT_SUMMARY),
        &[&year, &outcome.days_json(), &scope],
    )
    .await
    .context("writing airport_daily_summary")?;
    if pg::records_years(&tx, &schema).await? {
        tx.execute(
            &format!(
                "INSERT INTO {} AS y (year, refreshed_at) VALUES ($1::int, $2)
                 ON CONFLICT (year) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at",
                schema.object("flight_years")
            ),
            &[&year, &read_at],
        )
        .await
        .context("writing flight_years")?;
    }
    tx.commit().await.context("committing")?;
    Ok(())
}

fn create(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    csv::Writer::from_path(path).with_context(|| format!("{}: cannot create", path.display()))
}

/// The summary rows, with the columns of `airport_daily_summary` as header.
pub(super) fn summary_csv(path: &Path, outcome: &Outcome) -> Result<()> {
    let mut w = create(path)?;
    for row in &outcome.days {
        w.serialize(row)?;
    }
    w.flush()?;
    Ok(())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The model rows, one line each, parameters as `name=value`.
pub(super) fn models_csv(path: &Path, outcome: &Outcome) -> Result<()> {
    let mut w = create(path)?;
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
    for m in &outcome.models {
        let order = match (m.p, m.d, m.q) {
            (Some(p), Some(d), Some(q)) => format!("({p},{d},{q})"),
            _ => String::new(),
        };
        let params = match (&m.param_names, &m.params) {
            (Some(names), Some(values)) => names
                .iter()
                .zip(values)
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        w.write_record([
            m.origin_airport.clone(),
            m.year.to_string(),
            order,
            params,
            opt(&m.sigma2),
            opt(&m.loglike),
            opt(&m.aic),
            m.points.to_string(),
            m.grid_searched.to_string(),
            opt(&m.skip_reason),
        ])?;
    }
    w.flush()?;
    Ok(())
}
