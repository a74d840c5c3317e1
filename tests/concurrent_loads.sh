#!/usr/bin/env bash
# Loads at once (issue 22), against a throw-away cluster:
#  1. Two runs whose files hold the same two years in opposite order (a
#     yearly file of 2015 with a few rows of 2016, and one of 2016 with a few
#     of 2015), started together, ROUNDS times (20): each round both finish
#     (or one fails fast, with a clear message and exit status 1) and the data
#     is whole, as one run after the other leaves it. (Before, each run took
#     a year's session lock on a connection of its own as the year's first row
#     arrived: the two waited on each other through four backends, which
#     Postgres' deadlock detector cannot see, forever.)
#  2. A run holds two connections whatever the number of years: a file of
#     25 years loads as a role whose connection limit is 2.
#  3. A load and a `loader detect` of the same year: detect either reads the
#     load's rows or leaves the year pending (loaded_at after refreshed_at),
#     whichever commits first (loaded_at was the load's transaction start).
#  4. A load that cannot get its year's lock within lock_timeout fails with
#     the reason, changing nothing; loader_role.sql gives the loader role a
#     lock_timeout and a statement_timeout.
# With the extension installed (the default) the loads run as airline_loader,
# as deployed; CONCURRENT_PLAIN=1 uses the plain schema (`loader schema`, no
# extension) as the cluster's superuser.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

ROOT=$PWD/target/concurrent-loads-test
ROUNDS=${ROUNDS:-20}
test_cluster "$ROOT" "${CONCURRENT_PG_PORT:-25353}"
LOADER=${LOADER:-$PWD/target/release/loader}
# PARTS picks parts (e.g. PARTS="1 3"), all by default.
part() { [[ " ${PARTS:-1 2 3 4} " == *" $1 "* ]]; }
mkdir -p "$ROOT/files"
if [ "${CONCURRENT_PLAIN:-0}" = 1 ]; then
    "$LOADER" schema --json >/dev/null
    # The deployment's role script, on a stand-in for the extension's writer role.
    sql -c "CREATE ROLE airline_writer NOLOGIN"
    sql -f sql/loader_role.sql >/dev/null
    AS=postgres
else
    sql -c "CREATE EXTENSION airline_anomalies"
    sql -f sql/loader_role.sql >/dev/null
    AS=airline_loader
fi
load() { PGUSER=$AS "$LOADER" load "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

# 4a. The role's timeouts (sql/loader_role.sql).
if part 4; then
settings=$(sql -c "SELECT array_to_string(setconfig, ' ') FROM pg_db_role_setting WHERE setrole = 'airline_loader'::regrole AND setdatabase = 0")
for s in lock_timeout=10min statement_timeout=1h idle_in_transaction_session_timeout=10min; do
    grep -qw -- "$s" <<<"$settings" || fail "airline_loader has no $s: $settings"
done
pass "the loader role has a lock_timeout, a statement_timeout and an idle-in-transaction timeout"
fi

# 1. Opposite orders. Each file's strays are one row on each of three days,
# so they cover no day (a day is covered from 1 % of the file's rows per day).
"$LOADER" generate --year 2015 --airports 10 --flights 150000 --seed 1 --out "$ROOT/files/a.csv" >/dev/null 2>&1
"$LOADER" generate --year 2016 --airports 10 --flights 150000 --seed 2 --out "$ROOT/files/b.csv" >/dev/null 2>&1
python3 - "$ROOT/files" <<'PY'
import sys
d = sys.argv[1]
a, b = (open(f"{d}/{n}.csv").read().splitlines(True) for n in "ab")
def strays(lines, year):  # one row each of three far-apart days
    days, out = set(), []
    for line in lines[1:]:
        day = line[:10]
        if day.startswith(year) and day[5:7] in ("02", "06", "10") and day[5:7] not in days:
            days.add(day[5:7]); out.append(line)
    assert len(out) == 3, out
    return out
open(f"{d}/2015-then-2016.csv", "w").writelines(a + strays(b, "2016"))
open(f"{d}/2016-then-2015.csv", "w").writelines(b + strays(a, "2015"))
PY
A=$ROOT/files/2015-then-2016.csv B=$ROOT/files/2016-then-2015.csv
na=$(($(wc -l <"$ROOT/files/a.csv") - 1)); nb=$(($(wc -l <"$ROOT/files/b.csv") - 1))
# Rows per year and file: "2015 <from A> <from B>, 2016 <from A> <from B>".
rows() {
    sql -c "SELECT string_agg(format('%s %s %s', y, a, b), ', ' ORDER BY y) FROM (
              SELECT extract(year FROM fl_date)::int y, count(*) FILTER (WHERE source_file = '$A') a,
                     count(*) FILTER (WHERE source_file = '$B') b
              FROM flights GROUP BY 1) t"
}
# One run after the other leaves either order's result: A's strays of 2016
# merged into B's year, or B's strays of 2015 into A's.
a_last="2015 $na 0, 2016 3 $nb"
b_last="2015 $na 3, 2016 0 $nb"
part 1 && for round in $(seq "$ROUNDS"); do
    ra=0 rb=0
    timeout 120 env PGUSER=$AS "$LOADER" load "$A" --json >"$ROOT/a.json" 2>"$ROOT/a.err" & pa=$!
    timeout 120 env PGUSER=$AS "$LOADER" load "$B" --json >"$ROOT/b.json" 2>"$ROOT/b.err" & pb=$!
    wait $pa || ra=$?
    wait $pb || rb=$?
    { [ $ra = 124 ] || [ $rb = 124 ]; } && fail "round $round: the two loads hung (killed after 120 s): $(cat "$ROOT"/?.err)"
    # Failing fast is allowed, with the reason and exit status 1.
    for run in a b; do
        rc=$ra; [ $run = b ] && rc=$rb
        [ "$rc" = 0 ] || { [ "$rc" = 1 ] && grep -qE "deadlock detected|lock timeout" "$ROOT/$run.err"; } \
            || fail "round $round: load $run exited $rc: $(cat "$ROOT/$run.err")"
    done
    now=$(rows)
    if [ "$ra $rb" = "0 0" ]; then
        { [ "$now" = "$a_last" ] || [ "$now" = "$b_last" ]; } || fail "round $round: not either order's result: $now (want $a_last or $b_last)"
    fi
    [ "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'flights_load_%'")" = 0 ] || fail "round $round: staging tables left"
done
part 1 && pass "$ROUNDS rounds of two loads with the same two years in opposite order: both finish, the data is one order's result"

# 2. Connections: 25 years in one file, as a role allowed two connections
# (its own database and plain schema).
if part 2; then
sql -c "CREATE ROLE two_connections LOGIN CONNECTION LIMIT 2" -c "CREATE DATABASE two OWNER two_connections"
PGUSER=two_connections PGDATABASE=two "$LOADER" schema --json >/dev/null
python3 - "$ROOT/files/25-years.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY\n")
    for year in range(1990, 2015):
        f.writelines(f"{year}-03-{d:02d},AA,JFK,LAX,{d}\n" for d in range(1, 29))
PY
out=$(PGUSER=two_connections PGDATABASE=two "$LOADER" load "$ROOT/files/25-years.csv" --json 2>&1) || fail "25 years at two connections: $out"
[ "$(json loaded <<<"$out")" = 700 ] || fail "25 years: $out"
[ "$(PGDATABASE=two sql -c "SELECT count(*) || ' ' || count(DISTINCT tableoid) FROM flights")" = "700 25" ] || fail "25 years: rows"
pass "a file of 25 years loads as a role allowed two connections"
fi

# 3. A load and a detect of one year at once. The load's final transaction
# is held up (a lock on flight_rejects, its last write) until detect is
# under way too; then both go on.
if part 3; then
python3 - "$ROOT/files" <<'PY'
import datetime, random, sys
random.seed(5)
for name, month in (("jan", 1), ("feb", 2)):
    with open(f"{sys.argv[1]}/{name}-2013.csv", "w") as f:
        f.write("FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY\n")
        day = datetime.date(2013, month, 1)
        while day.month == month:
            for origin in ("ATL", "ORD", "DEN"):
                f.writelines(f"{day},DL,{origin},LAX,{random.gauss(10, 15):.1f}\n" for _ in range(20))
            day += datetime.timedelta(1)
PY
load "$ROOT/files/jan-2013.csv" --json >/dev/null
PGUSER=$AS "$LOADER" detect --year 2013 --json >/dev/null
waiting() { sql -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'loader'"; }
blocking() { [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blocker' AND query LIKE '%pg_sleep%'")" = 1 ]; }
until_() { for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done; fail "timed out waiting for: $*"; }
PGAPPNAME=blocker psql -X -q -c "BEGIN" -c "LOCK TABLE flight_rejects IN EXCLUSIVE MODE" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 & blocker=$!
until_ blocking
load "$ROOT/files/feb-2013.csv" --json >"$ROOT/feb.json" 2>"$ROOT/feb.err" & pl=$!
load_waits() { [ "$(waiting)" = 1 ]; }
until_ load_waits
PGUSER=$AS "$LOADER" detect --year 2013 --json >"$ROOT/detect.json" 2>"$ROOT/detect.err" & pd=$!
# detect waits too (for the year's lock, or for the load's flight_years row), or is done.
detect_waits() { [ "$(waiting)" = 2 ] || ! kill -0 "$pd" 2>/dev/null; }
until_ detect_waits
sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'blocker'" >/dev/null
wait $blocker 2>/dev/null || true
wait $pl || fail "the load: $(cat "$ROOT/feb.err")"
wait $pd || fail "detect: $(cat "$ROOT/detect.err")"
seen=$(sql -c "SELECT count(*) > 0 FROM airport_daily_summary WHERE date >= '2013-02-01' AND date < '2013-03-01'")
pending=$(sql -c "SELECT loaded_at > refreshed_at FROM flight_years WHERE year = 2013")
{ [ "$seen" = t ] || [ "$pending" = t ]; } || fail "detect missed the load's rows and the year is not pending (loaded_at before refreshed_at)"
pass "a load and a detect of one year at once: detect reads the load's rows, or the year stays pending (seen: $seen, pending: $pending)"
fi

# 4b. A load waiting longer than lock_timeout for its year fails with the
# reason, exit status 1, and changes nothing.
if part 4; then
before=$(rows)
sql -c "ALTER ROLE $AS IN DATABASE postgres SET lock_timeout = '2s'" # above the role's own
PGAPPNAME=blocker psql -X -q -c "BEGIN" -c "SELECT pg_advisory_xact_lock(hashtext('airline_anomalies.load'), 2016)" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 & blocker=$!
until_ blocking
start=$SECONDS
expect_error 1 "lock timeout" load "$A"
[ $((SECONDS - start)) -lt 60 ] || fail "the load did not fail fast"
sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'blocker'" >/dev/null
wait $blocker 2>/dev/null || true
sql -c "ALTER ROLE $AS IN DATABASE postgres RESET lock_timeout"
[ "$(rows)" = "$before" ] || fail "a load that timed out changed flights: $(rows)"
[ "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'flights_load_%'")" = 0 ] || fail "staging tables left"
pass "a load that cannot get its year's lock within lock_timeout fails with the reason and changes nothing"
fi
echo "concurrent loads: all passed"
