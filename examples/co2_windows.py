#!/usr/bin/python3
"""Windows of the Mauna Loa weekly CO2 series for examples/co2_lstm.nn.

    python3 examples/co2_windows.py [--csv PATH] [--window 26] OUTDIR

Reads statsmodels' co2.csv (Debian's python3-statsmodels ships it in
statsmodels/datasets/co2/; scripts/setup.sh installs the package): weekly
means in ppm, 1958-03-29 to 2001-12-29, 2284 weeks, 59 of them missing
(empty). Writes OUTDIR/co2_train.csv and OUTDIR/co2_test.csv (a header
w-26, ..., w-1, next), one row per forecast: WINDOW inputs then the target,
and prints the persistence baseline.

* Gaps: a missing week is filled by linear interpolation between the
  nearest measured weeks before and after it, for use as an input only; a
  window whose target week was missing is left out, so every score is on a
  measured value.
* The forecast: the next week's value from the WINDOW weeks before it.
  Each row is made relative to the window's last value v: inputs x_i - v,
  target y - v (ppm). Predicting 0 is the persistence baseline ("the next
  week equals the last one"); a model's error on these rows is its error
  on the series itself.
* Split in time order: rows whose target lies in the first 80% of the
  series train, the rest (the last 20%, 1993-03 on) test.

Only the standard library: it runs where the package is installed.
"""
import argparse
import csv
import os
import sys

DEFAULT_CSV = "/usr/lib/python3/dist-packages/statsmodels/datasets/co2/co2.csv"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--csv", default=DEFAULT_CSV)
    ap.add_argument("--window", type=int, default=26)
    a = ap.parse_args()
    if not os.path.exists(a.csv):
        print(f"co2_windows: {a.csv} not found (install python3-statsmodels: scripts/setup.sh)", file=sys.stderr)
        return 77
    with open(a.csv, newline="") as f:
        rows = list(csv.reader(f))[1:]
    vals = [float(v) if v.strip() else None for _, v in rows]
    measured = [v is not None for v in vals]
    n = len(vals)
    filled = list(vals)
    for i in range(n):
        if filled[i] is None:
            lo = max(j for j in range(i) if measured[j])
            hi = min(j for j in range(i + 1, n) if measured[j])
            filled[i] = vals[lo] + (vals[hi] - vals[lo]) * (i - lo) / (hi - lo)
    split = int(n * 0.8)
    os.makedirs(a.outdir, exist_ok=True)
    out = {"train": [], "test": []}
    for t in range(a.window, n):
        if not measured[t]:
            continue
        last = filled[t - 1]
        row = [round(filled[k] - last, 4) for k in range(t - a.window, t)] + [round(vals[t] - last, 4)]
        out["train" if t < split else "test"].append(row)
    for part, data in out.items():
        with open(os.path.join(a.outdir, f"co2_{part}.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([f"w{k - a.window}" for k in range(a.window)] + ["next"])
            w.writerows(data)
    test = out["test"]
    mse = sum(r[-1] ** 2 for r in test) / len(test)
    mae = sum(abs(r[-1]) for r in test) / len(test)
    print(f"co2_windows: {n} weeks, {n - sum(measured)} missing (interpolated for inputs only); "
          f"{len(out['train'])} train and {len(test)} test windows of {a.window} weeks; "
          f"persistence on the test rows: mse {mse:.4f} mae {mae:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
