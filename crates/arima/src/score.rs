//! The score (gradient of the log-likelihood) by reverse-mode (adjoint)
//! differentiation of the Kalman filter: one forward pass records what the
//! filter computed, steady-state switch included; one backward pass
//! carries the adjoints of the state mean and covariance; then the
//! adjoints of T, R Q R' and P_0 are contracted with each parameter's
//! derivatives of them (P_0's by a Lyapunov solve with the derivative of
//! Q). It costs about three likelihood evaluations whatever the number of
//! parameters, against 2k for central differences, and it is exact where
//! differences lose digits (with d = 2 the approximate-diffuse states leave
//! rounding noise in the likelihood).
//!
//! Derivatives are taken in the constrained parameters, laid out as
//! [`Params::to_vec`]: constant, AR, MA, sigma².

use crate::chandrasekhar;
use crate::kalman::{self, Observer};
use crate::params::Params;
use crate::ssm::{lyapunov_adjoint, StateSpace};
use crate::Order;

/// Log-likelihood and its gradient.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct Score {
    pub llf: f64,
    pub grad: Vec<f64>,
}

/// The gradient of ⟨Σ̄, Σ⟩ + ⟨Q̄, Q⟩ in every parameter ([`Params::to_vec`]
/// order, 0 for the constant), where Σ is the ARMA block's unconditional
/// covariance (P_0's block), Q = σ² R R' (R Q R''s block), and Σ̄, Q̄ are
/// symmetric r × r adjoints. With Λ = A' Λ A + Σ̄ (one solve),
/// ⟨Σ̄, dΣ⟩ = ⟨Λ, dA Σ A' + A Σ dA' + dQ⟩, so each parameter costs O(r).
/// `None` when Λ cannot be solved for.
fn noise_gradient(
    order: &Order,
    params: &Params,
    ss: &StateSpace,
    sigma_bar: &[f64],
    q_bar: &[f64],
) -> Option<Vec<f64>> {
    let (d, m, r) = (order.d, ss.m, order.k_order());
    let lambda = lyapunov_adjoint(&params.ar, r, sigma_bar)?;
    let sigma = |i: usize, k: usize| ss.p0[(d + i) * m + d + k];
    // w = A Σ e_0: d(A Σ A') along φ_i is e_i w' + w e_i'.
    let w: Vec<f64> = (0..r)
        .map(|i| ss.phi[i] * sigma(0, 0) + if i + 1 < r { sigma(i + 1, 0) } else { 0.0 })
        .collect();
    let mut rvec = vec![0.0; r];
    rvec[0] = 1.0;
    rvec[1..=order.q].copy_from_slice(&params.ma);
    // (Λ + Q̄) R: dQ along ma_j is σ² (e_j R' + R e_j'), along σ² it is R R'.
    let lr: Vec<f64> = (0..r)
        .map(|i| (0..r).map(|k| (lambda[i * r + k] + q_bar[i * r + k]) * rvec[k]).sum())
        .collect();
    let mut out = Vec::with_capacity(order.n_params());
    if order.has_constant() {
        out.push(0.0);
    }
    for i in 0..order.p {
        out.push(2.0 * (0..r).map(|k| lambda[i * r + k] * w[k]).sum::<f64>());
    }
    out.extend(lr[1..=order.q].iter().map(|l| 2.0 * params.sigma2 * l));
    out.push(rvec.iter().zip(&lr).map(|(a, b)| a * b).sum());
    Some(out)
}

/// The forward pass's record and the backward pass's buffers, kept
/// between the many evaluations of one likelihood search.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// The filtered AR state a_{t|t}[d], the only part of the mean T's
    /// derivative touches.
    af_d: Vec<f64>,
    /// Innovations.
    v: Vec<f64>,
    /// Row d of P_{t|t} (for the same reason), P_t Z' and F_t of the
    /// steps before the steady state (the last one is the frozen one).
    pf_d: Vec<f64>,
    pz: Vec<f64>,
    f: Vec<f64>,
    /// The differencing order of the pass being recorded.
    d: usize,
    /// The model the pass was recorded for.
    model: Option<(Order, Params, StateSpace)>,
    /// The pass, when the Chandrasekhar recursions ran it instead.
    fast: chandrasekhar::Tape,
    uses_chandrasekhar: bool,
    /// The predicted mean of the period after the last observation.
    next_mean: f64,
}

impl Tape {
    /// The one-step forecast past the recorded series.
    pub(crate) fn next_mean(&self) -> f64 {
        self.next_mean
    }
}

/// The score at `params`, or `None` where the likelihood is not finite.
#[cfg(test)]
pub(crate) fn score(order: &Order, params: &Params, y: &[f64], tape: &mut Tape, fast: bool) -> Option<Score> {
    let llf = record_with(order, params, y, tape, fast)?;
    Some(Score {
        llf,
        grad: gradient(tape)?,
    })
}

/// The forward pass: the filter, recording what [`gradient`] needs.
/// Returns the log-likelihood, `None` where it is not finite.
/// The pass runs the Chandrasekhar recursions where they are the cheaper.
pub(crate) fn record(order: &Order, params: &Params, y: &[f64], tape: &mut Tape) -> Option<f64> {
    let fast = chandrasekhar::applies(order.d, order.d + order.k_order());
    record_with(order, params, y, tape, fast)
}

/// [`record`] by the Chandrasekhar recursions (`fast`, d ≤ 1) or the
/// conventional filter.
fn record_with(order: &Order, params: &Params, y: &[f64], tape: &mut Tape, fast: bool) -> Option<f64> {
    tape.model = None;
    tape.d = order.d;
    tape.uses_chandrasekhar = fast;
    let ss = StateSpace::new(order, params)?;
    for buf in [&mut tape.af_d, &mut tape.v, &mut tape.pf_d, &mut tape.pz, &mut tape.f] {
        buf.clear();
    }
    let (llf, next) = if fast {
        chandrasekhar::record(&ss, y, &mut tape.fast)?
    } else {
        let end = kalman::filter(&ss, y, tape)?;
        (end.llf, end.a)
    };
    tape.next_mean = ss.intercept + next[..=order.d].iter().sum::<f64>();
    if !llf.is_finite() {
        return None;
    }
    tape.model = Some((*order, params.clone(), ss));
    Some(llf)
}

impl Observer for Tape {
    fn covariance(&mut self, pf: &[f64], pz: &[f64], f: f64) {
        let (m, d) = (pz.len(), self.d);
        self.pf_d.extend_from_slice(&pf[d * m..(d + 1) * m]);
        self.pz.extend_from_slice(pz);
        self.f.push(f);
    }

    fn update(&mut self, v: f64, af: &[f64]) {
        self.v.push(v);
        self.af_d.push(af[self.d]);
    }
}

#[inline(always)]
fn axpy(v: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += v * xi;
    }
}

/// The backward pass over the last [`record`]ed one: the gradient of its
/// log-likelihood.
pub(crate) fn gradient(tape: &Tape) -> Option<Vec<f64>> {
    let (order, params, ss) = tape.model.as_ref()?;
    if tape.uses_chandrasekhar {
        fast_gradient(order, params, ss, &tape.fast)
    } else {
        conventional_gradient(order, params, ss, tape)
    }
}

/// The adjoint of the conventional filter's recorded pass.
fn conventional_gradient(order: &Order, params: &Params, ss: &StateSpace, tape: &Tape) -> Option<Vec<f64>> {
    let (m, d, n) = (ss.m, order.d, tape.v.len());
    let (nz, mm) = (d + 1, m * m);
    let mut row = vec![0.0; m];

    // Backward. `abar`, `pbar`: adjoints of a_{t+1} and P_{t+1}; P_{t+1} of
    // the last recorded step is never used, so its adjoint starts at zero.
    let pre = tape.f.len();
    let (mut abar, mut afbar, mut pzbar) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    let (mut pbar, mut pfbar, mut tp, mut w) = (vec![0.0; mm], vec![0.0; mm], vec![0.0; m], vec![0.0; m]);
    let mut rqr_bar = vec![0.0; mm];
    let (mut frozen_pzbar, mut frozen_fbar) = (vec![0.0; m], 0.0);
    let mut ar_bar = vec![0.0; order.p];
    let mut c_bar = 0.0;
    for t in (0..n).rev() {
        let s = t.min(pre - 1);
        let (pz, f) = (&tape.pz[s * m..(s + 1) * m], tape.f[s]);
        let (v, af_d) = (tape.v[t], tape.af_d[t]);
        // a_{t+1} = T a_{t|t}
        ss.transition_transpose(&abar, &mut afbar);
        for (i, g) in ar_bar.iter_mut().enumerate() {
            *g += abar[d + i] * af_d;
        }
        // the likelihood term, then a_{t|t} = a_t + P_t Z' v / F
        let (mut vbar, mut fbar) = (0.0, 0.0);
        if t >= d {
            vbar -= v / f;
            fbar -= 0.5 * (1.0 - v * v / f) / f;
        }
        let s_af: f64 = afbar.iter().zip(pz).map(|(x, y)| x * y).sum();
        for i in 0..m {
            pzbar[i] = afbar[i] * v / f;
        }
        vbar += s_af / f;
        fbar -= s_af * v / (f * f);
        // v = y - c - Z a
        abar.copy_from_slice(&afbar);
        for x in &mut abar[..nz] {
            *x -= vbar;
        }
        c_bar -= vbar;
        if t >= pre {
            // steady state: P_t Z' and F are the frozen step's
            for (x, y) in frozen_pzbar.iter_mut().zip(&pzbar) {
                *x += y;
            }
            frozen_fbar += fbar;
            continue;
        }
        if t == pre - 1 {
            for (x, y) in pzbar.iter_mut().zip(&frozen_pzbar) {
                *x += y;
            }
            fbar += frozen_fbar;
        }
        // P_{t+1} = T P_{t|t} T' + R Q R'
        let pf_d = &tape.pf_d[t * m..(t + 1) * m];
        for (x, y) in rqr_bar.iter_mut().zip(&pbar) {
            *x += y;
        }
        if order.p > 0 {
            ss.transition(pf_d, &mut tp);
            for (i, g) in ar_bar.iter_mut().enumerate() {
                let row = &pbar[(d + i) * m..(d + i + 1) * m];
                *g += 2.0 * row.iter().zip(&tp).map(|(x, y)| x * y).sum::<f64>();
            }
        }
        ss.transpose_sandwich(&pbar, &mut row, &mut pfbar);
        // P_{t|t} = P_t - P_t Z' Z P_t / F; w = P̄_{t|t} P_t Z' (P̄ symmetric,
        // so summed as rows scaled by P_t Z' rather than as dot products)
        w.fill(0.0);
        for (j, &pzj) in pz.iter().enumerate() {
            axpy(pzj, &pfbar[j * m..(j + 1) * m], &mut w);
        }
        for i in 0..m {
            pzbar[i] -= 2.0 * w[i] / f;
            fbar += pz[i] * w[i] / (f * f);
        }
        // F = Z P_t Z', P_t Z' = P_t[:, ..nz] summed: P̄_t = P̄_{t|t} plus
        // P̄Z' spread over the first nz columns, symmetrised.
        for x in &mut pzbar[..nz] {
            *x += fbar;
        }
        std::mem::swap(&mut pbar, &mut pfbar);
        for i in 0..m {
            let half = 0.5 * pzbar[i];
            for c in 0..nz {
                pbar[i * m + c] += half;
                pbar[c * m + i] += half;
            }
        }
    }

    // The ARMA blocks of P̄_0 and of the summed R Q R' adjoint, contracted
    // with each parameter's derivatives; T's AR entries come on top.
    let r = order.k_order();
    let block = |x: &[f64]| -> Vec<f64> { (0..r * r).map(|ik| x[(d + ik / r) * m + d + ik % r]).collect() };
    let mut grad = noise_gradient(order, params, ss, &block(&pbar), &block(&rqr_bar))?;
    let first_ar = usize::from(order.has_constant());
    for (g, a) in grad[first_ar..].iter_mut().zip(&ar_bar) {
        *g += a;
    }
    if order.has_constant() {
        grad[0] = c_bar;
    }
    Some(grad)
}

/// The gradient from the Chandrasekhar pass: its adjoints of the
/// constant, of T's AR coefficients and of Σ's first column.
fn fast_gradient(order: &Order, params: &Params, ss: &StateSpace, tape: &chandrasekhar::Tape) -> Option<Vec<f64>> {
    let adj = chandrasekhar::adjoint(ss, order.p, tape);
    let r = order.k_order();
    // Σ̄ holds only column 0; symmetrised, it is split between row and column.
    let mut sigma_bar = vec![0.0; r * r];
    sigma_bar[0] = adj.sigma_col0[0];
    for i in 1..r {
        sigma_bar[i * r] = 0.5 * adj.sigma_col0[i];
        sigma_bar[i] = 0.5 * adj.sigma_col0[i];
    }
    let mut grad = noise_gradient(order, params, ss, &sigma_bar, &vec![0.0; r * r])?;
    let first_ar = usize::from(order.has_constant());
    for (g, a) in grad[first_ar..].iter_mut().zip(&adj.phi[..order.p]) {
        *g += a;
    }
    if order.has_constant() {
        grad[0] = adj.constant;
    }
    Some(grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kalman;

    fn series(n: usize) -> Vec<f64> {
        // A deterministic, irregular series (an LCG's noise through an ARMA filter).
        let mut state = 12345u64;
        let mut e = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let (mut y, mut prev, mut level) = (Vec::with_capacity(n), 0.0, 10.0);
        for _ in 0..n {
            let x = 0.6 * prev + e() + 0.3 * e();
            level += 0.2 * x;
            y.push(level + x);
            prev = x;
        }
        y
    }

    /// The score against central differences of the filter's likelihood
    /// (steps of 1e-4: with d = 2 the likelihood carries rounding noise
    /// that smaller steps amplify).
    #[test]
    fn score_matches_finite_differences() {
        let y = series(150);
        let mut tape = Tape::default();
        for ((order, theta), fast) in [
            (Order::new(2, 0, 1), vec![9.0, 0.5, -0.2, 0.3, 0.8]),
            (Order::new(1, 1, 2), vec![0.4, -0.3, 0.2, 0.5]),
            (Order::new(3, 2, 1), vec![0.3, -0.2, 0.1, -0.6, 0.4]),
            (Order::new(0, 1, 1), vec![-0.5, 0.7]),
            (Order::new(0, 0, 2), vec![10.0, 0.5, 0.2, 1.5]),
            (Order::new(5, 1, 1), vec![0.2, -0.1, 0.05, 0.0, -0.1, -0.7, 0.5]),
            (Order::new(10, 2, 2), [vec![0.05; 10], vec![0.3, 0.1, 1.2]].concat()),
            (Order::new(0, 2, 2), vec![-1.2, 0.3, 0.9]),
            (Order::new(8, 1, 2), [vec![0.04; 8], vec![-0.5, 0.2, 1.1]].concat()),
            (Order::new(8, 1, 0), [vec![0.04; 8], vec![1.1]].concat()),
            (Order::new(4, 0, 1), vec![9.0, 0.3, -0.1, 0.05, 0.1, 0.2, 0.9]),
            (Order::new(6, 2, 1), vec![0.2, -0.1, 0.1, 0.05, 0.0, 0.1, 0.3, 0.7]),
            // AR coefficients at zero, as statsmodels' start gives them
            (Order::new(10, 1, 2), [vec![0.0; 10], vec![-0.45, -0.45, 0.9]].concat()),
        ]
        .into_iter()
        .flat_map(|case| [(case.clone(), false), (case, true)])
        {
            let params = Params::from_slice(&order, &theta);
            let s = score(&order, &params, &y, &mut tape, fast).unwrap();
            let ll = |th: &[f64]| {
                let ss = StateSpace::new(&order, &Params::from_slice(&order, th)).unwrap();
                kalman::loglike(&ss, &y)
            };
            assert!((s.llf - ll(&theta)).abs() < 1e-9 * s.llf.abs());
            for j in 0..theta.len() {
                let h = 1e-4 * theta[j].abs().max(1.0);
                let (mut up, mut down) = (theta.clone(), theta.clone());
                up[j] += h;
                down[j] -= h;
                let fd = (ll(&up) - ll(&down)) / (2.0 * h);
                assert!(
                    (s.grad[j] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                    "{order} (Chandrasekhar: {fast}) param {j}: score {} vs differences {fd}",
                    s.grad[j]
                );
            }
        }
    }
}
