#!/usr/bin/env bash
# The project's one test command (README.md, .ci/run). Installs what it
# needs on a fresh Debian 12 machine, then runs every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."


# Rust toolchain: the machine's; formatting and lint components.
command -v cargo >/dev/null || { echo "cargo not found: install Rust 1.85+ first" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --release -- -D warnings
echo "== tests (release: the grid-search tests walk 72 orders forward)"
cargo test --workspace --release
echo "== all tests passed"
