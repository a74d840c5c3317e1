#!/usr/bin/env bash
# What #[pg_test]s cannot show, against a real cluster with the release
# build of the extension installed: a long refresh honours statement_timeout
# and pg_cancel_backend without taking the backend down, and the pg_cron
# recipe from the README schedules refresh_year and the job runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh

DIR=$PWD/target/it-pgdata
PORT=${IT_PORT:-54329}
rm -rf "$DIR"
pg_start "$DIR" "$PORT" -c shared_preload_libraries=pg_cron -c cron.database_name=postgres \
    -c cron.use_background_workers=on -c max_worker_processes=16
trap 'pg_stop "$DIR"' EXIT

sql() { psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }
fail() { echo "FAIL: $*" >&2; echo "--- server log:" >&2; tail -30 "$DIR/server.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# One flight a day at EWR, JFK and LGA in 2013, delay = the real daily mean.
python3 - > "$DIR/flights.csv" <<'PY'
import datetime, json
doc = json.load(open("crates/arima/tests/fixtures/fits.json"))
for origin in ("EWR", "JFK", "LGA"):
    for i, v in enumerate(doc["series"][f"nyc_{origin.lower()}_2013"]):
        print(f"{datetime.date(2013, 1, 1) + datetime.timedelta(i)},XX,{origin},ORD,{v!r}")
PY
sql -c "CREATE EXTENSION airline_anomalies" -c "SELECT flights_partition(2013)" >/dev/null \
    -c "\copy flights (fl_date, op_carrier, origin, dest, dep_delay) FROM '$DIR/flights.csv' CSV"

# 1. statement_timeout stops a grid-search refresh (minutes of work) at once.
#    The `timeout 30` only catches a function that would ignore the cancel.
out=$(timeout 30 psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAtX \
    -c "SET statement_timeout = '500ms'" -c "SELECT * FROM refresh_year(2013, grid_search => true)" 2>&1) && fail "refresh was not cancelled"
grep -q "canceling statement due to statement timeout" <<<"$out" || fail "statement_timeout: $out"
pass "statement_timeout cancels refresh_year"

# 2. pg_cancel_backend from another session.
( rc=0
  timeout 30 psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAtX \
    -c "SELECT count(*) FROM arima_anomalies('JFK', 2013, grid_search => true)" >"$DIR/cancel.out" 2>&1 || rc=$?
  echo $rc >"$DIR/cancel.rc" ) &
for _ in $(seq 50); do
    n=$(sql -c "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM arima_anomalies%' AND state = 'active'")
    [ "$n" = 1 ] && break
    sleep 0.1
done
wait
[ "$(cat "$DIR/cancel.rc")" = 1 ] || fail "cancelled query exit code $(cat "$DIR/cancel.rc")"
grep -q "canceling statement due to user request" "$DIR/cancel.out" || fail "pg_cancel_backend: $(cat "$DIR/cancel.out")"
pass "pg_cancel_backend cancels arima_anomalies"

# 3. Nothing crashed: the server is up and no backend died.
[ "$(sql -c "SELECT 1")" = 1 ] || fail "server not answering"
if grep -E "terminated by signal|was terminated|PANIC" "$DIR/server.log"; then fail "a backend crashed"; fi
pass "no backend crashed"

# 4. pg_cron: the README's recipe; the job runs within its first minute.
sql -c "CREATE EXTENSION pg_cron" -c "SELECT cron.schedule('refresh-2013', '* * * * *', 'SELECT refresh_year(2013)')" >/dev/null
for _ in $(seq 90); do
    done_runs=$(sql -c "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'")
    [ "$done_runs" -ge 1 ] && break
    sleep 1
done
[ "$done_runs" -ge 1 ] || fail "pg_cron job did not succeed: $(sql -c "SELECT status, return_message FROM cron.job_run_details")"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary")" = 1095 ] || fail "scheduled refresh wrote no rows"
pass "pg_cron ran refresh_year(2013)"
echo "integration: all passed"
