/*
 * layer_rescaling.c - Rescaling(scale, offset=0.0): y = x * scale + offset,
 * elementwise (keras/src/layers/preprocessing/rescaling.py), the usual
 * first layer of an image model (Rescaling(1./255)).
 *
 * seqc takes a number for each (Keras also takes a per-channel tensor:
 * not built, an error at the argument). No parameters; backward scales
 * the gradient, in place. The baked build makes it a scale stage, which
 * folds into the layer after it where that is exact (bake_plan.c).
 */
#include <math.h>
#include <string.h>

#include "seqc.h"

typedef struct {
    double scale, offset;
} RescalingAttr;

static const CallSpec spec_rescaling = {"Rescaling", 2, {{"scale", T_ANY}, {"offset", T_ANY}, LAYER_KWARGS}};

static int lower_rescaling(Lower *lw, Layer *l)
{
    RescalingAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    if (!lower_arg(lw, "scale")) {
        diag_error(lw->src, lw->call->loc, "Rescaling needs a scale, e.g. Rescaling(0.00392156862745098) for 1/255");
        return -1;
    }
    int err = 0;
    static const char *const args[] = {"scale", "offset"};
    for (int k = 0; k < 2; k++) {
        const Value *v = lower_arg(lw, args[k]);
        if (v && v->kind == VAL_LIST) {
            diag_error(lw->src, v->loc, "Rescaling's %s must be one number: seqc does not take one per channel "
                       "(Keras does); give a BatchNormalization or Normalization layer per-channel statistics "
                       "instead", args[k]);
            err = -1;
        }
    }
    if (err)
        return -1;
    err |= lower_float(lw, "scale", 1.0, &a->scale);
    err |= lower_float(lw, "offset", 0.0, &a->offset);
    if (!err && !(isfinite(a->scale) && isfinite(a->offset) && fabs(a->scale) <= 3.4e38 &&
                  fabs(a->offset) <= 3.4e38)) {
        diag_error(lw->src, lw->call->loc, "Rescaling's scale and offset must be finite floats");
        err = -1;
    }
    return err;
}

static const Syntax syntax_rescaling = {&spec_rescaling, lower_rescaling};

static int infer(const Source *src, Layer *l)
{
    (void)src, (void)l;
    return 0;
}

static void print(FILE *f, const Layer *l)
{
    const RescalingAttr *a = l->attr;
    fprintf(f, " scale=%.9g offset=%.9g", a->scale, a->offset);
}

static int noop(const Layer *l)
{
    const RescalingAttr *a = l->attr;
    return (float)a->scale == 1.0f && (float)a->offset == 0.0f;
}

static void forward(Emit *e, const Site *s)
{
    const RescalingAttr *a = s->l->attr;
    emit_line(e, "seqrt_scale_forward(%s, %s, (long)n * %ld, %s, %s);", s->y, s->x, shape_size(&s->l->out),
              float_literal(a->scale), float_literal(a->offset));
}

static void backward(Emit *e, const Site *s)
{
    const RescalingAttr *a = s->l->attr;
    emit_line(e, "seqrt_scale_backward(%s, %s, (long)n * %ld, %s);%s", s->dx, s->dy, shape_size(&s->l->out),
              float_literal(a->scale), !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    const RescalingAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_SCALE, l, arena_printf("%d: rescaling", l->index));
    int c = shape_last(&l->out);
    st->s = bake_alloc(c);
    st->t = bake_alloc(c);
    for (int j = 0; j < c; j++) {
        st->s[j] = (float)a->scale;
        st->t[j] = (float)a->offset;
    }
}

/* Elementwise: either layout. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const RescalingAttr *a = l->attr;
    py_layout(e, l, PY_ANY_LAYOUT);
    py_helper(e, "Rescaling",
              "class Rescaling(nn.Module):\n"
              "    \"\"\"Keras's Rescaling: x * scale + offset.\"\"\"\n"
              "\n"
              "    def __init__(self, scale, offset=0.0):\n"
              "        super().__init__()\n"
              "        self.scale, self.offset = scale, offset\n"
              "\n"
              "    def forward(self, x):\n"
              "        return x * self.scale + self.offset\n"
              "\n"
              "    def extra_repr(self):\n"
              "        return f\"scale={self.scale}, offset={self.offset}\"\n");
    py_module(e, l, NULL, "Rescaling(%s, %s)", py_float(a->scale), py_float(a->offset));
}

const LayerKind kind_rescaling = {
    .name = "rescaling",
    .props = LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_rescaling, NULL},
    .infer = infer,
    .print = print,
    .noop = noop,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
