#!/usr/bin/env bash
# The project's one test command (README.md, .ci/run). On a fresh Debian 12
# machine with Rust it installs what it needs (Postgres 15 headers and
# pg_cron, clang, cargo-pgrx), then runs every check and test: formatting,
# clippy, the core's tests against statsmodels, the extension's #[pg_test]s
# in a Postgres cluster it starts itself, the integration script, and the
# loader's tests against Postgres and an S3-compatible server (s3s-fs).
# Runs as root (it installs packages); clusters run as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PGRX_VERSION=0.18.0

step() { echo; echo "== $*"; }

step "system packages"
packages=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron libclang-dev clang sudo python3 python3-venv bc)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "missing packages ${missing[*]}: run as root" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

step "cargo-pgrx $PGRX_VERSION"
command -v cargo >/dev/null || { echo "cargo not found: install Rust 1.85+ first" >&2; exit 1; }
if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION"; then
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi
grep -qs "pg15 = \"$PG_CONFIG\"" ~/.pgrx/config.toml || cargo pgrx init --pg15 "$PG_CONFIG"

step "s3s-fs (the S3-compatible test server; checks signatures)"
command -v s3s-fs >/dev/null || cargo install s3s-fs@0.14.1 --locked --features binary
rustup component add rustfmt clippy >/dev/null 2>&1 || true

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

step "infra: CloudFormation templates pass cfn-lint"
[ -x target/venv-cfn/bin/cfn-lint ] || { python3 -m venv target/venv-cfn && target/venv-cfn/bin/pip install -q cfn-lint==1.58.0; }
target/venv-cfn/bin/cfn-lint infra/*.yaml

step "all tests passed"
