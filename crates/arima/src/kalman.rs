//! The conventional Kalman filter, as statsmodels runs it for SARIMAX:
//! predicted timing, symmetric covariances, the first d periods burned from the
//! likelihood, and the switch to steady state once the predicted
//! covariance stops moving (sum of squared changes below 1e-19).
//!
//! It runs once per fit, for the fitted model's log-likelihood,
//! predictions and forecasts; the likelihood search runs the Chandrasekhar
//! recursions instead ([`crate::chandrasekhar`]). The loop exploits the
//! model's structure by hand (T applied by its structure, Z of ones, upper
//! triangles mirrored); [`dense_loglike`] is the same filter written
//! plainly on ndarray, kept to check it and to measure what the hand-work
//! buys.

use std::f64::consts::PI;

use ndarray::{Array1, Array2};

use crate::ssm::StateSpace;

/// statsmodels' steady-state tolerance on Σ (P_{t+1} − P_t)².
pub(crate) const CONVERGENCE_TOLERANCE: f64 = 1e-19;
pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_3; // ln(2π)

/// What the filter leaves behind: the log-likelihood and the predicted
/// state for the period after the last observation, for forecasting.
#[derive(Debug, Clone)]
pub(crate) struct FilterEnd {
    pub llf: f64,
    pub a: Vec<f64>,
    pub p: Vec<f64>,
}

/// What a filter run reports as it goes.
pub(crate) trait Observer {
    /// The one-step prediction of y_t: mean and variance.
    fn prediction(&mut self, _t: usize, _mean: f64, _variance: f64) {}
}

impl Observer for () {}

/// Sends each one-step prediction to a closure `(t, mean, variance)`.
pub(crate) struct Predictions<F>(pub F);

impl<F: FnMut(usize, f64, f64)> Observer for Predictions<F> {
    fn prediction(&mut self, t: usize, mean: f64, variance: f64) {
        (self.0)(t, mean, variance)
    }
}

/// Runs the filter over `y`, reporting to `obs`. Returns `None` if a
/// forecast variance is not positive and finite.
pub(crate) fn filter(ss: &StateSpace, y: &[f64], obs: &mut impl Observer) -> Option<FilterEnd> {
    let m = ss.m;
    let nz = ss.d + 1; // Z = [1; d+1] then zeros
    let (mut a, mut af, mut pz) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    let mut p = ss.p0.clone();
    let (mut pf, mut pn, mut row) = (vec![0.0; m * m], vec![0.0; m * m], vec![0.0; m]);
    let mut f = 0.0;
    let mut converged = false;
    let mut llf = 0.0;
    for (t, &yt) in y.iter().enumerate() {
        if !converged {
            for i in 0..m {
                pz[i] = p[i * m..i * m + nz].iter().sum();
            }
            f = pz[..nz].iter().sum();
            if !(f > 0.0 && f.is_finite()) {
                return None;
            }
        }
        let mean = ss.intercept + a[..nz].iter().sum::<f64>();
        obs.prediction(t, mean, f);
        let v = yt - mean;
        if t >= ss.d {
            llf -= 0.5 * (LN_2PI + f.ln() + v * v / f);
        }
        let gain = v / f;
        for i in 0..m {
            af[i] = a[i] + pz[i] * gain;
        }
        ss.transition(&af, &mut a);
        if !converged {
            // P_{t|t} = P - pz pz' / F, then P_{t+1} = T P_{t|t} T' + RQR'.
            for i in 0..m {
                let c = pz[i] / f;
                for ((x, &pij), &pzj) in pf[i * m..(i + 1) * m].iter_mut().zip(&p[i * m..]).zip(&pz) {
                    *x = pij - c * pzj;
                }
            }
            ss.transition_cov(&pf, &mut row, &mut pn); // symmetric by construction
            let change = squared_distance(&pn, &p);
            if t >= 1 && change < CONVERGENCE_TOLERANCE {
                converged = true; // keep P_t, F_t and the gain from now on
            } else {
                std::mem::swap(&mut p, &mut pn);
            }
        }
    }
    Some(FilterEnd { llf, a, p })
}

/// Σ (x_i − y_i)², in four independent sums so that the additions do not
/// wait on one another.
#[inline]
fn squared_distance(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    for (a, b) in xc.zip(yc) {
        for k in 0..4 {
            acc[k] += (a[k] - b[k]) * (a[k] - b[k]);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Log-likelihood only.
#[inline]
pub(crate) fn loglike(ss: &StateSpace, y: &[f64]) -> f64 {
    filter(ss, y, &mut ()).map_or(f64::NEG_INFINITY, |e| e.llf)
}

/// Forecasts `horizon` steps from the filter's end: `(mean, variance)` pairs.
pub(crate) fn forecast(ss: &StateSpace, end: &FilterEnd, horizon: usize) -> Vec<(f64, f64)> {
    let m = ss.m;
    let nz = ss.d + 1;
    let (mut a, mut p) = (end.a.clone(), end.p.clone());
    let (mut an, mut pn, mut row) = (vec![0.0; m], vec![0.0; m * m], vec![0.0; m]);
    let mut out = Vec::with_capacity(horizon);
    for _ in 0..horizon {
        let mean = ss.intercept + a[..nz].iter().sum::<f64>();
        let var: f64 = (0..nz).map(|i| p[i * m..i * m + nz].iter().sum::<f64>()).sum();
        out.push((mean, var));
        ss.transition(&a, &mut an);
        ss.transition_cov(&p, &mut row, &mut pn);
        std::mem::swap(&mut a, &mut an);
        std::mem::swap(&mut p, &mut pn);
    }
    out
}

/// The same filter written plainly with dense ndarray matrices, without
/// the steady-state switch. Used to check [`filter`] and as the baseline
/// in the benchmarks.
pub(crate) fn dense_loglike_impl(
    t_mat: &Array2<f64>,
    z: &Array1<f64>,
    rqr: &Array2<f64>,
    p0: &Array2<f64>,
    intercept: f64,
    burn: usize,
    y: &[f64],
) -> f64 {
    let m = z.len();
    let mut a = Array1::<f64>::zeros(m);
    let mut p = p0.clone();
    let mut llf = 0.0;
    for (t, &yt) in y.iter().enumerate() {
        let pz = p.dot(z);
        let f = z.dot(&pz);
        let v = yt - intercept - z.dot(&a);
        if t >= burn {
            llf -= 0.5 * ((2.0 * PI).ln() + f.ln() + v * v / f);
        }
        let k = &pz / f;
        let af = &a + &(&k * v);
        let kk = k
            .view()
            .insert_axis(ndarray::Axis(1))
            .dot(&pz.view().insert_axis(ndarray::Axis(0)));
        let pf = &p - &kk;
        a = t_mat.dot(&af);
        p = t_mat.dot(&pf).dot(&t_mat.t()) + rqr;
        p = (&p + &p.t()) * 0.5;
    }
    llf
}

/// [`dense_loglike_impl`] for a [`StateSpace`].
pub(crate) fn dense_loglike(ss: &StateSpace, y: &[f64]) -> f64 {
    let m = ss.m;
    let t_mat = ss.t_matrix();
    let z = Array1::from_shape_fn(m, |i| if i <= ss.d { 1.0 } else { 0.0 });
    let rqr = Array2::from_shape_vec((m, m), ss.rqr.clone()).expect("m × m");
    let p0 = Array2::from_shape_vec((m, m), ss.p0.clone()).expect("m × m");
    dense_loglike_impl(&t_mat, &z, &rqr, &p0, ss.intercept, ss.d, y)
}
