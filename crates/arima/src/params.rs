//! Model parameters and statsmodels' transforms between the constrained
//! space (stationary AR, invertible MA, positive variance) and the
//! unconstrained space the optimiser walks in.

use crate::{ArimaError, Order};

/// Parameters of a fitted ARIMA in statsmodels' sign convention:
/// `y_t = c + u_t`, `(1 - Σ ar_i L^i) Δ^d u_t = (1 + Σ ma_i L^i) e_t`, `e_t ~ N(0, sigma2)`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Params {
    /// The constant (mean of the series), only when d = 0.
    pub constant: Option<f64>,
    /// AR coefficients, lag 1 first.
    pub ar: Vec<f64>,
    /// MA coefficients, lag 1 first.
    pub ma: Vec<f64>,
    /// Innovation variance.
    pub sigma2: f64,
}

impl Params {
    /// All parameters in statsmodels' order: const, ar.L1.., ma.L1.., sigma2.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.constant.into_iter().collect();
        v.extend(&self.ar);
        v.extend(&self.ma);
        v.push(self.sigma2);
        v
    }

    /// Reads parameters laid out as [`Params::to_vec`] writes them.
    pub fn from_slice(order: &Order, v: &[f64]) -> Params {
        let c = usize::from(order.has_constant());
        Params {
            constant: order.has_constant().then(|| v[0]),
            ar: v[c..c + order.p].to_vec(),
            ma: v[c + order.p..c + order.p + order.q].to_vec(),
            sigma2: v[c + order.p + order.q],
        }
    }

    /// Checks the parameters are laid out for `order`, as [`Params::from_slice`]
    /// lays them out: a constant exactly when d = 0, p AR and q MA coefficients.
    pub fn check_layout(&self, order: &Order) -> Result<(), ArimaError> {
        let why = if self.constant.is_some() != order.has_constant() {
            if order.has_constant() {
                "no constant, d is 0".to_string()
            } else {
                format!("a constant, d is {}", order.d)
            }
        } else if self.ar.len() != order.p {
            format!("{} AR coefficients, p is {}", self.ar.len(), order.p)
        } else if self.ma.len() != order.q {
            format!("{} MA coefficients, q is {}", self.ma.len(), order.q)
        } else {
            return Ok(());
        };
        Err(ArimaError::ParamsMismatch { order: *order, why })
    }

    /// Names in statsmodels' style, matching [`Params::to_vec`].
    pub fn names(order: &Order) -> Vec<String> {
        let mut n = Vec::new();
        if order.has_constant() {
            n.push("const".to_string());
        }
        n.extend((1..=order.p).map(|i| format!("ar.L{i}")));
        n.extend((1..=order.q).map(|i| format!("ma.L{i}")));
        n.push("sigma2".to_string());
        n
    }
}

/// Maps unconstrained values to the coefficients of a stationary AR
/// polynomial (Monahan 1984, via partial autocorrelations), as
/// statsmodels' `constrain_stationary_univariate`, sign flip included.
pub(crate) fn constrain_stationary(x: &[f64], out: &mut [f64]) {
    let n = x.len();
    // y[k][i] kept in two rolling rows: only row k-1 is needed for row k.
    let mut prev = [0.0; crate::order::MAX_P + 1];
    let mut cur = [0.0; crate::order::MAX_P + 1];
    for k in 0..n {
        let r = x[k] / (1.0 + x[k] * x[k]).sqrt();
        for i in 0..k {
            cur[i] = prev[i] + r * prev[k - i - 1];
        }
        cur[k] = r;
        prev[..=k].copy_from_slice(&cur[..=k]);
    }
    for i in 0..n {
        out[i] = -prev[i];
    }
}

/// The Jacobian of [`constrain_stationary`] at `x`, row-major n × n
/// (row: output, column: input), by differentiating the recursion.
pub(crate) fn constrain_stationary_jacobian(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut prev = [0.0; crate::order::MAX_P + 1];
    let mut cur = [0.0; crate::order::MAX_P + 1];
    // dprev[i * n + j] = ∂prev[i] / ∂x_j.
    let (mut dprev, mut dcur) = (vec![0.0; n * n], vec![0.0; n * n]);
    for k in 0..n {
        let s = 1.0 + x[k] * x[k];
        let (r, dr) = (x[k] / s.sqrt(), 1.0 / (s * s.sqrt()));
        for i in 0..k {
            cur[i] = prev[i] + r * prev[k - i - 1];
            for j in 0..n {
                dcur[i * n + j] = dprev[i * n + j] + r * dprev[(k - i - 1) * n + j];
            }
            dcur[i * n + k] += dr * prev[k - i - 1];
        }
        cur[k] = r;
        dcur[k * n..(k + 1) * n].fill(0.0);
        dcur[k * n + k] = dr;
        prev[..=k].copy_from_slice(&cur[..=k]);
        dprev[..(k + 1) * n].copy_from_slice(&dcur[..(k + 1) * n]);
    }
    dprev.iter_mut().for_each(|v| *v = -*v);
    dprev
}

/// Inverse of [`constrain_stationary`]. Returns `None` when the
/// coefficients are not stationary (a partial autocorrelation reaches ±1).
pub(crate) fn unconstrain_stationary(c: &[f64]) -> Option<Vec<f64>> {
    let pacf = partial_autocorrelations(c)?;
    Some(pacf.iter().map(|r| r / (1.0 - r * r).sqrt()).collect())
}

/// Step-down (Schur–Cohn) recursion: the partial autocorrelations of the
/// AR polynomial `1 - Σ c_i z^i`, or `None` if it has a root on or inside
/// the unit circle. This is statsmodels' stationarity test without
/// computing roots.
fn partial_autocorrelations(c: &[f64]) -> Option<Vec<f64>> {
    let n = c.len();
    let mut y: Vec<f64> = c.iter().map(|v| -v).collect();
    let mut r = vec![0.0; n];
    for k in (0..n).rev() {
        let rk = y[k];
        // statsmodels' is_invertible treats roots within 1e-10 of the circle as unit roots.
        if !rk.is_finite() || rk.abs() >= 1.0 - 1e-10 {
            return None;
        }
        r[k] = rk;
        let denom = 1.0 - rk * rk;
        let next: Vec<f64> = (0..k).map(|i| (y[i] - rk * y[k - i - 1]) / denom).collect();
        y[..k].copy_from_slice(&next);
    }
    Some(r)
}

/// Whether `1 - Σ ar_i z^i` has all roots outside the unit circle.
pub fn is_stationary(ar: &[f64]) -> bool {
    partial_autocorrelations(ar).is_some()
}

/// Whether `1 + Σ ma_i z^i` has all roots outside the unit circle.
pub fn is_invertible(ma: &[f64]) -> bool {
    let neg: Vec<f64> = ma.iter().map(|v| -v).collect();
    is_stationary(&neg)
}

/// Constrained → unconstrained vector for the optimiser, or `None` if the
/// AR part is not stationary or the MA part not invertible.
pub(crate) fn untransform(order: &Order, p: &Params) -> Option<Vec<f64>> {
    let mut x: Vec<f64> = p.constant.into_iter().collect();
    x.extend(unconstrain_stationary(&p.ar)?);
    let neg_ma: Vec<f64> = p.ma.iter().map(|v| -v).collect();
    x.extend(unconstrain_stationary(&neg_ma)?);
    x.push(p.sigma2.sqrt());
    debug_assert_eq!(x.len(), order.n_params());
    Some(x)
}

/// Unconstrained optimiser vector → constrained parameters.
pub(crate) fn transform(order: &Order, x: &[f64]) -> Params {
    let c = usize::from(order.has_constant());
    let mut ar = vec![0.0; order.p];
    constrain_stationary(&x[c..c + order.p], &mut ar);
    let mut ma = vec![0.0; order.q];
    constrain_stationary(&x[c + order.p..c + order.p + order.q], &mut ma);
    ma.iter_mut().for_each(|v| *v = -*v);
    let s = x[c + order.p + order.q];
    Params {
        constant: order.has_constant().then(|| x[0]),
        ar,
        ma,
        sigma2: s * s,
    }
}

/// ∂(constrained parameters) / ∂(unconstrained vector) at `x`, row-major
/// k × k in [`Params::to_vec`] order; block diagonal.
pub(crate) fn transform_jacobian(order: &Order, x: &[f64]) -> Vec<f64> {
    let k = x.len();
    let c = usize::from(order.has_constant());
    let mut jac = vec![0.0; k * k];
    if c == 1 {
        jac[0] = 1.0;
    }
    for (start, len, sign) in [(c, order.p, 1.0), (c + order.p, order.q, -1.0)] {
        let block = constrain_stationary_jacobian(&x[start..start + len]);
        for i in 0..len {
            for j in 0..len {
                jac[(start + i) * k + start + j] = sign * block[i * len + j];
            }
        }
    }
    jac[k * k - 1] = 2.0 * x[k - 1];
    jac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobian_matches_differences() {
        let order = Order::new(4, 0, 2);
        let x = [3.0, 0.4, -0.8, 1.5, 0.2, -0.6, -1.1, 1.7];
        let jac = transform_jacobian(&order, &x);
        let k = x.len();
        for j in 0..k {
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let (tu, td) = (transform(&order, &up).to_vec(), transform(&order, &down).to_vec());
            for i in 0..k {
                let fd = (tu[i] - td[i]) / 2e-6;
                assert!(
                    (jac[i * k + j] - fd).abs() < 1e-8,
                    "d{i}/dx{j}: {} vs {fd}",
                    jac[i * k + j]
                );
            }
        }
    }

    #[test]
    fn transform_round_trips() {
        let order = Order::new(3, 0, 2);
        let p = Params {
            constant: Some(4.0),
            ar: vec![0.5, -0.2, 0.1],
            ma: vec![0.3, 0.1],
            sigma2: 2.5,
        };
        let x = untransform(&order, &p).unwrap();
        let back = transform(&order, &x);
        for (a, b) in p.to_vec().iter().zip(back.to_vec()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn stationarity_matches_roots() {
        assert!(is_stationary(&[0.5]));
        assert!(!is_stationary(&[1.0]));
        assert!(!is_stationary(&[1.2, -0.1]));
        // 1 - 1.5z + 0.56z^2 = (1-0.7z)(1-0.8z): stationary.
        assert!(is_stationary(&[1.5, -0.56]));
        // 1 - 0.5z - 0.5z^2 has a unit root.
        assert!(!is_stationary(&[0.5, 0.5]));
        assert!(is_invertible(&[0.9]));
        assert!(!is_invertible(&[-1.1]));
    }
}
