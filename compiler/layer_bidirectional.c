/*
 * layer_bidirectional.c - Bidirectional(layer, merge_mode="concat"): a
 * recurrent layer run over the steps in both directions, the two outputs
 * merged.
 *
 * Keras 3 (keras/src/layers/rnn/bidirectional.py): the forward layer is the
 * given SimpleRNN, LSTM or GRU; the backward layer is a copy with
 * go_backwards flipped and its own weights; with return_sequences the
 * backward layer's sequence is reversed back into input order before the
 * merge. merge_mode "concat" (forward units first), "sum", "mul", "ave";
 * None (two outputs) is refused, as is backward_layer=.
 *
 * Checkpoint: nn.LSTM / nn.GRU / nn.RNN(bidirectional=True,
 * batch_first=True)'s names - the forward direction's "k.weight_ih_l0",
 * ..., the backward's "k.weight_ih_l0_reverse", ... - with the mapping of
 * layer_rnn.c. PyTorch's bidirectional output is the concat merge.
 *
 * Buffers: each direction's of layer_rnn.c (roles suffixed "_reverse" for
 * the backward one), its output ("yf", "yb", per row), and in a model that
 * trains the backward direction's input gradient ("dxb") before it is added
 * to the forward direction's.
 */
#include <string.h>

#include "seqc.h"

typedef struct {
    const void *rnn;          /* the wrapped layer's attributes (layer_rnn.c) */
    const char *what;         /* its Keras name */
    int merge;                /* seqrt_merge_mode */
    int units, return_sequences, go_backwards;
} BidirAttr;

static const CallSpec spec_bidir = {"Bidirectional", 4, {
    {"layer", T_ANY}, {"merge_mode", T_ANY}, {"weights", T_NONE}, {"backward_layer", T_NONE}, LAYER_KWARGS}};

static const char *const merge_names[] = {"concat", "sum", "mul", "ave"};
static const char *const merge_enum[] = {"SEQRT_MERGE_CONCAT", "SEQRT_MERGE_SUM", "SEQRT_MERGE_MUL",
                                         "SEQRT_MERGE_AVE"};

static int lower_bidir(Lower *lw, Layer *l)
{
    BidirAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    Value *inner = lower_arg(lw, "layer");
    if (!inner) {
        diag_error(lw->src, lw->call->loc, "Bidirectional needs the recurrent layer it wraps, e.g. "
                   "Bidirectional(LSTM(32))");
        return -1;
    }
    int err = 0;
    Value *mm = lower_arg(lw, "merge_mode");
    a->merge = SEQRT_MERGE_CONCAT;
    if (mm && mm->kind == VAL_NONE) {
        diag_error(lw->src, mm->loc, "merge_mode=None (the two directions as two outputs) is not supported by "
                   "seqc: a Sequential model passes one value on; use \"concat\", \"sum\", \"mul\" or \"ave\"");
        err = -1;
    } else if (mm) {
        const char *s;
        err |= lower_str(lw, "merge_mode", "concat", &s);
        int k = -1;
        for (int i = 0; !err && i < COUNT_OF(merge_names); i++)
            if (!strcmp(s, merge_names[i]))
                k = i;
        if (!err && k < 0) {
            diag_error(lw->src, mm->loc, "merge_mode must be \"concat\", \"sum\", \"mul\" or \"ave\", not \"%s\"",
                       s);
            err = -1;
        }
        if (k >= 0)
            a->merge = k;
    }
    Layer tmp = {0};
    const LayerKind *k = inner->kind == VAL_CALL ? lower_nested_layer(lw, inner, &tmp) : NULL;
    if (inner->kind != VAL_CALL) {
        diag_error(lw->src, inner->loc, "Bidirectional wraps a recurrent layer, e.g. Bidirectional(LSTM(32))");
        return -1;
    }
    if (!k)
        return -1;
    if (!rnn_is_recurrent(k)) {
        diag_error(lw->src, inner->loc, "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM or GRU), not %s",
                   inner->s);
        return -1;
    }
    a->rnn = tmp.attr;
    a->what = inner->s;
    a->units = rnn_units(a->rnn, &a->return_sequences, &a->go_backwards);
    return err;
}

static const Syntax syntax_bidir = {&spec_bidir, lower_bidir};

static int steps(const Layer *l)
{
    const BidirAttr *a = l->attr;
    return a->return_sequences ? l->in.dim[0] : 1;
}

static int infer(const Source *src, Layer *l)
{
    const BidirAttr *a = l->attr;
    if (rnn_check_input(src, l, arena_printf("Bidirectional(%s)", a->what)) < 0)
        return -1;
    int H = a->merge == SEQRT_MERGE_CONCAT ? 2 * a->units : a->units;
    if (a->return_sequences) {
        l->out.rank = 2;
        l->out.dim[0] = l->in.dim[0];
        l->out.dim[1] = H;
    } else {
        l->out = shape_1d(H);
    }
    return 0;
}

static void params(Layer *l)
{
    const BidirAttr *a = l->attr;
    rnn_params(l, a->rnn, "");
    rnn_params(l, a->rnn, "_reverse");
}

static void print(FILE *f, const Layer *l)
{
    const BidirAttr *a = l->attr;
    fprintf(f, " layer=%s merge_mode=%s", a->what, merge_names[a->merge]);
    rnn_print(f, a->rnn);
}

static Shape dir_shape(const Layer *l)
{
    const BidirAttr *a = l->attr;
    Shape s = {2, {steps(l), a->units}};
    return s;
}

static void plan(Plan *p, Layer *l)
{
    const BidirAttr *a = l->attr;
    rnn_plan(p, l, a->rnn, "", p->m->batch_size);
    rnn_plan(p, l, a->rnn, "_reverse", p->m->batch_size);
    plan_value(p, l, "yf", dir_shape(l), "the forward direction's output");
    plan_value(p, l, "yb", dir_shape(l), "the backward direction's output");
    if (l != &p->m->layer[0])   /* the first layer computes no input gradient */
        plan_keep(p, l, "dxb", l->in, "the backward direction's input gradient");
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const BidirAttr *a = l->attr;
    const char *yf = emit_keep(e, l, "yf"), *yb = emit_keep(e, l, "yb");
    rnn_emit_forward(e, l, a->rnn, "", s->x, yf, a->go_backwards, a->return_sequences);
    rnn_emit_forward(e, l, a->rnn, "_reverse", s->x, yb, !a->go_backwards, a->return_sequences);
    emit_line(e, "seqrt_merge_forward(%s, %s, %s, n, %d, %d, %s, %d);", s->y, yf, yb, steps(l), a->units,
              merge_enum[a->merge], a->return_sequences);
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    const BidirAttr *a = l->attr;
    const char *yf = emit_keep(e, l, "yf"), *yb = emit_keep(e, l, "yb");
    int dx = strcmp(s->dx, "NULL") != 0;
    emit_line(e, "seqrt_merge_backward(%s, %s, %s, n, %d, %d, %s, %d); /* d yf, d yb over yf, yb */", yf, yb,
              s->dy, steps(l), a->units, merge_enum[a->merge], a->return_sequences);
    rnn_emit_backward(e, l, a->rnn, "", s->x, yf, s->dx, a->go_backwards, a->return_sequences);
    rnn_emit_backward(e, l, a->rnn, "_reverse", s->x, yb, dx ? emit_keep(e, l, "dxb") : "NULL", !a->go_backwards,
                      a->return_sequences);
    if (dx)
        emit_line(e, "seqrt_add_to(%s, %s, (long)n * %ld);", s->dx, emit_keep(e, l, "dxb"), shape_size(&l->in));
}

static void init(Emit *e, const Layer *l)
{
    const BidirAttr *a = l->attr;
    rnn_emit_init(e, l, a->rnn, "");
    rnn_emit_init(e, l, a->rnn, "_reverse");
}

static int64_t seed(const Layer *l)
{
    const BidirAttr *a = l->attr;
    return rnn_seed(a->rnn);
}

static void bake(Bake *b, const Layer *l)
{
    const BidirAttr *a = l->attr;
    rnn_bake(b, l, a->rnn, 1, a->merge, arena_printf("%d: Bidirectional(%s), %s", l->index, a->what,
                                                      merge_names[a->merge]));
}

/* --emit=pytorch: both directions and the merge in one KerasRecurrent
 * module (layer_rnn.c), whose tensors load into nn.LSTM/nn.GRU/nn.RNN(
 * bidirectional=True) (their output is the concat merge). */
static void pytorch(PyEmit *e, const Layer *l)
{
    const BidirAttr *a = l->attr;
    rnn_pytorch(e, l, a->rnn, merge_names[a->merge]);
}

const LayerKind kind_bidirectional = {
    .name = "bidirectional",
    .props = LK_DX_OPTIONAL,
    .syntax = (const Syntax *const[]){&syntax_bidir, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .init = init,
    .bake = bake,
    .seed = seed,
    .pytorch = pytorch,
};
