/*
 * layer_layernorm.c - LayerNormalization over the last axis (Keras's
 * axis=-1): each row of the last axis is normalized with its own mean and
 * variance, then scaled and shifted per feature.
 *
 * gamma and beta are "k.weight" and "k.bias", as in torch.nn.LayerNorm
 * (normalized_shape = the last axis). It fuses into the layer before it
 * (LK_NORM) and takes that layer's activation; its backward works in place.
 * The baked build keeps it as a stage of its own (it depends on the row).
 */
#include <string.h>

#include "seqc.h"

static const CallSpec spec_layernorm = {"LayerNormalization", 4, {
    {"axis", T_INT}, {"epsilon", T_FLOAT}, {"center", T_BOOL},
    {"scale", T_BOOL}, {"beta_initializer", T_INIT},
    {"gamma_initializer", T_INIT}, {"beta_regularizer", T_REG},
    {"gamma_regularizer", T_REG}, {"beta_constraint", T_CON},
    {"gamma_constraint", T_CON}, {"rms_scaling", T_NONE}, LAYER_KWARGS}};

static int lower_layernorm(Lower *lw, Layer *l)
{
    NormAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    return lower_norm_attr(lw, a);
}

static const Syntax syntax_layernorm = {&spec_layernorm, lower_layernorm};

static int infer(const Source *src, Layer *l)
{
    const NormAttr *a = l->attr;
    return ir_check_last_axis(src, l, a->axis, "LayerNormalization");
}

static void params(Layer *l)
{
    const NormAttr *a = l->attr;
    int c = shape_last(&l->out);
    if (a->scale)
        ir_param_opts(ir_add_param(l, "weight", "gamma", 1, shape_1d(c), a->gamma.init.kind, c, c), &a->gamma);
    if (a->center)
        ir_param_opts(ir_add_param(l, "bias", "beta", 1, shape_1d(c), a->beta.init.kind, c, c), &a->beta);
}

static void print(FILE *f, const Layer *l)
{
    const NormAttr *a = l->attr;
    fprintf(f, " epsilon=%.9g center=%s scale=%s", a->epsilon, ir_bool(a->center), ir_bool(a->scale));
}

static void plan(Plan *p, Layer *l)
{
    Shape rows = l->out;
    rows.dim[rows.rank - 1] = 1;
    plan_keep(p, l, "xhat", l->out, "normalized");
    plan_keep(p, l, "mean", rows, "mean of each row");
    plan_keep(p, l, "invstd", rows, "1 / sqrt(variance + epsilon) of each row");
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const NormAttr *a = l->attr;
    emit_line(e, "seqrt_layernorm_forward(%s, %s, %s, %s,\n"
                 "                        %s, %s, %s, %s, %d, %s, %s);",
              s->y, emit_keep(e, l, "xhat"), emit_keep(e, l, "mean"), emit_keep(e, l, "invstd"), s->x,
              emit_param(e, l, "gamma"), emit_param(e, l, "beta"), s->rows, shape_last(&l->out),
              float_literal(a->epsilon), emit_act(e, s->act));
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_layernorm_backward(%s, %s, %s, %s,\n"
                 "                         %s, %s, %s, %s, %s, %s, %d, %s);%s",
              s->dx, emit_grad(e, l, "gamma"), emit_grad(e, l, "beta"), s->dy, emit_keep(e, l, "xhat"),
              emit_keep(e, l, "invstd"), emit_param(e, l, "gamma"), emit_param(e, l, "beta"), s->y, s->rows,
              shape_last(&l->out), emit_act(e, s->act), !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    const NormAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_LAYERNORM, l, arena_printf("%d: layernorm", l->index));
    int c = shape_last(&l->out);
    st->s = bake_param(b, l, "gamma", c, 1.0);
    st->t = bake_param(b, l, "beta", c, 0.0);
    st->eps = a->epsilon;
}

/* nn.LayerNorm over the last axis with Keras's epsilon: the same formula
 * (the biased variance of each row). */
static void pytorch(PyEmit *e, const Layer *l)
{
    const NormAttr *a = l->attr;
    py_module(e, l, NULL, "nn.LayerNorm(%d, eps=%s)", shape_last(&l->out), py_float(a->epsilon));
    pytorch_norm_affine(e, l, a);
}

const LayerKind kind_layernorm = {
    .name = "layernorm",
    .props = LK_NORM | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_layernorm, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
