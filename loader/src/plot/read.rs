//! The airport-years to plot: summary rows and model rows of one year,
//! read as JSON by column name.

use anyhow::{bail, Context, Result};
use summary::{sql, ModelRow, SummaryRow};

use super::AirportYear;
use crate::pg;

/// Every airport-year of `year` with summary rows (only `airports`, if any).
pub(super) async fn airport_years(year: i32, airports: &[String]) -> Result<Vec<AirportYear>> {
    let (client, schema) = pg::open_tables(&pg::config()?).await?;
    let json = |sql: &'static str| {
        let (client, sql) = (&client, schema.statement(sql));
        async move {
            let row = client.query_one(&sql, &[&year, &airports]).await?;
            Ok::<_, anyhow::Error>(row.get::<_, Option<String>>(0).unwrap_or_else(|| "[]".into()))
        }
    };
    let days: Vec<SummaryRow> =
        serde_json::from_str(&json(sql::YEAR_SUMMARY).await.context("reading airport_daily_summary")?)?;
    let models: Vec<ModelRow> = serde_json::from_str(&json(sql::YEAR_MODELS).await.context("reading airport_models")?)?;
    let mut out: Vec<AirportYear> = Vec::new();
    for day in days {
        if out.last().is_none_or(|a| a.origin != day.origin_airport) {
            let model = models.iter().find(|m| m.origin_airport == day.origin_airport);
            out.push(AirportYear {
                origin: day.origin_airport.clone(),
                year,
                order: model.and_then(|m| Some((m.p?, m.d?, m.q?))),
                level: model.map_or(arima::DetectOptions::default().level, |m| m.level),
                days: Vec::new(),
            });
        }
        out.last_mut().expect("pushed above").days.push(day);
    }
    if out.is_empty() {
        bail!("no summary rows for {year} (run refresh_year or loader detect first)");
    }
    Ok(out)
}
