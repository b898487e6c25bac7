/*
 * norm.c - BatchNormalization, LayerNormalization and Normalization, each
 * with an optional fused trailing activation.
 *
 * Column statistics (batchnorm, Normalization.adapt) need one accumulator
 * per column, and kernels never allocate: columns are therefore processed in
 * blocks of SEQRT_NORM_BLOCK with double accumulators on the stack. Within a
 * block the rows are swept with contiguous inner loops, so memory access
 * stays row-major. Statistics are a two-pass mean then variance, in double
 * (stable, and the variance is the biased one, as Keras uses for both the
 * normalization and the moving average).
 *
 * Forward then makes one pass per row producing xhat, h = gamma xhat + beta
 * (written into y) and y = act(h) in place.
 *
 * A batch split over processes (seqrt_batch_hook, batch.c) shares the
 * statistics: forward sums x - K and (x - K)^2 with K = the running mean,
 * the same on every process (the first row differs), backward s1 = sum(dh)
 * and s2 = sum(dh xhat); each is summed over the processes with the row
 * count by one hook call per block of columns, and the whole batch's values
 * normalize. dgamma and dbeta remain this process's sums.
 *
 * Backward of the fused activation recomputes h from xhat, gamma and beta
 * (no buffer for it is kept), writes dh = act'(h) dy into dx (dx may alias
 * dy: each row is read before it is overwritten), then applies the standard
 * normalization backward with dxhat = dh gamma:
 *   dx = invstd / n * (n dxhat - sum(dxhat) - xhat sum(dxhat xhat))
 * with the sums over the batch (batchnorm: per column) or over the features
 * (layernorm: per row). dgamma = sum(dh xhat), dbeta = sum(dh).
 */
#include "act_inline.h"
#include "dispatch.h"

#define SEQRT_NORM_BLOCK 256

/* dh (c) = d act(h)/dh * dy for one row, h = gamma xhat + beta recomputed
 * only for the activations whose derivative needs it (the others use y).
 * dh may equal dy. gamma/beta: (c) or NULL. */
SEQRT_INLINE void norm_act_row_backward(seqrt_actfn act, float *dh, const float *dy,
                                        const float *xhat, const float *gamma,
                                        const float *beta, const float *y, int c)
{
    if (act.kind == SEQRT_ACT_LINEAR || seqrt_act_rowwise(act) ||
        seqrt_act_is_relu(act)) {
        /* these read only y: x may be NULL */
        seqrt_act_row_backward(act, dh, dy, NULL, y, c);
        return;
    }
    for (int j = 0; j < c; j++) {
        float h = xhat[j];
        if (gamma)
            h *= gamma[j];
        if (beta)
            h += beta[j];
        dh[j] = dy[j] * seqrt_act_df(act, h, y[j]);
    }
}

/* The sums a (jb) and b (jb) of this call's n rows replaced by their sums
 * over the processes of a split batch (seqrt_batch_hook); returns the rows
 * of the whole batch (at least 1). */
static double batch_sum(seqrt_batch_hook *hook, int n, double *a, double *b,
                        int jb)
{
    double v[1 + 2 * SEQRT_NORM_BLOCK];  /* rows, a (jb), b (jb) */
    v[0] = n;
    for (int j = 0; j < jb; j++) {
        v[1 + j] = a[j];
        v[1 + jb + j] = b[j];
    }
    hook->sum(hook, v, 1 + 2 * (long)jb);
    for (int j = 0; j < jb; j++) {
        a[j] = v[1 + j];
        b[j] = v[1 + jb + j];
    }
    return v[0] >= 1.0 ? v[0] : 1.0;
}

/* One row: xhat = (x - mean) invstd, y = act(gamma xhat + beta). */
SEQRT_INLINE void norm_row_forward(float *restrict y, float *restrict xhat,
                                   const float *restrict x, float mean_or_0,
                                   const float *restrict mean, float invstd_or_0,
                                   const float *restrict invstd,
                                   const float *restrict gamma,
                                   const float *restrict beta, int c, seqrt_actfn act)
{
    /* BatchNormalization's common cases in one sweep instead of three (the
     * same operations in the same order as the passes below: same bits) */
    if (mean && gamma && beta && seqrt_act_is_relu(act)) {
        for (int j = 0; j < c; j++) {
            float xh = (x[j] - mean[j]) * invstd[j];
            float h = gamma[j] * xh + beta[j];
            xhat[j] = xh;
            y[j] = h > 0.0f ? h : 0.0f;
        }
        return;
    }
    if (mean && gamma && beta && act.kind == SEQRT_ACT_LINEAR) {
        for (int j = 0; j < c; j++) {
            float xh = (x[j] - mean[j]) * invstd[j];
            xhat[j] = xh;
            y[j] = gamma[j] * xh + beta[j];
        }
        return;
    }
    if (mean)
        for (int j = 0; j < c; j++)
            xhat[j] = (x[j] - mean[j]) * invstd[j];
    else
        for (int j = 0; j < c; j++)
            xhat[j] = (x[j] - mean_or_0) * invstd_or_0;
    if (gamma && beta)
        for (int j = 0; j < c; j++)
            y[j] = gamma[j] * xhat[j] + beta[j];
    else if (gamma)
        for (int j = 0; j < c; j++)
            y[j] = gamma[j] * xhat[j];
    else if (beta)
        for (int j = 0; j < c; j++)
            y[j] = xhat[j] + beta[j];
    else
        for (int j = 0; j < c; j++)
            y[j] = xhat[j];
    seqrt_act_row_forward(act, y, y, c);
}

SEQRT_DISPATCH
void seqrt_batchnorm_forward(float *y, float *xhat, float *mean,
                             float *invstd, float *run_mean, float *run_var,
                             const float *x, const float *gamma,
                             const float *beta, int n, int c, float momentum,
                             float eps, seqrt_actfn act, int training)
{
    /* y: (n,c), xhat: (n,c), mean: (c), invstd: (c), run_mean: (c),
     * run_var: (c), x: (n,c), gamma: (c) or NULL, beta: (c) or NULL */
    if (training) {
        /* One pass over x for the sums of (x - k) and (x - k)^2 in double,
         * shifted by the first row k so that the variance does not lose
         * precision when the mean is large against the spread. A batch
         * split over processes (seqrt_batch_hook) needs one shift on every
         * process: the running mean; the sums, led by the row count, are
         * then summed over the processes. */
        seqrt_batch_hook *hook = seqrt_batch_hook_get();
        double s[SEQRT_NORM_BLOCK], q[SEQRT_NORM_BLOCK];
        float shift[SEQRT_NORM_BLOCK];
        for (int j0 = 0; j0 < c; j0 += SEQRT_NORM_BLOCK) {
            int jb = c - j0 < SEQRT_NORM_BLOCK ? c - j0 : SEQRT_NORM_BLOCK;
            double rows = n;
            const float *restrict k = x + j0;
            int first = 1;   /* row 0 is k itself: it adds nothing */
            if (hook) {
                for (int j = 0; j < jb; j++)
                    shift[j] = run_mean ? run_mean[j0 + j] : 0.0f;
                k = shift;
                first = 0;
            }
            for (int j = 0; j < jb; j++)
                s[j] = q[j] = 0.0;
            for (int i = first; i < n; i++) {
                const float *restrict row = x + (size_t)i * c + j0;
                for (int j = 0; j < jb; j++) {
                    double d = (double)row[j] - (double)k[j];
                    s[j] += d;
                    q[j] += d * d;
                }
            }
            if (hook)
                rows = batch_sum(hook, n, s, q, jb);
            for (int j = 0; j < jb; j++) {
                double dm = s[j] / rows;
                double var = q[j] / rows - dm * dm;
                if (var < 0.0)
                    var = 0.0;
                float m = (float)((double)k[j] + dm), v = (float)var;
                mean[j0 + j] = m;
                invstd[j0 + j] = (float)(1.0 / sqrt(var + (double)eps));
                if (run_mean)
                    run_mean[j0 + j] = run_mean[j0 + j] * momentum +
                                       m * (1.0f - momentum);
                if (run_var)
                    run_var[j0 + j] = run_var[j0 + j] * momentum +
                                      v * (1.0f - momentum);
            }
        }
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * c;
            norm_row_forward(y + o, xhat + o, x + o, 0.0f, mean, 0.0f,
                             invstd, gamma, beta, c, act);
        }
    } else {
        /* Inference: xhat = (x - run_mean) * inv with inv = 1/sqrt(run_var +
         * eps) per column, computed once per block of columns. */
        float inv[SEQRT_NORM_BLOCK];
        for (int j0 = 0; j0 < c; j0 += SEQRT_NORM_BLOCK) {
            int jb = c - j0 < SEQRT_NORM_BLOCK ? c - j0 : SEQRT_NORM_BLOCK;
            for (int j = 0; j < jb; j++)
                inv[j] = 1.0f / sqrtf(run_var[j0 + j] + eps);
            for (int i = 0; i < n; i++) {
                float *restrict yr = y + (size_t)i * c + j0;
                const float *restrict xr = x + (size_t)i * c + j0;
                const float *restrict rm = run_mean + j0;
                for (int j = 0; j < jb; j++)
                    yr[j] = (xr[j] - rm[j]) * inv[j];
                if (gamma)
                    for (int j = 0; j < jb; j++)
                        yr[j] *= gamma[j0 + j];
                if (beta)
                    for (int j = 0; j < jb; j++)
                        yr[j] += beta[j0 + j];
            }
        }
        for (int i = 0; i < n; i++)
            seqrt_act_row_forward(act, y + (size_t)i * c, y + (size_t)i * c, c);
    }
}

SEQRT_DISPATCH
void seqrt_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *xhat,
                              const float *invstd, const float *gamma,
                              const float *beta, const float *y, int n, int c,
                              seqrt_actfn act)
{
    /* dx: (n,c), dgamma: (c) or NULL, dbeta: (c) or NULL, dy: (n,c),
     * xhat: (n,c), invstd: (c), gamma: (c) or NULL, beta: (c) or NULL,
     * y: (n,c) */
    /* softmax needs whole rows: with it, or with more columns than one
     * block, the activation's backward runs over whole rows first */
    int rowwise = seqrt_act_rowwise(act) || c > SEQRT_NORM_BLOCK;
    if (rowwise)
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * c;
            norm_act_row_backward(act, dx + o, dy + o, xhat + o, gamma, beta,
                                  y + o, c);
        }
    /* A batch split over processes (seqrt_batch_hook): dgamma and dbeta
     * are this call's sums; dx needs the sums and rows of the whole batch. */
    seqrt_batch_hook *hook = seqrt_batch_hook_get();
    double s1[SEQRT_NORM_BLOCK], s2[SEQRT_NORM_BLOCK];
    for (int j0 = 0; j0 < c; j0 += SEQRT_NORM_BLOCK) {
        int jb = c - j0 < SEQRT_NORM_BLOCK ? c - j0 : SEQRT_NORM_BLOCK;
        float rows = (float)n;
        for (int j = 0; j < jb; j++)
            s1[j] = s2[j] = 0.0;
        /* pass 1: dh = act'(h) dy (into dx), and the column sums */
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * c + j0;
            norm_act_row_backward(rowwise ? seqrt_act_default(SEQRT_ACT_LINEAR) : act, dx + o,
                                  (rowwise ? dx : dy) + o, xhat + o,
                                  gamma ? gamma + j0 : NULL,
                                  beta ? beta + j0 : NULL, y + o, jb);
            const float *restrict dh = dx + o;
            const float *restrict xh = xhat + o;
            for (int j = 0; j < jb; j++) {
                s1[j] += dh[j];
                s2[j] += (double)dh[j] * xh[j];
            }
        }
        float a[SEQRT_NORM_BLOCK], b1[SEQRT_NORM_BLOCK], b2[SEQRT_NORM_BLOCK];
        for (int j = 0; j < jb; j++) {
            if (dbeta)
                dbeta[j0 + j] = (float)s1[j];
            if (dgamma)
                dgamma[j0 + j] = (float)s2[j];
        }
        if (hook)
            rows = (float)batch_sum(hook, n, s1, s2, jb);
        for (int j = 0; j < jb; j++) {
            float g = gamma ? gamma[j0 + j] : 1.0f;
            /* dx = invstd/n (n g dh - g s1 - xhat g s2) */
            a[j] = invstd[j0 + j] * g;
            b1[j] = invstd[j0 + j] / rows * (float)(s1[j] * g);
            b2[j] = invstd[j0 + j] / rows * (float)(s2[j] * g);
        }
        /* pass 2 */
        for (int i = 0; i < n; i++) {
            float *restrict d = dx + (size_t)i * c + j0;
            const float *restrict xh = xhat + (size_t)i * c + j0;
            for (int j = 0; j < jb; j++)
                d[j] = a[j] * d[j] - b1[j] - xh[j] * b2[j];
        }
    }
}

SEQRT_DISPATCH
void seqrt_layernorm_forward(float *y, float *xhat, float *mean,
                             float *invstd, const float *x, const float *gamma,
                             const float *beta, int n, int c, float eps,
                             seqrt_actfn act)
{
    /* y: (n,c), xhat: (n,c), mean: (n), invstd: (n), x: (n,c),
     * gamma: (c) or NULL, beta: (c) or NULL */
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * c;
        const float *row = x + o;
        double s = 0.0;
        for (int j = 0; j < c; j++)
            s += row[j];
        double mu = s / c;
        double v = 0.0;
        for (int j = 0; j < c; j++) {
            double d = row[j] - mu;
            v += d * d;
        }
        float m = (float)mu;
        float is = (float)(1.0 / sqrt(v / c + (double)eps));
        mean[i] = m;
        invstd[i] = is;
        norm_row_forward(y + o, xhat + o, row, m, NULL, is, NULL, gamma, beta,
                         c, act);
    }
}

SEQRT_DISPATCH
void seqrt_layernorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *xhat,
                              const float *invstd, const float *gamma,
                              const float *beta, const float *y, int n, int c,
                              seqrt_actfn act)
{
    /* dx: (n,c), dgamma: (c) or NULL, dbeta: (c) or NULL, dy: (n,c),
     * xhat: (n,c), invstd: (n), gamma: (c) or NULL, beta: (c) or NULL,
     * y: (n,c) */
    if (dgamma)
        for (int j = 0; j < c; j++)
            dgamma[j] = 0.0f;
    if (dbeta)
        for (int j = 0; j < c; j++)
            dbeta[j] = 0.0f;
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * c;
        float *d = dx + o;
        const float *xh = xhat + o;
        norm_act_row_backward(act, d, dy + o, xh, gamma, beta, y + o, c);
        double s1 = 0.0, s2 = 0.0;
        for (int j = 0; j < c; j++) {
            if (dgamma)
                dgamma[j] += d[j] * xh[j];
            if (dbeta)
                dbeta[j] += d[j];
            float dxh = gamma ? d[j] * gamma[j] : d[j];
            s1 += dxh;
            s2 += (double)dxh * xh[j];
        }
        float f1 = (float)s1, f2 = (float)s2, k = invstd[i] / c;
        for (int j = 0; j < c; j++) {
            float dxh = gamma ? d[j] * gamma[j] : d[j];
            d[j] = k * ((float)c * dxh - f1 - xh[j] * f2);
        }
    }
}

SEQRT_DISPATCH
void seqrt_normalization_forward(float *y, const float *x, const float *mean,
                                 const float *var, int n, int c)
{
    /* y: (n,c), x: (n,c), mean: (c), var: (c); y may equal x */
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * c;
        for (int j = 0; j < c; j++)
            y[o + j] = (x[o + j] - mean[j]) / fmaxf(sqrtf(var[j]), 1e-7f);
    }
}

void seqrt_normalization_adapt(float *mean, float *var, const float *x,
                               long rows, int c)
{
    /* mean: (c), var: (c), x: (rows,c) */
    double acc[SEQRT_NORM_BLOCK], mu[SEQRT_NORM_BLOCK];
    for (int j0 = 0; j0 < c; j0 += SEQRT_NORM_BLOCK) {
        int jb = c - j0 < SEQRT_NORM_BLOCK ? c - j0 : SEQRT_NORM_BLOCK;
        for (int j = 0; j < jb; j++)
            acc[j] = 0.0;
        for (long i = 0; i < rows; i++) {
            const float *row = x + (size_t)i * c + j0;
            for (int j = 0; j < jb; j++)
                acc[j] += row[j];
        }
        for (int j = 0; j < jb; j++) {
            mu[j] = rows > 0 ? acc[j] / (double)rows : 0.0;
            acc[j] = 0.0;
        }
        for (long i = 0; i < rows; i++) {
            const float *row = x + (size_t)i * c + j0;
            for (int j = 0; j < jb; j++) {
                double d = row[j] - mu[j];
                acc[j] += d * d;
            }
        }
        for (int j = 0; j < jb; j++) {
            mean[j0 + j] = (float)mu[j];
            var[j0 + j] = rows > 0 ? (float)(acc[j] / (double)rows) : 0.0f;
        }
    }
}
