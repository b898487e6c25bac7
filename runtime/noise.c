/*
 * noise.c - Keras's noise layers in training: GaussianNoise,
 * GaussianDropout and AlphaDropout (keras/src/layers/regularization).
 *
 * Each draws one value per element from the caller's generator in element
 * order (seqrt_rng_normal, seqrt_rng_uniform), so a seeded stream repeats
 * the same noise. Not training, every one is the identity (y = x). The
 * factor an element was multiplied by is kept in mask for backward, which
 * is dx = dy * mask (the identity for GaussianNoise: mask NULL).
 */
#include "seqrt_kernels.h"

#include <math.h>
#include <string.h>

void seqrt_gaussian_noise_forward(float *y, const float *x, long count,
                                  float stddev, seqrt_rng *r, int training)
{
    /* y, x: (count); y may equal x */
    for (long i = 0; i < count; i++)
        y[i] = training ? x[i] + stddev * seqrt_rng_normal(r) : x[i];
}

void seqrt_gaussian_dropout_forward(float *y, float *mask, const float *x,
                                    long count, float rate, seqrt_rng *r,
                                    int training)
{
    /* y, mask, x: (count); y may equal x */
    float stddev = sqrtf(rate / (1.0f - rate));
    for (long i = 0; i < count; i++) {
        if (!training) {
            y[i] = x[i];
            continue;
        }
        float m = 1.0f + stddev * seqrt_rng_normal(r);
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

void seqrt_alpha_dropout_forward(float *y, float *mask, const float *x,
                                 long count, float rate, seqrt_rng *r,
                                 int training)
{
    /* y, mask, x: (count); y may equal x */
    const double alpha = 1.6732632423543772848170429916717;
    const double scale = 1.0507009873554804934193349852946;
    double alpha_p = -alpha * scale;
    double a = pow((1.0 - rate) * (1.0 + rate * alpha_p * alpha_p), -0.5);
    double b = -a * alpha_p * rate;
    float fa = (float)a, fb = (float)b, dropped = (float)(a * alpha_p + b);
    for (long i = 0; i < count; i++) {
        if (!training) {
            y[i] = x[i];
            continue;
        }
        int kept = seqrt_rng_uniform(r) >= rate;
        mask[i] = kept ? fa : 0.0f;
        y[i] = kept ? fa * x[i] + fb : dropped;
    }
}

void seqrt_noise_backward(float *dx, const float *dy, const float *mask,
                          long count)
{
    /* dx, dy, mask: (count); dx may equal dy; mask NULL: dx = dy */
    if (!mask) {
        if (dx != dy)
            memcpy(dx, dy, sizeof(float) * (size_t)count);
        return;
    }
    for (long i = 0; i < count; i++)
        dx[i] = dy[i] * mask[i];
}
