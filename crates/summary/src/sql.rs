//! The SQL the extension and the loader share, each statement included
//! once from `sql/`. Rows go in and come out as JSON, by column name.
//!
//! Every statement names the project's objects `@extschema@`-qualified and
//! runs with `search_path = pg_catalog, pg_temp`: [`in_schema`] puts the
//! schema in, so no name can resolve through a schema another role may
//! write to (an exact-type overload planted there is never seen).

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

/// Takes year `$1`'s lock until the transaction ends: loads hold it while
/// they put the year in place; `refresh_year` and `loader detect` take it
/// before reading the year. Whoever takes several takes them in ascending
/// year order, so no cycle forms.
pub const LOCK_YEAR: &str = "SELECT pg_advisory_xact_lock(hashtext('airline_anomalies.load'), $1)";

/// Records that a year received data (`$1` year).
pub const MARK_LOADED: &str = include_str!("../../../sql/mark_loaded.sql");

/// Records that a year was refreshed (`$1` year).
pub const MARK_REFRESHED: &str = include_str!("../../../sql/mark_refreshed.sql");

/// `statement` with its objects in `schema` (a quoted identifier, e.g.
/// from `quote_ident`): the extension's schema, or a plain schema's.
pub fn in_schema(statement: &str, schema: &str) -> String {
    statement.replace("@extschema@", schema)
}

/// The plain schema for installing into `schema` (a quoted identifier)
/// without the extension.
pub fn schema_in(schema: &str) -> String {
    in_schema(SCHEMA, schema)
}

/// The extension's 0.2.0 -> 0.3.0 update script.
const UPDATE_0_3: &str = include_str!("../../../sql/airline_anomalies--0.2.0--0.3.0.sql");

/// The extension's 0.3.0 -> 0.4.0 update script.
const UPDATE_0_4: &str = include_str!("../../../sql/airline_anomalies--0.3.0--0.4.0.sql");

/// The 0.2.0 -> 0.3.0 update of a plain schema in `schema` (a quoted
/// identifier): see [`plain_update`].
pub fn plain_update_0_3(schema: &str) -> String {
    plain_update(UPDATE_0_3, schema)
}

/// The 0.3.0 -> 0.4.0 update of a plain schema in `schema` (a quoted
/// identifier): see [`plain_update`].
pub fn plain_update_0_4(schema: &str) -> String {
    plain_update(UPDATE_0_4, schema)
}

/// An update of a plain schema: the extension's script without its `\echo`
/// guard and its "extension only" parts (the C functions, the insert
/// trigger, grants to the extension's roles), so the two updates cannot
/// drift apart.
fn plain_update(script: &str, schema: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in script.lines() {
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
    in_schema(&out, schema)
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
        assert!(plain.contains("CREATE FUNCTION \"s\".explain_anomalies"));
        let plain_0_4 = plain_update_0_4("\"s\"");
        assert!(plain_0_4.contains("CREATE SCHEMA airline_partitions"));
        assert!(plain_0_4.contains("CREATE OR REPLACE FUNCTION \"s\".flights_partition"));
        for gone in [
            ".refresh_pending(",
            "pg_extension",
            "GRANT",
            "REVOKE",
            "LANGUAGE c",
            "@extschema@",
        ] {
            assert!(!plain_0_4.contains(gone), "{gone} left in the plain 0.4.0 update");
        }
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

    /// Every shared statement names the tables in `@extschema@`, so it runs
    /// under `search_path = pg_catalog, pg_temp`: no table follows a FROM,
    /// INTO, JOIN, UPDATE or `NULL::` bare.
    #[test]
    fn shared_statements_qualify_every_table() {
        let tables = ["flights", "airport_daily_summary", "airport_models", "flight_years"];
        for statement in [
            DAILY,
            UPSERT_MODEL,
            UPSERT_SUMMARY,
            STORED_MODEL,
            YEAR_MEANS,
            MARK_LOADED,
            MARK_REFRESHED,
            YEAR_SUMMARY,
            YEAR_MODELS,
        ] {
            let code = statement.lines().filter(|l| !l.trim_start().starts_with("--"));
            let words: Vec<&str> = code.flat_map(str::split_whitespace).collect();
            for pair in words.windows(2) {
                let bare = |w: &str| tables.contains(&w.trim_end_matches([',', ')', ';']));
                let after_keyword = ["FROM", "INTO", "JOIN", "UPDATE"].contains(&pair[0]) && bare(pair[1]);
                let cast = pair[1].strip_prefix("NULL::").is_some_and(bare);
                assert!(!after_keyword && !cast, "unqualified {pair:?} in {statement}");
            }
            assert!(
                in_schema(statement, "\"s\"").contains("\"s\"."),
                "no qualified name in {statement}"
            );
        }
    }
}
