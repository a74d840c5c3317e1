"""The peer for BENCHMARKS.md: statsmodels timed on the series the Rust
benchmarks use, in the same run (scripts/bench.sh). BLAS and OpenMP are
pinned to one thread before numpy loads, so the peer uses one core, as
our single-core figures do. Prints one JSON object."""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from statsmodels.tsa.arima.model import ARIMA  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from arima_fixtures import GRID_D, GRID_P, GRID_Q, walk_forward_mse  # noqa: E402

warnings.simplefilter("ignore")
FIX = pathlib.Path(__file__).resolve().parent.parent / "crates/arima/tests/fixtures/fits.json"
ewr = np.array(json.loads(FIX.read_text())["series"]["nyc_ewr_2013"])


def fit_predict(y):
    res = ARIMA(y, order=(5, 1, 1)).fit()
    return res.get_prediction().conf_int(alpha=0.2)


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def grid_seconds(y):
    t = time.perf_counter()
    for p in GRID_P:
        for d in GRID_D:
            for q in GRID_Q:
                try:
                    walk_forward_mse(y, (p, d, q))
                except Exception:
                    pass
    return time.perf_counter() - t


out = {
    "fit_predict_511_365_s": timed(lambda: fit_predict(ewr), 15),
    "walk_forward_511_365_s": timed(lambda: walk_forward_mse(ewr, (5, 1, 1)), 1),
    "grid_59_s": grid_seconds(ewr[:59]),
}
print(json.dumps(out))
