#!/usr/bin/python3
"""The runtime's stateful metrics against independent references.

    metrics_ref.py METRIC_DRIVER

metric_driver feeds random data sets to every metric in uneven batches
(the state accumulates over them, as over an epoch) and prints the data and
the results; this script recomputes every metric over the whole data set
with numpy, from Keras 3's definitions (keras/src/metrics), and for AUC also
from the exact ROC area (the Mann-Whitney statistic, what
sklearn.metrics.roc_auc_score computes), which Keras's thresholded
approximation must approach as the thresholds grow. Exit status 0 pass,
1 fail, 77 skipped (numpy cannot be imported).
"""
import subprocess
import sys

try:
    import numpy as np
except Exception as e:  # ImportError, or a broken installation
    print(f"SKIPPED: {sys.executable} cannot import numpy: {e}")
    sys.exit(77)

EPS = 1e-7
failures = 0
checks = 0


def check(name, got, want, tol):
    global failures, checks
    checks += 1
    err = abs(got - want) / max(1.0, abs(want))
    status = "ok" if err <= tol else "FAIL"
    if status == "FAIL":
        failures += 1
    print(f"{status} {name}: runtime {got:.10g} reference {want:.10g} (tolerance {tol:g})")


def keras_auc(y, t, T, curve="ROC", summation="interpolation"):
    """Keras's AUC: counts at T thresholds (-eps, 1/(T-1), ..., 1+eps),
    a prediction positive when above the threshold, then its Riemann sum
    (or the Davis-Goadrich interpolation for PR)."""
    thr = np.concatenate([[0.0 - EPS], np.arange(1, T - 1) / (T - 1.0), [1.0 + EPS]])
    p = np.clip(y.astype(np.float64), 0, 1)
    lab = t != 0
    pos = p[None, :] > thr[:, None]
    tp = (pos & lab).sum(1).astype(float)
    fp = (pos & ~lab).sum(1).astype(float)
    fn = (~pos & lab).sum(1).astype(float)
    tn = (~pos & ~lab).sum(1).astype(float)
    dnn = lambda a, b: np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))
    if curve == "PR" and summation == "interpolation":
        dtp = tp[:-1] - tp[1:]
        pp = tp + fp
        dp = pp[:-1] - pp[1:]
        slope = dnn(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pp[1:]
        ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), dnn(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return float(np.sum(dnn(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))))
    rec = dnn(tp, tp + fn)
    if curve == "ROC":
        x, yy = dnn(fp, fp + tn), rec
    elif curve == "PR":
        x, yy = rec, dnn(tp, tp + fp)
    else:  # PRGAIN, with Keras's fixes for no true positives and negative gains
        scale = dnn(tp + fn, tn + fp)
        x = np.where(tp == 0, 0.0, 1.0 - scale * dnn(fn, tp))
        yy = np.where(tp == 0, 1.0, 1.0 - scale * dnn(fp, tp))
        x = np.maximum(x, 0.0)
    if summation == "interpolation":
        h = (yy[:-1] + yy[1:]) / 2
    elif summation == "minoring":
        h = np.minimum(yy[:-1], yy[1:])
    else:
        h = np.maximum(yy[:-1], yy[1:])
    return float(np.sum((x[:-1] - x[1:]) * h))


def exact_roc_auc(y, t):
    """P(score of a positive > score of a negative) + 0.5 P(tie)."""
    pos, neg = y[t != 0], y[t == 0]
    gt = (pos[:, None] > neg[None, :]).sum()
    eq = (pos[:, None] == neg[None, :]).sum()
    return (gt + 0.5 * eq) / (len(pos) * len(neg))


def parse(text):
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        head = lines[i].split()
        if head[0] in ("data", "sparse"):
            n, c = int(head[1]), int(head[2])
            rows = np.array([[float(v) for v in lines[i + 1 + k].split()] for k in range(n)])
            y, t = rows[:, :c], rows[:, c:]
            blocks.append({"kind": head[0], "y": y, "t": t, "results": []})
            i += n + 1
            continue
        name, rest = lines[i].split(" ", 1)
        args, value = rest.rsplit("= ", 1)
        blocks[-1]["results"].append((name, dict(a.split("=") for a in args.split()), float(value)))
        i += 1
    return blocks


def binary_refs(y, t, name, a):
    thr = float(a.get("threshold", 0.5))
    p, lab = y[:, 0], t[:, 0]
    pos, l = p > thr, lab != 0
    tp, fp = np.sum(pos & l), np.sum(pos & ~l)
    tn, fn = np.sum(~pos & ~l), np.sum(~pos & l)
    if name == "auc":
        T = int(a.get("num_thresholds", 200))
        return keras_auc(p, lab, T, a.get("curve", "ROC"), a.get("summation", "interpolation"))
    if name == "precision":
        return tp / (tp + fp) if tp + fp else 0.0
    if name == "recall":
        return tp / (tp + fn) if tp + fn else 0.0
    if name == "binary_accuracy":
        return np.mean((p > thr).astype(float) == lab)
    if name == "binary_crossentropy":
        s = float(a.get("label_smoothing", 0))
        tt = lab * (1 - s) + 0.5 * s
        # the clip bounds as float32 holds them (1 - 1e-7 rounds to 1 - 1.19e-7)
        q = np.clip(p, float(np.float32(EPS)), float(np.float32(1 - EPS)))
        return np.mean(-(tt * np.log(q) + (1 - tt) * np.log(1 - q)))
    return {"true_positives": tp, "false_positives": fp, "true_negatives": tn, "false_negatives": fn}[name]


def regression_refs(y, t, name, a):
    e = y - t
    if name == "mae":
        return np.mean(np.abs(e))
    if name == "mse":
        return np.mean(e ** 2)
    if name == "root_mean_squared_error":
        return np.sqrt(np.mean(e ** 2))
    if name == "mape":
        return 100 * np.mean(np.abs(e) / np.maximum(np.abs(t), EPS))
    if name == "msle":
        return np.mean((np.log(np.maximum(y, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2)
    if name == "log_cosh_error":
        return np.mean(np.log(np.cosh(e)))
    if name == "cosine_similarity":
        yn = y / np.linalg.norm(y, axis=1, keepdims=True)
        tn_ = t / np.linalg.norm(t, axis=1, keepdims=True)
        return np.mean(np.sum(yn * tn_, axis=1))
    if name == "poisson":
        return np.mean(y - t * np.log(y + EPS))
    if name == "r2_score":
        ss_res = np.sum(e ** 2, axis=0)
        ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
        raw = 1 - ss_res / ss_tot
        r2 = np.sum(ss_tot * raw) / np.sum(ss_tot) if a.get("class_aggregation") else np.mean(raw)
        p = int(a.get("num_regressors", 0))
        n = y.shape[0]
        return 1 - (1 - r2) * (n - 1) / (n - p - 1) if p else r2
    raise ValueError(name)


def class_refs(y, k, name, a):
    n, c = y.shape
    t = np.eye(c)[k]
    kk = int(a.get("k", 5))
    if name in ("categorical_accuracy", "sparse_categorical_accuracy"):
        return np.mean(np.argmax(y, 1) == k)
    if name in ("top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"):
        kth = -np.sort(-y, axis=1)[:, min(kk, c) - 1]
        return np.mean(y[np.arange(n), k] >= kth)
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        q = np.clip(y / y.sum(1, keepdims=True), EPS, 1 - EPS)
        return np.mean(-np.sum(t * np.log(q), 1))
    if name == "kl_divergence":
        tc, yc = np.clip(t, EPS, 1), np.clip(y, EPS, 1)
        return np.mean(np.sum(tc * np.log(tc / yc), 1))
    if name == "categorical_hinge":
        pos = np.sum(t * y, 1)
        neg = np.max((1 - t) * y, 1)
        return np.mean(np.maximum(neg - pos + 1, 0))
    if name in ("hinge", "squared_hinge"):
        tt = 2 * t - 1
        h = np.maximum(1 - tt * y, 0)
        return np.mean(h if name == "hinge" else h ** 2)
    if name in ("precision", "recall"):
        cid, thr = int(a["class_id"]), float(a.get("threshold", 0.5))
        pos, lab = y[:, cid] > thr, t[:, cid] != 0
        tp = np.sum(pos & lab)
        den = np.sum(pos) if name == "precision" else np.sum(lab)
        return tp / den if den else 0.0
    raise ValueError(name)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    for case in (1, 2, 3):
        text = subprocess.run([sys.argv[1], str(case)], check=True, capture_output=True, text=True).stdout
        for b in parse(text):
            for name, a, got in b["results"]:
                label = f"case {case} {name} {a}"
                if b["kind"] == "sparse":
                    want = class_refs(b["y"], b["t"][:, 0].astype(int), name, a)
                elif b["y"].shape[1] == 1:
                    want = binary_refs(b["y"], b["t"], name, a)
                else:
                    want = regression_refs(b["y"], b["t"], name, a)
                tol = 2e-6 if name not in ("true_positives", "false_positives", "true_negatives",
                                            "false_negatives") else 0
                check(label, got, float(want), tol)
                if name == "auc" and a.get("curve", "ROC") == "ROC" and "summation" not in a:
                    T = int(a.get("num_thresholds", 200))
                    exact = exact_roc_auc(b["y"][:, 0], b["t"][:, 0])
                    # the thresholded area approaches the exact one: within
                    # the mass that can share a bucket
                    check(label + " vs the exact ROC area", got, exact, 2.0 / T + 1e-3)
    print(f"metrics_ref: {checks} checks, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
