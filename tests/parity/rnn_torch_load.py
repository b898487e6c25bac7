#!/usr/bin/python3
"""A seqc checkpoint of a sequence model, run in plain torch.nn modules.

    rnn_torch_load.py PROGRAM WORKDIR

PROGRAM is the train/evaluate/predict program of torch_load/rnn_torch.nn
(Embedding, Bidirectional(LSTM, return_sequences), GRU, Dense softmax). The
script writes random ids and labels as .npy files, trains the model with
PROGRAM (10 epochs), has PROGRAM predict, then loads the checkpoint into
nn.Embedding, nn.LSTM(bidirectional=True, batch_first=True), nn.GRU and a
Linear the way docs/language.md ("Recurrent checkpoints in PyTorch") tells
a PyTorch user to: load_state_dict of each module with the "k." prefix
removed, strictly (every key present, none left over), the GRU's last
step. Its predictions must equal seqc's to float32 rounding
(max |diff| <= 1e-5). A second run with the GRU's gate blocks in Keras's
order (z, r, n instead of PyTorch's r, z, n) must disagree, so the test
would notice a wrong mapping. A third check feeds an id out of range to
PROGRAM predict, which must refuse it with the file and position.

Exit status 0 pass, 1 fail, 77 skipped (no numpy/torch).
"""
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
except Exception as e:
    print(f"SKIPPED: {sys.executable} cannot import numpy/torch: {e}")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import st_read  # noqa: E402  (the parity tests' safetensors reader)


def module_state(w, prefix):
    return {k[len(prefix):]: torch.tensor(v.astype(np.float64)) for k, v in w.items() if k.startswith(prefix)}


def main():
    prog, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rs = np.random.RandomState(11)
    x = rs.randint(0, 30, size=(96, 8)).astype(np.float32)
    y = (x[:, 0] % 3).astype(np.int64)
    xp, yp = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    ck, pred = os.path.join(work, "ck.safetensors"), os.path.join(work, "pred.npy")
    np.save(xp, x)
    np.save(yp, y)
    subprocess.run([prog, "train", xp, yp, "--out", ck, "--verbose", "0"], check=True)
    subprocess.run([prog, "predict", ck, xp, "--output", pred], check=True)
    want = np.load(pred)
    torch.set_default_dtype(torch.float64)
    w = st_read(ck)

    emb = torch.nn.Embedding(30, 6)
    lstm = torch.nn.LSTM(6, 5, batch_first=True, bidirectional=True)
    gru = torch.nn.GRU(10, 4, batch_first=True)
    lin = torch.nn.Linear(4, 3)
    for m, k in ((emb, "0."), (lstm, "1."), (gru, "2."), (lin, "3.")):
        m.load_state_dict(module_state(w, k), strict=True)

    def forward(xb):
        h = emb(torch.tensor(xb).long())
        h, _ = lstm(h)                   # the "concat" merge, in input order
        h, _ = gru(h)
        return torch.softmax(lin(h[:, -1]), dim=1)

    with torch.no_grad():
        got = forward(x).numpy()
        # Keras's GRU gate order: swap the r and z blocks of every GRU tensor
        for name, p in gru.named_parameters():
            p.copy_(torch.cat([p[4:8], p[0:4], p[8:]], 0))
        wrong = forward(x).numpy()
    err = float(np.abs(got - want).max())
    err_wrong = float(np.abs(wrong - want).max())

    bad = x[:4].copy()
    bad[2, 5] = 30                       # input_dim is 30: ids are 0..29
    bp = os.path.join(work, "bad.npy")
    np.save(bp, bad)
    r = subprocess.run([prog, "predict", ck, bp, "--output", os.path.join(work, "bad_pred.npy")],
                       capture_output=True, text=True)
    refused = r.returncode != 0 and "element [2, 5]" in r.stderr and "[0, 30)" in r.stderr
    ok = err <= 1e-5 and err_wrong > 1e-3 and refused
    print(f"{'PASS' if ok else 'FAIL'} seqc checkpoint in torch.nn: max |torch - seqc| = {err:.3g} "
          f"(tolerance 1e-5); with Keras's GRU gate order instead: {err_wrong:.3g} (must differ); "
          f"an id out of range {'refused' if refused else 'NOT refused'}: {r.stderr.strip()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
