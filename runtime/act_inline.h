/*
 * act_inline.h - the activation functions as static inline per-element and
 * per-row helpers, shared by act.c, dense.c and norm.c.
 *
 * Every formula comes from seqrt_acts.def (expanded below) and the helpers
 * of act_math.h: this file only dispatches on the kind. Fusing the
 * activation into the producer's row pass (dense adds the bias and
 * activates in one sweep; the norms normalize, scale, shift and activate)
 * needs the same bodies in several translation units; defining them here
 * once keeps act.c, dense.c and norm.c bit-identical.
 *
 * seqrt_act_f(a, x) is the elementwise function, seqrt_act_df(a, x, y) its
 * derivative at x given y = f(x). Row-wise activations (softmax,
 * log_softmax) are handled by the row helpers only; asking the elementwise
 * functions for one is an internal error (abort). All row helpers allow
 * in-place use (y == x, dx == dy). Plain relu has its own vectorizable
 * loops: it is the common case.
 */
#ifndef SEQRT_ACT_INLINE_H
#define SEQRT_ACT_INLINE_H

#include <math.h>
#include <stdlib.h>

#include "act_math.h"
#include "dispatch.h"
#include "seqrt_kernels.h"

/* Each elementwise activation's value and derivative as functions of their
 * own, expanded from seqrt_acts.def: the row loops' fast paths call them
 * without a switch per element. */
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc)                                   \
    SEQRT_INLINE float seqrt_f_##id(float x, float P0, float P1, float P2)                      \
    {                                                                                           \
        (void)P0, (void)P1, (void)P2;                                                           \
        return F;                                                                               \
    }                                                                                           \
    SEQRT_INLINE float seqrt_df_##id(float x, float y, float P0, float P1, float P2)            \
    {                                                                                           \
        (void)P0, (void)P1, (void)P2, (void)x, (void)y;                                         \
        return DF;                                                                              \
    }
#define ACT_ROW(id, name, flags, FR, BR, desc)
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW

/* Is the activation computed over whole rows? */
static inline int seqrt_act_rowwise(seqrt_actfn a)
{
    switch (a.kind) {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) case SEQRT_ACT_##id: return 0;
#define ACT_ROW(id, name, flags, FR, BR, desc) case SEQRT_ACT_##id: return 1;
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    }
    abort(); /* not a seqrt_act: a corrupt call */
}

static inline int seqrt_act_is_relu(seqrt_actfn a)
{
    return a.kind == SEQRT_ACT_RELU && a.p[0] == 0.0f && a.p[1] == HUGE_VALF && a.p[2] == 0.0f;
}

static inline float seqrt_act_f(seqrt_actfn a, float x)
{
    const float P0 = a.p[0], P1 = a.p[1], P2 = a.p[2];
    (void)P0, (void)P1, (void)P2;
    switch (a.kind) {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) case SEQRT_ACT_##id: return F;
#define ACT_ROW(id, name, flags, FR, BR, desc) case SEQRT_ACT_##id: break;
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    }
    abort(); /* a row-wise activation or not a seqrt_act */
}

/* d act(x) / dx, given x and y = act(x). */
static inline float seqrt_act_df(seqrt_actfn a, float x, float y)
{
    const float P0 = a.p[0], P1 = a.p[1], P2 = a.p[2];
    (void)P0, (void)P1, (void)P2, (void)x, (void)y;
    switch (a.kind) {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) case SEQRT_ACT_##id: return DF;
#define ACT_ROW(id, name, flags, FR, BR, desc) case SEQRT_ACT_##id: break;
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    }
    abort(); /* a row-wise activation or not a seqrt_act */
}

/* y (c) = act(x (c)). y may equal x. */
SEQRT_INLINE void seqrt_act_row_forward(seqrt_actfn a, float *y, const float *x, int c)
{
    switch (a.kind) {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) case SEQRT_ACT_##id: break;
#define ACT_ROW(id, name, flags, FR, BR, desc) \
    case SEQRT_ACT_##id:                       \
        FR(y, x, c);                           \
        return;
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    }
    if (a.kind == SEQRT_ACT_LINEAR) {
        if (y != x)
            for (int j = 0; j < c; j++)
                y[j] = x[j];
    } else if (seqrt_act_is_relu(a)) {   /* the common case, vectorized */
        for (int j = 0; j < c; j++)
            y[j] = x[j] > 0.0f ? x[j] : 0.0f;
    } else if (a.kind == SEQRT_ACT_SIGMOID) {   /* the recurrent gates: no dispatch per element */
        for (int j = 0; j < c; j++)
            y[j] = seqrt_f_SIGMOID(x[j], 0.0f, 0.0f, 0.0f);
    } else if (a.kind == SEQRT_ACT_TANH) {
        for (int j = 0; j < c; j++)
            y[j] = seqrt_f_TANH(x[j], 0.0f, 0.0f, 0.0f);
    } else {
        for (int j = 0; j < c; j++)
            y[j] = seqrt_act_f(a, x[j]);
    }
}

/* z (c) += b (c) (b may be NULL), then y (c) = act(z): one sweep for the
 * elementwise activations. y may equal z (z then ends up activated). */
SEQRT_INLINE void seqrt_act_row_bias_forward(seqrt_actfn a, float *y, float *z, const float *b, int c)
{
    if (b)
        for (int j = 0; j < c; j++)
            z[j] += b[j];
    seqrt_act_row_forward(a, y, z, c);
}

/* dx (c) = dL/dx from dy (c), x (c) and y (c) = act(x). dx may equal dy.
 * Linear reads neither x nor y; row-wise activations and plain relu read
 * only y (x may be NULL for them). */
SEQRT_INLINE void seqrt_act_row_backward(seqrt_actfn a, float *dx, const float *dy, const float *x,
                                         const float *y, int c)
{
    switch (a.kind) {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) case SEQRT_ACT_##id: break;
#define ACT_ROW(id, name, flags, FR, BR, desc) \
    case SEQRT_ACT_##id:                       \
        BR(dx, dy, y, c);                      \
        return;
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    }
    if (a.kind == SEQRT_ACT_LINEAR) {
        if (dx != dy)
            for (int j = 0; j < c; j++)
                dx[j] = dy[j];
    } else if (seqrt_act_is_relu(a)) {
        /* relu'(x) = [x > 0] = [y > 0]; y is read so that callers that keep
         * no pre-activation (fused norms) can pass x = NULL */
        for (int j = 0; j < c; j++)
            dx[j] = y[j] > 0.0f ? dy[j] : 0.0f;
    } else if (a.kind == SEQRT_ACT_SIGMOID) {   /* vectorizable: sigmoid's and tanh's read only y */
        for (int j = 0; j < c; j++)
            dx[j] = dy[j] * seqrt_df_SIGMOID(0.0f, y[j], 0.0f, 0.0f, 0.0f);
    } else if (a.kind == SEQRT_ACT_TANH) {
        for (int j = 0; j < c; j++)
            dx[j] = dy[j] * seqrt_df_TANH(0.0f, y[j], 0.0f, 0.0f, 0.0f);
    } else {
        for (int j = 0; j < c; j++)
            dx[j] = dy[j] * seqrt_act_df(a, x[j], y[j]);
    }
}

#endif
