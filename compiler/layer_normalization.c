/*
 * layer_normalization.c - Keras's Normalization layer: y = (x - mean) /
 * max(sqrt(variance), 1e-7) per feature of the last axis.
 *
 * The statistics are not trainable: the runtime adapts them to the
 * training data before fit (seqrt_adapt, from the descriptor's
 * norm_mean_offset), which is why it must be the first layer. They are
 * saved as "k.mean" and "k.variance". The baked build folds it into a scale
 * per feature, and that into the Dense after it. Normalization(axis=None)
 * keeps one scalar mean and variance for every element (Keras's mean of
 * shape ()), saved with shape [1].
 */
#include <math.h>

#include "seqc.h"

typedef struct {
    Axis axis;
    int scalar;       /* axis=None: one mean and variance for everything */
} NormalizationAttr;

static const CallSpec spec_normalization = {"Normalization", 3, {
    {"axis", T_ANY}, {"mean", T_NONE}, {"variance", T_NONE},
    {"invert", T_BOOL}, LAYER_KWARGS}};

static int lower_normalization(Lower *lw, Layer *l)
{
    NormalizationAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    Value *axis = lower_arg(lw, "axis");
    int err = 0;
    if (axis && axis->kind == VAL_NONE) {
        a->scalar = 1;
        a->axis.axis = -1;
        a->axis.loc = axis->loc;
    } else if (axis && axis->kind != VAL_INT) {
        err = lower_type_error(lw, axis, "axis", "an integer or None");
    } else {
        err = lower_axis(lw, &a->axis);
    }
    int invert;
    err |= lower_bool(lw, "invert", 0, &invert);
    if (!err && invert) {
        diag_error(lw->src, lower_loc(lw, "invert"), "Normalization(invert=True) is not supported");
        err = -1;
    }
    if (!err && lw->m->nlayers != 1) {
        diag_error(lw->src, lw->call->loc, "Normalization must be the first layer: seqc adapts it to the input "
                   "features");
        err = -1;
    }
    return err;
}

static const Syntax syntax_normalization = {&spec_normalization, lower_normalization};

static int infer(const Source *src, Layer *l)
{
    const NormalizationAttr *a = l->attr;
    return a->scalar ? 0 : ir_check_last_axis(src, l, a->axis, "Normalization");
}

/* The features the statistics are kept for: the last axis, or 1. */
static int features(const Layer *l)
{
    const NormalizationAttr *a = l->attr;
    return a->scalar ? 1 : shape_last(&l->out);
}

static void print(FILE *f, const Layer *l)
{
    const NormalizationAttr *a = l->attr;
    if (a->scalar)
        fprintf(f, " axis=None");
}

static void params(Layer *l)
{
    int c = features(l);
    ir_add_param(l, "mean", "mean", 0, shape_1d(c), SEQRT_INIT_ZEROS, c, c);
    ir_add_param(l, "variance", "variance", 0, shape_1d(c), SEQRT_INIT_ONES, c, c);
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const NormalizationAttr *a = l->attr;
    if (a->scalar)
        emit_line(e, "seqrt_normalization_forward(%s, %s, %s, %s, (int)((long)n * %ld), 1); /* axis=None */", s->y,
                  s->x, emit_param(e, l, "mean"), emit_param(e, l, "variance"), shape_size(&l->out));
    else
        emit_line(e, "seqrt_normalization_forward(%s, %s, %s, %s, %s, %d);", s->y, s->x, emit_param(e, l, "mean"),
                  emit_param(e, l, "variance"), s->rows, shape_last(&l->out));
}

static void bake(Bake *b, const Layer *l)
{
    Stage *st = bake_stage(b, ST_SCALE, l, arena_printf("%d: normalization", l->index));
    int c = shape_last(&l->out), f = features(l);
    double *mean = bake_param(b, l, "mean", f, 0.0), *var = bake_param(b, l, "variance", f, 1.0);
    st->s = bake_alloc(c);
    st->t = bake_alloc(c);
    for (int j = 0; j < c; j++) {
        int k = f == 1 ? 0 : j;
        double d = sqrt(var[k]) > 1e-7 ? sqrt(var[k]) : 1e-7;
        st->s[j] = 1.0 / d;
        st->t[j] = -mean[k] / d;
    }
}

/* torch has no Normalization layer: a module with the statistics as
 * buffers, and adapt() as seqc's runtime does it before fit. */
static void pytorch(PyEmit *e, const Layer *l)
{
    py_helper(e, "Normalization",
              "class Normalization(nn.Module):\n"
              "    \"\"\"Keras's Normalization over the last axis: (x - mean) / max(sqrt(variance),\n"
              "    1e-7), the statistics as buffers (one mean and one variance for\n"
              "    axis=None). adapt(x) sets them from data as seqc does before fit(): the\n"
              "    mean and the biased variance of each feature (of all elements for\n"
              "    axis=None).\"\"\"\n"
              "\n"
              "    def __init__(self, features):\n"
              "        super().__init__()\n"
              "        self.register_buffer(\"mean\", torch.zeros(features))\n"
              "        self.register_buffer(\"variance\", torch.ones(features))\n"
              "\n"
              "    def forward(self, x):\n"
              "        return (x - self.mean) / torch.clamp(torch.sqrt(self.variance), min=1e-7)\n"
              "\n"
              "    @torch.no_grad()\n"
              "    def adapt(self, x):\n"
              "        x = x.reshape(-1, self.mean.numel()).double()\n"
              "        self.mean.copy_(x.mean(0))\n"
              "        self.variance.copy_(x.var(0, unbiased=False))\n");
    py_module(e, l, NULL, "Normalization(%d)%s", features(l), features(l) == 1 && shape_last(&l->out) != 1 ?
              "  # axis=None: one mean and variance" : "");
    py_tensor(e, l, "mean", NULL, "mean", NULL, NULL);
    py_tensor(e, l, "variance", NULL, "variance", NULL, NULL);
}

const LayerKind kind_normalization = {
    .name = "normalization",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_normalization, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .forward = forward,
    .bake = bake,
    .pytorch = pytorch,
};
