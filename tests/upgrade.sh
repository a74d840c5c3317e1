#!/usr/bin/env bash
# The upgrade path, against a real cluster with the release build
# installed: databases made with 0.1.0 and with 0.2.0 (their install
# scripts, frozen in tests/upgrade/), loaded and refreshed, then ALTER
# EXTENSION ... UPDATE: every row is kept, the functions work, and the
# extension's objects, grants and dump settings are those of a fresh 0.4.0;
# 0.3.0 too, whose partitions move to airline_partitions.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/upgrade-test
LOADER=$PWD/target/release/loader
EXT_DIR=$("$PGBIN/pg_config" --sharedir)/extension
test_cluster "$DIR" "${UPGRADE_TEST_PORT:-25336}"
export PGDATABASE=upgraded

# Old versions' install scripts are frozen in tests/upgrade/; the shared
# library keeps every entry point they declare, and reads and writes only
# the columns their tables have until the update.
cp tests/upgrade/airline_anomalies--0.1.0.sql tests/upgrade/airline_anomalies--0.2.0.sql tests/upgrade/airline_anomalies--0.3.0.sql "$EXT_DIR/"
sql -d postgres -c "CREATE DATABASE upgraded" -c "CREATE DATABASE from_0_2" -c "CREATE DATABASE from_0_3" -c "CREATE DATABASE fresh" -c "CREATE DATABASE scratch"
# The sample loaded once by today's loader; old databases get its flights'
# old columns (the loader refuses tables older than itself).
OLD_COLUMNS="fl_date, op_carrier, op_carrier_fl_num, origin, dest, crs_dep_time, dep_time, dep_delay, cancelled, diverted, source_file"
sql -d scratch -c "CREATE EXTENSION airline_anomalies"
PGDATABASE=scratch $LOADER load data/sample/nycflights13-2013.csv.gz >/dev/null 2>&1
old_database() { # $1 database, $2 version: made with that version, the sample's flights in, refreshed
    sql -d "$1" -c "CREATE EXTENSION airline_anomalies VERSION '$2'" -c "SELECT flights_partition(2013)" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d scratch -c "\copy (SELECT $OLD_COLUMNS FROM flights) TO STDOUT" |
        psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "\copy flights ($OLD_COLUMNS) FROM STDIN"
    sql -d "$1" -c "SELECT refresh_year(2013)" >/dev/null
    [ "$(sql -d "$1" -c "SELECT count(*) FROM airport_daily_summary")" = 1095 ] || fail "$2: the sample did not refresh"
}
# 0.1.0's columns of every summary row, the old columns of flights, and the
# other tables whole.
old_columns() { sql -d "$1" -c "SELECT md5(string_agg(format('%s %s %s %s %s %s %s %s', date, origin_airport, average_dep_delay, flights,
                                dep_delay_anomaly, dep_delay_pred, dep_delay_higher_ci, dep_delay_lower_ci), ',' ORDER BY date, origin_airport))
                        FROM airport_daily_summary"; }
others() {
    sql -d "$1" -c "SELECT md5(string_agg(format('%s', ($OLD_COLUMNS)), ',' ORDER BY ($OLD_COLUMNS)::text)) FROM flights"
    digest "$1" | grep -v '^airport_daily_summary \|^flight_years \|^flights_y'
}
version() { sql -d "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'airline_anomalies'"; }

old_database upgraded 0.1.0
summary_before=$(old_columns upgraded)
before=$(others upgraded)
sql -c "ALTER EXTENSION airline_anomalies UPDATE"
[ "$(version upgraded)" = 0.4.0 ] || fail "not at 0.4.0 after UPDATE"
[ "$(old_columns upgraded)" = "$summary_before" ] || fail "the update changed airport_daily_summary's rows"
[ "$(others upgraded)" = "$before" ] || fail "the update changed rows: $(diff <(echo "$before") <(others upgraded))"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source IS NOT NULL OR flights_scheduled IS NOT NULL")" = 0 ] \
    || fail "0.1.0's rows got values they never had"
sql -c "SELECT refresh_year(2013)" >/dev/null
[ "$(old_columns upgraded)" = "$summary_before" ] || fail "refresh_year after the update gives other rows"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source = 'fit' AND flights_scheduled >= flights AND dep_delay_outside >= 0")" = 1095 ] \
    || fail "the refresh did not fill the new columns"
[ "$(sql -c "SELECT count(*) FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9]::float8[], 1, 0, 0), 3)")" = 3 ] || fail "arima_fit/arima_forecast after the update"
[ "$(sql -c "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'flights_y2013'")" = airline_writer ] || fail "0.1.0's partition not handed to airline_writer"
[ "$(sql -c "SELECT count(*) > 0 FROM explain_anomalies('JFK', 2013)")" = t ] || fail "explain_anomalies after the update"
pass "0.1.0 -> 0.4.0: every row kept, refresh_year fills the new columns, the generic functions work"

# 0.2.0, with today's library before the update: refresh_year and the
# insert trigger work on its tables; after it, the new columns fill and the
# loader loads.
old_database from_0_2 0.2.0
sql -d from_0_2 -c "DELETE FROM airport_daily_summary WHERE origin_airport = 'JFK' AND date = '2013-12-31'" \
    -c "INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights) VALUES ('2013-12-31', 'JFK', 240, 300)"
[ "$(sql -d from_0_2 -c "SELECT dep_delay_anomaly FROM airport_daily_summary WHERE origin_airport = 'JFK' AND date = '2013-12-31'")" = t ] \
    || fail "0.2.0's trigger with today's library did not mark the day"
[ "$(sql -d from_0_2 -c "SELECT count(*) FROM arima_anomalies('JFK', 2013)")" = 365 ] || fail "0.2.0's arima_anomalies with today's library"
PGDATABASE=from_0_2 $LOADER load data/sample/nycflights13-2013.csv.gz >"$DIR/old-load.out" 2>&1 && fail "the loader loaded into 0.2.0's tables"
grep -q "ALTER EXTENSION airline_anomalies UPDATE" "$DIR/old-load.out" || fail "the loader's refusal does not say what to do: $(cat "$DIR/old-load.out")"
summary_before=$(old_columns from_0_2)
before=$(others from_0_2)
sql -d from_0_2 -c "ALTER EXTENSION airline_anomalies UPDATE"
[ "$(version from_0_2)" = 0.4.0 ] || fail "0.2.0: not at 0.4.0 after UPDATE"
[ "$(old_columns from_0_2)" = "$summary_before" ] || fail "0.2.0: the update changed airport_daily_summary's rows"
[ "$(others from_0_2)" = "$before" ] || fail "0.2.0: the update changed rows: $(diff <(echo "$before") <(others from_0_2))"
PGDATABASE=from_0_2 $LOADER load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>&1 || fail "0.2.0: the loader after the update"
[ "$(sql -d from_0_2 -c "SELECT count(*) FROM airport_daily_summary WHERE flights_scheduled IS NOT NULL")" = 1095 ] || fail "0.2.0: the refresh did not fill the new columns"
pass "0.2.0 -> 0.4.0: its refresh, trigger and arima_anomalies work with today's library; the update keeps every row; the loader refuses its tables, then loads"

# 0.3.0: its partition moves to airline_partitions, still the writer's, and
# the writer loses CREATE on the extension's schema.
old_database from_0_3 0.3.0
[ "$(sql -d from_0_3 -c "SELECT to_regclass('public.flights_y2013') IS NOT NULL")" = t ] || fail "0.3.0's partition is not in public"
summary_before=$(old_columns from_0_3)
before=$(others from_0_3)
sql -d from_0_3 -c "ALTER EXTENSION airline_anomalies UPDATE"
[ "$(version from_0_3)" = 0.4.0 ] || fail "0.3.0: not at 0.4.0 after UPDATE"
[ "$(old_columns from_0_3)" = "$summary_before" ] || fail "0.3.0: the update changed airport_daily_summary's rows"
[ "$(others from_0_3)" = "$before" ] || fail "0.3.0: the update changed rows: $(diff <(echo "$before") <(others from_0_3))"
[ "$(sql -d from_0_3 -c "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('airline_partitions.flights_y2013')")" = airline_writer ] \
    || fail "0.3.0: the partition did not move to airline_partitions, the writer's"
[ "$(sql -d from_0_3 -c "SELECT has_schema_privilege('airline_writer', 'public', 'CREATE')")" = f ] || fail "0.3.0: the writer kept CREATE on public"
PGDATABASE=from_0_3 $LOADER load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>&1 || fail "0.3.0: the loader after the update"
[ "$(sql -d from_0_3 -c "SELECT error IS NULL FROM refresh_pending(refit => true)" | sort -u)" != f ] || fail "0.3.0: refresh_pending after the update"
pass "0.3.0 -> 0.4.0: every row kept, the partition in airline_partitions, no CREATE on the extension's schema for writers, the loader loads"

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
SELECT 'trigger: ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'airport_daily_summary'::regclass
UNION ALL
SELECT format('schema: %s owner=%s acl=%s', nspname, pg_get_userbyid(nspowner), nspacl)
FROM pg_namespace WHERE nspname IN ('public', 'airline_partitions')
ORDER BY 1;
SQL
}
for db in upgraded from_0_2 from_0_3; do
    diff <(catalog fresh) <(catalog $db) >"$DIR/catalog.diff" || fail "updated ($db) and fresh differ:
$(cat "$DIR/catalog.diff")"
done
[ "$(catalog fresh | grep -c 'FUNCTION')" -ge 8 ] || fail "the catalog comparison saw too few functions"
[ "$(catalog fresh | grep -c '^trigger: ')" = 3 ] || fail "the catalog comparison saw $(catalog fresh | grep -c '^trigger: ') triggers, not 3"
pass "the updated extension (from 0.1.0, 0.2.0 and 0.3.0) equals a fresh 0.4.0: functions, columns, constraints, owners, grants, dump settings, triggers, schemas"
echo "upgrade: all passed"
