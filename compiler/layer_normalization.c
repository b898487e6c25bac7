/*
 * layer_normalization.c - Keras's Normalization layer: y = (x - mean) /
 * max(sqrt(variance), 1e-7) per feature of the last axis.
 *
 * The statistics are not trainable: the runtime adapts them to the
 * training data before fit (seqrt_adapt, from the descriptor's
 * norm_mean_offset), which is why it must be the first layer. They are
 * saved as "k.mean" and "k.variance". The baked build folds it into a scale
 * per feature, and that into the Dense after it.
 */
#include <math.h>

#include "seqc.h"

typedef struct {
    Axis axis;
} NormalizationAttr;

static const CallSpec spec_normalization = {"Normalization", 3, {
    {"axis", T_INT}, {"mean", T_NONE}, {"variance", T_NONE},
    {"invert", T_BOOL}, LAYER_KWARGS}};

static int lower_normalization(Lower *lw, Layer *l)
{
    NormalizationAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    int err = lower_axis(lw, &a->axis);
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
    return ir_check_last_axis(src, l, a->axis, "Normalization");
}

static void params(Layer *l)
{
    int c = shape_last(&l->out);
    ir_add_param(l, "mean", "mean", 0, shape_1d(c), SEQRT_INIT_ZEROS, c, c);
    ir_add_param(l, "variance", "variance", 0, shape_1d(c), SEQRT_INIT_ONES, c, c);
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_normalization_forward(%s, %s, %s, %s, %s, %d);", s->y, s->x, emit_param(e, l, "mean"),
              emit_param(e, l, "variance"), s->rows, shape_last(&l->out));
}

static void bake(Bake *b, const Layer *l)
{
    Stage *st = bake_stage(b, ST_SCALE, l, arena_printf("%d: normalization", l->index));
    int c = shape_last(&l->out);
    double *mean = bake_param(b, l, "mean", c, 0.0), *var = bake_param(b, l, "variance", c, 1.0);
    st->s = bake_alloc(c);
    st->t = bake_alloc(c);
    for (int j = 0; j < c; j++) {
        double d = sqrt(var[j]) > 1e-7 ? sqrt(var[j]) : 1e-7;
        st->s[j] = 1.0 / d;
        st->t[j] = -mean[j] / d;
    }
}

const LayerKind kind_normalization = {
    .name = "normalization",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_normalization, NULL},
    .infer = infer,
    .params = params,
    .forward = forward,
    .bake = bake,
};
