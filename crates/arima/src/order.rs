//! ARIMA orders and the order grid of the replaced system.

use std::fmt;

use crate::ArimaError;

/// Largest AR order the core accepts.
pub(crate) const MAX_P: usize = 20;
/// Largest differencing order the core accepts.
pub(crate) const MAX_D: usize = 2;
/// Largest MA order the core accepts.
pub(crate) const MAX_Q: usize = 10;

/// An ARIMA(p, d, q) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Order {
    /// Autoregressive lags.
    pub p: usize,
    /// Differences.
    pub d: usize,
    /// Moving-average lags.
    pub q: usize,
}

impl Order {
    /// The order the replaced system used for every airport: ARIMA(5, 1, 1).
    pub const DEFAULT: Order = Order { p: 5, d: 1, q: 1 };

    /// A new order.
    pub const fn new(p: usize, d: usize, q: usize) -> Self {
        Order { p, d, q }
    }

    /// statsmodels' trend default: a constant when d = 0, none otherwise.
    pub fn has_constant(&self) -> bool {
        self.d == 0
    }

    /// Number of estimated parameters: constant, AR, MA and sigma².
    pub fn n_params(&self) -> usize {
        usize::from(self.has_constant()) + self.p + self.q + 1
    }

    /// Size of the ARMA block of the state vector, max(p, q + 1).
    pub(crate) fn k_order(&self) -> usize {
        self.p.max(self.q + 1)
    }

    /// Checks the order is within what the core supports.
    pub fn validate(&self) -> Result<(), ArimaError> {
        let why = if self.p > MAX_P {
            "p above 20"
        } else if self.d > MAX_D {
            "d above 2"
        } else if self.q > MAX_Q {
            "q above 10"
        } else {
            return Ok(());
        };
        Err(ArimaError::UnsupportedOrder { order: *self, why })
    }
}

impl Default for Order {
    fn default() -> Self {
        Order::DEFAULT
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{},{})", self.p, self.d, self.q)
    }
}

impl std::str::FromStr for Order {
    type Err = String;

    /// Parses "p,d,q" (parentheses and spaces allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<_> = s
            .trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
            .split(',')
            .map(|x| x.trim().parse::<usize>())
            .collect();
        match parts.as_slice() {
            [Ok(p), Ok(d), Ok(q)] => Ok(Order::new(*p, *d, *q)),
            _ => Err(format!("order must be p,d,q with whole numbers, got {s:?}")),
        }
    }
}
