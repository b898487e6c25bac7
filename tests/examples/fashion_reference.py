#!/usr/bin/python3
"""PyTorch reference runs for the Fashion-MNIST examples of seqc.

    /usr/bin/python3 tests/examples/fashion_reference.py cnn|mlp
        [--data DIR] [--train-rows N] [--test-rows N] [--epochs E]
        [--batch-size B] [--seed S] [--runs K] [--threads T]

The networks of examples/fashion_mnist_cnn.nn and fashion_mnist_mlp.nn,
written out in torch with Keras's semantics (the same mapping as
tests/parity/README.md): Rescaling(1/255) as a multiplication; Conv2d and
Linear with glorot_uniform weights and zero biases (Keras's initializers);
BatchNorm2d with eps 1e-3 and momentum 0.01 (Keras's momentum 0.99), which
updates its running variance with the unbiased batch variance where Keras
uses the biased one (a difference of a factor n/(n-1) = 1.00002 for
64 x 26 x 26 values); inverted Dropout; the loss from the logits (sparse
categorical cross-entropy); Adam(lr 1e-3, eps 1e-7: Keras adds eps to
sqrt(v) before the bias correction, torch after, a difference of order 1e-7
in the step); the batch size and epochs of the model file; a fresh shuffle
every epoch. PyTorch's channels-first Flatten orders the features
differently from Keras's channels-last one, which does not matter for a
network trained from scratch.

Data: the first --train-rows training images and --test-rows test images of
the IDX files (default all: 60,000 and 10,000), read with numpy from the
.gz files of Debian's dataset-fashion-mnist. Prints the test accuracy of
each run, the mean and standard deviation over --runs seeds, and the
training time (seconds and samples/s) of each run.
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path, rows):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    a = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return a[:rows] if rows else a


def glorot(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        w = m.weight
        receptive = w[0, 0].numel() if w.dim() > 2 else 1
        fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        nn.init.uniform_(w, -limit, limit)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


class Scale(nn.Module):
    def forward(self, x):
        return x * (1.0 / 255.0)


def build(name):
    if name == "cnn":
        net = nn.Sequential(
            Scale(),
            nn.Conv2d(1, 32, 3, bias=False), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.25),
            nn.Linear(128, 10))
        return net, 64, 8
    net = nn.Sequential(Scale(), nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return net, 32, 10


def run(name, x, t, xt, tt, epochs, batch_size, seed):
    torch.manual_seed(seed)
    net, batch, default_epochs = build(name)
    epochs = epochs or default_epochs
    batch = batch_size or batch
    net.apply(glorot)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), t[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - t0
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(xt[i:i + 1000]).argmax(1) == tt[i:i + 1000]).sum()) for i in range(0, len(xt), 1000))
    return correct / len(xt), seconds, epochs * len(x) / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["cnn", "mlp"])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--train-rows", type=int, default=0)
    ap.add_argument("--test-rows", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    d = a.data
    x = torch.tensor(read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"), a.train_rows), dtype=torch.float32)
    t = torch.tensor(read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), a.train_rows), dtype=torch.long)
    xt = torch.tensor(read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), a.test_rows), dtype=torch.float32)
    tt = torch.tensor(read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), a.test_rows), dtype=torch.long)
    if a.model == "cnn":
        x, xt = x.unsqueeze(1), xt.unsqueeze(1)
    accs = []
    for k in range(a.runs):
        acc, seconds, sps = run(a.model, x, t, xt, tt, a.epochs, a.batch_size, a.seed + k)
        accs.append(acc)
        print(f"seed {a.seed + k}: test accuracy {acc:.4f}, training {seconds:.1f} s ({sps:.0f} samples/s, "
              f"{torch.get_num_threads()} threads)", flush=True)
    if a.runs > 1:
        print(f"mean {np.mean(accs):.4f} sd {np.std(accs, ddof=1):.4f} min {min(accs):.4f} max {max(accs):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
