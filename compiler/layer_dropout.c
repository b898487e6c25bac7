/*
 * layer_dropout.c - Dropout: inverted dropout in training, the identity at
 * inference (LK_TRAIN_ONLY: the emitter skips it then, and a model without
 * a loss loses it in canonicalize).
 *
 * Each element is dropped with probability `rate` and the kept ones are
 * scaled by 1 / (1 - rate); the mask is kept for backward, which works in
 * place. The bits come from the model's random stream, or from a stream of
 * the layer's own when the model file gives Dropout(seed=...) (its state is
 * saved as "train.rng.<k>", so a resumed run draws the same masks).
 */
#include <string.h>

#include "seqc.h"

typedef struct {
    double rate;
    int64_t seed;     /* -1: none given */
} DropoutAttr;

static const CallSpec spec_dropout = {"Dropout", 3, {
    {"rate", T_FLOAT}, {"noise_shape", T_NONE}, {"seed", T_INT}, LAYER_KWARGS}};

static int lower_dropout(Lower *lw, Layer *l)
{
    DropoutAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    Value *r = lower_arg(lw, "rate");
    if (!r) {
        diag_error(lw->src, lw->call->loc, "Dropout needs a rate, e.g. Dropout(0.5)");
        return -1;
    }
    int err = lower_float(lw, "rate", 0, &a->rate);
    err |= lower_int(lw, "seed", -1, &a->seed);
    if (!err && !(a->rate >= 0 && a->rate < 1)) {
        diag_error(lw->src, r->loc, "dropout rate must be in [0, 1), not %g", a->rate);
        err = -1;
    }
    return err;
}

static const Syntax syntax_dropout = {&spec_dropout, lower_dropout};

static int infer(const Source *src, Layer *l)
{
    (void)src, (void)l;
    return 0;
}

static void print(FILE *f, const Layer *l)
{
    const DropoutAttr *a = l->attr;
    fprintf(f, " rate=%.9g", a->rate);
    if (a->seed >= 0)
        fprintf(f, " seed=%lld", (long long)a->seed);
}

static int noop(const Layer *l)
{
    const DropoutAttr *a = l->attr;
    return a->rate == 0;
}

static void plan(Plan *p, Layer *l)
{
    plan_keep(p, l, "mask", l->out, "0 or 1 / (1 - rate)");
}

static void forward(Emit *e, const Site *s)
{
    const DropoutAttr *a = s->l->attr;
    emit_line(e, "seqrt_dropout_forward(%s, %s, %s, (long)n * %ld, %s, %s, 1);", s->y, emit_keep(e, s->l, "mask"),
              s->x, shape_size(&s->l->out), float_literal(a->rate), emit_rng(e, s->l));
}

static void backward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_dropout_backward(%s, %s, %s, (long)n * %ld);%s", s->dx, s->dy, emit_keep(e, s->l, "mask"),
              shape_size(&s->l->out), !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* the identity at inference */
}

static int64_t seed(const Layer *l)
{
    const DropoutAttr *a = l->attr;
    return a->seed;
}

static void pytorch(PyEmit *e, const Layer *l)
{
    const DropoutAttr *a = l->attr;
    py_layout(e, l, PY_ANY_LAYOUT);   /* elementwise */
    py_module(e, l, NULL, "nn.Dropout(p=%s)", py_float(a->rate));
    py_note(e, l, "torch draws its own masks. seqc's come from its xoshiro128** streams (saved in the "
                  "checkpoint as train.rng%s), which torch cannot reproduce, so a training step with "
                  "dropout differs from seqc's by the masks; inference is the same.",
            a->seed >= 0 ? arena_printf(".%d, from seed=%lld", l->index, (long long)a->seed) : "");
}

const LayerKind kind_dropout = {
    .name = "dropout",
    .props = LK_TRAIN_ONLY | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_dropout, NULL},
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
