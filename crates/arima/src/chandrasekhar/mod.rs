//! The likelihood and its gradient by the Chandrasekhar recursions (Morf,
//! Sidhu & Kailath 1974; Herbst 2015), for the likelihood search. The
//! conventional filter ([`crate::kalman`]) stays for the fitted model's
//! log-likelihood, predictions and forecasts, and checks this one in tests.
//!
//! The conventional filter moves the whole m × m covariance every step,
//! and for ARIMA with an MA part it never reaches the steady state within
//! a year of days. But the change ΔP_t = P_{t+1} − P_t has rank k = d + 1
//! here, so it is carried as W_t M_t W_t' (W: m × k, M: k × k), with
//! K_t = T P_t Z' and F_t = Z P_t Z'; a step then costs O(m k), not O(m²):
//!
//! ```text
//! z = Z W,  s = M z'
//! F' = F + z s,  K' = K + T W s,  M' = M + s s' / F,  W' = T W − K' z / F'
//! ```
//!
//! The recursions begin at period d, after the burned periods, from the
//! closed form in [`start`]. The steady-state switch is statsmodels' own:
//! Σ (ΔP_t)² < 1e-19. Counted per order over a walk-forward on the EWR
//! series (cachegrind), they take fewer instructions than the conventional
//! filter and its adjoint on every order of the grid, pure AR included.
//!
//! The gradient is the adjoint of the recursions, then of the start, which
//! depends on the parameters through T's AR coefficients and Σ's first
//! column.

mod start;

use crate::kalman::{CONVERGENCE_TOLERANCE, LN_2PI};
use crate::ssm::StateSpace;
use start::{rank, start, Dual};

/// The forward pass's record, reused between evaluations.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// The first recursion period (d) and the burned observations less the constant.
    t0: usize,
    y0: Vec<f64>,
    /// Innovations v_t and the predicted AR state a_t[d], every step from t0.
    v: Vec<f64>,
    a_d: Vec<f64>,
    /// Of the steps before the steady state (the last is the frozen one):
    /// U_t = T W_t (m rows of k), z_t, s_t, row d of W_t, M_t (k × k),
    /// K_t and F_t.
    u: Vec<f64>,
    z: Vec<f64>,
    s: Vec<f64>,
    wd: Vec<f64>,
    mm: Vec<f64>,
    k: Vec<f64>,
    f: Vec<f64>,
    /// Where the pass stopped, for [`extend`].
    end: Option<End>,
    /// How many passes were continued rather than rerun.
    #[cfg(test)]
    pub continued: usize,
}

/// An m × k matrix is held as m rows of k (W, T W and their adjoints):
/// the recursions' work is row by row, k wide.
type Row<const K: usize> = [f64; K];

#[inline(always)]
fn dot<const K: usize>(a: &Row<K>, b: &Row<K>) -> f64 {
    (0..K).map(|c| a[c] * b[c]).sum()
}

/// Runs the recursions over `y`, recording them. Returns the
/// log-likelihood and the predicted state past the end, `None` where a
/// forecast variance is not positive.
pub(crate) fn record(ss: &StateSpace, y: &[f64], tape: &mut Tape) -> Option<(f64, Vec<f64>)> {
    match rank(ss.d) {
        1 => record_k::<1>(ss, y, tape),
        2 => record_k::<2>(ss, y, tape),
        _ => record_k::<3>(ss, y, tape),
    }
}

/// Continues the last [`record`]ed pass, for the same model, over the
/// observations `y` adds to the series it ran on (the caller checks that
/// that series is `y`'s prefix): the result is that of `record(ss, y)`,
/// bit for bit, at the cost of the new steps only. `None` if there is no
/// pass to continue.
pub(crate) fn extend(ss: &StateSpace, y: &[f64], tape: &mut Tape) -> Option<(f64, Vec<f64>)> {
    match rank(ss.d) {
        1 => extend_k::<1>(ss, y, tape),
        2 => extend_k::<2>(ss, y, tape),
        _ => extend_k::<3>(ss, y, tape),
    }
}

/// The recursions' state between two periods.
struct State<const K: usize> {
    a: Vec<f64>,
    w: Vec<Row<K>>,
    mm: [Row<K>; K],
    kk: Vec<f64>,
    f: f64,
    converged: bool,
    llf: f64,
}

/// A [`State`] saved in the tape, with the number of observations it has seen.
#[derive(Debug, Default)]
struct End {
    n: usize,
    a: Vec<f64>,
    w: Vec<f64>,
    mm: Vec<f64>,
    kk: Vec<f64>,
    f: f64,
    converged: bool,
    llf: f64,
}

fn record_k<const K: usize>(ss: &StateSpace, y: &[f64], tape: &mut Tape) -> Option<(f64, Vec<f64>)> {
    let (m, d) = (ss.m, ss.d);
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
    tape.end = None;
    let t0 = d;
    if y.len() <= t0 {
        return None;
    }
    tape.t0 = t0;
    tape.y0 = y[..t0].iter().map(|v| v - ss.intercept).collect();
    let st = start(d, &ss.phi, &sigma_col0(ss), &tape.y0);
    let state = State::<K> {
        a: st.a,
        w: (0..m).map(|i| std::array::from_fn(|c| st.w[c * m + i])).collect(),
        mm: std::array::from_fn(|i| std::array::from_fn(|j| st.mm[i * K + j])),
        kk: st.k,
        f: st.f,
        converged: false,
        llf: 0.0,
    };
    run_k(ss, y, t0, state, tape)
}

fn extend_k<const K: usize>(ss: &StateSpace, y: &[f64], tape: &mut Tape) -> Option<(f64, Vec<f64>)> {
    let end = tape.end.take()?;
    #[cfg(test)]
    {
        tape.continued += 1;
    }
    let state = State::<K> {
        a: end.a,
        w: end.w.as_chunks::<K>().0.to_vec(),
        mm: std::array::from_fn(|i| std::array::from_fn(|j| end.mm[i * K + j])),
        kk: end.kk,
        f: end.f,
        converged: end.converged,
        llf: end.llf,
    };
    run_k(ss, y, end.n, state, tape)
}

/// The recursions over `y[from..]`, recorded on `tape`, which keeps where they stopped.
fn run_k<const K: usize>(
    ss: &StateSpace,
    y: &[f64],
    from: usize,
    st: State<K>,
    tape: &mut Tape,
) -> Option<(f64, Vec<f64>)> {
    let (m, d) = (ss.m, ss.d);
    let nz = d + 1;
    let State {
        mut a,
        mut w,
        mut mm,
        mut kk,
        mut f,
        mut converged,
        mut llf,
    } = st;
    let (mut an, mut u) = (vec![0.0; m], vec![[0.0; K]; m]);
    for (t, &yt) in y.iter().enumerate().skip(from) {
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
        // U = T W, z = Z W, s = M z'
        ss.transition_rows(&w, &mut u);
        let mut z = [0.0; K];
        for row in &w[..nz] {
            for c in 0..K {
                z[c] += row[c];
            }
        }
        let s: Row<K> = std::array::from_fn(|i| dot(&mm[i], &z));
        let fz = dot(&z, &s);
        tape.u.extend_from_slice(u.as_flattened());
        tape.z.extend(z);
        tape.s.extend(s);
        tape.wd.extend(w[d]);
        tape.mm.extend_from_slice(mm.as_flattened());
        tape.k.extend_from_slice(&kk);
        tape.f.push(f);
        if t >= 1 && steady(&w, &mm, fz, nz) {
            converged = true; // keep K_t and F_t from now on
            continue;
        }
        let f_next = f + fz;
        for i in 0..K {
            for j in 0..K {
                mm[i][j] += s[i] * s[j] / f;
            }
        }
        // K' = K + U s and W' = U − K' z / F', row by row
        for ((x, ui), wi) in kk.iter_mut().zip(&u).zip(w.iter_mut()) {
            *x += dot(ui, &s);
            let g = *x / f_next;
            for c in 0..K {
                wi[c] = ui[c] - g * z[c];
            }
        }
        f = f_next;
    }
    if !llf.is_finite() {
        return None;
    }
    tape.end = Some(End {
        n: y.len(),
        a: a.clone(),
        w: w.as_flattened().to_vec(),
        mm: mm.as_flattened().to_vec(),
        kk,
        f,
        converged,
        llf,
    });
    Some((llf, a))
}

/// Σ's first column, the stationary block of P_0 at (d, d) down.
fn sigma_col0(ss: &StateSpace) -> Vec<f64> {
    (ss.d..ss.m).map(|i| ss.p0[i * ss.m + ss.d]).collect()
}

/// statsmodels' steady-state test Σ (ΔP)² < 1e-19, with ΔP = W M W'.
/// |Z ΔP Z'| ≤ nz ‖ΔP‖, so most steps are settled by the change of F
/// alone; otherwise ‖W M W'‖² = tr(M G M G) with G = W'W.
fn steady<const K: usize>(w: &[Row<K>], mm: &[Row<K>; K], fz: f64, nz: usize) -> bool {
    if fz * fz >= (nz * nz) as f64 * CONVERGENCE_TOLERANCE {
        return false;
    }
    let mut g = [[0.0; K]; K];
    for row in w {
        for i in 0..K {
            for j in 0..K {
                g[i][j] += row[i] * row[j];
            }
        }
    }
    let mg: [Row<K>; K] = std::array::from_fn(|i| std::array::from_fn(|j| (0..K).map(|l| mm[i][l] * g[l][j]).sum()));
    let norm2: f64 = (0..K)
        .flat_map(|i| (0..K).map(move |j| (i, j)))
        .map(|(i, j)| mg[i][j] * mg[j][i])
        .sum();
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

/// The backward pass over the last [`record`]ed one, for a model with
/// `p` AR coefficients (some may be zero).
pub(crate) fn adjoint(ss: &StateSpace, p: usize, tape: &Tape) -> Adjoint {
    match rank(ss.d) {
        1 => adjoint_k::<1>(ss, p, tape),
        2 => adjoint_k::<2>(ss, p, tape),
        _ => adjoint_k::<3>(ss, p, tape),
    }
}

fn adjoint_k<const K: usize>(ss: &StateSpace, p: usize, tape: &Tape) -> Adjoint {
    let (m, d) = (ss.m, ss.d);
    let (nz, r) = (d + 1, ss.m - ss.d);
    let n = tape.t0 + tape.v.len();
    let pre = tape.f.len();
    let mut phi_bar = vec![0.0; r];
    let mut c_bar = 0.0;
    let (mut abar, mut abar_prev) = (vec![0.0; m], vec![0.0; m]);
    // Adjoints of K, F, W, M at t + 1 (`_next`) and at t.
    let (mut k_next, mut f_next_bar) = (vec![0.0; m], 0.0);
    let (mut w_next, mut m_next) = (vec![[0.0; K]; m], [[0.0; K]; K]);
    let (mut kbar, mut wbar, mut ubar) = (vec![0.0; m], vec![[0.0; K]; m], vec![[0.0; K]; m]);
    let (mut frozen_k, mut frozen_f) = (vec![0.0; m], 0.0);
    let t0 = tape.t0;
    for t in (t0..n).rev() {
        let step = t - t0;
        let rec = step.min(pre - 1);
        let (kk, f) = (&tape.k[rec * m..(rec + 1) * m], tape.f[rec]);
        let v = tape.v[step];
        // a_{t+1} = T a_t + K v / F
        ss.transition_transpose(&abar, &mut abar_prev);
        let a_d = tape.a_d[step];
        for (g, ab) in phi_bar.iter_mut().zip(&abar[d..]) {
            *g += ab * a_d;
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
        let u = &tape.u[rec * m * K..(rec + 1) * m * K].as_chunks::<K>().0;
        let mm = &tape.mm[rec * K * K..(rec + 1) * K * K].as_chunks::<K>().0;
        let row = |x: &[f64]| -> Row<K> { std::array::from_fn(|c| x[rec * K + c]) };
        let (z, s, wd) = (row(&tape.z), row(&tape.s), row(&tape.wd));
        let (kn, f1) = (&tape.k[(rec + 1) * m..(rec + 2) * m], tape.f[rec + 1]);
        // W' = U − K' z / F' and K' = K + U s, row by row (K̄' is complete
        // once W' has added to it); then M' = M + s s' / F
        let mut zbar = [0.0; K];
        let mut sbar: Row<K> =
            std::array::from_fn(|i| (0..K).map(|j| (m_next[i][j] + m_next[j][i]) * s[j]).sum::<f64>() / f);
        fbar -= (0..K).map(|i| s[i] * dot(&m_next[i], &s)).sum::<f64>() / (f * f);
        let mut mbar = m_next;
        std::mem::swap(&mut ubar, &mut w_next); // Ū starts as W̄'
        for ((((kb, kx), &knext), ub), ui) in kbar
            .iter_mut()
            .zip(k_next.iter_mut())
            .zip(kn)
            .zip(ubar.iter_mut())
            .zip(u.iter())
        {
            let wz = dot(ub, &z);
            *kx -= wz / f1;
            f_next_bar += knext * wz / (f1 * f1);
            *kb += *kx;
            for c in 0..K {
                zbar[c] -= knext * ub[c] / f1;
                ub[c] += *kx * s[c];
                sbar[c] += ui[c] * *kx;
            }
        }
        // F' = F + z s
        fbar += f_next_bar;
        for c in 0..K {
            zbar[c] += f_next_bar * s[c];
            sbar[c] += f_next_bar * z[c];
        }
        // s = M z'
        for i in 0..K {
            for j in 0..K {
                mbar[i][j] += sbar[i] * z[j];
                zbar[j] += mm[i][j] * sbar[i];
            }
        }
        // z = Z W, U = T W
        ss.transition_transpose_rows(&ubar, &mut wbar);
        for row in &mut wbar[..nz] {
            for c in 0..K {
                row[c] += zbar[c];
            }
        }
        for (g, ur) in phi_bar.iter_mut().zip(&ubar[d..]) {
            *g += dot(ur, &wd);
        }
        std::mem::swap(&mut k_next, &mut kbar);
        std::mem::swap(&mut w_next, &mut wbar);
        m_next = mbar;
        f_next_bar = fbar;
    }
    // The start, differentiated along each AR coefficient and each entry
    // of Σ's first column (direction j < p is φ_j, then s_{j−p}), LANES
    // directions per run, contracted with the adjoints of what it returns
    // (its W is column-major).
    const LANES: usize = 8;
    let (phi, s) = (ss.phi.clone(), sigma_col0(ss));
    let mut start_bar = vec![0.0; p + r];
    for (run, out) in start_bar.chunks_mut(LANES).enumerate() {
        // x[i] varies along direction `dir(i)`, if any.
        let seed = |x: &[f64], dir: &dyn Fn(usize) -> Option<usize>| -> Vec<Dual<LANES>> {
            x.iter()
                .enumerate()
                .map(|(i, &v)| Dual {
                    v,
                    d: std::array::from_fn(|l| f64::from(dir(i) == Some(run * LANES + l))),
                })
                .collect()
        };
        let phi_dual = seed(&phi, &|i| (i < p).then_some(i));
        let st = start(d, &phi_dual, &seed(&s, &|i| Some(p + i)), &tape.y0);
        for (l, g) in out.iter_mut().enumerate() {
            let dot = |bar: &[f64], x: &[Dual<LANES>]| bar.iter().zip(x).map(|(b, x)| b * x.d[l]).sum::<f64>();
            let w_term: f64 = (0..K * m).map(|cm| w_next[cm % m][cm / m] * st.w[cm].d[l]).sum();
            *g = dot(&abar, &st.a)
                + w_term
                + dot(m_next.as_flattened(), &st.mm)
                + dot(&k_next, &st.k)
                + f_next_bar * st.f.d[l];
        }
    }
    for (g, sb) in phi_bar.iter_mut().zip(&start_bar[..p]) {
        *g += sb;
    }
    let sig_bar = start_bar[p..].to_vec();
    Adjoint {
        constant: c_bar,
        phi: phi_bar,
        sigma_col0: sig_bar,
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
            (Order::new(0, 2, 1), vec![-0.95, 0.7]),
            (Order::new(3, 2, 2), vec![0.3, -0.2, 0.1, -1.2, 0.3, 0.9]),
            (Order::new(10, 2, 2), [vec![0.05; 10], vec![-1.9, 0.91, 1.2]].concat()),
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
