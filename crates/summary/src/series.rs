//! Daily series: what the anomaly rule models, one per airport and year.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// What else the day's flights from the airport did, cancelled ones
/// included: the counts and delay minutes by cause an explanation quotes.
/// Each field is the `airport_daily_summary` column of the same name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)] // 0.2.0's daily query has none of them
pub struct DayFacts {
    /// Every flight of the day, flown or not.
    pub flights_scheduled: i64,
    /// Flights cancelled.
    pub flights_cancelled: i64,
    /// Flights diverted.
    pub flights_diverted: i64,
    /// Sum of the flights' carrier delay minutes; `None` when no flight
    /// has one (files without the cause columns, or no late arrival).
    pub carrier_delay_minutes: Option<f64>,
    /// Weather delay minutes, likewise.
    pub weather_delay_minutes: Option<f64>,
    /// National air system delay minutes, likewise.
    pub nas_delay_minutes: Option<f64>,
    /// Security delay minutes, likewise.
    pub security_delay_minutes: Option<f64>,
    /// Late-arriving aircraft delay minutes, likewise.
    pub late_aircraft_delay_minutes: Option<f64>,
}

/// One airport-day: the mean of the day's finite departure delays and how
/// many there were, and the day's other facts. `sql/daily.sql` returns
/// these as a JSON array; a day without a finite delay is not one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DayPoint {
    /// Origin airport code.
    pub origin: String,
    /// The day.
    pub date: NaiveDate,
    /// Mean departure delay, minutes.
    pub mean_delay: f64,
    /// Flights with a finite departure delay.
    pub flights: i64,
    /// Counts and cause minutes.
    #[serde(flatten)]
    pub facts: DayFacts,
}

/// One airport's days in one year, in date order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DailySeries {
    /// Origin airport code.
    pub origin: String,
    /// The year all the days fall in.
    pub year: i32,
    /// The days that have at least one finite delay.
    pub dates: Vec<NaiveDate>,
    /// Mean departure delay of each day.
    pub mean_delay: Vec<f64>,
    /// Flights with a finite delay, each day.
    pub flights: Vec<i64>,
    /// Each day's counts and cause minutes.
    pub facts: Vec<DayFacts>,
}

impl DailySeries {
    /// Groups points ordered by origin, then date, into one series per
    /// origin and year.
    pub fn group(points: impl IntoIterator<Item = DayPoint>) -> Vec<DailySeries> {
        let mut out: Vec<DailySeries> = Vec::new();
        for p in points {
            let year = p.date.year();
            if out.last().is_none_or(|s| s.origin != p.origin || s.year != year) {
                out.push(DailySeries {
                    origin: p.origin.clone(),
                    year,
                    ..DailySeries::default()
                });
            }
            let s = out.last_mut().expect("pushed above");
            s.dates.push(p.date);
            s.mean_delay.push(p.mean_delay);
            s.flights.push(p.flights);
            s.facts.push(p.facts);
        }
        out
    }

    /// The series in `sql/daily.sql`'s result (a JSON array of points, or
    /// null when there are none).
    pub fn from_json(json: Option<&str>) -> Result<Vec<DailySeries>, serde_json::Error> {
        let points: Vec<DayPoint> = match json {
            Some(text) => serde_json::from_str(text)?,
            None => Vec::new(),
        };
        Ok(DailySeries::group(points))
    }

    /// Number of days.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether the series has no day.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(origin: &str, date: &str, mean_delay: f64) -> DayPoint {
        DayPoint {
            origin: origin.into(),
            date: date.parse().unwrap(),
            mean_delay,
            flights: 1,
            facts: DayFacts::default(),
        }
    }

    #[test]
    fn groups_by_origin_and_year() {
        let series = DailySeries::group([
            point("EWR", "2013-12-31", 1.0),
            point("EWR", "2014-01-01", 2.0),
            point("JFK", "2014-01-01", 3.0),
            point("JFK", "2014-01-02", 4.0),
        ]);
        let keys: Vec<_> = series.iter().map(|s| (s.origin.as_str(), s.year, s.len())).collect();
        assert_eq!(keys, [("EWR", 2013, 1), ("EWR", 2014, 1), ("JFK", 2014, 2)]);
        assert_eq!(series[2].mean_delay, [3.0, 4.0]);
    }

    #[test]
    fn reads_the_daily_query_json() {
        let json = r#"[{"origin":"LGA","date":"2013-03-08","mean_delay":105.7,"flights":229,
                        "flights_scheduled":402,"flights_cancelled":118,"flights_diverted":2,
                        "carrier_delay_minutes":null,"weather_delay_minutes":640.0,"nas_delay_minutes":360.0,
                        "security_delay_minutes":null,"late_aircraft_delay_minutes":null}]"#;
        let series = DailySeries::from_json(Some(json)).unwrap();
        assert_eq!(series[0].dates[0], NaiveDate::from_ymd_opt(2013, 3, 8).unwrap());
        assert_eq!(series[0].flights, [229]);
        let f = &series[0].facts[0];
        assert_eq!(
            (
                f.flights_scheduled,
                f.flights_cancelled,
                f.weather_delay_minutes,
                f.carrier_delay_minutes
            ),
            (402, 118, Some(640.0), None)
        );
        assert!(DailySeries::from_json(None).unwrap().is_empty());
    }
}
