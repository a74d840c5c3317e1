//! The flights functions: `arima_anomalies` (compute, write nothing),
//! `refresh_year` (compute and upsert a whole year) and `arima_next_day`
//! (what the trigger uses to mark an incrementally loaded day).

use std::time::Instant;

use arima::{ArimaError, DetectOptions, Detection, FittedArima};
use chrono::{Datelike, NaiveDate};
use pgrx::datum::{Date, DatumWithOid};
use pgrx::prelude::*;
use summary::{sql, DailySeries, ModelRow, Outcome, StoredModel, SummaryRow, YearMeans};

use crate::error::{self, raise, INVALID_PARAMETER};
use crate::input::detect_options;
use crate::series::{pinned_search_path, Tables};
use crate::worker;

fn detect_all(series: &[DailySeries], opts: &DetectOptions) -> Vec<Result<Detection, ArimaError>> {
    worker::run(|cancel| summary::detect(series, opts, cancel))
}

fn pg_date(d: NaiveDate) -> Date {
    Date::new(d.year(), d.month() as u8, d.day() as u8).expect("a date Postgres gave us")
}

/// A summary row as `arima_anomalies` returns it.
type SummaryTuple = (
    Date,
    String,
    f64,
    i64,
    Option<bool>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn tuple(r: SummaryRow) -> SummaryTuple {
    (
        pg_date(r.date),
        r.origin_airport,
        r.average_dep_delay,
        r.flights,
        r.dep_delay_anomaly,
        r.dep_delay_pred,
        r.dep_delay_higher_ci,
        r.dep_delay_lower_ci,
    )
}

/// One airport-year computed on the fly from `flights`: observed daily
/// mean delay, flights, prediction, clipped band and flag. Writes nothing.
/// An unknown airport or year gives no rows and a NOTICE.
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
#[pg_extern]
#[search_path(pg_catalog, pg_temp)]
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
    let series = pinned_search_path(|| Tables::find().daily(year, Some(origin), None));
    let Some(day) = series.first() else {
        notice!("no flights with a departure delay from {origin} in {year}");
        return TableIterator::new(Vec::new());
    };
    let det = detect_all(&series, &opts).pop().expect("one result per series");
    if let Err(e) = &det {
        notice!("{origin} {year} not modelled: {e}");
    }
    TableIterator::new(day.summary_rows(&det).into_iter().map(tuple))
}

/// What `refresh_year` returns.
type RefreshRow = (i32, i32, i32, i64, i64, f64);

/// Summarises `year`'s flights per airport and day and upserts
/// `airport_daily_summary` (and, with `refit`, `airport_models`) in the
/// caller's transaction.
///
/// With `refit` (the default, the old system's method): fits every airport
/// with more than 2 days and flags each day in-sample; idempotent (a re-run
/// writes no row whose values did not change); days that lost their flights
/// are removed. Without: only the days after the year's last summarised day
/// are written, each marked with the stored model's one-step prediction
/// from the days before it (the previous year's model for a new year
/// without its own; unmarked without either); nothing is refitted or
/// removed, and `airports_skipped` counts the airports left unmarked.
#[pg_extern(name = "refresh_year")]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::too_many_arguments)] // the SQL signature, with its defaults
fn refresh(
    year: i32,
    p: default!(i32, 5),
    d: default!(i32, 1),
    q: default!(i32, 1),
    level: default!(f64, 0.8),
    grid_search: default!(bool, false),
    refit: default!(bool, true),
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
    let opts = detect_options(p, d, q, level, grid_search);
    TableIterator::once(pinned_search_path(|| {
        let tables = Tables::find();
        lock_year(year);
        require_flights(&tables, year);
        let row = if refit {
            refit_year(&tables, year, &opts, upsert_summary(&tables))
        } else {
            update_year(&tables, year)
        };
        Spi::run_with_args(&tables.sql(sql::MARK_REFRESHED), &[year.into()])
            .unwrap_or_else(|e| error::spi("writing flight_years", e));
        row
    }))
}

/// 0.1.0's `refresh_year` (no `refit`): kept in the library, not in the
/// SQL, so a database still on 0.1.0's definitions and tables works with
/// this library until `ALTER EXTENSION airline_anomalies UPDATE`: it
/// writes 0.1.0's columns and records nothing in `flight_years`.
#[pg_extern(sql = false)]
fn refresh_year(
    year: i32,
    p: i32,
    d: i32,
    q: i32,
    level: f64,
    grid_search: bool,
) -> TableIterator<'static, (i32, i32, i32, i64, i64, f64)> {
    let opts = detect_options(p, d, q, level, grid_search);
    TableIterator::once(pinned_search_path(|| {
        let tables = Tables::find();
        lock_year(year);
        require_flights(&tables, year);
        refit_year(&tables, year, &opts, UPSERT_SUMMARY_0_1)
    }))
}

/// The summary upsert of 0.1.0's table.
const UPSERT_SUMMARY_0_1: &str = include_str!("../sql/upsert_summary_0_1.sql");

/// The summary upsert of 0.2.0's table.
const UPSERT_SUMMARY_0_2: &str = include_str!("../sql/upsert_summary_0_2.sql");

/// The summary upsert for this database's table: 0.2.0's until the
/// extension is updated (0.1.0's has an entry point of its own).
fn upsert_summary(tables: &Tables) -> &'static str {
    if tables.before_0_3 {
        UPSERT_SUMMARY_0_2
    } else {
        sql::UPSERT_SUMMARY
    }
}

/// Waits until no load of `year` is committing: a load holds this lock in
/// its swap transaction (loader/src/load.rs, the same key), so a refresh
/// reads a year whole, and its `refreshed_at` (taken after the lock) follows
/// the `loaded_at` of every load it saw. Years are locked one at a time, in
/// ascending order by `refresh_pending` and by the loader, so no cycle forms.
fn lock_year(year: i32) {
    Spi::run_with_args(sql::LOCK_YEAR, &[year.into()])
        .unwrap_or_else(|e| error::spi("waiting for a load of the year", e));
}

/// Refuses a year without flights.
fn require_flights(tables: &Tables, year: i32) {
    if !tables.year_has_flights(year) {
        raise(
            INVALID_PARAMETER,
            format!("no flights dated {year}"),
            Some("Load the year's flights before refreshing it (loader load FILE, or COPY into flights)."),
        );
    }
}

/// Fits every airport of the year and writes all its rows with `upsert`.
fn refit_year(tables: &Tables, year: i32, opts: &DetectOptions, upsert: &str) -> RefreshRow {
    let start = Instant::now();
    let series = tables.daily(year, None, None);
    let results = detect_all(&series, opts);
    let outcome = Outcome::new(&series, &results, opts);
    write(tables, year, &outcome, upsert);
    let fitted = outcome.fitted() as i32;
    (
        year,
        fitted,
        outcome.models.len() as i32 - fitted,
        outcome.days.len() as i64,
        outcome.anomalies() as i64,
        start.elapsed().as_secs_f64(),
    )
}

/// Reads the one JSON value a shared statement returns; `None` for NULL.
fn json_of<T: serde::de::DeserializeOwned>(statement: &str, args: &[DatumWithOid], what: &str) -> Option<T> {
    let json = Spi::get_one_with_args::<String>(statement, args).unwrap_or_else(|e| error::spi(what, e));
    json.map(|j| serde_json::from_str(&j).unwrap_or_else(|e| error::internal(what, &e)))
}

/// A year's summarised means and stored models (every airport).
fn year_state(tables: &Tables, year: i32) -> (YearMeans, Vec<ModelRow>) {
    let every_airport: Vec<String> = Vec::new();
    let means = json_of(
        &tables.sql(sql::YEAR_MEANS),
        &[year.into()],
        "reading airport_daily_summary",
    )
    .unwrap_or_default();
    let models = json_of(
        &tables.sql(sql::YEAR_MODELS),
        &[year.into(), every_airport.into()],
        "reading airport_models",
    )
    .unwrap_or_default();
    (means, models)
}

/// Writes the days after the year's last summarised day, marked online;
/// no refit, nothing else rewritten.
fn update_year(tables: &Tables, year: i32) -> RefreshRow {
    let start = Instant::now();
    let (means, models) = year_state(tables, year);
    let new = tables.daily(year, None, means.last.map(pg_date));
    // The previous year is read only when an airport lacks this year's model.
    let fitted = |origin: &str| {
        models
            .iter()
            .any(|m| m.origin_airport == origin && m.skip_reason.is_none())
    };
    let (previous, previous_models) = if new.iter().all(|s| fitted(&s.origin)) {
        (YearMeans::default(), Vec::new())
    } else {
        year_state(tables, year - 1)
    };
    let update = worker::run(|_| summary::online_update(&new, &means, &models, &previous, &previous_models));
    let no_removal: Vec<String> = Vec::new();
    Spi::run_with_args(
        &tables.sql(upsert_summary(tables)),
        &[year.into(), update.rows_json().into(), no_removal.into()],
    )
    .unwrap_or_else(|e| error::spi("writing airport_daily_summary", e));
    let anomalies = update.rows.iter().filter(|r| r.dep_delay_anomaly == Some(true)).count();
    (
        year,
        0,
        update.unmodelled as i32,
        update.rows.len() as i64,
        anomalies as i64,
        start.elapsed().as_secs_f64(),
    )
}

/// The year's model rows, then its summary rows (so the insert trigger
/// never sees a stale model), with the statements the loader shares.
fn write(tables: &Tables, year: i32, outcome: &Outcome, upsert: &str) {
    Spi::run_with_args(&tables.sql(sql::UPSERT_MODEL), &[outcome.models_json().into()])
        .unwrap_or_else(|e| error::spi("writing airport_models", e));
    let every_airport: Option<Vec<String>> = None;
    Spi::run_with_args(
        &tables.sql(upsert),
        &[year.into(), outcome.days_json().into(), every_airport.into()],
    )
    .unwrap_or_else(|e| error::spi("writing airport_daily_summary", e));
}

/// The stored model of `origin`'s year, if one was fitted.
fn stored_model(tables: &Tables, origin: &str, year: i32) -> Option<StoredModel> {
    let json = Spi::get_one_with_args::<String>(&tables.sql(sql::STORED_MODEL), &[origin.into(), year.into()])
        .unwrap_or_else(|e| error::spi("reading airport_models", e))?;
    let row: ModelRow = serde_json::from_str(&json).unwrap_or_else(|e| error::internal("reading airport_models", &e));
    row.stored_model().unwrap_or_else(|why| {
        warning!("airport_models row for {origin} {year} cannot be used: {why}");
        None
    })
}

/// What the insert trigger uses to mark a new day without refitting: the
/// stored model of the day's airport-year, run over the days of that year
/// already in `airport_daily_summary` before `day`, gives the one-step
/// prediction for `day`, its standard deviation and its band at the
/// model's level, clipped at the clip levels stored with the model. No row
/// when there is no fitted model or no earlier day to run it on.
#[pg_extern(name = "arima_next_day")]
#[search_path(pg_catalog, pg_temp)]
fn next_day(
    origin: &str,
    day: Date,
) -> TableIterator<
    'static,
    (
        name!(dep_delay_pred, f64),
        name!(dep_delay_lower_ci, f64),
        name!(dep_delay_higher_ci, f64),
        name!(dep_delay_sd, f64),
    ),
> {
    TableIterator::new(next_day_band(origin, day))
}

/// 0.2.0's `arima_next_day` (no standard deviation): kept in the library,
/// not in the SQL, for databases not yet updated, as `refresh_year`'s 0.1.0 entry.
#[pg_extern(sql = false)]
fn arima_next_day(origin: &str, day: Date) -> TableIterator<'static, (f64, f64, f64)> {
    TableIterator::new(next_day_band(origin, day).map(|(pred, lo, hi, _)| (pred, lo, hi)))
}

/// The prediction, band and standard deviation of `origin`'s `day`, if its
/// year has a stored model and earlier days.
fn next_day_band(origin: &str, day: Date) -> Option<(f64, f64, f64, f64)> {
    pinned_search_path(|| next_day_band_pinned(origin, day))
}

fn next_day_band_pinned(origin: &str, day: Date) -> Option<(f64, f64, f64, f64)> {
    let year = day.year();
    let tables = Tables::find();
    let model = stored_model(&tables, origin, year)?;
    let history: Vec<f64> = Spi::connect(|client| {
        client
            .select(
                &tables.sql(
                    "SELECT average_dep_delay FROM @extschema@.airport_daily_summary
                 WHERE origin_airport = $1 AND date >= make_date($2, 1, 1) AND date < $3
                   AND average_dep_delay IS NOT NULL
                 ORDER BY date",
                ),
                None,
                &[origin.into(), year.into(), day.into()],
            )?
            .map(|row| row.get::<f64>(1).map(|v| v.unwrap_or(f64::NAN)))
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| error::spi("reading airport_daily_summary", e));
    let fit = FittedArima::from_params(model.order, model.params, &history).ok()?;
    let next = fit.forecast(1);
    let (lo, hi) = next
        .interval(model.level)
        .unwrap_or_else(|e| error::arima(&format!("the stored model of {origin} {year}"), &e));
    Some((
        next.mean[0],
        lo[0].max(model.lower_clip),
        hi[0].min(model.upper_clip),
        next.variance[0].sqrt(),
    ))
}
