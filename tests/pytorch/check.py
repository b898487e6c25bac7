#!/usr/bin/python3
"""The module `seqc --emit=pytorch` writes, against the C seqc generates.

    check.py --seqc SEQC --driver PYTORCH_DRIVER --model FILE.nn
             [--nodrop VARIANT.nn] --workdir DIR [-v]

For the model of FILE.nn, and for VARIANT.nn (the same model with every
Dropout rate 0, written by CMakeLists.txt) when the model has Dropout:

1. `seqc --emit=pytorch` writes NAME.py, which is imported.
2. pytorch_driver runs the C (-O2) on N random rows x (ids in [0, input_dim)
   for a model that starts with Embedding) and targets t:
   three training steps, then the state as a seqc checkpoint
   (before.safetensors), the outputs at inference and in training, one more
   training step: its loss and the state after it (after.safetensors).
3. The module's build() draws Keras's initializers: every tensor that
   seqc's NAME_init (init.safetensors) sets to a constant has that
   constant, and every random one of at least MIN_SAMPLE elements has the
   mean and standard deviation of seqc's draw (within SAMPLE_SIGMAS times
   the sampling error of the two draws).
4. The module, in float64, with before.safetensors loaded by its
   load_checkpoint (weights and optimizer slots), must give
   - at inference, the C's outputs (TOL_OUTPUT);
   - in training mode, the C's outputs, when no Dropout is active;
   - after its train_step(): the C's loss (TOL_OUTPUT) and every tensor of
     after.safetensors (TOL_STEP): parameters; BatchNorm running_mean; the
     running_var through the documented mapping (torch moves it with the
     unbiased batch variance: Keras's value is m rv0 + (torch's - m rv0)
     (n - 1) / n, n the rows of the batch statistics); the optimizer's
     slots through the optimizer's mapping (Adam's m, v and vhat; SGD's
     velocity = -lr * torch's momentum buffer; Adadelta's square_avg and
     acc_delta; the update rules NAME.py writes out keep Keras's names).
     The loss includes the weights' and activities' penalties, the rows
     are weighted by fit(class_weight=...), and the step clips, follows the
     learning-rate schedule, decays and constrains as Keras does.
   The optimizer's update rule alone is also checked against Keras's
   formula written out here (keras_rule_check).
   Training checks need a model without active Dropout: the variant.
5. The module's save_checkpoint() after the step is loaded by the C
   (pytorch_driver --predict), whose outputs must be the module's.
6. The model (not the variant) exports to ONNX (torch.onnx.export into
   memory: it must not raise).

Exit status: 0 pass, 1 mismatch or error, 77 skipped (no torch).
"""
import argparse
import importlib.util
import math
import os
import subprocess
import sys

SKIP = 77
try:
    import torch
    from torch import nn
except Exception as e:  # ImportError, or a broken installation
    print(f"SKIPPED: {sys.executable} cannot import torch: {e}")
    sys.exit(SKIP)

# |C - torch| <= tol * max(1, |torch|). torch runs in float64 here, so the
# difference is the C's float32 rounding: forward values of a few layers
# (up to 1024 wide) carry a few ulps, about 1e-6.
TOL_OUTPUT = 1e-5
# After one step: the parameters move by lr * (a normalized gradient for
# Adam and RMSprop), computed from float32 gradients. Adam and RMSprop
# divide each gradient element by its running root mean square, so an
# element whose exact gradient is 0 (a Dense bias before a
# BatchNormalization with an active ReLU between: the normalization removes
# any shift) steps by lr times the ratio of two float32 rounding errors of
# the C, which is anything up to lr. Such elements (|g| below NOISE times
# the largest of their tensor, in torch's float64 gradient) are compared only
# against that bound; tests/parity/README.md has the same caveat.
TOL_STEP = 1e-5
NOISE = 1e-5
ROWS = 16
# Initial weights: seqc's and torch's draws from one distribution. The
# ratio of the two standard deviations of n samples has a spread of at most
# about 1 / sqrt(n) (normal draws; uniform ones less), so it must be within
# SAMPLE_SIGMAS / sqrt(n) of 1 (0.25 at the smallest n checked, 400; 0.007
# for a 1024 x 512 kernel): a wrong formula or fan moves it by more (he
# instead of glorot on a 1024 -> 512 kernel by 22%). Means agree within
# SAMPLE_SIGMAS standard errors. Constants (zeros, ones) must be equal.
MIN_SAMPLE = 400
SAMPLE_SIGMAS = 5.0

VERBOSE = False


def log(msg):
    if VERBOSE:
        print(msg)


class Checker:
    def __init__(self, label):
        self.label = label
        self.failures = 0
        self.count = 0
        self.worst = {}

    def check(self, what, c, ref, tol):
        c = torch.as_tensor(c, dtype=torch.float64).reshape(-1)
        ref = torch.as_tensor(ref, dtype=torch.float64).detach().reshape(-1)
        self.count += 1
        if c.shape != ref.shape:
            print(f"FAIL {self.label} {what}: {c.numel()} values (C), {ref.numel()} (torch)")
            self.failures += 1
            return
        if c.numel() == 0:
            return
        err = (c - ref).abs() / torch.clamp(ref.abs(), min=1.0)
        err = torch.where(torch.isfinite(c), err, torch.full_like(err, math.inf))
        k = int(torch.argmax(err))
        e = float(err[k])
        cat = what.split(" ")[0]
        if e > self.worst.get(cat, (-1.0,))[0]:
            self.worst[cat] = (e, what)
        line = (f"{what}: worst at {k}: C {float(c[k]):.9g} torch {float(ref[k]):.9g} "
                f"|diff|/max(1,|torch|) {e:.3g} (tolerance {tol:g})")
        if e > tol:
            print(f"FAIL {self.label} {line}")
            self.failures += 1
        else:
            log(f"  ok {line}")


def noise_amount(m):
    """The rate or standard deviation of a random layer's module; None for others."""
    if isinstance(m, nn.modules.dropout._DropoutNd):
        return m.p
    if type(m).__name__ == "GaussianDropout":
        return m.rate
    if type(m).__name__ == "GaussianNoise":
        return m.stddev
    if type(m).__name__ == "KerasRecurrent":   # recurrent_dropout's masks (and dropout's with it)
        return m.recurrent_dropout
    return None


def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_f32(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.float32).to(torch.float64)


def write_f32(path, t):
    t = t.detach().to(torch.float32).contiguous().reshape(-1)
    import array
    with open(path, "wb") as f:
        f.write(array.array("f", t.tolist()).tobytes())


def make_targets(loss, gen, n, outputs):
    if loss == "binary_crossentropy":
        hard = (torch.rand(n, outputs, generator=gen) < 0.5).double()
        soft = torch.rand(n, outputs, generator=gen, dtype=torch.float64)
        return torch.where(torch.arange(n * outputs).reshape(n, outputs) % 3 == 0, soft, hard)
    if loss == "categorical_crossentropy":
        t = torch.zeros(n, outputs, dtype=torch.float64)
        for i in range(n):
            if i % 2 == 0:
                t[i, int(torch.randint(outputs, (1,), generator=gen))] = 1
            else:
                r = 0.1 + torch.rand(outputs, generator=gen, dtype=torch.float64)
                t[i] = r / r.sum()
        return t
    if loss == "sparse_categorical_crossentropy":
        return torch.randint(outputs, (n,), generator=gen).double()
    # the targets the losses of tests/parity/parity.py's make_targets take
    if loss in ("hinge", "squared_hinge"):
        return (torch.rand(n, outputs, generator=gen) < 0.5).double()
    if loss == "categorical_hinge":
        return torch.eye(outputs, dtype=torch.float64)[torch.randint(outputs, (n,), generator=gen)]
    if loss == "kl_divergence":
        r = 0.1 + torch.rand(n, outputs, generator=gen, dtype=torch.float64)
        return r / r.sum(1, keepdim=True)
    if loss in ("poisson", "msle"):
        return 3 * torch.rand(n, outputs, generator=gen, dtype=torch.float64)
    if loss == "mape":   # away from 0, where |e| / |t| is steep
        sign = torch.where(torch.rand(n, outputs, generator=gen) < 0.5, -1.0, 1.0).double()
        return sign * (0.5 + 1.5 * torch.rand(n, outputs, generator=gen, dtype=torch.float64))
    return 1.5 * torch.randn(n, outputs, generator=gen, dtype=torch.float64)


def kinds(opt):
    """The names of opt's classes (KerasStep wraps the update rule's)."""
    return {c.__name__ for c in type(opt).__mro__}


def optimizer_slots(opt, p, lr_group):
    """The checkpoint's optimizer slots of parameter p, from torch's state."""
    st = opt.state[p]
    k = kinds(opt)
    if k & {"KerasAdam", "KerasAdamW"}:
        out = {"m": st["exp_avg"], "v": st["exp_avg_sq"]}
        if lr_group.get("amsgrad"):
            out["vhat"] = st["max_exp_avg_sq"]
        return out
    if "SGD" in k:
        if "momentum_buffer" not in st or lr_group["momentum"] == 0:
            return {}
        return {"momentum": -lr_group["lr"] * st["momentum_buffer"]}
    if "Adadelta" in k:
        return {"accumulated_grad": st["square_avg"], "accumulated_delta_var": st["acc_delta"]}
    if k & {"KerasRMSprop", "KerasRule"}:
        # the update rules written out keep Keras's slot names
        return dict(st)
    raise ValueError(f"unknown optimizer {type(opt).__name__}")


# Keras's update rules written out (runtime/optim.c), for the optimizer
# the module builds: checked on gradients from 1 down to 1e-9 and 0, where
# Keras's epsilon and torch's differ most.
TOL_RULE = 1e-12


def keras_rule_check(mod, ck):
    grads = torch.tensor([1.0, -0.5, 3e-2, -1e-3, 1e-5, -1e-7, 1e-9, 0.0, 2.0, -4.0], dtype=torch.float64)
    holder = nn.Module()
    holder.w = nn.Parameter(torch.linspace(-1, 1, len(grads), dtype=torch.float64))
    opt = mod.optimizer(holder)
    k = kinds(opt)
    if "KerasApply" in k:
        # the update rule alone: no clipping, schedule, decay or constraint
        opt.clipnorm = opt.global_clipnorm = opt.clipvalue = opt.decoupled_weight_decay = 0.0
        opt.schedule, opt.constraints = None, ()
    g0 = dict(opt.param_groups[0])
    w = holder.w.detach().clone()
    m = torch.zeros_like(w)
    v = torch.zeros_like(w)
    vhat = torch.zeros_like(w)
    avg = torch.zeros_like(w)
    u_product = 1.0
    if k & {"KerasAdagrad", "KerasFtrl"}:
        v = v + g0["initial_accumulator_value"]
    for t in range(1, 4):
        g = grads * (1.0 + 0.5 * t) * (-1) ** t
        holder.w.grad = g.clone()
        opt.step()
        lr = g0["lr"]
        if k & {"KerasAdam", "KerasAdamW"}:
            (b1, b2), eps, wd = g0["betas"], g0["eps"], g0.get("weight_decay", 0.0)
            if "KerasAdamW" in k:
                w = w - lr * wd * w                      # decoupled, before the step
            m = m + (1 - b1) * (g - m)
            v = v + (1 - b2) * (g * g - v)
            if g0.get("amsgrad"):
                vhat = torch.maximum(vhat, v)
            w = w - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (torch.sqrt(vhat if g0.get("amsgrad") else v) + eps)
        elif "SGD" in k or "KerasSGD" in k:
            mom, nesterov = g0["momentum"], g0["nesterov"]
            if mom == 0:
                w = w - lr * g
            else:
                m = mom * m - lr * g
                w = w + (mom * m - lr * g if nesterov else m)
        elif k & {"KerasRMSprop", "KerasCenteredRMSprop"}:
            rho, mom, eps = g0["rho"], g0["momentum"], g0["epsilon"]
            v = rho * v + (1 - rho) * g * g
            if "KerasCenteredRMSprop" in k:
                avg = rho * avg + (1 - rho) * g
                inc = lr * g / torch.sqrt(v - avg * avg + eps)
            else:
                inc = lr * g / torch.sqrt(v + eps)
            if mom > 0:
                m = mom * m + inc
                w = w - m
            else:
                w = w - inc
        elif "KerasAdagrad" in k:
            v = v + g * g
            w = w - lr * g / torch.sqrt(v + g0["epsilon"])
        elif "Adadelta" in k:
            rho, eps = g0["rho"], g0["eps"]
            m = rho * m + (1 - rho) * g * g
            d = -torch.sqrt(v + eps) * g / torch.sqrt(m + eps)
            v = rho * v + (1 - rho) * d * d
            w = w + lr * d
        elif "KerasAdamax" in k:
            b1, b2, eps = g0["beta_1"], g0["beta_2"], g0["epsilon"]
            m = m + (g - m) * (1 - b1)
            v = torch.maximum(b2 * v, g.abs())
            w = w - lr * m / ((1 - b1 ** t) * (v + eps))
        elif "KerasNadam" in k:
            b1, b2, eps = g0["beta_1"], g0["beta_2"], g0["epsilon"]
            u_t, u_t1 = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product *= u_t
            m = m + (g - m) * (1 - b1)
            v = v + (g * g - v) * (1 - b2)
            m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
            w = w - m_hat * lr / (torch.sqrt(v / (1 - b2 ** t)) + eps)
        elif "KerasLion" in k:
            b1, b2 = g0["beta_1"], g0["beta_2"]
            w = w - lr * torch.sign(m * b1 + g * (1 - b1))
            m = m * b2 + g * (1 - b2)
        elif "KerasFtrl" in k:
            power = -g0["learning_rate_power"]
            l1, l2 = g0["l1"], g0["l2"] + g0["beta"] / (2 * lr)
            g2 = g + 2 * g0["l2_shrinkage"] * w
            na = v + g * g
            m = m + g2 - (na ** power - v ** power) / lr * w
            w = (torch.clamp(m, -l1, l1) - m) / (na ** power / lr + 2 * l2)
            v = na
        else:
            raise ValueError(f"unknown optimizer {type(opt).__name__}")
        ck.check(f"rule {type(opt).__name__} step {t} against Keras's formula", holder.w.detach(), w, TOL_RULE)


def schedule_check(a, mod, model_file, ck):
    """learning_rate(step) of a module whose optimizer follows a schedule,
    against tests/parity/parity.py's Keras 3 formulas (keras_schedule), with
    the schedule's arguments read from the IR as parity.py reads them, at
    steps 0 to 99 (the training step checks only one)."""
    if not hasattr(mod, "learning_rate"):
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
    dtype = torch.get_default_dtype()
    import parity   # sets float64 as torch's default dtype: put back below
    torch.set_default_dtype(dtype)
    ir_text = subprocess.run([a.seqc, "--emit=ir", "-O0", model_file], check=True, capture_output=True,
                             text=True).stdout
    sched = parity.parse_ir(ir_text)["opt"]["schedule"]
    steps = range(100)
    ck.check(f"schedule {sched['kind']} at steps 0..99 against Keras's formula",
             torch.tensor([mod.learning_rate(k) for k in steps], dtype=torch.float64),
             torch.tensor([parity.keras_schedule(sched, k) for k in steps], dtype=torch.float64), TOL_RULE)


def init_checks(mod, model, work, label, ck):
    """Keras's initializers in build() against seqc's NAME_init (step 3)."""
    path = os.path.join(work, "init.safetensors")
    if not os.path.exists(path):
        return
    c_init = mod.read_safetensors(path)
    state = model.state_dict()
    for ckpt, key, _, to_torch, _ in mod.TENSORS:
        c = c_init[ckpt].to(torch.float64)
        c = to_torch(c) if to_torch else c
        t = state[key].to(torch.float64)
        if bool((c == c.reshape(-1)[0]).all()):
            ck.check(f"init {ckpt} (a constant)", c, t, 0.0)
        elif c.numel() >= MIN_SAMPLE:
            ratio = float(t.std() / c.std())
            ck.count += 1
            tol = SAMPLE_SIGMAS / math.sqrt(c.numel())
            if abs(ratio - 1) > tol or abs(float(t.mean() - c.mean())) > tol * float(c.std()):
                print(f"FAIL {label} init {ckpt}: torch's draw has mean {float(t.mean()):.4g} and std "
                      f"{float(t.std()):.4g}, seqc's {float(c.mean()):.4g} and {float(c.std()):.4g}")
                ck.failures += 1
            else:
                log(f"  ok init {ckpt}: std ratio torch/seqc {ratio:.4f} over {c.numel()} values (tolerance {tol:.3g})")


def run(a, model_file, label, training_checks):
    """Checks one model file; returns (comparisons, failures, worst)."""
    work = os.path.join(a.workdir, label)
    os.makedirs(work, exist_ok=True)
    ck = Checker(label)
    r = subprocess.run([a.seqc, "--emit=pytorch", "-o", work, model_file], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {label}: seqc --emit=pytorch exited with {r.returncode}\n{r.stderr}")
        return ck
    names = [f[:-3] for f in os.listdir(work) if f.endswith(".py")]
    if len(names) != 1:
        print(f"FAIL {label}: expected one NAME.py in {work}, found {names}")
        ck.failures += 1
        return ck
    name = names[0]
    mod = import_file(os.path.join(work, name + ".py"), name)

    model = mod.build().double()
    # random layers: Dropout (Spatial and Alpha too), GaussianDropout, GaussianNoise
    dropouts = [noise_amount(m) for m in model.modules() if noise_amount(m) is not None]
    if training_checks == "nodrop" and any(a != 0 for a in dropouts):
        print(f"FAIL {label}: the dropout-free variant still has Dropout or noise rates {dropouts}")
        ck.failures += 1
        return ck
    active_dropout = any(a > 0 for a in dropouts)

    gen = torch.Generator().manual_seed(sum(ord(c) * (i + 1) for i, c in enumerate(name)))
    n = max(2, min(ROWS, mod.BATCH_SIZE))
    first = next(iter(model.children()))
    if isinstance(first, nn.Embedding):   # ids: integers in [0, input_dim)
        x = torch.randint(0, first.num_embeddings, (n,) + tuple(mod.INPUT_SHAPE), generator=gen).double()
    else:
        x = torch.randn((n,) + tuple(mod.INPUT_SHAPE), generator=gen, dtype=torch.float64).to(torch.float32).double()
    outputs = math.prod(mod.OUTPUT_SHAPE)
    t = make_targets(mod.LOSS, gen, n, outputs) if mod.LOSS else torch.zeros(n, outputs, dtype=torch.float64)
    t = t.to(torch.float32).double()
    write_f32(os.path.join(work, "x.f32"), x)
    write_f32(os.path.join(work, "t.f32"), t)
    r = subprocess.run([a.driver, name, str(n), os.path.join(work, "x.f32"), os.path.join(work, "t.f32"), work],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {label}: pytorch_driver exited with {r.returncode}\n{r.stdout}{r.stderr}")
        ck.failures += 1
        return ck

    # after the driver, which writes init.safetensors (a fresh work folder has none before)
    init_checks(mod, model, work, label, ck)

    before = os.path.join(work, "before.safetensors")
    opt = mod.optimizer(model) if mod.LOSS else None
    if opt is not None:
        mod.load_checkpoint(model, before, opt)
    else:
        mod.load_checkpoint(model, before)

    model.eval()
    with torch.no_grad():
        ck.check("output at inference", read_f32(os.path.join(work, "y_infer.f32")), model(x), TOL_OUTPUT)
    if training_checks != "nodrop":
        import io
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(mod.build().eval(), torch.zeros((1,) + tuple(mod.INPUT_SHAPE)), io.BytesIO())
                log(f"  ok {label}: torch.onnx.export")
            except Exception as e:   # the export's own errors are many kinds
                print(f"FAIL {label}: torch.onnx.export: {type(e).__name__}: {e}")
                ck.failures += 1
    if not mod.LOSS:
        return ck

    if not active_dropout:
        model.train()
        with torch.no_grad():
            ck.check("output in training mode", read_f32(os.path.join(work, "y_train.f32")), model(x), TOL_OUTPUT)
        mod.load_checkpoint(model, before, opt)   # the training forward moved BatchNorm's statistics
    if active_dropout or training_checks == "none":
        log(f"  {label}: Dropout is active, training is checked on the dropout-free variant")
        return ck

    keras_rule_check(mod, ck)
    schedule_check(a, mod, model_file, ck)

    # one training step, with the rows of BatchNorm's statistics recorded
    rows = {}
    old = {k: v.detach().clone() for k, v in model.state_dict().items()}
    hooks = []
    for mname, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            hooks.append(m.register_forward_hook(
                lambda mod_, inp, out, mname=mname: rows.__setitem__(mname, inp[0].numel() // mod_.num_features)))
    value = mod.train_step(model, opt, x, t)
    for h in hooks:
        h.remove()
    ck.check("loss of the training step", read_f32(os.path.join(work, "loss.f32")), torch.tensor([value], dtype=torch.float64),
             TOL_OUTPUT)

    after = mod.read_safetensors(os.path.join(work, "after.safetensors"))
    state = model.state_dict()
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    # update rules that normalize (or take the sign of) each gradient element
    adaptive = not kinds(opt) & {"SGD", "KerasSGD"}
    lr = opt.param_groups[0]["lr"]
    for ckpt, key, trainable, to_torch, _ in mod.TENSORS:
        c = after[ckpt]
        c = to_torch(c) if to_torch else c
        ref = state[key]
        if trainable and adaptive and params[key].grad is not None:
            g = params[key].grad.detach().abs().reshape(-1)
            noise = g <= NOISE * max(float(g.max()), 1e-30)
            if bool(noise.any()):
                c = c.to(torch.float64).reshape(-1)
                ref = ref.detach().reshape(-1)
                step = (c[noise] - ref[noise]).abs().max()
                log(f"  {int(noise.sum())} element(s) of {ckpt} have a gradient within float32 noise of 0: "
                    f"|C - torch| {float(step):.3g}, bound lr = {lr:g}")
                if float(step) > lr:
                    print(f"FAIL {label} param {ckpt}: an element with a gradient of about 0 stepped "
                          f"{float(step):.3g} from torch's, more than lr = {lr:g}")
                    ck.failures += 1
                c, ref = c[~noise], ref[~noise]
        mname, attr = key.rsplit(".", 1)
        if attr == "running_var" and isinstance(modules[mname], nn.modules.batchnorm._BatchNorm):
            m = 1.0 - modules[mname].momentum          # Keras's momentum
            rv0, nb = old[key], rows[mname]
            ref = m * rv0 + (ref - m * rv0) * (nb - 1) / nb
            ck.check(f"buffer {ckpt} after the step (torch's unbiased update mapped, n={nb})", c, ref, TOL_STEP)
        else:
            ck.check(f"{'param' if trainable else 'buffer'} {ckpt} after the step", c, ref, TOL_STEP)
        if trainable:
            for slot, v in optimizer_slots(opt, params[key], opt.param_groups[0]).items():
                c = after[f"optimizer.{ckpt}.{slot}"]
                ck.check(f"slot optimizer.{ckpt}.{slot} after the step", to_torch(c) if to_torch else c, v,
                         TOL_STEP)
    before_step = int(mod.read_safetensors(before)["train.step"])
    if int(after["train.step"]) != before_step + 1:
        print(f"FAIL {label}: train.step {int(after['train.step'])} after the step from {before_step}")
        ck.failures += 1

    # back to seqc: the module's checkpoint, loaded by the C
    tuned = os.path.join(work, "tuned.safetensors")
    mod.save_checkpoint(model, tuned)
    out = os.path.join(work, "y_tuned.f32")
    r = subprocess.run([a.driver, name, str(n), os.path.join(work, "x.f32"), "--predict", tuned, out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {label}: the C cannot load save_checkpoint's file:\n{r.stdout}{r.stderr}")
        ck.failures += 1
        return ck
    model.eval()
    with torch.no_grad():
        ck.check("output of the C with save_checkpoint's weights", read_f32(out), model(x), TOL_OUTPUT)
    return ck


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("--seqc", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--nodrop")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    VERBOSE = a.v
    torch.manual_seed(0)
    base = os.path.basename(a.model)[:-3]
    runs = [run(a, a.model, base, "none" if a.nodrop else "all")]
    if a.nodrop:
        runs.append(run(a, a.nodrop, base + "_nodrop", "nodrop"))
    failures = sum(ck.failures for ck in runs)
    for ck in runs:
        worst = ", ".join(f"{cat} {e:.2g}" for cat, (e, _) in sorted(ck.worst.items()))
        print(f"{'FAIL' if ck.failures else 'PASS'} {ck.label}: {ck.count} comparisons, {ck.failures} failed; "
              f"worst relative errors: {worst}")
    return 1 if failures or not all(ck.count for ck in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
