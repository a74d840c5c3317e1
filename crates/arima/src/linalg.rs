//! The little dense linear algebra the core needs, on ndarray, with no
//! LAPACK: minimum-norm least squares (numpy's `pinv(X) @ y`) and a
//! pivoted Gaussian solve.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// `pinv(x) @ y` as numpy computes it: singular values below
/// `1e-15 * s_max` are dropped, so rank-deficient systems get the
/// minimum-norm solution. x (n × k, n up to a few hundred, k ≤ 13) is
/// first reduced to its k × k triangle R by Householder QR, which keeps
/// its singular values, and since x⁺ = R⁺ Q', the one-sided Jacobi SVD
/// then works on R and Q'y alone.
pub(crate) fn lstsq_min_norm(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Array1<f64> {
    let (n, k) = x.dim();
    if n == 0 || k == 0 {
        return Array1::zeros(k);
    }
    let mut cols: Vec<Vec<f64>> = x.axis_iter(Axis(1)).map(|c| c.to_vec()).collect();
    let mut y = y.to_vec();
    if n > k {
        householder_qr(&mut cols, &mut y);
        for c in &mut cols {
            c.truncate(k);
        }
        y.truncate(k);
    }
    let mut v: Vec<Vec<f64>> = (0..k).map(|i| (0..k).map(|j| f64::from(i == j)).collect()).collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for _sweep in 0..60 {
        let mut rotated = false;
        for i in 0..k {
            for j in i + 1..k {
                let (alpha, beta, gamma) = (
                    dot(&cols[i], &cols[i]),
                    dot(&cols[j], &cols[j]),
                    dot(&cols[i], &cols[j]),
                );
                if gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() || gamma == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate(&mut cols, i, j, c, s);
                rotate(&mut v, i, j, c, s);
            }
        }
        if !rotated {
            break;
        }
    }
    let sv: Vec<f64> = cols.iter().map(|c| dot(c, c).sqrt()).collect();
    let cutoff = 1e-15 * sv.iter().cloned().fold(0.0, f64::max);
    let mut out = Array1::zeros(k);
    for (i, &s) in sv.iter().enumerate() {
        if s > cutoff {
            // Column i is u_i * s_i, so (u_i · y) / s_i = (col_i · y) / s_i².
            let coef = dot(&cols[i], &y) / (s * s);
            for (o, vi) in out.iter_mut().zip(&v[i]) {
                *o += coef * vi;
            }
        }
    }
    out
}

/// Overwrites the columns with R (in their first k entries) and y with
/// Q'y, for x = Q R by Householder reflections.
fn householder_qr(cols: &mut [Vec<f64>], y: &mut [f64]) {
    let n = y.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for j in 0..cols.len() {
        let (col, later) = cols[j..].split_first_mut().expect("j < k");
        let norm = dot(&col[j..], &col[j..]).sqrt();
        if norm == 0.0 {
            continue;
        }
        // v = x + sign(x_0) ‖x‖ e_0, reflecting x onto −sign(x_0) ‖x‖ e_0
        let alpha = if col[j] >= 0.0 { -norm } else { norm };
        let mut v = col[j..].to_vec();
        v[0] -= alpha;
        let vv = dot(&v, &v);
        if vv == 0.0 {
            continue;
        }
        let reflect = |x: &mut [f64]| {
            let f = 2.0 * dot(&v, x) / vv;
            for (xi, vi) in x.iter_mut().zip(&v) {
                *xi -= f * vi;
            }
        };
        for c in later.iter_mut() {
            reflect(&mut c[j..n]);
        }
        reflect(&mut y[j..n]);
        col[j] = alpha;
        col[j + 1..].iter_mut().for_each(|x| *x = 0.0);
    }
}

/// Rotates vectors i and j of `m` by (c, s).
fn rotate(m: &mut [Vec<f64>], i: usize, j: usize, c: f64, s: f64) {
    let (lo, hi) = m.split_at_mut(j);
    for (xi, xj) in lo[i].iter_mut().zip(hi[0].iter_mut()) {
        let (a, b) = (*xi, *xj);
        *xi = c * a - s * b;
        *xj = s * a + c * b;
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
/// `None` when `a` is singular to working precision.
pub(crate) fn solve(mut a: Array2<f64>, mut b: Array1<f64>) -> Option<Array1<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[[i, col]].abs().total_cmp(&a[[j, col]].abs()))?;
        if a[[piv, col]].abs() < 1e-300 || !a[[piv, col]].is_finite() {
            return None;
        }
        if piv != col {
            for c in 0..n {
                a.swap([piv, c], [col, c]);
            }
            b.swap(piv, col);
        }
        let d = a[[col, col]];
        for r in col + 1..n {
            let f = a[[r, col]] / d;
            if f != 0.0 {
                for c in col..n {
                    a[[r, c]] -= f * a[[col, c]];
                }
                b[r] -= f * b[col];
            }
        }
    }
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[[r, c]] * b[c]).sum();
        b[r] = (b[r] - s) / a[[r, r]];
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn least_squares_full_rank() {
        let x = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]];
        let y = array![1.0, 3.0, 5.0, 7.0];
        let b = lstsq_min_norm(x.view(), y.view());
        assert!((b[0] - 1.0).abs() < 1e-12 && (b[1] - 2.0).abs() < 1e-12, "{b}");
    }

    #[test]
    fn least_squares_rank_deficient_is_min_norm() {
        // Two identical columns: the minimum-norm solution splits the weight.
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let y = array![2.0, 4.0, 6.0];
        let b = lstsq_min_norm(x.view(), y.view());
        assert!((b[0] - 1.0).abs() < 1e-12 && (b[1] - 1.0).abs() < 1e-12, "{b}");
        let zero = lstsq_min_norm(Array2::zeros((3, 2)).view(), y.view());
        assert_eq!(zero, array![0.0, 0.0]);
    }

    #[test]
    fn gaussian_solve() {
        let a = array![[0.0, 2.0], [3.0, 1.0]];
        let x = solve(a, array![4.0, 5.0]).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
        assert!(solve(array![[1.0, 2.0], [2.0, 4.0]], array![1.0, 2.0]).is_none());
    }
}
