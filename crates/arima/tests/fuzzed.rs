//! Inputs the fuzz targets (crates/arima/fuzz, scripts/fuzz.sh) found to
//! crash the core, each kept as it reached it; their fuzz inputs are in
//! the corpus too (crates/arima/fuzz/corpus/<target>/).

use arima::{ArimaError, FittedArima, Order, Params};

/// arima_forecast's jsonb with as many parameters as its order needs but
/// laid out for another (corpus/forecast_model/params_layout: two AR
/// coefficients and no constant for (1,0,0)) panicked building the state
/// space; it is an error.
#[test]
fn parameters_laid_out_for_another_order_are_refused() {
    let y = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0];
    let order = Order::new(1, 0, 0);
    let wrong = |constant: Option<f64>, ar: &[f64], ma: &[f64]| {
        let params = Params {
            constant,
            ar: ar.to_vec(),
            ma: ma.to_vec(),
            sigma2: 2.8,
        };
        match FittedArima::from_params(order, params, &y) {
            Err(ArimaError::ParamsMismatch { why, .. }) => why,
            other => panic!("expected ParamsMismatch, got {other:?}"),
        }
    };
    assert_eq!(wrong(None, &[0.2, 0.1], &[]), "no constant, d is 0");
    assert_eq!(wrong(Some(3.5), &[], &[0.2]), "0 AR coefficients, p is 1");
    assert_eq!(wrong(Some(3.5), &[0.2], &[0.1]), "1 MA coefficients, q is 0");
    let e = FittedArima::from_params(
        Order::new(0, 1, 1),
        Params {
            constant: Some(1.0),
            ar: vec![],
            ma: vec![],
            sigma2: 1.0,
        },
        &y,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the parameters do not fit order (0,1,1): a constant, d is 1"
    );
    let fit = FittedArima::from_params(
        order,
        Params {
            constant: Some(3.5),
            ar: vec![0.2],
            ma: vec![],
            sigma2: 2.8,
        },
        &y,
    );
    assert!(fit.is_ok());
}
