//! Where the recursions begin: period d, after the burned periods, in
//! closed form.
//!
//! statsmodels starts the d differencing states approximate-diffuse
//! (variance κ = 1e6) and the ARMA block at its unconditional covariance
//! Σ = A Σ A' + Q. Filtering the first d observations pins the
//! differencing states down, and what is left is exact and free of
//! κ-sized numbers (carrying κ through the recursions instead loses up to
//! 1e-5 of the log-likelihood to rounding). With s = Σ e_0, w = A s:
//!
//! ```text
//! d = 0:  P_0 = Σ;                              ΔP_0 = −g g' / B_00
//! d = 1:  P_1 = diag(0, Σ − w w'/F_0)           F_0 = κ + s_0
//! d = 2:  P_2 = diag(0, 0, Σ − α α'/F_0 − β β'/F_1)
//!         F_0 = 2κ + s_0, α = A w, c = (κ − w_0)/F_0, β = w + c α,
//!         F_1 = (κ² + κ (3 s_0 + 2 w_0) + s_0² − w_0²) / F_0
//! ```
//!
//! Writing P_d = diag(0, B), K_d = T P_d Z' = B_00 (1_d; 0) + (0; g) with
//! g = A B e_0 and F_d = B_00, the differencing terms of ΔP_d cancel
//! against K_d K_d' / F_d, leaving ΔP_d in the ARMA block with rank d + 1:
//! W = [w], [w, A w] or [w, α, A α], and M the coefficients of
//! −g g'/B_00 + the rank-one terms of B in that basis.
//!
//! The start depends on the parameters only through φ and s; it is
//! written once, generic over [`Num`], and differentiated by running it on
//! [`Dual`] numbers, several input directions per run (it is tiny next to
//! the recursions).

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::ssm::DIFFUSE_VARIANCE;

/// Arithmetic the start needs.
pub(super) trait Num:
    Copy
    + From<f64>
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
}

impl Num for f64 {}

/// A value and its derivatives along L directions at once (forward mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Dual<const L: usize> {
    pub v: f64,
    pub d: [f64; L],
}

impl<const L: usize> From<f64> for Dual<L> {
    fn from(v: f64) -> Self {
        Dual { v, d: [0.0; L] }
    }
}

impl<const L: usize> Add for Dual<L> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Dual {
            v: self.v + o.v,
            d: std::array::from_fn(|l| self.d[l] + o.d[l]),
        }
    }
}

impl<const L: usize> Sub for Dual<L> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Dual {
            v: self.v - o.v,
            d: std::array::from_fn(|l| self.d[l] - o.d[l]),
        }
    }
}

impl<const L: usize> Mul for Dual<L> {
    type Output = Self;
    #[allow(clippy::suspicious_arithmetic_impl)] // the product rule
    fn mul(self, o: Self) -> Self {
        Dual {
            v: self.v * o.v,
            d: std::array::from_fn(|l| self.d[l] * o.v + self.v * o.d[l]),
        }
    }
}

impl<const L: usize> Div for Dual<L> {
    type Output = Self;
    #[allow(clippy::suspicious_arithmetic_impl)] // the quotient rule
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let q = self.v * inv;
        Dual {
            v: q,
            d: std::array::from_fn(|l| (self.d[l] - q * o.d[l]) * inv),
        }
    }
}

impl<const L: usize> Neg for Dual<L> {
    type Output = Self;
    fn neg(self) -> Self {
        Dual {
            v: -self.v,
            d: std::array::from_fn(|l| -self.d[l]),
        }
    }
}

impl<const L: usize> Num for Dual<L> {}

/// Columns of W for d differences.
pub(super) fn rank(d: usize) -> usize {
    d + 1
}

/// The state at period d: predicted mean, W (column-major, k columns of
/// m), M (k × k), K = T P Z' and F = Z P Z'.
#[derive(Debug, Clone)]
pub(super) struct Start<S> {
    pub a: Vec<S>,
    pub w: Vec<S>,
    pub mm: Vec<S>,
    pub k: Vec<S>,
    pub f: S,
}

/// A rank-one term of ΔP: its vector's coordinates on the basis, and its weight.
type Term<S> = (Vec<S>, S);

/// The companion matrix times x: (A x)_i = φ_i x_0 + x_{i+1}.
fn companion<S: Num>(phi: &[S], x: &[S]) -> Vec<S> {
    let r = x.len();
    (0..r)
        .map(|i| phi[i] * x[0] + if i + 1 < r { x[i + 1] } else { S::from(0.0) })
        .collect()
}

/// The start for `d` ≤ 2 differences, from the AR coefficients `phi`
/// (padded to r), Σ's first column `s`, and the first d observations less
/// the constant (`y0`).
pub(super) fn start<S: Num>(d: usize, phi: &[S], s: &[S], y0: &[f64]) -> Start<S> {
    let r = s.len();
    let (m, k) = (d + r, rank(d));
    let zero = S::from(0.0);
    let kappa = S::from(DIFFUSE_VARIANCE);
    let w = companion(phi, s);
    // B e_0, the basis of ΔP's ARMA block, g's coordinates in it, and the
    // rank-one terms of B (coefficients on the basis: coordinates, weight).
    let mut basis = vec![w.clone()];
    let (be0, g_coords, a): (Vec<S>, Vec<S>, Vec<S>);
    let terms: Vec<Term<S>>;
    match d {
        0 => {
            be0 = s.to_vec();
            g_coords = vec![S::from(1.0)];
            terms = Vec::new();
            a = vec![zero; m];
        }
        1 => {
            let f0 = kappa + s[0];
            let c = w[0] / f0;
            be0 = (0..r).map(|i| s[i] - w[i] * c).collect();
            let aw = companion(phi, &w);
            g_coords = vec![S::from(1.0), -c];
            // B = Σ − w w'/F_0: in A B A' + Q − B that leaves w w'/F_0 − (A w)(A w)'/F_0.
            terms = vec![
                (vec![S::from(1.0), zero], S::from(1.0) / f0),
                (vec![zero, S::from(1.0)], -(S::from(1.0) / f0)),
            ];
            basis.push(aw);
            // a_1 = K_0 v_0 / F_0 with K_0 = (F_0; w)
            let v0 = S::from(y0[0]);
            a = std::iter::once(v0).chain(w.iter().map(|&wi| wi * v0 / f0)).collect();
        }
        _ => {
            let f0 = S::from(2.0) * kappa + s[0];
            let alpha = companion(phi, &w);
            let a_alpha = companion(phi, &alpha);
            let c = (kappa - w[0]) / f0;
            let f1 =
                (kappa * kappa + kappa * (S::from(3.0) * s[0] + S::from(2.0) * w[0]) + s[0] * s[0] - w[0] * w[0]) / f0;
            let beta: Vec<S> = (0..r).map(|i| w[i] + c * alpha[i]).collect();
            be0 = (0..r)
                .map(|i| s[i] - alpha[i] * alpha[0] / f0 - beta[i] * beta[0] / f1)
                .collect();
            g_coords = vec![S::from(1.0), -(beta[0] / f1), -(alpha[0] / f0 + c * beta[0] / f1)];
            // β = w + c α, A β = α + c A α
            let one = S::from(1.0);
            terms = vec![
                (vec![zero, one, zero], one / f0),
                (vec![zero, zero, one], -(one / f0)),
                (vec![one, c, zero], one / f1),
                (vec![zero, one, c], -(one / f1)),
            ];
            basis.push(alpha);
            basis.push(a_alpha);
            a = second_mean(phi, s, &w, f0, f1, c, y0);
        }
    }
    let b00 = be0[0];
    // M = −g g'/B_00 + Σ weight · coords coords'
    let mut mm = vec![zero; k * k];
    for i in 0..k {
        for j in 0..k {
            mm[i * k + j] = -(g_coords[i] * g_coords[j] / b00);
            for (coords, weight) in &terms {
                mm[i * k + j] = mm[i * k + j] + *weight * coords[i] * coords[j];
            }
        }
    }
    let mut wm = vec![zero; m * k];
    for (col, b) in basis.iter().enumerate() {
        wm[col * m + d..(col + 1) * m].copy_from_slice(b);
    }
    // K = B_00 (1_d; 0) + (0; A B e_0)
    let g = companion(phi, &be0);
    let kk: Vec<S> = (0..m).map(|i| if i < d { b00 } else { g[i - d] }).collect();
    Start {
        a,
        w: wm,
        mm,
        k: kk,
        f: b00,
    }
}

/// a_2 for d = 2: the filter's first two updates written out. With
/// a_1 = K_0 v_0 / F_0, K_0 = (F_0, κ + s_0, w), v_1 = y_1 − Z a_1 and
/// P_1 Z' = (0, κ (κ + s_0 + w_0)/F_0, s + c w): a_2 = T (a_1 + P_1 Z' v_1 / F_1).
fn second_mean<S: Num>(phi: &[S], s: &[S], w: &[S], f0: S, f1: S, c: S, y0: &[f64]) -> Vec<S> {
    let r = s.len();
    let kappa = S::from(DIFFUSE_VARIANCE);
    let v0 = S::from(y0[0]);
    let mut a1: Vec<S> = vec![v0, (kappa + s[0]) * v0 / f0];
    a1.extend(w.iter().map(|&wi| wi * v0 / f0));
    let v1 = S::from(y0[1]) - a1[0] - a1[1] - a1[2];
    let mut pz: Vec<S> = vec![S::from(0.0), kappa * (kappa + s[0] + w[0]) / f0];
    pz.extend((0..r).map(|i| s[i] + c * w[i]));
    let af: Vec<S> = a1.iter().zip(&pz).map(|(&x, &p)| x + p * v1 / f1).collect();
    // T: x_0' = x_0 + x_1 + u_0, x_1' = x_1 + u_0, ARMA rows A u
    let mut out = vec![af[0] + af[1] + af[2], af[1] + af[2]];
    out.extend(companion(phi, &af[2..]));
    out
}
