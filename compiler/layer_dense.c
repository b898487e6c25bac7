/*
 * layer_dense.c - Dense: y = act(x W^T + b) over the last axis.
 *
 * Keras applies Dense to the last axis of its input: on [28, 28] Dense(128)
 * gives [28, 128], the same weights for every row. The generated code
 * therefore treats the input as (n * 28) rows of 28 and makes one GEMM of
 * them. W is (units, in), PyTorch's nn.Linear layout, so a checkpoint loads
 * into torch as is. Dense takes a fused normalization and activation
 * (pass_fuse); it keeps its pre-activation for backward only when the
 * activation's derivative needs it, or when the loss reads it as logits.
 * In the baked build it is an affine stage, into which neighbouring
 * scales (BatchNorm, Normalization) fold. Its weights take Keras's
 * initializers with arguments, regularizers and constraints
 * (lower_weight); activity_regularizer, which every Keras layer takes, is
 * lowering's (an activity_regularization layer after it).
 */
#include "seqc.h"

typedef struct {
    int units;
    int use_bias;
    WeightOpts kernel, bias;   /* initializers, regularizers, constraints */
} DenseAttr;

static const CallSpec spec_dense = {"Dense", 2, {
    {"units", T_INT}, {"activation", T_ACT}, {"use_bias", T_BOOL},
    {"kernel_initializer", T_INIT}, {"bias_initializer", T_INIT},
    {"kernel_regularizer", T_REG}, {"bias_regularizer", T_REG},
    {"kernel_constraint", T_CON}, {"bias_constraint", T_CON},
    {"lora_rank", T_NONE}, {"lora_alpha", T_IGNORED}, {"quantization_config", T_NONE}, LAYER_KWARGS}};

static int lower_dense(Lower *lw, Layer *l)
{
    DenseAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    Value *u = lower_arg(lw, "units");
    if (!u) {
        diag_error(lw->src, lw->call->loc, "Dense needs the number of units, e.g. Dense(64)");
        return -1;
    }
    int64_t units;
    int err = lower_int(lw, "units", 0, &units);
    if (!err && (units <= 0 || units > INT32_MAX)) {
        diag_error(lw->src, u->loc, "Dense needs a positive number of units below 2^31, not %.*s",
                   u->loc.end - u->loc.start, lw->src->text + u->loc.start);
        err = -1;
    }
    a->units = (int)units;
    err |= lower_act(lw, "activation", &l->act);
    err |= lower_bool(lw, "use_bias", 1, &a->use_bias);
    err |= lower_weight(lw, "kernel", SEQRT_INIT_GLOROT_UNIFORM, &a->kernel);
    err |= lower_weight(lw, "bias", SEQRT_INIT_ZEROS, &a->bias);
    return err;
}

static const Syntax syntax_dense = {&spec_dense, lower_dense};

static int infer(const Source *src, Layer *l)
{
    const DenseAttr *a = l->attr;
    int in = shape_last(&l->in);
    if ((long long)in * a->units > 2147483647LL) {
        diag_error(src, l->loc, "Dense(%d) on %d inputs has %lld weights, more than 2^31-1", a->units, in,
                   (long long)in * a->units);
        return -1;
    }
    l->out.dim[l->out.rank - 1] = a->units;
    return 0;
}

static void params(Layer *l)
{
    const DenseAttr *a = l->attr;
    int in = shape_last(&l->in);
    Shape w = {2, {a->units, in}};
    Param *k = ir_add_param(l, "weight", "kernel", 1, w, a->kernel.init.kind, in, a->units);
    ir_param_opts(k, &a->kernel);
    k->transposed = 1;   /* Keras's kernel is (in, units) */
    if (a->use_bias)
        ir_param_opts(ir_add_param(l, "bias", "bias", 1, shape_1d(a->units), a->bias.init.kind, a->units, a->units),
                      &a->bias);
}

static void print(FILE *f, const Layer *l)
{
    const DenseAttr *a = l->attr;
    fprintf(f, " use_bias=%s", ir_bool(a->use_bias));
}

static void plan(Plan *p, Layer *l)
{
    if (p->keep_logits || (!l->norm && !act_backward_needs_y_only(l->act)))
        plan_keep(p, l, KEEP_PREACT, l->out, "pre-activation, for backward");
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_dense_forward(%s, %s, %s, %s, %s,\n"
                 "                    %s, %d, %d, %s);",
              s->y, emit_keep(e, l, KEEP_PREACT), s->x, emit_param(e, l, "kernel"), emit_param(e, l, "bias"),
              s->rows, shape_last(&l->in), shape_last(&l->out), emit_act(e, s->act));
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_dense_backward(%s, %s, %s, %s,\n"
                 "                     %s, %s, %s, %s, %s, %d, %d, %s);",
              s->dx, emit_grad(e, l, "kernel"), emit_grad(e, l, "bias"), s->dy, s->x, emit_param(e, l, "kernel"),
              emit_keep(e, l, KEEP_PREACT), s->y, s->rows, shape_last(&l->in), shape_last(&l->out),
              emit_act(e, s->act));
}

static void bake(Bake *b, const Layer *l)
{
    Stage *st = bake_stage(b, ST_AFFINE, l, arena_printf("%d: dense", l->index));
    long in = shape_last(&l->in), out = shape_last(&l->out);
    st->w = bake_param(b, l, "kernel", in * out, 0.0);
    st->b = bake_param(b, l, "bias", out, 0.0);
}

/* nn.Linear has the same weight layout and also works on the last axis; the
 * activation is a module of its own, "k_act". */
static void pytorch(PyEmit *e, const Layer *l)
{
    const DenseAttr *a = l->attr;
    py_module(e, l, NULL, "nn.Linear(%d, %d, bias=%s)", shape_last(&l->in), a->units, a->use_bias ? "True" : "False");
    py_tensor(e, l, "kernel", NULL, "weight", NULL, NULL);
    if (a->use_bias)
        py_tensor(e, l, "bias", NULL, "bias", NULL, NULL);
    py_activation(e, l, "act", l->act);
}

const LayerKind kind_dense = {
    .name = "dense",
    .props = LK_TAKES_ACT | LK_TAKES_NORM | LK_DX_OPTIONAL,
    .syntax = (const Syntax *const[]){&syntax_dense, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
