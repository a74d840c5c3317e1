#!/usr/bin/env bash
# The loader against real parts: a Postgres cluster with the extension and
# an S3-compatible server (s3s-fs, which checks request signatures) on
# 127.0.0.1. Covers S3 and local sources, gzip and zstd, both schemas,
# idempotent reload, a kill mid-load, reject accounting and each bad input's
# message, and that `detect` writes what `refresh_year` writes. The loader
# runs as airline_loader, as deployed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

ROOT=$PWD/target/loader-test
S3_PORT=${LOADER_S3_PORT:-25334}
test_cluster "$ROOT" "${LOADER_PG_PORT:-25333}"
# The loader as the deployment runs it: logged in as airline_loader
# (sql/loader_role.sql: a writer, not a superuser); LOADER_PGUSER overrides.
LOADER=$ROOT/loader-as-airline_loader
# shellcheck disable=SC2016 # the wrapper's own variables
printf '#!/bin/sh\nPGUSER=${LOADER_PGUSER:-airline_loader} exec %s "$@"\n' "$PWD/target/release/loader" >"$LOADER"
chmod +x "$LOADER"
mkdir -p "$ROOT/s3/flights/raw" "$ROOT/files"
s3s-fs --host 127.0.0.1 --port "$S3_PORT" --access-key test-key --secret-key test-secret "$ROOT/s3" >"$ROOT/s3.log" 2>&1 &
S3_PID=$!
trap 'kill $S3_PID 2>/dev/null; pg_stop "$ROOT/pg"' EXIT

export AWS_ACCESS_KEY_ID=test-key AWS_SECRET_ACCESS_KEY=test-secret AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT AWS_EC2_METADATA_DISABLED=true
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
flights() { sql -c "SELECT count(*) FROM flights WHERE fl_date >= make_date($1,1,1) AND fl_date < make_date($1+1,1,1)"; }

for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$S3_PORT") 2>/dev/null && break; sleep 0.1; done
sql -c "CREATE EXTENSION airline_anomalies"
sql -f sql/loader_role.sql >/dev/null

# Inputs: 2015 gzip and 2016 zstd (Kaggle schema, with malformed lines), 2017 in the BTS schema.
"$LOADER" generate --year 2015 --airports 12 --flights 60000 --malformed 6 --out "$ROOT/s3/flights/raw/2015.csv.gz" >/dev/null 2>&1
"$LOADER" generate --year 2016 --airports 12 --flights 40000 --seed 7 --out "$ROOT/s3/flights/raw/2016.csv.zst" >/dev/null 2>&1
python3 - "$ROOT/files/bts-2017-01.csv" <<'PY'
import csv, datetime, random, sys
random.seed(3)
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Year", "FlightDate", "Reporting_Airline", "Flight_Number_Reporting_Airline", "Origin", "Dest",
                "CRSDepTime", "DepTime", "DepDelay", "Cancelled", "Diverted"])
    for day in range(31):
        date = datetime.date(2017, 1, 1) + datetime.timedelta(day)
        for origin in ("ATL", "ORD", "DEN"):
            for _ in range(20):
                w.writerow([2017, date.isoformat(), "DL", random.randint(1, 3000), origin, "LAX", "0930", "0941",
                            f"{random.gauss(10, 15):.2f}", "0.00", "0.00"])
PY
bts_delay_sum=$(python3 -c "import csv,sys; print(f'{sum(float(r[\"DepDelay\"]) for r in csv.DictReader(open(sys.argv[1]))):.2f}')" "$ROOT/files/bts-2017-01.csv")
cp "$ROOT/s3/flights/raw/2015.csv.gz" "$ROOT/files/2015.csv.gz"

# 1. One S3 object (gzip), with reject accounting.
out=$("$LOADER" load s3://flights/raw/2015.csv.gz --json)
read_=$(json rows_read <<<"$out"); loaded=$(json loaded <<<"$out"); rejected=$(json rejected <<<"$out")
[ "$read_" = $((loaded + rejected)) ] || fail "rows read $read_ != loaded $loaded + rejected $rejected"
[ "$rejected" = 6 ] || fail "expected 6 rejects, got $rejected"
[ "$(flights 2015)" = "$loaded" ] || fail "flights 2015 $(flights 2015) != loaded $loaded"
[ "$(sql -c "SELECT count(*) FROM flight_rejects WHERE source_file = 's3://flights/raw/2015.csv.gz' AND line > 1 AND reason <> '' AND raw <> ''")" = 6 ] \
    || fail "rejects not recorded with file, line, reason and raw text"
sql -c "SELECT reason FROM flight_rejects ORDER BY line" | sort -u | grep -q "expected 28 fields, found 12" || fail "reject reason"
pass "S3 gzip object: read = loaded + rejected, rejects kept with line and reason"

# 2. Loading the same file again leaves one copy (and one set of rejects).
"$LOADER" load s3://flights/raw/2015.csv.gz --json >/dev/null
[ "$(flights 2015)" = "$loaded" ] || fail "reload duplicated rows"
[ "$(sql -c "SELECT count(*) FROM flight_rejects")" = 6 ] || fail "reload duplicated rejects"
pass "idempotent reload"

# 3. An S3 prefix: every object under it, zstd included.
out=$("$LOADER" load s3://flights/raw/ --json)
[ "$(json years <<<"$out")" = "[2015, 2016]" ] || fail "prefix years: $out"
[ "$(flights 2016)" -gt 30000 ] || fail "2016 (zstd) not loaded"
pass "S3 prefix with gzip and zstd"

# 4. Local files: a glob, and the BTS schema; other years stay as they were.
before2016=$(flights 2016)
out=$("$LOADER" load "$ROOT/files/bts-*.csv" --json)
[ "$(flights 2017)" = 1860 ] || fail "BTS file: $(flights 2017) rows"
# Every field arrives as written (the binary COPY encoding, checked on known rows).
[ "$(sql -c "SELECT round(sum(dep_delay)::numeric, 2) FROM flights WHERE fl_date >= '2017-01-01'")" = "$bts_delay_sum" ] || fail "BTS delays"
[ "$(sql -c "SELECT DISTINCT format('%s %s %s %s %s %s %s', op_carrier, dest, crs_dep_time, dep_time, cancelled, diverted, source_file) FROM flights WHERE fl_date >= '2017-01-01'")" = "DL LAX 930 941 f f $ROOT/files/bts-2017-01.csv" ] || fail "BTS fields"
[ "$(sql -c "SELECT min(fl_date) || ' ' || max(fl_date) || ' ' || count(DISTINCT origin) || ' ' || count(op_carrier_fl_num) FROM flights WHERE fl_date >= '2017-01-01'")" = "2017-01-01 2017-01-31 3 1860" ] || fail "BTS dates"
[ "$(flights 2016)" = "$before2016" ] || fail "loading 2017 touched 2016"
"$LOADER" load "$ROOT/files/2015.csv.gz" --json >/dev/null
[ "$(flights 2015)" = "$loaded" ] || fail "local gzip"
pass "local glob, BTS schema, local gzip"

# 5. A kill mid-load leaves the previous year intact, and the next load works.
"$LOADER" generate --year 2015 --airports 30 --flights 3000000 --out "$ROOT/files/big-2015.csv" >/dev/null 2>&1
"$LOADER" load "$ROOT/files/big-2015.csv" >/dev/null 2>&1 &
LOAD_PID=$!
# Rows in flight are only visible to pg_stat_progress_copy until the COPY commits.
for _ in $(seq 600); do
    n=$(sql -c "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy p JOIN pg_class c ON c.oid = p.relid WHERE c.relname LIKE 'flights_load_%'")
    [ "$n" -gt 100000 ] && break
    sleep 0.05
done
kill -9 $LOAD_PID; wait $LOAD_PID 2>/dev/null || true
[ "$n" -gt 100000 ] || fail "the big load never started copying"
[ "$(flights 2015)" = "$loaded" ] || fail "kill mid-load changed 2015: $(flights 2015)"
# The killed run's staging table stays until a run finds its owner gone (its backend's lock released).
for _ in $(seq 100); do [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loader'")" = 0 ] && break; sleep 0.1; done
"$LOADER" load s3://flights/raw/2015.csv.gz --json >/dev/null
[ "$(flights 2015)" = "$loaded" ] || fail "load after a kill"
[ "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'flights_load_%'")" = 0 ] || fail "the killed run's staging table was left"
pass "kill -9 mid-load: previous year intact, next load fine and drops the killed run's staging table"

# 5b. What a run replaces is what its files cover (the bundled 2013 sample,
#     split by month): monthly files add up, the same or a corrected month
#     replaces that month, a stray row of another year wipes nothing, and a
#     whole-year file replaces the year.
python3 - data/sample/nycflights13-2013.csv.gz "$ROOT/files" <<'PY'
import csv, gzip, sys
out = sys.argv[2]
rows = list(csv.reader(gzip.open(sys.argv[1], "rt", newline="")))
header, body = rows[0], rows[1:]
date = header.index("FL_DATE")
delay = header.index("DEP_DELAY")
def write(name, part):
    with open(f"{out}/{name}", "w", newline="") as f:
        csv.writer(f).writerows([header] + part)
write("jan.csv", [r for r in body if r[date].startswith("2013-01")])
write("feb.csv", [r for r in body if r[date].startswith("2013-02")])
fixed = [list(r) for r in body if r[date].startswith("2013-02")]
for r in fixed:
    r[delay] = "1" if r[delay] else ""
write("feb-corrected.csv", fixed)
stray = [list(body[0])]
stray[0][date] = "2015-06-01"
write("mar-with-a-stray-2015-row.csv", [r for r in body if r[date].startswith("2013-03")] + stray)
PY
month() { sql -c "SELECT count(*) FROM flights WHERE fl_date >= '2013-$1-01' AND fl_date < '2013-$1-01'::date + interval '1 month'"; }
out=$("$LOADER" load "$ROOT/files/jan.csv" --json)
jan=$(($(wc -l <"$ROOT/files/jan.csv") - 1)); feb=$(($(wc -l <"$ROOT/files/feb.csv") - 1))
{ [ "$(flights 2013)" = "$jan" ] && [ "$(json swapped <<<"$out")" = "[2013]" ]; } || fail "January alone: $(flights 2013) rows, $out"
sql -c "SELECT refresh_year(2013)" >/dev/null # a model from January
out=$("$LOADER" load "$ROOT/files/feb.csv" --then-refresh --no-refit --json)
{ [ "$(flights 2013)" = $((jan + feb)) ] && [ "$(json merged <<<"$out")" = "[2013]" ]; } || fail "February after January: $(flights 2013) rows, $out"
# --no-refit: February's days marked online from January's model, January's rows and the model untouched.
[ "$(sql -c "SELECT string_agg(dep_delay_source || ' ' || n, ', ' ORDER BY dep_delay_source) FROM (SELECT dep_delay_source, count(*) n FROM airport_daily_summary WHERE date < '2014-01-01' GROUP BY 1) c")" = "fit 93, online 84" ] \
    || fail "--then-refresh --no-refit: $(sql -c "SELECT dep_delay_source, count(*) FROM airport_daily_summary GROUP BY 1")"
[ "$(sql -c "SELECT count(*) FROM airport_models WHERE year = 2013 AND points = 31")" = 3 ] || fail "--no-refit refitted"
sql -c "DELETE FROM airport_daily_summary WHERE date < '2014-01-01'" -c "DELETE FROM airport_models WHERE year = 2013"
before=$(sql -c "SELECT md5(string_agg(f::text, ',' ORDER BY f::text)) FROM flights f WHERE fl_date < '2014-01-01'")
"$LOADER" load "$ROOT/files/feb.csv" >/dev/null 2>&1
[ "$(sql -c "SELECT md5(string_agg(f::text, ',' ORDER BY f::text)) FROM flights f WHERE fl_date < '2014-01-01'")" = "$before" ] \
    || fail "loading February again changed the rows"
"$LOADER" load "$ROOT/files/feb-corrected.csv" >/dev/null 2>&1
[ "$(month 01) $(month 02)" = "$jan $feb" ] || fail "corrected February: $(month 01) $(month 02)"
[ "$(sql -c "SELECT count(*) FILTER (WHERE dep_delay <> 1) || ' ' || count(DISTINCT source_file) FROM flights WHERE fl_date >= '2013-02-01' AND fl_date < '2013-03-01'")" = "0 1" ] \
    || fail "the corrected February did not replace the old one"
before2015=$(flights 2015)
out=$("$LOADER" load "$ROOT/files/mar-with-a-stray-2015-row.csv" --json)
[ "$(flights 2015)" = $((before2015 + 1)) ] || fail "a stray 2015 row changed 2015 from $before2015 to $(flights 2015) rows"
[ "$(json merged <<<"$out")" = "[2013, 2015]" ] || fail "stray: $out"
[ "$(month 01) $(month 02)" = "$jan $feb" ] || fail "March touched January or February"
"$LOADER" load "$ROOT/files/mar-with-a-stray-2015-row.csv" >/dev/null 2>&1
[ "$(flights 2015)" = $((before2015 + 1)) ] || fail "reloading the stray row's file added it twice"
out=$("$LOADER" load data/sample/nycflights13-2013.csv.gz --json)
{ [ "$(flights 2013)" = 336776 ] && [ "$(json swapped <<<"$out")" = "[2013]" ]; } || fail "the whole year over months: $(flights 2013), $out"
"$LOADER" load s3://flights/raw/2015.csv.gz >/dev/null 2>&1 # the whole 2015 again: the stray row goes
[ "$(flights 2015)" = "$before2015" ] || fail "reloading 2015 kept the stray row"
pass "monthly files add up (and --no-refit flags a new month online); the same or a corrected month replaces it; a stray row wipes nothing; a whole year replaces the months"

# 6. Bad input: one clear message each, nothing changed.
snapshot=$(sql -c "SELECT count(*) FROM flights")
expect_error 1 "s3://nope: no such bucket" "$LOADER" load s3://nope/raw/2015.csv.gz
expect_error 1 "s3://flights/raw/missing.csv.gz: no such key" "$LOADER" load s3://flights/raw/missing.csv.gz
expect_error 1 "no objects under this prefix" "$LOADER" load s3://flights/none/
expect_error 1 "access denied (403)" env AWS_SECRET_ACCESS_KEY=wrong "$LOADER" load s3://flights/raw/2015.csv.gz
expect_error 1 "SignatureDoesNotMatch" env AWS_SECRET_ACCESS_KEY=wrong "$LOADER" load s3://flights/raw/
expect_error 1 "cannot connect to Postgres" env PGPORT=1 "$LOADER" load s3://flights/raw/2015.csv.gz
printf 'FL_DATE,OP_CARRIER,ORIGIN,DEST\n2015-01-01,AA,JFK,LAX\n' >"$ROOT/files/no-delay.csv"
expect_error 2 "missing required column DEP_DELAY" "$LOADER" load "$ROOT/files/no-delay.csv"
expect_error 1 "no such file" "$LOADER" load "$ROOT/files/absent.csv"
# Too many malformed rows: refused, rejects kept, nothing replaced.
"$LOADER" generate --year 2015 --airports 3 --flights 2000 --malformed 100 --out "$ROOT/files/bad-2015.csv" >/dev/null 2>&1
expect_error 2 "above --max-reject-ratio" "$LOADER" load "$ROOT/files/bad-2015.csv" --max-reject-ratio 0.01
[ "$(sql -c "SELECT count(*) FROM flight_rejects WHERE source_file LIKE '%bad-2015.csv'")" = 100 ] || fail "refused load lost its rejects"
[ "$(sql -c "SELECT count(*) FROM flights")" = "$snapshot" ] || fail "a failed load changed flights"
[ "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'flights_load_%'")" = 0 ] || fail "staging tables left behind"
# Bounded input. A newline-free gzip bomb (256 MiB of one field, 260 KB
# compressed) between good rows is one record too long, read through and
# rejected, never held: the loader stays small. A file of garbage is
# refused early, at the reject ratio, not after reading it all.
python3 - "$ROOT/files/bomb-1999.csv.gz" "$ROOT/files/garbage-2015.csv.gz" <<'PY'
import gzip, sys
with gzip.open(sys.argv[1], "wt", compresslevel=9) as f:
    f.write("FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY\n")
    f.writelines(f"1999-03-{d:02d},AA,JFK,LAX,{d}\n" for d in range(1, 29))
    for _ in range(256):
        f.write("x" * (1 << 20))
    f.write("\n1999-03-29,AA,JFK,LAX,5\n")
with gzip.open(sys.argv[2], "wt", compresslevel=1) as f:
    f.write("FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY\n")
    f.writelines("not,a,flight\n" for _ in range(3_000_000))
PY
out=$(/usr/bin/time -f %M -o "$ROOT/rss" env PGPORT=1 "$LOADER" detect --input "$ROOT/files/bomb-1999.csv.gz" --out "$ROOT/bomb.csv" --json)
[ "$(json rows_read <<<"$out") $(json rows_used <<<"$out") $(json reject_reasons <<<"$out")" = "30 29 {'record too long': 1}" ] \
    || fail "the bomb's line was not one rejected record: $out"
[ "$(tail -1 "$ROOT/rss")" -lt 102400 ] || fail "detect held the bomb's line: $(tail -1 "$ROOT/rss") KB resident"
out=$(/usr/bin/time -f %M -o "$ROOT/rss" "$LOADER" load "$ROOT/files/bomb-1999.csv.gz" --max-reject-ratio 0.5 --json)
[ "$(json loaded <<<"$out") $(json rejected <<<"$out")" = "29 1" ] || fail "bomb load: $out"
[ "$(tail -1 "$ROOT/rss")" -lt 102400 ] || fail "load held the bomb's line: $(tail -1 "$ROOT/rss") KB resident"
[ "$(sql -c "SELECT line || ' ' || reason || ' ' || length(raw) FROM flight_rejects WHERE source_file LIKE '%bomb-1999.csv.gz'")" \
    = "30 record too long: 268435456 bytes, above the 64 KiB limit 0" ] || fail "the bomb's reject row"
sql -c "DROP TABLE airline_partitions.flights_y1999; DELETE FROM flight_years WHERE year = 1999; DELETE FROM flight_rejects WHERE source_file LIKE '%bomb-1999.csv.gz'"
expect_error 2 "so far, stopped early" "$LOADER" load "$ROOT/files/garbage-2015.csv.gz"
kept=$(sql -c "SELECT count(*) FROM flight_rejects WHERE source_file LIKE '%garbage-2015.csv.gz'")
{ [ "$kept" -gt 0 ] && [ "$kept" -lt 100000 ]; } || fail "the garbage file was not stopped early: $kept rejects kept"
[ "$(sql -c "SELECT count(*) FROM flights")" = "$snapshot" ] || fail "a refused load changed flights"
[ "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'flights_load_%'")" = 0 ] || fail "staging tables left behind"
expect_error 2 "--level: level 1.5 is not in (0, 1)" "$LOADER" detect --year 2015 --level 1.5
expect_error 2 "--input needs --out" "$LOADER" detect --input "$ROOT/files/bad-2015.csv"
pass "bad bucket, key, credentials, database, column, file, reject ratio, arguments: clear messages, exit 1 or 2, nothing changed"
pass "a newline-free gzip bomb is one rejected record in bounded memory; a garbage file stops early at the reject ratio"

# Two loads of one year at once: each stages its rows in a table of its own,
# and the second to swap waits for the year's lock. A run that fails drops
# only its own staging table, so the other still loads (whichever starts first).
python3 - "$ROOT/files/half-bad-2015.csv" <<'PY'
with open(__import__("sys").argv[1], "w") as f:
    f.write("FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY\n")
    f.writelines(f"2015-06-{1 + i % 28:02d},AA,ATL,LAX,{i % 50}\n" for i in range(60_000))
    f.writelines("not,a,flight\n" for _ in range(20_000))
PY
concurrently() {  # concurrently FILE_A FILE_B: both loads at once; prints their exit statuses
    local a b ra=0 rb=0
    "$LOADER" load "$1" --json >"$ROOT/a.json" 2>"$ROOT/a.err" & a=$!
    "$LOADER" load "$2" --json >"$ROOT/b.json" 2>"$ROOT/b.err" & b=$!
    wait $a || ra=$?
    wait $b || rb=$?
    echo "$ra $rb"
}
[ "$(concurrently "$ROOT/files/2015.csv.gz" "$ROOT/files/2015.csv.gz")" = "0 0" ] || fail "two loads of a year: $(cat "$ROOT"/?.err)"
[ "$(flights 2015)" = "$(json loaded <"$ROOT/a.json")" ] || fail "two loads of a year left $(flights 2015) rows"
for _ in 1 2 3; do
    [ "$(concurrently "$ROOT/files/half-bad-2015.csv" "$ROOT/files/2015.csv.gz")" = "2 0" ] || fail "a failing and a good load: $(cat "$ROOT"/?.err)"
    [ "$(flights 2015)" = "$(json loaded <"$ROOT/b.json")" ] || fail "the good load lost rows to the failing one"
done
[ "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'flights_load_%'")" = 0 ] || fail "staging tables left behind"
pass "two loads of one year at once: one waits; a failing run never drops the other's staging table"

# 7. detect writes exactly what refresh_year writes; --airport touches only that airport.
summary_digest() { sql -c "SELECT md5(string_agg(s::text, ',' ORDER BY date, origin_airport)) FROM airport_daily_summary s WHERE date >= '2015-01-01' AND date < '2016-01-01'"; }
models() { sql -c "SELECT md5(string_agg(format('%s %s %s %s %s %s %s', origin_airport, p, d, q, params, lower_clip, skip_reason), ',' ORDER BY origin_airport)) FROM airport_models WHERE year = 2015"; }
sql -c "SELECT refresh_year(2015)" >/dev/null
by_extension=$(summary_digest); models_extension=$(models)
sql -c "DELETE FROM airport_daily_summary; DELETE FROM airport_models"
"$LOADER" detect --year 2015 --json >/dev/null
[ "$(summary_digest)" = "$by_extension" ] || fail "detect rows differ from refresh_year's"
[ "$(models)" = "$models_extension" ] || fail "detect models differ from refresh_year's"
"$LOADER" detect --year 2015 --airport ATL --order 1,0,0 --json >/dev/null
[ "$(sql -c "SELECT count(*) FROM airport_models WHERE year = 2015 AND p = 1")" = 1 ] || fail "--airport"
[ "$(sql -c "SELECT count(DISTINCT origin_airport) FROM airport_daily_summary WHERE date < '2016-01-01'")" = 12 ] || fail "--airport removed other airports"
pass "detect = refresh_year, and --airport stays within its airport"

# 8. detect with no database: raw files from S3 to a CSV of summary rows.
out=$(env PGPORT=1 "$LOADER" detect --input s3://flights/raw/2016.csv.zst --out "$ROOT/summary.csv" --models "$ROOT/models.csv" --json)
[ "$(head -1 "$ROOT/summary.csv")" = "date,origin_airport,average_dep_delay,flights,dep_delay_anomaly,dep_delay_pred,dep_delay_higher_ci,dep_delay_lower_ci,dep_delay_source,flights_scheduled,flights_cancelled,flights_diverted,carrier_delay_minutes,weather_delay_minutes,nas_delay_minutes,security_delay_minutes,late_aircraft_delay_minutes,dep_delay_residual,dep_delay_outside" ] || fail "summary header"
[ "$(($(wc -l <"$ROOT/summary.csv") - 1))" = "$(json days <<<"$out")" ] || fail "summary rows"
[ "$(($(wc -l <"$ROOT/models.csv") - 1))" = 12 ] || fail "model rows"
# detect --input counts rows as load does (same parser): read, and rejected with reasons.
loaded=$("$LOADER" load "$ROOT/files/2015.csv.gz" --json)
detected=$(env PGPORT=1 "$LOADER" detect --input "$ROOT/files/2015.csv.gz" --out "$ROOT/2015-summary.csv" --json)
[ "$(json rows_read <<<"$detected") $(json rows_rejected <<<"$detected")" = "$(json rows_read <<<"$loaded") $(json rejected <<<"$loaded")" ] \
    || fail "detect --input counts differ from load's: $detected vs $loaded"
{ [ "$(json rows_rejected <<<"$detected")" -gt 0 ] && [ "$(json reject_reasons <<<"$detected")" != "{}" ]; } || fail "no reject reasons: $detected"
# The same file summarised by refresh_year in SQL and by detect --input in
# Rust: the same days, counts and cause minutes (exactly), flags, residuals
# and distances from the band (to rounding: the mean's sum runs in another order).
sql -c "SELECT refresh_year(2015)" >/dev/null
sql -c "\copy (SELECT * FROM airport_daily_summary WHERE date < '2016-01-01' ORDER BY origin_airport, date) TO '$ROOT/2015-sql.csv' CSV HEADER"
python3 - "$ROOT/2015-sql.csv" "$ROOT/2015-summary.csv" <<'PY' || fail "detect --input and refresh_year summarise the file differently"
import csv, sys
key = lambda r: (r["origin_airport"], r["date"])
ours, theirs = ({key(r): r for r in csv.DictReader(open(f))} for f in sys.argv[1:])
assert ours.keys() == theirs.keys(), "different days"
exact = ["flights", "flights_scheduled", "flights_cancelled", "flights_diverted", "carrier_delay_minutes",
         "weather_delay_minutes", "nas_delay_minutes", "security_delay_minutes", "late_aircraft_delay_minutes"]
num = lambda v: float(v) if v != "" else None
with_causes = 0
for k, a in ours.items():
    b = theirs[k]
    for c in exact:
        assert num(a[c]) == num(b[c]), (k, c, a[c], b[c])
    assert (a["dep_delay_anomaly"] == "t") == (b["dep_delay_anomaly"] == "true"), k
    for c in ["average_dep_delay", "dep_delay_residual", "dep_delay_outside"]:
        assert abs(num(a[c]) - num(b[c])) < 1e-6, (k, c, a[c], b[c])
    with_causes += a["weather_delay_minutes"] != ""
assert with_causes > len(ours) / 2, f"only {with_causes} of {len(ours)} days have cause minutes"
PY
pass "detect --input from S3 to CSV, no database; rows read and rejected counted as load counts them; its counts, causes and residuals equal refresh_year's"

# A blank carrier and destination (fields the rule does not use): loaded and
# used by load and detect --input alike, not rejected.
python3 - "$ROOT/files/bts-2017-01.csv" "$ROOT/files/bts-blank-2017-01.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
for r in rows[1:]:
    r[2] = r[5] = ""
csv.writer(open(sys.argv[2], "w", newline="")).writerows(rows)
PY
out=$(env PGPORT=1 "$LOADER" detect --input "$ROOT/files/bts-blank-2017-01.csv" --out "$ROOT/blank.csv" --json)
[ "$(json rows_used <<<"$out") $(json rows_rejected <<<"$out") $(json airports_fitted <<<"$out")" = "1860 0 3" ] || fail "detect dropped blank-carrier rows: $out"
out=$("$LOADER" load "$ROOT/files/bts-blank-2017-01.csv" --json)
[ "$(json loaded <<<"$out") $(json rejected <<<"$out")" = "1860 0" ] || fail "load rejected blank-carrier rows: $out"
[ "$(sql -c "SELECT count(*) FROM flights WHERE source_file LIKE '%bts-blank-2017-01.csv' AND op_carrier IS NULL AND dest IS NULL")" = 1860 ] || fail "blank carrier not NULL"
pass "a blank carrier and destination: loaded and used, not rejected"
# --level 0.95 reproduces the replaced system's stored flags on the real
# sample (it called conf_int(0.2): a 95 % band; crates/arima/tests/fixtures/old_system.json).
"$LOADER" detect --input data/sample/nycflights13-2013.csv.gz --level 0.95 --out "$ROOT/old-system.csv" >/dev/null 2>&1
python3 - "$ROOT/old-system.csv" <<'PY' || fail "--level 0.95 does not reproduce the old system's flags"
import csv, json, sys
old = {c["origin"]: c for c in json.load(open("crates/arima/tests/fixtures/old_system.json"))["cases"]}
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["origin_airport"], []).append(r)
for origin, case in old.items():
    ours = sorted(rows[origin], key=lambda r: r["date"])
    assert len(ours) == len(case["flags"]), origin
    for t, r in enumerate(ours):
        y, lo, hi = float(r["average_dep_delay"]), case["lower"][t], case["upper"][t]
        if (r["dep_delay_anomaly"] == "true") != case["flags"][t]:
            assert min(abs(y - lo), abs(y - hi)) <= 1e-3 * (hi - lo), (origin, t)
PY
pass "detect --level 0.95 reproduces the old system's stored flags (its conf_int(0.2) was a 95 % band)"
# 9. plot: two PNGs per airport-year, to a directory and to S3 ({year}/{origin}/...).
out=$("$LOADER" plot --year 2015 --out "$ROOT/plots" --json)
[ "$(json files <<<"$out")" = 24 ] || fail "plot files: $out"
for f in daily_average_delay_departure daily_flights; do
    head -c 8 "$ROOT/plots/2015/ATL/$f.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || fail "$f.png is not a PNG"
done
"$LOADER" plot --year 2015 --airport ATL --svg --out s3://flights/plots --json >/dev/null
find "$ROOT/s3/flights/plots/2015/ATL/" -type f -printf '%f\n' | sort | tr '\n' ' ' | grep -q "daily_average_delay_departure.png daily_average_delay_departure.svg daily_flights.png daily_flights.svg" \
    || fail "S3 plot keys: $(ls -R "$ROOT/s3/flights/plots")"
cmp -s "$ROOT/plots/2015/ATL/daily_flights.png" "$ROOT/s3/flights/plots/2015/ATL/daily_flights.png" || fail "plots differ between runs"
pass "plot to a directory and to S3, deterministic"
# 10. Where the extension cannot be installed (Aurora/RDS): the plain-SQL
# schema, load, detect, as the database's owner (no airline roles there).
sql -c "CREATE DATABASE plain"
export LOADER_PGUSER=postgres
PGDATABASE=plain "$LOADER" schema --json >/dev/null
[ "$(PGDATABASE=plain sql -c "SELECT count(*) FROM pg_extension WHERE extname = 'airline_anomalies'")" = 0 ] || fail "extension in plain"
PGDATABASE=plain "$LOADER" load s3://flights/raw/2016.csv.zst --json >/dev/null
PGDATABASE=plain "$LOADER" detect --year 2016 --json >/dev/null
sql -c "SELECT refresh_year(2016)" >/dev/null
d2016() { sql -c "SELECT md5(string_agg(s::text, ',' ORDER BY date, origin_airport)) FROM airport_daily_summary s WHERE date >= '2016-01-01' AND date < '2017-01-01'"; }
[ "$(PGDATABASE=plain d2016)" = "$(d2016)" ] || fail "plain-SQL detect differs from the extension's refresh_year"
pass "no extension: loader schema, load and detect give refresh_year's rows"

# A plain schema made by the 0.2.0 loader (its schema.sql, frozen), with
# rows: the loader refuses it, `schema --upgrade` keeps every row and makes
# it equal to a fresh plain schema; then the loader loads and detects.
sql -c "CREATE DATABASE plain_old"
sed 's/@extschema@/public/g' tests/upgrade/schema-0.2.0.sql | PGDATABASE=plain_old sql >/dev/null
PGDATABASE=plain_old sql -c "SELECT flights_partition(2016)" >/dev/null
PGDATABASE=plain psql -X -q -v ON_ERROR_STOP=1 -c "\copy (SELECT fl_date, op_carrier, origin, dest, dep_delay, cancelled, source_file FROM flights) TO STDOUT" |
    PGDATABASE=plain_old psql -X -q -v ON_ERROR_STOP=1 -c "\copy flights (fl_date, op_carrier, origin, dest, dep_delay, cancelled, source_file) FROM STDIN"
rows_before=$(PGDATABASE=plain_old sql -c "SELECT count(*) FROM flights")
[ "$rows_before" -gt 0 ] || fail "the old plain schema has no rows to keep"
expect_error 1 "loader schema --upgrade" env PGDATABASE=plain_old "$LOADER" load s3://flights/raw/2016.csv.zst
[ "$(PGDATABASE=plain_old "$LOADER" schema --upgrade --json | json updated)" = True ] || fail "schema --upgrade did not update"
[ "$(PGDATABASE=plain_old "$LOADER" schema --upgrade --json | json updated)" = False ] || fail "a second schema --upgrade updated again"
[ "$(PGDATABASE=plain_old sql -c "SELECT count(*) FROM flights")" = "$rows_before" ] || fail "schema --upgrade lost rows"
shape() { # columns, views and functions of the public schema
    PGDATABASE=$1 sql -c "SELECT string_agg(x, E'\n' ORDER BY x) FROM (
        SELECT table_name || '.' || column_name || ' ' || data_type AS x FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE 'flights\_y%'
        UNION ALL SELECT 'view ' || viewname || ': ' || definition FROM pg_views WHERE schemaname = 'public'
        UNION ALL SELECT 'function ' || p.proname || ': ' || pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        UNION ALL SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL SELECT DISTINCT 'partitions in ' || c.relnamespace::regnamespace FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = 'public.flights'::regclass) t"
}
diff <(shape plain) <(shape plain_old) >"$ROOT/plain-shape.diff" || fail "an updated plain schema differs from a fresh one: $(cat "$ROOT/plain-shape.diff")"
PGDATABASE=plain_old "$LOADER" load s3://flights/raw/2016.csv.zst --json >/dev/null
PGDATABASE=plain_old "$LOADER" detect --year 2016 --json >/dev/null
[ "$(PGDATABASE=plain_old d2016)" = "$(d2016)" ] || fail "detect on the updated plain schema differs from refresh_year"
pass "a 0.2.0 plain schema: refused, then schema --upgrade (to 0.3.0, then 0.4.0: partitions in airline_partitions) keeps every row, equals a fresh one, and loads and detects"
echo "loader: all passed"
