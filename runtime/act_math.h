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
 * nothing but <math.h> (and <stdint.h>, which the seqrt_expf block includes
 * itself, for the bits of a float).
 *
 * exp, tanh and sigmoid are computed here in float arithmetic alone
 * (seqrt_expf, seqrt_tanhf, seqrt_sigmoidf), not by libm's expf and tanhf:
 * libm's are scalar calls, so a loop over them never vectorizes, and in the
 * recurrent layers they took half the time. Ours are branch-free (both
 * sides of a test computed, then selected), so GCC vectorizes the row loops
 * that call them, and they use only +, -, *, / and integer bit operations,
 * which IEEE 754 rounds the same way in every lane width: the AVX-512, AVX2
 * and baseline clones of a kernel (dispatch.h) and a baked build compute
 * the same bits, as long as a*b+c is not contracted into an FMA
 * (-ffp-contract=off, the default of GCC's ISO C modes). Accuracy against
 * double-precision exp/tanh over every float, ±0, subnormals, the overflow
 * and underflow limits, ±inf and NaN: docs/internals.md, checked by
 * tests/unit/test_act_math.c.
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

/* @block seqrt_exp_hilo */
#include <stdint.h>
/* exp(x) within 1 ulp, and in *lo what its rounding to float lost while
 * the result is normal (exp(x) ~ result + *lo); docs/internals.md, "exp,
 * tanh and sigmoid". x = n ln2 + r, |r| <= ln2/2 (Cody and Waite: ln2 in
 * two parts, r kept as rh + rl); exp(r) = 1 + r + r^2 P(r), P of degree 5
 * fitted to (exp(r) - 1 - r) / r^2; times 2^n as 2^(n/2) 2^(n - n/2), so
 * a subnormal result is rounded once. x is clamped to [-104, 89] on its
 * bits (n in [-150, 128]; NaN left as it is): below -103.97 the result
 * rounds to 0, above 88.7228317 it overflows to inf. Branch-free and with
 * no select between floats, so that loops over it vectorize: a float
 * clamp or select lets GCC split off a constant path or sink work into
 * one side of a test, which under -ftrapping-math keeps the loop scalar. */
static inline float seqrt_exp_hilo(float x, float *lo)
{
    union { float f; uint32_t u; } v, t, s1, s2;
    v.f = x;
    uint32_t sign = v.u & 0x80000000u, mag = v.u & 0x7fffffffu;
    uint32_t lim = sign ? 0x42d00000u : 0x42b20000u;   /* 104, 89 */
    uint32_t c = mag > lim ? lim : mag;
    v.u = sign | (mag > 0x7f800000u ? mag : c);        /* NaN as it is */
    /* n = rint(x / ln2): adding 1.5 2^23 rounds to an integer (in the
     * default rounding mode), which the low bits of the sum then hold */
    t.f = v.f * 1.44269502f + 12582912.0f;
    float fn = t.f - 12582912.0f;
    float rh = v.f - fn * 0.693145751953125f, rl = -(fn * 1.42860677e-06f), r = rh + rl;
    float p = ((((1.96031411e-4f * r + 1.39400130e-3f) * r + 8.33385158e-3f) * r + 4.16663811e-2f) * r
               + 1.66666642e-1f) * r + 0.5f;
    float q = rh + (rl + r * r * p);
    p = 1.0f + q;
    /* b = n + 150 in [0, 278]; 2^n = 2^(b/2 - 75) 2^(b - b/2 - 75) */
    uint32_t b = t.u - 0x4b400000u + 150u;
    s1.u = ((b >> 1) + 52u) << 23;
    s2.u = ((b - (b >> 1)) + 52u) << 23;
    *lo = ((1.0f - p) + q) * s1.f * s2.f;
    return p * s1.f * s2.f;
}

/* @block seqrt_expf */
/* exp(x) within 1 ulp: seqrt_exp_hilo without the low part. */
static inline float seqrt_expf(float x)
{
    float lo;
    return seqrt_exp_hilo(x, &lo);
}

/* @block seqrt_tanhf */
/* tanh(x) within 2 ulp (docs/internals.md), branch-free: for |x| < 0.625
 * the odd polynomial |x| + |x|^3 Q(x^2) (Q of degree 4 fitted to
 * (tanh(x) - x) / x^3), above it 1 - 2 / (exp(2|x|) + 1), which is exactly
 * 1 from |x| = 9.01 on; then the sign of x (tanh(-0) = -0, NaN stays NaN). */
static inline float seqrt_tanhf(float x)
{
    float a = fabsf(x), z = a * a;
    float q = (((-5.73223550e-3f * z + 2.06657890e-2f) * z - 5.37488386e-2f) * z + 1.33315668e-1f) * z
              - 3.33332866e-1f;
    float poly = a + a * z * q;
    float ratio = 1.0f - 2.0f / (seqrt_expf(2.0f * a) + 1.0f);
    /* the select on the bits, with both sides used: a select of floats
     * would let GCC compute each side under its condition only (see
     * seqrt_exp_hilo) */
    union { float f; uint32_t u; } vs, vl;
    uint32_t m = (uint32_t)0 - (uint32_t)(a < 0.625f);
    vs.f = poly, vl.f = ratio;
    vs.u = (vs.u & m) | (vl.u & ~m);
    return copysignf(vs.f, x);
}

/* @block seqrt_sigmoidf */
/* The logistic function, branch-free: 1 / (1 + e) for x >= 0 and e / (1 + e)
 * below, e = exp(-|x|) (never exponentiates a positive number); in [0, 1],
 * within 2 ulp (docs/internals.md). e + elo and 1 + e = d + dlo are carried
 * with what their rounding lost, and num / d is corrected by
 * (numlo - s dlo) / d: e alone, rounded, can be 0.85 ulp off, which is up
 * to 1.7 ulp of e / (1 + e), and with the roundings of 1 + e and of the
 * division the plain formula reaches 2.3 ulp. */
static inline float seqrt_sigmoidf(float x)
{
    float elo, e = seqrt_exp_hilo(-fabsf(x), &elo);
    float d = 1.0f + e, dlo = (e - (d - 1.0f)) + elo;
    float num = x >= 0.0f ? 1.0f : e, numlo = x >= 0.0f ? 0.0f : elo;
    float s = num / d;
    return s + (numlo - s * dlo) / d;
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
    float t = seqrt_tanhf(seqrt_softplusf(x));
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
    for (int j = 0; j < c; j++)   /* vectorized; the sum apart, in order */
        y[j] = seqrt_expf(x[j] - mx);
    float sum = 0.0f;
    for (int j = 0; j < c; j++)
        sum += y[j];
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
        sum += seqrt_expf(x[j] - mx);
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
        dx[j] = dy[j] - seqrt_expf(y[j]) * s;
}

/* @end */
#endif
