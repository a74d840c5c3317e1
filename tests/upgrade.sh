#!/usr/bin/env bash
# The upgrade path, against a real cluster with the release build
# installed: a database made with 0.1.0 (its install script, frozen in
# tests/upgrade/), loaded and refreshed, then ALTER EXTENSION ... UPDATE:
# every row is kept, the functions work, and the extension's objects,
# grants and dump settings are those of a fresh 0.2.0 install.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/upgrade-test
LOADER=$PWD/target/release/loader
EXT_DIR=$("$PGBIN/pg_config" --sharedir)/extension
test_cluster "$DIR" "${UPGRADE_TEST_PORT:-25336}"
export PGDATABASE=upgraded

# Only the install script of 0.1.0 is needed: the shared library keeps
# every entry point 0.1.0 declared.
cp tests/upgrade/airline_anomalies--0.1.0.sql "$EXT_DIR/"
sql -d postgres -c "CREATE DATABASE upgraded" -c "CREATE DATABASE fresh"
sql -c "CREATE EXTENSION airline_anomalies VERSION '0.1.0'"
$LOADER load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>&1
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary")" = 1095 ] || fail "0.1.0: the sample did not refresh"
# 0.1.0's columns of every summary row, and every other table of 0.1.0 whole.
old_columns() { sql -c "SELECT md5(string_agg(format('%s %s %s %s %s %s %s %s', date, origin_airport, average_dep_delay, flights,
                                dep_delay_anomaly, dep_delay_pred, dep_delay_higher_ci, dep_delay_lower_ci), ',' ORDER BY date, origin_airport))
                        FROM airport_daily_summary"; }
others() { digest "$PGDATABASE" | grep -v '^airport_daily_summary \|^flight_years '; }
summary_before=$(old_columns)
before=$(others)

sql -c "ALTER EXTENSION airline_anomalies UPDATE"
[ "$(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'airline_anomalies'")" = 0.2.0 ] || fail "not at 0.2.0 after UPDATE"
[ "$(old_columns)" = "$summary_before" ] || fail "the update changed airport_daily_summary's rows"
[ "$(others)" = "$before" ] || fail "the update changed rows: $(diff <(echo "$before") <(others))"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source IS NOT NULL")" = 0 ] || fail "0.1.0's rows got a source"
sql -c "SELECT refresh_year(2013)" >/dev/null
[ "$(old_columns)" = "$summary_before" ] || fail "refresh_year after the update gives other rows"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source = 'fit'")" = 1095 ] || fail "the refresh did not record its source"
[ "$(sql -c "SELECT count(*) FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9]::float8[], 1, 0, 0), 3)")" = 3 ] || fail "arima_fit/arima_forecast after the update"
[ "$(sql -c "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'flights_y2013'")" = airline_writer ] || fail "0.1.0's partition not handed to airline_writer"
pass "0.1.0 -> 0.2.0: every row kept, refresh_year and the generic functions work"

# The updated extension is the fresh one: same member objects with the same
# definitions, owners, grants and settings, same tables kept by pg_dump.
sql -d fresh -c "CREATE EXTENSION airline_anomalies"
catalog() {
    sql -d "$1" <<'SQL'
SELECT format('%s %s owner=%s acl=%s', pg_describe_object(d.classid, d.objid, 0),
              coalesce(pg_get_functiondef(p.oid), pg_get_viewdef(c.oid), ''),
              pg_get_userbyid(coalesce(p.proowner, c.relowner)),
              coalesce(p.proacl::text, c.relacl::text))
FROM pg_depend d
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'airline_anomalies'
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
WHERE d.deptype = 'e'
UNION ALL
SELECT format('columns of %s: %s', a.attrelid::regclass,
              string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum))
FROM pg_attribute a JOIN pg_depend d ON d.objid = a.attrelid AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'airline_anomalies'
WHERE a.attnum > 0 AND NOT a.attisdropped GROUP BY a.attrelid
UNION ALL
SELECT 'constraint: ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid IN ('airport_daily_summary'::regclass, 'airport_models'::regclass, 'flights'::regclass, 'flight_rejects'::regclass)
UNION ALL
SELECT 'dumped: ' || string_agg(x::regclass::text, ',' ORDER BY x::regclass::text)
FROM pg_extension, unnest(extconfig) x WHERE extname = 'airline_anomalies'
UNION ALL
SELECT 'trigger: ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'mark_anomaly'
ORDER BY 1;
SQL
}
diff <(catalog fresh) <(catalog upgraded) >"$DIR/catalog.diff" || fail "updated and fresh differ:
$(cat "$DIR/catalog.diff")"
[ "$(catalog fresh | grep -c 'FUNCTION')" -ge 8 ] || fail "the catalog comparison saw too few functions"
pass "the updated extension equals a fresh 0.2.0: functions, columns, constraints, owners, grants, dump settings, trigger"
echo "upgrade: all passed"
