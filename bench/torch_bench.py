"""torch_bench.py - the PyTorch side of bench/run.sh.

    /usr/bin/python3 bench/torch_bench.py MODEL ROWS THREADS [DIGITS.csv]

The same network, loss, optimizer (hyperparameters included), batch size
and data rule as the seqc model bench/models/bench_MODEL.nn and
seqc_bench.c. Times one warm-up pass of 20 steps, then one epoch of ROWS
rows (samples/s), then inference at batch 1, 8, 64 and 256: eager (model.eval(),
torch.no_grad()) and TorchScript (torch.jit.freeze of a traced eval model).
Prints key=value lines like seqc_bench; rss_kb is the peak resident set.
"""
import resource
import sys
import time

import torch
from torch import nn


class Recurrent(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.out = nn.Linear(64, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


def build(name):
    if name == "a":
        # Keras BatchNormalization momentum 0.99 == PyTorch momentum 0.01
        m = nn.Sequential(nn.Linear(10, 64), nn.BatchNorm1d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
                          nn.Dropout(0.5), nn.Linear(64, 1), nn.Sigmoid())
        # seqc computes BCE from the logits: BCEWithLogits on the pre-sigmoid output
        return m, nn.BCEWithLogitsLoss(), torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9), 256, 10, True
    if name == "b":
        m = nn.Sequential(nn.Linear(11, 1024), nn.ReLU(), nn.Dropout(0.3), nn.Linear(1024, 512), nn.ReLU(),
                          nn.Dropout(0.3), nn.Linear(512, 1024), nn.BatchNorm1d(1024, eps=1e-3, momentum=0.01),
                          nn.ReLU(), nn.Dropout(0.3), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 1))
        return m, nn.L1Loss(), torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7), 256, 11, False
    if name == "d":
        # the Keras CNN on 28x28x1 (channels first here; one channel, so the
        # same memory as seqc's channels-last input), logits out
        m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
        return m, nn.CrossEntropyLoss(), torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7), 64, 784, False
    if name in ("e", "f"):
        # LSTM(64) / GRU(64) over 50 steps of 8, the last state into Dense(1)
        m = Recurrent(nn.LSTM(8, 64, batch_first=True) if name == "e" else nn.GRU(8, 64, batch_first=True))
        return m, nn.MSELoss(), torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7), 32, 400, False
    m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
                      nn.Softmax(dim=1))
    return m, nn.CrossEntropyLoss(), torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7), 64, 64, True


def data(name, rows, n_in, digits):
    g = torch.Generator().manual_seed(42)
    if digits:
        import csv
        with open(digits) as f:
            r = list(csv.reader(f))[1:]
        x = torch.tensor([[float(v) for v in row[:-1]] for row in r])
        t = torch.tensor([int(float(row[-1])) for row in r])
        reps = (rows + len(r) - 1) // len(r)
        return x.repeat(reps, 1)[:rows].contiguous(), t.repeat(reps)[:rows].contiguous()
    x = torch.randn(rows, n_in, generator=g)
    w = torch.tensor([1.0 if j % 2 == 0 else -0.5 for j in range(n_in)])
    s = (x * w).sum(1, keepdim=True)
    if name == "d":   # seqc_bench's rule for a sparse loss: floor(|s|) mod 10
        return x.reshape(rows, 1, 28, 28), (s.abs().floor() % 10).long().reshape(rows)
    if name in ("e", "f"):
        return x.reshape(rows, 50, 8), s
    return x, ((s > 0).float() if name == "a" else s)


def latency(f, x):
    with torch.no_grad():
        iters = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(iters):
                f(x)
            if time.perf_counter() - t0 > 0.02 or iters > 1 << 20:
                break
            iters *= 2
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(iters):
                f(x)
            ts.append((time.perf_counter() - t0) / iters)
    return sorted(ts)[3]


def main():
    name, rows, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    digits = sys.argv[4] if len(sys.argv) > 4 else None
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model, loss_fn, opt, batch, n_in, strip_last = build(name)
    x, t = data(name, rows, n_in, digits)
    # the loss is computed from the logits (as seqc does): train on the
    # network without its final Sigmoid/Softmax
    train_net = model[:-1] if strip_last else model
    model.train()

    def step(xb, tb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(train_net(xb), tb)
        loss.backward()
        opt.step()

    for s in range(20):
        i = s * batch % (rows - batch)
        step(x[i:i + batch], t[i:i + batch])
    t0 = time.perf_counter()
    steps = 0
    for i in range(0, rows, batch):
        step(x[i:i + batch], t[i:i + batch])
        steps += 1
    train_s = time.perf_counter() - t0
    model.eval()
    xs = {b: x[:b].contiguous() for b in (1, 8, 64, 256)}
    out = {"train_sps": rows / train_s, "step_ms": 1e3 * train_s / steps, "steps": steps}
    for b, xb in xs.items():
        out[f"eager_b{b}_us"] = 1e6 * latency(model, xb)
    with torch.no_grad():
        ts = torch.jit.freeze(torch.jit.trace(model, xs[256]))
        for _ in range(3):   # let the profiling executor specialize
            for xb in xs.values():
                ts(xb)
    for b, xb in xs.items():
        out[f"ts_b{b}_us"] = 1e6 * latency(ts, xb)
    out["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for k, v in out.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
