#!/usr/bin/env bash
# README.md's SQL examples are true: each ```sql block runs against the
# bundled sample (loaded and refreshed as the README says) in a cluster with
# pg_cron, and shows exactly the output it gives (tests/readme.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

test_cluster "$PWD/target/readme-test" "${README_TEST_PORT:-25338}" -c shared_preload_libraries=pg_cron \
    -c cron.database_name=airline -c cron.use_background_workers=on -c max_worker_processes=16
export PGDATABASE=airline PGOPTIONS=

sql -d postgres -c "CREATE DATABASE airline"
sql -c "CREATE EXTENSION airline_anomalies"
target/release/loader load data/sample/nycflights13-2013.csv.gz >/dev/null 2>&1
python3 tests/readme.py "$@"
