//! Reading daily series from `flights` with SPI.

use pgrx::datum::Date;
use pgrx::prelude::*;

/// One airport's days in a year: dates, mean departure delay, flights.
#[derive(Debug, Default, Clone)]
pub(crate) struct Daily {
    pub origin: String,
    pub dates: Vec<Date>,
    pub mean_delay: Vec<f64>,
    pub flights: Vec<i64>,
}

/// The year's daily series per origin, grouped in SQL (shared with the loader).
const DAILY_SQL: &str = include_str!("../sql/daily.sql");

/// Daily series of `year`, for every origin or only `origin`.
pub(crate) fn daily(year: i32, origin: Option<&str>) -> Vec<Daily> {
    Spi::connect(|client| {
        let rows = client.select(DAILY_SQL, None, &[year.into(), origin.into()])?;
        let mut out: Vec<Daily> = Vec::new();
        for row in rows {
            let origin: String = row.get(1)?.expect("origin is NOT NULL");
            let date: Date = row.get(2)?.expect("fl_date is NOT NULL");
            let mean: f64 = row.get(3)?.expect("a day has at least one delay");
            let flights: i64 = row.get(4)?.expect("count is never NULL");
            if out.last().is_none_or(|d| d.origin != origin) {
                out.push(Daily {
                    origin,
                    ..Daily::default()
                });
            }
            let day = out.last_mut().expect("pushed above");
            day.dates.push(date);
            day.mean_delay.push(mean);
            day.flights.push(flights);
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .unwrap_or_else(|e| crate::error::spi("reading flights", e))
}

/// Whether `flights` has any row in `year`.
pub(crate) fn year_has_flights(year: i32) -> bool {
    Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM flights WHERE fl_date >= make_date($1, 1, 1) AND fl_date < make_date($1 + 1, 1, 1))",
        &[year.into()],
    )
    .unwrap_or_else(|e| crate::error::spi("reading flights", e))
    .unwrap_or(false)
}
