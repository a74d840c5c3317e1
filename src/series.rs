//! Where this database keeps the extension's tables, read once per call,
//! and the daily series read from `flights` with the statement the loader
//! shares (`sql/daily.sql`).

use pgrx::datum::Date;
use pgrx::pg_sys;
use pgrx::prelude::*;
use summary::{sql, DailySeries};

use crate::error;

/// The daily query of a database whose tables are older than 0.3.0's (no
/// cause columns in `flights`).
const DAILY_0_2: &str = include_str!("../sql/daily_0_2.sql");

/// Runs `call` under `search_path = pg_catalog, pg_temp`, restored when it
/// returns (an ERROR's abort restores it too), as a function's SET clause
/// does. 0.4.0's definitions pin it already; those of 0.1.0 to 0.3.0, which
/// this library serves until `ALTER EXTENSION ... UPDATE`, put the
/// extension's schema on it, where a writer could create objects until 0.4.0.
pub(crate) fn pinned_search_path<T>(call: impl FnOnce() -> T) -> T {
    // SAFETY: the backend thread; the same calls fmgr makes for a SET clause.
    let level = unsafe {
        let level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"search_path".as_ptr(),
            c"pg_catalog, pg_temp".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
        level
    };
    let out = call();
    // SAFETY: pops the level pushed above, on the same thread.
    unsafe { pg_sys::AtEOXact_GUC(true, level) };
    out
}

/// The extension's tables as this call finds them. Every statement names
/// them in `schema` and runs under `search_path = pg_catalog, pg_temp`, so
/// nothing another role creates in any schema can stand in for them or for
/// a built-in (see `summary::sql`).
#[derive(Debug)]
pub(crate) struct Tables {
    /// The extension's schema, a quoted identifier.
    schema: String,
    /// Whether the tables are older than the library's: the extension is
    /// at 0.1.0 or 0.2.0, not yet `ALTER EXTENSION ... UPDATE`d. Their
    /// entry points then read and write only the columns those tables have.
    pub(crate) before_0_3: bool,
}

impl Tables {
    /// Reads the extension's schema and version from the catalog.
    pub(crate) fn find() -> Tables {
        let (schema, before_0_3) = Spi::get_two::<String, bool>(
            "SELECT pg_catalog.quote_ident(n.nspname), e.extversion IN ('0.1.0', '0.2.0')
             FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname = 'airline_anomalies'",
        )
        .unwrap_or_else(|e| error::spi("reading pg_extension", e));
        Tables {
            schema: schema
                .unwrap_or_else(|| error::internal("reading pg_extension", &"the extension is not installed")),
            before_0_3: before_0_3.unwrap_or(false),
        }
    }

    /// `statement` with the tables' schema in place of `@extschema@`.
    pub(crate) fn sql(&self, statement: &str) -> String {
        sql::in_schema(statement, &self.schema)
    }

    /// Daily series of `year`, for every origin or only `origin`, of every
    /// day or only those after `since`.
    pub(crate) fn daily(&self, year: i32, origin: Option<&str>, since: Option<Date>) -> Vec<DailySeries> {
        let query = self.sql(if self.before_0_3 { DAILY_0_2 } else { sql::DAILY });
        let json = Spi::get_one_with_args::<String>(&query, &[year.into(), origin.into(), since.into()])
            .unwrap_or_else(|e| error::spi("reading flights", e));
        DailySeries::from_json(json.as_deref()).unwrap_or_else(|e| error::internal("reading the daily series", &e))
    }

    /// Whether `flights` has any row in `year`.
    pub(crate) fn year_has_flights(&self, year: i32) -> bool {
        let query = self.sql(
            "SELECT EXISTS (SELECT 1 FROM @extschema@.flights
                            WHERE fl_date >= make_date($1, 1, 1) AND fl_date < make_date($1 + 1, 1, 1))",
        );
        Spi::get_one_with_args::<bool>(&query, &[year.into()])
            .unwrap_or_else(|e| error::spi("reading flights", e))
            .unwrap_or(false)
    }
}
