//! The SQL the extension and the loader share, each statement included
//! once from `sql/`. Rows go in and come out as JSON, by column name.

/// The plain schema (tables, view, `flights_partition`), with
/// `@extschema@` where its schema goes: see [`schema_in`].
pub const SCHEMA: &str = include_str!("../../../sql/schema.sql");

/// The year's daily series, as a JSON array of [`crate::DayPoint`]s
/// (`$1` year, `$2` origin or NULL for every origin, `$3` only days after
/// this date, or NULL).
pub const DAILY: &str = include_str!("../../../sql/daily.sql");

/// Upserts [`crate::ModelRow`]s (`$1` a JSON array of them).
pub const UPSERT_MODEL: &str = include_str!("../../../sql/upsert_model.sql");

/// Upserts a year's [`crate::SummaryRow`]s (`$1` year, `$2` a JSON array
/// of them, `$3` the airports whose days may be removed, NULL for all).
pub const UPSERT_SUMMARY: &str = include_str!("../../../sql/upsert_summary.sql");

/// The stored [`crate::ModelRow`] of an airport-year as JSON (`$1` origin,
/// `$2` year).
pub const STORED_MODEL: &str = include_str!("../../../sql/stored_model.sql");

/// A year's summarised means per airport, as [`crate::YearMeans`] JSON
/// (`$1` year).
pub const YEAR_MEANS: &str = include_str!("../../../sql/year_means.sql");

/// Records that a year received data (`$1` year).
pub const MARK_LOADED: &str = include_str!("../../../sql/mark_loaded.sql");

/// Records that a year was refreshed (`$1` year).
pub const MARK_REFRESHED: &str = include_str!("../../../sql/mark_refreshed.sql");

/// The plain schema for installing into `schema` (a quoted identifier)
/// without the extension.
pub fn schema_in(schema: &str) -> String {
    SCHEMA.replace("@extschema@", schema)
}

/// The extension's 0.2.0 -> 0.3.0 update script.
const UPDATE_0_3: &str = include_str!("../../../sql/airline_anomalies--0.2.0--0.3.0.sql");

/// The 0.2.0 -> 0.3.0 update of a plain schema in `schema` (a quoted
/// identifier): the extension's script without its `\echo` guard and its
/// "extension only" parts (the C functions, the insert trigger, grants to
/// the extension's roles), so the two updates cannot drift apart.
pub fn plain_update_0_3(schema: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in UPDATE_0_3.lines() {
        match line.trim() {
            "-- extension only: begin" => skipping = true,
            "-- extension only: end" => skipping = false,
            l if skipping || l.starts_with("\\echo") => {}
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.replace("@extschema@", schema)
}

/// The [`crate::SummaryRow`]s of a year as a JSON array (`$1` year, `$2`
/// airports, empty for all).
pub const YEAR_SUMMARY: &str = include_str!("../../../sql/year_summary.sql");

/// The [`crate::ModelRow`]s of a year as a JSON array (`$1` year, `$2`
/// airports, empty for all).
pub const YEAR_MODELS: &str = include_str!("../../../sql/year_models.sql");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_update_leaves_out_the_extension_parts() {
        let plain = plain_update_0_3("\"s\"");
        assert!(plain.contains("ALTER TABLE \"s\".flights"));
        assert!(plain.contains("CREATE FUNCTION explain_anomalies"));
        for gone in [
            "\\echo",
            "arima_next_day(",
            "LANGUAGE c",
            "GRANT",
            "REVOKE",
            "@extschema@",
        ] {
            assert!(!plain.contains(gone), "{gone} left in the plain update");
        }
    }
}
