/*
 * rng_inline.h - one step of xoshiro128** (rng.c) as a static inline
 * function over the four unpacked state words, for loops that draw many
 * numbers (dropout masks) without a call per number. rng.c's seqrt_rng_*
 * functions use the same step, so the streams are identical.
 */
#ifndef SEQRT_RNG_INLINE_H
#define SEQRT_RNG_INLINE_H

#include "seqrt_kernels.h"

/* seqrt_rng packs w1:w0 into s[0] and w3:w2 into s[1] (high:low). */
static inline void seqrt_rng_unpack(const seqrt_rng *r, uint32_t w[4])
{
    w[0] = (uint32_t)r->s[0];
    w[1] = (uint32_t)(r->s[0] >> 32);
    w[2] = (uint32_t)r->s[1];
    w[3] = (uint32_t)(r->s[1] >> 32);
}

static inline void seqrt_rng_pack(seqrt_rng *r, const uint32_t w[4])
{
    r->s[0] = (uint64_t)w[0] | ((uint64_t)w[1] << 32);
    r->s[1] = (uint64_t)w[2] | ((uint64_t)w[3] << 32);
}

static inline uint32_t seqrt_rotl32(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static inline uint32_t seqrt_xoshiro_next(uint32_t w[4])
{
    uint32_t result = seqrt_rotl32(w[1] * 5u, 7) * 9u;
    uint32_t t = w[1] << 9;
    w[2] ^= w[0];
    w[3] ^= w[1];
    w[1] ^= w[2];
    w[0] ^= w[3];
    w[2] ^= t;
    w[3] = seqrt_rotl32(w[3], 11);
    return result;
}

#endif
