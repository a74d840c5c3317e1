//! SQL arguments → the core's detection options.

use arima::{DetectOptions, Grid, Order};
use pgrx::prelude::*;

/// The options every detecting function takes: order (default 5,1,1),
/// interval level (default 0.8) and whether to grid-search the order;
/// a bad level or order is an ERROR before any work starts.
pub(crate) fn detect_options(p: i32, d: i32, q: i32, level: f64, grid_search: bool) -> DetectOptions {
    check_level(level);
    DetectOptions {
        order: order(p, d, q),
        level,
        grid: grid_search.then(Grid::default),
    }
}

pub(crate) fn order(p: i32, d: i32, q: i32) -> Order {
    let n = |name: &str, v: i32| -> usize {
        usize::try_from(v).unwrap_or_else(|_| error!("{name} must be 0 or more, got {v}"))
    };
    let order = Order::new(n("p", p), n("d", d), n("q", q));
    if let Err(e) = order.validate() {
        error!("{e}");
    }
    order
}

/// Refuses a level outside (0, 1) before any work starts.
pub(crate) fn check_level(level: f64) {
    if !(level > 0.0 && level < 1.0) {
        error!("level must be between 0 and 1 (exclusive), got {level}");
    }
}
