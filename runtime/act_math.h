/*
 * act_math.h - the helper functions and constants that the activation
 * formulas of seqrt_acts.def call, as static inline C99 over libm alone.
 *
 * This file is shared word for word: the runtime includes it (through
 * act_inline.h), and seqc copies the blocks a baked model needs into its
 * NAME_infer.c, so training and baked inference compute the same bits from
 * one text. Each block starts with a line "@block NAME" in a comment; the
 * baked emitter copies the blocks whose NAME its formulas mention (and the
 * blocks those mention in turn). Keep it self-contained: no seqrt header,
 * nothing but <math.h>.
 */
#ifndef SEQRT_ACT_MATH_H
#define SEQRT_ACT_MATH_H

#include <math.h>

/* @block SEQRT_SELU_ALPHA */
#define SEQRT_SELU_ALPHA 1.67326324f
/* @block SEQRT_SELU_SCALE */
#define SEQRT_SELU_SCALE 1.05070098f
/* @block SEQRT_SQRT1_2 */
#define SEQRT_SQRT1_2 0.70710678118654752f   /* 1 / sqrt(2) */
/* @block SEQRT_INV_SQRT_2PI */
#define SEQRT_INV_SQRT_2PI 0.39894228040143268f /* 1 / sqrt(2 pi) */

/* @block seqrt_sigmoidf */
/* The logistic function; never exponentiates a positive number. */
static inline float seqrt_sigmoidf(float x)
{
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* @block seqrt_softplusf */
/* log(1 + exp(x)) without overflow. */
static inline float seqrt_softplusf(float x)
{
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

/* @block seqrt_relu_f */
/* Keras's relu(x, negative_slope, max_value, threshold): the clipped value
 * above the threshold, minus the slope's share below it. With the defaults
 * (0, HUGE_VALF, 0) it is max(x, 0). */
static inline float seqrt_relu_f(float x, float negative_slope, float max_value, float threshold)
{
    /* the plain relu, first: with the parameters known (a baked model's
     * constants) the compiler keeps only this line */
    if (negative_slope == 0.0f && threshold == 0.0f && max_value == HUGE_VALF)
        return x > 0.0f ? x : 0.0f;
    float v = fminf(x > threshold ? x : 0.0f, max_value);
    if (negative_slope != 0.0f)
        v -= negative_slope * fmaxf(threshold - x, 0.0f);
    return v;
}

/* @block seqrt_relu_df */
/* Its derivative: the slope at and below the threshold, 0 at and above
 * max_value, 1 between (relu'(0) = 0, as PyTorch). */
static inline float seqrt_relu_df(float x, float negative_slope, float max_value, float threshold)
{
    if (x > threshold)
        return x < max_value ? 1.0f : 0.0f;
    return negative_slope;
}

/* @block seqrt_silu_df */
/* d/dx x sigmoid(x) = s (1 + x (1 - s)). */
static inline float seqrt_silu_df(float x)
{
    float s = seqrt_sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}

/* @block seqrt_mish_df */
/* d/dx x tanh(softplus(x)) = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)). */
static inline float seqrt_mish_df(float x)
{
    float t = tanhf(seqrt_softplusf(x));
    return t + x * seqrt_sigmoidf(x) * (1.0f - t * t);
}

/* @block seqrt_squareplus_f */
/* (x + sqrt(x^2 + b)) / 2; for x < 0 as b / (2 (sqrt(x^2 + b) - x)), the
 * same value without the cancellation of x + sqrt(x^2 + b). */
static inline float seqrt_squareplus_f(float x, float b)
{
    float r = hypotf(x, sqrtf(b));
    return x >= 0.0f ? 0.5f * (x + r) : 0.5f * b / (r - x);
}

/* @block seqrt_squareplus_df */
static inline float seqrt_squareplus_df(float x, float b)
{
    return 0.5f * (1.0f + x / hypotf(x, sqrtf(b)));
}

/* @block seqrt_softmax_row */
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

/* @block seqrt_softmax_row_backward */
/* dx (c) = y * (dy - sum(dy * y)) for y = softmax(x). dx may equal dy. */
static inline void seqrt_softmax_row_backward(float *dx, const float *dy, const float *y, int c)
{
    float s = 0.0f;
    for (int j = 0; j < c; j++)
        s += dy[j] * y[j];
    for (int j = 0; j < c; j++)
        dx[j] = y[j] * (dy[j] - s);
}

/* @block seqrt_log_softmax_row */
/* y (c) = x - max x - log(sum(exp(x - max x))). y may equal x. */
static inline void seqrt_log_softmax_row(float *y, const float *x, int c)
{
    float mx = -INFINITY;
    for (int j = 0; j < c; j++)
        mx = x[j] > mx ? x[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j < c; j++)
        sum += expf(x[j] - mx);
    float lse = mx + logf(sum);
    for (int j = 0; j < c; j++)
        y[j] = x[j] - lse;
}

/* @block seqrt_log_softmax_row_backward */
/* dx (c) = dy - exp(y) * sum(dy) for y = log_softmax(x). dx may equal dy. */
static inline void seqrt_log_softmax_row_backward(float *dx, const float *dy, const float *y, int c)
{
    float s = 0.0f;
    for (int j = 0; j < c; j++)
        s += dy[j];
    for (int j = 0; j < c; j++)
        dx[j] = dy[j] - expf(y[j]) * s;
}

/* @end */
#endif
