/*
 * layer_pool.c - MaxPooling1D/2D, AveragePooling1D/2D and the global
 * poolings GlobalMaxPooling1D/2D, GlobalAveragePooling1D/2D, over
 * channels-last input.
 *
 * Keras 3's arguments and defaults (keras/src/layers/pooling/): pool_size
 * (2, or (2, 2)), strides=None meaning pool_size, padding "valid" or
 * "same"; the shape rule is compute_pooling_output_shape (window.c). With
 * "same", the padded positions take no part: a maximum is over the real
 * elements and an average divides by their number (as Keras with
 * TensorFlow, and torch's count_include_pad=False). A global pooling is a
 * window as large as its input, its output [channels] (keepdims=True:
 * [1, 1, channels], or [1, channels] in 1-D).
 *
 * No parameters. Max pooling keeps nothing for backward (the gradient goes
 * to the element of each window equal to the output: pool.c). The baked
 * build makes each a pooling stage; a ReLU before a max pooling commutes
 * with it (max(relu(x)) = relu(max(x))), so the baked build pools first
 * and activates the smaller output (bake_plan.c).
 */
#include <string.h>

#include "seqc.h"

typedef struct {
    const char *what;
    int global, keepdims;
    Window win;
} PoolAttr;

#define POOL_SPEC(NAME)                                                                        \
    {NAME, 4, {{"pool_size", T_ANY}, {"strides", T_ANY}, {"padding", T_STR},                   \
               {"data_format", T_ANY}, LAYER_KWARGS}}
#define GLOBAL_SPEC(NAME) {NAME, 2, {{"data_format", T_ANY}, {"keepdims", T_BOOL}, LAYER_KWARGS}}

static const CallSpec spec_max1d = POOL_SPEC("MaxPooling1D"), spec_max2d = POOL_SPEC("MaxPooling2D"),
                      spec_maxpool1d = POOL_SPEC("MaxPool1D"), spec_maxpool2d = POOL_SPEC("MaxPool2D"),
                      spec_avg1d = POOL_SPEC("AveragePooling1D"), spec_avg2d = POOL_SPEC("AveragePooling2D"),
                      spec_avgpool1d = POOL_SPEC("AvgPool1D"), spec_avgpool2d = POOL_SPEC("AvgPool2D"),
                      spec_gmax1d = GLOBAL_SPEC("GlobalMaxPooling1D"),
                      spec_gmax2d = GLOBAL_SPEC("GlobalMaxPooling2D"),
                      spec_gmaxpool1d = GLOBAL_SPEC("GlobalMaxPool1D"),
                      spec_gmaxpool2d = GLOBAL_SPEC("GlobalMaxPool2D"),
                      spec_gavg1d = GLOBAL_SPEC("GlobalAveragePooling1D"),
                      spec_gavg2d = GLOBAL_SPEC("GlobalAveragePooling2D"),
                      spec_gavgpool1d = GLOBAL_SPEC("GlobalAvgPool1D"),
                      spec_gavgpool2d = GLOBAL_SPEC("GlobalAvgPool2D");

static int lower_pool(Lower *lw, Layer *l)
{
    PoolAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    Window *w = &a->win;
    w->rank = strchr(a->what, '1') ? 1 : 2;
    w->is_pool = 1;
    int err = lower_tuple(lw, "pool_size", w->rank, 2, 1, w->k);
    const Value *s = lower_arg(lw, "strides");
    if (s && s->kind != VAL_NONE)
        err |= lower_tuple(lw, "strides", w->rank, 1, 1, w->s);
    else
        memcpy(w->s, w->k, sizeof w->s);   /* strides=None: pool_size */
    w->d[0] = w->d[1] = 1;
    err |= lower_padding(lw, 0, &w->pad);
    err |= lower_data_format(lw);
    return err;
}

static int lower_global(Lower *lw, Layer *l)
{
    PoolAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    a->global = 1;
    a->win.rank = strchr(a->what, '1') ? 1 : 2;
    a->win.is_pool = 1;
    int err = lower_bool(lw, "keepdims", 0, &a->keepdims);
    err |= lower_data_format(lw);
    return err;
}

static const Syntax syntax_max1d = {&spec_max1d, lower_pool}, syntax_max2d = {&spec_max2d, lower_pool},
                    syntax_maxpool1d = {&spec_maxpool1d, lower_pool}, syntax_maxpool2d = {&spec_maxpool2d, lower_pool},
                    syntax_avg1d = {&spec_avg1d, lower_pool}, syntax_avg2d = {&spec_avg2d, lower_pool},
                    syntax_avgpool1d = {&spec_avgpool1d, lower_pool}, syntax_avgpool2d = {&spec_avgpool2d, lower_pool},
                    syntax_gmax1d = {&spec_gmax1d, lower_global}, syntax_gmax2d = {&spec_gmax2d, lower_global},
                    syntax_gmaxpool1d = {&spec_gmaxpool1d, lower_global},
                    syntax_gmaxpool2d = {&spec_gmaxpool2d, lower_global},
                    syntax_gavg1d = {&spec_gavg1d, lower_global}, syntax_gavg2d = {&spec_gavg2d, lower_global},
                    syntax_gavgpool1d = {&spec_gavgpool1d, lower_global},
                    syntax_gavgpool2d = {&spec_gavgpool2d, lower_global};

static int infer(const Source *src, Layer *l)
{
    PoolAttr *a = l->attr;
    Window *w = &a->win;
    int rank = w->rank, c;
    if (window_input_rank(src, l, rank, a->what) < 0)
        return -1;
    c = shape_last(&l->in);
    if (a->global) {
        for (int d = 0; d < rank; d++) {
            w->k[d] = l->in.dim[d];
            w->s[d] = w->d[d] = 1;
        }
        w->pad = PAD_VALID;
    }
    if (window_infer(src, l, w, a->what, c) < 0)
        return -1;
    if (a->global && !a->keepdims) {
        l->out = shape_1d(c);
        return 0;
    }
    for (int d = 0; d < rank; d++)
        l->out.dim[d] = w->out[d];
    return 0;
}

static void print(FILE *f, const Layer *l)
{
    const PoolAttr *a = l->attr;
    if (a->global)
        fprintf(f, " global=true keepdims=%s", ir_bool(a->keepdims));
    window_print(f, &a->win, 0);
}

static const char *window_of(Emit *e, const Layer *l)
{
    const PoolAttr *a = l->attr;
    int c = shape_last(&l->in);
    return emit_static(e, "seqrt_window", arena_printf("%s_window", ir_tag(l)), window_seqrt(&a->win, c, c, 1));
}

static void forward_max(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_maxpool_forward(%s, %s, n, &%s);", s->y, s->x, window_of(e, s->l));
}

static void backward_max(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_maxpool_backward(%s, %s, %s, %s, n, &%s);", s->dx, s->dy, s->x, s->y, window_of(e, s->l));
}

static void forward_avg(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_avgpool_forward(%s, %s, n, &%s);", s->y, s->x, window_of(e, s->l));
}

static void backward_avg(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_avgpool_backward(%s, %s, n, &%s);", s->dx, s->dy, window_of(e, s->l));
}

static void bake_pool(Bake *b, const Layer *l, int max)
{
    const PoolAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_POOL, l, arena_printf("%d: %s", l->index, l->kind->name));
    st->win = a->win;
    st->pool_max = max;
    st->act = act_default(SEQRT_ACT_LINEAR);
}

static void bake_max(Bake *b, const Layer *l) { bake_pool(b, l, 1); }
static void bake_avg(Bake *b, const Layer *l) { bake_pool(b, l, 0); }

/* Channels-first. Max: nn.MaxPool1d/2d (padding: -inf, taking no part).
 * Average: nn.AvgPool1d/2d with count_include_pad=False, or, for
 * asymmetric "same" padding, a module dividing by each window's real
 * elements. Global: the max or mean over the spatial axes. */
static void pytorch_pool(PyEmit *e, const Layer *l, int max)
{
    const PoolAttr *a = l->attr;
    const Window *w = &a->win;
    int r = w->rank;
    py_layout(e, l, PY_CHANNELS_FIRST);
    if (a->global) {
        py_helper(e, "GlobalPool",
                  "class GlobalPool(nn.Module):\n"
                  "    \"\"\"Keras's GlobalMax/AveragePooling1D/2D, channels-first: the max or the\n"
                  "    mean of each channel over the spatial axes.\"\"\"\n"
                  "\n"
                  "    def __init__(self, max, keepdims=False):\n"
                  "        super().__init__()\n"
                  "        self.max, self.keepdims = max, keepdims\n"
                  "\n"
                  "    def forward(self, x):\n"
                  "        axes = tuple(range(2, x.dim()))\n"
                  "        if self.max:\n"
                  "            return x.amax(dim=axes, keepdim=self.keepdims)\n"
                  "        return x.mean(dim=axes, keepdim=self.keepdims)\n"
                  "\n"
                  "    def extra_repr(self):\n"
                  "        return f\"max={self.max}, keepdims={self.keepdims}\"\n");
        py_module(e, l, NULL, "GlobalPool(max=%s%s)", max ? "True" : "False", a->keepdims ? ", keepdims=True" : "");
        return;
    }
    const char *stride = memcmp(w->s, w->k, sizeof(int) * (size_t)r) ? arena_printf(", stride=%s", py_ints(w->s, r))
                                                                      : "";
    if (max) {
        py_module(e, l, NULL, "nn.MaxPool%dd(%s%s%s)", r, py_ints(w->k, r), stride,
                  py_window_padding(e, l, w, "-math.inf"));
        return;
    }
    int symmetric = 1;
    for (int d = 0; d < r; d++)
        symmetric &= w->before[d] == w->after[d];
    if (symmetric) {
        const char *pad = py_window_padding(e, l, w, "0.0");
        py_module(e, l, NULL, "nn.AvgPool%dd(%s%s%s%s)", r, py_ints(w->k, r), stride, pad,
                  *pad ? ", count_include_pad=False" : "");
        return;
    }
    py_helper(e, "AvgPoolSame",
              "class AvgPoolSame(nn.Module):\n"
              "    \"\"\"Keras's AveragePooling1D/2D with padding=\"same\" where TensorFlow pads\n"
              "    one more at the end than at the start (torch pads both ends alike):\n"
              "    each window's mean over its real elements. pads: F.pad's order.\"\"\"\n"
              "\n"
              "    def __init__(self, kernel_size, stride, pads):\n"
              "        super().__init__()\n"
              "        self.kernel_size, self.stride, self.pads = kernel_size, stride, pads\n"
              "\n"
              "    def forward(self, x):\n"
              "        pool = F.avg_pool2d if x.dim() == 4 else F.avg_pool1d\n"
              "        ones = torch.ones_like(x[:1, :1])\n"
              "        total = pool(F.pad(x, self.pads), self.kernel_size, self.stride)\n"
              "        count = pool(F.pad(ones, self.pads), self.kernel_size, self.stride)\n"
              "        return total / count\n"
              "\n"
              "    def extra_repr(self):\n"
              "        return f\"kernel_size={self.kernel_size}, stride={self.stride}, pads={self.pads}\"\n");
    py_module(e, l, NULL, "AvgPoolSame(%s, %s, %s)", py_ints(w->k, r), py_ints(w->s, r),
              r == 1 ? arena_printf("(%d, %d)", w->before[0], w->after[0])
                     : arena_printf("(%d, %d, %d, %d)", w->before[1], w->after[1], w->before[0], w->after[0]));
}

static void pytorch_max(PyEmit *e, const Layer *l) { pytorch_pool(e, l, 1); }
static void pytorch_avg(PyEmit *e, const Layer *l) { pytorch_pool(e, l, 0); }

const LayerKind kind_maxpool = {
    .name = "max_pool",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_max1d, &syntax_max2d, &syntax_maxpool1d, &syntax_maxpool2d,
                                      &syntax_gmax1d, &syntax_gmax2d, &syntax_gmaxpool1d, &syntax_gmaxpool2d, NULL},
    .infer = infer,
    .print = print,
    .forward = forward_max,
    .backward = backward_max,
    .bake = bake_max,
    .pytorch = pytorch_max,
};

const LayerKind kind_avgpool = {
    .name = "avg_pool",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_avg1d, &syntax_avg2d, &syntax_avgpool1d, &syntax_avgpool2d,
                                      &syntax_gavg1d, &syntax_gavg2d, &syntax_gavgpool1d, &syntax_gavgpool2d, NULL},
    .infer = infer,
    .print = print,
    .forward = forward_avg,
    .backward = backward_avg,
    .bake = bake_avg,
    .pytorch = pytorch_avg,
};
