//! airline_anomalies: ARIMA anomaly detection for airline departure delays,
//! inside Postgres. Thin SQL glue over the `arima` crate: SQL values in,
//! one core call, SQL rows out. The schema lives in `sql/schema.sql`, the
//! insert trigger in `sql/trigger.sql`, roles, grants and what pg_dump
//! keeps in `sql/privileges.sql`. Every function pins its search_path.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

mod error;
mod generic;
mod input;
mod refresh;
mod series;
mod worker;

extension_sql_file!("../sql/schema.sql", name = "schema");
extension_sql_file!("../sql/trigger.sql", name = "trigger", requires = ["schema", next_day]);
extension_sql_file!("../sql/pending.sql", name = "pending", requires = ["schema", refresh]);
extension_sql_file!("../sql/privileges.sql", name = "privileges", finalize);

/// Registers the settings when Postgres loads the library.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    worker::define_settings();
}

#[cfg(any(test, feature = "pg_test"))]
mod pg_tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    /// Nothing to prepare before the tests.
    pub fn setup(_options: Vec<&str>) {}

    /// No extra settings for the test cluster.
    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
