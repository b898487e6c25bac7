#!/usr/bin/python3
"""PyTorch reference for examples/co2_lstm.nn: the same network, data,
split and training settings, in torch.

    /usr/bin/python3 tests/examples/co2_reference.py DATADIR [--runs 5]

DATADIR holds co2_train.csv and co2_test.csv from examples/co2_windows.py.
The network: nn.LSTM(1, 16, batch_first=True) with Keras's initializers
(glorot_uniform input kernel with Keras's fans (1, 64), orthogonal
recurrent kernel, zero bias with the forget gate's at 1, bias_hh zero and
frozen: Keras has one bias), its last state into nn.Linear(16, 1)
(glorot_uniform, zero bias). Adam(lr 0.003, eps 1e-7), MSE, batch 32, a
fresh shuffle each epoch, up to 40 epochs; the last 20% of the training
rows (in time order) is the validation set EarlyStopping(patience=8,
restore_best_weights=True) watches. Prints each run's test MSE and MAE, and
their mean and standard deviation; the bar in tests/examples/CMakeLists.txt
is 1.05 x the mean MSE.
"""
import argparse
import copy
import csv
import math
import os

import torch


def load(path):
    with open(path, newline="") as f:
        rows = [[float(v) for v in r] for r in list(csv.reader(f))[1:]]
    t = torch.tensor(rows, dtype=torch.float32)
    return t[:, :-1].unsqueeze(-1), t[:, -1:]


class Net(torch.nn.Module):
    def __init__(self, H=16):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, H, batch_first=True)
        self.out = torch.nn.Linear(H, 1)
        with torch.no_grad():
            lim = math.sqrt(6.0 / (1 + 4 * H))
            self.lstm.weight_ih_l0.uniform_(-lim, lim)
            torch.nn.init.orthogonal_(self.lstm.weight_hh_l0)
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_ih_l0[H:2 * H] = 1.0
            self.lstm.bias_hh_l0.zero_()
            lim = math.sqrt(6.0 / (H + 1))
            self.out.weight.uniform_(-lim, lim)
            self.out.bias.zero_()
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(h[:, -1])


def run(seed, xtr, ytr, xte, yte):
    torch.manual_seed(seed)
    n = xtr.shape[0]
    ntr = int(n * 0.8)
    xt, yt, xv, yv = xtr[:ntr], ytr[:ntr], xtr[ntr:], ytr[ntr:]
    net = Net()
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.003, eps=1e-7)
    best, best_state, wait = math.inf, None, 0
    for epoch in range(40):
        perm = torch.randperm(ntr)
        for i in range(0, ntr, 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            loss = torch.mean((net(xt[idx]) - yt[idx]) ** 2)
            loss.backward()
            opt.step()
        with torch.no_grad():
            v = torch.mean((net(xv) - yv) ** 2).item()
        if v < best:
            best, best_state, wait = v, copy.deepcopy(net.state_dict()), 0
        else:
            wait += 1
            if wait >= 8:
                break
    net.load_state_dict(best_state)
    with torch.no_grad():
        p = net(xte)
        return torch.mean((p - yte) ** 2).item(), torch.mean(torch.abs(p - yte)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    xtr, ytr = load(os.path.join(a.datadir, "co2_train.csv"))
    xte, yte = load(os.path.join(a.datadir, "co2_test.csv"))
    mses = []
    for s in range(a.runs):
        mse, mae = run(s, xtr, ytr, xte, yte)
        mses.append(mse)
        print(f"seed {s}: test mse {mse:.4f} mae {mae:.4f}")
    m = sum(mses) / len(mses)
    sd = math.sqrt(sum((v - m) ** 2 for v in mses) / len(mses))
    print(f"mean test mse {m:.4f} (sd {sd:.4f}); persistence {torch.mean(yte ** 2).item():.4f}")


if __name__ == "__main__":
    main()
