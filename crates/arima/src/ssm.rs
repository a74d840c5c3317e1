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

/// A time-invariant univariate state-space model. T is never stored: its
/// structure is fixed by (d, φ), and the kernels below apply it directly.
///
/// ```text
/// (T x)_i     = x_i + … + x_d          for i < d   (differencing rows)
/// (T x)_{d+k} = φ_k x_d + x_{d+k+1}    (ARMA rows; x_m = 0)
/// ```
#[derive(Debug, Clone)]
pub(crate) struct StateSpace {
    /// State dimension.
    pub m: usize,
    /// Differencing order: Z has d + 1 leading ones, and the first d
    /// periods are burned from the likelihood.
    pub d: usize,
    /// Observation intercept (the constant when d = 0).
    pub intercept: f64,
    /// AR coefficients padded with zeros to the ARMA block's size r = m − d.
    pub phi: Vec<f64>,
    /// R Q R' (row-major m × m).
    pub rqr: Vec<f64>,
    /// Initial state covariance P_0 (row-major m × m); the initial state mean is 0.
    pub p0: Vec<f64>,
}

impl StateSpace {
    /// Builds the model; `None` when the ARMA block's unconditional
    /// covariance cannot be solved for (a unit root).
    pub(crate) fn new(order: &Order, params: &Params) -> Option<StateSpace> {
        let (d, r) = (order.d, order.k_order());
        let m = d + r;
        let mut phi = vec![0.0; r];
        phi[..order.p].copy_from_slice(&params.ar);
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
            phi,
            rqr,
            p0,
        })
    }

    /// T as a dense matrix, for the plain reference filter.
    pub(crate) fn t_matrix(&self) -> Array2<f64> {
        let (m, d) = (self.m, self.d);
        Array2::from_shape_fn((m, m), |(i, j)| {
            if i < d {
                if j >= i && j <= d {
                    1.0
                } else {
                    0.0
                }
            } else {
                let k = i - d;
                (if j == d { self.phi[k] } else { 0.0 }) + if j == i + 1 { 1.0 } else { 0.0 }
            }
        })
    }

    /// `out = T a`.
    #[inline]
    pub(crate) fn transition(&self, a: &[f64], out: &mut [f64]) {
        self.transition_rows(a.as_chunks::<1>().0, out.as_chunks_mut::<1>().0);
    }

    /// `out = T' a`.
    #[inline]
    pub(crate) fn transition_transpose(&self, a: &[f64], out: &mut [f64]) {
        self.transition_transpose_rows(a.as_chunks::<1>().0, out.as_chunks_mut::<1>().0);
    }

    /// `out = T x` for an m × K matrix x held as rows.
    #[inline]
    pub(crate) fn transition_rows<const K: usize>(&self, x: &[[f64; K]], out: &mut [[f64; K]]) {
        let (m, d) = (self.m, self.d);
        for i in 0..d {
            let mut sum = x[i];
            for row in &x[i + 1..=d] {
                for c in 0..K {
                    sum[c] += row[c];
                }
            }
            out[i] = sum;
        }
        // ARMA rows: φ_k x_d + x_{d+k+1}, the last without a successor
        let xd = x[d];
        for ((o, &phi), next) in out[d..m - 1].iter_mut().zip(&self.phi).zip(&x[d + 1..m]) {
            for c in 0..K {
                o[c] = phi * xd[c] + next[c];
            }
        }
        let phi = self.phi[m - d - 1];
        out[m - 1] = std::array::from_fn(|c| phi * xd[c]);
    }

    /// `out = T' x` for an m × K matrix x held as rows.
    #[inline]
    pub(crate) fn transition_transpose_rows<const K: usize>(&self, x: &[[f64; K]], out: &mut [[f64; K]]) {
        let (m, d) = (self.m, self.d);
        let mut run = [0.0; K];
        for j in 0..d {
            for c in 0..K {
                run[c] += x[j][c];
            }
            out[j] = run;
        }
        for (row, &phi) in x[d..].iter().zip(&self.phi) {
            for c in 0..K {
                run[c] += phi * row[c];
            }
        }
        out[d] = run;
        out[d + 1..m].copy_from_slice(&x[d..m - 1]);
    }

    /// `out = T p T' + R Q R'` for a symmetric `p`, the covariance
    /// prediction; `row` (length m) is scratch.
    ///
    /// Row i of T p is a combination of at most d + 1 rows of p, and
    /// (T p T')[i][k] is T's row k applied to it, so the upper triangle
    /// costs about 1.5 m² multiply-adds; the lower one is mirrored.
    #[inline]
    pub(crate) fn transition_cov(&self, p: &[f64], row: &mut [f64], out: &mut [f64]) {
        let (m, d, add) = (self.m, self.d, &self.rqr);
        for i in 0..m {
            // row = (T p)[i]
            if i < d {
                row.copy_from_slice(&p[i * m..(i + 1) * m]);
                for j in i + 1..=d {
                    axpy(1.0, &p[j * m..(j + 1) * m], row);
                }
            } else if i + 1 < m {
                let phi = self.phi[i - d];
                let (pd, pn) = (&p[d * m..(d + 1) * m], &p[(i + 1) * m..(i + 2) * m]);
                for ((r, x), y) in row.iter_mut().zip(pd).zip(pn) {
                    *r = phi * x + y;
                }
            } else {
                let phi = self.phi[i - d];
                for (r, x) in row.iter_mut().zip(&p[d * m..(d + 1) * m]) {
                    *r = phi * x;
                }
            }
            // out[i][k] = T[k] · row, for k ≥ i
            let (out_i, add_i) = (&mut out[i * m..(i + 1) * m], &add[i * m..(i + 1) * m]);
            for k in i..d {
                out_i[k] = add_i[k] + row[k..=d].iter().sum::<f64>();
            }
            let from = i.max(d);
            let xd = row[d];
            let (out_a, add_a) = (&mut out_i[from..], &add_i[from..]);
            let phi = &self.phi[from - d..];
            for (((o, a), &ph), &xn) in out_a.iter_mut().zip(add_a).zip(phi).zip(&row[from + 1..]) {
                *o = a + ph * xd + xn;
            }
            out_i[m - 1] = add_i[m - 1] + self.phi[m - 1 - d] * xd;
        }
        mirror_upper(out, m);
    }
}

/// Copies the upper triangle of a row-major m × m matrix onto the lower.
#[inline]
fn mirror_upper(p: &mut [f64], m: usize) {
    for i in 1..m {
        for j in 0..i {
            p[i * m + j] = p[j * m + i];
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
/// (The gradient solves the adjoint equation instead: [`lyapunov_adjoint`].)
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

/// Solves the adjoint equation `Λ = A' Λ A + S` for the companion matrix
/// A of `ar` and a symmetric S (row-major r × r). With it, the derivative
/// of ⟨S, P⟩ (P the solution of [`lyapunov`]) along any parameter is
/// ⟨Λ, dA P A' + A P dA' + dQ⟩: one solve serves every parameter.
///
/// A' shifts indices down, so `Λ[a][b] = Λ[a−1][b−1] + S[a][b]` and every
/// entry is its first column's entry at |a − b| plus a known sum; the first
/// column's own r equations are then one r × r solve.
pub(crate) fn lyapunov_adjoint(ar: &[f64], r: usize, s: &[f64]) -> Option<Vec<f64>> {
    let phi = |i: usize| ar.get(i).copied().unwrap_or(0.0);
    // c[a][b] (a ≥ b): Σ_j S[a−j][b−j] down to b − j = 1; Λ[a][b] = λ_{a−b} + c[a][b].
    let mut c = vec![0.0; r * r];
    for a in 1..r {
        for b in 1..=a {
            c[a * r + b] = s[a * r + b] + c[(a - 1) * r + b - 1];
        }
    }
    let cc = |x: usize, y: usize| c[x.max(y) * r + x.min(y)];
    let mut lhs = Array2::<f64>::eye(r);
    let mut rhs = Array1::<f64>::zeros(r);
    // i = 0: Λ[0][0] = Σ_ab φ_a φ_b Λ[a][b] + S[0][0]
    rhs[0] = s[0];
    for a in 0..ar.len() {
        for b in 0..ar.len() {
            let w = phi(a) * phi(b);
            lhs[[0, a.abs_diff(b)]] -= w;
            rhs[0] += w * cc(a, b);
        }
    }
    // i ≥ 1: Λ[i][0] = Σ_b φ_b Λ[i−1][b] + S[i][0]
    for i in 1..r {
        rhs[i] = s[i * r];
        for b in 0..ar.len() {
            lhs[[i, (i - 1).abs_diff(b)]] -= phi(b);
            rhs[i] += phi(b) * cc(i - 1, b);
        }
    }
    let lambda = linalg::solve(lhs, rhs)?;
    let out: Vec<f64> = (0..r * r)
        .map(|ab| {
            let (a, b) = (ab / r, ab % r);
            lambda[a.abs_diff(b)] + cc(a, b)
        })
        .collect();
    out.iter().all(|v| v.is_finite()).then_some(out)
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

    /// The structured kernels against T as a dense matrix.
    #[test]
    fn kernels_match_dense_t() {
        for (p, d, q) in [
            (0, 0, 0),
            (1, 0, 0),
            (2, 1, 1),
            (0, 2, 2),
            (3, 2, 0),
            (5, 1, 1),
            (10, 2, 2),
            (1, 1, 3),
        ] {
            let order = Order::new(p, d, q);
            let ar: Vec<f64> = (0..p)
                .map(|i| 0.3 / (i + 1) as f64 * if i % 2 == 0 { 1.0 } else { -1.0 })
                .collect();
            let ma: Vec<f64> = (0..q).map(|j| 0.2 + 0.1 * j as f64).collect();
            let mut theta = if order.has_constant() { vec![1.0] } else { vec![] };
            theta.extend(ar.iter().chain(&ma));
            theta.push(1.3);
            let ss = StateSpace::new(&order, &Params::from_slice(&order, &theta)).unwrap();
            let m = ss.m;
            let t = ss.t_matrix();
            let x = Array2::from_shape_fn((m, m), |(i, j)| {
                ((i * 7 + j * 3) % 5) as f64 - 1.5 + if i == j { 4.0 } else { 0.0 }
            });
            let sym = &x + &x.t();
            let a = Array1::from_shape_fn(m, |i| i as f64 - 0.5);
            let (mut row, mut out, mut v) = (vec![0.0; m], vec![0.0; m * m], vec![0.0; m]);
            let close = |got: &[f64], want: &[f64]| {
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() < 1e-12, "{order}: {got:?} vs {want:?}");
                }
            };
            ss.transition(a.as_slice().unwrap(), &mut v);
            close(&v, t.dot(&a).as_slice().unwrap());
            ss.transition_transpose(a.as_slice().unwrap(), &mut v);
            close(&v, t.t().dot(&a).as_slice().unwrap());
            ss.transition_cov(sym.as_slice().unwrap(), &mut row, &mut out);
            let rqr = Array2::from_shape_vec((m, m), ss.rqr.clone()).unwrap();
            close(&out, (t.dot(&sym).dot(&t.t()) + rqr).as_slice().unwrap());
        }
    }

    #[test]
    fn adjoint_lyapunov_fixed_point() {
        for ar in [
            &[0.5, -0.3, 0.1][..],
            &[0.6],
            &[],
            &[0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.0, 0.1],
        ] {
            let r = ar.len().max(1) + 1;
            let s: Vec<f64> = (0..r * r).map(|ik| 1.0 / (1 + ik / r + ik % r) as f64).collect();
            let lam = Array2::from_shape_vec((r, r), lyapunov_adjoint(ar, r, &s).unwrap()).unwrap();
            let a = Array2::from_shape_fn((r, r), |(i, j)| {
                (if j == 0 { ar.get(i).copied().unwrap_or(0.0) } else { 0.0 }) + f64::from(j == i + 1)
            });
            let rhs = a.t().dot(&lam).dot(&a) + Array2::from_shape_vec((r, r), s).unwrap();
            for (x, y) in lam.iter().zip(rhs.iter()) {
                assert!((x - y).abs() < 1e-12, "{ar:?}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn unit_root_has_no_stationary_covariance() {
        assert!(arma_unconditional_cov(&[1.0], &[1.0], 1.0).is_none());
    }
}
