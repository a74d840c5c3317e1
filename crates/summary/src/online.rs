//! Online flags: new days marked with a stored model's one-step prediction
//! from the days before them, without refitting. A one-step prediction at
//! day t uses only days before t, so a day's flag never looks ahead, as a
//! monitoring system needs.

use arima::{ArimaError, FittedArima};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DailySeries, ModelRow, StoredModel, SummaryRow};

/// What made a summary row's prediction (`dep_delay_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A model fitted on the whole airport-year (`refresh_year`, the old
    /// system's method): in-sample one-step predictions.
    Fit,
    /// The year's stored model, run over the days before the day.
    Online,
    /// The previous year's stored model, run over that year's days and
    /// this year's days before the day: a new year before its own fit.
    PreviousYear,
}

/// The summary rows of `series`'s days at `recompute` positions, marked by
/// `model` run over `before` (earlier days, oldest first) followed by the
/// series. Other days are not returned.
pub fn online_rows(
    series: &DailySeries,
    recompute: &[usize],
    model: &StoredModel,
    before: &[f64],
    source: Source,
) -> Result<Vec<SummaryRow>, ArimaError> {
    let y: Vec<f64> = before.iter().chain(&series.mean_delay).copied().collect();
    let fit = FittedArima::from_params(model.order, model.params.clone(), &y)?;
    let pred = fit.in_sample_prediction();
    let (lower, upper) = pred.interval(model.level)?;
    let at = before.len();
    Ok(recompute
        .iter()
        .map(|&t| {
            let (lo, hi) = (lower[at + t].max(model.lower_clip), upper[at + t].min(model.upper_clip));
            let sd = pred.variance[at + t].sqrt();
            series.observed_row(t).modelled(pred.mean[at + t], sd, lo, hi, source)
        })
        .collect())
}

/// A year's summarised days per airport (`sql/year_means.sql`): what an
/// online update runs the stored models over.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct YearMeans {
    /// The last summarised day of the year, if any.
    pub last: Option<NaiveDate>,
    /// Each airport's daily means in date order.
    pub airports: Vec<AirportMeans>,
}

/// One airport's summarised daily means of a year, in date order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AirportMeans {
    /// Origin airport code.
    pub origin: String,
    /// Daily means, oldest first.
    pub means: Vec<f64>,
}

impl YearMeans {
    fn of(&self, origin: &str) -> &[f64] {
        self.airports
            .iter()
            .find(|a| a.origin == origin)
            .map_or(&[], |a| a.means.as_slice())
    }
}

/// What an online update writes.
#[derive(Debug, Clone, Default)]
pub struct OnlineUpdate {
    /// Rows of the new days.
    pub rows: Vec<SummaryRow>,
    /// Airports with new days but no usable stored model (their rows stay unmarked).
    pub unmodelled: usize,
}

impl OnlineUpdate {
    /// The rows as the JSON `sql/upsert_summary.sql` takes.
    pub fn rows_json(&self) -> String {
        crate::rows::rows_json(&self.rows)
    }
}

/// The online update of a year: `new` holds each airport's days after the
/// year's last summarised day; each is marked with the one-step prediction
/// of the year's stored model in `models`, run over the airport's
/// summarised days (`year`) and the new days before it; without one, of
/// the previous year's model in `previous_models`, run over the previous
/// year's days first (`previous`); without either, the days stay unmarked.
pub fn online_update(
    new: &[DailySeries],
    year: &YearMeans,
    models: &[ModelRow],
    previous: &YearMeans,
    previous_models: &[ModelRow],
) -> OnlineUpdate {
    let stored = |rows: &[ModelRow], origin: &str| {
        rows.iter()
            .find(|m| m.origin_airport == origin)
            .and_then(|m| m.stored_model().ok().flatten())
    };
    let mut out = OnlineUpdate::default();
    for s in new {
        let every_day: Vec<usize> = (0..s.len()).collect();
        let marked = if let Some(model) = stored(models, &s.origin) {
            online_rows(s, &every_day, &model, year.of(&s.origin), Source::Online).ok()
        } else if let Some(model) = stored(previous_models, &s.origin) {
            let before: Vec<f64> = [previous.of(&s.origin), year.of(&s.origin)].concat();
            online_rows(s, &every_day, &model, &before, Source::PreviousYear).ok()
        } else {
            None
        };
        match marked {
            Some(rows) => out.rows.extend(rows),
            None => {
                out.unmodelled += 1;
                out.rows.extend(every_day.iter().map(|&t| s.observed_row(t)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outcome;
    use arima::{detect, DetectOptions};
    use chrono::NaiveDate;

    fn series(n: u64, spike: usize) -> DailySeries {
        let first = NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
        DailySeries {
            origin: "AAA".into(),
            year: 2013,
            dates: (0..n).map(|t| first + chrono::Days::new(t)).collect(),
            mean_delay: (0..n as usize)
                .map(|t| 10.0 + ((t * 37 % 11) as f64) + if t == spike { 60.0 } else { 0.0 })
                .collect(),
            flights: vec![3; n as usize],
            facts: vec![crate::DayFacts::default(); n as usize],
        }
    }

    /// The stored model of the first 60 days predicts day 60 from days
    /// 0..60 only, as the insert trigger does, and flags a storm on it.
    #[test]
    fn a_new_day_is_marked_from_the_days_before_it() {
        let opts = DetectOptions::default();
        let first = series(60, 40);
        let det = detect(&first.mean_delay, &opts);
        let model = first.model_row(&det, &opts).stored_model().unwrap().unwrap();

        let mut grown = series(61, 40);
        grown.mean_delay[60] = 95.0;
        let rows = online_rows(&grown, &[60], &model, &[], Source::Online).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (r.date, r.dep_delay_anomaly, r.dep_delay_source),
            (grown.dates[60], Some(true), Some(Source::Online))
        );

        // The same prediction as a fresh filter over exactly the earlier days.
        let fit = FittedArima::from_params(model.order, model.params.clone(), &grown.mean_delay[..60]).unwrap();
        assert!((fit.forecast(1).mean[0] - r.dep_delay_pred.unwrap()).abs() < 1e-9);
        // No look-ahead: a different later value does not move the prediction.
        let mut later = series(62, 40);
        later.mean_delay[60] = 95.0;
        later.mean_delay[61] = -500.0;
        let again = online_rows(&later, &[60], &model, &[], Source::Online).unwrap();
        assert_eq!(again[0].dep_delay_pred, r.dep_delay_pred);
    }

    fn means(origin: &str, s: &DailySeries, last: usize) -> YearMeans {
        YearMeans {
            last: Some(s.dates[last - 1]),
            airports: vec![AirportMeans {
                origin: origin.into(),
                means: s.mean_delay[..last].to_vec(),
            }],
        }
    }

    /// New days are marked by the year's model over the days before them;
    /// a new year without its own model uses the previous year's, and says
    /// so; without either, the days stay unmarked.
    #[test]
    fn the_update_marks_new_days_with_the_right_model() {
        let opts = DetectOptions::default();
        let year = series(60, 40);
        let det = detect(&year.mean_delay, &opts);
        let fitted = Outcome::new(std::slice::from_ref(&year), std::slice::from_ref(&det), &opts);

        let grown = series(62, 40);
        let new = DailySeries {
            dates: grown.dates[60..].to_vec(),
            mean_delay: grown.mean_delay[60..].to_vec(),
            flights: grown.flights[60..].to_vec(),
            facts: grown.facts[60..].to_vec(),
            ..grown.clone()
        };
        let update = online_update(
            std::slice::from_ref(&new),
            &means("AAA", &grown, 60),
            &fitted.models,
            &YearMeans::default(),
            &[],
        );
        assert_eq!(
            update.rows.iter().map(|r| r.date).collect::<Vec<_>>(),
            grown.dates[60..]
        );
        assert!(update.rows.iter().all(|r| r.dep_delay_source == Some(Source::Online)));
        // The same numbers as the whole grown series run through at once.
        let whole = online_rows(
            &grown,
            &[60, 61],
            &fitted.models[0].stored_model().unwrap().unwrap(),
            &[],
            Source::Online,
        )
        .unwrap();
        assert_eq!(update.rows, whole);

        // A new year's first days: the previous year's model, over that year's days first.
        let mut next = series(2, 99);
        next.year = 2014;
        next.dates = vec![
            NaiveDate::from_ymd_opt(2014, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2014, 1, 2).unwrap(),
        ];
        let update = online_update(
            std::slice::from_ref(&next),
            &YearMeans::default(),
            &[],
            &means("AAA", &year, 60),
            &fitted.models,
        );
        assert_eq!(update.rows.len(), 2);
        assert!(update
            .rows
            .iter()
            .all(|r| r.dep_delay_source == Some(Source::PreviousYear) && r.dep_delay_pred.is_some()));

        // Neither model: unmarked, and counted.
        let update = online_update(
            std::slice::from_ref(&next),
            &YearMeans::default(),
            &[],
            &YearMeans::default(),
            &[],
        );
        assert_eq!((update.rows.len(), update.unmodelled), (2, 1));
        assert!(update
            .rows
            .iter()
            .all(|r| r.dep_delay_pred.is_none() && r.dep_delay_source.is_none()));
    }

    #[test]
    fn year_means_read_the_query_json() {
        let json = r#"{"last": "2013-03-01", "airports": [{"origin": "AAA", "means": [1.5, 2.25]}]}"#;
        let m: YearMeans = serde_json::from_str(json).unwrap();
        assert_eq!(
            (m.last, m.of("AAA"), m.of("BBB")),
            (NaiveDate::from_ymd_opt(2013, 3, 1), &[1.5, 2.25][..], &[][..])
        );
        let empty: YearMeans = serde_json::from_str(r#"{"last": null, "airports": []}"#).unwrap();
        assert_eq!(empty, YearMeans::default());
    }

    #[test]
    fn fitted_rows_say_they_were_fitted() {
        let opts = DetectOptions::default();
        let s = series(60, 40);
        let out = Outcome::new(std::slice::from_ref(&s), &[detect(&s.mean_delay, &opts)], &opts);
        assert!(out.days.iter().all(|r| r.dep_delay_source == Some(Source::Fit)));
        assert_eq!(serde_json::to_value(Source::PreviousYear).unwrap(), "previous_year");
    }
}
