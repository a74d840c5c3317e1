"""Peer of refresh_year for BENCHMARKS.md: the old pipeline's modelling
step (statsmodels ARIMA(5,1,1), get_prediction, conf_int(0.2)) on every
airport's daily series from a CSV of origin,date,mean,count. One BLAS
thread. Prints the seconds taken."""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import pandas as pd  # noqa: E402
from statsmodels.tsa.arima.model import ARIMA  # noqa: E402

warnings.simplefilter("ignore")
daily = pd.read_csv(sys.argv[1], names=["origin", "date", "mean", "flights"])
start = time.perf_counter()
for _, g in daily.groupby("origin"):
    if len(g) > 2:
        res = ARIMA(g["mean"].to_numpy(), order=(5, 1, 1)).fit()
        res.get_prediction().conf_int(alpha=0.2)
print(f"{time.perf_counter() - start:.2f}")
