#!/usr/bin/env bash
# The extension on PostgreSQL 17 as well as 15: inside the trixie root
# (scripts/trixie.sh; this Debian 12 host has only 15), the #[pg_test]s,
# the release build installed, then the pg_regress suite, the database's
# citizen tests (cancel, roles, pg_dump), the db image's init script under
# pg_cron, and the loader's tests, all against a PostgreSQL 17 server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/trixie.sh setup
# shellcheck disable=SC2016 # expanded inside the root, where PGRX_HOME is set
bash scripts/trixie.sh run bash -c '
    set -euo pipefail
    PG_CONFIG=/usr/lib/postgresql/17/bin/pg_config
    grep -qs "pg17 = \"$PG_CONFIG\"" "$PGRX_HOME/config.toml" || cargo pgrx init --pg17 "$PG_CONFIG" >/dev/null
    pgdata=$PWD/target/pg17-pgdata
    rm -rf "$pgdata" && mkdir -p "$pgdata" && chown postgres "$pgdata"
    echo "== PostgreSQL 17: #[pg_test]s"
    env -u RUST_BACKTRACE cargo pgrx test pg17 --no-default-features --runas postgres --pgdata "$pgdata"
    echo "== PostgreSQL 17: the release build installed"
    cargo pgrx install --release --no-default-features --features pg17 --pg-config "$PG_CONFIG" >/dev/null
    # Ports of their own, so this can run beside the PostgreSQL 15 tests.
    export REGRESS_PORT=25537 DB_TEST_PORT=25535 IT_PORT=25529 LOADER_PG_PORT=25533 LOADER_S3_PORT=25534
    for t in regress database integration loader; do
        echo "== PostgreSQL 17: tests/$t.sh"
        bash "tests/$t.sh"
    done
'
echo "pg17: all passed"
