#!/usr/bin/python3
"""A seqc checkpoint of a CNN, run in plain torch.nn modules.

    conv_torch_load.py PROGRAM WORKDIR

PROGRAM is the train/evaluate/predict program of torch_load/cnn_torch.nn.
The script writes random data as .npy files, trains the model with PROGRAM
(3 epochs), has PROGRAM predict, then loads the checkpoint into
torch.nn.Conv2d, BatchNorm2d, MaxPool2d, Linear modules the way
docs/language.md tells a PyTorch user to ("Convolution checkpoints in
PyTorch"): inputs permuted to channels-first, the odd "same" padding given
explicitly (the extra pad after), BatchNorm2d with eps 1e-3 and the
running statistics as saved, the separable layer as a depthwise and a
pointwise Conv2d, and the Flatten in seqc's (h, w, c) order. Its
predictions must equal seqc's to float32 rounding (max |diff| <= 1e-5);
a second check feeds torch's own Flatten order and must disagree, so the
test would notice a wrong instruction.

Exit status 0 pass, 1 fail, 77 skipped (no numpy/torch).
"""
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except Exception as e:
    print(f"SKIPPED: {sys.executable} cannot import numpy/torch: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import st_read  # noqa: E402  (the parity tests' safetensors reader)


def npy_save(path, a):
    np.save(path, a)


def main():
    prog, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rs = np.random.RandomState(7)
    x = rs.standard_normal((64, 7, 6, 2)).astype(np.float32)
    y = rs.randint(3, size=64).astype(np.int64)
    xp, yp = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    ck, pred = os.path.join(work, "ck.safetensors"), os.path.join(work, "pred.npy")
    npy_save(xp, x)
    npy_save(yp, y)
    subprocess.run([prog, "train", xp, yp, "--out", ck, "--verbose", "0"], check=True)
    subprocess.run([prog, "predict", ck, xp, "--output", pred], check=True)
    want = np.load(pred)
    w = {k: torch.tensor(v.astype(np.float64)) for k, v in st_read(ck).items()}
    torch.set_default_dtype(torch.float64)

    conv0 = torch.nn.Conv2d(2, 4, 2, bias=False)
    conv0.weight.data = w["0.weight"]
    bn = torch.nn.BatchNorm2d(4, eps=1e-3)
    bn.weight.data, bn.bias.data = w["1.weight"], w["1.bias"]
    bn.running_mean.data, bn.running_var.data = w["1.running_mean"], w["1.running_var"]
    dw = torch.nn.Conv2d(4, 8, 2, groups=4)
    dw.weight.data, dw.bias.data = w["4.weight"], w["4.bias"]
    sep_d = torch.nn.Conv2d(8, 8, (2, 1), groups=8, bias=False)
    sep_p = torch.nn.Conv2d(8, 5, 1)
    sep_d.weight.data = w["5.depthwise.weight"]
    sep_p.weight.data, sep_p.bias.data = w["5.pointwise.weight"], w["5.pointwise.bias"]
    lin_w, lin_b = w["7.weight"], w["7.bias"]   # the Dense after Flatten: (3, h * w * c)
    for m in (conv0, bn, dw, sep_d, sep_p):
        m.eval()

    def forward(xb, seqc_flatten):
        h = torch.tensor(xb.astype(np.float64)).permute(0, 3, 1, 2)   # channels first
        h = F.pad(h, (0, 1, 0, 1))              # "same" with kernel 2: the pad after
        h = torch.relu(bn(conv0(h)))
        h = torch.nn.functional.max_pool2d(h, 2)
        h = torch.tanh(dw(F.pad(h, (0, 1, 0, 1))))
        h = torch.relu(sep_p(sep_d(h)))
        h = h.permute(0, 2, 3, 1).flatten(1) if seqc_flatten else h.flatten(1)
        return torch.softmax(h @ lin_w.T + lin_b, dim=1)

    with torch.no_grad():
        got = forward(x, True).numpy()
        wrong = forward(x, False).numpy()
    err = float(np.abs(got - want).max())
    err_wrong = float(np.abs(wrong - want).max())
    ok = err <= 1e-5 and err_wrong > 1e-3
    print(f"{'PASS' if ok else 'FAIL'} seqc checkpoint in torch.nn: max |torch - seqc| = {err:.3g} (tolerance 1e-5);"
          f" with torch's own Flatten order instead: {err_wrong:.3g} (must differ)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
