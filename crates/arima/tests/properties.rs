//! Invariants that hold for any series, checked with proptest.

use arima::{detect, is_stationary, Arima, ArimaError, DetectOptions, Order};
use proptest::prelude::*;

/// A seeded AR(1) path around `mean` (xorshift + Box–Muller, so the test
/// needs no RNG crate).
fn ar1(n: usize, phi: f64, mean: f64, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = 0.0;
    (0..n)
        .map(|_| {
            let e = (-2.0 * uniform().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            x = phi * x + e;
            mean + x
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn intervals_widen_with_level(seed in 1u64.., phi in -0.8f64..0.8, l1 in 0.05f64..0.9, dl in 0.01f64..0.09) {
        let y = ar1(80, phi, 10.0, seed);
        let fit = Arima::new(Order::new(1, 0, 0)).fit(&y).unwrap();
        let pred = fit.in_sample_prediction();
        let (lo1, hi1) = pred.interval(l1).unwrap();
        let (lo2, hi2) = pred.interval(l1 + dl).unwrap();
        for t in 0..y.len() {
            prop_assert!(lo2[t] < lo1[t] && lo1[t] <= pred.mean[t] && pred.mean[t] <= hi1[t] && hi1[t] < hi2[t]);
        }
    }

    #[test]
    fn ar_forecasts_converge_to_the_mean(seed in 1u64.., phi in -0.9f64..0.9, mean in -50f64..50.0) {
        let y = ar1(120, phi, mean, seed);
        let fit = Arima::new(Order::new(2, 0, 0)).fit(&y).unwrap();
        let fc = fit.forecast(400);
        let c = fit.params().constant.unwrap();
        prop_assert!((fc.mean[399] - c).abs() < 1e-6 * c.abs().max(1.0), "{} vs {c}", fc.mean[399]);
        // Forecast variance never shrinks with the horizon.
        for h in 1..400 {
            prop_assert!(fc.variance[h] >= fc.variance[h - 1] * (1.0 - 1e-12));
        }
    }

    #[test]
    fn estimates_are_stationary_and_invertible(seed in 1u64.., phi in -0.95f64..0.95) {
        let y = ar1(60, phi, 0.0, seed);
        let fit = Arima::new(Order::new(2, 1, 1)).fit(&y).unwrap();
        prop_assert!(is_stationary(&fit.params().ar));
        prop_assert!(arima::is_invertible(&fit.params().ma));
        prop_assert!(fit.params().sigma2 > 0.0);
    }

    #[test]
    fn flags_are_exactly_the_points_outside_the_clipped_band(seed in 1u64.., n in 3usize..60) {
        let mut y = ar1(n, 0.5, 20.0, seed);
        y[n / 2] += 40.0;
        let det = detect(&y, &DetectOptions::default()).unwrap();
        for (t, &v) in y.iter().enumerate() {
            prop_assert_eq!(det.anomaly[t], v < det.lower[t] || v > det.upper[t]);
        }
    }

    /// Whatever comes in, a result or a named error comes out; never a panic.
    #[test]
    fn never_panics(y in prop::collection::vec(prop_oneof![
        8 => -1e3f64..1e3, 1 => Just(f64::NAN), 1 => Just(f64::INFINITY), 1 => Just(0.0)], 0..40),
        p in 0usize..4, d in 0usize..3, q in 0usize..3) {
        let opts = DetectOptions { order: Order::new(p, d, q), ..DetectOptions::default() };
        match detect(&y, &opts) {
            Ok(det) => prop_assert_eq!(det.anomaly.len(), y.len()),
            Err(ArimaError::NonFinite { index, .. }) => prop_assert!(!y[index].is_finite()),
            Err(ArimaError::TooShort { n, .. }) => prop_assert!(n < 3),
            Err(ArimaError::Constant { .. }) => prop_assert!(y.iter().all(|v| *v == y[0])),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn bad_input_gets_named_errors() {
    let fit = |y: &[f64], o: Order| Arima::new(o).fit(y).unwrap_err();
    assert_eq!(fit(&[], Order::DEFAULT), ArimaError::Empty);
    assert!(
        matches!(fit(&[1.0, f64::NAN, 2.0], Order::DEFAULT), ArimaError::NonFinite { index: 1, value } if value.is_nan())
    );
    assert_eq!(fit(&[3.0; 10], Order::DEFAULT), ArimaError::Constant { value: 3.0 });
    assert_eq!(
        fit(&[1.0, 2.0], Order::new(1, 2, 0)),
        ArimaError::OrderTooLarge {
            order: Order::new(1, 2, 0),
            n: 2
        }
    );
    assert!(matches!(
        fit(&[1.0, 2.0, 4.0], Order::new(1, 3, 0)),
        ArimaError::UnsupportedOrder { .. }
    ));
    assert_eq!(
        detect(&[1.0, 2.0], &DetectOptions::default()).unwrap_err(),
        ArimaError::TooShort { n: 2, min: 3 }
    );
    let y = ar1(30, 0.3, 1.0, 7);
    let bad_level = DetectOptions {
        level: 1.0,
        ..DetectOptions::default()
    };
    assert_eq!(detect(&y, &bad_level).unwrap_err(), ArimaError::InvalidLevel(1.0));
    assert_eq!(
        fit(&[1.0, f64::INFINITY], Order::DEFAULT).to_string(),
        "non-finite value inf at index 1"
    );
    // Stored parameters outside stationarity: the "unconditional" variance
    // of an explosive AR(1) is negative, and the filter says so by name.
    let order = Order::new(1, 0, 0);
    let explosive = arima::Params::from_slice(&order, &[0.0, 1.5, 1.0]);
    assert_eq!(
        arima::FittedArima::from_params(order, explosive, &y).unwrap_err(),
        ArimaError::FilterBreakdown { order }
    );
}

#[test]
fn a_fit_stops_at_a_raised_cancel() {
    use arima::Cancel;
    let y = ar1(300, 0.5, 10.0, 5);
    let cancel = Cancel::default();
    cancel.cancel();
    assert_eq!(
        Arima::new(Order::DEFAULT).fit_until(&y, &cancel).unwrap_err(),
        ArimaError::Cancelled
    );
    assert!(Arima::new(Order::DEFAULT).fit_until(&y, &Cancel::default()).is_ok());
}

#[test]
fn cancel_stops_a_grid_search() {
    use arima::{detect_until, grid_search_until, Cancel, Grid};
    let y = ar1(200, 0.5, 10.0, 3);
    let cancel = Cancel::default();
    cancel.cancel();
    let opts = DetectOptions {
        grid: Some(Grid::default()),
        ..DetectOptions::default()
    };
    assert_eq!(detect_until(&y, &opts, &cancel).unwrap_err(), ArimaError::Cancelled);

    // Raised from another thread mid-search (the whole search takes seconds): it stops.
    let cancel = Cancel::default();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            cancel.cancel();
        });
        grid_search_until(&y, &Grid::default(), &cancel)
    });
    assert_eq!(result.unwrap_err(), ArimaError::Cancelled);
}
