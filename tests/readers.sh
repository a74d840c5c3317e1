#!/usr/bin/env bash
# Dashboard readers under load (issue 22, item 5): 16 concurrent pgbench
# clients, as a member of airline_reader, run the Superset dashboard's three
# charts' queries for a random airport and month and arima_anomalies(airport,
# year) (tests/readers/dashboard.sql), while a member of airline_writer
# replaces the year with another version of it (`loader load`, a
# different `loader generate` seed) and then refreshes it
# (`SELECT refresh_year(year)`). Several rounds, alternating the versions.
#
# What "wholly before or after" means. Load and refresh are two
# transactions, so the year goes through three states in a round:
#   before: the old flights and the old summary,
#   loaded: the new flights, the old summary (between the two commits),
#   after:  the new flights and the new summary.
# Each reader transaction (REPEATABLE READ) reads flights (the airport's
# rows of the year, the year's rows, and arima_anomalies' daily counts,
# computed from flights) and the summary (the airport's and the year's
# flights), and must have seen exactly one of those states: flights equal
# to the old or the new version as a whole (no part of a year, no empty
# year, arima_anomalies from the same version), the summary equal to the
# old or the new refresh as a whole, and never the new summary with the old
# flights. Anything else fails the transaction (an error in the script),
# which pgbench reports as an aborted client. Checked: pgbench exits 0,
# reports 0 failed transactions and every transaction's log line succeeded;
# readers ran while the writer did and saw both sides of it; the server
# logged no error.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/readers-test
LOADER=$PWD/target/release/loader
PGBENCH=$PGBIN/pgbench
YEAR=2015
ROUNDS=${READERS_ROUNDS:-3}
test_cluster "$DIR" "${READERS_TEST_PORT:-25345}" -c max_wal_size=2GB -c log_min_messages=warning
export PGDATABASE=airline

sql -d postgres -c "CREATE DATABASE airline"
sql -c "CREATE EXTENSION airline_anomalies"
sql -c "CREATE ROLE t_reader LOGIN IN ROLE airline_reader" -c "CREATE ROLE t_writer LOGIN IN ROLE airline_writer"
# The readers' tally of what they saw, counted outside their transactions.
sql -c "CREATE SCHEMA readers_test" -c "GRANT USAGE ON SCHEMA readers_test TO t_reader" \
    -c "CREATE SEQUENCE readers_test.saw_before" -c "CREATE SEQUENCE readers_test.saw_loaded" \
    -c "CREATE SEQUENCE readers_test.saw_after" -c "GRANT USAGE ON ALL SEQUENCES IN SCHEMA readers_test TO t_reader"

# Two versions of the year: same airports, other flights.
for v in 1 2; do
    "$LOADER" generate --year $YEAR --airports 20 --flights 250000 --seed $v --out "$DIR/v$v.csv.gz" >/dev/null 2>&1
done

# What each version looks like once loaded and refreshed, per airport:
# rows in flights, and the summary's flights (= arima_anomalies' flights).
load() { PGUSER=t_writer "$LOADER" load "$1" >"$DIR/load.out" 2>&1 || fail "loader load $1: $(cat "$DIR/load.out")"; }
refresh() { PGUSER=t_writer sql -c "SELECT days FROM refresh_year($YEAR)" >/dev/null; }
per_airport() {
    sql -F' ' -c "SELECT f.origin, f.n, s.n FROM
                    (SELECT origin, count(*) AS n FROM flights WHERE extract(year FROM fl_date) = $YEAR GROUP BY 1) f
                    JOIN (SELECT origin_airport AS origin, sum(flights) AS n FROM airport_daily_summary
                          WHERE extract(year FROM date) = $YEAR GROUP BY 1) s USING (origin) ORDER BY 1"
}
declare -A flights summary year_flights year_summary
for v in 1 2; do
    load "$DIR/v$v.csv.gz"
    refresh
    while read -r ap f s; do
        flights[$v,$ap]=$f summary[$v,$ap]=$s
    done < <(per_airport)
    year_flights[$v]=$(sql -c "SELECT count(*) FROM flights WHERE extract(year FROM fl_date) = $YEAR")
    year_summary[$v]=$(sql -c "SELECT sum(flights) FROM airport_daily_summary WHERE extract(year FROM date) = $YEAR")
    # arima_anomalies counts a day's flights as the summary does.
    for ap in $(per_airport | awk '{print $1}'); do
        got=$(PGUSER=t_reader sql -c "SELECT coalesce(sum(flights), 0) FROM arima_anomalies('$ap', $YEAR)")
        [ "$got" = "${summary[$v,$ap]}" ] || fail "arima_anomalies('$ap', $YEAR) counts $got flights, the summary ${summary[$v,$ap]}"
    done
done
# The readers' airports: the busiest twelve whose every figure differs
# between the versions (so a view of one is never taken for the other).
airports=()
for ap in $(sql -c "SELECT origin FROM flights GROUP BY 1 ORDER BY count(*) DESC, 1"); do
    [ "${flights[1,$ap]:-x}" != "${flights[2,$ap]:-x}" ] && [ "${summary[1,$ap]:-x}" != "${summary[2,$ap]:-x}" ] \
        && [ -n "${flights[1,$ap]:-}" ] && [ -n "${flights[2,$ap]:-}" ] && airports+=("$ap")
    [ ${#airports[@]} = 12 ] && break
done
[ ${#airports[@]} = 12 ] || fail "only ${#airports[@]} airports differ between the two versions"
if [ "${year_flights[1]}" = "${year_flights[2]}" ] || [ "${year_summary[1]}" = "${year_summary[2]}" ]; then
    fail "the two versions have the same totals"
fi
pass "two versions of $YEAR (${year_flights[1]} and ${year_flights[2]} flights), loaded and refreshed as a writer; readers use ${airports[*]}"

# list ARRAY_NAME VERSION: the per-airport figures, in the readers' order.
list() {
    local -n figures=$1
    local out=() ap
    for ap in "${airports[@]}"; do out+=("${figures[$2,$ap]}"); done
    (IFS=,; echo "${out[*]}")
}
quoted=$(printf "'%s'," "${airports[@]}")
quoted=${quoted%,}

now() { date +%s.%N; }
# readers LOG VERSION_BEFORE VERSION_AFTER: the 16 readers in 4-second
# pgbench runs, back to back, until $DIR/stop exists; each run must exit 0
# with no failed transaction.
readers() {
    local log=$1 old=$2 new=$3 run=0
    while [ ! -f "$DIR/stop" ]; do
        run=$((run + 1))
        PGUSER=t_reader "$PGBENCH" -n -M simple -c 16 -j 2 -T 4 -f tests/readers/dashboard.sql \
            -D year=$YEAR -D airports=${#airports[@]} -D "airport_list=$quoted" -D check=1 \
            -D "flights_before=$(list flights "$old")" -D "flights_after=$(list flights "$new")" \
            -D "summary_before=$(list summary "$old")" -D "summary_after=$(list summary "$new")" \
            -D "year_flights_before=${year_flights[$old]}" -D "year_flights_after=${year_flights[$new]}" \
            -D "year_summary_before=${year_summary[$old]}" -D "year_summary_after=${year_summary[$new]}" \
            --log --log-prefix="$log.$run" >"$log.$run.out" 2>"$log.$run.err" \
            || { echo "pgbench exited $?: $(head -20 "$log.$run.err")"; return 1; }
        grep -q "^number of failed transactions: 0 " "$log.$run.out" || { echo "failed transactions: $(cat "$log.$run.out")"; return 1; }
        ! grep -qiE "error|abort" "$log.$run.err" || { head -20 "$log.$run.err"; return 1; }
    done
}
for round in $(seq "$ROUNDS"); do
    # Version 2 is loaded; odd rounds load 1, even rounds 2 again.
    if [ $((round % 2)) = 1 ]; then old=2 new=1; else old=1 new=2; fi
    sql -c "SELECT setval('readers_test.saw_' || s, 1, false) FROM unnest(ARRAY['before', 'loaded', 'after']) s" >/dev/null
    log=$DIR/round$round
    rm -f "$DIR/stop"
    readers "$log" $old $new >"$log.readers" 2>&1 &
    bench=$!
    sleep 2
    writer_start=$(now)
    load "$DIR/v$new.csv.gz"
    loaded=$(now)
    refresh
    writer_end=$(now)
    sleep 2
    touch "$DIR/stop"
    wait $bench || fail "round $round: a reader failed: $(cat "$log.readers")"
    python3 - "$log" "$writer_start" "$loaded" "$writer_end" \
        "$(sql -c "SELECT concat_ws(' ', (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM readers_test.saw_before),
                                     (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM readers_test.saw_loaded),
                                     (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM readers_test.saw_after))")" \
        >"$log.summary" <<'PY' || fail "round $round: $(cat "$log.summary")"
import glob, sys
prefix, w_start, loaded, w_end, tally = sys.argv[1:]
w_start, loaded, w_end = map(float, (w_start, loaded, w_end))
saw = [int(n) for n in tally.split()]
ends, bad = [], []
for path in glob.glob(prefix + ".*"):
    if path.endswith((".out", ".err", ".summary", ".readers")):
        continue
    for line in open(path):
        f = line.split()
        # client transaction time script epoch us [...]: time is the
        # transaction's latency in µs ("failed"/"skipped" otherwise).
        if not f[2].isdigit():
            bad.append(line.strip())
        else:
            ends.append(int(f[4]) + int(f[5]) / 1e6)
problems = []
if bad:
    problems.append(f"{len(bad)} transactions not done: {bad[:3]}")
during = sum(w_start <= e <= w_end for e in ends)
if during < 16:
    problems.append(f"only {during} reader transactions ended while the writer ran")
if sum(saw) != len(ends):
    problems.append(f"the tally {saw} does not add up to the {len(ends)} logged transactions")
if saw[0] == 0 or saw[2] == 0:
    problems.append(f"readers did not see both sides (before, loaded, after: {saw})")
print(f"{len(ends)} transactions, {during} ended during the writer's {w_end - w_start:.1f} s "
      f"(load {loaded - w_start:.1f} s, refresh {w_end - loaded:.1f} s); saw before {saw[0]}, loaded {saw[1]}, after {saw[2]}")
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
    pass "round $round (version $old -> $new): 16 readers, none failed, each saw the year wholly before, loaded or after: $(cat "$log.summary")"
done

# A long reader, made deterministic: its REPEATABLE READ snapshot is taken
# (by reading the summary) before a load starts, and it reads flights only
# later. A swap is not MVCC-safe (the swapped-in rows were committed after
# that snapshot, and the old partition is gone), so the load waits, as
# CREATE INDEX CONCURRENTLY does, for every transaction older than its
# staged rows: the reader sees the year wholly before, then the load goes
# on. (Without that wait the reader saw the year empty.) Then the reader
# locking flights first: the load waits for it too.
# READER: a reader's psql, fed one statement at a time.
coproc READER { PGUSER=t_reader psql -X -qAt -v ON_ERROR_STOP=1 2>&1; }
ask() { echo "$1" >&"${READER[1]}"; read -r -t 60 reply <&"${READER[0]}" || fail "the reader did not answer: $1"; echo "$reply"; }
loaded_version=$(( ROUNDS % 2 == 1 ? 1 : 2 )) other=$(( ROUNDS % 2 == 1 ? 2 : 1 ))
year_rows="SELECT count(*) FROM flights WHERE fl_date >= make_date($YEAR, 1, 1) AND fl_date < make_date($YEAR + 1, 1, 1);"
ask "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT sum(flights) FROM airport_daily_summary WHERE date >= make_date($YEAR, 1, 1);" >/dev/null
load "$DIR/v$other.csv.gz" &
writer=$!
sleep 8
kill -0 $writer 2>/dev/null || fail "the load did not wait for a reader whose snapshot predates its staged rows"
seen=$(ask "$year_rows")
ask "COMMIT; SELECT 'committed';" >/dev/null
wait $writer || fail "the load failed after waiting for the older reader"
[ "$seen" = "${year_flights[$loaded_version]}" ] \
    || fail "a REPEATABLE READ reader whose snapshot predates the load sees $seen rows of $YEAR, not ${year_flights[$loaded_version]} (the year before)"
[ "$(sql -c "$year_rows")" = "${year_flights[$other]}" ] || fail "the load did not replace the year after the older reader ended"
pass "a reader whose snapshot predates a load sees the year wholly before ($seen rows); the load waits for it"
ask "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; $year_rows" >/dev/null
load "$DIR/v$loaded_version.csv.gz" &
writer=$!
sleep 5
kill -0 $writer 2>/dev/null || fail "the load did not wait for a reader holding flights"
seen=$(ask "$year_rows")
ask "COMMIT; SELECT 'committed';" >/dev/null
wait $writer || fail "the load failed after waiting for the reader"
[ "$seen" = "${year_flights[$other]}" ] || fail "a reader that read flights first sees $seen rows, not ${year_flights[$other]}"
pass "a reader that reads flights first sees the year wholly before; the load waits for it"
kill "$READER_PID" 2>/dev/null || true

if grep -E "ERROR|FATAL|PANIC" "$SERVER_LOG" | grep -v "role \"postgres\" does not exist"; then
    fail "the server logged errors"
fi
pass "the server logged no error"
echo "readers: all passed"
