//! The likelihood and its gradient by the Chandrasekhar recursions (Morf,
//! Sidhu & Kailath 1974; Herbst 2015), for the likelihood search.
//!
//! The conventional filter moves the whole m × m covariance every step,
//! and for ARIMA with an MA part it never reaches the steady state within
//! a year of days. But the change ΔP_t = P_{t+1} − P_t has rank k ≤ d + 2,
//! so it is carried as W_t M_t W_t' (W: m × k, M: k × k), together with
//! K_t = T P_t Z' and F_t = Z P_t Z'; a step then costs O(m k), not O(m²):
//!
//! ```text
//! z = Z W,  s = M z'
//! F' = F + z s,  K' = K + T W s,  M' = M + s s' / F,  W' = T W − K' z / F'
//! ```
//!
//! Start, for d = 0: P_0 = Σ solves Σ = A Σ A' + Q, so ΔP_0 = −K_0 K_0' / F_0
//! (W_0 = K_0, k = 1). For d = 1 the first period is burned and taken in
//! closed form: P_0 Z' ∝ F_0 = κ + Σ_00 makes the level state exact, and
//! P_1 = diag(0, Σ) − w w' / F_0 with w = (0; A Σ e_0), so
//! ΔP_1 = W_1 M_1 W_1' with W_1 = [e_0, w, T w, K_1] and
//! M_1 = [[Σ_00, 1], [1, 1/F_0]] ⊕ (−1/F_0) ⊕ (−1/F_1): k = 4, and no
//! κ-sized number is ever formed. (Carrying κ through the recursions
//! instead loses up to 1e-5 of the log-likelihood to rounding.) d = 2 is
//! left to the conventional filter. The steady-state switch is
//! statsmodels' own: Σ (ΔP_t)² < 1e-19.
//!
//! The gradient is the adjoint of these recursions, then of the start,
//! which depends on the parameters through T and through Σ's first column.

use crate::kalman::{CONVERGENCE_TOLERANCE, LN_2PI};
use crate::ssm::{StateSpace, DIFFUSE_VARIANCE};

/// Whether the recursions are used for a model with `d` differences and
/// m states. A step costs about k (m + k) here against m² in the
/// conventional filter; with the constant factors measured on the EWR
/// series (BENCHMARKS.md) they win from 1.5 k (m + k) ≤ m²: m ≥ 3 for
/// d = 0, m ≥ 9 (p ≥ 8) for d = 1, whose k is 4.
pub(crate) fn applies(d: usize, m: usize) -> bool {
    d <= 1 && 3 * rank(d) * (m + rank(d)) <= 2 * m * m
}

/// The forward pass's record, reused between evaluations.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// The first recursion period (d) and the burned innovation y_0 − c.
    t0: usize,
    v0: f64,
    /// Innovations v_t and the predicted AR state a_t[d], every step from t0.
    v: Vec<f64>,
    a_d: Vec<f64>,
    /// Of the steps before the steady state (the last is the frozen one):
    /// U_t = T W_t (column-major, k columns of m), z_t, s_t, row d of W_t,
    /// M_t (k × k), K_t and F_t.
    u: Vec<f64>,
    z: Vec<f64>,
    s: Vec<f64>,
    wd: Vec<f64>,
    mm: Vec<f64>,
    k: Vec<f64>,
    f: Vec<f64>,
}

/// Runs the recursions over `y`, recording them. Returns the
/// log-likelihood and the predicted state past the end, `None` where a
/// forecast variance is not positive.
pub(crate) fn record(ss: &StateSpace, y: &[f64], tape: &mut Tape) -> Option<(f64, Vec<f64>)> {
    let (m, d) = (ss.m, ss.d);
    let nz = d + 1;
    let k = rank(d);
    for buf in [
        &mut tape.v,
        &mut tape.a_d,
        &mut tape.u,
        &mut tape.z,
        &mut tape.s,
        &mut tape.wd,
        &mut tape.mm,
        &mut tape.k,
        &mut tape.f,
    ] {
        buf.clear();
    }
    let (first, _) = start(ss, y);
    let Start {
        t0,
        mut a,
        mut w,
        mut mm,
        k: mut kk,
        mut f,
    } = first;
    tape.t0 = t0;
    tape.v0 = y.first().map_or(0.0, |y0| y0 - ss.intercept);
    let mut an = vec![0.0; m];
    let (mut u, mut z, mut s, mut g) = (vec![0.0; m * k], vec![0.0; k], vec![0.0; k], vec![0.0; k * k]);
    let mut converged = false;
    let mut llf = 0.0;
    for (t, &yt) in y.iter().enumerate().skip(t0) {
        if !(f > 0.0 && f.is_finite()) {
            return None;
        }
        let v = yt - ss.intercept - a[..nz].iter().sum::<f64>();
        if t >= d {
            llf -= 0.5 * (LN_2PI + f.ln() + v * v / f);
        }
        tape.v.push(v);
        tape.a_d.push(a[d]);
        // a_{t+1} = T a_t + K_t v / F_t
        ss.transition(&a, &mut an);
        for (x, kv) in an.iter_mut().zip(&kk) {
            *x += kv * v / f;
        }
        std::mem::swap(&mut a, &mut an);
        if converged {
            continue;
        }
        let fz = moments(ss, &w, &mm, &mut u, &mut z, &mut s);
        tape.u.extend_from_slice(&u);
        tape.z.extend_from_slice(&z);
        tape.s.extend_from_slice(&s);
        tape.wd.extend((0..k).map(|c| w[c * m + d]));
        tape.mm.extend_from_slice(&mm);
        tape.k.extend_from_slice(&kk);
        tape.f.push(f);
        if t >= 1 && steady(&w, &mm, fz, nz, m, &mut g) {
            converged = true; // keep K_t and F_t from now on
            continue;
        }
        let f_next = f + fz;
        for c in 0..k {
            for (x, uc) in kk.iter_mut().zip(&u[c * m..(c + 1) * m]) {
                *x += uc * s[c];
            }
        }
        for i in 0..k {
            for j in 0..k {
                mm[i * k + j] += s[i] * s[j] / f;
            }
        }
        for c in 0..k {
            for ((x, uc), kn) in w[c * m..(c + 1) * m].iter_mut().zip(&u[c * m..(c + 1) * m]).zip(&kk) {
                *x = uc - kn * z[c] / f_next;
            }
        }
        f = f_next;
    }
    llf.is_finite().then_some((llf, a))
}

/// Columns of W: K alone for d = 0; e_0, w, T w and K for d = 1.
fn rank(d: usize) -> usize {
    if d == 0 {
        1
    } else {
        4
    }
}

/// Where the recursions begin: period t0 = d, with its predicted mean,
/// W (column-major), M, K = T P Z' and F = Z P Z'.
struct Start {
    t0: usize,
    a: Vec<f64>,
    w: Vec<f64>,
    mm: Vec<f64>,
    k: Vec<f64>,
    f: f64,
}

/// What the start is built from, kept for its adjoint: Σ_00, w = (0; A Σ e_0)
/// and F_0 (d = 1 only), and P_{t0} Z'.
struct Pieces {
    sigma_00: f64,
    w: Vec<f64>,
    f0: f64,
    pz: Vec<f64>,
}

/// The start; see the module notes. `y` is only read for d = 1.
fn start(ss: &StateSpace, y: &[f64]) -> (Start, Pieces) {
    let (m, d) = (ss.m, ss.d);
    let k = rank(d);
    let sigma_00 = ss.p0[d * m + d];
    let (mut wv, mut f0) = (vec![0.0; m], 0.0);
    let mut a = vec![0.0; m];
    // P_{t0} Z'
    let mut pz: Vec<f64> = (0..m).map(|i| if i < d { 0.0 } else { ss.p0[i * m + d] }).collect();
    if d == 1 {
        for (i, &phi) in ss.phi.iter().enumerate() {
            wv[1 + i] = phi * sigma_00 + if i + 2 < m { ss.p0[(i + 2) * m + 1] } else { 0.0 };
        }
        f0 = DIFFUSE_VARIANCE + sigma_00;
        for (x, wi) in pz.iter_mut().zip(&wv) {
            *x -= wi * wv[1] / f0;
        }
        // a_1 = K_0 (y_0 − c) / F_0 with K_0 = (F_0; A Σ e_0)
        let v0 = y.first().map_or(0.0, |y0| y0 - ss.intercept);
        a[0] = v0;
        for i in 1..m {
            a[i] = wv[i] * v0 / f0;
        }
    }
    let mut kk = vec![0.0; m];
    ss.transition(&pz, &mut kk);
    let f = pz[..=d].iter().sum::<f64>();
    let (mut w, mut mm) = (vec![0.0; m * k], vec![0.0; k * k]);
    if d == 1 {
        w[0] = 1.0;
        w[m..2 * m].copy_from_slice(&wv);
        ss.transition(&wv, &mut w[2 * m..3 * m]);
        mm[0] = sigma_00;
        mm[1] = 1.0;
        mm[k] = 1.0;
        mm[k + 1] = 1.0 / f0;
        mm[2 * k + 2] = -1.0 / f0;
    }
    w[(k - 1) * m..].copy_from_slice(&kk);
    mm[k * k - 1] = -1.0 / f;
    let t0 = d;
    (
        Start { t0, a, w, mm, k: kk, f },
        Pieces {
            sigma_00,
            w: wv,
            f0,
            pz,
        },
    )
}

/// U = T W, z = Z W, s = M z'; returns Z ΔP Z' = z s (the change of F).
fn moments(ss: &StateSpace, w: &[f64], mm: &[f64], u: &mut [f64], z: &mut [f64], s: &mut [f64]) -> f64 {
    let (m, k, nz) = (ss.m, z.len(), ss.d + 1);
    for c in 0..k {
        let col = &w[c * m..(c + 1) * m];
        ss.transition(col, &mut u[c * m..(c + 1) * m]);
        z[c] = col[..nz].iter().sum();
    }
    for i in 0..k {
        s[i] = (0..k).map(|j| mm[i * k + j] * z[j]).sum();
    }
    z.iter().zip(s.iter()).map(|(a, b)| a * b).sum()
}

/// statsmodels' steady-state test Σ (ΔP)² < 1e-19, with ΔP = W M W'.
/// |Z ΔP Z'| ≤ nz ‖ΔP‖, so most steps are settled by the change of F
/// alone; otherwise ‖W M W'‖² = tr(M G M G) with G = W'W.
fn steady(w: &[f64], mm: &[f64], fz: f64, nz: usize, m: usize, g: &mut [f64]) -> bool {
    if fz * fz >= (nz * nz) as f64 * CONVERGENCE_TOLERANCE {
        return false;
    }
    let k = w.len() / m;
    for i in 0..k {
        for j in 0..k {
            g[i * k + j] = w[i * m..(i + 1) * m]
                .iter()
                .zip(&w[j * m..(j + 1) * m])
                .map(|(a, b)| a * b)
                .sum();
        }
    }
    // tr((M G)²) = Σ_ij (MG)_ij (MG)_ji
    let mg: Vec<f64> = (0..k * k)
        .map(|ij| (0..k).map(|l| mm[(ij / k) * k + l] * g[l * k + ij % k]).sum())
        .collect();
    let norm2: f64 = (0..k * k).map(|ij| mg[ij] * mg[(ij % k) * k + ij / k]).sum();
    norm2 < CONVERGENCE_TOLERANCE
}

/// Adjoints of the recorded pass with respect to what the parameters
/// move: the constant, T's AR coefficients, and Σ's first column.
pub(crate) struct Adjoint {
    pub constant: f64,
    pub phi: Vec<f64>,
    /// ∂llf/∂Σ[i][0], Σ taken as unsymmetric (pair with dΣ[i][0]).
    pub sigma_col0: Vec<f64>,
}

/// The backward pass over the last [`record`]ed one.
pub(crate) fn adjoint(ss: &StateSpace, tape: &Tape) -> Adjoint {
    let (m, d) = (ss.m, ss.d);
    let (nz, k, r) = (d + 1, rank(d), ss.m - ss.d);
    let n = tape.t0 + tape.v.len();
    let pre = tape.f.len();
    let mut phi_bar = vec![0.0; r];
    let mut c_bar = 0.0;
    let (mut abar, mut abar_prev) = (vec![0.0; m], vec![0.0; m]);
    // Adjoints of K, F, W, M at t + 1 (`_next`) and at t.
    let (mut k_next, mut f_next_bar) = (vec![0.0; m], 0.0);
    let (mut w_next, mut m_next) = (vec![0.0; m * k], vec![0.0; k * k]);
    let (mut kbar, mut wbar, mut mbar) = (vec![0.0; m], vec![0.0; m * k], vec![0.0; k * k]);
    let (mut frozen_k, mut frozen_f) = (vec![0.0; m], 0.0);
    let (mut ubar, mut zbar, mut sbar) = (vec![0.0; m * k], vec![0.0; k], vec![0.0; k]);
    let t0 = tape.t0;
    for t in (t0..n).rev() {
        let step = t - t0;
        let rec = step.min(pre - 1);
        let (kk, f) = (&tape.k[rec * m..(rec + 1) * m], tape.f[rec]);
        let v = tape.v[step];
        // a_{t+1} = T a_t + K v / F
        ss.transition_transpose(&abar, &mut abar_prev);
        for i in 0..r {
            phi_bar[i] += abar[d + i] * tape.a_d[step];
        }
        let ka: f64 = kk.iter().zip(&abar).map(|(x, y)| x * y).sum();
        let mut fbar = -ka * v / (f * f);
        let mut vbar = ka / f;
        if t >= d {
            vbar -= v / f;
            fbar -= 0.5 * (1.0 - v * v / f) / f;
        }
        // v = y − c − Z a
        for x in &mut abar_prev[..nz] {
            *x -= vbar;
        }
        c_bar -= vbar;
        std::mem::swap(&mut abar, &mut abar_prev);
        // K̄_t from the mean update: ā_{t+1} v / F (ā_{t+1} is now in abar_prev)
        if step >= pre {
            for (x, y) in frozen_k.iter_mut().zip(&abar_prev) {
                *x += y * v / f;
            }
            frozen_f += fbar;
            continue;
        }
        for (x, y) in kbar.iter_mut().zip(&abar_prev) {
            *x = y * v / f;
        }
        if step == pre - 1 {
            for (x, y) in kbar.iter_mut().zip(&frozen_k) {
                *x += y;
            }
            fbar += frozen_f;
        }
        // The covariance step t → t + 1; nothing used its result after
        // the last recorded step (steady from there, or the series ended).
        if rec + 1 == pre {
            std::mem::swap(&mut k_next, &mut kbar);
            f_next_bar = fbar;
            continue;
        }
        let (u, mm) = (
            &tape.u[rec * m * k..(rec + 1) * m * k],
            &tape.mm[rec * k * k..(rec + 1) * k * k],
        );
        let (z, s) = (&tape.z[rec * k..(rec + 1) * k], &tape.s[rec * k..(rec + 1) * k]);
        let (kn, f1) = (&tape.k[(rec + 1) * m..(rec + 2) * m], tape.f[rec + 1]);
        // W' = U − K' z / F'
        ubar.copy_from_slice(&w_next);
        for c in 0..k {
            let wc = &w_next[c * m..(c + 1) * m];
            let wk: f64 = wc.iter().zip(kn).map(|(x, y)| x * y).sum();
            for (x, y) in k_next.iter_mut().zip(wc) {
                *x -= y * z[c] / f1;
            }
            zbar[c] = -wk / f1;
            f_next_bar += z[c] * wk / (f1 * f1);
        }
        // M' = M + s s' / F
        mbar.copy_from_slice(&m_next);
        for i in 0..k {
            sbar[i] = (0..k)
                .map(|j| (m_next[i * k + j] + m_next[j * k + i]) * s[j])
                .sum::<f64>()
                / f;
            fbar -= s[i] * (0..k).map(|j| m_next[i * k + j] * s[j]).sum::<f64>() / (f * f);
        }
        // K' = K + U s
        for (x, y) in kbar.iter_mut().zip(&k_next) {
            *x += y;
        }
        for c in 0..k {
            let uc = &mut ubar[c * m..(c + 1) * m];
            for (x, y) in uc.iter_mut().zip(&k_next) {
                *x += y * s[c];
            }
            sbar[c] += u[c * m..(c + 1) * m]
                .iter()
                .zip(&k_next)
                .map(|(x, y)| x * y)
                .sum::<f64>();
        }
        // F' = F + z s
        fbar += f_next_bar;
        for c in 0..k {
            zbar[c] += f_next_bar * s[c];
            sbar[c] += f_next_bar * z[c];
        }
        // s = M z'
        for i in 0..k {
            for j in 0..k {
                mbar[i * k + j] += sbar[i] * z[j];
                zbar[j] += mm[i * k + j] * sbar[i];
            }
        }
        // z = Z W, U = T W
        for c in 0..k {
            let wb = &mut wbar[c * m..(c + 1) * m];
            ss.transition_transpose(&ubar[c * m..(c + 1) * m], wb);
            for x in &mut wb[..nz] {
                *x += zbar[c];
            }
            let wd = tape.wd[rec * k + c];
            for i in 0..r {
                phi_bar[i] += ubar[c * m + d + i] * wd;
            }
        }
        std::mem::swap(&mut k_next, &mut kbar);
        std::mem::swap(&mut w_next, &mut wbar);
        std::mem::swap(&mut m_next, &mut mbar);
        f_next_bar = fbar;
    }
    let mut sig_bar = vec![0.0; r];
    start_adjoint(
        ss,
        tape,
        &abar,
        k_next,
        f_next_bar,
        &w_next,
        &m_next,
        &mut phi_bar,
        &mut sig_bar,
    );
    Adjoint {
        constant: c_bar,
        phi: phi_bar,
        sigma_col0: sig_bar,
    }
}

/// The adjoint of [`start`]: from the adjoints of what it returns to
/// those of T's AR coefficients and Σ's first column.
#[allow(clippy::too_many_arguments)]
fn start_adjoint(
    ss: &StateSpace,
    tape: &Tape,
    abar: &[f64],
    mut kbar: Vec<f64>,
    mut fbar: f64,
    wbar: &[f64],
    mbar: &[f64],
    phi_bar: &mut [f64],
    sig_bar: &mut [f64],
) {
    let (m, d, r) = (ss.m, ss.d, ss.m - ss.d);
    let k = rank(d);
    let (st, pc) = start(ss, &[tape.v0 + ss.intercept]);
    let mut tmp = vec![0.0; m];
    // W's last column is K, M's last entry −1/F
    for (x, y) in kbar.iter_mut().zip(&wbar[(k - 1) * m..]) {
        *x += y;
    }
    fbar += mbar[k * k - 1] / (st.f * st.f);
    // K = T P Z', F = Z P Z'
    let mut pz_bar = vec![0.0; m];
    ss.transition_transpose(&kbar, &mut pz_bar);
    for i in 0..r {
        phi_bar[i] += kbar[d + i] * pc.pz[d];
    }
    for x in &mut pz_bar[..=d] {
        *x += fbar;
    }
    for i in 0..r {
        sig_bar[i] += pz_bar[d + i];
    }
    if d == 0 {
        return;
    }
    // d = 1: M's Σ_00 and ±1/F_0 entries, W's columns w and T w
    sig_bar[0] += mbar[0];
    let mut f0_bar = (mbar[2 * k + 2] - mbar[k + 1]) / (pc.f0 * pc.f0);
    let mut w_bar = wbar[m..2 * m].to_vec();
    ss.transition_transpose(&wbar[2 * m..3 * m], &mut tmp);
    for i in 0..m {
        w_bar[i] += tmp[i];
    }
    for i in 0..r {
        phi_bar[i] += wbar[2 * m + 1 + i] * pc.w[1];
    }
    // P_1 Z' = (0; Σ e_0) − w w_1 / F_0 (its Σ part is counted above)
    let pzw: f64 = pz_bar.iter().zip(&pc.w).map(|(x, y)| x * y).sum();
    for i in 0..m {
        w_bar[i] -= pz_bar[i] * pc.w[1] / pc.f0;
    }
    w_bar[1] -= pzw / pc.f0;
    f0_bar += pzw * pc.w[1] / (pc.f0 * pc.f0);
    // a_1 = (v_0; w v_0 / F_0)
    let aw: f64 = abar[1..].iter().zip(&pc.w[1..]).map(|(x, y)| x * y).sum();
    for i in 1..m {
        w_bar[i] += abar[i] * tape.v0 / pc.f0;
    }
    f0_bar -= aw * tape.v0 / (pc.f0 * pc.f0);
    // F_0 = κ + Σ_00; w_{1+i} = φ_i Σ_00 + Σ[i+1][0]
    sig_bar[0] += f0_bar;
    for i in 0..r {
        phi_bar[i] += w_bar[1 + i] * pc.sigma_00;
        sig_bar[0] += ss.phi[i] * w_bar[1 + i];
        if i + 1 < r {
            sig_bar[i + 1] += w_bar[1 + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kalman;
    use crate::params::Params;
    use crate::Order;

    fn series(n: usize) -> Vec<f64> {
        let mut state = 99u64;
        let mut level = 50.0;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                level += ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
                level + 0.3 * ((state >> 20) % 7) as f64
            })
            .collect()
    }

    /// The recursions give the conventional filter's likelihood.
    #[test]
    fn likelihood_matches_the_conventional_filter() {
        let y = series(300);
        let mut tape = Tape::default();
        for (order, theta) in [
            (Order::new(2, 0, 1), vec![50.0, 0.5, -0.2, 0.3, 0.8]),
            (Order::new(0, 0, 2), vec![50.0, 0.5, 0.2, 1.5]),
            (Order::new(1, 0, 1), vec![50.0, 0.9, -0.995, 1.5]),
            (Order::new(2, 0, 2), vec![50.0, 0.5, 0.2, -1.9, 0.905, 1.5]),
            (
                Order::new(10, 0, 2),
                [vec![50.0], vec![0.05; 10], vec![-0.7, 0.1, 1.2]].concat(),
            ),
            (Order::new(1, 1, 2), vec![0.4, -0.3, 0.2, 0.5]),
            (Order::new(0, 1, 1), vec![-0.95, 0.7]),
            (Order::new(5, 1, 1), vec![0.2, -0.1, 0.05, 0.0, -0.1, -0.9, 0.5]),
            (Order::new(3, 1, 0), vec![0.2, -0.1, 0.3, 0.5]),
        ] {
            let ss = StateSpace::new(&order, &Params::from_slice(&order, &theta)).unwrap();
            let (fast, _) = record(&ss, &y, &mut tape).unwrap();
            let conventional = kalman::loglike(&ss, &y);
            assert!(
                (fast - conventional).abs() < 1e-9 * conventional.abs(),
                "{order}: {fast} vs {conventional}"
            );
        }
    }
}
