/*
 * layer_separable.c - SeparableConv1D/2D: a depthwise convolution (no
 * bias) followed by a pointwise (1x1) convolution with bias and
 * activation, as used by small embedded image models.
 *
 * Keras 3's arguments and defaults (keras/src/layers/convolutional/
 * separable_conv2d.py): filters, kernel_size, strides, padding,
 * data_format, dilation_rate, depth_multiplier=1, activation, use_bias,
 * depthwise_initializer, pointwise_initializer, bias_initializer (with
 * arguments), the three weights' regularizers and constraints. The
 * window is the depthwise step's (window.c); the pointwise step keeps the
 * spatial size.
 *
 * Checkpoint: "k.depthwise.weight" (channels * depth_multiplier, 1, kh, kw)
 * and "k.pointwise.weight" (filters, channels * depth_multiplier, 1, 1) (1-D:
 * without the kh and the last 1), "k.pointwise.bias" (filters): the state
 * dict of a module with a depthwise nn.Conv2d(c, c m, k, groups=c,
 * bias=False) and a pointwise nn.Conv2d(c m, filters, 1) named `depthwise`
 * and `pointwise` (docs/language.md shows it). Keras's fans: depthwise
 * kernel (kh, kw, c, m): fan_in kh kw c, fan_out kh kw m; pointwise
 * (1, 1, c m, filters): fan_in c m, fan_out filters.
 *
 * The depthwise output is a buffer of its own ("mid", also in a model that
 * does not train: forward needs it), and backward keeps its gradient
 * ("dmid"). The pointwise step takes the fused BatchNormalization and
 * activation. The baked build makes two convolution stages.
 */
#include <string.h>

#include "seqc.h"

typedef struct {
    const char *what;
    int filters, depth_multiplier, mid;   /* mid = channels * depth_multiplier */
    Window win;                           /* the depthwise step */
    Window point;                         /* 1x1 over the depthwise output */
    int use_bias;
    WeightOpts depthwise, pointwise, bias;   /* initializers, regularizers, constraints */
} SeparableAttr;

#define SEPARABLE_SPEC(NAME)                                                                      \
    {NAME, 12, {{"filters", T_INT}, {"kernel_size", T_ANY}, {"strides", T_ANY},                   \
                {"padding", T_STR}, {"data_format", T_ANY}, {"dilation_rate", T_ANY},             \
                {"depth_multiplier", T_INT}, {"activation", T_ACT}, {"use_bias", T_BOOL},         \
                {"depthwise_initializer", T_INIT}, {"pointwise_initializer", T_INIT},             \
                {"bias_initializer", T_INIT}, {"depthwise_regularizer", T_REG},                   \
                {"pointwise_regularizer", T_REG}, {"bias_regularizer", T_REG},                    \
                {"activity_regularizer", T_NONE}, {"depthwise_constraint", T_CON},                \
                {"pointwise_constraint", T_CON}, {"bias_constraint", T_CON}, LAYER_KWARGS}}

static const CallSpec spec_sep1d = SEPARABLE_SPEC("SeparableConv1D"), spec_sep2d = SEPARABLE_SPEC("SeparableConv2D"),
                      spec_sepconv1d = SEPARABLE_SPEC("SeparableConvolution1D"),
                      spec_sepconv2d = SEPARABLE_SPEC("SeparableConvolution2D");

int lower_conv_window(Lower *lw, Window *w, int rank, int allow_causal);

static int lower_separable(Lower *lw, Layer *l)
{
    SeparableAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    int rank = strchr(a->what, '1') ? 1 : 2;
    if (!lower_arg(lw, "filters")) {
        diag_error(lw->src, lw->call->loc, "%s needs the number of filters, e.g. %s(32, %s)", a->what, a->what,
                   rank == 1 ? "3" : "(3, 3)");
        return -1;
    }
    int64_t filters, dm;
    int err = lower_int(lw, "filters", 0, &filters);
    err |= lower_int(lw, "depth_multiplier", 1, &dm);
    if (!err && (filters <= 0 || filters > INT32_MAX)) {
        diag_error(lw->src, lower_loc(lw, "filters"), "filters of %s must be a positive integer below 2^31, not "
                   "%lld", a->what, (long long)filters);
        err = -1;
    }
    if (!err && (dm <= 0 || dm > INT32_MAX)) {
        diag_error(lw->src, lower_loc(lw, "depth_multiplier"), "depth_multiplier of %s must be a positive integer "
                   "below 2^31, not %lld", a->what, (long long)dm);
        err = -1;
    }
    err |= lower_conv_window(lw, &a->win, rank, 0);
    err |= lower_act(lw, "activation", &l->act);
    err |= lower_bool(lw, "use_bias", 1, &a->use_bias);
    err |= lower_weight(lw, "depthwise", SEQRT_INIT_GLOROT_UNIFORM, &a->depthwise);
    err |= lower_weight(lw, "pointwise", SEQRT_INIT_GLOROT_UNIFORM, &a->pointwise);
    err |= lower_weight(lw, "bias", SEQRT_INIT_ZEROS, &a->bias);
    a->filters = (int)filters;
    a->depth_multiplier = (int)dm;
    return err;
}

static const Syntax syntax_sep1d = {&spec_sep1d, lower_separable}, syntax_sep2d = {&spec_sep2d, lower_separable},
                    syntax_sepconv1d = {&spec_sepconv1d, lower_separable},
                    syntax_sepconv2d = {&spec_sepconv2d, lower_separable};

static int taps(const Window *w)
{
    return w->k[0] * (w->rank == 2 ? w->k[1] : 1);
}

static int infer(const Source *src, Layer *l)
{
    SeparableAttr *a = l->attr;
    int rank = a->win.rank;
    if (window_input_rank(src, l, rank, a->what) < 0)
        return -1;
    int c = shape_last(&l->in);
    if ((long long)c * a->depth_multiplier > INT32_MAX ||
        (long long)c * a->depth_multiplier * a->filters > INT32_MAX) {
        diag_error(src, l->loc, "%s: %d channels times depth_multiplier %d times %d filters is too large", a->what,
                   c, a->depth_multiplier, a->filters);
        return -1;
    }
    a->mid = c * a->depth_multiplier;
    if (window_infer(src, l, &a->win, a->what, a->filters) < 0)
        return -1;
    Window *p = &a->point;
    memset(p, 0, sizeof *p);
    p->rank = rank;
    for (int d = 0; d < rank; d++) {
        p->k[d] = p->s[d] = p->d[d] = 1;
        p->in[d] = p->out[d] = a->win.out[d];
        l->out.dim[d] = a->win.out[d];
    }
    l->out.dim[rank] = a->filters;
    return 0;
}

static void params(Layer *l)
{
    const SeparableAttr *a = l->attr;
    int c = shape_last(&l->in), kk = taps(&a->win), rank = a->win.rank;
    Shape dw = {rank + 2, {a->mid, 1, a->win.k[0], a->win.k[1]}};
    Shape pw = {rank + 2, {a->filters, a->mid, 1, 1}};
    Param *d = ir_add_param(l, "depthwise.weight", "depthwise", 1, dw, a->depthwise.init.kind, kk * c,
                            kk * a->depth_multiplier);
    ir_param_opts(d, &a->depthwise);
    conv_keras_layout(d, a->depth_multiplier);
    Param *p = ir_add_param(l, "pointwise.weight", "kernel", 1, pw, a->pointwise.init.kind, a->mid, a->filters);
    ir_param_opts(p, &a->pointwise);
    conv_keras_layout(p, 0);
    if (a->use_bias)
        ir_param_opts(ir_add_param(l, "pointwise.bias", "bias", 1, shape_1d(a->filters), a->bias.init.kind,
                                   a->filters, a->filters), &a->bias);
}

static void print(FILE *f, const Layer *l)
{
    const SeparableAttr *a = l->attr;
    fprintf(f, " filters=%d depth_multiplier=%d", a->filters, a->depth_multiplier);
    window_print(f, &a->win, 1);
    fprintf(f, " use_bias=%s", ir_bool(a->use_bias));
}

/* The depthwise step's output: the spatial output with c m channels. */
static Shape mid_shape(const Layer *l)
{
    const SeparableAttr *a = l->attr;
    Shape s = l->out;
    s.dim[s.rank - 1] = a->mid;
    return s;
}

static void plan(Plan *p, Layer *l)
{
    const SeparableAttr *a = l->attr;
    plan_value(p, l, "mid", mid_shape(l), "depthwise output");
    plan_keep(p, l, "dmid", mid_shape(l), "d loss / d depthwise output");
    if (p->keep_logits || (!l->norm && !act_backward_needs_y_only(l->act)))
        plan_keep(p, l, KEEP_PREACT, l->out, "pre-activation, for backward");
    /* conv.c's direct depthwise path needs 2 kh kw (c m); the pointwise
     * step is one GEMM, without scratch */
    plan_scratch(p, l, 2L * taps(&a->win) * a->mid);
}

static const char *dw_window(Emit *e, const Layer *l)
{
    const SeparableAttr *a = l->attr;
    int c = shape_last(&l->in);
    return emit_static(e, "seqrt_window", arena_printf("%s_depthwise_window", ir_tag(l)),
                       window_seqrt(&a->win, c, a->mid, c));
}

static const char *pw_window(Emit *e, const Layer *l)
{
    const SeparableAttr *a = l->attr;
    return emit_static(e, "seqrt_window", arena_printf("%s_pointwise_window", ir_tag(l)),
                       window_seqrt(&a->point, a->mid, a->filters, 1));
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const char *mid = emit_keep(e, l, "mid");
    emit_line(e, "seqrt_conv_forward(%s, NULL, %s, %s, NULL,\n"
                 "                   n, &%s, %s, %s, %ld); /* depthwise */",
              mid, s->x, emit_param(e, l, "depthwise"), dw_window(e, l), emit_act(e, act_default(SEQRT_ACT_LINEAR)),
              emit_scratch(e, l), l->scratch);
    emit_line(e, "seqrt_conv_forward(%s, %s, %s, %s, %s,\n"
                 "                   n, &%s, %s, NULL, 0); /* pointwise */",
              s->y, emit_keep(e, l, KEEP_PREACT), mid, emit_param(e, l, "kernel"), emit_param(e, l, "bias"),
              pw_window(e, l), emit_act(e, s->act));
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const char *mid = emit_keep(e, l, "mid"), *dmid = emit_keep(e, l, "dmid");
    emit_line(e, "seqrt_conv_backward(%s, %s, %s, %s,\n"
                 "                    %s, %s, %s, %s, n, &%s, %s, NULL, 0); /* pointwise */",
              dmid, emit_grad(e, l, "kernel"), emit_grad(e, l, "bias"), s->dy, mid, emit_param(e, l, "kernel"),
              emit_keep(e, l, KEEP_PREACT), s->y, pw_window(e, l), emit_act(e, s->act));
    emit_line(e, "seqrt_conv_backward(%s, %s, NULL, %s,\n"
                 "                    %s, %s, NULL, %s, n, &%s, %s, %s, %ld); /* depthwise */",
              s->dx, emit_grad(e, l, "depthwise"), dmid, s->x, emit_param(e, l, "depthwise"), mid, dw_window(e, l),
              emit_act(e, act_default(SEQRT_ACT_LINEAR)), emit_scratch(e, l), l->scratch);
}

static void bake(Bake *b, const Layer *l)
{
    const SeparableAttr *a = l->attr;
    int c = shape_last(&l->in), kk = taps(&a->win);
    Stage *d = bake_stage(b, ST_CONV, l, arena_printf("%d: separable_conv, depthwise", l->index));
    d->out = mid_shape(l);
    d->win = a->win;
    d->groups = c;
    d->w = bake_param(b, l, "depthwise", (long)a->mid * kk, 0.0);
    d->b = bake_alloc(a->mid);
    Stage *p = bake_stage(b, ST_CONV, l, arena_printf("%d: separable_conv, pointwise", l->index));
    p->in = mid_shape(l);
    p->win = a->point;
    p->groups = 1;
    p->w = bake_param(b, l, "kernel", (long)a->filters * a->mid, 0.0);
    p->b = bake_param(b, l, "bias", a->filters, 0.0);
}

/* A module with the depthwise and pointwise nn.Conv1d/2d as children
 * `depthwise` and `pointwise` (the checkpoint's names), channels-first;
 * asymmetric padding as a pad module before it. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const SeparableAttr *a = l->attr;
    const Window *w = &a->win;
    int one[2] = {1, 1};
    py_layout(e, l, PY_CHANNELS_FIRST);
    py_helper(e, "SeparableConv",
              "class SeparableConv(nn.Module):\n"
              "    \"\"\"Keras's SeparableConv1D/2D, channels-first: a depthwise convolution\n"
              "    (one group per input channel, depth_multiplier filters each, no bias),\n"
              "    then a pointwise (kernel 1) convolution with the bias. `window`: the\n"
              "    depthwise step's stride, padding and dilation.\"\"\"\n"
              "\n"
              "    def __init__(self, dims, channels, filters, kernel_size, depth_multiplier=1, bias=True, **window):\n"
              "        super().__init__()\n"
              "        conv = nn.Conv2d if dims == 2 else nn.Conv1d\n"
              "        mid = channels * depth_multiplier\n"
              "        self.depthwise = conv(channels, mid, kernel_size, groups=channels, bias=False, **window)\n"
              "        self.pointwise = conv(mid, filters, 1, bias=bias)\n"
              "\n"
              "    def forward(self, x):\n"
              "        return self.pointwise(self.depthwise(x))\n");
    const char *pad = py_window_padding(e, l, w, "0.0");
    const char *opt = "";
    if (a->depth_multiplier > 1)
        opt = arena_printf(", depth_multiplier=%d", a->depth_multiplier);
    if (!a->use_bias)
        opt = arena_printf("%s, bias=False", opt);
    if (memcmp(w->s, one, sizeof(int) * (size_t)w->rank))
        opt = arena_printf("%s, stride=%s", opt, py_ints(w->s, w->rank));
    if (memcmp(w->d, one, sizeof(int) * (size_t)w->rank))
        opt = arena_printf("%s, dilation=%s", opt, py_ints(w->d, w->rank));
    py_module(e, l, NULL, "SeparableConv(%d, %d, %d, %s%s%s)", w->rank, shape_last(&l->in), a->filters,
              py_ints(w->k, w->rank), opt, pad);
    py_tensor(e, l, "depthwise", NULL, "depthwise.weight", NULL, NULL);
    py_tensor(e, l, "kernel", NULL, "pointwise.weight", NULL, NULL);
    if (a->use_bias)
        py_tensor(e, l, "bias", NULL, "pointwise.bias", NULL, NULL);
    py_activation(e, l, "act", l->act);
}

const LayerKind kind_separable_conv = {
    .name = "separable_conv",
    .props = LK_TAKES_ACT | LK_TAKES_NORM | LK_DX_OPTIONAL,
    .syntax = (const Syntax *const[]){&syntax_sep1d, &syntax_sep2d, &syntax_sepconv1d, &syntax_sepconv2d, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
