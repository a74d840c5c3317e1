#!/usr/bin/env bash
# The Superset dashboard, for real: a Postgres cluster filled by the pipeline
# (the bundled sample, loaded and refreshed), the read-only role from
# sql/superset_role.sql, Superset 6.1.0 in a venv with a test-only config
# (public role like Alpha, so reading the API needs no login), the bundle
# imported by an admin with superset/import.sh, and each chart's saved query checked through
# /api/v1/chart/<id>/data/ against SQL. With --screenshot FILE it also takes
# a headless Chromium screenshot of the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh
ROOT=$PWD/target/superset-test
PORT=${SUPERSET_PG_PORT:-25337}
WEB=${SUPERSET_PORT:-25338}
VENV=$PWD/target/venv-superset
SHOT=""
[ "${1:-}" = --screenshot ] && SHOT=$(realpath -m "$2")

SERVER_LOG=$ROOT/superset.log # what a failure prints the end of

if ! "$VENV/bin/python" -c "import superset" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "apache-superset==6.1.0" psycopg2-binary "flask-caching==2.3.1" rich cachetools
fi

rm -rf "$ROOT" && mkdir -p "$ROOT"
pg_start "$ROOT/pg" "$PORT"
trap 'kill $WEB_PID 2>/dev/null; pg_stop "$ROOT/pg"' EXIT
WEB_PID=
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
sql -c "CREATE EXTENSION airline_anomalies"
target/release/loader load data/sample/nycflights13-2013.csv.gz --then-refresh --json >/dev/null
# The roles and Superset's metadata database, as the db image's init script makes them.
printf reader-secret >"$ROOT/reader.pw" && printf "meta'secret" >"$ROOT/metadata.pw"
POSTGRES_USER=postgres POSTGRES_DB=postgres AIRLINE_SQL_DIR=$PWD/sql SUPERSET_READER_PASSWORD_FILE=$ROOT/reader.pw \
    SUPERSET_METADATA_PASSWORD_FILE=$ROOT/metadata.pw bash docker/initdb/10-airline-anomalies.sh >/dev/null
# The role reads the dashboard's objects and nothing else.
[ "$(PGUSER=superset_reader PGPASSWORD=reader-secret sql -c "SELECT count(*) FROM airport_daily_dashboard")" = 1095 ] || fail "reader cannot read the view"
[ "$(PGUSER=superset_reader PGPASSWORD=reader-secret sql -c "SELECT count(*) FROM arima_anomalies('JFK', 2013)")" = 365 ] || fail "reader cannot run arima_anomalies"
[ "$(PGUSER=superset_reader PGPASSWORD=reader-secret sql -c "SELECT count(*) > 0 FROM airport_anomaly_explanations")" = t ] || fail "reader cannot read the explanations"
if PGUSER=superset_reader PGPASSWORD=reader-secret sql -c "DELETE FROM airport_models" 2>/dev/null; then fail "reader can write"; fi
if PGUSER=superset_reader PGPASSWORD=reader-secret sql -c "SELECT refresh_year(2013)" 2>/dev/null; then fail "reader can refresh"; fi
pass "superset_reader reads the dashboard's view and runs arima_anomalies, and writes nothing"

# The deployment's config (metadata in Postgres), plus test-only settings.
cat >"$ROOT/superset_config.py" <<PY
exec(open("$PWD/superset/superset_config.py").read())
PUBLIC_ROLE_LIKE = "Alpha"   # test only: the API and pages need no login
WTF_CSRF_ENABLED = False
TALISMAN_ENABLED = False
PY
export SUPERSET_CONFIG_PATH=$ROOT/superset_config.py FLASK_APP=superset SUPERSET_HOME=$ROOT/home
export SUPERSET_SECRET_KEY=test-only-secret-key-not-for-production SUPERSET_METADATA_HOST=127.0.0.1 \
    SUPERSET_METADATA_PORT=$PORT SUPERSET_METADATA_PASSWORD="meta'secret" SUPERSET_METADATA_SSLMODE=disable  # no TLS here: tests/deploy.sh has it
"$VENV/bin/superset" db upgrade >"$ROOT/superset.log" 2>&1
"$VENV/bin/superset" init >>"$ROOT/superset.log" 2>&1
# Importing creates a database connection, which takes an admin.
"$VENV/bin/superset" fab create-admin --username admin --password admin-secret --firstname A --lastname D \
    --email admin@example.invalid >>"$ROOT/superset.log" 2>&1
"$VENV/bin/superset" run -h 127.0.0.1 -p "$WEB" --with-threads >>"$ROOT/superset.log" 2>&1 &
WEB_PID=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$WEB/health" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$WEB/health" >/dev/null || fail "superset did not start"

printf admin-secret >"$ROOT/admin.pw"  # import.sh takes passwords from files (tests/deploy.sh checks its command lines)
out=$(DB_PASSWORD_FILE=$ROOT/reader.pw ADMIN_PASSWORD_FILE=$ROOT/admin.pw DB_SSLMODE=disable \
    bash superset/import.sh "http://127.0.0.1:$WEB" 127.0.0.1 "$PORT" postgres admin)
grep -q '"message": *"OK"' <<<"$out" || fail "import: $out"
[ "$(sql -d superset -c "SELECT count(*) FROM dashboards")" -ge 1 ] || fail "the dashboard is not in the superset database"
[ -z "$(find "$ROOT" -name '*.db' -print -quit)" ] || fail "Superset wrote a SQLite database"
pass "bundle imported; Superset's metadata is in Postgres (database superset), no SQLite file"

# Each chart's saved query, through the API, against SQL.
chart_id() {
    curl -sf --get "http://127.0.0.1:$WEB/api/v1/chart/" --data-urlencode "q=(filters:!((col:slice_name,opr:eq,value:'$1')))" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r[0]["id"] if r else "")'
}
data() { curl -sf "http://127.0.0.1:$WEB/api/v1/chart/$1/data/?format=json"; }
flights_id=$(chart_id "Daily flights"); delay_id=$(chart_id "Average departure delay"); explained_id=$(chart_id "Anomalies explained")
{ [ -n "$flights_id" ] && [ -n "$delay_id" ] && [ -n "$explained_id" ]; } || fail "charts not found after import"

data "$flights_id" >"$ROOT/flights.json"
expected=$(sql -c "SELECT sum(flights) FROM airport_daily_summary")
got=$(python3 -c 'import json,sys; rows=json.load(open(sys.argv[1]))["result"][0]["data"]; print(int(sum(r["flights"] for r in rows)))' "$ROOT/flights.json")
[ "$got" = "$expected" ] || fail "Daily flights: sum $got, SQL says $expected"
labels=$(python3 -c 'import json,sys; rows=json.load(open(sys.argv[1]))["result"][0]["data"]; print(" ".join(sorted({r["dep_delay_anomaly_label"] for r in rows})))' "$ROOT/flights.json")
[ "$labels" = "anomaly normal" ] || fail "Daily flights labels: $labels"
pass "Daily flights returns every day's flights split by anomaly label"

data "$delay_id" >"$ROOT/delay.json"
python3 - "$ROOT/delay.json" "$(sql -F, -c "SELECT avg(average_dep_delay), avg(dep_delay_pred), avg(dep_delay_lower_ci), avg(dep_delay_higher_ci) FROM airport_daily_summary WHERE date = '2013-03-08'")" <<'PY' || fail "Average departure delay rows"
import json, sys
rows = json.load(open(sys.argv[1]))["result"][0]["data"]
assert len(rows) == 365, len(rows)
expected = [float(x) for x in sys.argv[2].split(",")]
day = [r for r in rows if str(r["date"]).startswith("1362700800000") or str(r["date"]).startswith("2013-03-08")]
assert day, "no row for 2013-03-08"
got = [day[0][k] for k in ("average_dep_delay", "average_dep_delay__yhat", "average_dep_delay__yhat_lower", "average_dep_delay__yhat_upper")]
assert all(abs(a - b) < 1e-9 for a, b in zip(got, expected)), (got, expected)
PY
anomalous_days=$(sql -c "SELECT count(DISTINCT date) FROM airport_daily_summary WHERE dep_delay_anomaly")
marked=$(python3 -c 'import json,sys; rows=json.load(open(sys.argv[1]))["result"][0]["data"]; print(sum(r["anomaly"] is not None for r in rows))' "$ROOT/delay.json")
[ "$marked" = "$anomalous_days" ] || fail "Average departure delay marks $marked days, $anomalous_days have an anomaly"
pass "Average departure delay returns observed, predicted, the band (__yhat, __yhat_lower, __yhat_upper) and the anomalous days"

data "$explained_id" >"$ROOT/explained.json"
python3 - "$ROOT/explained.json" "$(sql -F'|' -c "SELECT count(*), max(sentence) FILTER (WHERE origin_airport = 'LGA' AND date = '2013-03-08') FROM airport_anomaly_explanations")" <<'PY' || fail "Anomalies explained rows"
import json, sys
rows = json.load(open(sys.argv[1]))["result"][0]["data"]
count, sentence = sys.argv[2].split("|")
assert len(rows) == int(count), (len(rows), count)
lga = [r for r in rows if r["origin_airport"] == "LGA" and str(r["date"]).startswith(("1362700800000", "2013-03-08"))]
assert lga and lga[0]["sentence"] == sentence, (lga, sentence)
assert sentence.startswith("delay causes not reported; "), sentence  # nycflights13 has no cause columns
assert set(rows[0]) >= {"direction", "dep_delay_outside", "dep_delay_residual", "dominant_cause", "sentence"}, rows[0]
PY
pass "Anomalies explained lists every flagged day with its direction, distance, residual and sentence"

# The dashboard's airport and date filters reach all three charts: each
# chart's saved query, with the filters a dashboard adds, returns JFK's
# March only (what the native filters send; their scope is the whole dashboard).
for id in "$flights_id" "$delay_id" "$explained_id"; do
    curl -sf "http://127.0.0.1:$WEB/api/v1/chart/$id" | python3 -c '
import json, sys
chart = json.load(sys.stdin)["result"]
ctx = json.loads(chart["query_context"])
for q in ctx["queries"]:
    q["filters"] = [f for f in q["filters"] if f["op"] != "TEMPORAL_RANGE"] + [
        {"col": "date", "op": "TEMPORAL_RANGE", "val": "2013-03-01 : 2013-04-01"},
        {"col": "origin_airport", "op": "IN", "val": ["JFK"]}]
print(json.dumps(ctx))' >"$ROOT/filtered-$id.json"
    curl -sf -H 'Content-Type: application/json' -d @"$ROOT/filtered-$id.json" "http://127.0.0.1:$WEB/api/v1/chart/data" >"$ROOT/filtered-out-$id.json" \
        || fail "chart $id with the dashboard's filters: $(cat "$ROOT/filtered-out-$id.json")"
done
python3 - "$ROOT/filtered-out-$flights_id.json" "$ROOT/filtered-out-$delay_id.json" "$ROOT/filtered-out-$explained_id.json" \
    "$(sql -F'|' -c "SELECT sum(flights), (SELECT count(*) FROM airport_anomaly_explanations WHERE origin_airport = 'JFK' AND date >= '2013-03-01' AND date < '2013-04-01')
                     FROM airport_daily_summary WHERE origin_airport = 'JFK' AND date >= '2013-03-01' AND date < '2013-04-01'")" <<'PY' || fail "the dashboard's filters"
import json, sys
flights, delay, explained = (json.load(open(f))["result"][0]["data"] for f in sys.argv[1:4])
want_flights, want_flagged = (int(x) for x in sys.argv[4].split("|"))
assert int(sum(r["flights"] for r in flights)) == want_flights, "flights"
assert len(delay) == 31, len(delay)
assert len(explained) == want_flagged and all(r["origin_airport"] == "JFK" for r in explained), explained
PY
pass "the airport and date filters apply to all three charts"

if [ -n "$SHOT" ]; then
    command -v chromium >/dev/null || { apt-get install -y -qq chromium >/dev/null; }
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
        --disable-component-update --disable-sync --user-data-dir="$ROOT/chrome" \
        --virtual-time-budget=30000 --window-size=1400,1900 --screenshot="$SHOT" \
        "http://127.0.0.1:$WEB/superset/dashboard/airport-delay-anomalies/?standalone=1" >/dev/null 2>&1
    [ -s "$SHOT" ] || fail "no screenshot"
    pass "screenshot in $SHOT"
fi
echo "superset: all passed"
