//! The model through augurs' traits gives statsmodels' forecasts.

mod common;

use arima::{Arima, Order};
use augurs_core::{Fit, Predict};

#[test]
fn augurs_traits_forecast_like_statsmodels() {
    let doc = common::load("fits.json");
    let case = doc["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["series"] == "nyc_jfk_2013" && c["order"] == serde_json::json!([5, 1, 1]))
        .unwrap();
    let y = common::floats(&doc["series"]["nyc_jfk_2013"]);
    let model = Arima::new(Order::DEFAULT);
    let fitted = Fit::fit(&model, &y).unwrap();
    assert_eq!(fitted.training_data_size(), 365);

    let fc = fitted.predict(10, 0.8).unwrap();
    let iv = fc.intervals.as_ref().unwrap();
    let (mean, lo, hi) = (
        common::floats(&case["forecast"]["mean"]),
        common::floats(&case["forecast"]["lower_0.8"]),
        common::floats(&case["forecast"]["upper_0.8"]),
    );
    for h in 0..10 {
        let w = hi[h] - lo[h];
        assert!((fc.point[h] - mean[h]).abs() < 1e-4 * w, "h={h}");
        assert!(
            (iv.lower[h] - lo[h]).abs() < 1e-4 * w && (iv.upper[h] - hi[h]).abs() < 1e-4 * w,
            "h={h}"
        );
    }
    assert_eq!(iv.level, 0.8);

    let ins = fitted.predict_in_sample(None).unwrap();
    assert!(ins.intervals.is_none());
    assert_eq!(ins.point, fitted.in_sample_prediction().mean.to_vec());
    assert!(fitted.predict(3, 1.5).is_err(), "a level outside (0, 1) is refused");
}
