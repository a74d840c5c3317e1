#!/usr/bin/env bash
# The project's one test command (README.md, .ci/run). On a fresh Debian 12
# machine with Rust it installs what it needs (Postgres 15 headers and
# pg_cron, clang, cargo-pgrx), then runs every check and test: formatting,
# clippy, the core's tests against statsmodels, the extension's #[pg_test]s
# in a Postgres cluster it starts itself, the integration script, and the
# loader's tests against Postgres and an S3-compatible server (s3s-fs), the
# Superset dashboard imported into a real Superset, and cfn-lint on infra/.
# Runs as root (it installs packages); clusters run as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

step() { echo; echo "== $*"; }

bash scripts/setup.sh tests

step "fmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --release --features pg_test -- -D warnings

step "core and loader unit tests (release: the grid-search tests walk 72 orders forward)"
cargo test --release -p arima -p loader

step "extension #[pg_test]s (a throw-away cluster run as postgres)"
pgdata=$ROOT/target/pgrx-pgdata
rm -rf "$pgdata" && mkdir -p "$pgdata"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
cargo pgrx test pg15 --runas postgres --pgdata "$pgdata"

step "integration: cancel, statement_timeout, pg_cron (release build installed)"
cargo pgrx install --release --pg-config "$PG_CONFIG"
bash tests/integration.sh

step "loader against Postgres and s3s-fs"
cargo build --release -p loader
bash tests/loader.sh

step "Superset: the bundle imported into a real Superset, charts checked through its API"
bash tests/superset.sh

step "infra: CloudFormation templates pass cfn-lint"
[ -x target/venv-cfn/bin/cfn-lint ] || { python3 -m venv target/venv-cfn && target/venv-cfn/bin/pip install -q cfn-lint==1.58.0; }
target/venv-cfn/bin/cfn-lint infra/*.yaml

step "all tests passed"
