#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian 12 machine
# with Rust, skipping what is already there: PostgreSQL 15 (server, headers,
# pg_cron), clang, cargo-pgrx (initialised for the system's Postgres 15) and
# with `setup.sh tests`, s3s-fs. Shared by scripts/test.sh and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PGRX_VERSION=0.18.0

step() { echo; echo "== $*"; }

step "system packages"
packages=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron libclang-dev clang sudo python3 python3-venv bc time openssl pgbackrest shellcheck git)
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

if [ "${1:-}" = tests ]; then
    step "s3s-fs (the S3-compatible test server; checks signatures)"
    command -v s3s-fs >/dev/null || cargo install s3s-fs@0.14.1 --locked --features binary
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
