/*
 * act_inline.h - the activation functions as static inline per-element and
 * per-row helpers, shared by act.c, dense.c and norm.c.
 *
 * Fusing the activation into the producer's row pass (dense adds the bias
 * and activates in one sweep; the norms normalize, scale, shift and
 * activate) needs the same function bodies in several translation units;
 * defining them here once keeps act.c, dense.c and norm.c bit-identical.
 *
 * Conventions: act_f(act, x) is the elementwise function, act_df(act, x, y)
 * its derivative at x given y = act_f(x) (whichever is more accurate or
 * cheaper is used). Softmax is row-wise and is handled by the row helpers
 * only. Kinks follow PyTorch: relu'(0) = 0, leaky_relu'(0) = slope,
 * elu/selu use the x <= 0 branch at 0. All row helpers allow in-place use
 * (y == x, dx == dy).
 */
#ifndef SEQRT_ACT_INLINE_H
#define SEQRT_ACT_INLINE_H

#include <math.h>

#include "seqrt_kernels.h"

#define SEQRT_SELU_ALPHA 1.67326324f
#define SEQRT_SELU_SCALE 1.05070098f
#define SEQRT_LEAKY_SLOPE 0.2f
#define SEQRT_SQRT1_2 0.70710678118654752f   /* 1/sqrt(2) */
#define SEQRT_INV_SQRT_2PI 0.39894228040143268f /* 1/sqrt(2 pi) */

/* Stable logistic: never exponentiates a positive number. */
static inline float seqrt_sigmoidf(float x)
{
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static inline float seqrt_act_f(int act, float x)
{
    switch (act) {
    case SEQRT_ACT_RELU:       return x > 0.0f ? x : 0.0f;
    case SEQRT_ACT_SIGMOID:    return seqrt_sigmoidf(x);
    case SEQRT_ACT_TANH:       return tanhf(x);
    case SEQRT_ACT_ELU:        return x > 0.0f ? x : expm1f(x);
    case SEQRT_ACT_SELU:
        return SEQRT_SELU_SCALE * (x > 0.0f ? x : SEQRT_SELU_ALPHA * expm1f(x));
    case SEQRT_ACT_LEAKY_RELU: return x > 0.0f ? x : SEQRT_LEAKY_SLOPE * x;
    case SEQRT_ACT_GELU:       return 0.5f * x * (1.0f + erff(x * SEQRT_SQRT1_2));
    case SEQRT_ACT_SILU:       return x * seqrt_sigmoidf(x);
    case SEQRT_ACT_SOFTPLUS:   return log1pf(expf(-fabsf(x))) + fmaxf(x, 0.0f);
    default:                   return x; /* linear (softmax: row helpers) */
    }
}

/* d act(x) / dx, given x and y = act(x). */
static inline float seqrt_act_df(int act, float x, float y)
{
    switch (act) {
    case SEQRT_ACT_RELU:       return x > 0.0f ? 1.0f : 0.0f;
    case SEQRT_ACT_SIGMOID:    return y * (1.0f - y);
    case SEQRT_ACT_TANH:       return 1.0f - y * y;
    case SEQRT_ACT_ELU:        return x > 0.0f ? 1.0f : expf(x);
    case SEQRT_ACT_SELU:
        return x > 0.0f ? SEQRT_SELU_SCALE
                        : SEQRT_SELU_SCALE * SEQRT_SELU_ALPHA * expf(x);
    case SEQRT_ACT_LEAKY_RELU: return x > 0.0f ? 1.0f : SEQRT_LEAKY_SLOPE;
    case SEQRT_ACT_GELU:
        return 0.5f * (1.0f + erff(x * SEQRT_SQRT1_2)) +
               x * SEQRT_INV_SQRT_2PI * expf(-0.5f * x * x);
    case SEQRT_ACT_SILU: {
        float s = seqrt_sigmoidf(x);
        return s * (1.0f + x * (1.0f - s));
    }
    case SEQRT_ACT_SOFTPLUS:   return seqrt_sigmoidf(x);
    default:                   return 1.0f;
    }
}

/* y (c) = softmax(x (c)), max-subtracted. y may equal x. */
static inline void seqrt_softmax_row(float *y, const float *x, int c)
{
    float mx = -INFINITY;
    for (int j = 0; j < c; j++)
        mx = x[j] > mx ? x[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j < c; j++) {
        y[j] = expf(x[j] - mx);
        sum += y[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < c; j++)
        y[j] *= inv;
}

/* y (c) = act(x (c)). y may equal x. */
static inline void seqrt_act_row_forward(int act, float *y, const float *x,
                                         int c)
{
    if (act == SEQRT_ACT_SOFTMAX) {
        seqrt_softmax_row(y, x, c);
    } else if (act == SEQRT_ACT_LINEAR) {
        if (y != x)
            for (int j = 0; j < c; j++)
                y[j] = x[j];
    } else if (act == SEQRT_ACT_RELU) {   /* the common case, vectorized */
        for (int j = 0; j < c; j++)
            y[j] = x[j] > 0.0f ? x[j] : 0.0f;
    } else {
        for (int j = 0; j < c; j++)
            y[j] = seqrt_act_f(act, x[j]);
    }
}

/* z (c) += b (c) (b may be NULL), then y (c) = act(z): one sweep for the
 * elementwise activations. y may equal z (z then ends up activated). */
static inline void seqrt_act_row_bias_forward(int act, float *y, float *z,
                                              const float *b, int c)
{
    if (act == SEQRT_ACT_SOFTMAX || act == SEQRT_ACT_LINEAR) {
        if (b)
            for (int j = 0; j < c; j++)
                z[j] += b[j];
        seqrt_act_row_forward(act, y, z, c);
        return;
    }
    if (b)
        for (int j = 0; j < c; j++)
            z[j] += b[j];
    if (act == SEQRT_ACT_RELU) {
        for (int j = 0; j < c; j++)
            y[j] = z[j] > 0.0f ? z[j] : 0.0f;
        return;
    }
    for (int j = 0; j < c; j++)
        y[j] = seqrt_act_f(act, z[j]);
}

/* dx (c) = dL/dx from dy (c), x (c) and y (c) = act(x). dx may equal dy. For
 * linear x and y are not read; for softmax x is not read. */
static inline void seqrt_act_row_backward(int act, float *dx, const float *dy,
                                          const float *x, const float *y,
                                          int c)
{
    if (act == SEQRT_ACT_LINEAR) {
        if (dx != dy)
            for (int j = 0; j < c; j++)
                dx[j] = dy[j];
    } else if (act == SEQRT_ACT_SOFTMAX) {
        float s = 0.0f;
        for (int j = 0; j < c; j++)
            s += dy[j] * y[j];
        for (int j = 0; j < c; j++)
            dx[j] = y[j] * (dy[j] - s);
    } else if (act == SEQRT_ACT_RELU) {
        /* relu'(x) = [x > 0] = [y > 0]; y is read so that callers that keep
         * no pre-activation (fused norms) can pass x = NULL */
        for (int j = 0; j < c; j++)
            dx[j] = y[j] > 0.0f ? dy[j] : 0.0f;
    } else {
        for (int j = 0; j < c; j++)
            dx[j] = dy[j] * seqrt_act_df(act, x[j], y[j]);
    }
}

#endif
