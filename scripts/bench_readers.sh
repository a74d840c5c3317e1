#!/usr/bin/env bash
# Dashboard readers' latency, idle and under load: 16 pgbench clients as a
# member of airline_reader run one dashboard look each transaction (the
# three Superset charts' queries for a random airport and month, and
# arima_anomalies(airport, year): tests/readers/dashboard.sql, without its
# consistency checks) against a full synthetic year (`loader generate`,
# ≈6M flights, 350 airports), first with nothing else running, then while a
# member of airline_writer replaces the year with another version of it
# (`loader load`) and refreshes it (`SELECT refresh_year(2015)`), then the
# same with the writer's backend bound to one worker thread
# (airline_anomalies.max_threads = 1). Latencies from pgbench's
# per-transaction log (p50, p99: nearest rank). Writes the readers section
# of BENCHMARKS.md. Needs the release build installed (cargo pgrx install
# --release) and target/release/loader.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
DIR=$PWD/target/bench-readers
PORT=${BENCH_READERS_PORT:-25346}
LOADER=$PWD/target/release/loader
PGBENCH=$PGBIN/pgbench
FLIGHTS=${BENCH_READERS_FLIGHTS:-6000000}
IDLE_SECONDS=${BENCH_READERS_IDLE:-30}
YEAR=2015
CLIENTS=16
mkdir -p "$DIR/data"
rm -rf "$DIR/pg" "$DIR/log" && mkdir -p "$DIR/log"
pg_start "$DIR/pg" "$PORT" -c shared_buffers=1GB -c max_wal_size=8GB -c synchronous_commit=off
trap 'pg_stop "$DIR/pg"' EXIT
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres PGOPTIONS="-c client_min_messages=warning"
sql() { psql -v ON_ERROR_STOP=1 -qAtX "$@"; }
now() { date +%s.%N; }
# busy: the 1-minute load average, and the other programs using more than a
# fifth of a core over one second (this is a shared machine), as LOAD/NAME+NAME.
busy() {
    local others
    others=$(top -b -n 2 -d 1 | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 20 && $12 != "" && $12 !~ /^(postgres|pgbench|loader|top)$/ { print $12 }' | sort -u | paste -sd+)
    echo "$(cut -d' ' -f1 /proc/loadavg)/${others:-none}"
}

sql -c "CREATE EXTENSION airline_anomalies"
sql -c "CREATE ROLE b_reader LOGIN IN ROLE airline_reader" -c "CREATE ROLE b_writer LOGIN IN ROLE airline_writer"

echo "== two versions of $YEAR from loader generate ($FLIGHTS flights each; kept in $DIR/data)"
for seed in 42 43; do
    file=$DIR/data/$YEAR-$FLIGHTS-$seed.csv.gz
    [ -f "$file" ] || "$LOADER" generate --year $YEAR --flights "$FLIGHTS" --seed $seed --out "$file" >/dev/null
done
v1=$DIR/data/$YEAR-$FLIGHTS-42.csv.gz v2=$DIR/data/$YEAR-$FLIGHTS-43.csv.gz

# writer FILE: load FILE and refresh the year as the writer; prints the
# epoch seconds at its start, between load and refresh, and at its end.
writer() {
    local t0 t1
    t0=$(now)
    PGUSER=b_writer "$LOADER" load "$1" >"$DIR/log/writer.out" 2>&1 || { cat "$DIR/log/writer.out" >&2; return 1; }
    t1=$(now)
    PGUSER=b_writer sql -c "SELECT days FROM refresh_year($YEAR)" >/dev/null
    echo "$t0 $t1 $(now)"
}

echo "== alone: load and refresh version 1, no readers"
times=$(writer "$v1")
read -r a0 a1 a2 <<<"$times"
loadavg=$(busy)
rows=$(sql -c "SELECT count(*) FROM flights")
airports=$(sql -c "SELECT count(DISTINCT origin_airport) FROM airport_daily_summary")
list=$(sql -c "SELECT string_agg(quote_literal(origin_airport), ',' ORDER BY origin_airport) FROM (SELECT DISTINCT origin_airport FROM airport_daily_summary) a")
sql -c "VACUUM ANALYZE"
echo "$rows flights, $airports airports; load $(echo "$a1 - $a0" | bc) s, refresh $(echo "$a2 - $a1" | bc) s"

# readers PREFIX SECONDS: 16 clients for SECONDS, logging every transaction.
readers() {
    PGUSER=b_reader "$PGBENCH" -n -M simple -c $CLIENTS -j 2 -T "$2" -f tests/readers/dashboard.sql \
        -D year=$YEAR -D airports="$airports" -D "airport_list=$list" -D check=0 \
        --log --log-prefix="$1" "${@:3}" >"$1.out" 2>&1 || { cat "$1.out" >&2; return 1; }
    grep -q "^number of failed transactions: 0 " "$1.out" || { cat "$1.out" >&2; return 1; }
}

# under_load NAME FILE: readers in 5-second runs, back to back, from 5 s
# before the writer starts until it ends; prints the writer's times.
under_load() {
    rm -f "$DIR/log/stop"
    (
        i=0
        while [ ! -f "$DIR/log/stop" ]; do
            i=$((i + 1))
            readers "$DIR/log/$1.$i" 5
        done
    ) &
    local loop=$!
    sleep 5
    local times rc=0
    times=$(writer "$2") || rc=$?
    touch "$DIR/log/stop"
    wait $loop || { echo "the readers failed under load" >&2; return 1; }
    [ "$rc" = 0 ] || return 1
    echo "$times"
}

echo "== readers, idle (${IDLE_SECONDS} s, after 10 s of warm-up)"
readers "$DIR/log/warmup" 10
i0=$(now)
readers "$DIR/log/idle" "$IDLE_SECONDS" -r
i1=$(now)
loadavg="$loadavg $(busy)"
sed -n '/statement latencies/,$p' "$DIR/log/idle.out"

echo "== readers while version 2 is loaded and refreshed"
times=$(under_load load2 "$v2")
read -r b0 b1 b2 <<<"$times"
loadavg="$loadavg $(busy)"
echo "load $(echo "$b1 - $b0" | bc) s, refresh $(echo "$b2 - $b1" | bc) s"

echo "== the same with the writer bound to one worker thread (version 1 again)"
sql -c "ALTER ROLE b_writer SET airline_anomalies.max_threads = 1"
times=$(under_load load1 "$v1")
read -r c0 c1 c2 <<<"$times"
loadavg="$loadavg $(busy)"
echo "load $(echo "$c1 - $c0" | bc) s, refresh $(echo "$c2 - $c1" | bc) s"

python3 - "$DIR/log" "$rows" "$airports" "$i0 $i1" "$a0 $a1 $a2" "$b0 $b1 $b2" "$c0 $c1 $c2" \
    "$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(sql -c "SHOW server_version" | cut -d' ' -f1)" "$loadavg" >"$DIR/section.md" <<'PY'
import datetime, glob, math, os, sys
logdir, rows, airports, idle, alone, load2, load1, cpu, cores, pg, loadavg = sys.argv[1:]
idle, alone, load2, load1 = ([float(x) for x in s.split()] for s in (idle, alone, load2, load1))

def transactions(prefix):
    """(start, end, latency in ms) of every logged transaction of the runs."""
    out = []
    for path in glob.glob(os.path.join(logdir, prefix + ".*")):
        if path.endswith(".out"):
            continue
        for line in open(path):
            f = line.split()
            if not f[2].isdigit():
                sys.exit(f"a transaction did not complete: {line}")
            end = int(f[4]) + int(f[5]) / 1e6
            out.append((end - int(f[2]) / 1e6, end, int(f[2]) / 1000))
    return out

def row(what, txs, lo, hi):
    """Transactions that ran at any moment in [lo, hi], and how many ended in it per second."""
    lat = sorted(ms for s, e, ms in txs if s < hi and e > lo)
    ended = sum(lo <= e <= hi for s, e, ms in txs)
    rank = lambda p: lat[max(0, math.ceil(p * len(lat)) - 1)]
    return (f"| {what} | {hi - lo:.1f} s | {len(lat):,} | {ended / (hi - lo):.1f} | {rank(0.5):.0f} ms "
            f"| {rank(0.99):.0f} ms | {lat[-1]:.0f} ms |")

idle_tx = transactions("idle")
import re
per = {}
for line in open(os.path.join(logdir, "idle.out")):
    m = re.match(r"\s+([0-9.]+)\s+\d+\s+(.*)", line)
    if m and float(m.group(1)) > 0.5:
        per[m.group(2)] = float(m.group(1))
def stmt(key):
    return next(ms for text, ms in per.items() if key in text)
charts = [stmt("dep_delay_anomaly_label AS"), stmt("AVG(average_dep_delay)"), stmt("direction AS direction")]
stmts = (f"{charts[0]:.0f}, {charts[1]:.0f} and {charts[2]:.0f} ms for the three charts' queries, "
         f"{stmt('arima_flights'):.0f} ms for `arima_anomalies`")
idle_avg = sum(ms for s, e, ms in idle_tx) / len(idle_tx)
phases = loadavg.split()
others = sorted({o for p in phases for o in p.split("/", 1)[1].split("+") if o and o != "none"})
busy_note = ("At the end of each phase (the writer alone, idle readers, the two loads) the 1-minute load average "
             f"was {', '.join(p.split('/')[0] for p in phases)}; "
             + (f"other programs were using the CPU beside this run ({', '.join(others)}), so every figure here "
                "includes their share of the 2 cores (the phases ran one after another in the same run)."
                if others else "nothing else was using the CPU."))
l2, l1 = transactions("load2"), transactions("load1")
print(f"""## Readers under load (`scripts/bench_readers.sh`)

Measured {datetime.date.today()} on this {cores}-core machine ({cpu}), PostgreSQL {pg}, release build of the
extension, in one run: a synthetic {2015} from `loader generate` ({int(rows):,} flights, {airports} airports),
loaded and refreshed. {16} pgbench clients (2 threads) as a member of `airline_reader`, each transaction one
look at the dashboard: the three charts' queries (`superset/bundle/charts/`) for a random airport (uniform
over all {airports}) and month, then `arima_anomalies(airport, 2015)`, in one REPEATABLE READ transaction
(`tests/readers/dashboard.sql`). The writer, a member of `airline_writer`, replaces the year with a second
version of it (another seed; `loader load`, swapped in whole) and runs `SELECT refresh_year(2015)`. Latency is
each transaction's, from pgbench's log (after 10 s of warm-up, not counted); a phase counts the transactions that ran at any moment in it (p50 and
p99 by nearest rank); tps counts those that ended in it.

| readers (16 clients) during | for | transactions | tps | p50 | p99 | max |
|---|---|---|---|---|---|---|
{row("nothing else (idle)", idle_tx, *idle)}
{row("`loader load` of the year", l2, load2[0], load2[1])}
{row("`refresh_year(2015)`", l2, load2[1], load2[2])}
{row("`loader load`, the writer at `max_threads = 1`", l1, load1[0], load1[1])}
{row("`refresh_year(2015)` at `max_threads = 1`", l1, load1[1], load1[2])}

| the writer | alone | under the 16 readers | at `max_threads = 1`, under the readers |
|---|---|---|---|
| `loader load` ({int(rows) / 1e6:.1f}M rows, swapped in) | {alone[1] - alone[0]:.1f} s | {load2[1] - load2[0]:.1f} s | {load1[1] - load1[0]:.1f} s |
| `SELECT refresh_year(2015)` | {alone[2] - alone[1]:.1f} s | {load2[2] - load2[1]:.1f} s | {load1[2] - load1[1]:.1f} s |

No reader transaction failed. {busy_note}

Idle, a look's {idle_avg:.0f} ms on average are {stmts}: `arima_anomalies` dominates, as it aggregates the
airport's flights of the year (up to ≈700,000 rows at the busiest) before its fit. The latency is mostly waiting
for a core: 16 looks in flight share {cores} cores, so each look is ≈{int(cores) * idle_avg / 16:.0f} ms of work
({idle_avg:.0f} ms × {cores} cores / 16 clients). Under the writer the readers keep going; they wait for it only
around the swap, whose `ACCESS EXCLUSIVE` lock on `flights` waits for the looks already reading `flights` to end
while the looks arriving meanwhile queue behind it until the swap commits (a catalog change, no data copied). The
refresh takes no lock they need. `refresh_year` fits the airports on worker threads, at most
`airline_anomalies.max_threads` of them per backend (default 2; only a superuser sets it: per role, database or
in postgresql.conf, e.g. `ALTER ROLE loader SET airline_anomalies.max_threads = 1`). That setting bounds one
backend's parallelism: no backend runs more worker threads than that (a reader's `arima_anomalies` for one
airport fits one model, on one of them), so the writer's refresh takes at most that many cores, and lowering it
for the writer leaves cores to the readers at the price of a slower refresh. `tests/readers.sh` checks that each reader transaction sees the
year wholly before, between or after such a load and refresh; the one exception it finds is a REPEATABLE READ
transaction whose snapshot predates the load's COPY and that first reads `flights` after the swap: it sees the year
empty (a partition swap is not MVCC-safe for older snapshots).
""")
PY
cat "$DIR/section.md"
python3 scripts/bench_section.py readers <"$DIR/section.md"
echo "BENCHMARKS.md updated"
