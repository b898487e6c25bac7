/*
 * dropout.c - inverted dropout.
 *
 * Training draws 32 random bits per element: bits below rate * 2^32 drop
 * the element (mask 0), otherwise it is kept and scaled by 1/(1-rate), so
 * inference is the identity. The mask is kept for backward, which is a plain
 * elementwise product. rate <= 0 draws nothing and keeps everything;
 * rate >= 1 drops everything (Keras rejects it; the mask is then all zeros
 * rather than infinities).
 *
 * The bits come from SEQRT_DROPOUT_LANES independent xoshiro128** streams
 * stepped side by side (element i uses lane i % LANES, its (i / LANES)-th
 * output), so the compiler vectorizes the generator: one stream would be a
 * serial dependency chain through every element. The lanes are seeded from
 * the caller's generator (4 * LANES outputs of seqrt_rng_next32, lane by
 * lane, word by word), which is all that advances it: the masks are still a
 * pure function of the model's RNG state, so runs and resumed runs repeat.
 *
 * SpatialDropout1D/2D draw one mask element per (sample, channel), in that
 * order, with the same generator, and drop whole channels of a sample.
 */
#include "rng_inline.h"
#include "dispatch.h"

#define SEQRT_DROPOUT_LANES 8

SEQRT_DISPATCH
void seqrt_dropout_mask(float *mask, long count, float rate, seqrt_rng *r)
{
    /* mask: (count) */
    if (rate <= 0.0f) {
        for (long i = 0; i < count; i++)
            mask[i] = 1.0f;
        return;
    }
    float keep = rate >= 1.0f ? 0.0f : 1.0f / (1.0f - rate);
    /* 32 random bits per element: below rate * 2^32 drops it. */
    double t = (double)rate * 4294967296.0;
    uint64_t thr = t >= 4294967296.0 ? (uint64_t)1 << 32 : (uint64_t)t;
    uint32_t w[4][SEQRT_DROPOUT_LANES];
    for (int l = 0; l < SEQRT_DROPOUT_LANES; l++) {
        for (int k = 0; k < 4; k++)
            w[k][l] = seqrt_rng_next32(r);
        if (!(w[0][l] | w[1][l] | w[2][l] | w[3][l]))
            w[0][l] = 1;   /* xoshiro's one forbidden state */
    }
    for (long i0 = 0; i0 < count; i0 += SEQRT_DROPOUT_LANES) {
        uint32_t out[SEQRT_DROPOUT_LANES];
        for (int l = 0; l < SEQRT_DROPOUT_LANES; l++) {   /* xoshiro128** */
            uint32_t s1 = w[1][l];
            /* s1 * 5 and * 9 as shifts and adds: SSE2 has no 32-bit
             * vector multiply */
            uint32_t r7 = seqrt_rotl32(s1 + (s1 << 2), 7);
            out[l] = r7 + (r7 << 3);
            uint32_t t9 = s1 << 9;
            w[2][l] ^= w[0][l];
            w[3][l] ^= s1;
            w[1][l] = s1 ^ w[2][l];
            w[0][l] ^= w[3][l];
            w[2][l] ^= t9;
            w[3][l] = seqrt_rotl32(w[3][l], 11);
        }
        long m = count - i0 < SEQRT_DROPOUT_LANES ? count - i0 : SEQRT_DROPOUT_LANES;
        for (long l = 0; l < m; l++)
            mask[i0 + l] = out[l] < thr ? 0.0f : keep;
    }
}

SEQRT_DISPATCH
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
    seqrt_dropout_mask(mask, count, rate, r);
    for (long i = 0; i < count; i++)
        y[i] = x[i] * mask[i];
}

SEQRT_DISPATCH
void seqrt_dropout_backward(float *dx, const float *dy, const float *mask,
                            long count)
{
    /* dx: (count), dy: (count), mask: (count); dx may equal dy */
    for (long i = 0; i < count; i++)
        dx[i] = dy[i] * mask[i];
}

SEQRT_DISPATCH
void seqrt_spatial_dropout_forward(float *y, float *mask, const float *x, int n, long positions, int c,
                                   float rate, seqrt_rng *r)
{
    /* y, x: (n, positions, c), mask: (n, c); y may equal x */
    seqrt_dropout_mask(mask, (long)n * c, rate, r);
    for (int s = 0; s < n; s++)
        for (long p = 0; p < positions; p++) {
            size_t o = ((size_t)s * positions + (size_t)p) * c;
            const float *mk = mask + (size_t)s * c;
            for (int j = 0; j < c; j++)
                y[o + j] = x[o + j] * mk[j];
        }
}

SEQRT_DISPATCH
void seqrt_spatial_dropout_backward(float *dx, const float *dy, const float *mask, int n, long positions, int c)
{
    /* dx, dy: (n, positions, c), mask: (n, c); dx may equal dy */
    for (int s = 0; s < n; s++)
        for (long p = 0; p < positions; p++) {
            size_t o = ((size_t)s * positions + (size_t)p) * c;
            const float *mk = mask + (size_t)s * c;
            for (int j = 0; j < c; j++)
                dx[o + j] = dy[o + j] * mk[j];
        }
}
