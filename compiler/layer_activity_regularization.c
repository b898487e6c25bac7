/*
 * layer_activity_regularization.c - ActivityRegularization(l1, l2), and
 * what activity_regularizer= on any layer becomes.
 *
 * Keras adds l1 sum|y| + l2 sum y^2 of a layer's output, divided by the
 * batch size (Keras 3's Layer.__call__), to the loss. Here that is a layer
 * of its own after the one it regularizes: a view in forward (its output is
 * its input's memory: it computes nothing), and in backward it adds the
 * penalty to the loss and its gradient to d output, in place
 * (seqrt_activity_regularize). Lowering inserts one after a layer given
 * activity_regularizer=, with the layer's statement index; the summary
 * lists only those written as ActivityRegularization statements, as Keras.
 * It has no parameters and no checkpoint names.
 */
#include "seqc.h"

static const CallSpec spec_activity_regularization = {"ActivityRegularization", 2, {
    {"l1", T_FLOAT}, {"l2", T_FLOAT}, LAYER_KWARGS}};

static int lower_activity_regularization(Lower *lw, Layer *l)
{
    Regularizer *r = arena_alloc(sizeof *r);
    l->attr = r;
    r->on = 1;
    int err = lower_float(lw, "l1", 0.0, &r->l1);
    err |= lower_float(lw, "l2", 0.0, &r->l2);
    if (!err && !(r->l1 >= 0 && r->l2 >= 0)) {
        diag_error(lw->src, lw->call->loc, "l1 and l2 must be 0 or more");
        err = -1;
    }
    return err;
}

static const Syntax syntax_activity_regularization = {&spec_activity_regularization,
                                                      lower_activity_regularization};

static int infer(const Source *src, Layer *l)
{
    (void)src, (void)l;
    return 0;
}

static void print(FILE *f, const Layer *l)
{
    const Regularizer *r = l->attr;
    fprintf(f, " l1=%.9g l2=%.9g", r->l1, r->l2);
}

static int noop(const Layer *l)
{
    const Regularizer *r = l->attr;
    return r->l1 == 0 && r->l2 == 0;
}

static void backward(Emit *e, const Site *s)
{
    const Regularizer *r = s->l->attr;
    emit_line(e, "loss += seqrt_activity_regularize(%s, %s, n, %ld, %s, %s);", s->x, s->dy,
              shape_size(&s->l->out), float_literal(r->l1), float_literal(r->l2));
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* a view: nothing to compute at inference */
}

/* A module that is the identity and records the penalty of its input for
 * loss() (penalty()); "k_activity" after the modules of statement k. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const Regularizer *r = l->attr;
    py_layout(e, l, PY_ANY_LAYOUT);   /* sums over every element */
    py_helper(e, "ActivityRegularization",
              "class ActivityRegularization(nn.Module):\n"
              "    \"\"\"Keras's activity regularizer (activity_regularizer=, or the\n"
              "    ActivityRegularization layer): the identity, recording l1 sum|x| +\n"
              "    l2 sum x^2 of its input divided by the batch size, which loss() adds to\n"
              "    the loss as Keras does.\"\"\"\n"
              "\n"
              "    def __init__(self, l1=0.0, l2=0.0):\n"
              "        super().__init__()\n"
              "        self.l1, self.l2 = l1, l2\n"
              "        self.penalty = None\n"
              "\n"
              "    def forward(self, x):\n"
              "        self.penalty = (self.l1 * x.abs().sum() + self.l2 * (x * x).sum()) / x.shape[0]\n"
              "        return x\n"
              "\n"
              "    def extra_repr(self):\n"
              "        return f\"l1={self.l1}, l2={self.l2}\"\n");
    py_module(e, l, "activity", "ActivityRegularization(l1=%s, l2=%s)", py_float(r->l1), py_float(r->l2));
}

const LayerKind kind_activity_regularization = {
    .name = "activity_regularization",
    .props = LK_VIEW,
    .syntax = (const Syntax *const[]){&syntax_activity_regularization, NULL},
    .infer = infer,
    .print = print,
    .noop = noop,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
