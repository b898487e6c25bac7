/*
 * layer_upsample.c - UpSampling1D/2D: each pixel repeated size times along
 * each spatial axis (nearest neighbour), channels last.
 *
 * Keras 3 (keras/src/layers/reshaping/up_sampling2d.py): size=2 (1-D) or
 * (2, 2), an int or a pair; interpolation="nearest" (the others, bilinear
 * and friends, are not built: an error at the argument). No parameters;
 * backward sums each block of the gradient (spatial.c). The baked build
 * makes an upsampling stage.
 */
#include <string.h>

#include "seqc.h"

typedef struct {
    const char *what;
    int rank, size[2];
} UpsampleAttr;

static const CallSpec spec_up1 = {"UpSampling1D", 1, {{"size", T_ANY}, LAYER_KWARGS}},
                      spec_up2 = {"UpSampling2D", 3, {{"size", T_ANY}, {"data_format", T_ANY},
                                                      {"interpolation", T_STR}, LAYER_KWARGS}};

static int lower_upsample(Lower *lw, Layer *l)
{
    UpsampleAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    a->rank = lw->spec == &spec_up1 ? 1 : 2;
    int err = lower_tuple(lw, "size", a->rank, 2, 1, a->size);
    if (a->rank == 2) {
        const char *interp;
        err |= lower_data_format(lw);
        err |= lower_str(lw, "interpolation", "nearest", &interp);
        if (!err && strcmp(interp, "nearest")) {
            diag_error(lw->src, lower_loc(lw, "interpolation"), "UpSampling2D(interpolation=\"%s\") is not "
                       "supported by seqc: only \"nearest\"", interp);
            err = -1;
        }
    }
    return err;
}

static const Syntax syntax_up1 = {&spec_up1, lower_upsample}, syntax_up2 = {&spec_up2, lower_upsample};

static int infer(const Source *src, Layer *l)
{
    const UpsampleAttr *a = l->attr;
    if (window_input_rank(src, l, a->rank, a->what) < 0)
        return -1;
    for (int d = 0; d < a->rank; d++) {
        long long size = (long long)l->in.dim[d] * a->size[d];
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
    const UpsampleAttr *a = l->attr;
    fprintf(f, " size=%d", a->size[0]);
    if (a->rank == 2)
        fprintf(f, ",%d", a->size[1]);
}

static const char *args(const Layer *l)
{
    const UpsampleAttr *a = l->attr;
    int r2 = a->rank == 2;
    return arena_printf("n, %d, %d, %d, %d, %d", r2 ? l->in.dim[0] : 1, l->in.dim[r2], shape_last(&l->in),
                        r2 ? a->size[0] : 1, a->size[r2]);
}

static void forward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_upsample_forward(%s, %s, %s);", s->y, s->x, args(s->l));
}

static void backward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_upsample_backward(%s, %s, %s);", s->dx, s->dy, args(s->l));
}

static void bake(Bake *b, const Layer *l)
{
    const UpsampleAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_UPSAMPLE, l, arena_printf("%d: upsample", l->index));
    st->top = a->rank == 2 ? a->size[0] : 1;
    st->left = a->size[a->rank == 2];
}

/* Channels-first nn.Upsample, nearest: each element repeated, as Keras. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const UpsampleAttr *a = l->attr;
    py_layout(e, l, PY_CHANNELS_FIRST);
    py_module(e, l, NULL, "nn.Upsample(scale_factor=%s, mode=\"nearest\")",
              a->rank == 1 ? arena_printf("%d", a->size[0]) : arena_printf("(%d, %d)", a->size[0], a->size[1]));
}

const LayerKind kind_upsample = {
    .name = "upsample",
    .props = 0,
    .syntax = (const Syntax *const[]){&syntax_up1, &syntax_up2, NULL},
    .infer = infer,
    .print = print,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
