/*
 * layer_prelu.c - PReLU: y = x for x > 0, alpha * x otherwise, with alpha
 * learned.
 *
 * Keras gives alpha the shape of a sample (input_shape[1:]), one slope per
 * element, except along shared_axes, where it is 1 and the slope is shared
 * (PReLU(shared_axes=[1, 2]) on images: one slope per channel). alpha
 * starts at zeros (alpha_initializer="zeros": an untrained PReLU is a
 * ReLU). The checkpoint name is "k.weight", as torch.nn.PReLU's; for a 1-D
 * input the two layers are the same (torch.nn.PReLU(num_parameters=F)).
 */
#include "seqc.h"

typedef struct {
    WeightOpts alpha;
    int shared[MAX_RANK + 1];   /* by Keras axis number: 1 is the first axis of a sample */
    Loc shared_loc;
    int any_shared;
} PReLUAttr;

static const CallSpec spec_prelu = {"PReLU", 4, {
    {"alpha_initializer", T_INIT}, {"alpha_regularizer", T_REG},
    {"alpha_constraint", T_CON}, {"shared_axes", T_ANY}, LAYER_KWARGS}};

static int lower_prelu(Lower *lw, Layer *l)
{
    PReLUAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    int err = lower_weight(lw, "alpha", SEQRT_INIT_ZEROS, &a->alpha);
    Value *v = lower_arg(lw, "shared_axes");
    if (!v || v->kind == VAL_NONE)
        return err;
    a->shared_loc = v->loc;
    const Value *one = v->kind == VAL_LIST ? v->items : v;
    for (const Value *e = one; e; e = v->kind == VAL_LIST ? e->next : NULL) {
        if (e->kind != VAL_INT || e->i < 1 || e->i > MAX_RANK) {
            diag_error(lw->src, e->loc, "shared_axes must list axes of a sample, 1 to %d (0 is the batch)",
                       MAX_RANK);
            return -1;
        }
        a->shared[e->i] = 1;
        a->any_shared = 1;
    }
    return err;
}

static const Syntax syntax_prelu = {&spec_prelu, lower_prelu};

static int infer(const Source *src, Layer *l)
{
    const PReLUAttr *a = l->attr;
    for (int k = l->in.rank + 1; k <= MAX_RANK; k++)
        if (a->shared[k]) {
            diag_error(src, a->shared_loc, "shared_axes names axis %d, but the input %s has axes 1 to %d", k,
                       shape_str(&l->in), l->in.rank);
            return -1;
        }
    return 0;
}

static Shape alpha_shape(const Layer *l)
{
    const PReLUAttr *a = l->attr;
    Shape s = l->in;
    for (int k = 0; k < s.rank; k++)
        if (a->shared[k + 1])
            s.dim[k] = 1;
    return s;
}

static void params(Layer *l)
{
    const PReLUAttr *a = l->attr;
    Shape s = alpha_shape(l);
    int n = (int)shape_size(&s);
    ir_param_opts(ir_add_param(l, "weight", "alpha", 1, s, a->alpha.init.kind, n, n), &a->alpha);
}

static void print(FILE *f, const Layer *l)
{
    const PReLUAttr *a = l->attr;
    if (!a->any_shared)
        return;
    fprintf(f, " shared_axes=[");
    for (int k = 1, first = 1; k <= MAX_RANK; k++)
        if (a->shared[k]) {
            fprintf(f, "%s%d", first ? "" : ",", k);
            first = 0;
        }
    fprintf(f, "]");
}

static void forward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    Shape as = alpha_shape(l);
    emit_line(e, "seqrt_prelu_forward(%s, %s, %s, n, %d, %s, %s);", s->y, s->x, emit_param(e, l, "alpha"), l->in.rank,
              emit_dims(&l->in), emit_dims(&as));
}

static void backward(Emit *e, const Site *s)
{
    const Layer *l = s->l;
    Shape as = alpha_shape(l);
    emit_line(e, "seqrt_prelu_backward(%s, %s, %s, %s, %s, n, %d,\n"
                 "                     %s, %s);",
              s->dx, emit_grad(e, l, "alpha"), s->dy, s->x, emit_param(e, l, "alpha"), l->in.rank, emit_dims(&l->in),
              emit_dims(&as));
}

static void bake(Bake *b, const Layer *l)
{
    Stage *st = bake_stage(b, ST_PRELU, l, arena_printf("%d: prelu", l->index));
    st->adims = alpha_shape(l);
    st->s = bake_param(b, l, "alpha", shape_size(&st->adims), 0.0);
}

/* torch.nn.PReLU has one slope per channel of axis 1: Keras's PReLU on a
 * 1-D sample (one slope per feature, or one shared). Otherwise a module
 * with alpha of Keras's shape, broadcast the same way. */
static void pytorch(PyEmit *e, const Layer *l)
{
    Shape as = alpha_shape(l);
    if (l->in.rank == 1) {
        py_module(e, l, NULL, "nn.PReLU(%d)", as.dim[0]);
    } else {
        py_helper(e, "PReLU",
                  "class PReLU(nn.Module):\n"
                  "    \"\"\"Keras's PReLU on a sample of any rank: x for x > 0, alpha * x otherwise,\n"
                  "    alpha of the sample's shape with 1 along shared_axes (torch.nn.PReLU\n"
                  "    has one slope per channel of axis 1 only).\"\"\"\n"
                  "\n"
                  "    def __init__(self, shape):\n"
                  "        super().__init__()\n"
                  "        self.weight = nn.Parameter(torch.zeros(shape))\n"
                  "\n"
                  "    def forward(self, x):\n"
                  "        return torch.where(x > 0, x, self.weight * x)\n");
        py_module(e, l, NULL, "PReLU(%s)", py_shape(&as));
    }
    py_tensor(e, l, "alpha", NULL, "weight", NULL, NULL);
}

const LayerKind kind_prelu = {
    .name = "prelu",
    .props = LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_prelu, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
