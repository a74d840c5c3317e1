#!/usr/bin/env bash
# Benchmarks the ARIMA core beside statsmodels in one run and rewrites
# BENCHMARKS.md. Needs the reference venv (created here if missing).
# Usage: scripts/bench.sh            (about 15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-ref
[ -x $venv/bin/python ] || python3 -m venv $venv
$venv/bin/python -c "import statsmodels, statsforecast" 2>/dev/null || $venv/bin/pip install -q -r reference/requirements-bench.txt
out=target/bench && mkdir -p $out

echo "== criterion (Rust core)"
cargo bench -p arima --bench arima -- --noplot 2>&1 | grep -E "time:|^[a-z]" || true

echo "== full grid search, Rust, one core and all cores"
cargo build --release -q -p arima --example grid_timing
series() { $venv/bin/python -c "import json,sys; s=json.load(open('crates/arima/tests/fixtures/fits.json'))['series']['nyc_ewr_2013']; print('\n'.join(map(repr, s[:int(sys.argv[1])])))" "$1"; }
series 365 > $out/ewr365.txt
series 59 > $out/ewr59.txt
RAYON_NUM_THREADS=1 target/release/examples/grid_timing < $out/ewr365.txt > $out/grid365_1.json
target/release/examples/grid_timing < $out/ewr365.txt > $out/grid365_all.json
RAYON_NUM_THREADS=1 target/release/examples/grid_timing < $out/ewr59.txt > $out/grid59_1.json

echo "== statsmodels peer (one thread)"
$venv/bin/python reference/bench_statsmodels.py > $out/statsmodels.json
cat $out/statsmodels.json

echo "== statsforecast peer (one thread)"
$venv/bin/python reference/bench_statsforecast.py > $out/statsforecast.json
cat $out/statsforecast.json

$venv/bin/python scripts/write_benchmarks.py
echo "BENCHMARKS.md written"
