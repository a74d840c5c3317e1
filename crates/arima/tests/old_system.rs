//! The replaced system's stored output, reproduced: it called
//! `conf_int(0.2)`, which statsmodels reads as `method`, so its bands were
//! 95 % (reference/old_system_fixtures.py makes that literal call). Our
//! `level: 0.95` must give its clipped bands and flags: bands within 1e-3
//! band widths (our optimum is at or above statsmodels'), flags identical
//! except days within 1e-3 band widths of a bound, as in statsmodels.rs.

mod common;

use arima::{detect, DetectOptions};

#[test]
fn level_095_reproduces_the_old_systems_stored_bands_and_flags() {
    let doc = common::load("old_system.json");
    assert_eq!(doc["meta"]["call"], "conf_int(0.2)");
    let mut flagged = 0;
    for case in doc["cases"].as_array().unwrap() {
        let origin = case["origin"].as_str().unwrap();
        let y = common::floats(&case["y"]);
        let (lo, hi) = (common::floats(&case["lower"]), common::floats(&case["upper"]));
        let flags: Vec<bool> = case["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_bool().unwrap())
            .collect();
        let opts = DetectOptions {
            level: 0.95,
            ..DetectOptions::default()
        };
        let det = detect(&y, &opts).unwrap();
        // The first point (d = 1) has a diffuse band: compare from the second.
        for t in 1..y.len() {
            let width = hi[t] - lo[t];
            assert!(
                (det.lower[t] - lo[t]).abs() <= 1e-3 * width && (det.upper[t] - hi[t]).abs() <= 1e-3 * width,
                "{origin} day {t}: band [{}, {}] vs the old system's [{}, {}]",
                det.lower[t],
                det.upper[t],
                lo[t],
                hi[t]
            );
            if det.anomaly[t] != flags[t] {
                let margin = (y[t] - lo[t]).abs().min((y[t] - hi[t]).abs());
                assert!(
                    margin <= 1e-3 * width,
                    "{origin} day {t}: flag differs {margin} from a bound"
                );
            }
        }
        flagged += flags.iter().filter(|f| **f).count();
        // The default 80 % band flags more: the old bands were wider than documented.
        let at_80 = detect(&y, &DetectOptions::default()).unwrap();
        assert!(at_80.anomaly.iter().filter(|a| **a).count() > flags.iter().filter(|f| **f).count());
    }
    assert!(flagged > 30, "the fixtures flag only {flagged} days");
}
