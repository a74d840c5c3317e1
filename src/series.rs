//! Reading daily series from `flights` with SPI, with the query the loader
//! shares (`sql/daily.sql`).

use pgrx::datum::Date;
use pgrx::prelude::*;
use summary::{sql, DailySeries};

use crate::error;

/// Daily series of `year`, for every origin or only `origin`, of every day
/// or only those after `since`.
pub(crate) fn daily(year: i32, origin: Option<&str>, since: Option<Date>) -> Vec<DailySeries> {
    let json = Spi::get_one_with_args::<String>(sql::DAILY, &[year.into(), origin.into(), since.into()])
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
