//! The flights functions: `arima_anomalies` (compute, write nothing),
//! `refresh_year` (compute and upsert a whole year) and `arima_next_day`
//! (what the trigger uses to mark an incrementally loaded day).

use std::time::Instant;

use arima::{detect_many, ArimaError, Detection, FittedArima, Params};
use pgrx::datum::Date;
use pgrx::prelude::*;

use crate::options::{check_level, detect_options, order};
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
            let (flag, pred, hi, lo) = match det {
                Ok(d) => (
                    Some(d.anomaly[t]),
                    Some(d.predicted[t]),
                    Some(d.upper[t]),
                    Some(d.lower[t]),
                ),
                Err(_) => (None, None, None, None),
            };
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
    check_level(level);
    let opts = detect_options(p, d, q, level, grid_search);
    let series = daily(year, Some(origin));
    let Some(day) = series.first() else {
        notice!("no flights with a departure delay from {origin} in {year}");
        return TableIterator::new(Vec::new());
    };
    let det = detect_all(&series, &opts)
        .pop()
        .expect("one result per series");
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
    check_level(level);
    let opts = detect_options(p, d, q, level, grid_search);
    if !year_has_flights(year) {
        error!("no flights dated {year}: load the year before refreshing it");
    }
    let series = daily(year, None);
    let results = detect_all(&series, &opts);

    write_models(year, &series, &results, &opts);
    let rows: Vec<DayRow> = series
        .iter()
        .zip(&results)
        .flat_map(|(s, r)| day_rows(s, r))
        .collect();
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

const UPSERT_SUMMARY: &str = "
    WITH new AS (
        SELECT * FROM unnest($2::date[], $3::text[], $4::float8[], $5::int8[],
                             $6::bool[], $7::float8[], $8::float8[], $9::float8[])
            AS n(date, origin_airport, average_dep_delay, flights,
                 dep_delay_anomaly, dep_delay_pred, dep_delay_higher_ci, dep_delay_lower_ci)
    ), gone AS (
        DELETE FROM airport_daily_summary s
        WHERE s.date >= make_date($1, 1, 1) AND s.date < make_date($1 + 1, 1, 1)
          AND NOT EXISTS (SELECT 1 FROM new n WHERE n.date = s.date AND n.origin_airport = s.origin_airport)
    )
    INSERT INTO airport_daily_summary AS s SELECT * FROM new
    ON CONFLICT (date, origin_airport) DO UPDATE SET
        average_dep_delay = EXCLUDED.average_dep_delay,
        flights = EXCLUDED.flights,
        dep_delay_anomaly = EXCLUDED.dep_delay_anomaly,
        dep_delay_pred = EXCLUDED.dep_delay_pred,
        dep_delay_higher_ci = EXCLUDED.dep_delay_higher_ci,
        dep_delay_lower_ci = EXCLUDED.dep_delay_lower_ci
    WHERE (s.average_dep_delay, s.flights, s.dep_delay_anomaly, s.dep_delay_pred,
           s.dep_delay_higher_ci, s.dep_delay_lower_ci)
          IS DISTINCT FROM
          (EXCLUDED.average_dep_delay, EXCLUDED.flights, EXCLUDED.dep_delay_anomaly,
           EXCLUDED.dep_delay_pred, EXCLUDED.dep_delay_higher_ci, EXCLUDED.dep_delay_lower_ci)";

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
        ],
    )
    .unwrap_or_else(|e| error!("writing airport_daily_summary: {e}"));
}

const UPSERT_MODEL: &str = "
    INSERT INTO airport_models AS m (origin_airport, year, p, d, q, param_names, params, sigma2,
        loglike, aic, points, grid_searched, converged, level, lower_clip, upper_clip, fitted_at, skip_reason)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now(), $17)
    ON CONFLICT (origin_airport, year) DO UPDATE SET
        p = EXCLUDED.p, d = EXCLUDED.d, q = EXCLUDED.q, param_names = EXCLUDED.param_names,
        params = EXCLUDED.params, sigma2 = EXCLUDED.sigma2, loglike = EXCLUDED.loglike,
        aic = EXCLUDED.aic, points = EXCLUDED.points, grid_searched = EXCLUDED.grid_searched,
        converged = EXCLUDED.converged, level = EXCLUDED.level, lower_clip = EXCLUDED.lower_clip,
        upper_clip = EXCLUDED.upper_clip, fitted_at = EXCLUDED.fitted_at,
        skip_reason = EXCLUDED.skip_reason";

/// One `airport_models` row per airport: the model, or why there is none.
/// Written before the day rows, so the insert trigger never sees a stale model.
fn write_models(
    year: i32,
    series: &[Daily],
    results: &[Result<Detection, ArimaError>],
    opts: &arima::DetectOptions,
) {
    Spi::connect_mut(|client| {
        for (day, result) in series.iter().zip(results) {
            let points = day.dates.len() as i32;
            let args = match result {
                Ok(det) => {
                    let m = &det.model;
                    let o = m.order();
                    vec![
                        day.origin.clone().into(),
                        year.into(),
                        (o.p as i32).into(),
                        (o.d as i32).into(),
                        (o.q as i32).into(),
                        Params::names(&o).into(),
                        m.params().to_vec().into(),
                        m.params().sigma2.into(),
                        m.loglike().into(),
                        m.aic().into(),
                        points.into(),
                        det.grid_searched.into(),
                        m.converged().into(),
                        det.level.into(),
                        det.lower_clip.into(),
                        det.upper_clip.into(),
                        None::<String>.into(),
                    ]
                }
                Err(e) => vec![
                    day.origin.clone().into(),
                    year.into(),
                    None::<i32>.into(),
                    None::<i32>.into(),
                    None::<i32>.into(),
                    None::<Vec<String>>.into(),
                    None::<Vec<f64>>.into(),
                    None::<f64>.into(),
                    None::<f64>.into(),
                    None::<f64>.into(),
                    points.into(),
                    opts.grid.is_some().into(),
                    None::<bool>.into(),
                    opts.level.into(),
                    None::<f64>.into(),
                    None::<f64>.into(),
                    e.to_string().into(),
                ],
            };
            client.update(UPSERT_MODEL, None, &args)?;
        }
        Ok::<_, pgrx::spi::Error>(())
    })
    .unwrap_or_else(|e| error!("writing airport_models: {e}"));
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
        let (p, d, q): (Option<i32>, Option<i32>, Option<i32>) =
            (row.get(1)?, row.get(2)?, row.get(3)?);
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
    .unwrap_or_else(|e| error!("reading airport_models: {e}"))
}

/// What the insert trigger uses to mark a new day without refitting: the
/// stored model of the day's airport-year, run over the days of that year
/// already in `airport_daily_summary` before `day`, gives the one-step
/// prediction for `day` and its band at the model's level, clipped at the
/// clip levels stored with the model. No row when there is no fitted model
/// or no earlier day to run it on.
#[pg_extern]
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
    .unwrap_or_else(|e| error!("reading airport_daily_summary: {e}"));
    let Ok(fit) = FittedArima::from_params(model.order, model.fitted, &history) else {
        return TableIterator::new(Vec::new());
    };
    let next = fit.forecast(1);
    let (lo, hi) = next.interval(model.level).unwrap_or_else(|e| error!("{e}"));
    TableIterator::once((
        next.mean[0],
        lo[0].max(model.lower_clip),
        hi[0].min(model.upper_clip),
    ))
}
