"""report.py - the table of bench/run.sh from its result files.

    report.py RESULTS_DIR ROUNDS ALL_THREADS CORETYPE_NOTE [MODELS]

MODELS: the models run, as bench/run.sh's MODELS ("a b c d e f" by default).

Medians over rounds; every ratio is the median of the per-round ratios of
two numbers measured in the same round, same machine, same thread count.
"""
import os
import statistics
import sys

out, rounds, allt, note = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
models = "".join(sys.argv[5].split()) if len(sys.argv) > 5 else "abcdef"


def read(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                try:
                    d[k] = float(v)
                except ValueError:
                    pass
    return d


def runs(t, m, kind):
    return [read(f"{out}/r{r}_t{t}_{m}.{kind}") for r in range(1, rounds + 1)]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def ratio(t, m, ka, a, kb, b):
    """median over rounds of runs[ka][a] / runs[kb][b]"""
    A, B = runs(t, m, ka), runs(t, m, kb)
    return med([x.get(a) / y.get(b) for x, y in zip(A, B) if x.get(a) and y.get(b)])


def val(t, m, k, key):
    return med([x.get(key) for x in runs(t, m, k)])


names = {"a": "(a) 10-64(BN,ReLU,Drop)-1 BCE SGDm b256",
         "b": "(b) 11-1024-512-1024(BN)-1024-1 MAE Adam b256",
         "c": "(c) digits 64-128-64-10 softmax Adam b64",
         "d": "(d) CNN 28x28x1 conv32-pool-conv64-pool-128-10 Adam b64",
         "e": "(e) LSTM(64) T=50 F=8 -> Dense(1) MSE Adam b32",
         "f": "(f) GRU(64) T=50 F=8 -> Dense(1) MSE Adam b32"}
print(f"seqc benchmark: {rounds} rounds, medians; {note} (as-is) vs unset; threads 1 and {allt}")
for t in ["1", allt]:
    print(f"\n### threads = {t}\n")
    print("Training throughput (samples/s):\n")
    print("| model | seqc | seqc CORETYPE unset | PyTorch | seqc / PyTorch | unset / PyTorch |"
          " seqc step ms | sgemm floor ms | step / floor | step / floor (gemv dispatch) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in models:
        print(f"| {names[m]} | {val(t, m, 'seqc', 'train_sps'):,.0f} | {val(t, m, 'seqc_unset', 'train_sps'):,.0f} |"
              f" {val(t, m, 'torch', 'train_sps'):,.0f} | {ratio(t, m, 'seqc', 'train_sps', 'torch', 'train_sps'):.2f}x |"
              f" {ratio(t, m, 'seqc_unset', 'train_sps', 'torch', 'train_sps'):.2f}x |"
              f" {val(t, m, 'seqc', 'step_ms'):.4f} | {val(t, m, 'floor', 'sgemm_step_ms'):.4f} |"
              f" {ratio(t, m, 'seqc', 'step_ms', 'floor', 'sgemm_step_ms'):.2f}x |"
              f" {ratio(t, m, 'seqc', 'step_ms', 'floor', 'best_step_ms'):.2f}x |")
    fann = [read(f"{out}/r{r}_t{t}_fann") for r in range(1, rounds + 1)]
    if any(fann):
        inc = med([f.get("fann_incremental_sps") for f in fann])
        rp = med([f.get("fann_rprop_sps") for f in fann])
        seqa = runs(t, "a", "seqc")
        print(f"\nFANN 10-64-1 sigmoid, 200,000 rows: incremental {inc:,.0f} samples/s "
              f"(epoch {med([f.get('fann_incremental_epoch_s') for f in fann]):.3f} s), "
              f"RPROP {rp:,.0f} samples/s (epoch {med([f.get('fann_rprop_epoch_s') for f in fann]):.3f} s); "
              f"seqc (a) / FANN incremental = "
              f"{med([s.get('train_sps') / f.get('fann_incremental_sps') for s, f in zip(seqa, fann) if f]):.1f}x, "
              f"peak RSS {med([f.get('fann_rss_kb') for f in fann]) / 1024:.1f} MiB")
    print("\nInference latency (us per call; speedup = PyTorch eager / x):\n")
    print("| model | batch | PyTorch eager | TorchScript frozen | seqc runtime | seqc baked |"
          " eager / runtime | eager / baked | TorchScript / baked |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in models:
        for b in ("1", "256"):
            print(f"| {m} | {b} | {val(t, m, 'torch', f'eager_b{b}_us'):.2f} | {val(t, m, 'torch', f'ts_b{b}_us'):.2f} |"
                  f" {val(t, m, 'seqc', f'b{b}_us'):.2f} | {val(t, m, 'baked', f'baked_b{b}_us'):.2f} |"
                  f" {ratio(t, m, 'torch', f'eager_b{b}_us', 'seqc', f'b{b}_us'):.1f}x |"
                  f" {ratio(t, m, 'torch', f'eager_b{b}_us', 'baked', f'baked_b{b}_us'):.1f}x |"
                  f" {ratio(t, m, 'torch', f'ts_b{b}_us', 'baked', f'baked_b{b}_us'):.1f}x |")
    print("\nPeak RSS (MiB): " + "; ".join(
        f"{m}: seqc {val(t, m, 'seqc', 'rss_kb') / 1024:.1f}, baked {val(t, m, 'baked', 'baked_rss_kb') / 1024:.1f},"
        f" PyTorch {val(t, m, 'torch', 'rss_kb') / 1024:.1f}" for m in models))
for f, label in (("gemv_check", "as-is"), ("gemv_check_unset", "CORETYPE unset")):
    p = f"{out}/{f}"
    if os.path.exists(p):
        print(f"\nBatch-1 forward, sgemm (M=1) vs sgemv, 1 thread, {label}:")
        for line in open(p):
            print("  " + line.strip())
