#!/usr/bin/env bash
# Fuzzes, each target for SECONDS (default 60):
#   the loader's CSV reading (loader/fuzz): the record reader (`records`),
#   header mapping (`header`) and field parsing (`fields`);
#   what the SQL functions hand the ARIMA core (crates/arima/fuzz):
#   arima_fit and arima_detect on short series (`fit_detect`), and
#   arima_forecast on any jsonb (`forecast_model`), and a stored model row
#   as arima_next_day and the online flags use it (`stored_model`).
# Each runs from the committed seeds in <dir>/corpus/<target>/ (never
# written: what a run finds goes to <dir>/target/corpus/<target>/, kept
# between runs). A crash or a run over 10 s stops the script, its input
# saved under <dir>/artifacts/<target>/; once fixed, keep it as a unit test
# (loader, or crates/arima/tests/fuzzed.rs) and in the corpus. Not part of
# scripts/test.sh.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default: every target)
#
# cargo fuzz needs nightly-only flags (-Z, the coverage instrumentation);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. The code is safe
# Rust, so no sanitizer (-s none: six times the runs of AddressSanitizer),
# but debug assertions and overflow checks on (-a).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=${1:-60}
shift || true
declare -A dir_of=(
    [records]=loader/fuzz [header]=loader/fuzz [fields]=loader/fuzz
    [fit_detect]=crates/arima/fuzz [forecast_model]=crates/arima/fuzz [stored_model]=crates/arima/fuzz
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(records header fields fit_detect forecast_model stored_model)
for target in "${targets[@]}"; do
    [ -n "${dir_of[$target]:-}" ] || { echo "unknown target $target (one of: ${!dir_of[*]})" >&2; exit 2; }
done
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
declare -A built=()
for target in "${targets[@]}"; do
    dir=${dir_of[$target]}
    cd "$root/$dir"
    if [ -z "${built[$dir]:-}" ]; then
        cargo fuzz build -O -a -s none
        built[$dir]=1
    fi
    mkdir -p "target/corpus/$target"
    log=target/fuzz-$target.log
    echo "fuzzing $target for ${seconds}s (log: $dir/$log)"
    # Inputs up to 4 KiB: the loader's fuzz build has record limits of 512
    # bytes and 40 fields; the ARIMA targets read at most 200 values.
    rc=0
    cargo fuzz run -O -a -s none "$target" "target/corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/  /' || true
    if [ "$rc" != 0 ]; then
        grep -E 'panicked|SUMMARY|Test unit written|ERROR' "$log" | head -5 >&2 || true
        echo "FAIL: $target crashed (exit $rc; input in $dir/artifacts/$target/)" >&2
        exit 1
    fi
    echo "ok: $target, ${seconds}s without a crash"
done
