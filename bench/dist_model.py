"""dist_model.py - the cost model of a data-parallel step (docs/distributed.md),
fitted to bench/dist_run.sh's measurements, and its projection to a cluster.

    dist_model.py RESULTS_DIR ROUNDS

Step time of one rank, weak scaling (B rows per rank, global batch N x B):

    T(N) = Tc + Tbn(N) + Tar(N)
    Tar(N) = 2 (N - 1) alpha + 2 (N - 1) / N x S / beta       ring all-reduce of
                                                           the S-byte gradient block
    Tbn(N) = k x ceil(log2 N) x (alpha + s / beta)         k BatchNorm all-reduces of
                                                           s = 4104 bytes per step
                                                           (recursive doubling)
    efficiency E(N) = Tc / T(N)

Tc is the compute of one step on one rank (forward + backward + update, no
communication), measured. alpha and beta are fitted here to the two ranks of
this machine (shared memory): alpha from the BatchNorm-sized all-reduce, beta
from the gradient all-reduce of model (b) (8.5 MB), medians of the 2-rank
runs. The model is checked against the measured data-parallel step of each
model (same runs), then projected with the alpha and beta of two networks
(assumed, typical: MPI over TCP on 10 Gb/s Ethernet, and RDMA on 100 Gb/s
InfiniBand/RoCE) and Tc = the fastest one-process compute of model (b)
measured (the machine is shared; the fastest round is the least disturbed).
Columns of the projection: weak scaling as above; "bf16 grads" halves S;
"overlap" hides the all-reduce behind backward (bucketed, as PyTorch DDP):
T = Tc + Tbn + max(0, Tar - 0.6 Tc), backward being about 0.6 of a step;
"strong" keeps the global batch at 256 rows (Tc / N per rank, optimistic:
small GEMMs are slower per row).
"""
import math
import os
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])


def read(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                d[k] = float(v)
    return d


def values(m, c, key):
    xs = [read(f"{out}/r{r}_{m}.{c}").get(key) for r in range(1, rounds + 1)]
    return [x for x in xs if x is not None]


def med(m, c, key):
    xs = values(m, c, key)
    return statistics.median(xs) if xs else float("nan")


# BatchNorm all-reduces per step: forward and backward, one per block of
# 256 channels: (a) one BN of 64 channels, (b) one of 1024, (c) none.
bn_calls = {"a": 2, "b": 8, "c": 0}
s_bn = 8 * (1 + 2 * 256)
S = {m: med(m, "2r", "grad_bytes") for m in "abc"}

# fit on this machine (ms -> s)
t_small = med("b", "2r", "bn_allreduce_ms") / 1e3
t_big = med("b", "2r", "allreduce_ms") / 1e3
beta = S["b"] / t_big                  # N = 2: Tar = 2 alpha + S / beta
alpha = max(t_small - s_bn / beta, t_small / 4) / 2
print(f"fitted on this machine (2 ranks, shared memory): alpha = {alpha * 1e6:.2f} us, "
      f"beta = {beta / 1e9:.2f} GB/s")


def step(tc, n, a, b, s, k):
    tar = 2 * (n - 1) * a + 2 * (n - 1) / n * s / b
    tbn = k * math.ceil(math.log2(n)) * (a + s_bn / b) if n > 1 else 0
    return tc + tbn + tar, tar, tbn


print("\nthe model on 2 ranks of this machine against the measured data-parallel step (ms):\n")
print("| model | compute Tc (2 ranks running) | + BatchNorm | + gradient all-reduce | model | measured step | model / measured |")
print("|---|---|---|---|---|---|---|")
for m in "abc":
    tc = med(m, "2r", "compute_ms") / 1e3
    t, tar, tbn = step(tc, 2, alpha, beta, S[m], bn_calls[m])
    meas = med(m, "2r", "dist_step_ms") / 1e3
    print(f"| ({m}) | {tc * 1e3:.4f} | {tbn * 1e3:.4f} | {tar * 1e3:.4f} | {t * 1e3:.4f} | "
          f"{meas * 1e3:.4f} | {t / meas:.2f} |")

nets = [("10 Gb/s Ethernet, TCP", 25e-6, 1.1e9), ("100 Gb/s InfiniBand/RoCE, RDMA", 2e-6, 11e9)]
tc = min(values("b", "1p1t", "compute_ms")) / 1e3
Sb, kb = S["b"], bn_calls["b"]
print(f"\nprojection for model (b): S = {Sb / 1e6:.2f} MB of gradients, Tc = {tc * 1e3:.1f} ms "
      f"per step of 256 rows per rank (one core of this machine, fastest round)\n")
print("| network | alpha | beta | N | all-reduce ms | BatchNorm ms | step ms | efficiency | bf16 grads | overlap | overlap + bf16 | strong (global 256) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, a, b in nets:
    for n in (8, 64, 512):
        t, tar, tbn = step(tc, n, a, b, Sb, kb)
        t16, tar16, _ = step(tc, n, a, b, Sb / 2, kb)
        ov = tc + tbn + max(0.0, tar - 0.6 * tc)
        ov16 = tc + tbn + max(0.0, tar16 - 0.6 * tc)
        ts, _, _ = step(tc / n, n, a, b, Sb, kb)
        print(f"| {name} | {a * 1e6:.0f} us | {b / 1e9:.1f} GB/s | {n} | {tar * 1e3:.2f} | "
              f"{tbn * 1e3:.2f} | {t * 1e3:.1f} | {tc / t:.0%} | {tc / t16:.0%} | {tc / ov:.0%} | "
              f"{tc / ov16:.0%} | {tc / n / ts:.0%} |")
print()
for name, a, b in nets:   # where weak scaling drops below 50%
    n = 2
    while n < 1 << 24 and tc / step(tc, n, a, b, Sb, kb)[0] >= 0.5:
        n *= 2
    print(f"{name}: weak-scaling efficiency below 50% from N = {n} (powers of 2)")
