/*
 * dropout.c - inverted dropout.
 *
 * Training draws one uniform per element from the caller's generator, in
 * element order: u < rate drops the element (mask 0), otherwise it is kept
 * and scaled by 1/(1-rate), so inference is the identity. The mask is kept
 * for backward, which is a plain elementwise product. rate <= 0 draws
 * nothing and keeps everything; rate >= 1 drops everything (Keras rejects
 * it; the mask is then all zeros rather than infinities).
 */
#include "seqrt.h"

void seqrt_dropout_forward(float *y, float *mask, const float *x, long count,
                           float rate, seqrt_rng *r, int training)
{
    /* y: (count), mask: (count), x: (count); y may equal x */
    if (!training) {
        if (y != x)
            for (long i = 0; i < count; i++)
                y[i] = x[i];
        return;
    }
    if (rate <= 0.0f) {
        for (long i = 0; i < count; i++) {
            mask[i] = 1.0f;
            y[i] = x[i];
        }
        return;
    }
    float keep = rate >= 1.0f ? 0.0f : 1.0f / (1.0f - rate);
    for (long i = 0; i < count; i++) {
        float m = seqrt_rng_uniform(r) < rate ? 0.0f : keep;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

void seqrt_dropout_backward(float *dx, const float *dy, const float *mask,
                            long count)
{
    /* dx: (count), dy: (count), mask: (count); dx may equal dy */
    for (long i = 0; i < count; i++)
        dx[i] = dy[i] * mask[i];
}
