#!/usr/bin/env bash
# The db image's init script (docker/initdb) against a real cluster with
# the release build of the extension and pg_cron preloaded, as the image
# runs it: roles with passwords from files, the loader logging in as
# airline_loader, and the nightly refresh_pending() job running as that
# role. (Cancel and statement_timeout are in tests/database.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/it-test
SECRETS=$PWD/target/it-secrets  # outside DIR, which test_cluster empties
# Passwords are checked over TCP (scram); the superuser works through the socket.
mkdir -p "$SECRETS"
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$SECRETS/pg_hba.conf"
printf 'loader-pw-%s' "$RANDOM" >"$SECRETS/loader"
printf "it's-superset-%s" "$RANDOM" >"$SECRETS/superset_reader"
[ "$(id -u)" = 0 ] && chown postgres "$SECRETS/pg_hba.conf"
test_cluster "$DIR" "${IT_PORT:-25329}" -c shared_preload_libraries=pg_cron -c cron.database_name=postgres \
    -c cron.use_background_workers=on -c max_worker_processes=16 -c hba_file="$SECRETS/pg_hba.conf"
export PGHOST=$DIR/pg

# The db image's init script, as the official image's entrypoint runs it,
# with the sql/ files where the image keeps them and a schedule of every minute.
export POSTGRES_USER=postgres POSTGRES_DB=postgres AIRLINE_SQL_DIR=$PWD/sql REFRESH_SCHEDULE='* * * * *' \
    LOADER_PASSWORD_FILE=$SECRETS/loader SUPERSET_READER_PASSWORD_FILE=$SECRETS/superset_reader
# (05-tls.sh, TLS and its restart, runs in tests/deploy.sh.)
for script in docker/initdb/*.sh; do
    [ "$script" = docker/initdb/05-tls.sh ] || bash "$script" >/dev/null
done
[ "$(sql -c "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'airline_loader'")" = f ] \
    || fail "airline_loader has more than a writer's rights"
pass "the db image's init script: extension, pg_cron, airline_loader and superset_reader with their passwords from files"

# The loader as airline_loader, over TCP with its password; the wrong one is refused.
as_loader() { env PGHOST=127.0.0.1 PGUSER=airline_loader PGPASSWORD="$(cat "$SECRETS/loader")" "$@"; }
as_loader target/release/loader load data/sample/nycflights13-2013.csv.gz >/dev/null 2>&1 || fail "airline_loader cannot load"
loaded_at=$(sql -c "SELECT now()")
expect_error 1 "password authentication failed" env PGHOST=127.0.0.1 PGUSER=airline_loader PGPASSWORD=wrong \
    target/release/loader load data/sample/nycflights13-2013.csv.gz
pass "the loader loads as airline_loader with its password"

# The image's nightly job (every minute here) refreshes what was loaded, as
# airline_loader: the first run that starts after the load.
for _ in $(seq 90); do
    done_runs=$(sql -c "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded' AND start_time > '$loaded_at'")
    [ "$done_runs" -ge 1 ] && break
    sleep 1
done
[ "$done_runs" -ge 1 ] || fail "pg_cron job did not succeed: $(sql -c "SELECT status, return_message FROM cron.job_run_details")"
[ "$(sql -c "SELECT username FROM cron.job")" = airline_loader ] || fail "the job does not run as airline_loader"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary")" = 1095 ] || fail "scheduled refresh wrote no rows"
[ "$(sql -c "SELECT count(*) FROM flight_years WHERE year = 2013 AND refreshed_at IS NOT NULL")" = 1 ] || fail "the refresh was not recorded"
[ "$(sql -c "SELECT count(*) FROM refresh_pending()")" = 0 ] || fail "a refreshed year is still pending"
pass "pg_cron ran refresh_pending() as airline_loader: 2013 refreshed, nothing pending after"

# Superset's role reads with its password and writes nothing.
as_superset() { PGHOST=127.0.0.1 PGUSER=superset_reader PGPASSWORD="$(cat "$SECRETS/superset_reader")" sql "$@"; }
[ "$(as_superset -c "SELECT count(*) FROM airport_daily_summary")" = 1095 ] || fail "superset_reader cannot read"
as_superset -c "DELETE FROM airport_daily_summary" 2>/dev/null && fail "superset_reader could delete"
pass "superset_reader reads with its password (a quote in it included) and writes nothing"
if grep -E "terminated by signal|was terminated|PANIC" "$SERVER_LOG"; then fail "a backend crashed"; fi
grep -qF "$(cat "$SECRETS/loader")" "$SERVER_LOG" && fail "a password is in the server log"
echo "integration: all passed"
