/*
 * layer_spatial_dropout.c - SpatialDropout1D/2D: Dropout of whole channels
 * (keras/src/layers/regularization/spatial_dropout.py: the noise shape is
 * (batch, 1, channels) or (batch, 1, 1, channels)).
 *
 * In training each channel of each sample is dropped with probability
 * `rate` and the kept ones scaled by 1 / (1 - rate); the mask, one value
 * per (sample, channel), is kept for backward, which works in place. The
 * identity at inference (LK_TRAIN_ONLY). The bits come from the model's
 * random stream, or from the layer's own with seed=... (saved as
 * "train.rng.<k>"), drawn as Dropout draws them (dropout.c), one per
 * (sample, channel) in that order.
 */
#include <string.h>

#include "seqc.h"

typedef struct {
    const char *what;
    int rank;
    double rate;
    int64_t seed;     /* -1: none given */
} SpatialDropoutAttr;

static const CallSpec spec_sd1 = {"SpatialDropout1D", 2, {{"rate", T_FLOAT}, {"seed", T_INT}, LAYER_KWARGS}},
                      spec_sd2 = {"SpatialDropout2D", 3, {{"rate", T_FLOAT}, {"data_format", T_ANY},
                                                          {"seed", T_INT}, LAYER_KWARGS}};

static int lower_spatial_dropout(Lower *lw, Layer *l)
{
    SpatialDropoutAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    a->rank = lw->spec == &spec_sd1 ? 1 : 2;
    Value *r = lower_arg(lw, "rate");
    if (!r) {
        diag_error(lw->src, lw->call->loc, "%s needs a rate, e.g. %s(0.2)", a->what, a->what);
        return -1;
    }
    int err = lower_float(lw, "rate", 0, &a->rate);
    err |= lower_int(lw, "seed", -1, &a->seed);
    if (a->rank == 2)
        err |= lower_data_format(lw);
    if (!err && !(a->rate >= 0 && a->rate < 1)) {
        diag_error(lw->src, r->loc, "dropout rate must be in [0, 1), not %g", a->rate);
        err = -1;
    }
    return err;
}

static const Syntax syntax_sd1 = {&spec_sd1, lower_spatial_dropout}, syntax_sd2 = {&spec_sd2, lower_spatial_dropout};

static int infer(const Source *src, Layer *l)
{
    const SpatialDropoutAttr *a = l->attr;
    return window_input_rank(src, l, a->rank, a->what);
}

static void print(FILE *f, const Layer *l)
{
    const SpatialDropoutAttr *a = l->attr;
    fprintf(f, " rate=%.9g", a->rate);
    if (a->seed >= 0)
        fprintf(f, " seed=%lld", (long long)a->seed);
}

static int noop(const Layer *l)
{
    const SpatialDropoutAttr *a = l->attr;
    return a->rate == 0;
}

static void plan(Plan *p, Layer *l)
{
    plan_keep_fixed(p, l, "mask", shape_1d((int)((long)p->m->batch_size * shape_last(&l->out))),
                    "per sample and channel: 0 or 1 / (1 - rate)");
}

static void forward(Emit *e, const Site *s)
{
    const SpatialDropoutAttr *a = s->l->attr;
    emit_line(e, "seqrt_spatial_dropout_forward(%s, %s, %s, n, %ld, %d, %s, %s);", s->y, emit_keep(e, s->l, "mask"),
              s->x, shape_lead(&s->l->out), shape_last(&s->l->out), float_literal(a->rate), emit_rng(e, s->l));
}

static void backward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_spatial_dropout_backward(%s, %s, %s, n, %ld, %d);%s", s->dx, s->dy,
              emit_keep(e, s->l, "mask"), shape_lead(&s->l->out), shape_last(&s->l->out),
              !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* the identity at inference */
}

static int64_t seed(const Layer *l)
{
    const SpatialDropoutAttr *a = l->attr;
    return a->seed;
}

/* Channels-first nn.Dropout1d/2d: whole channels dropped, as Keras. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const SpatialDropoutAttr *a = l->attr;
    py_layout(e, l, PY_CHANNELS_FIRST);
    py_module(e, l, NULL, "nn.Dropout%dd(p=%s)", a->rank, py_float(a->rate));
    py_note(e, l, "torch draws its own masks (a channel of a sample dropped). seqc's come from its xoshiro128** "
                  "streams (saved in the checkpoint as train.rng%s), which torch cannot reproduce, so a training "
                  "step with spatial dropout differs from seqc's by the masks; inference is the same.",
            a->seed >= 0 ? arena_printf(".%d, from seed=%lld", l->index, (long long)a->seed) : "");
}

const LayerKind kind_spatial_dropout = {
    .name = "spatial_dropout",
    .props = LK_TRAIN_ONLY | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_sd1, &syntax_sd2, NULL},
    .infer = infer,
    .print = print,
    .noop = noop,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
    .seed = seed,
};
