//! The rows of `airport_daily_summary` and `airport_models`, as named
//! structs: each field is the column of the same name (`sql/schema.sql`).

use arima::{ArimaError, DetectOptions, Detection, Order, Params};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DailySeries, DayFacts, Source};

/// One row of `airport_daily_summary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The day.
    pub date: NaiveDate,
    /// Origin airport code.
    pub origin_airport: String,
    /// Mean of the day's finite departure delays, minutes.
    pub average_dep_delay: f64,
    /// How many delays the mean is over.
    pub flights: i64,
    /// Whether the mean lies outside the band; `None` when not modelled.
    pub dep_delay_anomaly: Option<bool>,
    /// One-step-ahead prediction.
    pub dep_delay_pred: Option<f64>,
    /// Upper band, clipped at its 99th percentile.
    pub dep_delay_higher_ci: Option<f64>,
    /// Lower band, clipped at its 1st percentile.
    pub dep_delay_lower_ci: Option<f64>,
    /// What made the prediction; `None` when not modelled.
    pub dep_delay_source: Option<Source>,
    // The columns below came with 0.3.0: rows written before it have them
    // NULL, hence the defaults when reading.
    /// Every flight of the day, flown or not.
    #[serde(default)]
    pub flights_scheduled: Option<i64>,
    /// Flights cancelled.
    #[serde(default)]
    pub flights_cancelled: Option<i64>,
    /// Flights diverted.
    #[serde(default)]
    pub flights_diverted: Option<i64>,
    /// Delay minutes by cause, summed over the day's flights (see [`DayFacts`]).
    #[serde(default)]
    pub carrier_delay_minutes: Option<f64>,
    /// Weather delay minutes.
    #[serde(default)]
    pub weather_delay_minutes: Option<f64>,
    /// National air system delay minutes.
    #[serde(default)]
    pub nas_delay_minutes: Option<f64>,
    /// Security delay minutes.
    #[serde(default)]
    pub security_delay_minutes: Option<f64>,
    /// Late-arriving aircraft delay minutes.
    #[serde(default)]
    pub late_aircraft_delay_minutes: Option<f64>,
    /// Standardised residual `(observed - predicted) / sd`, sd the
    /// prediction's standard deviation; `None` when not modelled.
    #[serde(default)]
    pub dep_delay_residual: Option<f64>,
    /// Minutes the observed mean lies outside the band, 0 inside; `None`
    /// when not modelled.
    #[serde(default)]
    pub dep_delay_outside: Option<f64>,
}

impl SummaryRow {
    /// The row with its modelled columns set from a prediction, its
    /// standard deviation `sd` and the (clipped) band `[lo, hi]`, made by
    /// `source`. The one place a day's flag, residual and distance from
    /// the band are decided.
    pub(crate) fn modelled(self, pred: f64, sd: f64, lo: f64, hi: f64, source: Source) -> SummaryRow {
        let y = self.average_dep_delay;
        SummaryRow {
            dep_delay_anomaly: Some(y < lo || y > hi),
            dep_delay_pred: Some(pred),
            dep_delay_higher_ci: Some(hi),
            dep_delay_lower_ci: Some(lo),
            dep_delay_source: Some(source),
            dep_delay_residual: (sd > 0.0 && sd.is_finite()).then(|| (y - pred) / sd),
            dep_delay_outside: Some((lo - y).max(y - hi).max(0.0)),
            ..self
        }
    }
}

/// One row of `airport_models`: the model behind an airport-year's flags,
/// or why there is none. (`fitted_at` is the database's.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    /// Origin airport code.
    pub origin_airport: String,
    /// The year modelled.
    pub year: i32,
    /// AR order, `None` when skipped.
    pub p: Option<i32>,
    /// Differencing order.
    pub d: Option<i32>,
    /// MA order.
    pub q: Option<i32>,
    /// statsmodels' parameter names: const, ar.L1.., ma.L1.., sigma2.
    pub param_names: Option<Vec<String>>,
    /// Parameter values, in the same order.
    pub params: Option<Vec<f64>>,
    /// Innovation variance.
    pub sigma2: Option<f64>,
    /// Log-likelihood at the estimate.
    pub loglike: Option<f64>,
    /// Akaike information criterion.
    pub aic: Option<f64>,
    /// Days in the series.
    pub points: i32,
    /// Whether a grid search chose (or was to choose) the order.
    pub grid_searched: bool,
    /// Whether the likelihood search converged.
    pub converged: Option<bool>,
    /// Interval level of the band.
    pub level: f64,
    /// The 1st percentile the lower band was clipped at.
    pub lower_clip: Option<f64>,
    /// The 99th percentile the upper band was clipped at.
    pub upper_clip: Option<f64>,
    /// Why no model was fitted, when none was.
    pub skip_reason: Option<String>,
}

impl DailySeries {
    /// Day `t`'s row with its observed values only (not modelled).
    pub fn observed_row(&self, t: usize) -> SummaryRow {
        let f: &DayFacts = &self.facts[t];
        SummaryRow {
            date: self.dates[t],
            origin_airport: self.origin.clone(),
            average_dep_delay: self.mean_delay[t],
            flights: self.flights[t],
            dep_delay_anomaly: None,
            dep_delay_pred: None,
            dep_delay_higher_ci: None,
            dep_delay_lower_ci: None,
            dep_delay_source: None,
            flights_scheduled: Some(f.flights_scheduled),
            flights_cancelled: Some(f.flights_cancelled),
            flights_diverted: Some(f.flights_diverted),
            carrier_delay_minutes: f.carrier_delay_minutes,
            weather_delay_minutes: f.weather_delay_minutes,
            nas_delay_minutes: f.nas_delay_minutes,
            security_delay_minutes: f.security_delay_minutes,
            late_aircraft_delay_minutes: f.late_aircraft_delay_minutes,
            dep_delay_residual: None,
            dep_delay_outside: None,
        }
    }

    /// The series' summary rows: the observed days, with the modelled
    /// columns when `result` is a detection.
    pub fn summary_rows(&self, result: &Result<Detection, ArimaError>) -> Vec<SummaryRow> {
        (0..self.len())
            .map(|t| match result {
                Ok(d) => self
                    .observed_row(t)
                    .modelled(d.predicted[t], d.sd[t], d.lower[t], d.upper[t], Source::Fit),
                Err(_) => self.observed_row(t),
            })
            .collect()
    }

    /// The series' model row under `opts`: the fitted model, or the reason
    /// there is none.
    pub fn model_row(&self, result: &Result<Detection, ArimaError>, opts: &DetectOptions) -> ModelRow {
        let skipped = ModelRow {
            origin_airport: self.origin.clone(),
            year: self.year,
            p: None,
            d: None,
            q: None,
            param_names: None,
            params: None,
            sigma2: None,
            loglike: None,
            aic: None,
            points: self.len() as i32,
            grid_searched: opts.grid.is_some(),
            converged: None,
            level: opts.level,
            lower_clip: None,
            upper_clip: None,
            skip_reason: None,
        };
        match result {
            Ok(det) => {
                let m = &det.model;
                let order = m.order();
                ModelRow {
                    p: Some(order.p as i32),
                    d: Some(order.d as i32),
                    q: Some(order.q as i32),
                    param_names: Some(Params::names(&order)),
                    params: Some(m.params().to_vec()),
                    sigma2: Some(m.params().sigma2),
                    loglike: Some(m.loglike()),
                    aic: Some(m.aic()),
                    grid_searched: det.grid_searched,
                    converged: Some(m.converged()),
                    level: det.level,
                    lower_clip: Some(det.lower_clip),
                    upper_clip: Some(det.upper_clip),
                    ..skipped
                }
            }
            Err(e) => ModelRow {
                skip_reason: Some(e.to_string()),
                ..skipped
            },
        }
    }
}

/// What a detection run writes: the model rows and the summary rows of
/// every series, in series order.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// One row per series.
    pub models: Vec<ModelRow>,
    /// One row per day of every series.
    pub days: Vec<SummaryRow>,
}

impl Outcome {
    /// The rows of `series` given their detection `results` (same order).
    pub fn new(series: &[DailySeries], results: &[Result<Detection, ArimaError>], opts: &DetectOptions) -> Outcome {
        let mut out = Outcome::default();
        for (s, r) in series.iter().zip(results) {
            out.models.push(s.model_row(r, opts));
            out.days.extend(s.summary_rows(r));
        }
        out
    }

    /// Series with a fitted model.
    pub fn fitted(&self) -> usize {
        self.models.iter().filter(|m| m.skip_reason.is_none()).count()
    }

    /// Days flagged as anomalous.
    pub fn anomalies(&self) -> usize {
        self.days.iter().filter(|d| d.dep_delay_anomaly == Some(true)).count()
    }

    /// The model rows as the JSON `sql/upsert_model.sql` takes.
    pub fn models_json(&self) -> String {
        rows_json(&self.models)
    }

    /// The summary rows as the JSON `sql/upsert_summary.sql` takes.
    pub fn days_json(&self) -> String {
        rows_json(&self.days)
    }
}

/// Rows as the JSON array the upsert statements take (keys named as the columns).
pub(crate) fn rows_json<T: Serialize>(rows: &[T]) -> String {
    serde_json::to_string(rows).expect("rows of finite numbers are JSON")
}

/// A fitted model as stored in `airport_models`, ready to predict the
/// next day without refitting (the insert trigger's path).
#[derive(Debug, Clone)]
pub struct StoredModel {
    /// The order.
    pub order: Order,
    /// The estimated parameters.
    pub params: Params,
    /// Interval level of the band.
    pub level: f64,
    /// The lower band's clip level.
    pub lower_clip: f64,
    /// The upper band's clip level.
    pub upper_clip: f64,
}

impl ModelRow {
    /// The stored model, if this row has one. An error says why a row that
    /// claims a model cannot be used (its parameters do not fit its order).
    pub fn stored_model(&self) -> Result<Option<StoredModel>, String> {
        let (Some(p), Some(d), Some(q), Some(params), None) = (self.p, self.d, self.q, &self.params, &self.skip_reason)
        else {
            return Ok(None);
        };
        let part = |v: i32| usize::try_from(v).map_err(|_| format!("negative order part {v}"));
        let order = Order::new(part(p)?, part(d)?, part(q)?);
        order.validate().map_err(|e| e.to_string())?;
        if params.len() != order.n_params() {
            return Err(format!(
                "{} parameters, order {order} needs {}",
                params.len(),
                order.n_params()
            ));
        }
        Ok(Some(StoredModel {
            order,
            params: Params::from_slice(&order, params),
            level: self.level,
            lower_clip: self.lower_clip.unwrap_or(f64::NEG_INFINITY),
            upper_clip: self.upper_clip.unwrap_or(f64::INFINITY),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arima::detect;

    fn series() -> DailySeries {
        let mean_delay: Vec<f64> = (0..60)
            .map(|t| 10.0 + ((t * 37 % 11) as f64) + if t == 40 { 60.0 } else { 0.0 })
            .collect();
        DailySeries {
            origin: "AAA".into(),
            year: 2013,
            dates: (0..60)
                .map(|t| NaiveDate::from_ymd_opt(2013, 1, 1).unwrap() + chrono::Days::new(t))
                .collect(),
            flights: vec![3; 60],
            mean_delay,
            facts: vec![DayFacts::default(); 60],
        }
    }

    #[test]
    fn rows_of_a_detection_and_of_a_skip() {
        let s = series();
        let opts = DetectOptions::default();
        let det = detect(&s.mean_delay, &opts);
        let out = Outcome::new(std::slice::from_ref(&s), std::slice::from_ref(&det), &opts);
        assert_eq!((out.models.len(), out.days.len(), out.fitted()), (1, 60, 1));
        assert_eq!(out.days[40].dep_delay_anomaly, Some(true));
        // The flags are the detection's; the residual and the distance
        // from the band say how far each day lies.
        let flags: Vec<bool> = out.days.iter().map(|r| r.dep_delay_anomaly.unwrap()).collect();
        assert_eq!(flags, det.as_ref().unwrap().anomaly);
        for r in &out.days {
            let (y, hi, lo) = (
                r.average_dep_delay,
                r.dep_delay_higher_ci.unwrap(),
                r.dep_delay_lower_ci.unwrap(),
            );
            let outside = r.dep_delay_outside.unwrap();
            assert_eq!(outside > 0.0, r.dep_delay_anomaly.unwrap(), "{r:?}");
            assert!(outside == 0.0 || outside == y - hi || outside == lo - y, "{r:?}");
        }
        let storm = &out.days[40];
        let sd = det.as_ref().unwrap().sd[40];
        assert_eq!(
            storm.dep_delay_residual,
            Some((storm.average_dep_delay - storm.dep_delay_pred.unwrap()) / sd)
        );
        assert!(
            storm.dep_delay_residual.unwrap() > 1.28,
            "outside an 80 % band is beyond 1.28 sd"
        );
        assert_eq!(
            storm.dep_delay_outside,
            Some(storm.average_dep_delay - storm.dep_delay_higher_ci.unwrap())
        );
        let m = &out.models[0];
        assert_eq!(
            (m.p, m.d, m.q, m.points, m.skip_reason.as_deref()),
            (Some(5), Some(1), Some(1), 60, None)
        );
        let stored = m.stored_model().unwrap().unwrap();
        assert_eq!(stored.params.to_vec(), *m.params.as_ref().unwrap());

        let short = DailySeries::group(s.summary_rows(&det).into_iter().take(2).map(|r| crate::DayPoint {
            origin: r.origin_airport,
            date: r.date,
            mean_delay: r.average_dep_delay,
            flights: r.flights,
            facts: DayFacts::default(),
        }));
        let skip = detect(&short[0].mean_delay, &opts);
        let row = short[0].model_row(&skip, &opts);
        assert_eq!(
            row.skip_reason.as_deref(),
            Some("series has 2 points; at least 3 are needed")
        );
        assert!(row.stored_model().unwrap().is_none());
        assert!(short[0].summary_rows(&skip).iter().all(|r| r.dep_delay_pred.is_none()));
    }

    #[test]
    fn rows_cross_as_json_by_column_name() {
        let s = series();
        let opts = DetectOptions::default();
        let out = Outcome::new(std::slice::from_ref(&s), &[detect(&s.mean_delay, &opts)], &opts);
        let days: Vec<SummaryRow> = serde_json::from_str(&out.days_json()).unwrap();
        assert_eq!(days, out.days, "floats and dates round-trip exactly");
        let first: serde_json::Value = serde_json::from_str(&out.days_json()).unwrap();
        assert_eq!(first[0]["date"], "2013-01-01");
        assert!(first[0].get("dep_delay_higher_ci").is_some());
    }

    #[test]
    fn a_model_row_with_the_wrong_parameter_count_is_refused() {
        let s = series();
        let opts = DetectOptions::default();
        let mut row = s.model_row(&detect(&s.mean_delay, &opts), &opts);
        row.params.as_mut().unwrap().pop();
        assert_eq!(row.stored_model().unwrap_err(), "6 parameters, order (5,1,1) needs 7");
    }
}
