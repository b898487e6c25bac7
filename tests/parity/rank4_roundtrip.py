"""Tensors of any rank through the runtime's safetensors checkpoints and
PyTorch, both ways.

  1. The C runtime saves model p19_prelu_rank4 (its PReLU slope is a rank-4
     parameter, (2, 3, 2, 2)). This script reads the file with its own
     reader into torch tensors, loads them into torch modules whose
     parameters have those shapes (torch.nn.Module.load_state_dict checks
     every shape), and checks the values against what the C side printed.
  2. It changes every value in torch, writes a weights-only safetensors file
     as PyTorch users do (state_dict names, F32), and the C runtime loads
     it: what C prints must be torch's values, bit for bit.

usage: rank4_roundtrip.py ROUNDTRIP_EXE WORKDIR   (exit 77: no torch)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import torch
except ImportError:
    print("SKIPPED: numpy/torch not importable")
    sys.exit(77)
from parity import st_read, st_write   # noqa: E402


def printed(out):
    tensors = {}
    for line in out.splitlines():
        name, shape, *vals = line.split()
        dims = tuple(int(v) for v in shape.strip("[]").split(","))
        tensors[name] = np.array([float(v) for v in vals], dtype=np.float32).reshape(dims)
    return tensors


class Slopes(torch.nn.Module):
    """A module whose parameters have the checkpoint's names and shapes."""

    def __init__(self, shapes):
        super().__init__()
        self.p = torch.nn.ParameterDict({k.replace(".", "_"): torch.nn.Parameter(torch.zeros(s))
                                         for k, s in shapes.items()})


def main():
    exe, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    saved, mine = os.path.join(work, "c.safetensors"), os.path.join(work, "torch.safetensors")
    c1 = printed(subprocess.run([exe, "save", "p19_prelu_rank4", saved], check=True, capture_output=True,
                                text=True).stdout)
    if c1["0.weight"].shape != (2, 3, 2, 2):
        print(f"FAIL: the C state's 0.weight has shape {c1['0.weight'].shape}")
        return 1
    read = st_read(saved)
    module = Slopes({k: v.shape for k, v in c1.items()})
    module.load_state_dict({"p." + k.replace(".", "_"): torch.tensor(np.array(v)) for k, v in read.items()
                            if k in c1})
    bad = 0
    for k, v in c1.items():
        t = module.p[k.replace(".", "_")].detach().numpy()
        if t.shape != v.shape or not np.array_equal(t, v):
            print(f"FAIL: {k} in torch {t.shape} differs from the C state {v.shape}")
            bad += 1
    with torch.no_grad():
        for p in module.p.values():
            p.mul_(-0.5).add_(0.25)
    st_write(mine, {k: module.p[k.replace(".", "_")].detach().numpy().astype(np.float32) for k in c1})
    c2 = printed(subprocess.run([exe, "load", "p19_prelu_rank4", mine], check=True, capture_output=True,
                                text=True).stdout)
    for k in c1:
        want = module.p[k.replace(".", "_")].detach().numpy().astype(np.float32)
        if c2[k].shape != want.shape or not np.array_equal(c2[k], want):
            print(f"FAIL: {k} loaded from torch's file is not torch's values")
            bad += 1
    print(f"{'FAIL' if bad else 'PASS'} rank4_roundtrip: {len(c1)} tensors (0.weight {c1['0.weight'].shape}) "
          f"C -> torch -> C, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
