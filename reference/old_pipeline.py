"""The replaced system's whole job on one flight file, as its DAG ran it:
pandas reads the CSV, the daily mean departure delay and flight count per
airport, then per airport ARIMA(5,1,1).fit(), get_prediction(),
conf_int(0.2) and the band clipped at its 1st/99th percentiles. The peer of
`loader detect --input` in BENCHMARKS.md (scripts/bench_detect.sh). One BLAS
thread, as a worker had. Prints the seconds taken and the days flagged.

    .venv-ref/bin/python reference/old_pipeline.py FILE.csv.gz
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from statsmodels.tsa.arima.model import ARIMA  # noqa: E402

from arima_fixtures import clipped_anomalies  # noqa: E402


def main(path):
    start = time.perf_counter()
    flights = pd.read_csv(path)
    daily = (
        flights.dropna(subset=["DEP_DELAY"])
        .groupby(["ORIGIN", "FL_DATE"])["DEP_DELAY"]
        .agg(["mean", "count"])
        .reset_index()
    )
    flagged = 0
    warnings.simplefilter("ignore")
    for _, g in daily.groupby("ORIGIN"):
        y = g["mean"].to_numpy()
        if len(y) <= 2:
            continue
        forecast = ARIMA(y, order=(5, 1, 1)).fit().get_prediction()
        ci = np.asarray(forecast.conf_int(0.2))  # the old call: a 95 % band
        flagged += int(clipped_anomalies(y, ci[:, 0], ci[:, 1])[2].sum())
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": len(flights), "anomalies": flagged}))


if __name__ == "__main__":
    main(sys.argv[1])
