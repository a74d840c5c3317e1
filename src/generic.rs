//! The detector over any series, not only flights: fit a model to an
//! array, forecast from it, flag an array's anomalies.

use arima::{Arima, DetectOptions, FittedArima, Order, Params};
use pgrx::datum::Array;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::{Deserialize, Serialize};

use crate::error::{self, raise, INVALID_PARAMETER};
use crate::input::{self, check_level, detect_options, order};
use crate::worker;

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

impl ModelJson {
    /// A model from `arima_fit`, checked: its parameters fit its order
    /// and its data is within the series limit.
    fn parse(model: JsonB) -> ModelJson {
        let m: ModelJson = serde_json::from_value(model.0).unwrap_or_else(|e| {
            raise(
                INVALID_PARAMETER,
                format!("model is not a model from arima_fit: {e}"),
                Some("Pass the jsonb that arima_fit returned, unchanged."),
            )
        });
        if let Err(e) = m.order.validate() {
            error::arima("model", &e);
        }
        let n = m.params.to_vec().len();
        if n != m.order.n_params() {
            raise(
                INVALID_PARAMETER,
                format!(
                    "model has {n} parameters, order {} needs {}",
                    m.order,
                    m.order.n_params()
                ),
                Some("Pass the jsonb that arima_fit returned, unchanged."),
            );
        }
        input::check_series_len(m.data.len());
        m
    }
}

/// Fits ARIMA(p, d, q) by exact maximum likelihood (statsmodels' model
/// and estimates) and returns the model as jsonb.
#[pg_extern(immutable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn arima_fit(series: Array<'_, f64>, p: default!(i32, 5), d: default!(i32, 1), q: default!(i32, 1)) -> JsonB {
    let order = order(p, d, q);
    let y = input::series(&series);
    let fit =
        worker::run(|cancel| Arima::new(order).fit_until(&y, cancel)).unwrap_or_else(|e| error::arima("series", &e));
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
    JsonB(serde_json::to_value(model).expect("a model of finite numbers is JSON"))
}

/// Forecasts `horizon` steps past the end of a model from `arima_fit`,
/// with the two-sided interval at `level`.
#[pg_extern(immutable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
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
    let horizon = input::horizon(horizon);
    let m = ModelJson::parse(model);
    let fc = worker::run(|_| FittedArima::from_params(m.order, m.params, &m.data).map(|fit| fit.forecast(horizon)))
        .unwrap_or_else(|e| error::arima("model", &e));
    let (lo, hi) = fc.interval(level).unwrap_or_else(|e| error::arima("model", &e));
    TableIterator::new((0..horizon).map(move |h| (h as i32 + 1, fc.mean[h], lo[h], hi[h])))
}

/// The anomaly rule on any series: in-sample prediction, band at `level`
/// clipped at its 1st/99th percentiles, flag outside.
#[pg_extern(immutable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn arima_detect(
    series: Array<'_, f64>,
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
    let y = input::series(&series);
    let det =
        worker::run(|cancel| arima::detect_until(&y, &opts, cancel)).unwrap_or_else(|e| error::arima("series", &e));
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
