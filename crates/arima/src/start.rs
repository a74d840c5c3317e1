//! Starting values for the likelihood search, computed as statsmodels'
//! `SARIMAX.start_params` does for an ARIMA: the constant by OLS, then
//! conditional sum of squares (a long AR for residuals, then OLS of the
//! series on its lags and lagged residuals), zeroed when not stationary or
//! not invertible.

use ndarray::{Array1, Array2};

use crate::linalg::lstsq_min_norm;
use crate::params::{is_invertible, is_stationary, Params};
use crate::Order;

/// `y` differenced d times.
pub(crate) fn difference(y: &[f64], d: usize) -> Vec<f64> {
    let mut x = y.to_vec();
    for _ in 0..d {
        x = x.windows(2).map(|w| w[1] - w[0]).collect();
    }
    x
}

/// statsmodels' start parameters for `order` on `y`.
pub(crate) fn start_params(order: &Order, y: &[f64]) -> Params {
    let mut endog = difference(y, order.d);
    let mut constant = None;
    if order.has_constant() {
        // OLS on a column of ones: the mean.
        let mean = endog.iter().sum::<f64>() / endog.len() as f64;
        endog.iter_mut().for_each(|v| *v -= mean);
        constant = Some(mean);
    }
    let (mut ar, mut ma, variance) = conditional_sum_squares(&endog, order.p, order.q);
    let variance = variance.unwrap_or_else(|| {
        // No ARMA terms: statsmodels uses the raw second moment (not divided by n
        // when the constant is a regressor, an upstream quirk kept on purpose).
        let ss: f64 = endog.iter().map(|v| v * v).sum();
        if order.has_constant() {
            ss
        } else {
            ss / y.len() as f64
        }
    });
    if !is_stationary(&ar) {
        ar.iter_mut().for_each(|v| *v = 0.0);
    }
    if !is_invertible(&ma) {
        ma.iter_mut().for_each(|v| *v = 0.0);
    }
    Params {
        constant,
        ar,
        ma,
        sigma2: variance.max(1e-10),
    }
}

/// `lagmat(x, lags)[rows]`: row t holds x[t-1], …, x[t-lags] (0 before the start).
fn lagged(x: &[f64], lags: usize, rows: std::ops::Range<usize>) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), lags), |(i, j)| {
        let t = rows.start + i;
        if t > j {
            x[t - j - 1]
        } else {
            0.0
        }
    })
}

/// AR and MA estimates and the residual variance; the variance is `None`
/// when there are no ARMA terms.
fn conditional_sum_squares(endog: &[f64], p: usize, q: usize) -> (Vec<f64>, Vec<f64>, Option<f64>) {
    if p + q == 0 {
        return (vec![], vec![], None);
    }
    let n = endog.len();
    let k = 2 * q;
    let r = (k + q).max(p);
    let residuals = match css_regression(endog, p, q, k, r) {
        Some((params, residuals)) => {
            let variance = css_variance(residuals.as_slice().expect("contiguous"), endog, q);
            let params = params.to_vec();
            return (params[..p].to_vec(), params[p..].to_vec(), Some(variance));
        }
        // Too few observations for the lag matrices (statsmodels' ValueError).
        None if n == 0 => vec![1.0; 2 * q + 1],
        None => {
            let mean = endog.iter().sum::<f64>() / n as f64;
            let mut r = vec![0.0; 2 * q];
            r.extend(endog.iter().map(|v| v - mean));
            r
        }
    };
    let variance = css_variance(&residuals, endog, q);
    (vec![0.0; p], vec![0.0; q], Some(variance))
}

fn css_variance(residuals: &[f64], endog: &[f64], q: usize) -> f64 {
    if residuals.len() > q.max(1) {
        let tail = &residuals[q..];
        tail.iter().map(|v| v * v).sum::<f64>() / tail.len() as f64
    } else {
        let n = endog.len() as f64;
        let mean = endog.iter().sum::<f64>() / n;
        endog.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
    }
}

/// The two OLS steps; `None` where statsmodels' `lagmat` would refuse
/// (a lag count not below the number of observations).
fn css_regression(endog: &[f64], p: usize, q: usize, k: usize, r: usize) -> Option<(Array1<f64>, Array1<f64>)> {
    let n = endog.len();
    let mut long_ar_residuals = Vec::new();
    if q > 0 {
        if k >= n {
            return None;
        }
        let x = lagged(endog, k, k..n);
        let y = Array1::from(endog[k..].to_vec());
        let b = lstsq_min_norm(x.view(), y.view());
        long_ar_residuals = (&y - &x.dot(&b)).to_vec();
    }
    if (p > 0 && p >= n) || (q > 0 && q >= long_ar_residuals.len()) {
        return None;
    }
    let rows = r.min(n)..n;
    let mut x = Array2::zeros((rows.len(), p + q));
    if p > 0 {
        x.slice_mut(ndarray::s![.., ..p])
            .assign(&lagged(endog, p, rows.clone()));
    }
    if q > 0 {
        let shifted = rows.start - k..rows.end - k;
        x.slice_mut(ndarray::s![.., p..])
            .assign(&lagged(&long_ar_residuals, q, shifted));
    }
    let y = Array1::from(endog[rows].to_vec());
    let b = lstsq_min_norm(x.view(), y.view());
    let residuals = &y - &x.dot(&b);
    Some((b, residuals))
}
