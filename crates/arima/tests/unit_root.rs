//! Issue 14's battery: ARIMA(5,1,1) fits where the MA root goes to the
//! unit circle (reference/unit_root_battery.py, statsmodels 0.15): 300
//! simulated stationary AR(5)-like daily means with a weekly pattern, a
//! seasonal swing and storm days (100 to 366 points), and every 120-, 181-
//! and 240-day window of the real 2013 NYC series. Our fit must never end
//! more than 1e-6 below statsmodels' log-likelihood. Without the second
//! search at the bound (fit.rs), one simulated series and one real window
//! do (by 3e-4 and 7e-3).

mod common;

use arima::{Arima, FittedArima, Order, Params};
use serde_json::Value;

const ORDER: Order = Order::new(5, 1, 1);

/// Checks one set; returns (series at the bound, the largest move of the
/// 80 % band there against statsmodels', in band widths).
fn check(cases: &[Value], name: &str) -> (usize, f64) {
    let (mut below, mut at_bound, mut moved) = (Vec::new(), 0, 0.0_f64);
    for (i, case) in cases.iter().enumerate() {
        let y = common::floats(&case["y"]);
        let fit = Arima::new(ORDER).fit(&y).unwrap();
        let gap = fit.loglike() - case["llf"].as_f64().unwrap();
        if gap < -1e-6 {
            below.push((i, gap));
        }
        if fit.params().ma[0] <= -0.999 {
            at_bound += 1;
            let sm = Params::from_slice(&ORDER, &common::floats(&case["params"]));
            let theirs = FittedArima::from_params(ORDER, sm, &y).unwrap().in_sample_prediction();
            let (tl, tu) = theirs.interval(0.8).unwrap();
            let (ol, ou) = fit.in_sample_prediction().interval(0.8).unwrap();
            for t in 1..y.len() {
                let width = tu[t] - tl[t];
                moved = moved.max((ol[t] - tl[t]).abs().max((ou[t] - tu[t]).abs()) / width);
            }
        }
    }
    eprintln!(
        "{name}: {at_bound} of {} end with ma.L1 <= -0.999; their 80 % bands move by at most {moved:.3} band widths",
        cases.len()
    );
    assert!(
        below.is_empty(),
        "{name}: {} series end below statsmodels: {below:?}",
        below.len()
    );
    (at_bound, moved)
}

#[test]
fn never_below_statsmodels_at_the_invertibility_bound() {
    let doc = common::load("unit_root_battery.json");
    let simulated = doc["cases"].as_array().unwrap();
    assert_eq!(simulated.len(), 300);
    let (at_bound, _) = check(simulated, "simulated");
    assert!(at_bound >= 30, "the battery reaches the bound only {at_bound} times");
    check(doc["nyc_windows"].as_array().unwrap(), "nyc windows");
}
