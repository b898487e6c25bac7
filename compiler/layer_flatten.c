/*
 * layer_flatten.c - Flatten: a sample of any shape as one axis.
 *
 * Row-major data is already flat, so Flatten computes nothing: it is a view
 * (LK_VIEW), whose output is its input's memory and whose gradient passes
 * through. It matters for the shapes: Dense after Flatten sees one axis of
 * h * w * c features (in (h, w, c) order: channels last, as Keras).
 */
#include "seqc.h"

static const CallSpec spec_flatten = {"Flatten", 1, {
    {"data_format", T_NONE}, LAYER_KWARGS}};

static int lower_flatten(Lower *lw, Layer *l)
{
    (void)lw, (void)l;
    return 0;
}

static const Syntax syntax_flatten = {&spec_flatten, lower_flatten};

static int infer(const Source *src, Layer *l)
{
    (void)src;
    l->out = shape_1d((int)shape_size(&l->in));
    return 0;
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* a view: nothing to compute */
}

/* nn.Flatten keeps the row-major (channels-last) order, as Keras's. */
static void pytorch(PyEmit *e, const Layer *l)
{
    py_module(e, l, NULL, "nn.Flatten()");
}

const LayerKind kind_flatten = {
    .name = "flatten",
    .props = LK_VIEW,
    .syntax = (const Syntax *const[]){&syntax_flatten, NULL},
    .infer = infer,
    .bake = bake,
    .pytorch = pytorch,
};
