/*
 * layer_batchnorm.c - BatchNormalization over the last axis (Keras's
 * axis=-1): statistics per channel over the batch and every other axis.
 *
 * Training normalizes with the batch's mean and (biased) variance and moves
 * the running statistics the Keras way, run = run * momentum + batch * (1 -
 * momentum); inference uses the running statistics. gamma and beta are
 * "k.weight" and "k.bias", the running statistics "k.running_mean" and
 * "k.running_var" (non-trainable), as in torch.nn.BatchNorm1d (whose
 * momentum is 1 - Keras's, and whose running_var is the unbiased one:
 * tests/parity/README.md has the mapping). It fuses into the layer before
 * it (LK_NORM) and takes that layer's activation; its backward works in
 * place. The baked build folds it into a scale per channel.
 */
#include <string.h>

#include "seqc.h"

static const CallSpec spec_batchnorm = {"BatchNormalization", 5, {
    {"axis", T_INT}, {"momentum", T_FLOAT}, {"epsilon", T_FLOAT},
    {"center", T_BOOL}, {"scale", T_BOOL},
    {"beta_initializer", T_INIT}, {"gamma_initializer", T_INIT},
    {"moving_mean_initializer", T_INIT}, {"moving_variance_initializer", T_INIT},
    {"beta_regularizer", T_REG}, {"gamma_regularizer", T_REG},
    {"beta_constraint", T_CON}, {"gamma_constraint", T_CON},
    {"synchronized", T_BOOL}, LAYER_KWARGS}};

int lower_norm_attr(Lower *lw, NormAttr *a)
{
    int err = lower_axis(lw, &a->axis);
    err |= lower_float(lw, "epsilon", 1e-3, &a->epsilon);
    err |= lower_bool(lw, "center", 1, &a->center);
    err |= lower_bool(lw, "scale", 1, &a->scale);
    if (!err && !(a->epsilon > 0)) {
        diag_error(lw->src, lower_loc(lw, "epsilon"), "epsilon must be positive");
        err = -1;
    }
    /* initializers (with arguments), regularizers, constraints; the
     * running statistics' initializers (BatchNormalization only) */
    err |= lower_weight(lw, "beta", SEQRT_INIT_ZEROS, &a->beta);
    err |= lower_weight(lw, "gamma", SEQRT_INIT_ONES, &a->gamma);
    err |= lower_weight(lw, "moving_mean", SEQRT_INIT_ZEROS, &a->moving_mean);
    err |= lower_weight(lw, "moving_variance", SEQRT_INIT_ONES, &a->moving_variance);
    return err;
}

static int lower_batchnorm(Lower *lw, Layer *l)
{
    NormAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    int err = lower_float(lw, "momentum", 0.99, &a->momentum);
    err |= lower_norm_attr(lw, a);
    if (!err && (a->momentum < 0 || a->momentum > 1)) {
        diag_error(lw->src, lower_loc(lw, "momentum"), "momentum must be in [0, 1]");
        err = -1;
    }
    return err;
}

static const Syntax syntax_batchnorm = {&spec_batchnorm, lower_batchnorm};

static int infer(const Source *src, Layer *l)
{
    const NormAttr *a = l->attr;
    return ir_check_last_axis(src, l, a->axis, "BatchNormalization");
}

static void params(Layer *l)
{
    const NormAttr *a = l->attr;
    int c = shape_last(&l->out);
    Shape s = shape_1d(c);
    if (a->scale)
        ir_param_opts(ir_add_param(l, "weight", "gamma", 1, s, a->gamma.init.kind, c, c), &a->gamma);
    if (a->center)
        ir_param_opts(ir_add_param(l, "bias", "beta", 1, s, a->beta.init.kind, c, c), &a->beta);
    ir_param_opts(ir_add_param(l, "running_mean", "running_mean", 0, s, a->moving_mean.init.kind, c, c),
                  &a->moving_mean);
    ir_param_opts(ir_add_param(l, "running_var", "running_var", 0, s, a->moving_variance.init.kind, c, c),
                  &a->moving_variance);
}

static void print(FILE *f, const Layer *l)
{
    const NormAttr *a = l->attr;
    fprintf(f, " momentum=%.9g epsilon=%.9g center=%s scale=%s", a->momentum, a->epsilon, ir_bool(a->center),
            ir_bool(a->scale));
}

static void plan(Plan *p, Layer *l)
{
    int c = shape_last(&l->out);
    plan_keep(p, l, "xhat", l->out, "normalized");
    plan_keep_fixed(p, l, "mean", shape_1d(c), "batch mean");
    plan_keep_fixed(p, l, "invstd", shape_1d(c), "1 / sqrt(batch variance + epsilon)");
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const NormAttr *a = l->attr;
    emit_line(e, "seqrt_batchnorm_forward(%s, %s, %s, %s,\n"
                 "                        %s, %s,\n"
                 "                        %s, %s, %s, %s, %d, %s, %s, %s, %s);",
              s->y, emit_keep(e, l, "xhat"), emit_keep(e, l, "mean"), emit_keep(e, l, "invstd"),
              emit_param(e, l, "running_mean"), emit_param(e, l, "running_var"), s->x, emit_param(e, l, "gamma"),
              emit_param(e, l, "beta"), s->rows, shape_last(&l->out), float_literal(a->momentum),
              float_literal(a->epsilon), emit_act(e, s->act), emit_training(e) ? "training" : "0");
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_batchnorm_backward(%s, %s, %s, %s,\n"
                 "                         %s, %s, %s, %s, %s, %s, %d, %s);%s",
              s->dx, emit_grad(e, l, "gamma"), emit_grad(e, l, "beta"), s->dy, emit_keep(e, l, "xhat"),
              emit_keep(e, l, "invstd"), emit_param(e, l, "gamma"), emit_param(e, l, "beta"), s->y, s->rows,
              shape_last(&l->out), emit_act(e, s->act), !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    const NormAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_SCALE, l, arena_printf("%d: batchnorm", l->index));
    bake_norm_scale(b, l, a->epsilon, &st->s, &st->t);
}

/* center=False / scale=False: torch's module has both or neither, so the
 * missing one is kept at its initial value (0 / 1) by freezing it. */
void pytorch_norm_affine(PyEmit *e, const Layer *l, const NormAttr *a)
{
    if (a->scale)
        py_tensor(e, l, "gamma", NULL, "weight", NULL, NULL);
    else
        py_setup(e, "model.get_submodule(\"%d\").weight.requires_grad_(False)   # scale=False: gamma stays 1",
                 l->index);
    if (a->center)
        py_tensor(e, l, "beta", NULL, "bias", NULL, NULL);
    else
        py_setup(e, "model.get_submodule(\"%d\").bias.requires_grad_(False)     # center=False: beta stays 0",
                 l->index);
}

/* nn.BatchNorm1d with Keras's epsilon and momentum = 1 - Keras's; after
 * a convolution (channels-first) nn.BatchNorm1d/2d, torch's own; otherwise
 * on a sample of rank > 1 over the last axis (channels last), as a
 * subclass that flattens the other axes into the batch. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const NormAttr *a = l->attr;
    const char *cls = "nn.BatchNorm1d";
    py_layout(e, l, PY_ANY_LAYOUT);
    if (l->in.rank > 1 && py_channels_first_now(e)) {
        if (l->in.rank == 3)
            cls = "nn.BatchNorm2d";
    } else if (l->in.rank > 1) {
        py_helper(e, "BatchNormLastAxis",
                  "class BatchNormLastAxis(nn.BatchNorm1d):\n"
                  "    \"\"\"BatchNorm1d over the last axis of a sample of any rank (Keras's axis=-1,\n"
                  "    channels last): statistics per channel over the batch and every other\n"
                  "    axis.\"\"\"\n"
                  "\n"
                  "    def forward(self, x):\n"
                  "        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)\n");
        cls = "BatchNormLastAxis";
    }
    py_module(e, l, NULL, "%s(%d, eps=%s, momentum=1 - %s)  # torch's momentum is 1 - Keras's", cls,
              shape_last(&l->out), py_float(a->epsilon), py_float(a->momentum));
    pytorch_norm_affine(e, l, a);
    py_tensor(e, l, "running_mean", NULL, "running_mean", NULL, NULL);
    py_tensor(e, l, "running_var", NULL, "running_var", NULL, NULL);
    py_note(e, l, "in training, torch moves running_var with the unbiased batch variance, n / (n - 1) "
                  "times the biased one Keras and seqc use (n: the rows of the batch). Outputs in training "
                  "and inference, gradients and running_mean are the same; running_var drifts apart by that "
                  "factor as training goes on. A checkpoint's running_var loads unchanged: both use it as "
                  "the variance at inference. torch also refuses a training batch of one row.");
}

const LayerKind kind_batchnorm = {
    .name = "batchnorm",
    .props = LK_NORM | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_batchnorm, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
