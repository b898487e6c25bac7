/*
 * layer_activation.c - an activation as a layer of its own: Activation(...)
 * and the Keras layer forms ReLU(max_value, negative_slope, threshold),
 * LeakyReLU(negative_slope), ELU(alpha) and Softmax(axis).
 *
 * The function and its parameters are l->act; every formula lives in
 * runtime/seqrt_acts.def. Canonicalize splits a Dense's activation into
 * one of these and fuse merges it back (LK_ACTIVATION), so this kind is
 * also how the passes see every activation. Row-wise activations (softmax,
 * log_softmax) work over the last axis. Backward overwrites the gradient
 * in place; the baked build makes it one activation stage.
 */
#include <math.h>
#include <string.h>

#include "seqc.h"

static const CallSpec spec_activation = {"Activation", 1, {
    {"activation", T_ACT}, LAYER_KWARGS}};
static const CallSpec spec_relu = {"ReLU", 3, {
    {"max_value", T_ANY}, {"negative_slope", T_FLOAT}, {"threshold", T_FLOAT},
    LAYER_KWARGS}};
static const CallSpec spec_leaky_relu = {"LeakyReLU", 1, {
    {"negative_slope", T_FLOAT}, {"alpha", T_FLOAT}, LAYER_KWARGS}};
static const CallSpec spec_elu = {"ELU", 1, {
    {"alpha", T_FLOAT}, LAYER_KWARGS}};
static const CallSpec spec_softmax = {"Softmax", 1, {
    {"axis", T_INT}, LAYER_KWARGS}};

static int lower_activation(Lower *lw, Layer *l)
{
    if (!lower_arg(lw, "activation")) {
        diag_error(lw->src, lw->call->loc, "Activation needs an activation name, e.g. Activation(\"relu\")");
        return -1;
    }
    return lower_act(lw, "activation", &l->act);
}

/* Keras's ReLU layer rejects negative values of all three. */
static int not_negative(Lower *lw, const char *name, double v)
{
    if (v >= 0)
        return 0;
    diag_error(lw->src, lower_loc(lw, name), "%s of a ReLU layer cannot be negative, not %g", name, v);
    return -1;
}

static int lower_relu(Lower *lw, Layer *l)
{
    double slope, threshold, max_value = HUGE_VAL;
    int err = lower_float(lw, "negative_slope", 0.0, &slope);
    err |= lower_float(lw, "threshold", 0.0, &threshold);
    Value *mv = lower_arg(lw, "max_value");
    if (mv && mv->kind != VAL_NONE)
        err |= lower_float(lw, "max_value", 0.0, &max_value);
    if (err)
        return err;
    err |= not_negative(lw, "max_value", max_value);
    err |= not_negative(lw, "negative_slope", slope);
    err |= not_negative(lw, "threshold", threshold);
    l->act = act_default(SEQRT_ACT_RELU);
    l->act.p[0] = slope;
    l->act.p[1] = max_value;
    l->act.p[2] = threshold;
    return err;
}

static int lower_leaky_relu(Lower *lw, Layer *l)
{
    double slope;
    const char *name = lower_arg(lw, "alpha") && !lower_arg(lw, "negative_slope") ? "alpha" : "negative_slope";
    if (lower_arg(lw, "alpha") && lower_arg(lw, "negative_slope")) {
        diag_error(lw->src, lower_loc(lw, "alpha"), "give negative_slope or alpha (its Keras 2 name), not both");
        return -1;
    }
    if (lower_float(lw, name, 0.3, &slope))   /* the layer's default; the function's is 0.2 */
        return -1;
    if (!strcmp(name, "alpha"))
        diag_warning(lw->src, lower_loc(lw, "alpha"), "LeakyReLU's 'alpha' is 'negative_slope' in Keras 3");
    if (slope < 0) {
        diag_error(lw->src, lower_loc(lw, name), "the negative_slope of a LeakyReLU layer cannot be negative, not %g",
                   slope);
        return -1;
    }
    l->act = act_default(SEQRT_ACT_LEAKY_RELU);
    l->act.p[0] = slope;
    return 0;
}

static int lower_elu(Lower *lw, Layer *l)
{
    l->act = act_default(SEQRT_ACT_ELU);
    return lower_float(lw, "alpha", 1.0, &l->act.p[0]);
}

typedef struct {
    Axis axis;   /* -1 or by number: checked against the input's rank */
} SoftmaxAttr;

static int lower_softmax(Lower *lw, Layer *l)
{
    SoftmaxAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    l->act = act_default(SEQRT_ACT_SOFTMAX);
    return lower_axis(lw, &a->axis);
}

static const Syntax syntax_activation = {&spec_activation, lower_activation};
static const Syntax syntax_relu = {&spec_relu, lower_relu};
static const Syntax syntax_leaky_relu = {&spec_leaky_relu, lower_leaky_relu};
static const Syntax syntax_elu = {&spec_elu, lower_elu};
static const Syntax syntax_softmax = {&spec_softmax, lower_softmax};

static int infer(const Source *src, Layer *l)
{
    const SoftmaxAttr *a = l->attr;
    return a ? ir_check_last_axis(src, l, a->axis, "Softmax") : 0;
}

static int noop(const Layer *l)
{
    return act_is_linear(l->act);
}

static void forward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_act_forward(%s, %s, %s, %d, %s);", s->y, s->x, s->rows, shape_last(&s->l->out),
              emit_act(e, s->act));
}

static void backward(Emit *e, const Site *s)
{
    emit_line(e, "seqrt_act_backward(%s, %s, %s, %s, %s, %d, %s);%s", s->dx, s->dy, s->x, s->y, s->rows,
              shape_last(&s->l->out), emit_act(e, s->act), !strcmp(s->dx, s->dy) ? " /* in place */" : "");
}

static void bake(Bake *b, const Layer *l)
{
    (void)b, (void)l;   /* the baker adds every layer's activation itself */
}

const LayerKind kind_activation = {
    .name = "activation",
    .props = LK_ACTIVATION | LK_GRAD_IN_PLACE,
    .syntax = (const Syntax *const[]){&syntax_activation, &syntax_relu, &syntax_leaky_relu, &syntax_elu,
                                      &syntax_softmax, NULL},
    .infer = infer,
    .noop = noop,
    .forward = forward,
    .backward = backward,
    .bake = bake,
};
