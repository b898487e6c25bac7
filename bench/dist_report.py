"""dist_report.py - the table of bench/dist_run.sh from its result files.

    dist_report.py RESULTS_DIR ROUNDS

Medians over rounds; a speedup is the median of the per-round ratios of
two throughputs measured in the same round (the machine is shared). "best"
is the highest throughput of any round, and its speedup the ratio of the
bests: what the configuration does when the shared machine leaves it alone.
"""
import os
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])
configs = [("1p1t", "1 process, 1 thread", 1),
           ("1p2t", "1 process, 2 threads", 1),
           ("2r", "2 ranks x 1 thread, batch B each", 2),
           ("2r_half", "2 ranks x 1 thread, batch B/2 each", 2),
           ("2r_def", "2 ranks, OpenBLAS threads unset", 2),
           ("pair", "2 independent processes (the ceiling)", 2)]
names = {"a": "(a) 10-64(BN,ReLU,Drop)-1, B=256",
         "b": "(b) 11-1024-512-1024(BN)-1024-1, B=256",
         "c": "(c) digits 64-128-64-10, B=64"}


def read(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                d[k] = float(v)
    return d


def runs(m, c):
    if c == "pair":   # two processes at once: summed throughput
        rs = []
        for r in range(1, rounds + 1):
            a, b = read(f"{out}/r{r}_{m}.pair0"), read(f"{out}/r{r}_{m}.pair1")
            d = dict(a)
            if a.get("train_sps") and b.get("train_sps"):
                d["train_sps"] = a["train_sps"] + b["train_sps"]
            rs.append(d)
        return rs
    return [read(f"{out}/r{r}_{m}.{c}") for r in range(1, rounds + 1)]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


for f in ("load_start", "load_end"):
    p = os.path.join(out, f)
    if os.path.exists(p):
        print(f"{f}: {open(p).read().strip()}")
print(f"{rounds} rounds, medians\n")
print("| model | configuration | global batch | samples/s | speedup vs 1 process 1 thread | efficiency | best samples/s | best speedup | step ms (fit) | compute ms (per rank) | data-parallel step ms | grad all-reduce ms | BatchNorm all-reduce ms |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for m in "abc":
    base = runs(m, "1p1t")
    for c, label, ranks in configs:
        rs = runs(m, c)
        sps = med([x.get("train_sps") for x in rs])
        sp = med([x["train_sps"] / y["train_sps"] for x, y in zip(rs, base)
                  if x.get("train_sps") and y.get("train_sps")])
        gb = med([x.get("global_batch") for x in rs])
        step = med([x.get("step_ms") for x in rs])
        comp = med([x.get("compute_ms") for x in rs])
        ar = med([x.get("allreduce_ms") for x in rs])
        bn = med([x.get("bn_allreduce_ms") for x in rs])
        ds = med([x.get("dist_step_ms") for x in rs])
        comm = f"{ds:.4f} | {ar:.4f} | {bn:.4f}" if c.startswith("2r") else "- | - | -"
        best = max([x.get("train_sps", 0) for x in rs] or [0])
        best1 = max([x.get("train_sps", 0) for x in base] or [0])
        bsp = best / best1 if best1 else float("nan")
        print(f"| {names[m]} | {label} | {gb:.0f} | {sps:,.0f} | {sp:.2f}x | "
              f"{sp / ranks:.0%} | {best:,.0f} | {bsp:.2f}x | {step:.4f} | {comp:.4f} | {comm} |")
grad = {m: med([x.get("grad_bytes") for x in runs(m, "2r")]) for m in "abc"}
print("\ngradient block bytes: " + ", ".join(f"({m}) {grad[m]:,.0f}" for m in "abc"))
