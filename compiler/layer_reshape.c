/*
 * layer_reshape.c - Reshape(target_shape): the same elements of a sample,
 * in the same (row-major, channels-last) order, under another shape.
 *
 * Keras 3's rule (keras/src/ops/operation_utils.py,
 * compute_reshape_output_shape): target_shape excludes the batch axis; at
 * most one entry is -1, which takes whatever size makes the element counts
 * equal; otherwise the counts must be equal. A count that differs, or a -1
 * that cannot divide it, is an error that prints both counts.
 *
 * Like Flatten, it computes nothing: a view (LK_VIEW) whose output is its
 * input's memory and whose gradient passes through. It makes no stage in
 * the baked build.
 */
#include "seqc.h"

typedef struct {
    int rank;
    long long dim[MAX_RANK];   /* -1: inferred */
    Loc loc;
} ReshapeAttr;

static const CallSpec spec_reshape = {"Reshape", 1, {{"target_shape", T_ANY}, LAYER_KWARGS}};

static int lower_reshape(Lower *lw, Layer *l)
{
    ReshapeAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    const Value *v = lower_arg(lw, "target_shape");
    if (!v) {
        diag_error(lw->src, lw->call->loc, "Reshape needs a target_shape, e.g. Reshape((28, 28, 1))");
        return -1;
    }
    a->loc = v->loc;
    const Value *items = v->kind == VAL_LIST ? v->items : v;
    int unknown = 0;
    for (const Value *e = items; e; e = v->kind == VAL_LIST ? e->next : NULL) {
        if (e->kind != VAL_INT || e->i == 0 || e->i < -1 || e->i > INT32_MAX) {
            diag_error(lw->src, e->loc, "every entry of target_shape must be a positive integer or -1 (one "
                       "inferred size)");
            return -1;
        }
        if (e->i == -1 && unknown++) {
            diag_error(lw->src, e->loc, "target_shape may have at most one -1 (an inferred size)");
            return -1;
        }
        if (a->rank == MAX_RANK) {
            diag_error(lw->src, e->loc, "target_shape has more than %d axes", MAX_RANK);
            return -1;
        }
        a->dim[a->rank++] = e->i;
    }
    if (!a->rank) {
        diag_error(lw->src, v->loc, "target_shape is empty");
        return -1;
    }
    return 0;
}

static const Syntax syntax_reshape = {&spec_reshape, lower_reshape};

static int infer(const Source *src, Layer *l)
{
    const ReshapeAttr *a = l->attr;
    long long in = shape_size(&l->in), known = 1;
    int at = -1;
    for (int d = 0; d < a->rank; d++) {
        if (a->dim[d] < 0)
            at = d;
        else
            known *= a->dim[d];
        if (known > INT32_MAX)
            break;
    }
    const char *target = "((";
    for (int d = 0; d < a->rank; d++)
        target = arena_printf("%s%s%lld", target, d ? ", " : "", a->dim[d]);
    target = arena_printf("%s%s))", target, a->rank == 1 ? "," : "");
    if (at < 0 && known != in) {
        diag_error(src, a->loc, "Reshape%s has %lld elements, but its input %s has %lld", target, known,
                   shape_str(&l->in), in);
        return -1;
    }
    if (at >= 0 && (known > in || in % known)) {
        diag_error(src, a->loc, "Reshape%s: the input %s has %lld elements, which the other sizes (%lld "
                   "elements) do not divide, so -1 has no size", target, shape_str(&l->in), in, known);
        return -1;
    }
    l->out.rank = a->rank;
    for (int d = 0; d < a->rank; d++)
        l->out.dim[d] = (int)(d == at ? in / known : a->dim[d]);
    return 0;
}

static void print(FILE *f, const Layer *l)
{
    (void)f, (void)l;   /* the output shape says it all */
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* a view: nothing to compute */
}

/* On channels-last tensors, as Keras orders the elements. */
static void pytorch(PyEmit *e, const Layer *l)
{
    py_helper(e, "Reshape",
              "class Reshape(nn.Module):\n"
              "    \"\"\"Keras's Reshape: each sample (channels-last) to `shape`.\"\"\"\n"
              "\n"
              "    def __init__(self, *shape):\n"
              "        super().__init__()\n"
              "        self.shape = shape\n"
              "\n"
              "    def forward(self, x):\n"
              "        return x.reshape(len(x), *self.shape)\n"
              "\n"
              "    def extra_repr(self):\n"
              "        return f\"shape={self.shape}\"\n");
    const char *dims = "";
    for (int i = 0; i < l->out.rank; i++)
        dims = arena_printf("%s%s%d", dims, i ? ", " : "", l->out.dim[i]);
    py_module(e, l, NULL, "Reshape(%s)", dims);
}

const LayerKind kind_reshape = {
    .name = "reshape",
    .props = LK_VIEW,
    .syntax = (const Syntax *const[]){&syntax_reshape, NULL},
    .infer = infer,
    .print = print,
    .bake = bake,
    .pytorch = pytorch,
};
