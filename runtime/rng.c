/*
 * rng.c - the runtime's random number generator.
 *
 * xoshiro128** (Blackman & Vigna, 2018): four 32-bit words of state, packed
 * into seqrt_rng's two uint64 as s[0] = w1:w0 and s[1] = w3:w2 (high:low).
 * The packing is done with shifts, so the stream is the same on every
 * platform. The ** scrambler (rather than +) makes every output bit good,
 * which matters for seqrt_rng_below and for the 64-bit outputs built from two
 * 32-bit ones. Seeding expands the 64-bit seed with splitmix64, so any seed,
 * 0 included, gives a well-mixed nonzero state. The all-zero state, which
 * xoshiro cannot leave, is treated as seed 0 on the next draw, so a zeroed
 * seqrt_rng (a fresh state struct, or "train.rng" zeroed by a weights-only
 * checkpoint load) still produces a proper stream.
 *
 * uniform: the top 24 bits of one output times 2^-24, exactly representable
 * in float, in [0, 1). normal: Box-Muller on two uniforms computed in double
 * (the cosine branch only; no cached second value, so the state stays two
 * words and a stream is a pure function of the state). below: Lemire-style
 * rejection of the biased low zone, so results are exactly uniform.
 */
#include "rng_inline.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t next32(seqrt_rng *r)
{
    if (r->s[0] == 0 && r->s[1] == 0) /* zeroed state (e.g. a weights-only */
        seqrt_rng_seed(r, 0);         /* checkpoint load): behave as seed 0 */
    uint32_t w[4];
    seqrt_rng_unpack(r, w);
    uint32_t result = seqrt_xoshiro_next(w);
    seqrt_rng_pack(r, w);
    return result;
}

uint32_t seqrt_rng_next32(seqrt_rng *r)
{
    return next32(r);
}

void seqrt_rng_seed(seqrt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    r->s[0] = splitmix64(&x);
    r->s[1] = splitmix64(&x);
    if (r->s[0] == 0 && r->s[1] == 0) /* the one forbidden state */
        r->s[0] = 1;
}

uint64_t seqrt_rng_next(seqrt_rng *r)
{
    uint64_t hi = next32(r);
    uint64_t lo = next32(r);
    return (hi << 32) | lo;
}

float seqrt_rng_uniform(seqrt_rng *r)
{
    return (float)(next32(r) >> 8) * (1.0f / 16777216.0f);
}

float seqrt_rng_normal(seqrt_rng *r)
{
    /* u1 in (0, 1] so the log is finite; u2 in [0, 1). 2^-32 resolution. */
    double u1 = ((double)next32(r) + 1.0) * (1.0 / 4294967296.0);
    double u2 = (double)next32(r) * (1.0 / 4294967296.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint32_t seqrt_rng_below(seqrt_rng *r, uint32_t n)
{
    if (n <= 1)
        return 0;
    /* 2^32 mod n values at the bottom would be over-represented: reject. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = next32(r);
        if (x >= threshold)
            return x % n;
    }
}
