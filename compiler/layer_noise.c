/*
 * layer_noise.c - GaussianNoise, GaussianDropout, AlphaDropout: noise in
 * training, the identity at inference (LK_TRAIN_ONLY), as Keras 3's
 * layers (keras/src/layers/regularization):
 *
 *   GaussianNoise(stddev):  y = x + N(0, stddev^2)
 *   GaussianDropout(rate):  y = x * N(1, rate / (1 - rate))
 *   AlphaDropout(rate):     a dropped element becomes -scale * alpha of
 *                           SELU, then y = a x' + b with Keras's a and b,
 *                           which keep a SELU network's mean and variance
 *
 * Backward multiplies by the kept factor (the mask: the noise factor, a or
 * 0), in place; GaussianNoise's is the identity. Each draws from the
 * model's random stream, or from one of its own for seed=... (its state is
 * saved as "train.rng.<k>"), so a run is reproducible but does not repeat
 * Keras's own random numbers. No parameters.
 */
#include <string.h>

#include "seqc.h"

typedef enum { NOISE_GAUSSIAN, NOISE_GAUSSIAN_DROPOUT, NOISE_ALPHA_DROPOUT } NoiseKind;

typedef struct {
    NoiseKind kind;
    double amount;    /* stddev or rate */
    int64_t seed;     /* -1: none given */
} NoiseAttr;

static const CallSpec spec_gaussian_noise = {"GaussianNoise", 2, {
    {"stddev", T_FLOAT}, {"seed", T_INT}, LAYER_KWARGS}};
static const CallSpec spec_gaussian_dropout = {"GaussianDropout", 2, {
    {"rate", T_FLOAT}, {"seed", T_INT}, LAYER_KWARGS}};
static const CallSpec spec_alpha_dropout = {"AlphaDropout", 3, {
    {"rate", T_FLOAT}, {"noise_shape", T_NONE}, {"seed", T_INT}, LAYER_KWARGS}};

static int lower_noise(Lower *lw, Layer *l, NoiseKind kind, const char *arg)
{
    NoiseAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->kind = kind;
    Value *v = lower_arg(lw, arg);
    if (!v) {
        diag_error(lw->src, lw->call->loc, "%s needs its %s, e.g. %s(0.1)", lw->spec->name, arg, lw->spec->name);
        return -1;
    }
    int err = lower_float(lw, arg, 0, &a->amount);
    err |= lower_int(lw, "seed", -1, &a->seed);
    if (!err && !(a->amount >= 0 && a->amount <= 1)) {
        diag_error(lw->src, v->loc, "%s must be in [0, 1] (Keras raises for it too)", arg);
        err = -1;
    }
    if (!err && kind != NOISE_GAUSSIAN && a->amount == 1) {
        diag_error(lw->src, v->loc, "rate must be below 1 (every element would be dropped)");
        err = -1;
    }
    return err;
}

static int lower_gaussian_noise(Lower *lw, Layer *l) { return lower_noise(lw, l, NOISE_GAUSSIAN, "stddev"); }
static int lower_gaussian_dropout(Lower *lw, Layer *l) { return lower_noise(lw, l, NOISE_GAUSSIAN_DROPOUT, "rate"); }
static int lower_alpha_dropout(Lower *lw, Layer *l) { return lower_noise(lw, l, NOISE_ALPHA_DROPOUT, "rate"); }

static const Syntax syntax_gaussian_noise = {&spec_gaussian_noise, lower_gaussian_noise};
static const Syntax syntax_gaussian_dropout = {&spec_gaussian_dropout, lower_gaussian_dropout};
static const Syntax syntax_alpha_dropout = {&spec_alpha_dropout, lower_alpha_dropout};

static int infer(const Source *src, Layer *l)
{
    (void)src, (void)l;
    return 0;
}

static const char *const kind_names[] = {"gaussian_noise", "gaussian_dropout", "alpha_dropout"};

static void print(FILE *f, const Layer *l)
{
    const NoiseAttr *a = l->attr;
    fprintf(f, " %s %s=%.9g", kind_names[a->kind], a->kind == NOISE_GAUSSIAN ? "stddev" : "rate", a->amount);
    if (a->seed >= 0)
        fprintf(f, " seed=%lld", (long long)a->seed);
}

static int noop(const Layer *l)
{
    const NoiseAttr *a = l->attr;
    return a->amount == 0;
}

static void plan(Plan *p, Layer *l)
{
    const NoiseAttr *a = l->attr;
    if (a->kind != NOISE_GAUSSIAN)
        plan_keep(p, l, "mask", l->out, a->kind == NOISE_ALPHA_DROPOUT ? "a or 0" : "the noise factor");
}

static void forward(Emit *e, const Site *s)
{
    const NoiseAttr *a = s->l->attr;
    long size = shape_size(&s->l->out);
    if (a->kind == NOISE_GAUSSIAN)
        emit_line(e, "seqrt_gaussian_noise_forward(%s, %s, (long)n * %ld, %s, %s, 1);", s->y, s->x, size,
                  float_literal(a->amount), emit_rng(e, s->l));
    else
        emit_line(e, "seqrt_%s_forward(%s, %s, %s, (long)n * %ld, %s, %s, 1);", kind_names[a->kind], s->y,
                  emit_keep(e, s->l, "mask"), s->x, size, float_literal(a->amount), emit_rng(e, s->l));
}

static void backward(Emit *e, const Site *s)
{
    const NoiseAttr *a = s->l->attr;
    emit_line(e, "seqrt_noise_backward(%s, %s, %s, (long)n * %ld);%s", s->dx, s->dy,
              a->kind == NOISE_GAUSSIAN ? "NULL" : emit_keep(e, s->l, "mask"), shape_size(&s->l->out),
              !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* the identity at inference */
}

static int64_t seed(const Layer *l)
{
    const NoiseAttr *a = l->attr;
    return a->seed;
}

/* GaussianNoise and GaussianDropout as small modules (torch has neither),
 * AlphaDropout as nn.AlphaDropout (the same a, b and dropped value as
 * Keras's); all the identity in eval(). */
static void pytorch(PyEmit *e, const Layer *l)
{
    const NoiseAttr *a = l->attr;
    py_layout(e, l, PY_ANY_LAYOUT);   /* elementwise */
    switch (a->kind) {
    case NOISE_GAUSSIAN:
        py_helper(e, "GaussianNoise",
                  "class GaussianNoise(nn.Module):\n"
                  "    \"\"\"Keras's GaussianNoise: x + N(0, stddev^2) in training, the identity at\n"
                  "    inference.\"\"\"\n"
                  "\n"
                  "    def __init__(self, stddev):\n"
                  "        super().__init__()\n"
                  "        self.stddev = stddev\n"
                  "\n"
                  "    def forward(self, x):\n"
                  "        return x + self.stddev * torch.randn_like(x) if self.training else x\n"
                  "\n"
                  "    def extra_repr(self):\n"
                  "        return f\"stddev={self.stddev}\"\n");
        py_module(e, l, NULL, "GaussianNoise(%s)", py_float(a->amount));
        break;
    case NOISE_GAUSSIAN_DROPOUT:
        py_helper(e, "GaussianDropout",
                  "class GaussianDropout(nn.Module):\n"
                  "    \"\"\"Keras's GaussianDropout: x * N(1, rate / (1 - rate)) in training, the\n"
                  "    identity at inference.\"\"\"\n"
                  "\n"
                  "    def __init__(self, rate):\n"
                  "        super().__init__()\n"
                  "        self.rate = rate\n"
                  "\n"
                  "    def forward(self, x):\n"
                  "        if not self.training or self.rate == 0:\n"
                  "            return x\n"
                  "        return x * (1 + math.sqrt(self.rate / (1 - self.rate)) * torch.randn_like(x))\n"
                  "\n"
                  "    def extra_repr(self):\n"
                  "        return f\"rate={self.rate}\"\n");
        py_module(e, l, NULL, "GaussianDropout(%s)", py_float(a->amount));
        break;
    case NOISE_ALPHA_DROPOUT:
        py_module(e, l, NULL, "nn.AlphaDropout(p=%s)", py_float(a->amount));
        break;
    }
    py_note(e, l, "a random layer: the identity at inference in both; in training torch draws its own "
                  "noise, not seqc's (from its xoshiro128** streams, saved as train.rng%s), so a training "
                  "step differs from seqc's by the noise.",
            a->seed >= 0 ? arena_printf(".%d, from seed=%lld", l->index, (long long)a->seed) : "");
}

const LayerKind kind_noise = {
    .name = "noise",
    .props = LK_TRAIN_ONLY | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_gaussian_noise, &syntax_gaussian_dropout, &syntax_alpha_dropout, NULL},
    .infer = infer,
    .print = print,
    .noop = noop,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .seed = seed,
    .pytorch = pytorch,
};
