//! A small BFGS minimiser for objectives with exact gradients.
//!
//! statsmodels stops L-BFGS-B after 50 iterations or at a loose tolerance
//! on a forward-difference gradient; this one runs to a tighter optimum so
//! it never ends at a lower likelihood from the same start.

/// How the search ended.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    /// The final inverse-Hessian approximation (row-major), to warm-start
    /// a search on a nearby problem.
    pub h: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub max_iter: usize,
    /// Stop when the largest gradient component is below this.
    pub gtol: f64,
    /// Stop when an iteration improves f by less than this (relative).
    pub ftol: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_iter: 200,
            gtol: 1e-7,
            ftol: 1e-13,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `obj` by BFGS from `x0`, with `h0` as the initial inverse Hessian when
/// given (else the identity). Returns `None` when f is not finite at x0.
pub(crate) fn minimize(obj: &mut impl Objective, x0: &[f64], h0: Option<&[f64]>, s: Settings) -> Option<Minimum> {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = obj.value_and_gradient(&x, &mut g).filter(|f| f.is_finite())?;
    // Inverse Hessian approximation, row-major.
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    let mut first = true;
    if let Some(h0) = h0.filter(|h0| h0.len() == n * n) {
        h.copy_from_slice(h0);
        first = false;
    }
    let (mut xn, mut gn, mut dir) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut sv, mut yv) = (vec![0.0; n], vec![0.0; n]);
    for iter in 0..s.max_iter {
        if g.iter().all(|v| v.abs() < s.gtol) {
            return Some(Minimum {
                x,
                h,
                iterations: iter,
                converged: true,
            });
        }
        for i in 0..n {
            dir[i] = -dot(&h[i * n..(i + 1) * n], &g);
        }
        let mut slope = dot(&dir, &g);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            h.iter_mut()
                .enumerate()
                .for_each(|(k, v)| *v = f64::from(k % (n + 1) == 0));
            dir.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
            slope = -dot(&g, &g);
            first = true;
        }
        // Strong-Wolfe line search; the first step of a fresh search is
        // kept short, as L-BFGS-B does.
        let step0 = if first {
            (1.0 / dot(&g, &g).sqrt()).min(1.0)
        } else {
            1.0
        };
        let mut phi = |alpha: f64, with_slope: bool, xn: &mut [f64], gn: &mut [f64]| -> (f64, f64) {
            for i in 0..n {
                xn[i] = x[i] + alpha * dir[i];
            }
            if !with_slope {
                let fv = obj.value(xn);
                return (if fv.is_finite() { fv } else { f64::INFINITY }, f64::NAN);
            }
            match obj.value_and_gradient(xn, gn) {
                Some(fv) if fv.is_finite() => (fv, dot(gn, &dir)),
                _ => (f64::INFINITY, f64::NAN),
            }
        };
        let Some(fnew) = wolfe(&mut phi, fx, slope, step0, &mut xn, &mut gn) else {
            // No further progress is possible at working precision.
            let converged = g.iter().all(|v| v.abs() < 1e-4);
            return Some(Minimum {
                x,
                h,
                iterations: iter,
                converged,
            });
        };
        for i in 0..n {
            sv[i] = xn[i] - x[i];
            yv[i] = gn[i] - g[i];
        }
        let sy = dot(&sv, &yv);
        if sy > 1e-12 * dot(&sv, &sv).sqrt() * dot(&yv, &yv).sqrt() {
            if first {
                let scale = sy / dot(&yv, &yv);
                h.iter_mut()
                    .enumerate()
                    .for_each(|(k, v)| *v = if k % (n + 1) == 0 { scale } else { 0.0 });
                first = false;
            }
            bfgs_update(&mut h, &sv, &yv, sy);
        }
        let improvement = fx - fnew;
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut g, &mut gn);
        fx = fnew;
        if improvement <= s.ftol * fx.abs().max(1.0) && g.iter().all(|v| v.abs() < 1e-4) {
            return Some(Minimum {
                x,
                h,
                iterations: iter + 1,
                converged: true,
            });
        }
    }
    let converged = g.iter().all(|v| v.abs() < 1e-4);
    Some(Minimum {
        x,
        h,
        iterations: s.max_iter,
        converged,
    })
}

/// An objective with its exact gradient.
pub(crate) trait Objective {
    /// f(x), +∞ where it is not defined.
    fn value(&mut self, x: &[f64]) -> f64;
    /// f(x), with its gradient written to `g`; `None` where f is not defined.
    fn value_and_gradient(&mut self, x: &[f64], g: &mut [f64]) -> Option<f64>;
}

/// Finds a step satisfying the strong Wolfe conditions (Nocedal & Wright,
/// algorithms 3.5 and 3.6, with safeguarded interpolation).
/// `phi(alpha, with_slope)` returns f and, when asked, the directional
/// derivative at x + alpha·dir, leaving that point and its gradient in
/// `xn`, `gn`. The gradient (the costlier call) is only computed at
/// points that pass the sufficient-decrease test.
fn wolfe(
    phi: &mut impl FnMut(f64, bool, &mut [f64], &mut [f64]) -> (f64, f64),
    f0: f64,
    slope0: f64,
    step0: f64,
    xn: &mut [f64],
    gn: &mut [f64],
) -> Option<f64> {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    let (mut lo, mut f_lo, mut d_lo) = (0.0, f0, slope0);
    let mut alpha = step0;
    let mut hi = f64::INFINITY;
    let (mut f_hi, mut d_hi) = (f64::NAN, f64::NAN);
    let mut best: Option<f64> = None;
    for _ in 0..40 {
        let (fa, _) = phi(alpha, false, xn, gn);
        if !fa.is_finite() || fa > f0 + C1 * alpha * slope0 || (fa >= f_lo && lo > 0.0) {
            hi = alpha;
            (f_hi, d_hi) = (fa, f64::NAN);
        } else {
            let (fa, da) = phi(alpha, true, xn, gn);
            if !da.is_finite() {
                return None;
            }
            if da.abs() <= -C2 * slope0 {
                return Some(fa);
            }
            best = Some(alpha);
            if da * (hi - lo) >= 0.0 || (hi.is_infinite() && da > 0.0) {
                hi = lo;
                (f_hi, d_hi) = (f_lo, d_lo);
            }
            lo = alpha;
            (f_lo, d_lo) = (fa, da);
        }
        alpha = if hi.is_infinite() {
            alpha * 2.0
        } else {
            let mid = 0.5 * (lo + hi);
            let c = cubic_min(lo, f_lo, d_lo, hi, f_hi, d_hi)
                .or_else(|| quadratic_min(lo, f_lo, d_lo, hi, f_hi))
                .unwrap_or(mid);
            let (a, b) = if lo < hi { (lo, hi) } else { (hi, lo) };
            let margin = 0.1 * (b - a);
            if c > a + margin && c < b - margin {
                c
            } else {
                mid
            }
        };
        if (hi - lo).abs() < 1e-16 * lo.abs().max(1e-300) {
            break;
        }
    }
    // Wolfe not met: accept the best sufficient-decrease point, if any.
    let a = best?;
    let (fa, _) = phi(a, true, xn, gn);
    (fa < f0).then_some(fa)
}

/// Minimiser of the parabola through (a, fa) with slope da, and (b, fb).
fn quadratic_min(a: f64, fa: f64, da: f64, b: f64, fb: f64) -> Option<f64> {
    let h = b - a;
    let curv = fb - fa - da * h;
    if !(curv > 0.0 && fb.is_finite()) {
        return None;
    }
    Some(a - da * h * h / (2.0 * curv))
}

/// Minimiser of the cubic through (a, fa, da) and (b, fb, db).
fn cubic_min(a: f64, fa: f64, da: f64, b: f64, fb: f64, db: f64) -> Option<f64> {
    if !(fb.is_finite() && db.is_finite()) {
        return None;
    }
    let d1 = da + db - 3.0 * (fa - fb) / (a - b);
    let disc = d1 * d1 - da * db;
    if disc < 0.0 {
        return None;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let c = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    c.is_finite().then_some(c)
}

/// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1 / sᵀy.
fn bfgs_update(h: &mut [f64], s: &[f64], y: &[f64], sy: f64) {
    let n = s.len();
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..n).map(|i| dot(&h[i * n..(i + 1) * n], y)).collect();
    let yhy = dot(y, &hy);
    for i in 0..n {
        for j in 0..n {
            h[i * n + j] += rho * ((1.0 + rho * yhy) * s[i] * s[j] - hy[i] * s[j] - s[i] * hy[j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn value(&mut self, x: &[f64]) -> f64 {
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        }
        fn value_and_gradient(&mut self, x: &[f64], g: &mut [f64]) -> Option<f64> {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            Some(self.value(x))
        }
    }

    #[test]
    fn minimises_rosenbrock() {
        let settings = Settings {
            max_iter: 500,
            ..Settings::default()
        };
        let m = minimize(&mut Rosenbrock, &[-1.2, 1.0], None, settings).unwrap();
        assert!((m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5, "{m:?}");
        assert!(m.converged);
    }

    struct Undefined;
    impl Objective for Undefined {
        fn value(&mut self, _: &[f64]) -> f64 {
            f64::NAN
        }
        fn value_and_gradient(&mut self, _: &[f64], _: &mut [f64]) -> Option<f64> {
            None
        }
    }

    #[test]
    fn refuses_non_finite_start() {
        assert!(minimize(&mut Undefined, &[0.0], None, Settings::default()).is_none());
    }
}
