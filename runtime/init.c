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
 * RandomUniform/RandomNormal use Keras's defaults (0.05); Orthogonal is
 * Keras's (fill_orthogonal). Draws come from the
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

/* Keras's Orthogonal (gain 1): Keras's kernel K (C, R) - fan_in rows of
 * fan_out - is the Q of a QR factorization of a normal (max, min) matrix,
 * with the signs that make R's diagonal positive, transposed when C < R;
 * the stored W (R, C) = K^T therefore has orthonormal rows when R <= C
 * and orthonormal columns otherwise. Gram-Schmidt (twice, in double) over
 * the min vectors of length max gives that Q: vector k's element i is
 * w[k vs + i es]. */
static void fill_orthogonal(float *w, long count, int fan_out, seqrt_rng *r)
{
    long R = fan_out > 0 && count % fan_out == 0 ? fan_out : 1, C = count / R;
    long M = R > C ? R : C, m = R > C ? C : R;
    long vs = R <= C ? M : 1, es = R <= C ? 1 : m;
    for (long i = 0; i < count; i++)
        w[i] = seqrt_rng_normal(r);
    for (long k = 0; k < m; k++) {
        float *v = w + k * vs;
        for (int pass = 0; pass < 2; pass++)
            for (long q = 0; q < k; q++) {
                const float *u = w + q * vs;
                double d = 0;
                for (long i = 0; i < M; i++)
                    d += (double)u[i * es] * v[i * es];
                for (long i = 0; i < M; i++)
                    v[i * es] = (float)(v[i * es] - d * u[i * es]);
            }
        double nrm = 0;
        for (long i = 0; i < M; i++)
            nrm += (double)v[i * es] * v[i * es];
        nrm = nrm > 0 ? 1.0 / sqrt(nrm) : 0.0;
        for (long i = 0; i < M; i++)
            v[i * es] = (float)(v[i * es] * nrm);
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
    case SEQRT_INIT_ORTHOGONAL:
        fill_orthogonal(w, count, fan_out, r);
        break;
    case SEQRT_INIT_ZEROS:
        for (long i = 0; i < count; i++)
            w[i] = 0.0f;
        return;
    }
    if (init < 0 || init >= SEQRT_INIT_COUNT)
        abort(); /* not a seqrt_init_kind: a corrupt call */
}
