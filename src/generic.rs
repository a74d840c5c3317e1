//! The detector over any series, not only flights: fit a model to an
//! array, forecast from it, flag an array's anomalies.

use arima::{Arima, ArimaError, DetectOptions, FittedArima, Order, Params};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::{Deserialize, Serialize};

use crate::options::{check_level, detect_options, order};

/// A fitted model as `arima_fit` returns it: everything `arima_forecast`
/// needs, the fitted series included (the forecast starts from its end).
#[derive(Serialize, Deserialize)]
struct ModelJson {
    order: Order,
    params: Params,
    param_names: Vec<String>,
    loglike: f64,
    aic: f64,
    converged: bool,
    nobs: usize,
    data: Vec<f64>,
}

fn non_null(values: Vec<Option<f64>>) -> Vec<f64> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.unwrap_or_else(|| error!("series[{}] is NULL; remove or fill missing values first", i + 1)))
        .collect()
}

fn or_error<T>(r: Result<T, ArimaError>) -> T {
    r.unwrap_or_else(|e| error!("{e}"))
}

/// Fits ARIMA(p, d, q) by exact maximum likelihood (statsmodels' model
/// and estimates) and returns the model as jsonb.
#[pg_extern(immutable, parallel_safe)]
fn arima_fit(series: Vec<Option<f64>>, p: default!(i32, 5), d: default!(i32, 1), q: default!(i32, 1)) -> JsonB {
    let y = non_null(series);
    let order = order(p, d, q);
    let fit = or_error(Arima::new(order).fit(&y));
    let model = ModelJson {
        order,
        params: fit.params().clone(),
        param_names: Params::names(&order),
        loglike: fit.loglike(),
        aic: fit.aic(),
        converged: fit.converged(),
        nobs: fit.nobs(),
        data: y,
    };
    JsonB(serde_json::to_value(model).unwrap_or_else(|e| error!("{e}")))
}

/// Forecasts `horizon` steps past the end of a model from `arima_fit`,
/// with the two-sided interval at `level`.
#[pg_extern(immutable, parallel_safe)]
fn arima_forecast(
    model: JsonB,
    horizon: i32,
    level: default!(f64, 0.8),
) -> TableIterator<
    'static,
    (
        name!(step, i32),
        name!(forecast, f64),
        name!(lower, f64),
        name!(upper, f64),
    ),
> {
    check_level(level);
    let m: ModelJson = serde_json::from_value(model.0).unwrap_or_else(|e| error!("not a model from arima_fit: {e}"));
    if m.params.to_vec().len() != m.order.n_params() {
        error!(
            "model has {} parameters, order {} needs {}",
            m.params.to_vec().len(),
            m.order,
            m.order.n_params()
        );
    }
    let horizon = usize::try_from(horizon).unwrap_or_else(|_| error!("horizon must be 0 or more"));
    let fit = or_error(FittedArima::from_params(m.order, m.params, &m.data));
    let fc = fit.forecast(horizon);
    let (lo, hi) = or_error(fc.interval(level));
    TableIterator::new((0..horizon).map(move |h| (h as i32 + 1, fc.mean[h], lo[h], hi[h])))
}

/// The anomaly rule on any series: in-sample prediction, band at `level`
/// clipped at its 1st/99th percentiles, flag outside.
#[pg_extern(immutable, parallel_safe)]
fn arima_detect(
    series: Vec<Option<f64>>,
    p: default!(i32, 5),
    d: default!(i32, 1),
    q: default!(i32, 1),
    level: default!(f64, 0.8),
) -> TableIterator<
    'static,
    (
        name!(i, i32),
        name!(value, f64),
        name!(predicted, f64),
        name!(lower, f64),
        name!(upper, f64),
        name!(anomaly, bool),
    ),
> {
    let opts: DetectOptions = detect_options(p, d, q, level, false);
    let y = non_null(series);
    let det = or_error(crate::worker::run(|cancel| arima::detect_until(&y, &opts, cancel)));
    TableIterator::new(
        (0..y.len())
            .map(move |t| {
                (
                    t as i32 + 1,
                    y[t],
                    det.predicted[t],
                    det.lower[t],
                    det.upper[t],
                    det.anomaly[t],
                )
            })
            .collect::<Vec<_>>(),
    )
}
