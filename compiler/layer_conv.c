/*
 * layer_conv.c - Conv1D, Conv2D (with groups) and DepthwiseConv1D/2D:
 * y = act(conv(x, W) + b) over channels-last input, [steps, channels] or
 * [height, width, channels].
 *
 * Keras 3's arguments and defaults (keras/src/layers/convolutional/
 * base_conv.py, base_depthwise_conv.py): kernel_size, strides and
 * dilation_rate are an int or a tuple per spatial axis; padding "valid",
 * "same" (TensorFlow's rule: the extra pad at the end) or, for Conv1D,
 * "causal"; strides > 1 together with dilation_rate > 1 is an error, as in
 * Keras; groups must divide both the input channels and filters. The shape
 * rule and the padding are window.c's. A depthwise convolution is a grouped
 * one with one group per input channel and depth_multiplier filters in
 * each: output channel c * depth_multiplier + m reads input channel c.
 *
 * Checkpoint: "k.weight" in PyTorch's layout, (filters, channels / groups,
 * kh, kw) for Conv2D and (filters, channels / groups, k) for Conv1D, and
 * (channels * depth_multiplier, 1, kh, kw) for DepthwiseConv2D, so
 * torch.nn.Conv2d(c, filters, (kh, kw), groups=groups) (and Conv1d) loads
 * it; "k.bias" (filters). Keras stores the kernel as (kh, kw, c / groups,
 * filters): a Keras kernel K is PyTorch's K.transpose(3, 2, 0, 1) (the
 * depthwise kernel (kh, kw, c, m) reshaped to (kh, kw, 1, c m) first). The
 * initializers see Keras's fans: fan_in = kh kw c / groups (depthwise:
 * kh kw c) and fan_out = kh kw filters (depthwise: kh kw m). A PyTorch user
 * runs the layer on channels-first tensors: x.permute(0, 3, 1, 2) in, and
 * back with .permute(0, 2, 3, 1); docs/language.md says so, with the
 * Flatten that follows.
 *
 * Generated code: one seqrt_conv_forward / seqrt_conv_backward call over a
 * static seqrt_window; it takes a fused BatchNormalization and activation
 * like Dense (the norm then sees n * oh * ow rows of channels), keeps its
 * pre-activation when the activation's derivative needs it, and asks the
 * plan for the scratch its kernel uses (conv.c: permuted weights and a
 * chunk of patches, CONV_CHUNK_FLOATS with the chunk's outputs). The baked build makes it a
 * convolution stage, into which a following BatchNormalization folds.
 */
#include <string.h>

#include "seqc.h"

/* Floats of a chunk's patches and outputs together (1 MiB): tall enough
 * GEMMs, small enough that the bias, activation and gradient passes over
 * the chunk's rows find them in a core's L2 cache. */
#define CONV_CHUNK_FLOATS (1L << 18)

typedef struct {
    const char *what;         /* "Conv2D" */
    int depthwise;
    int filters;              /* output channels (depthwise: c * depth_multiplier, set by infer) */
    int depth_multiplier;
    int groups;               /* depthwise: the input channels, set by infer */
    Window win;
    int use_bias;
    seqrt_init_kind kernel_init, bias_init;
    WeightOpts kernel, bias;  /* initializer arguments, regularizers, constraints */
} ConvAttr;

#define CONV_SPEC(NAME)                                                                     \
    {NAME, 11, {{"filters", T_INT}, {"kernel_size", T_ANY}, {"strides", T_ANY},             \
                {"padding", T_STR}, {"data_format", T_ANY}, {"dilation_rate", T_ANY},       \
                {"groups", T_INT}, {"activation", T_ACT}, {"use_bias", T_BOOL},              \
                {"kernel_initializer", T_INIT}, {"bias_initializer", T_INIT},               \
                {"kernel_regularizer", T_REG}, {"bias_regularizer", T_REG},                 \
                {"activity_regularizer", T_NONE}, {"kernel_constraint", T_CON},             \
                {"bias_constraint", T_CON}, {"lora_rank", T_NONE}, {"lora_alpha", T_NONE},  \
                LAYER_KWARGS}}
#define DEPTHWISE_SPEC(NAME)                                                                 \
    {NAME, 10, {{"kernel_size", T_ANY}, {"strides", T_ANY}, {"padding", T_STR},              \
                {"depth_multiplier", T_INT}, {"data_format", T_ANY}, {"dilation_rate", T_ANY}, \
                {"activation", T_ACT}, {"use_bias", T_BOOL}, {"depthwise_initializer", T_INIT}, \
                {"bias_initializer", T_INIT}, {"depthwise_regularizer", T_REG},              \
                {"bias_regularizer", T_REG}, {"activity_regularizer", T_NONE},              \
                {"depthwise_constraint", T_CON}, {"bias_constraint", T_CON}, LAYER_KWARGS}}

static const CallSpec spec_conv1d = CONV_SPEC("Conv1D"), spec_conv2d = CONV_SPEC("Conv2D"),
                      spec_convolution1d = CONV_SPEC("Convolution1D"),
                      spec_convolution2d = CONV_SPEC("Convolution2D"),
                      spec_depthwise1d = DEPTHWISE_SPEC("DepthwiseConv1D"),
                      spec_depthwise2d = DEPTHWISE_SPEC("DepthwiseConv2D");

/* kernel_size, strides, padding, data_format, dilation_rate: what every
 * convolution reads (SeparableConv too: layer_separable.c). */
int lower_conv_window(Lower *lw, Window *w, int rank, int allow_causal)
{
    const char *name = lw->spec->name;
    memset(w, 0, sizeof *w);
    w->rank = rank;
    if (!lower_arg(lw, "kernel_size")) {
        diag_error(lw->src, lw->call->loc, "%s needs a kernel_size, e.g. %s", name,
                   strstr(name, "Depthwise") ? arena_printf("%s(3)", name)
                                             : arena_printf("%s(32, %s)", name, rank == 1 ? "3" : "(3, 3)"));
        return -1;
    }
    int err = lower_tuple(lw, "kernel_size", rank, 1, 1, w->k);
    err |= lower_tuple(lw, "strides", rank, 1, 1, w->s);
    err |= lower_tuple(lw, "dilation_rate", rank, 1, 1, w->d);
    err |= lower_padding(lw, allow_causal, &w->pad);
    err |= lower_data_format(lw);
    if (err)
        return -1;
    int strided = 0, dilated = 0;
    for (int a = 0; a < rank; a++) {
        strided |= w->s[a] > 1;
        dilated |= w->d[a] > 1;
    }
    if (strided && dilated) {
        diag_error(lw->src, lower_loc(lw, "dilation_rate"), "%s: strides > 1 together with dilation_rate > 1 is "
                   "not supported (nor in Keras)", name);
        return -1;
    }
    return 0;
}

static int positive(Lower *lw, const char *arg, int64_t v, const char *example)
{
    if (v > 0 && v <= INT32_MAX)
        return 0;
    diag_error(lw->src, lower_loc(lw, arg), "%s of %s must be a positive integer below 2^31, not %lld%s", arg,
               lw->spec->name, (long long)v, example);
    return -1;
}

static int lower_conv(Lower *lw, Layer *l)
{
    ConvAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    int rank = strchr(a->what, '1') ? 1 : 2;
    if (!lower_arg(lw, "filters")) {
        diag_error(lw->src, lw->call->loc, "%s needs the number of filters, e.g. %s(32, %s)", a->what, a->what,
                   rank == 1 ? "3" : "(3, 3)");
        return -1;
    }
    int64_t filters, groups;
    int err = lower_int(lw, "filters", 0, &filters);
    err |= lower_int(lw, "groups", 1, &groups);
    if (!err)
        err |= positive(lw, "filters", filters, "") | positive(lw, "groups", groups, "");
    err |= lower_conv_window(lw, &a->win, rank, rank == 1);
    err |= lower_act(lw, "activation", &l->act);
    err |= lower_bool(lw, "use_bias", 1, &a->use_bias);
    err |= lower_weight(lw, "kernel", SEQRT_INIT_GLOROT_UNIFORM, &a->kernel);
    err |= lower_weight(lw, "bias", SEQRT_INIT_ZEROS, &a->bias);
    a->kernel_init = a->kernel.init.kind;
    a->bias_init = a->bias.init.kind;
    if (err)
        return -1;
    a->filters = (int)filters;
    a->groups = (int)groups;
    if (filters % groups) {
        diag_error(lw->src, lower_loc(lw, "groups"), "groups=%lld does not divide filters=%lld of %s: each group "
                   "needs the same number of filters", (long long)groups, (long long)filters, a->what);
        return -1;
    }
    return 0;
}

static int lower_depthwise(Lower *lw, Layer *l)
{
    ConvAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    a->depthwise = 1;
    int rank = strchr(a->what, '1') ? 1 : 2;
    int64_t dm;
    int err = lower_int(lw, "depth_multiplier", 1, &dm);
    if (!err)
        err |= positive(lw, "depth_multiplier", dm, "");
    err |= lower_conv_window(lw, &a->win, rank, 0);
    err |= lower_act(lw, "activation", &l->act);
    err |= lower_bool(lw, "use_bias", 1, &a->use_bias);
    err |= lower_weight(lw, "depthwise", SEQRT_INIT_GLOROT_UNIFORM, &a->kernel);
    err |= lower_weight(lw, "bias", SEQRT_INIT_ZEROS, &a->bias);
    a->kernel_init = a->kernel.init.kind;
    a->bias_init = a->bias.init.kind;
    a->depth_multiplier = (int)dm;
    return err;
}

static const Syntax syntax_conv1d = {&spec_conv1d, lower_conv}, syntax_conv2d = {&spec_conv2d, lower_conv},
                    syntax_convolution1d = {&spec_convolution1d, lower_conv},
                    syntax_convolution2d = {&spec_convolution2d, lower_conv},
                    syntax_depthwise1d = {&spec_depthwise1d, lower_depthwise},
                    syntax_depthwise2d = {&spec_depthwise2d, lower_depthwise};

static int infer(const Source *src, Layer *l)
{
    ConvAttr *a = l->attr;
    int rank = a->win.rank;
    if (window_input_rank(src, l, rank, a->what) < 0)
        return -1;
    int c = shape_last(&l->in);
    if (a->depthwise) {
        if ((long long)c * a->depth_multiplier > INT32_MAX) {
            diag_error(src, l->loc, "%s: %d channels times depth_multiplier %d is too large", a->what, c,
                       a->depth_multiplier);
            return -1;
        }
        a->groups = c;
        a->filters = c * a->depth_multiplier;
    } else if (c % a->groups) {
        diag_error(src, l->loc, "%s: groups=%d does not divide the %d input channels (input %s): each group "
                   "needs the same number of channels", a->what, a->groups, c, shape_str(&l->in));
        return -1;
    }
    if (window_infer(src, l, &a->win, a->what, a->filters) < 0)
        return -1;
    long long weights = (long long)a->filters * (c / a->groups) * a->win.k[0] * (rank == 2 ? a->win.k[1] : 1);
    if (weights > INT32_MAX) {
        diag_error(src, l->loc, "%s has %lld weights, more than 2^31-1", a->what, weights);
        return -1;
    }
    for (int d = 0; d < rank; d++)
        l->out.dim[d] = a->win.out[d];
    l->out.dim[rank] = a->filters;
    return 0;
}

static int taps(const ConvAttr *a)
{
    return a->win.k[0] * (a->win.rank == 2 ? a->win.k[1] : 1);
}

void conv_keras_layout(Param *k, int depth_multiplier)
{
    /* storage (filters, in / groups, kh[, kw]); Keras (kh[, kw], in / groups, filters) */
    static const int conv1[] = {2, 1, 0}, conv2[] = {2, 3, 1, 0};
    /* depthwise storage (c m, 1, kh[, kw]) viewed as (c, m, kh[, kw]); Keras (kh[, kw], c, m) */
    static const int dw1[] = {2, 0, 1}, dw2[] = {2, 3, 0, 1};
    int rank = k->shape.rank - 2;
    Shape view = k->shape;
    if (depth_multiplier) {
        view.dim[0] = k->shape.dim[0] / depth_multiplier;
        view.dim[1] = depth_multiplier;
    }
    ir_param_keras_layout(k, view, depth_multiplier ? (rank == 1 ? dw1 : dw2) : (rank == 1 ? conv1 : conv2));
}

static void params(Layer *l)
{
    const ConvAttr *a = l->attr;
    int c = shape_last(&l->in), cg = c / a->groups, kk = taps(a);
    Shape w = {a->win.rank + 2, {a->filters, cg, a->win.k[0], a->win.k[1]}};
    /* Keras's fans of its kernel (kh, kw, c / groups, filters), or of the
     * depthwise kernel (kh, kw, c, depth_multiplier) */
    int fan_in = a->depthwise ? kk * c : kk * cg, fan_out = a->depthwise ? kk * a->depth_multiplier
                                                                          : kk * a->filters;
    Param *k = ir_add_param(l, "weight", "kernel", 1, w, a->kernel_init, fan_in, fan_out);
    ir_param_opts(k, &a->kernel);
    conv_keras_layout(k, a->depthwise ? a->depth_multiplier : 0);
    if (a->use_bias)
        ir_param_opts(ir_add_param(l, "bias", "bias", 1, shape_1d(a->filters), a->bias_init, a->filters, a->filters),
                      &a->bias);
}

static void print(FILE *f, const Layer *l)
{
    const ConvAttr *a = l->attr;
    fprintf(f, " filters=%d", a->filters);
    if (a->depthwise)
        fprintf(f, " depth_multiplier=%d", a->depth_multiplier);
    window_print(f, &a->win, 1);
    fprintf(f, " groups=%d use_bias=%s", a->groups, ir_bool(a->use_bias));
}

/* The floats conv.c needs for this layer at a batch of `batch`. */
static long scratch_for(const ConvAttr *a, int c, int batch)
{
    const Window *w = &a->win;
    long kk = taps(a), cg = c / a->groups, K = kk * cg, oc = a->filters;
    int pointwise = kk == 1 && w->s[0] == 1 && w->s[w->rank - 1] == 1 && w->before[0] == 0 &&
                    w->before[w->rank - 1] == 0 && a->groups == 1 && w->out[0] == w->in[0] &&
                    w->out[w->rank - 1] == w->in[w->rank - 1];
    if (pointwise)
        return 0;
    if (cg == 1 && a->groups > 1)
        return 2 * kk * oc;
    long pixels = (long)batch * w->out[0] * (w->rank == 2 ? w->out[1] : 1);
    long rows = CONV_CHUNK_FLOATS / (K + oc);   /* the chunk's patches and outputs */
    if (rows < 1)
        rows = 1;
    if (rows > pixels)
        rows = pixels;
    return 2 * oc * K + rows * K;
}

static void plan(Plan *p, Layer *l)
{
    const ConvAttr *a = l->attr;
    if (p->keep_logits || (!l->norm && !act_backward_needs_y_only(l->act)))
        plan_keep(p, l, KEEP_PREACT, l->out, "pre-activation, for backward");
    plan_scratch(p, l, scratch_for(a, shape_last(&l->in), p->m->batch_size));
}

static const char *window_of(Emit *e, const Layer *l)
{
    const ConvAttr *a = l->attr;
    return emit_static(e, "seqrt_window", arena_printf("%s_window", ir_tag(l)),
                       window_seqrt(&a->win, shape_last(&l->in), a->filters, a->groups));
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_conv_forward(%s, %s, %s, %s, %s,\n"
                 "                   n, &%s, %s, %s, %ld);",
              s->y, emit_keep(e, l, KEEP_PREACT), s->x, emit_param(e, l, "kernel"), emit_param(e, l, "bias"),
              window_of(e, l), emit_act(e, s->act), emit_scratch(e, l), l->scratch);
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    emit_line(e, "seqrt_conv_backward(%s, %s, %s, %s,\n"
                 "                    %s, %s, %s, %s, n, &%s, %s, %s, %ld);",
              s->dx, emit_grad(e, l, "kernel"), emit_grad(e, l, "bias"), s->dy, s->x, emit_param(e, l, "kernel"),
              emit_keep(e, l, KEEP_PREACT), s->y, window_of(e, l), emit_act(e, s->act), emit_scratch(e, l),
              l->scratch);
}

static void bake(Bake *b, const Layer *l)
{
    const ConvAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_CONV, l, arena_printf("%d: %s", l->index, a->depthwise ? "depthwise_conv"
                                                                                           : "conv"));
    int c = shape_last(&l->in);
    st->win = a->win;
    st->groups = a->groups;
    st->w = bake_param(b, l, "kernel", (long)a->filters * (c / a->groups) * taps(a), 0.0);
    st->b = bake_param(b, l, "bias", a->filters, 0.0);
}

/* nn.Conv1d/2d, channels-first, on the checkpoint's kernel as it is
 * (torch's layout); asymmetric padding (TensorFlow's "same", "causal") as a
 * pad module before it. A depthwise convolution is a grouped one. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const ConvAttr *a = l->attr;
    const Window *w = &a->win;
    int c = shape_last(&l->in), one[2] = {1, 1};
    py_layout(e, l, PY_CHANNELS_FIRST);
    const char *pad = py_window_padding(e, l, w, "0.0");
    const char *opt = "";
    if (memcmp(w->s, one, sizeof(int) * (size_t)w->rank))
        opt = arena_printf("%s, stride=%s", opt, py_ints(w->s, w->rank));
    if (memcmp(w->d, one, sizeof(int) * (size_t)w->rank))
        opt = arena_printf("%s, dilation=%s", opt, py_ints(w->d, w->rank));
    if (a->groups > 1)
        opt = arena_printf("%s, groups=%d", opt, a->groups);
    py_module(e, l, NULL, "nn.Conv%dd(%d, %d, %s%s%s, bias=%s)", w->rank, c, a->filters, py_ints(w->k, w->rank),
              opt, pad, a->use_bias ? "True" : "False");
    py_tensor(e, l, "kernel", NULL, "weight", NULL, NULL);
    if (a->use_bias)
        py_tensor(e, l, "bias", NULL, "bias", NULL, NULL);
    py_activation(e, l, "act", l->act);
}

const LayerKind kind_conv = {
    .name = "conv",
    .props = LK_TAKES_ACT | LK_TAKES_NORM | LK_DX_OPTIONAL,
    .syntax = (const Syntax *const[]){&syntax_conv1d, &syntax_conv2d, &syntax_convolution1d, &syntax_convolution2d,
                                      NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};

const LayerKind kind_depthwise_conv = {
    .name = "depthwise_conv",
    .props = LK_TAKES_ACT | LK_TAKES_NORM | LK_DX_OPTIONAL,
    .syntax = (const Syntax *const[]){&syntax_depthwise1d, &syntax_depthwise2d, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
