//! The state-space form statsmodels' SARIMAX gives an ARIMA(p, d, q) with
//! `simple_differencing=False`: the d differencing states first, then the
//! ARMA block in Harvey's companion form.
//!
//! ```text
//! state  x_t = [Δ^0 y_{t-1}, …, Δ^{d-1} y_{t-1}, u_t, …]     (m = d + max(p, q+1))
//! y_t    = c + Z x_t,           Z = [1, …, 1 (d+1 ones), 0, …]
//! x_{t+1} = T x_t + R e_t,      R = [0 (d), 1, ma_1, …, ma_q, 0, …]
//! ```
//! Initialisation: differencing states approximate-diffuse (variance 1e6),
//! the ARMA block from its unconditional covariance.

use ndarray::{Array1, Array2};

use crate::linalg;
use crate::params::Params;
use crate::Order;

/// statsmodels' `initial_variance` for approximate-diffuse states.
pub(crate) const DIFFUSE_VARIANCE: f64 = 1e6;

/// A time-invariant univariate state-space model, T kept sparse.
#[derive(Debug, Clone)]
pub(crate) struct StateSpace {
    /// State dimension.
    pub m: usize,
    /// Differencing order: Z has d + 1 leading ones, and the first d
    /// periods are burned from the likelihood.
    pub d: usize,
    /// Observation intercept (the constant when d = 0).
    pub intercept: f64,
    /// Non-zero entries of T as (row, col, value).
    pub trans: Vec<(usize, usize, f64)>,
    /// R Q R' (row-major m × m).
    pub rqr: Vec<f64>,
    /// Initial state covariance P_0 (row-major m × m); the initial state mean is 0.
    pub p0: Vec<f64>,
}

impl StateSpace {
    /// Builds the model; `None` when the ARMA block's unconditional
    /// covariance cannot be solved for (a unit root).
    pub fn new(order: &Order, params: &Params) -> Option<StateSpace> {
        let (d, r) = (order.d, order.k_order());
        let m = d + r;
        let mut trans = Vec::with_capacity(d * (d + 3) / 2 + order.p + r);
        for i in 0..d {
            for j in i..=d {
                trans.push((i, j, 1.0));
            }
        }
        for (i, &phi) in params.ar.iter().enumerate() {
            if phi != 0.0 {
                trans.push((d + i, d, phi));
            }
        }
        for i in 0..r - 1 {
            trans.push((d + i, d + i + 1, 1.0));
        }
        let mut rvec = vec![0.0; r];
        rvec[0] = 1.0;
        rvec[1..=order.q].copy_from_slice(&params.ma);
        let mut rqr = vec![0.0; m * m];
        for i in 0..r {
            for j in 0..r {
                rqr[(d + i) * m + d + j] = rvec[i] * rvec[j] * params.sigma2;
            }
        }
        let stationary = arma_unconditional_cov(&params.ar, &rvec, params.sigma2)?;
        let mut p0 = vec![0.0; m * m];
        for i in 0..d {
            p0[i * m + i] = DIFFUSE_VARIANCE;
        }
        for i in 0..r {
            for j in 0..r {
                p0[(d + i) * m + d + j] = stationary[[i, j]];
            }
        }
        Some(StateSpace {
            m,
            d,
            intercept: params.constant.unwrap_or(0.0),
            trans,
            rqr,
            p0,
        })
    }

    /// `a_next = T a`.
    #[inline]
    pub fn transition(&self, a: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for &(i, j, v) in &self.trans {
            out[i] += v * a[j];
        }
    }

    /// `out = T' a`.
    #[inline]
    pub fn transition_transpose(&self, a: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for &(i, j, v) in &self.trans {
            out[j] += v * a[i];
        }
    }

    /// `out = T' p T` for a symmetric `p`; `tmp` is scratch.
    #[inline]
    pub fn transpose_sandwich(&self, p: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        let m = self.m;
        out.fill(0.0);
        for &(i, j, v) in &self.trans {
            axpy(v, &p[i * m..(i + 1) * m], &mut out[j * m..(j + 1) * m]);
        }
        // tmp = (T' p)' = p T
        for i in 0..m {
            for k in 0..m {
                tmp[k * m + i] = out[i * m + k];
            }
        }
        out.fill(0.0);
        for &(i, j, v) in &self.trans {
            axpy(v, &tmp[i * m..(i + 1) * m], &mut out[j * m..(j + 1) * m]);
        }
    }

    /// `out = T p T' + R Q R'` for a symmetric `p`; `tmp` is scratch.
    #[inline]
    pub fn transition_cov(&self, p: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        self.sandwich(p, &self.rqr, tmp, out);
    }

    /// `out = T p T' + add` for a symmetric `p`; `tmp` is scratch.
    ///
    /// Uses `T p T' = T (T p)'` (p symmetric), so both products are
    /// row-by-row axpys over contiguous memory.
    #[inline]
    pub fn sandwich(&self, p: &[f64], add: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        let m = self.m;
        out.fill(0.0);
        for &(i, j, v) in &self.trans {
            axpy(v, &p[j * m..(j + 1) * m], &mut out[i * m..(i + 1) * m]);
        }
        // tmp = (T p)' = p T'
        for i in 0..m {
            for k in 0..m {
                tmp[k * m + i] = out[i * m + k];
            }
        }
        out.copy_from_slice(add);
        for &(i, j, v) in &self.trans {
            axpy(v, &tmp[j * m..(j + 1) * m], &mut out[i * m..(i + 1) * m]);
        }
    }
}

#[inline(always)]
fn axpy(v: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += v * xi;
    }
}

/// Unconditional covariance of the ARMA block: the solution of the
/// discrete Lyapunov equation `P = A P A' + σ² R R'` for the companion
/// matrix A (`A[i][0] = ar_{i+1}`, `A[i][i+1] = 1`).
///
/// Written out, the equation gives every entry from its lower-right
/// neighbour and the first row u:
/// `P[i][k] = a_i a_k u_0 + a_i u_{k+1} + a_k u_{i+1} + P[i+1][k+1] + σ² R_i R_k`,
/// so each P[i][k] is an affine function of u, built bottom-up in O(r³);
/// the first row's own equations then fix u with one r × r solve (a dense
/// Kronecker solve would be O(r⁶)).
fn arma_unconditional_cov(ar: &[f64], rvec: &[f64], sigma2: f64) -> Option<Array2<f64>> {
    let r = rvec.len();
    let q: Vec<f64> = (0..r * r).map(|ik| sigma2 * rvec[ik / r] * rvec[ik % r]).collect();
    lyapunov(ar, r, &q)
}

/// Solves `P = A P A' + Q` for the r × r companion matrix A of `ar` and a
/// symmetric Q (row-major); see [`arma_unconditional_cov`] for the method.
/// The score uses it with the derivative of Q to differentiate P_0.
pub(crate) fn lyapunov(ar: &[f64], r: usize, q: &[f64]) -> Option<Array2<f64>> {
    let a = |i: usize| ar.get(i).copied().unwrap_or(0.0);
    // coef[i][k]: coefficients on u_0..u_{r-1}, then the constant term.
    let w = r + 1;
    let mut coef = vec![0.0; (r + 1) * (r + 1) * w];
    let at = |i: usize, k: usize| (i * (r + 1) + k) * w;
    for i in (1..r).rev() {
        for k in (i..r).rev() {
            let base = at(i, k);
            let below = at(i + 1, k + 1); // zero when i + 1 == r
            for j in 0..w {
                coef[base + j] = coef[below + j];
            }
            coef[base] += a(i) * a(k);
            if k + 1 < r {
                coef[base + k + 1] += a(i);
            }
            if i + 1 < r {
                coef[base + i + 1] += a(k);
            }
            coef[base + r] += q[i * r + k];
        }
    }
    // Row 0: u_k = a_0 a_k u_0 + a_0 u_{k+1} + a_k u_1 + P[1][k+1] + σ² R_0 R_k.
    let mut lhs = Array2::<f64>::eye(r);
    let mut rhs = Array1::<f64>::zeros(r);
    for k in 0..r {
        let below = at(1, k + 1);
        for j in 0..r {
            lhs[[k, j]] -= coef[below + j];
        }
        rhs[k] = coef[below + r] + q[k];
        lhs[[k, 0]] -= a(0) * a(k);
        if k + 1 < r {
            lhs[[k, k + 1]] -= a(0);
        }
        if r > 1 {
            lhs[[k, 1]] -= a(k);
        }
    }
    let u = linalg::solve(lhs, rhs)?;
    let mut p = Array2::zeros((r, r));
    for k in 0..r {
        p[[0, k]] = u[k];
        p[[k, 0]] = u[k];
    }
    for i in 1..r {
        for k in i..r {
            let c = &coef[at(i, k)..at(i, k) + w];
            let v = c[..r].iter().zip(u.iter()).map(|(x, y)| x * y).sum::<f64>() + c[r];
            p[[i, k]] = v;
            p[[k, i]] = v;
        }
    }
    p.iter().all(|v| v.is_finite()).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar1_unconditional_variance() {
        let p = arma_unconditional_cov(&[0.5], &[1.0], 2.0).unwrap();
        assert!((p[[0, 0]] - 2.0 / 0.75).abs() < 1e-12);
    }

    #[test]
    fn lyapunov_fixed_point() {
        let cases: [(&[f64], &[f64]); 4] = [
            (&[0.5, -0.3, 0.1], &[1.0, 0.4, 0.0]),
            (&[0.6], &[1.0, -0.3, 0.2, 0.1]),
            (&[], &[1.0, 0.5, -0.4]),
            (
                &[0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.0, 0.1],
                &[1.0, 0.3, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            ),
        ];
        for (ar, rvec) in cases {
            let r = rvec.len();
            let p = arma_unconditional_cov(ar, rvec, 1.5).unwrap();
            // Check P = A P A' + σ² R R' densely.
            let mut a = Array2::<f64>::zeros((r, r));
            for i in 0..r {
                a[[i, 0]] = ar.get(i).copied().unwrap_or(0.0);
                if i + 1 < r {
                    a[[i, i + 1]] = 1.0;
                }
            }
            let rm = Array2::from_shape_fn((r, 1), |(i, _)| rvec[i]);
            let rhs = a.dot(&p).dot(&a.t()) + rm.dot(&rm.t()) * 1.5;
            for (x, y) in p.iter().zip(rhs.iter()) {
                assert!((x - y).abs() < 1e-12, "{ar:?} {rvec:?}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn unit_root_has_no_stationary_covariance() {
        assert!(arma_unconditional_cov(&[1.0], &[1.0], 1.0).is_none());
    }
}
