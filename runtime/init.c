/*
 * init.c - Keras weight initializers.
 *
 * One switch over seqrt_init_kind filling a flat float array. The variance
 * scaling family (glorot/he/lecun) follows Keras's VarianceScaling: uniform
 * draws from U(-limit, limit) with limit = sqrt(3 * scale / n); normal draws
 * from a normal truncated at two standard deviations (values beyond are
 * redrawn) with stddev = sqrt(scale / n) / .87962566103423978, the constant
 * Keras divides by to undo the variance lost to the truncation. n is fan_in,
 * or (fan_in + fan_out) / 2 for glorot; scale is 1 (glorot, lecun) or 2 (he).
 * RandomUniform/RandomNormal use Keras's defaults (0.05). Draws come from the
 * caller's seqrt_rng in array order, so a seed fixes every weight.
 */
#include "seqrt_kernels.h"

#include <math.h>
#include <stdlib.h>

static void fill_uniform(float *w, long count, double limit, seqrt_rng *r)
{
    for (long i = 0; i < count; i++)
        w[i] = (float)(limit * (2.0 * (double)seqrt_rng_uniform(r) - 1.0));
}

static void fill_truncated_normal(float *w, long count, double stddev,
                                  seqrt_rng *r)
{
    for (long i = 0; i < count; i++) {
        float z;
        do {
            z = seqrt_rng_normal(r);
        } while (z < -2.0f || z > 2.0f);
        w[i] = (float)(stddev * z);
    }
}

void seqrt_init_fill(int init, float *w, long count, int fan_in, int fan_out,
                     seqrt_rng *r)
{
    /* w: (count) */
    const double trunc = .87962566103423978;
    double fi = fan_in > 0 ? fan_in : 1, fo = fan_out > 0 ? fan_out : 1;
    double favg = (fi + fo) / 2.0;
    switch ((seqrt_init_kind)init) {
    case SEQRT_INIT_ONES:
        for (long i = 0; i < count; i++)
            w[i] = 1.0f;
        break;
    case SEQRT_INIT_GLOROT_UNIFORM:
        fill_uniform(w, count, sqrt(3.0 / favg), r);
        break;
    case SEQRT_INIT_GLOROT_NORMAL:
        fill_truncated_normal(w, count, sqrt(1.0 / favg) / trunc, r);
        break;
    case SEQRT_INIT_HE_UNIFORM:
        fill_uniform(w, count, sqrt(6.0 / fi), r);
        break;
    case SEQRT_INIT_HE_NORMAL:
        fill_truncated_normal(w, count, sqrt(2.0 / fi) / trunc, r);
        break;
    case SEQRT_INIT_LECUN_UNIFORM:
        fill_uniform(w, count, sqrt(3.0 / fi), r);
        break;
    case SEQRT_INIT_LECUN_NORMAL:
        fill_truncated_normal(w, count, sqrt(1.0 / fi) / trunc, r);
        break;
    case SEQRT_INIT_RANDOM_UNIFORM:
        fill_uniform(w, count, 0.05, r);
        break;
    case SEQRT_INIT_RANDOM_NORMAL:
        for (long i = 0; i < count; i++)
            w[i] = 0.05f * seqrt_rng_normal(r);
        break;
    case SEQRT_INIT_ZEROS:
        for (long i = 0; i < count; i++)
            w[i] = 0.0f;
        return;
    }
    if (init < 0 || init >= SEQRT_INIT_COUNT)
        abort(); /* not a seqrt_init_kind: a corrupt call */
}
