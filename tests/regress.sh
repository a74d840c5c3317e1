#!/usr/bin/env bash
# The pg_regress suite (tests/pg_regress, the layout `cargo pgrx regress`
# uses): the output and the error text of every function, against a
# throw-away cluster with the release build installed. With --auto, the
# results replace the expected files (review the diff before committing).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

DIR=$PWD/target/regress
PORT=${REGRESS_PORT:-25337}
test_cluster "$DIR" "$PORT"
export PGOPTIONS= # the expected output shows the functions' NOTICEs
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
sql -c "CREATE DATABASE airline_anomalies_regress"
tests=(setup functions explain errors bad_values)
rc=0
as_pg "$PGBIN/../lib/pgxs/src/test/regress/pg_regress" --use-existing --host=127.0.0.1 --port="$PORT" \
    --user=postgres --bindir="$PGBIN" --dbname=airline_anomalies_regress \
    --inputdir=tests/pg_regress --outputdir="$DIR" "${tests[@]}" || rc=$?
if [ "${1:-}" = --auto ]; then
    for t in "${tests[@]}"; do cp "$DIR/results/$t.out" "tests/pg_regress/expected/$t.out"; done
    echo "expected output replaced; review git diff tests/pg_regress"
elif [ $rc != 0 ]; then
    cat "$DIR/regression.diffs" >&2 || true
    fail "pg_regress: the output differs from tests/pg_regress/expected"
fi
echo "regress: all passed"
