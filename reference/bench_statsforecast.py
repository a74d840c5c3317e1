"""A second peer for BENCHMARKS.md: statsforecast's ARIMA (R's
forecast::Arima ported: a C++ filter under scipy's optimiser, CSS then ML)
fitting ARIMA(5,1,1) to the same 365-point series as the Rust benchmark and
statsmodels, with its in-sample 80 % band. A first call warms it up; the
median of 20 is reported. One thread. Prints one JSON object (scripts/bench.sh)."""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import pathlib  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import statsforecast  # noqa: E402
from statsforecast.models import ARIMA  # noqa: E402

warnings.simplefilter("ignore")
FIX = pathlib.Path(__file__).resolve().parent.parent / "crates/arima/tests/fixtures/fits.json"
ewr = np.array(json.loads(FIX.read_text())["series"]["nyc_ewr_2013"])


def fit_predict(y):
    model = ARIMA(order=(5, 1, 1)).fit(y)
    model.predict_in_sample(level=[80])
    return model


fit_predict(ewr)  # compile
times = []
for _ in range(20):
    t = time.perf_counter()
    model = fit_predict(ewr)
    times.append(time.perf_counter() - t)
print(
    json.dumps(
        {
            "statsforecast": statsforecast.__version__,
            "fit_predict_511_365_s": float(np.median(times)),
            "loglik": float(model.model_["loglik"]),
            "method": model.model_.get("method", "CSS-ML"),
        }
    )
)
