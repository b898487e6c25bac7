/*
 * dropout.c - inverted dropout.
 *
 * Training draws 32 random bits per element from the caller's generator
 * (in element order, inlined from rng_inline.h): bits below rate * 2^32
 * drop the element (mask 0), otherwise it is kept and scaled by 1/(1-rate), so inference is the identity. The mask is kept
 * for backward, which is a plain elementwise product. rate <= 0 draws
 * nothing and keeps everything; rate >= 1 drops everything (Keras rejects
 * it; the mask is then all zeros rather than infinities).
 */
#include "rng_inline.h"

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
    /* 32 random bits per element: below rate * 2^32 drops it. */
    double t = (double)rate * 4294967296.0;
    uint64_t thr = t >= 4294967296.0 ? (uint64_t)1 << 32 : (uint64_t)t;
    if (r->s[0] == 0 && r->s[1] == 0)   /* zeroed state: as seed 0 (rng.c) */
        seqrt_rng_seed(r, 0);
    uint32_t w[4];
    seqrt_rng_unpack(r, w);
    for (long i = 0; i < count; i++)
        mask[i] = seqrt_xoshiro_next(w) < thr ? 0.0f : keep;
    seqrt_rng_pack(r, w);
    for (long i = 0; i < count; i++)
        y[i] = x[i] * mask[i];
}

void seqrt_dropout_backward(float *dx, const float *dy, const float *mask,
                            long count)
{
    /* dx: (count), dy: (count), mask: (count); dx may equal dy */
    for (long i = 0; i < count; i++)
        dx[i] = dy[i] * mask[i];
}
