#!/usr/bin/env bash
# The project's one test command (README.md, .ci/run). On a fresh Debian 12
# machine with Rust it installs what it needs (Postgres 15 headers and
# pg_cron, clang, cargo-pgrx), then runs every check and test: formatting,
# clippy, the core's tests against statsmodels, the extension's #[pg_test]s
# in a Postgres cluster it starts itself, the pg_regress suite, the
# database-citizen, upgrade, README and pg_cron scripts, the loader's tests
# against Postgres and an S3-compatible server (s3s-fs), the Superset
# dashboard imported into a real Superset, and cfn-lint on infra/.
# Clusters run as the postgres user.
set -euo pipefail
# It installs packages, so it runs as root: as another user it starts
# itself again under sudo (a bare machine has no sudo, and needs none as root).
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "run as root (or install sudo)" >&2; exit 1; }
    exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

step() { echo; echo "== $*"; }

bash scripts/setup.sh tests

step "fmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --release --features pg_test -- -D warnings

step "core, summary and loader unit tests (release: the grid-search tests walk 72 orders forward)"
cargo test --release -p arima -p summary -p loader

step "extension #[pg_test]s (a throw-away cluster run as postgres)"
pgdata=$ROOT/target/pgrx-pgdata
rm -rf "$pgdata" && mkdir -p "$pgdata"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
cargo pgrx test pg15 --runas postgres --pgdata "$pgdata"

step "the release build installed, and the loader"
cargo pgrx install --release --pg-config "$PG_CONFIG"
cargo build --release -p loader

step "pg_regress: every function's output and error text (tests/pg_regress)"
bash tests/regress.sh

step "the database's citizen: idempotence, pg_dump, roles, hostile search_path, cancel, DROP EXTENSION"
bash tests/database.sh

step "hostile roles: look-alikes planted by a writer and a reader never run, whoever calls us"
bash tests/hostile.sh

step "upgrade: 0.1.0, 0.2.0 and 0.3.0 -> 0.4.0 keep every row and equal a fresh install"
bash tests/upgrade.sh

step "README.md's SQL examples run and show their real output"
bash tests/readme.sh

step "pg_cron: the README's recipe runs refresh_pending() as a writer"
bash tests/integration.sh

step "backups: a pgBackRest full backup and the WAL archive restored into a new cluster"
bash tests/backup.sh

step "loader against Postgres and s3s-fs"
bash tests/loader.sh

step "loads at once: two runs over the same years in opposite order, many times; a file of 25 years on two connections"
bash tests/concurrent_loads.sh

step "readers under load: 16 pgbench readers while a year is loaded and refreshed, each seeing it wholly before or after"
bash tests/readers.sh

step "hostile input: a few-MB gzip of the costliest rejects keeps the loader under 100 MB resident"
bash tests/hostile_input.sh

step "loader TLS: every sslmode against a TLS-only cluster and a throw-away CA"
bash tests/tls.sh

step "deployment: the db image's init scripts with TLS, verify-full clients, the host's boot script across a reboot, no password in any argument"
bash tests/deploy.sh

step "PostgreSQL 17 (a trixie root): #[pg_test]s, pg_regress, the database's citizen, the init script under pg_cron, the loader"
bash tests/pg17.sh

step "Superset: the bundle imported into a real Superset (its metadata in Postgres), charts checked through its API"
bash tests/superset.sh

step "lints: cfn-lint and checkov (infra, Dockerfile, workflows), actionlint, shellcheck"
bash scripts/lint.sh

step "all tests passed"
