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
 *
 * seqrt_init_fill_args takes the arguments of the class forms:
 * RandomUniform(minval, maxval), RandomNormal(mean, stddev) (not
 * truncated), TruncatedNormal(mean, stddev) (cut at two standard
 * deviations from the mean), Constant(value), VarianceScaling(scale, mode,
 * distribution), Orthogonal(gain) (Gram-Schmidt of a normal matrix, as
 * Keras's QR with the sign of diag(r): orthonormal along the tensor's
 * shorter side) and Identity(gain).
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

static void fill_normal(float *w, long count, double mean, double stddev, int truncated, seqrt_rng *r)
{
    for (long i = 0; i < count; i++) {
        float z;
        do {
            z = seqrt_rng_normal(r);
        } while (truncated && (z < -2.0f || z > 2.0f));
        w[i] = (float)(mean + stddev * z);
    }
}

/* Gram-Schmidt on n vectors of length len (vector k at w + k * vstride,
 * its elements stride apart), in place: orthonormal, each keeping the
 * direction of its own component (the sign convention of QR with a
 * positive diagonal, which is Keras's q * sign(diag(r))). */
static void orthonormalize(float *w, int n, int len, long vstride, long stride)
{
    for (int k = 0; k < n; k++) {
        float *v = w + k * vstride;
        for (int pass = 0; pass < 2; pass++)   /* twice: numerically orthogonal */
            for (int q = 0; q < k; q++) {
                const float *u = w + q * vstride;
                double dot = 0.0;
                for (int j = 0; j < len; j++)
                    dot += (double)u[j * stride] * v[j * stride];
                for (int j = 0; j < len; j++)
                    v[j * stride] = (float)(v[j * stride] - dot * u[j * stride]);
            }
        double sq = 0.0;
        for (int j = 0; j < len; j++)
            sq += (double)v[j * stride] * v[j * stride];
        double inv = sq > 0.0 ? 1.0 / sqrt(sq) : 0.0;
        for (int j = 0; j < len; j++)
            v[j * stride] = (float)(v[j * stride] * inv);
    }
}

void seqrt_init_fill_args(const seqrt_init_args *a, float *w, long count,
                          int fan_in, int fan_out, int rows, int cols,
                          seqrt_rng *r)
{
    /* w: (count); rows x cols: Keras's layout of the tensor, w holds its
     * transpose (cols, rows) for Orthogonal and Identity */
    const double trunc = .87962566103423978;
    double fi = fan_in > 0 ? fan_in : 1, fo = fan_out > 0 ? fan_out : 1;
    switch ((seqrt_init_kind)a->kind) {
    case SEQRT_INIT_RANDOM_UNIFORM:
        for (long i = 0; i < count; i++)
            w[i] = (float)(a->a + (a->b - a->a) * (double)seqrt_rng_uniform(r));
        return;
    case SEQRT_INIT_RANDOM_NORMAL:
        fill_normal(w, count, a->a, a->b, 0, r);
        return;
    case SEQRT_INIT_TRUNCATED_NORMAL:
        fill_normal(w, count, a->a, a->b, 1, r);
        return;
    case SEQRT_INIT_CONSTANT:
        for (long i = 0; i < count; i++)
            w[i] = (float)a->a;
        return;
    case SEQRT_INIT_VARIANCE_SCALING: {
        double n = a->mode == 0 ? fi : a->mode == 1 ? fo : (fi + fo) / 2.0;
        double scale = a->a / (n > 1.0 ? n : 1.0);
        if (a->distribution == 2)
            fill_uniform(w, count, sqrt(3.0 * scale), r);
        else if (a->distribution == 1)
            fill_normal(w, count, 0.0, sqrt(scale), 0, r);
        else
            fill_normal(w, count, 0.0, sqrt(scale) / trunc, 1, r);
        return;
    }
    case SEQRT_INIT_ORTHOGONAL: {
        /* Keras's rows x cols tensor is orthonormal along its shorter side;
         * w is its transpose: (cols, rows) */
        if ((long)rows * cols != count)
            rows = (int)count, cols = 1;
        for (long i = 0; i < count; i++)
            w[i] = seqrt_rng_normal(r);
        if (rows >= cols)
            orthonormalize(w, cols, rows, rows, 1);   /* rows of w */
        else
            orthonormalize(w, rows, cols, 1, rows);   /* columns of w */
        for (long i = 0; i < count; i++)
            w[i] = (float)(a->a * w[i]);
        return;
    }
    case SEQRT_INIT_IDENTITY:
        if ((long)rows * cols != count)
            rows = (int)count, cols = 1;
        for (long i = 0; i < count; i++)
            w[i] = 0.0f;
        for (int k = 0; k < rows && k < cols; k++)
            w[(long)k * rows + k] = (float)a->a;
        return;
    case SEQRT_INIT_ZEROS:
    case SEQRT_INIT_ONES:
    case SEQRT_INIT_GLOROT_UNIFORM:
    case SEQRT_INIT_GLOROT_NORMAL:
    case SEQRT_INIT_HE_UNIFORM:
    case SEQRT_INIT_HE_NORMAL:
    case SEQRT_INIT_LECUN_UNIFORM:
    case SEQRT_INIT_LECUN_NORMAL:
        seqrt_init_fill(a->kind, w, count, fan_in, fan_out, r);
        return;
    }
    abort(); /* not a seqrt_init_kind: a corrupt call */
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
    case SEQRT_INIT_CONSTANT:
    case SEQRT_INIT_TRUNCATED_NORMAL:
    case SEQRT_INIT_VARIANCE_SCALING:
    case SEQRT_INIT_ORTHOGONAL:
    case SEQRT_INIT_IDENTITY: {
        /* Keras's defaults: Constant(0), TruncatedNormal(0, 0.05),
         * VarianceScaling(1, fan_in, truncated_normal), Orthogonal(1),
         * Identity(1) on the (fan_in, fan_out) tensor */
        seqrt_init_args d = {init, 0.0, 0.05, 0, 0};
        if (init == SEQRT_INIT_VARIANCE_SCALING || init == SEQRT_INIT_ORTHOGONAL || init == SEQRT_INIT_IDENTITY)
            d.a = 1.0;
        seqrt_init_fill_args(&d, w, count, fan_in, fan_out, fan_in, fan_out, r);
        return;
    }
    }
    if (init < 0 || init >= SEQRT_INIT_COUNT)
        abort(); /* not a seqrt_init_kind: a corrupt call */
}
