//! The little dense linear algebra the core needs, on ndarray, with no
//! LAPACK: minimum-norm least squares (numpy's `pinv(X) @ y`) and a
//! pivoted Gaussian solve.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// `pinv(x) @ y` as numpy computes it: singular values below
/// `1e-15 * s_max` are dropped, so rank-deficient systems get the
/// minimum-norm solution. One-sided Jacobi SVD; x is small (≤ 400 × 13).
pub(crate) fn lstsq_min_norm(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Array1<f64> {
    let (n, k) = x.dim();
    if n == 0 || k == 0 {
        return Array1::zeros(k);
    }
    let mut a = x.to_owned();
    let mut v = Array2::<f64>::eye(k);
    for _sweep in 0..60 {
        let mut rotated = false;
        for i in 0..k {
            for j in i + 1..k {
                let (ai, aj) = (a.column(i), a.column(j));
                let alpha = ai.dot(&ai);
                let beta = aj.dot(&aj);
                let gamma = ai.dot(&aj);
                if gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() || gamma == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate(&mut a, i, j, c, s);
                rotate(&mut v, i, j, c, s);
            }
        }
        if !rotated {
            break;
        }
    }
    let sv: Vec<f64> = a.axis_iter(Axis(1)).map(|c| c.dot(&c).sqrt()).collect();
    let cutoff = 1e-15 * sv.iter().cloned().fold(0.0, f64::max);
    let mut out = Array1::zeros(k);
    for (i, &s) in sv.iter().enumerate() {
        if s > cutoff {
            // Column i of `a` is u_i * s_i, so (u_i · y) / s_i = (a_i · y) / s_i².
            let coef = a.column(i).dot(&y) / (s * s);
            out.scaled_add(coef, &v.column(i));
        }
    }
    out
}

fn rotate(m: &mut Array2<f64>, i: usize, j: usize, c: f64, s: f64) {
    for mut row in m.rows_mut() {
        let (xi, xj) = (row[i], row[j]);
        row[i] = c * xi - s * xj;
        row[j] = s * xi + c * xj;
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
