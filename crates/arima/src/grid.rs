//! Order selection as the replaced system did it: for every order of a
//! grid, train on the first 66 % of the series, then walk forward through
//! the rest, refitting on all history and forecasting one step each time;
//! the order with the lowest mean squared error wins.
//!
//! Each refit starts from the previous step's estimate (the optimum moves
//! little when one point is added), and orders run in parallel; the result
//! is collected in grid order, so it is deterministic.

use rayon::prelude::*;

use crate::{Arima, ArimaError, Cancel, Order};

/// The orders to try and the training share.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Grid {
    /// AR orders.
    pub p: Vec<usize>,
    /// Differencing orders.
    pub d: Vec<usize>,
    /// MA orders.
    pub q: Vec<usize>,
    /// Share of the series used for the first fit.
    pub train_fraction: f64,
}

impl Default for Grid {
    /// The replaced system's grid: p ∈ {0,1,2,4,5,6,8,10}, d ∈ {0,1,2}, q ∈ {0,1,2}, 66 % training.
    fn default() -> Self {
        Grid {
            p: vec![0, 1, 2, 4, 5, 6, 8, 10],
            d: vec![0, 1, 2],
            q: vec![0, 1, 2],
            train_fraction: 0.66,
        }
    }
}

impl Grid {
    /// The orders in loop order (p outermost, q innermost).
    pub fn orders(&self) -> Vec<Order> {
        let mut v = Vec::with_capacity(self.p.len() * self.d.len() * self.q.len());
        for &p in &self.p {
            for &d in &self.d {
                for &q in &self.q {
                    v.push(Order::new(p, d, q));
                }
            }
        }
        v
    }
}

/// One row of the search: an order and its walk-forward MSE, or why it failed.
#[derive(Debug, Clone)]
pub struct GridRow {
    /// The order tried.
    pub order: Order,
    /// Its MSE, or the error that made it fail.
    pub mse: Result<f64, ArimaError>,
}

/// All rows and the winner.
#[derive(Debug, Clone)]
pub struct GridResult {
    /// Every order, in grid order.
    pub table: Vec<GridRow>,
    /// The order with the lowest MSE (the first on ties).
    pub best: Order,
    /// Its MSE.
    pub best_mse: f64,
}

/// Walk-forward one-step predictions of `order` over the test part.
pub fn walk_forward(y: &[f64], order: Order, train_fraction: f64) -> Result<Vec<f64>, ArimaError> {
    walk_forward_until(y, order, train_fraction, Cancel::never())
}

fn walk_forward_until(y: &[f64], order: Order, train_fraction: f64, cancel: &Cancel) -> Result<Vec<f64>, ArimaError> {
    let train = (y.len() as f64 * train_fraction) as usize;
    let spec = Arima::new(order).statsmodels_stopping();
    let (mut warm, mut tape) = (None, crate::score::Tape::default());
    let mut preds = Vec::with_capacity(y.len().saturating_sub(train));
    for t in train..y.len() {
        cancel.check()?;
        let (next, state) = spec.forecast_step(&y[..t], warm.as_ref(), &mut tape, cancel)?;
        preds.push(next);
        warm = Some(state);
    }
    Ok(preds)
}

/// Mean squared error of [`walk_forward`].
pub fn walk_forward_mse(y: &[f64], order: Order, train_fraction: f64) -> Result<f64, ArimaError> {
    walk_forward_mse_until(y, order, train_fraction, Cancel::never())
}

fn walk_forward_mse_until(y: &[f64], order: Order, train_fraction: f64, cancel: &Cancel) -> Result<f64, ArimaError> {
    let preds = walk_forward_until(y, order, train_fraction, cancel)?;
    let test = &y[y.len() - preds.len()..];
    let mse = test.iter().zip(&preds).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / preds.len() as f64;
    if mse.is_finite() {
        Ok(mse)
    } else {
        Err(ArimaError::ForecastNotFinite { order })
    }
}

/// Tries every order of `grid` on `y`; orders that fail are kept in the
/// table with their error and skipped.
pub fn grid_search(y: &[f64], grid: &Grid) -> Result<GridResult, ArimaError> {
    grid_search_until(y, grid, Cancel::never())
}

/// [`grid_search`] that stops early, with [`ArimaError::Cancelled`], once `cancel` is raised.
pub fn grid_search_until(y: &[f64], grid: &Grid, cancel: &Cancel) -> Result<GridResult, ArimaError> {
    let table: Vec<GridRow> = grid
        .orders()
        .into_par_iter()
        .map(|order| GridRow {
            order,
            mse: walk_forward_mse_until(y, order, grid.train_fraction, cancel),
        })
        .collect();
    cancel.check()?;
    let mut best: Option<(Order, f64)> = None;
    for row in &table {
        if let Ok(mse) = row.mse {
            if best.is_none_or(|(_, b)| mse < b) {
                best = Some((row.order, mse));
            }
        }
    }
    let (best, best_mse) = best.ok_or(ArimaError::NoOrderFits)?;
    Ok(GridResult { table, best, best_mse })
}
