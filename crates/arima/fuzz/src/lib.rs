//! What the extension's SQL functions hand the ARIMA core, one entry point
//! per fuzz target: `arima_fit` and `arima_detect` (`fit_detect`), and
//! `arima_forecast` (`forecast_model`). Each mirrors the glue in
//! `src/generic.rs` and `src/input.rs` step by step, its checks in the same
//! order, so what a caller can pass reaches the core here as it does there.
//! The property: no panic and no endless run; every refusal is an `Err`.
//! The extension turns each `Err` into an ERROR, each mirrored check below
//! is marked with the function it stands for.

#![allow(dead_code, unreachable_pub)]

use arima::{Arima, ArimaError, DetectOptions, FittedArima, Order, Params};
use serde::{Deserialize, Serialize};

/// `src/input.rs`' MAX_HORIZON is 100 000; the fuzz runs stay short.
const MAX_FUZZ_HORIZON: usize = 100;
/// `src/input.rs`' MAX_SERIES is 100 000; the fuzz runs stay short.
const MAX_FUZZ_SERIES: usize = 200;
/// `src/input.rs`' MAX_SERIES, which `ModelJson::parse` checks a model's data against.
const MAX_SERIES: usize = 100_000;

/// A copy of `ModelJson` in `src/generic.rs` (the extension's jsonb model,
/// `arima_fit`'s output and `arima_forecast`'s input): keep the two the same.
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

/// Why the glue refused an input before the core was called.
#[derive(Debug)]
enum Refused {
    /// `input::check_level`, `input::order`, `input::horizon`, `input::check_series_len`.
    Argument,
    /// `ModelJson::parse`: not the shape of a model.
    NotAModel,
    /// An error of the core.
    Core(ArimaError),
}

impl From<ArimaError> for Refused {
    fn from(e: ArimaError) -> Self {
        Refused::Core(e)
    }
}

/// Reads fuzz bytes as the arguments of a SQL call.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn f64_bits(&mut self) -> f64 {
        f64::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }

    /// A value of a series or a parameter: mostly small numbers, where
    /// fits are ordinary, else any f64 (NaN, infinities, huge, subnormal).
    fn value(&mut self) -> f64 {
        match self.byte() {
            tag @ 0..=239 => (f64::from(tag) - 120.0) / 8.0,
            240 => 0.0,
            241 => 1e300,
            242 => -1e-300,
            243 => f64::NAN,
            244 => f64::INFINITY,
            245 => f64::MAX,
            _ => self.f64_bits(),
        }
    }

    /// An interval level: mostly inside (0, 1), sometimes any f64.
    fn level(&mut self) -> f64 {
        match self.byte() {
            255 => self.f64_bits(),
            b => (f64::from(b) + 1.0) / 256.0,
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `input::check_level`.
fn check_level(level: f64) -> Result<(), Refused> {
    arima::check_level(level).map_err(|_| Refused::Argument)
}

/// `input::order`: validated by the core.
fn order(p: usize, d: usize, q: usize) -> Result<Order, Refused> {
    let order = Order::new(p, d, q);
    order.validate()?;
    Ok(order)
}

/// `input::check_series_len`.
fn check_series_len(n: usize) -> Result<(), Refused> {
    if n > MAX_SERIES {
        return Err(Refused::Argument);
    }
    Ok(())
}

/// `arima_fit`'s model as jsonb text (as Postgres stores it), from its fit
/// (`Arima::new(order).fit_until(&y, cancel)`).
fn model_json(y: &[f64], order: Order, fit: &FittedArima) -> String {
    let model = ModelJson {
        order,
        params: fit.params().clone(),
        param_names: Params::names(&order),
        loglike: fit.loglike(),
        aic: fit.aic(),
        converged: fit.converged(),
        nobs: fit.nobs(),
        data: y.to_vec(),
    };
    let value = serde_json::to_value(model).expect("a model of finite numbers is JSON");
    value.to_string()
}

/// `arima_fit`: the model as jsonb text.
fn arima_fit(y: &[f64], order: Order) -> Result<String, Refused> {
    check_series_len(y.len())?;
    let fit = Arima::new(order).fit(y)?;
    Ok(model_json(y, order, &fit))
}

/// A row of `arima_detect`: value, predicted, lower, upper, anomaly.
type DetectRow = (f64, f64, f64, f64, bool);

/// `arima_detect`: its rows, and its model (the one `arima_fit` fits).
fn arima_detect(y: &[f64], order: (usize, usize, usize), level: f64) -> Result<(Vec<DetectRow>, FittedArima), Refused> {
    // detect_options: the level first, then the order.
    check_level(level)?;
    let opts = DetectOptions {
        order: self::order(order.0, order.1, order.2)?,
        level,
        grid: None,
    };
    check_series_len(y.len())?;
    let det = arima::detect(y, &opts)?;
    let rows = (0..y.len())
        .map(|t| (y[t], det.predicted[t], det.lower[t], det.upper[t], det.anomaly[t]))
        .collect();
    Ok((rows, det.model))
}

/// `ModelJson::parse`.
fn parse(value: serde_json::Value) -> Result<ModelJson, Refused> {
    let m: ModelJson = serde_json::from_value(value).map_err(|_| Refused::NotAModel)?;
    m.order.validate()?;
    if m.params.to_vec().len() != m.order.n_params() {
        return Err(Refused::NotAModel);
    }
    check_series_len(m.data.len())?;
    Ok(m)
}

/// `arima_forecast`: its rows, for a model given as jsonb text.
fn arima_forecast(model: &str, horizon: usize, level: f64) -> Result<Vec<(f64, f64, f64)>, Refused> {
    check_level(level)?;
    // input::horizon (the fuzz horizons are within its limit)
    assert!(horizon <= MAX_FUZZ_HORIZON);
    // Postgres refuses text that is not JSON before the function is called.
    let Ok(value) = serde_json::from_str::<serde_json::Value>(model) else {
        return Err(Refused::Argument);
    };
    let m = parse(value)?;
    let fc = FittedArima::from_params(m.order, m.params, &m.data).map(|fit| fit.forecast(horizon))?;
    let (lo, hi) = fc.interval(level)?;
    Ok((0..horizon).map(|h| (fc.mean[h], lo[h], hi[h])).collect())
}

/// `arima_fit` and `arima_detect` on a short series, and `arima_forecast`
/// from `arima_fit`'s output, which must always take it.
///
/// Bytes: p, d, q (a little past their limits), the level, the horizon,
/// then the series ([`Bytes::value`] each, at most 200).
pub fn fit_detect(data: &[u8]) {
    let mut b = Bytes(data);
    let (p, d, q) = (
        usize::from(b.byte() % 22),
        usize::from(b.byte() % 4),
        usize::from(b.byte() % 12),
    );
    let level = b.level();
    let horizon = usize::from(b.byte()) % (MAX_FUZZ_HORIZON + 1);
    let mut y = Vec::new();
    while !b.is_empty() && y.len() < MAX_FUZZ_SERIES {
        y.push(b.value());
    }
    let detected = arima_detect(&y, (p, d, q), level);
    let Ok(order) = order(p, d, q) else {
        assert!(detected.is_err());
        return;
    };
    // arima_detect's fit is arima_fit's (the same call); arima_fit is only
    // run on its own where arima_detect refused before fitting.
    let fitted = match detected {
        Ok((rows, model)) => {
            assert_eq!(rows.len(), y.len());
            Ok(model_json(&y, order, &model))
        }
        Err(Refused::Core(ArimaError::TooShort { .. })) | Err(Refused::Argument) => arima_fit(&y, order),
        Err(e) => {
            assert!(
                arima_fit(&y, order).is_err(),
                "arima_fit fitted what arima_detect refused: {e:?}"
            );
            return;
        }
    };
    if let (Ok(model), true) = (fitted, arima::check_level(level).is_ok()) {
        let rows = arima_forecast(&model, horizon, level)
            .unwrap_or_else(|e| panic!("arima_forecast refuses arima_fit's model: {e:?}\n{model}"));
        assert_eq!(rows.len(), horizon);
    }
}

/// `arima_forecast` on any jsonb. The first byte picks how the rest is
/// read: even, as JSON text; odd, as a model built field by field (an
/// order, parameter lists of any length, values of any f64), so the
/// checks and the core see well-formed JSON with hostile contents.
pub fn forecast_model(data: &[u8]) {
    let mut b = Bytes(data);
    let mode = b.byte();
    let horizon = usize::from(b.byte()) % (MAX_FUZZ_HORIZON + 1);
    let level = b.level();
    let text = if mode % 2 == 0 {
        match std::str::from_utf8(b.0) {
            Ok(text) => text.to_string(),
            Err(_) => return,
        }
    } else {
        let order = Order::new(
            usize::from(b.byte() % 22),
            usize::from(b.byte() % 4),
            usize::from(b.byte() % 12),
        );
        let n_ar = usize::from(b.byte() % 24);
        let n_ma = usize::from(b.byte() % 14);
        let constant = (b.byte() % 2 == 1).then(|| b.value());
        let ar = (0..n_ar).map(|_| b.value() / 16.0).collect();
        let ma = (0..n_ma).map(|_| b.value() / 16.0).collect();
        let sigma2 = b.value();
        let mut y = Vec::new();
        while !b.is_empty() && y.len() < MAX_FUZZ_SERIES {
            y.push(b.value());
        }
        let model = ModelJson {
            order,
            params: Params {
                constant,
                ar,
                ma,
                sigma2,
            },
            param_names: Params::names(&order),
            loglike: 0.0,
            aic: 0.0,
            converged: true,
            nobs: y.len(),
            data: y,
        };
        // NaN and infinities become null, as they would in jsonb.
        serde_json::to_value(model).expect("a model is JSON").to_string()
    };
    if let Ok(rows) = arima_forecast(&text, horizon, level) {
        assert_eq!(rows.len(), horizon);
    }
}

/// A row of `airport_models` (a user with write access may edit it) as
/// `arima_next_day` (`src/refresh.rs`, `next_day_band_pinned`) and the
/// online flags (`summary::online_rows`) use it: `ModelRow::stored_model`,
/// then the model run over the days before.
///
/// Bytes: p, d, q (-1 to 21, 2, 10 past their limits), the parameter
/// count, the level, which clips are stored, how many days come before the
/// series, then the parameters, the clips and the days ([`Bytes::value`]).
pub fn stored_model(data: &[u8]) {
    use summary::{DailySeries, DayFacts, ModelRow, Source};

    let mut b = Bytes(data);
    let part = |v: u8, n: u8| i32::from(v % n) - 1;
    let (p, d, q) = (part(b.byte(), 23), part(b.byte(), 5), part(b.byte(), 13));
    let n_params = usize::from(b.byte() % 34);
    let level = b.level();
    let clips = b.byte();
    let n_before = usize::from(b.byte() % 64);
    let params: Vec<f64> = (0..n_params).map(|_| b.value() / 16.0).collect();
    let lower_clip = (clips & 1 == 1).then(|| b.value());
    let upper_clip = (clips & 2 == 2).then(|| b.value());
    let mut y = Vec::new();
    while !b.is_empty() && y.len() < MAX_FUZZ_SERIES {
        y.push(b.value());
    }
    let row = ModelRow {
        origin_airport: "AAA".into(),
        year: 2013,
        p: Some(p),
        d: Some(d),
        q: Some(q),
        param_names: None,
        params: Some(params),
        sigma2: None,
        loglike: None,
        aic: None,
        points: y.len() as i32,
        grid_searched: false,
        converged: Some(true),
        level,
        lower_clip,
        upper_clip,
        skip_reason: None,
    };
    // stored_model(): a row that cannot be used is a warning and no model.
    let Ok(Some(model)) = row.stored_model() else {
        return;
    };
    // next_day_band_pinned: the model over the year's days before the day.
    if let Ok(fit) = FittedArima::from_params(model.order, model.params.clone(), &y) {
        let next = fit.forecast(1);
        if let Ok((lo, hi)) = next.interval(model.level) {
            let _ = (
                next.mean[0],
                lo[0].max(model.lower_clip),
                hi[0].min(model.upper_clip),
                next.variance[0].sqrt(),
            );
        }
    }
    // online_rows: every day of a series after n_before earlier days.
    let at = n_before.min(y.len());
    let (before, days) = y.split_at(at);
    let start = chrono::NaiveDate::from_ymd_opt(2013, 1, 1).expect("a date");
    let series = DailySeries {
        origin: "AAA".into(),
        year: 2013,
        dates: (0..days.len() as u64).map(|t| start + chrono::Days::new(t)).collect(),
        mean_delay: days.to_vec(),
        flights: vec![1; days.len()],
        facts: vec![DayFacts::default(); days.len()],
    };
    let every_day: Vec<usize> = (0..days.len()).collect();
    if let Ok(rows) = summary::online_rows(&series, &every_day, &model, before, Source::Online) {
        assert_eq!(rows.len(), days.len());
    }
}
