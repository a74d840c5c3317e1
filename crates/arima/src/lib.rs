//! Exact-likelihood ARIMA(p, d, q) that reproduces statsmodels'
//! `ARIMA(y, order).fit()`, plus the anomaly rule and the walk-forward
//! grid search of the airline-delay system it replaces.
//!
//! The model is statsmodels' state-space form (d differencing states, then
//! the ARMA block), initialised approximate-diffuse / stationary, filtered
//! by a Kalman filter and maximised in statsmodels' transformed parameter
//! space from statsmodels' start parameters. Nothing here knows about
//! Postgres: the extension and the loader both call this crate.
//!
//! ```
//! use arima::{Arima, Order};
//! let y: Vec<f64> = (0..120).map(|t| ((t * 37 % 11) as f64) + 0.1 * t as f64).collect();
//! let fit = Arima::new(Order::new(1, 1, 1)).fit(&y).unwrap();
//! let next = fit.forecast(3);
//! let (lower, upper) = next.interval(0.8).unwrap();
//! assert!(lower[0] < next.mean[0] && next.mean[0] < upper[0]);
//! ```
#![warn(missing_docs)]

mod anomaly;
mod augurs;
mod cancel;
mod chandrasekhar;
mod error;
mod fit;
mod grid;
mod kalman;
mod linalg;
mod optim;
mod order;
mod params;
mod score;
mod ssm;
mod start;
mod stats;

pub use anomaly::{clip_levels, detect, detect_many, detect_until, flag, DetectOptions, Detection, MIN_POINTS};
pub use cancel::Cancel;
pub use error::ArimaError;
pub use fit::{check_level, Arima, FittedArima, Prediction};
pub use grid::{grid_search, grid_search_until, walk_forward, walk_forward_mse, Grid, GridResult, GridRow};
pub use order::Order;
pub use params::{is_invertible, is_stationary, Params};
pub use stats::{normal_quantile, percentile};

/// Internals exposed for the test suite and the benchmarks only; not a
/// stable interface.
#[doc(hidden)]
pub mod internals {
    use crate::{kalman, score, ssm::StateSpace, start, Order, Params};

    /// statsmodels' start parameters.
    pub fn start_params(order: &Order, y: &[f64]) -> Params {
        start::start_params(order, y)
    }

    /// Log-likelihood at `params` from the structured filter.
    pub fn loglike(order: &Order, params: &Params, y: &[f64]) -> f64 {
        StateSpace::new(order, params).map_or(f64::NEG_INFINITY, |ss| kalman::loglike(&ss, y))
    }

    /// Log-likelihood at `params` from the likelihood search's pass (the
    /// Chandrasekhar recursions, recorded for the gradient).
    pub fn search_loglike(order: &Order, params: &Params, y: &[f64]) -> f64 {
        score::record(order, params, y, &mut score::Tape::default()).unwrap_or(f64::NEG_INFINITY)
    }

    /// The gradient of the log-likelihood at `params` (constrained
    /// parameters, [`Params::to_vec`] order), by the adjoint of the search's pass.
    pub fn loglike_gradient(order: &Order, params: &Params, y: &[f64]) -> Option<Vec<f64>> {
        let mut tape = score::Tape::default();
        score::record(order, params, y, &mut tape)?;
        score::gradient(&tape)
    }

    /// Log-likelihood at `params` from the plain dense ndarray filter.
    pub fn dense_loglike(order: &Order, params: &Params, y: &[f64]) -> f64 {
        StateSpace::new(order, params).map_or(f64::NEG_INFINITY, |ss| kalman::dense_loglike(&ss, y))
    }
}
