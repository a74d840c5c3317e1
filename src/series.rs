//! Reading daily series from `flights` with SPI, with the query the loader
//! shares (`sql/daily.sql`).

use pgrx::datum::Date;
use pgrx::prelude::*;
use summary::{sql, DailySeries};

use crate::error;

/// The daily query of a database whose tables are older than 0.3.0's (no
/// cause columns in `flights`).
const DAILY_0_2: &str = include_str!("../sql/daily_0_2.sql");

/// Whether this database's tables are older than the library's: its
/// extension is at 0.1.0 or 0.2.0, not yet `ALTER EXTENSION ... UPDATE`d.
/// Their entry points then read and write only the columns those tables have.
pub(crate) fn tables_before_0_3() -> bool {
    Spi::get_one::<bool>(
        "SELECT extversion IN ('0.1.0', '0.2.0') FROM pg_catalog.pg_extension WHERE extname = 'airline_anomalies'",
    )
    .unwrap_or_else(|e| error::spi("reading pg_extension", e))
    .unwrap_or(false)
}

/// Daily series of `year`, for every origin or only `origin`, of every day
/// or only those after `since`.
pub(crate) fn daily(year: i32, origin: Option<&str>, since: Option<Date>) -> Vec<DailySeries> {
    let query = if tables_before_0_3() { DAILY_0_2 } else { sql::DAILY };
    let json = Spi::get_one_with_args::<String>(query, &[year.into(), origin.into(), since.into()])
        .unwrap_or_else(|e| error::spi("reading flights", e));
    DailySeries::from_json(json.as_deref()).unwrap_or_else(|e| error::internal("reading the daily series", &e))
}

/// Whether `flights` has any row in `year`.
pub(crate) fn year_has_flights(year: i32) -> bool {
    Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM flights WHERE fl_date >= make_date($1, 1, 1) AND fl_date < make_date($1 + 1, 1, 1))",
        &[year.into()],
    )
    .unwrap_or_else(|e| error::spi("reading flights", e))
    .unwrap_or(false)
}
