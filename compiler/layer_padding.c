/*
 * layer_padding.c - ZeroPadding1D/2D and Cropping1D/2D: rows and columns
 * of zeros added around a channels-last sample, or removed from its edges.
 *
 * Keras 3's argument forms (keras/src/layers/reshaping/zero_padding2d.py,
 * cropping2d.py): 2-D takes an int (the same on all four sides), a tuple
 * of two (symmetric height, symmetric width), or a tuple of two pairs
 * ((top, bottom), (left, right)), each entry of the tuple an int or a pair;
 * 1-D an int or a pair (left, right). Defaults: ZeroPadding2D 1,
 * ZeroPadding1D 1, Cropping2D 0, Cropping1D (1, 1). Cropping as much as the
 * input or more is an error (Keras: "Values in `cropping` argument should
 * be smaller than the corresponding spatial dimension").
 *
 * Both are one kernel pair, a shifted copy (spatial.c: a positive offset
 * pads, a negative one crops), whose backward is the opposite shift. No
 * parameters. The baked build makes a shift stage.
 */
#include "seqc.h"

typedef struct {
    const char *what;
    int crop;
    int rank;
    int amount[2][2];   /* per spatial axis: before, after */
} PadAttr;

static const CallSpec spec_zp1 = {"ZeroPadding1D", 2, {{"padding", T_ANY}, {"data_format", T_ANY}, LAYER_KWARGS}},
                      spec_zp2 = {"ZeroPadding2D", 2, {{"padding", T_ANY}, {"data_format", T_ANY}, LAYER_KWARGS}},
                      spec_cr1 = {"Cropping1D", 2, {{"cropping", T_ANY}, {"data_format", T_ANY}, LAYER_KWARGS}},
                      spec_cr2 = {"Cropping2D", 2, {{"cropping", T_ANY}, {"data_format", T_ANY}, LAYER_KWARGS}};

/* v is an int (both sides) or a list of 2 ints; out[0], out[1]. */
static int pair(const Lower *lw, const Value *v, const char *arg, int *out)
{
    if (v->kind == VAL_INT && v->i >= 0 && v->i <= INT32_MAX) {
        out[0] = out[1] = (int)v->i;
        return 0;
    }
    if (v->kind == VAL_LIST) {
        int n = 0;
        for (const Value *e = v->items; e; e = e->next, n++)
            if (e->kind != VAL_INT || e->i < 0 || e->i > INT32_MAX || n >= 2)
                break;
            else
                out[n] = (int)e->i;
        int count = 0;
        for (const Value *e = v->items; e; e = e->next)
            count++;
        if (n == 2 && count == 2)
            return 0;
    }
    diag_error(lw->src, v->loc, "each entry of %s of %s must be an integer >= 0 or a pair of them (before, after)",
               arg, lw->spec->name);
    return -1;
}

static int lower_padding_layer(Lower *lw, Layer *l)
{
    PadAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    a->crop = lw->spec == &spec_cr1 || lw->spec == &spec_cr2;
    a->rank = lw->spec == &spec_zp1 || lw->spec == &spec_cr1 ? 1 : 2;
    const char *arg = a->crop ? "cropping" : "padding";
    int def = a->crop ? (a->rank == 1 ? 1 : 0) : 1;
    a->amount[0][0] = a->amount[0][1] = a->amount[1][0] = a->amount[1][1] = def;
    if (lower_data_format(lw))
        return -1;
    const Value *v = lower_arg(lw, arg);
    if (!v)
        return 0;
    if (a->rank == 1)
        return pair(lw, v, arg, a->amount[0]);
    if (v->kind == VAL_INT)
        return pair(lw, v, arg, a->amount[0]) | pair(lw, v, arg, a->amount[1]);
    int n = 0;
    if (v->kind == VAL_LIST)
        for (const Value *e = v->items; e; e = e->next)
            n++;
    if (n != 2) {
        diag_error(lw->src, v->loc, "%s of %s must be an int, a tuple of 2 ints (height, width) or a tuple of 2 "
                   "pairs ((top, bottom), (left, right))", arg, a->what);
        return -1;
    }
    return pair(lw, v->items, arg, a->amount[0]) | pair(lw, v->items->next, arg, a->amount[1]);
}

static const Syntax syntax_zp1 = {&spec_zp1, lower_padding_layer}, syntax_zp2 = {&spec_zp2, lower_padding_layer},
                    syntax_cr1 = {&spec_cr1, lower_padding_layer}, syntax_cr2 = {&spec_cr2, lower_padding_layer};

static int infer(const Source *src, Layer *l)
{
    const PadAttr *a = l->attr;
    if (window_input_rank(src, l, a->rank, a->what) < 0)
        return -1;
    for (int d = 0; d < a->rank; d++) {
        long change = (long)a->amount[d][0] + a->amount[d][1];
        long size = a->crop ? l->in.dim[d] - change : l->in.dim[d] + change;
        if (a->crop && size < 1) {
            diag_error(src, l->loc, "%s removes %ld of the %d %s of its input %s: nothing would be left", a->what,
                       change, l->in.dim[d], a->rank == 1 ? "steps" : d == 0 ? "rows" : "columns",
                       shape_str(&l->in));
            return -1;
        }
        if (size > INT32_MAX) {
            diag_error(src, l->loc, "%s makes an axis longer than 2^31-1", a->what);
            return -1;
        }
        l->out.dim[d] = (int)size;
    }
    return 0;
}

static void print(FILE *f, const Layer *l)
{
    const PadAttr *a = l->attr;
    fprintf(f, " %s=", a->crop ? "cropping" : "padding");
    for (int d = 0; d < a->rank; d++)
        fprintf(f, "%s%d,%d", d ? "," : "", a->amount[d][0], a->amount[d][1]);
}

/* The shift's arguments: n, h, w, c, oh, ow, top, left. */
static const char *shift_args(const Layer *l)
{
    const PadAttr *a = l->attr;
    int r2 = a->rank == 2, sign = a->crop ? -1 : 1;
    return arena_printf("n, %d, %d, %d, %d, %d, %d, %d", r2 ? l->in.dim[0] : 1, l->in.dim[r2], shape_last(&l->in),
                        r2 ? l->out.dim[0] : 1, l->out.dim[r2], r2 ? sign * a->amount[0][0] : 0,
                        sign * a->amount[r2][0]);
}

static void forward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_shift_forward(%s, %s, %s);", s->y, s->x, shift_args(s->l));
}

static void backward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_shift_backward(%s, %s, %s);", s->dx, s->dy, shift_args(s->l));
}

static void bake(Bake *b, const Layer *l)
{
    const PadAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_SHIFT, l, arena_printf("%d: %s", l->index, l->kind->name));
    int r2 = a->rank == 2, sign = a->crop ? -1 : 1;
    st->top = r2 ? sign * a->amount[0][0] : 0;
    st->left = sign * a->amount[r2][0];
}

/* Channels-first: nn.ConstantPad1d/2d with zeros, or a Cropping module. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const PadAttr *a = l->attr;
    const int (*n)[2] = a->amount;
    /* F.pad's order: the last axis first */
    const char *amounts = a->rank == 1 ? arena_printf("(%d, %d)", n[0][0], n[0][1])
                                       : arena_printf("(%d, %d, %d, %d)", n[1][0], n[1][1], n[0][0], n[0][1]);
    py_layout(e, l, PY_CHANNELS_FIRST);
    if (!a->crop) {
        py_module(e, l, NULL, "nn.ConstantPad%dd(%s, 0.0)", a->rank, amounts);
        return;
    }
    py_helper(e, "Cropping",
              "class Cropping(nn.Module):\n"
              "    \"\"\"Keras's Cropping1D/2D, channels-first: removes crop[i] = (before,\n"
              "    after) elements at the ends of spatial axis i.\"\"\"\n"
              "\n"
              "    def __init__(self, *crop):\n"
              "        super().__init__()\n"
              "        self.crop = crop\n"
              "\n"
              "    def forward(self, x):\n"
              "        for axis, (before, after) in enumerate(self.crop, start=2):\n"
              "            x = x.narrow(axis, before, x.shape[axis] - before - after)\n"
              "        return x\n"
              "\n"
              "    def extra_repr(self):\n"
              "        return f\"crop={self.crop}\"\n");
    py_module(e, l, NULL, "Cropping(%s)", a->rank == 1 ? arena_printf("(%d, %d)", n[0][0], n[0][1])
                                                       : arena_printf("(%d, %d), (%d, %d)", n[0][0], n[0][1],
                                                                      n[1][0], n[1][1]));
}

const LayerKind kind_zero_padding = {
    .name = "zero_padding",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_zp1, &syntax_zp2, NULL},
    .infer = infer,
    .print = print,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};

const LayerKind kind_cropping = {
    .name = "cropping",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_cr1, &syntax_cr2, NULL},
    .infer = infer,
    .print = print,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
