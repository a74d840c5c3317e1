//! The flights functions: `arima_anomalies` (compute, write nothing),
//! `refresh_year` (compute and upsert a whole year) and `arima_next_day`
//! (what the trigger uses to mark an incrementally loaded day).

use std::time::Instant;

use arima::{detect_many, summary_columns, ArimaError, Detection, FittedArima, ModelSummary, Params};
use pgrx::datum::Date;
use pgrx::prelude::*;

use crate::error::{self, raise, INVALID_PARAMETER};
use crate::input::{detect_options, order};
use crate::series::{daily, year_has_flights, Daily};
use crate::worker;

/// One row of `airport_daily_summary`, in its column order.
type DayRow = (
    Date,
    String,
    f64,
    i64,
    Option<bool>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn day_rows(day: &Daily, det: &Result<Detection, ArimaError>) -> Vec<DayRow> {
    (0..day.dates.len())
        .map(|t| {
            let (flag, pred, hi, lo) = summary_columns(det, t);
            (
                day.dates[t],
                day.origin.clone(),
                day.mean_delay[t],
                day.flights[t],
                flag,
                pred,
                hi,
                lo,
            )
        })
        .collect()
}

fn detect_all(series: &[Daily], opts: &arima::DetectOptions) -> Vec<Result<Detection, ArimaError>> {
    let values: Vec<&[f64]> = series.iter().map(|d| d.mean_delay.as_slice()).collect();
    worker::run(|cancel| detect_many(&values, opts, cancel))
}

/// One airport-year computed on the fly from `flights`: observed daily
/// mean delay, flights, prediction, clipped band and flag. Writes nothing.
/// An unknown airport or year gives no rows and a NOTICE.
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
#[pg_extern]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn arima_anomalies(
    origin: &str,
    year: i32,
    p: default!(i32, 5),
    d: default!(i32, 1),
    q: default!(i32, 1),
    level: default!(f64, 0.8),
    grid_search: default!(bool, false),
) -> TableIterator<
    'static,
    (
        name!(date, Date),
        name!(origin_airport, String),
        name!(average_dep_delay, f64),
        name!(flights, i64),
        name!(dep_delay_anomaly, Option<bool>),
        name!(dep_delay_pred, Option<f64>),
        name!(dep_delay_higher_ci, Option<f64>),
        name!(dep_delay_lower_ci, Option<f64>),
    ),
> {
    let opts = detect_options(p, d, q, level, grid_search);
    let series = daily(year, Some(origin));
    let Some(day) = series.first() else {
        notice!("no flights with a departure delay from {origin} in {year}");
        return TableIterator::new(Vec::new());
    };
    let det = detect_all(&series, &opts).pop().expect("one result per series");
    if let Err(e) = &det {
        notice!("{origin} {year} not modelled: {e}");
    }
    TableIterator::new(day_rows(day, &det))
}

/// Summarises `year`'s flights per airport and day, detects anomalies for
/// every airport with more than 2 days, and upserts `airport_daily_summary`
/// and `airport_models` in the caller's transaction. Idempotent: a re-run
/// gives the same rows; after new data it updates them and removes days
/// that no longer have flights.
#[pg_extern]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn refresh_year(
    year: i32,
    p: default!(i32, 5),
    d: default!(i32, 1),
    q: default!(i32, 1),
    level: default!(f64, 0.8),
    grid_search: default!(bool, false),
) -> TableIterator<
    'static,
    (
        name!(year, i32),
        name!(airports_fitted, i32),
        name!(airports_skipped, i32),
        name!(days, i64),
        name!(anomalies, i64),
        name!(seconds, f64),
    ),
> {
    let start = Instant::now();
    let opts = detect_options(p, d, q, level, grid_search);
    if !year_has_flights(year) {
        raise(
            INVALID_PARAMETER,
            format!("no flights dated {year}"),
            Some("Load the year's flights before refreshing it (loader load FILE, or COPY into flights)."),
        );
    }
    let series = daily(year, None);
    let results = detect_all(&series, &opts);

    write_models(year, &series, &results, &opts);
    let rows: Vec<DayRow> = series.iter().zip(&results).flat_map(|(s, r)| day_rows(s, r)).collect();
    write_summary(year, &rows);

    let fitted = results.iter().filter(|r| r.is_ok()).count() as i32;
    let anomalies = rows.iter().filter(|r| r.4 == Some(true)).count() as i64;
    let row = (
        year,
        fitted,
        series.len() as i32 - fitted,
        rows.len() as i64,
        anomalies,
        start.elapsed().as_secs_f64(),
    );
    TableIterator::once(row)
}

const UPSERT_SUMMARY: &str = include_str!("../sql/upsert_summary.sql");

/// All day rows of the year in one statement (arrays, not one INSERT a row).
fn write_summary(year: i32, rows: &[DayRow]) {
    let dates: Vec<Date> = rows.iter().map(|r| r.0).collect();
    let origins: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    let means: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let flights: Vec<i64> = rows.iter().map(|r| r.3).collect();
    let flags: Vec<Option<bool>> = rows.iter().map(|r| r.4).collect();
    let preds: Vec<Option<f64>> = rows.iter().map(|r| r.5).collect();
    let highs: Vec<Option<f64>> = rows.iter().map(|r| r.6).collect();
    let lows: Vec<Option<f64>> = rows.iter().map(|r| r.7).collect();
    Spi::run_with_args(
        UPSERT_SUMMARY,
        &[
            year.into(),
            dates.into(),
            origins.into(),
            means.into(),
            flights.into(),
            flags.into(),
            preds.into(),
            highs.into(),
            lows.into(),
            None::<Vec<String>>.into(), // every airport of the year
        ],
    )
    .unwrap_or_else(|e| error::spi("writing airport_daily_summary", e));
}

const UPSERT_MODEL: &str = include_str!("../sql/upsert_model.sql");

/// One `airport_models` row per airport: the model, or why there is none.
/// Written before the day rows, so the insert trigger never sees a stale model.
fn write_models(year: i32, series: &[Daily], results: &[Result<Detection, ArimaError>], opts: &arima::DetectOptions) {
    Spi::connect_mut(|client| {
        for (day, result) in series.iter().zip(results) {
            let m = ModelSummary::of(result, day.dates.len(), opts);
            let order_part = |f: fn(&arima::Order) -> usize| m.order.as_ref().map(|o| f(o) as i32);
            let args = vec![
                day.origin.clone().into(),
                year.into(),
                order_part(|o| o.p).into(),
                order_part(|o| o.d).into(),
                order_part(|o| o.q).into(),
                m.param_names.into(),
                m.params.into(),
                m.sigma2.into(),
                m.loglike.into(),
                m.aic.into(),
                (m.points as i32).into(),
                m.grid_searched.into(),
                m.converged.into(),
                m.level.into(),
                m.lower_clip.into(),
                m.upper_clip.into(),
                m.skip_reason.into(),
            ];
            client.update(UPSERT_MODEL, None, &args)?;
        }
        Ok::<_, pgrx::spi::Error>(())
    })
    .unwrap_or_else(|e| error::spi("writing airport_models", e));
}

/// The stored model of `origin`'s year, if one was fitted.
struct StoredModel {
    fitted: Params,
    order: arima::Order,
    level: f64,
    lower_clip: f64,
    upper_clip: f64,
}

fn stored_model(origin: &str, year: i32) -> Option<StoredModel> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT p, d, q, params, level, lower_clip, upper_clip FROM airport_models
             WHERE origin_airport = $1 AND year = $2 AND skip_reason IS NULL",
            None,
            &[origin.into(), year.into()],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let (p, d, q): (Option<i32>, Option<i32>, Option<i32>) = (row.get(1)?, row.get(2)?, row.get(3)?);
        let params: Option<Vec<f64>> = row.get(4)?;
        let (Some(p), Some(d), Some(q), Some(params)) = (p, d, q, params) else {
            return Ok(None);
        };
        let order = order(p, d, q);
        if params.len() != order.n_params() {
            warning!(
                "airport_models row for {origin} {year} has {} parameters, order {order} needs {}",
                params.len(),
                order.n_params()
            );
            return Ok(None);
        }
        Ok::<_, pgrx::spi::Error>(Some(StoredModel {
            fitted: Params::from_slice(&order, &params),
            order,
            level: row.get(5)?.unwrap_or(0.8),
            lower_clip: row.get(6)?.unwrap_or(f64::NEG_INFINITY),
            upper_clip: row.get(7)?.unwrap_or(f64::INFINITY),
        }))
    })
    .unwrap_or_else(|e| error::spi("reading airport_models", e))
}

/// What the insert trigger uses to mark a new day without refitting: the
/// stored model of the day's airport-year, run over the days of that year
/// already in `airport_daily_summary` before `day`, gives the one-step
/// prediction for `day` and its band at the model's level, clipped at the
/// clip levels stored with the model. No row when there is no fitted model
/// or no earlier day to run it on.
#[pg_extern]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn arima_next_day(
    origin: &str,
    day: Date,
) -> TableIterator<
    'static,
    (
        name!(dep_delay_pred, f64),
        name!(dep_delay_lower_ci, f64),
        name!(dep_delay_higher_ci, f64),
    ),
> {
    let year = day.year();
    let Some(model) = stored_model(origin, year) else {
        return TableIterator::new(Vec::new());
    };
    let history: Vec<f64> = Spi::connect(|client| {
        client
            .select(
                "SELECT average_dep_delay FROM airport_daily_summary
                 WHERE origin_airport = $1 AND date >= make_date($2, 1, 1) AND date < $3
                   AND average_dep_delay IS NOT NULL
                 ORDER BY date",
                None,
                &[origin.into(), year.into(), day.into()],
            )?
            .map(|row| row.get::<f64>(1).map(|v| v.unwrap_or(f64::NAN)))
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| error::spi("reading airport_daily_summary", e));
    let Ok(fit) = FittedArima::from_params(model.order, model.fitted, &history) else {
        return TableIterator::new(Vec::new());
    };
    let next = fit.forecast(1);
    let (lo, hi) = next
        .interval(model.level)
        .unwrap_or_else(|e| error::arima(&format!("the stored model of {origin} {year}"), &e));
    TableIterator::once((next.mean[0], lo[0].max(model.lower_clip), hi[0].min(model.upper_clip)))
}
