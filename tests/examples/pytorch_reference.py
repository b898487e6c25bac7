#!/usr/bin/python3
"""PyTorch reference runs for the real-data examples of seqc.

    /usr/bin/python3 tests/examples/pytorch_reference.py NAME [--seed N] [--runs K] [--verbose]

NAME is one of breast_cancer, wine, digits, diabetes. The script reads the
model from examples/NAME.nn itself (the same file seqc compiles), builds the
same network in PyTorch and trains it the way the generated program does:

* data: examples/data/NAME_train.csv for training; the last validation_split
  of its rows (Keras's split: the first floor(rows * (1 - split)) rows train)
  is the validation set that early stopping watches; examples/data/NAME_test.csv
  is the held-out test set, scored once at the end. The last column is the
  target.
* layers with Keras's defaults: Normalization adapted to the training rows
  (mean and biased variance, y = (x - mean) / max(sqrt(var), 1e-7));
  Dense with glorot_uniform kernels and zero biases; BatchNormalization with
  momentum 0.99 and epsilon 1e-3, biased batch variance in both the
  normalization and the moving average (Keras; torch.nn.BatchNorm1d would
  use the unbiased one for the moving average); inverted Dropout.
* losses: binary cross-entropy on a sigmoid output and (sparse) categorical
  cross-entropy on a softmax output are computed from the logits (as seqc
  does); MAE/MSE as is. Keras's metrics (accuracy with threshold 0.5, argmax
  accuracy, MAE).
* optimizers: Keras's SGD (momentum v = m v - lr g, w += v; equal to
  torch.optim.SGD for a constant learning rate) and Adam (torch.optim.Adam
  with eps = Keras's epsilon; Keras adds epsilon to sqrt(v) before the bias
  correction, torch after: a difference of order 1e-7 in the step).
* fit: batch_size, epochs, shuffle (a fresh permutation each epoch; the last
  partial batch is used), EarlyStopping with Keras 3's rules (monitor,
  min_delta, patience, mode, start_from_epoch, restore_best_weights: the best
  epoch's weights are restored at the end whenever one was recorded).

The random streams (initial weights, shuffling, dropout) are PyTorch's, so
the numbers differ from seqc's run by the spread of training itself;
--runs K trains with seeds N .. N+K-1 and also prints the mean and standard
deviation of the test scores. Pure torch + numpy + the standard library.
"""
import argparse
import ast
import math
import os
import re
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- the model file

class Call:
    """A call written in the model file: name, positional and keyword args."""

    def __init__(self, name, args, kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs

    def arg(self, i, key, default=None):
        if key in self.kwargs:
            return self.kwargs[key]
        if i is not None and i < len(self.args):
            return self.args[i]
        return default


def _value(node):
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        return Call(name, [_value(a) for a in node.args],
                    {k.arg: _value(k.value) for k in node.keywords})
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(e) for e in node.elts]
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _dotted(node)
    return ast.literal_eval(node)


def _dotted(node):
    """keras.layers.Dense -> Dense (module prefixes are dropped, as seqc does)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    raise ValueError("unexpected callee %s" % ast.dump(node))


def read_model(path, name):
    """The statements of `model NAME { ... }` in path, as Calls."""
    text = open(path).read()
    text = re.sub(r"#[^\n]*", "", text)
    m = re.search(r"\bmodel\s+%s\s*\{" % re.escape(name), text)
    if not m:
        sys.exit("%s: no model %s" % (path, name))
    depth, i = 1, m.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    body = text[m.end():i - 1]
    stmts, cur, level = [], "", 0
    for ch in body + "\n":
        level += ch in "([" and 1 or 0
        level -= ch in ")]" and 1 or 0
        if level == 0 and ch in "\n,":
            if cur.strip():
                stmts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    calls = []
    for s in stmts:
        node = ast.parse(s, mode="eval").body
        call = _value(node)
        if call.name == "add":
            call = call.args[0]
        calls.append(call)
    return calls


# ---------------------------------------------------------------- layers

class KerasNormalization(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))

    def adapt(self, x):
        x = x.double()
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        self.mean.copy_(mean.float())
        self.std.copy_(torch.clamp(var.float().sqrt(), min=1e-7))

    def forward(self, x):
        return (x - self.mean) / self.std


class KerasBatchNorm(torch.nn.Module):
    def __init__(self, n, momentum=0.99, eps=1e-3, center=True, scale=True):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.gamma = torch.nn.Parameter(torch.ones(n)) if scale else None
        self.beta = torch.nn.Parameter(torch.zeros(n)) if center else None
        self.register_buffer("moving_mean", torch.zeros(n))
        self.register_buffer("moving_var", torch.ones(n))

    def forward(self, x):
        if self.training:
            mean = x.mean(0)
            var = x.var(0, unbiased=False)
            with torch.no_grad():
                self.moving_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)
                self.moving_var.mul_(self.momentum).add_((1 - self.momentum) * var)
        else:
            mean, var = self.moving_mean, self.moving_var
        y = (x - mean) / torch.sqrt(var + self.eps)
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        return y


ACTS = {
    None: None, "linear": None,
    "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=1),
}


class Act(torch.nn.Module):
    def __init__(self, name):
        super().__init__()
        if name not in ACTS:
            sys.exit("activation %s is not in this script" % name)
        self.name, self.f = name, ACTS[name]

    def forward(self, x):
        return x if self.f is None else self.f(x)


def glorot_uniform_(w, gen):
    fan_out, fan_in = w.shape
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        w.copy_((torch.rand(w.shape, generator=gen) * 2 - 1) * limit)


def build(calls, gen):
    """Layers (a list of modules, the output activation split off) and the
    compile/fit calls."""
    layers, width, compile_c, fit_c = [], None, None, None
    for c in calls:
        shape = c.kwargs.get("input_shape", c.kwargs.get("input_dim"))
        if shape is not None:
            width = shape[0] if isinstance(shape, list) else shape
        if c.name == "compile":
            compile_c = c
        elif c.name == "fit":
            fit_c = c
        elif c.name == "Normalization":
            layers.append(KerasNormalization(width))
        elif c.name == "Dense":
            units = c.arg(0, "units")
            lin = torch.nn.Linear(width, units, bias=c.arg(2, "use_bias", True))
            glorot_uniform_(lin.weight, gen)
            if lin.bias is not None:
                torch.nn.init.zeros_(lin.bias)
            layers.append(lin)
            act = c.arg(1, "activation")
            if act not in (None, "linear"):
                layers.append(Act(act))
            width = units
        elif c.name == "BatchNormalization":
            layers.append(KerasBatchNorm(width, c.arg(1, "momentum", 0.99),
                                         c.arg(2, "epsilon", 1e-3),
                                         c.arg(3, "center", True), c.arg(4, "scale", True)))
        elif c.name == "Dropout":
            layers.append(torch.nn.Dropout(c.arg(0, "rate")))
        elif c.name in ("ReLU", "Softmax", "Activation"):
            layers.append(Act({"ReLU": "relu", "Softmax": "softmax"}.get(c.name) or c.arg(0, "activation")))
        elif c.name in ("Input", "InputLayer", "Flatten"):
            if c.name != "Flatten":
                s = c.arg(0, "shape")
                width = s[0] if isinstance(s, list) else s
        else:
            sys.exit("layer %s is not in this script" % c.name)
    return layers, compile_c, fit_c


# ---------------------------------------------------------------- training

def load_csv(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return torch.tensor(a[:, :-1], dtype=torch.float32), torch.tensor(a[:, -1], dtype=torch.float32)


class Net(torch.nn.Module):
    """The layers; the last activation (sigmoid/softmax) is applied by the
    loss on logits, as seqc does, and by predict()."""

    def __init__(self, layers, loss):
        super().__init__()
        self.out_act = None
        if layers and isinstance(layers[-1], Act) and (
                (loss == "binary_crossentropy" and layers[-1].name == "sigmoid") or
                (loss.endswith("categorical_crossentropy") and layers[-1].name == "softmax")):
            self.out_act = layers.pop().name
        self.body = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)

    def predict(self, z):
        if self.out_act == "sigmoid":
            return torch.sigmoid(z)
        if self.out_act == "softmax":
            return torch.softmax(z, dim=1)
        return z


def loss_fn(name, net, z, t):
    if name == "binary_crossentropy":
        if net.out_act:
            return torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], t)
        p = torch.clamp(z[:, 0], 1e-7, 1 - 1e-7)
        return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    if name == "sparse_categorical_crossentropy":
        return torch.nn.functional.cross_entropy(z, t.long())
    if name in ("mae", "mean_absolute_error"):
        return (z[:, 0] - t).abs().mean()
    if name in ("mse", "mean_squared_error"):
        return ((z[:, 0] - t) ** 2).mean()
    sys.exit("loss %s is not in this script" % name)


def metric_sums(names, loss, y, t):
    """Per metric, the sum over rows (accuracy: correct rows)."""
    out = []
    for m in names:
        if m in ("accuracy", "acc"):
            if loss == "binary_crossentropy":
                out.append(((y[:, 0] > 0.5).float() == t).sum().item())
            else:
                out.append((y.argmax(1) == t.long()).sum().item())
        elif m in ("mae", "mean_absolute_error"):
            out.append((y[:, 0] - t).abs().sum().item())
        elif m in ("mse", "mean_squared_error"):
            out.append(((y[:, 0] - t) ** 2).sum().item())
        else:
            sys.exit("metric %s is not in this script" % m)
    return out


def evaluate(net, loss, metrics, x, t):
    net.eval()
    with torch.no_grad():
        z = net(x)
        return loss_fn(loss, net, z, t).item(), [s / len(t) for s in metric_sums(metrics, loss, net.predict(z), t)]


def optimizer_for(spec, params):
    if isinstance(spec, Call):
        name, c = spec.name.lower(), spec
    else:
        name, c = str(spec).lower(), Call(spec, [], {})
    if name == "adam":
        return torch.optim.Adam(params, lr=c.arg(0, "learning_rate", 0.001),
                                betas=(c.arg(1, "beta_1", 0.9), c.arg(2, "beta_2", 0.999)),
                                eps=c.arg(3, "epsilon", 1e-7))
    if name == "sgd":
        return torch.optim.SGD(params, lr=c.arg(0, "learning_rate", 0.01),
                               momentum=c.arg(1, "momentum", 0.0), nesterov=c.arg(2, "nesterov", False))
    sys.exit("optimizer %s is not in this script" % name)


def monitor_value(name, log):
    key = {"val_acc": "val_accuracy", "acc": "accuracy"}.get(name, name)
    return log.get(key)


def run(a):
    """One training run; prints its scores and returns the test metrics."""
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(a.seed)
    calls = read_model(os.path.join(ROOT, "examples", a.name + ".nn"), a.name)
    layers, comp, fitc = build(calls, gen)
    loss = comp.arg(1, "loss")
    metrics = comp.arg(2, "metrics", []) or []
    metrics = metrics if isinstance(metrics, list) else [metrics]
    metrics = ["accuracy" if m == "acc" else ("mae" if m == "mean_absolute_error" else m) for m in metrics]
    net = Net(layers, loss)
    opt = optimizer_for(comp.arg(0, "optimizer", "rmsprop"), net.parameters())

    batch = fitc.kwargs.get("batch_size", 32)
    epochs = fitc.kwargs.get("epochs", 1)
    shuffle = fitc.kwargs.get("shuffle", True)
    split = fitc.kwargs.get("validation_split", 0.0)
    es = None
    for cb in fitc.kwargs.get("callbacks", []) or []:
        if cb.name == "EarlyStopping":
            es = cb

    x_all, t_all = load_csv(os.path.join(ROOT, "examples", "data", a.name + "_train.csv"))
    x_test, t_test = load_csv(os.path.join(ROOT, "examples", "data", a.name + "_test.csv"))
    n_train = int(math.floor(len(t_all) * (1.0 - split))) if split > 0 else len(t_all)
    x_tr, t_tr, x_val, t_val = x_all[:n_train], t_all[:n_train], x_all[n_train:], t_all[n_train:]
    for layer in layers:
        if isinstance(layer, KerasNormalization):
            layer.adapt(x_tr)

    # Keras 3 EarlyStopping
    if es is not None:
        monitor = es.arg(0, "monitor", "val_loss")
        min_delta = abs(es.arg(1, "min_delta", 0.0))
        patience = es.arg(2, "patience", 0)
        mode = es.arg(4, "mode", "auto")
        restore = es.arg(6, "restore_best_weights", False)
        start_from = es.arg(7, "start_from_epoch", 0)
        maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
    best, best_epoch, best_state, wait, stopped = None, 0, None, 0, 0

    n = len(t_tr)
    for e in range(epochs):
        net.train()
        order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
        lsum, msum = 0.0, [0.0] * len(metrics)
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            xb, tb = x_tr[idx], t_tr[idx]
            z = net(xb)
            l = loss_fn(loss, net, z, tb)
            with torch.no_grad():
                for i, v in enumerate(metric_sums(metrics, loss, net.predict(z), tb)):
                    msum[i] += v
            opt.zero_grad()
            l.backward()
            opt.step()
            lsum += l.item() * len(idx)
        log = {"loss": lsum / n}
        for i, m in enumerate(metrics):
            log[m] = msum[i] / n
        if len(t_val):
            vl, vm = evaluate(net, loss, metrics, x_val, t_val)
            log["val_loss"] = vl
            for i, m in enumerate(metrics):
                log["val_" + m] = vm[i]
        if a.verbose:
            print("Epoch %d/%d - %s" % (e + 1, epochs, " - ".join("%s: %.4f" % kv for kv in log.items())),
                  file=sys.stderr)
        if es is not None:
            v = monitor_value(monitor, log)
            if v is None or e < start_from:
                continue
            wait += 1
            if best is None or (v - min_delta > best if maximize else v + min_delta < best):
                best, best_epoch, wait = v, e + 1, 0
                if restore:
                    best_state = {k: t.clone() for k, t in net.state_dict().items()}
                continue
            if wait >= patience and e > 0:
                stopped = e + 1
                break
    if es is not None and restore and best_state is not None:
        net.load_state_dict(best_state)

    vl, vm = evaluate(net, loss, metrics, x_val, t_val) if len(t_val) else (float("nan"), [])
    tl, tm = evaluate(net, loss, metrics, x_test, t_test)
    done = stopped or epochs
    print("%s (PyTorch %s, seed %d): %d epochs%s" % (
        a.name, torch.__version__, a.seed, done,
        ", best epoch %d restored" % best_epoch if es is not None and restore and best_state is not None else ""))
    print("val_loss: %.4f%s" % (vl, "".join(" - val_%s: %.4f" % (m, v) for m, v in zip(metrics, vm))))
    print("test_loss: %.4f%s" % (tl, "".join(" - test_%s: %.4f" % (m, v) for m, v in zip(metrics, tm))))
    return metrics, tm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", choices=["breast_cancer", "wine", "digits", "diabetes"])
    ap.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    ap.add_argument("--runs", type=int, default=1, help="runs with seeds seed, seed+1, ... (default 1)")
    ap.add_argument("--verbose", action="store_true", help="one line per epoch")
    a = ap.parse_args()
    first, scores = a.seed, []
    for k in range(a.runs):
        a.seed = first + k
        metrics, tm = run(a)
        scores.append(tm)
    if a.runs > 1:
        s = np.array(scores)
        print("%d runs (seeds %d..%d): %s" % (a.runs, first, first + a.runs - 1, " - ".join(
            "test_%s mean %.4f sd %.4f min %.4f max %.4f" % (m, s[:, i].mean(), s[:, i].std(), s[:, i].min(), s[:, i].max())
            for i, m in enumerate(metrics))))


if __name__ == "__main__":
    main()
