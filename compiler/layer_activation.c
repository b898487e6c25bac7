/*
 * layer_activation.c - an activation as a layer of its own: Activation(...)
 * and the Keras layer forms ReLU(max_value, negative_slope, threshold),
 * LeakyReLU(negative_slope), ELU(alpha) and Softmax(axis).
 *
 * The function and its parameters are l->act; every formula lives in
 * runtime/seqrt_acts.def. Canonicalize splits a Dense's activation into
 * one of these and fuse merges it back (LK_ACTIVATION), so this kind is
 * also how the passes see every activation. Row-wise activations (softmax,
 * log_softmax) work over the last axis. Backward overwrites the gradient
 * in place; the baked build makes it one activation stage.
 */
#include <math.h>
#include <string.h>

#include "seqc.h"

static const CallSpec spec_activation = {"Activation", 1, {
    {"activation", T_ACT}, LAYER_KWARGS}};
static const CallSpec spec_relu = {"ReLU", 3, {
    {"max_value", T_ANY}, {"negative_slope", T_FLOAT}, {"threshold", T_FLOAT},
    LAYER_KWARGS}};
static const CallSpec spec_leaky_relu = {"LeakyReLU", 1, {
    {"negative_slope", T_FLOAT}, {"alpha", T_FLOAT}, LAYER_KWARGS}};
static const CallSpec spec_elu = {"ELU", 1, {
    {"alpha", T_FLOAT}, LAYER_KWARGS}};
static const CallSpec spec_softmax = {"Softmax", 1, {
    {"axis", T_INT}, LAYER_KWARGS}};

static int lower_activation(Lower *lw, Layer *l)
{
    if (!lower_arg(lw, "activation")) {
        diag_error(lw->src, lw->call->loc, "Activation needs an activation name, e.g. Activation(\"relu\")");
        return -1;
    }
    return lower_act(lw, "activation", &l->act);
}

/* Keras's ReLU layer rejects negative values of all three. */
static int not_negative(Lower *lw, const char *name, double v)
{
    if (v >= 0)
        return 0;
    diag_error(lw->src, lower_loc(lw, name), "%s of a ReLU layer cannot be negative, not %g", name, v);
    return -1;
}

static int lower_relu(Lower *lw, Layer *l)
{
    double slope, threshold, max_value = HUGE_VAL;
    int err = lower_float(lw, "negative_slope", 0.0, &slope);
    err |= lower_float(lw, "threshold", 0.0, &threshold);
    Value *mv = lower_arg(lw, "max_value");
    if (mv && mv->kind != VAL_NONE)
        err |= lower_float(lw, "max_value", 0.0, &max_value);
    if (err)
        return err;
    err |= not_negative(lw, "max_value", max_value);
    err |= not_negative(lw, "negative_slope", slope);
    err |= not_negative(lw, "threshold", threshold);
    l->act = act_default(SEQRT_ACT_RELU);
    l->act.p[0] = slope;
    l->act.p[1] = max_value;
    l->act.p[2] = threshold;
    return err;
}

static int lower_leaky_relu(Lower *lw, Layer *l)
{
    double slope;
    const char *name = lower_arg(lw, "alpha") && !lower_arg(lw, "negative_slope") ? "alpha" : "negative_slope";
    if (lower_arg(lw, "alpha") && lower_arg(lw, "negative_slope")) {
        diag_error(lw->src, lower_loc(lw, "alpha"), "give negative_slope or alpha (its Keras 2 name), not both");
        return -1;
    }
    if (lower_float(lw, name, 0.3, &slope))   /* the layer's default; the function's is 0.2 */
        return -1;
    if (!strcmp(name, "alpha"))
        diag_warning(lw->src, lower_loc(lw, "alpha"), "LeakyReLU's 'alpha' is 'negative_slope' in Keras 3");
    if (slope < 0) {
        diag_error(lw->src, lower_loc(lw, name), "the negative_slope of a LeakyReLU layer cannot be negative, not %g",
                   slope);
        return -1;
    }
    l->act = act_default(SEQRT_ACT_LEAKY_RELU);
    l->act.p[0] = slope;
    return 0;
}

static int lower_elu(Lower *lw, Layer *l)
{
    l->act = act_default(SEQRT_ACT_ELU);
    return lower_float(lw, "alpha", 1.0, &l->act.p[0]);
}

typedef struct {
    Axis axis;   /* -1 or by number: checked against the input's rank */
} SoftmaxAttr;

static int lower_softmax(Lower *lw, Layer *l)
{
    SoftmaxAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    l->act = act_default(SEQRT_ACT_SOFTMAX);
    return lower_axis(lw, &a->axis);
}

static const Syntax syntax_activation = {&spec_activation, lower_activation};
static const Syntax syntax_relu = {&spec_relu, lower_relu};
static const Syntax syntax_leaky_relu = {&spec_leaky_relu, lower_leaky_relu};
static const Syntax syntax_elu = {&spec_elu, lower_elu};
static const Syntax syntax_softmax = {&spec_softmax, lower_softmax};

static int infer(const Source *src, Layer *l)
{
    const SoftmaxAttr *a = l->attr;
    return a ? ir_check_last_axis(src, l, a->axis, "Softmax") : 0;
}

static int noop(const Layer *l)
{
    return act_is_linear(l->act);
}

static void forward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_act_forward(%s, %s, %s, %d, %s);", s->y, s->x, s->rows, shape_last(&s->l->out),
              emit_act(e, s->act));
}

static void backward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_act_backward(%s, %s, %s, %s, %s, %d, %s);%s", s->dx, s->dy, s->x, s->y, s->rows,
              shape_last(&s->l->out), emit_act(e, s->act), !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* the baker adds every layer's activation itself */
}

/* ---------------------------------------------------------------- PyTorch */

/* Every activation of seqrt_acts.def as a torch module: torch's own where
 * it computes Keras's formula (the kinks' derivatives agree: seqc follows
 * PyTorch's), a small module after Keras's formula where it has none. One
 * function py_ID per row: a row without one does not compile (the table
 * below names them all). nn.Softplus returns x above 20 where Keras
 * computes log1p(exp(x)); they differ by less than 2.1e-9 there. */
#define PY_MODULE(ID, text)                          \
    static const char *py_##ID(PyEmit *e, Act a)     \
    {                                                \
        (void)e, (void)a;                            \
        return text;                                 \
    }
PY_MODULE(LINEAR, "nn.Identity()")
PY_MODULE(SIGMOID, "nn.Sigmoid()")
PY_MODULE(TANH, "nn.Tanh()")
PY_MODULE(SOFTMAX, "nn.Softmax(dim=-1)")
PY_MODULE(SELU, "nn.SELU()")
PY_MODULE(GELU, "nn.GELU()")   /* exact (erf), Keras's approximate=False */
PY_MODULE(SILU, "nn.SiLU()")
PY_MODULE(SOFTPLUS, "nn.Softplus()")
PY_MODULE(RELU6, "nn.ReLU6()")
PY_MODULE(HARD_SIGMOID, "nn.Hardsigmoid()")   /* relu6(x + 3) / 6, Keras 3's */
PY_MODULE(HARD_SILU, "nn.Hardswish()")
PY_MODULE(MISH, "nn.Mish()")
PY_MODULE(SOFTSIGN, "nn.Softsign()")
PY_MODULE(LOG_SIGMOID, "nn.LogSigmoid()")
PY_MODULE(HARD_TANH, "nn.Hardtanh()")
PY_MODULE(TANH_SHRINK, "nn.Tanhshrink()")
PY_MODULE(LOG_SOFTMAX, "nn.LogSoftmax(dim=-1)")
#undef PY_MODULE

static const char *py_ELU(PyEmit *e, Act a)
{
    (void)e;
    return arena_printf("nn.ELU(alpha=%s)", py_float(a.p[0]));
}

static const char *py_LEAKY_RELU(PyEmit *e, Act a)
{
    (void)e;
    return arena_printf("nn.LeakyReLU(negative_slope=%s)", py_float(a.p[0]));
}

static const char *py_CELU(PyEmit *e, Act a)
{
    (void)e;
    return arena_printf("nn.CELU(alpha=%s)", py_float(a.p[0]));
}

static const char *py_SOFT_SHRINK(PyEmit *e, Act a)
{
    (void)e;
    return arena_printf("nn.Softshrink(lambd=%s)", py_float(a.p[0]));
}

static const char *py_HARD_SHRINK(PyEmit *e, Act a)
{
    (void)e;
    return arena_printf("nn.Hardshrink(lambd=%s)", py_float(a.p[0]));
}

/* relu(negative_slope, max_value, threshold): torch's ReLU, ReLU6 or
 * LeakyReLU when it is one of them, else Keras's formula. */
static const char *py_RELU(PyEmit *e, Act a)
{
    double slope = a.p[0], max = a.p[1], threshold = a.p[2];
    int unbounded = max >= 1e30;
    if (threshold == 0 && unbounded)
        return slope == 0 ? "nn.ReLU()" : arena_printf("nn.LeakyReLU(negative_slope=%s)", py_float(slope));
    if (threshold == 0 && slope == 0 && max == 6)
        return "nn.ReLU6()";
    py_helper(e, "KerasReLU",
              "class KerasReLU(nn.Module):\n"
              "    \"\"\"Keras's relu(x, negative_slope, max_value, threshold), the ReLU layer:\n"
              "    min(x if x > threshold else 0, max_value) - negative_slope * max(threshold - x, 0).\"\"\"\n"
              "\n"
              "    def __init__(self, negative_slope=0.0, max_value=math.inf, threshold=0.0):\n"
              "        super().__init__()\n"
              "        self.negative_slope, self.max_value, self.threshold = negative_slope, max_value, threshold\n"
              "\n"
              "    def forward(self, x):\n"
              "        y = torch.clamp(torch.where(x > self.threshold, x, torch.zeros_like(x)), max=self.max_value)\n"
              "        return y - self.negative_slope * torch.clamp(self.threshold - x, min=0.0)\n");
    return arena_printf("KerasReLU(negative_slope=%s, max_value=%s, threshold=%s)", py_float(slope),
                        py_float(max), py_float(threshold));
}

static const char *py_EXPONENTIAL(PyEmit *e, Act a)
{
    (void)a;
    py_helper(e, "Exponential",
              "class Exponential(nn.Module):\n"
              "    \"\"\"Keras's exponential activation: exp(x).\"\"\"\n"
              "\n"
              "    def forward(self, x):\n"
              "        return torch.exp(x)\n");
    return "Exponential()";
}

static const char *py_SQUAREPLUS(PyEmit *e, Act a)
{
    py_helper(e, "Squareplus",
              "class Squareplus(nn.Module):\n"
              "    \"\"\"Keras's squareplus: (x + sqrt(x^2 + b)) / 2, for x < 0 as\n"
              "    b / (2 (sqrt(x^2 + b) - x)), the same value without cancellation.\"\"\"\n"
              "\n"
              "    def __init__(self, b=4.0):\n"
              "        super().__init__()\n"
              "        self.b = b\n"
              "\n"
              "    def forward(self, x):\n"
              "        r = torch.sqrt(x * x + self.b)\n"
              "        return torch.where(x >= 0, 0.5 * (x + r), 0.5 * self.b / (r - x))\n");
    return arena_printf("Squareplus(b=%s)", py_float(a.p[0]));
}

static const char *py_SPARSE_PLUS(PyEmit *e, Act a)
{
    (void)a;
    py_helper(e, "SparsePlus",
              "class SparsePlus(nn.Module):\n"
              "    \"\"\"Keras's sparse_plus: 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1.\"\"\"\n"
              "\n"
              "    def forward(self, x):\n"
              "        return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))\n");
    return "SparsePlus()";
}

static const char *py_SPARSE_SIGMOID(PyEmit *e, Act a)
{
    (void)a;
    py_helper(e, "SparseSigmoid",
              "class SparseSigmoid(nn.Module):\n"
              "    \"\"\"Keras's sparse_sigmoid: 0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1.\"\"\"\n"
              "\n"
              "    def forward(self, x):\n"
              "        return torch.clamp(0.5 * (x + 1), 0.0, 1.0)\n");
    return "SparseSigmoid()";
}

typedef const char *(*PyActFn)(PyEmit *e, Act a);
static const PyActFn py_acts[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) [SEQRT_ACT_##id] = py_##id,
#define ACT_ROW(id, name, flags, FR, BR, desc) [SEQRT_ACT_##id] = py_##id,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

const char *py_act(PyEmit *e, Act a)
{
    if ((unsigned)a.kind >= SEQRT_ACT_COUNT)
        ir_internal_error("an activation that is not a seqrt_act");
    return py_acts[a.kind](e, a);
}

static void pytorch(PyEmit *e, const Layer *l)
{
    py_layout(e, l, PY_ANY_LAYOUT);   /* py_activation asks for channels-last where it matters */
    if (act_is_linear(l->act))
        py_module(e, l, NULL, "nn.Identity()");
    py_activation(e, l, NULL, l->act);
}

const LayerKind kind_activation = {
    .name = "activation",
    .props = LK_ACTIVATION | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_activation, &syntax_relu, &syntax_leaky_relu, &syntax_elu,
                                      &syntax_softmax, NULL},
    .infer = infer,
    .noop = noop,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
