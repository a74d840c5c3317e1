//! A flagged day's dominant delay cause, as `anomaly_explanation()` in
//! `sql/schema.sql` decides it (the SQL is what the view and NOTIFY use;
//! this is for `loader plot`, which may have no database to ask).

use crate::SummaryRow;

/// The causes as explanations name them, in the columns' order.
pub const CAUSES: [&str; 5] = ["carrier", "weather", "NAS", "security", "late aircraft"];

impl SummaryRow {
    /// The day's delay minutes by cause, in [`CAUSES`] order.
    pub fn cause_minutes(&self) -> [Option<f64>; 5] {
        [
            self.carrier_delay_minutes,
            self.weather_delay_minutes,
            self.nas_delay_minutes,
            self.security_delay_minutes,
            self.late_aircraft_delay_minutes,
        ]
    }

    /// The cause with the most delay minutes (ties: the first in
    /// [`CAUSES`] order) and its share of the day's cause minutes; `None`
    /// when the day has no cause minutes.
    pub fn dominant_cause(&self) -> Option<(&'static str, f64)> {
        let minutes = self.cause_minutes();
        let total: f64 = minutes.iter().flatten().sum();
        if total <= 0.0 {
            return None;
        }
        let (i, top) = minutes.iter().enumerate().filter_map(|(i, m)| m.map(|m| (i, m))).fold(
            None,
            |best: Option<(usize, f64)>, (i, m)| match best {
                Some((_, b)) if b >= m => best,
                _ => Some((i, m)),
            },
        )?;
        Some((CAUSES[i], top / total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(minutes: [Option<f64>; 5]) -> SummaryRow {
        let mut row: SummaryRow = serde_json::from_str(
            r#"{"date": "2013-03-08", "origin_airport": "LGA", "average_dep_delay": 80.0, "flights": 300,
                "dep_delay_anomaly": true, "dep_delay_pred": 10.0, "dep_delay_higher_ci": 30.0,
                "dep_delay_lower_ci": -5.0, "dep_delay_source": "fit"}"#,
        )
        .unwrap();
        [
            row.carrier_delay_minutes,
            row.weather_delay_minutes,
            row.nas_delay_minutes,
            row.security_delay_minutes,
            row.late_aircraft_delay_minutes,
        ] = minutes;
        row
    }

    /// The same days as the pg_regress case of `anomaly_explanation()`.
    #[test]
    fn the_cause_with_most_minutes_and_its_share() {
        let d = day([Some(120.0), Some(640.0), Some(240.0), None, Some(0.0)]);
        assert_eq!(d.dominant_cause(), Some(("weather", 0.64)));
        // A tie goes to the first cause.
        let d = day([Some(50.0), None, Some(50.0), None, None]);
        assert_eq!(d.dominant_cause(), Some(("carrier", 0.5)));
        // No cause minutes (a file without the columns, or all zero): none.
        assert_eq!(day([None; 5]).dominant_cause(), None);
        assert_eq!(day([Some(0.0); 5]).dominant_cause(), None);
    }
}
