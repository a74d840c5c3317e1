#!/usr/bin/env bash
# The pg_cron recipe from the README, against a real cluster with the
# release build of the extension and pg_cron preloaded: the job is
# scheduled to run as a member of airline_writer, and it runs. (Cancel and
# statement_timeout are in tests/database.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/it-test
test_cluster "$DIR" "${IT_PORT:-54329}" -c shared_preload_libraries=pg_cron -c cron.database_name=postgres \
    -c cron.use_background_workers=on -c max_worker_processes=16

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

# The README's recipe: refresh_pending() as a member of airline_writer; the
# job runs within its first minute and refreshes 2013, never refreshed yet.
sql -c "CREATE EXTENSION pg_cron" -c "CREATE ROLE refresher LOGIN IN ROLE airline_writer" \
    -c "SELECT cron.schedule_in_database('refresh-pending', '* * * * *', 'SELECT count(*) FROM refresh_pending(refit => true)', 'postgres', 'refresher')" >/dev/null
for _ in $(seq 90); do
    done_runs=$(sql -c "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'")
    [ "$done_runs" -ge 1 ] && break
    sleep 1
done
[ "$done_runs" -ge 1 ] || fail "pg_cron job did not succeed: $(sql -c "SELECT status, return_message FROM cron.job_run_details")"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source = 'fit'")" = 1095 ] || fail "scheduled refresh wrote no rows"
[ "$(sql -c "SELECT count(*) FROM flight_years WHERE year = 2013 AND refreshed_at IS NOT NULL")" = 1 ] || fail "the refresh was not recorded"
[ "$(sql -c "SELECT count(*) FROM refresh_pending()")" = 0 ] || fail "a refreshed year is still pending"
pass "pg_cron ran refresh_pending() as a member of airline_writer: 2013 refreshed, nothing pending after"
if grep -E "terminated by signal|was terminated|PANIC" "$SERVER_LOG"; then fail "a backend crashed"; fi
echo "integration: all passed"
