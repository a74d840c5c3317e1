//! SQL arguments → the core's inputs. Each is checked before any work or
//! allocation, against the documented limits (README, "Limits"), so no
//! call can run for minutes or allocate without bound.

use arima::{DetectOptions, Grid, Order};
use pgrx::datum::Array;

use crate::error::{self, raise, INVALID_PARAMETER, LIMIT_EXCEEDED, NULL_VALUE};

/// Most values a series argument (`arima_fit`, `arima_detect`) may hold:
/// 270 years of days. A fit of (10,2,2) on this many values still stops
/// within 100 ms of a cancel (tests/database.sh).
pub(crate) const MAX_SERIES: usize = 100_000;
/// Most steps `arima_forecast` computes.
pub(crate) const MAX_HORIZON: i32 = 100_000;

/// The options every detecting function takes: order (default 5,1,1),
/// interval level (default 0.8) and whether to grid-search the order.
pub(crate) fn detect_options(p: i32, d: i32, q: i32, level: f64, grid_search: bool) -> DetectOptions {
    check_level(level);
    DetectOptions {
        order: order(p, d, q),
        level,
        grid: grid_search.then(Grid::default),
    }
}

/// An order within the core's limits (p ≤ 20, d ≤ 2, q ≤ 10).
pub(crate) fn order(p: i32, d: i32, q: i32) -> Order {
    let n = |name: &str, v: i32| -> usize {
        usize::try_from(v)
            .unwrap_or_else(|_| raise(INVALID_PARAMETER, format!("{name} must be 0 or more, got {v}"), None))
    };
    let order = Order::new(n("p", p), n("d", d), n("q", q));
    if let Err(e) = order.validate() {
        error::arima("order", &e);
    }
    order
}

/// Refuses a level outside (0, 1).
pub(crate) fn check_level(level: f64) {
    if arima::check_level(level).is_err() {
        raise(
            INVALID_PARAMETER,
            format!("level must be between 0 and 1 (exclusive), got {level}"),
            Some("0.8 gives an 80 % band, 0.95 the band the replaced system stored."),
        );
    }
}

/// A series argument as values: at most [`MAX_SERIES`] (checked before
/// anything is copied), no NULL.
pub(crate) fn series(values: &Array<'_, f64>) -> Vec<f64> {
    check_series_len(values.len());
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.unwrap_or_else(|| {
                raise(
                    NULL_VALUE,
                    format!("series[{}] is NULL", i + 1),
                    Some("Remove or fill missing values first, e.g. with coalesce()."),
                )
            })
        })
        .collect()
}

/// Refuses a series longer than [`MAX_SERIES`].
pub(crate) fn check_series_len(n: usize) {
    if n > MAX_SERIES {
        raise(
            LIMIT_EXCEEDED,
            format!("series has {n} values; at most {MAX_SERIES} are allowed"),
            Some("Aggregate the series to a coarser step, or model a shorter window."),
        );
    }
}

/// A forecast horizon within 0..=[`MAX_HORIZON`].
pub(crate) fn horizon(h: i32) -> usize {
    if h < 0 {
        raise(INVALID_PARAMETER, format!("horizon must be 0 or more, got {h}"), None);
    }
    if h > MAX_HORIZON {
        raise(
            LIMIT_EXCEEDED,
            format!("horizon {h} is above the limit of {MAX_HORIZON} steps"),
            Some("Forecasts that far out are no better than the series mean; ask for fewer steps."),
        );
    }
    h as usize
}
