//! The airport daily summary: the one shape the extension (`refresh_year`)
//! and the loader (`loader detect`, `loader plot`) share, so both write
//! and read the same rows.
//!
//! - [`DailySeries`]: one airport's daily mean departure delay and flight
//!   count in one year, grouped from [`DayPoint`]s (what `sql/daily.sql`
//!   returns);
//! - [`SummaryRow`] and [`ModelRow`]: the rows of `airport_daily_summary`
//!   and `airport_models`, as named structs whose fields are the columns;
//! - [`sql`]: the statements, included once. Rows cross the database
//!   boundary as JSON (`json_agg`, `json_populate_recordset`), by column
//!   name, so adding a column is a field here, a column in
//!   `sql/schema.sql` (and the update script) and its line in the upsert's
//!   SET list, nothing positional in between.
//!
//! The numbers come from the `arima` crate, which knows nothing of tables.

mod explain;
mod online;
mod rows;
mod series;
pub mod sql;

pub use explain::CAUSES;
pub use online::{online_rows, online_update, AirportMeans, OnlineUpdate, Source, YearMeans};
pub use rows::{ModelRow, Outcome, StoredModel, SummaryRow};
pub use series::{DailySeries, DayFacts, DayPoint};

use arima::{ArimaError, Cancel, DetectOptions, Detection};

/// Detects anomalies in every series (in parallel); one result per series,
/// so one airport that cannot be modelled never fails the others.
pub fn detect(series: &[DailySeries], opts: &DetectOptions, cancel: &Cancel) -> Vec<Result<Detection, ArimaError>> {
    let values: Vec<&[f64]> = series.iter().map(|s| s.mean_delay.as_slice()).collect();
    arima::detect_many(&values, opts, cancel)
}
