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
        // Strictly greater: a tie keeps the earlier cause.
        let mut top: Option<(usize, f64)> = None;
        for (i, m) in minutes.iter().enumerate() {
            if let Some(m) = *m {
                if top.is_none_or(|(_, best)| m > best) {
                    top = Some((i, m));
                }
            }
        }
        let (i, top) = top?;
        Some((CAUSES[i], top / total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(minutes: [Option<f64>; 5]) -> SummaryRow {
        let [carrier, weather, nas, security, late_aircraft] = minutes;
        SummaryRow {
            carrier_delay_minutes: carrier,
            weather_delay_minutes: weather,
            nas_delay_minutes: nas,
            security_delay_minutes: security,
            late_aircraft_delay_minutes: late_aircraft,
            ..SummaryRow::default()
        }
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
