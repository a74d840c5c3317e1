#!/usr/bin/env bash
# Fuzzes the loader's CSV reading (loader/fuzz): the record reader
# (`records`), header mapping (`header`) and field parsing (`fields`), each
# for SECONDS (default 60), from the committed seeds in
# loader/fuzz/corpus/<target>/ (never written: what a run finds goes to
# loader/fuzz/target/corpus/<target>/, kept between runs). A crash stops the
# script, its input saved under loader/fuzz/artifacts/<target>/; keep it as a
# unit test in the loader once fixed. Not part of scripts/test.sh.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# cargo fuzz needs nightly-only flags (-Z, the coverage instrumentation);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. The code is safe
# Rust, so no sanitizer (-s none: six times the runs of AddressSanitizer),
# but debug assertions and overflow checks on (-a).
set -euo pipefail
cd "$(dirname "$0")/../loader/fuzz"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(records header fields)
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -O -a -s none
for target in "${targets[@]}"; do
    mkdir -p "target/corpus/$target"
    log=target/fuzz-$target.log
    echo "fuzzing $target for ${seconds}s (log: loader/fuzz/$log)"
    # Inputs up to 4 KiB: the fuzz build's record limits are 512 bytes and 40 fields.
    rc=0
    cargo fuzz run -O -a -s none "$target" "target/corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1 || rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/  /' || true
    if [ "$rc" != 0 ]; then
        grep -E 'panicked|SUMMARY|Test unit written|ERROR' "$log" | head -5 >&2 || true
        echo "FAIL: $target crashed (exit $rc; input in loader/fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    echo "ok: $target, ${seconds}s without a crash"
done
