//! The score (gradient of the log-likelihood) for the likelihood search,
//! by reverse-mode (adjoint) differentiation: the forward pass runs the
//! Chandrasekhar recursions and records them ([`crate::chandrasekhar`]),
//! one backward pass gives the adjoints of T's AR coefficients, of the
//! constant and of P_0's stationary block Σ, and Σ's are carried to every
//! parameter by one adjoint Lyapunov solve. It costs about two likelihood
//! evaluations whatever the number of parameters, against 2k for central
//! differences, and it is exact where differences lose digits.
//!
//! Derivatives are taken in the constrained parameters, laid out as
//! [`Params::to_vec`]: constant, AR, MA, sigma².

use crate::chandrasekhar;
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

/// The gradient of ⟨Σ̄, Σ⟩ in every parameter ([`Params::to_vec`] order,
/// 0 for the constant), where Σ is the ARMA block's unconditional
/// covariance (P_0's block), Q = σ² R R' its noise, and Σ̄ a symmetric
/// r × r adjoint. With Λ = A' Λ A + Σ̄ (one solve),
/// ⟨Σ̄, dΣ⟩ = ⟨Λ, dA Σ A' + A Σ dA' + dQ⟩, so each parameter costs O(r).
/// `None` when Λ cannot be solved for.
fn noise_gradient(order: &Order, params: &Params, ss: &StateSpace, sigma_bar: &[f64]) -> Option<Vec<f64>> {
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
    // Λ R: dQ along ma_j is σ² (e_j R' + R e_j'), along σ² it is R R'.
    let lr: Vec<f64> = (0..r)
        .map(|i| (0..r).map(|k| lambda[i * r + k] * rvec[k]).sum())
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

/// The forward pass's record, kept between the many evaluations of one
/// likelihood search.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    pass: chandrasekhar::Tape,
    /// The model and the series the pass was recorded for.
    model: Option<(Order, Params, StateSpace)>,
    series: Vec<f64>,
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
pub(crate) fn score(order: &Order, params: &Params, y: &[f64], tape: &mut Tape) -> Option<Score> {
    let llf = record(order, params, y, tape)?;
    Some(Score {
        llf,
        grad: gradient(tape)?,
    })
}

/// The forward pass, recording what [`gradient`] needs. Returns the
/// log-likelihood, `None` where it is not finite.
///
/// When the tape holds a pass of the same model over a prefix of `y` (a
/// walk-forward refit's first evaluation, at the previous optimum), that
/// pass is continued over the new observations instead of rerun.
pub(crate) fn record(order: &Order, params: &Params, y: &[f64], tape: &mut Tape) -> Option<f64> {
    let (ss, pass) = match tape.model.take() {
        Some((o, p, ss))
            if o == *order && p == *params && y.len() > tape.series.len() && y.starts_with(&tape.series) =>
        {
            let pass = chandrasekhar::extend(&ss, y, &mut tape.pass);
            (ss, pass)
        }
        _ => {
            let ss = StateSpace::new(order, params)?;
            let pass = chandrasekhar::record(&ss, y, &mut tape.pass);
            (ss, pass)
        }
    };
    let (llf, next) = pass?;
    tape.series.clear();
    tape.series.extend_from_slice(y);
    tape.next_mean = ss.intercept + next[..=order.d].iter().sum::<f64>();
    tape.model = Some((*order, params.clone(), ss));
    Some(llf)
}

/// The backward pass over the last [`record`]ed one: the gradient of its
/// log-likelihood. Σ̄ comes from the pass as its first column only;
/// symmetrised, it is split between that row and column.
pub(crate) fn gradient(tape: &Tape) -> Option<Vec<f64>> {
    let (order, params, ss) = tape.model.as_ref()?;
    let adj = chandrasekhar::adjoint(ss, order.p, &tape.pass);
    let r = order.k_order();
    let mut sigma_bar = vec![0.0; r * r];
    sigma_bar[0] = adj.sigma_col0[0];
    for i in 1..r {
        sigma_bar[i * r] = 0.5 * adj.sigma_col0[i];
        sigma_bar[i] = 0.5 * adj.sigma_col0[i];
    }
    let mut grad = noise_gradient(order, params, ss, &sigma_bar)?;
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

    /// A pass continued over added observations is the pass run afresh,
    /// bit for bit, gradient included.
    #[test]
    fn continued_pass_equals_fresh_pass() {
        let y = series(150);
        for (order, theta) in [
            (Order::new(2, 0, 1), vec![9.0, 0.5, -0.2, 0.3, 0.8]),
            (Order::new(1, 1, 2), vec![0.4, -0.3, 0.2, 0.5]),
            (Order::new(3, 2, 1), vec![0.3, -0.2, 0.1, -0.6, 0.4]),
            (Order::new(1, 0, 0), vec![9.0, 0.5, 0.8]),
        ] {
            let params = Params::from_slice(&order, &theta);
            let mut continued = Tape::default();
            record(&order, &params, &y[..120], &mut continued).unwrap();
            for n in [121, 122, 150] {
                let a = record(&order, &params, &y[..n], &mut continued).unwrap();
                let b = record(&order, &params, &y[..n], &mut Tape::default()).unwrap();
                assert_eq!(a.to_bits(), b.to_bits(), "{order} n = {n}");
                let mut fresh = Tape::default();
                record(&order, &params, &y[..n], &mut fresh).unwrap();
                assert_eq!(gradient(&continued), gradient(&fresh), "{order} n = {n}");
                assert_eq!(continued.next_mean().to_bits(), fresh.next_mean().to_bits());
            }
            assert_eq!(
                continued.pass.continued, 3,
                "{order}: the pass was rerun, not continued"
            );
        }
    }

    /// The score against central differences of the filter's likelihood
    /// (steps of 1e-4: with d = 2 the likelihood carries rounding noise
    /// that smaller steps amplify).
    #[test]
    fn score_matches_finite_differences() {
        let y = series(150);
        let mut tape = Tape::default();
        for (order, theta) in [
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
        ] {
            let params = Params::from_slice(&order, &theta);
            let s = score(&order, &params, &y, &mut tape).unwrap();
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
                    "{order} param {j}: score {} vs differences {fd}",
                    s.grad[j]
                );
            }
        }
    }
}
