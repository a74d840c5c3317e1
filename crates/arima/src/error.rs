//! The one error type of the crate: every way a fit can fail, named.

use crate::Order;

/// Why a series could not be modelled. Each variant names the problem so a
/// caller (the extension, the loader) can record it as a skip reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArimaError {
    /// The series has no points.
    #[error("empty series")]
    Empty,
    /// A value is NaN or infinite.
    #[error("non-finite value {value} at index {index}")]
    NonFinite {
        /// Position of the first bad value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// Too few points for the anomaly rule (it needs more than two days).
    #[error("series has {n} points; at least {min} are needed")]
    TooShort {
        /// Points given.
        n: usize,
        /// Points needed.
        min: usize,
    },
    /// Every value is the same, so there is no variance to model.
    #[error("constant series (every value is {value})")]
    Constant {
        /// The repeated value.
        value: f64,
    },
    /// The order asks for more than the series can identify.
    #[error("order {order} cannot be estimated from {n} points")]
    OrderTooLarge {
        /// The order asked for.
        order: Order,
        /// Points given.
        n: usize,
    },
    /// The order is outside what the core supports.
    #[error("unsupported order {order}: {why}")]
    UnsupportedOrder {
        /// The order asked for.
        order: Order,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Parameters not laid out for their order (e.g. a stored model edited
    /// by hand): a constant where d > 0 or none where d = 0, or other than
    /// p AR or q MA coefficients.
    #[error("the parameters do not fit order {order}: {why}")]
    ParamsMismatch {
        /// The order.
        order: Order,
        /// What does not fit.
        why: String,
    },
    /// A prediction level outside (0, 1).
    #[error("level {0} is not in (0, 1)")]
    InvalidLevel(f64),
    /// statsmodels' start parameters for the order cannot be mapped to the
    /// optimiser's space (not finite, or outside stationarity/invertibility).
    #[error("no usable start parameters for order {order}")]
    UnusableStart {
        /// The order being fitted.
        order: Order,
    },
    /// The log-likelihood is not finite where the search needs it.
    #[error("the log-likelihood of order {order} is not finite at the {at}")]
    LikelihoodNotFinite {
        /// The order being fitted.
        order: Order,
        /// Where: "start parameters", "optimum" or "given parameters".
        at: &'static str,
    },
    /// The parameters give no stationary state-space form: the ARMA
    /// block's unconditional covariance cannot be solved for.
    #[error("the parameters of order {order} are not stationary")]
    NotStationary {
        /// The order.
        order: Order,
    },
    /// The Kalman filter broke down: a prediction variance was not positive.
    #[error("the Kalman filter broke down for order {order} (a prediction variance is not positive)")]
    FilterBreakdown {
        /// The order.
        order: Order,
    },
    /// The walk-forward forecasts of a grid order are not finite.
    #[error("the walk-forward forecasts of order {order} are not finite")]
    ForecastNotFinite {
        /// The order.
        order: Order,
    },
    /// No order of a grid search could be estimated.
    #[error("grid search found no order that could be estimated")]
    NoOrderFits,
    /// The work was stopped through a [`crate::Cancel`] flag.
    #[error("cancelled")]
    Cancelled,
}
