/*
 * loss.c - losses (value and gradient in one call) and metrics.
 *
 * Reductions follow Keras: MAE, MSE, Huber (delta 1) and binary
 * cross-entropy average over all n*c elements; the categorical losses sum
 * over the classes of a row and average over rows. Sums are accumulated in
 * double; the gradient of the mean is written elementwise in float.
 *
 * With logits (the last layer's pre-activation when the output activation is
 * sigmoid/softmax) the loss is computed stably from them:
 *   BCE: max(z,0) - z t + log1p(exp(-|z|)),     dz = (sigmoid(z) - t) / (n c)
 *   CCE: logsumexp(z) sum(t) - sum(t z),         dz = (softmax(z) sum(t) - t) / n
 * (sum(t) = 1 for one-hot targets, giving the familiar softmax - t).
 * Without logits Keras's clipped formulas (epsilon 1e-7) are applied to the
 * probabilities y, and the gradient is taken through the clip (zero where
 * clipped) and, for the categorical losses, through Keras's renormalization
 * q = y / sum(y): with g_j = dL/dq_j,
 *   dL/dy_k = (g_k - sum_j g_j q_j) / sum(y).
 * The sparse loss is the categorical one with a one-hot target given by its
 * class index (stored as float).
 *
 * A batch split over processes (seqrt_batch_hook) divides the gradient by
 * the rows of the whole batch, so that the processes' gradients sum to the
 * whole batch's; the returned loss stays the mean over this call's rows.
 */
#include "act_inline.h"
#include "dispatch.h"

#include <stdlib.h>

#define SEQRT_LOSS_EPS 1e-7f

int seqrt_argmax(const float *v, int c)
{
    /* v: (c); the first maximum wins */
    int best = 0;
    for (int j = 1; j < c; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

/* One row of categorical cross-entropy. y, logits, t, dy: (c); t == NULL
 * means one-hot at index `cls`. Returns the row loss; writes dy (scaled by
 * inv_n) if dy != NULL. */
SEQRT_INLINE double cce_row(float *dy, const float *y, const float *logits,
                            const float *t, int cls, int c, float inv_n)
{
    double loss = 0.0;
    if (logits) {
        float mx = logits[seqrt_argmax(logits, c)];
        double se = 0.0;
        for (int j = 0; j < c; j++)
            se += exp((double)(logits[j] - mx));
        double lse = (double)mx + log(se);
        double tsum = 0.0;
        if (t) {
            for (int j = 0; j < c; j++) {
                tsum += t[j];
                loss -= (double)t[j] * logits[j];
            }
        } else {
            tsum = 1.0;
            loss -= logits[cls];
        }
        loss += lse * tsum;
        if (dy) {
            float ts = (float)tsum;
            for (int j = 0; j < c; j++) {
                float p = (float)exp((double)logits[j] - lse);
                float tj = t ? t[j] : (j == cls ? 1.0f : 0.0f);
                dy[j] = (p * ts - tj) * inv_n;
            }
        }
        return loss;
    }
    float s = 0.0f;
    for (int j = 0; j < c; j++)
        s += y[j];
    const float lo = SEQRT_LOSS_EPS, hi = 1.0f - SEQRT_LOSS_EPS;
    double gq = 0.0; /* sum_j g_j q_j */
    for (int j = 0; j < c; j++) {
        float tj = t ? t[j] : (j == cls ? 1.0f : 0.0f);
        float q = y[j] / s;
        float p = q < lo ? lo : (q > hi ? hi : q);
        if (tj != 0.0f) {
            loss -= (double)tj * log((double)p);
            if (q >= lo && q <= hi)
                gq -= tj; /* g_j q_j = -t_j / q_j * q_j */
        }
    }
    if (dy) {
        float inv_s = 1.0f / s, fgq = (float)gq;
        for (int j = 0; j < c; j++) {
            float tj = t ? t[j] : (j == cls ? 1.0f : 0.0f);
            float q = y[j] / s;
            float g = (tj != 0.0f && q >= lo && q <= hi) ? -tj / q : 0.0f;
            dy[j] = (g - fgq) * inv_s * inv_n;
        }
    }
    return loss;
}

SEQRT_DISPATCH
float seqrt_loss(int loss, float *dy, const float *y, const float *logits,
                 const float *t, int n, int c)
{
    /* dy: (n,c) or NULL, y: (n,c), logits: (n,c) or NULL,
     * t: (n,c), or (n) class indices for the sparse loss */
    long count = (long)n * c;
    if (n <= 0 || c <= 0)
        return 0.0f;
    /* the gradient is of the mean over the whole batch: hook->rows rows
     * when it is split over processes (seqrt_batch_hook), else these n */
    seqrt_batch_hook *hook = seqrt_batch_hook_get();
    long rows = hook && hook->rows > 0 ? hook->rows : n;
    float inv_nc = 1.0f / (float)(rows * c), inv_n = 1.0f / (float)rows;
    double sum = 0.0;
    switch ((seqrt_loss_kind)loss) {
    case SEQRT_LOSS_MAE:
        for (long i = 0; i < count; i++) {
            float e = y[i] - t[i];
            sum += fabsf(e);
            if (dy)
                dy[i] = (e > 0.0f ? inv_nc : (e < 0.0f ? -inv_nc : 0.0f));
        }
        return (float)(sum / (double)count);
    case SEQRT_LOSS_MSE:
        for (long i = 0; i < count; i++) {
            float e = y[i] - t[i];
            sum += (double)e * e;
            if (dy)
                dy[i] = 2.0f * e * inv_nc;
        }
        return (float)(sum / (double)count);
    case SEQRT_LOSS_HUBER:
        for (long i = 0; i < count; i++) {
            float e = y[i] - t[i], a = fabsf(e);
            if (a <= 1.0f) {
                sum += 0.5 * (double)e * e;
                if (dy)
                    dy[i] = e * inv_nc;
            } else {
                sum += (double)a - 0.5;
                if (dy)
                    dy[i] = (e > 0.0f ? inv_nc : -inv_nc);
            }
        }
        return (float)(sum / (double)count);
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
        if (logits) {
            for (long i = 0; i < count; i++) {
                float z = logits[i], ti = t[i];
                sum += (double)fmaxf(z, 0.0f) - (double)z * ti +
                       log1p(exp(-fabs((double)z)));
                if (dy)
                    dy[i] = (seqrt_sigmoidf(z) - ti) * inv_nc;
            }
        } else {
            const float lo = SEQRT_LOSS_EPS, hi = 1.0f - SEQRT_LOSS_EPS;
            for (long i = 0; i < count; i++) {
                float yi = y[i], ti = t[i];
                float p = yi < lo ? lo : (yi > hi ? hi : yi);
                sum -= (double)ti * log((double)p) +
                       (1.0 - (double)ti) * log(1.0 - (double)p);
                if (dy)
                    dy[i] = (yi >= lo && yi <= hi)
                                ? (-ti / p + (1.0f - ti) / (1.0f - p)) * inv_nc
                                : 0.0f;
            }
        }
        return (float)(sum / (double)count);
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * c;
            sum += cce_row(dy ? dy + o : NULL, y ? y + o : NULL,
                           logits ? logits + o : NULL, t + o, 0, c, inv_n);
        }
        return (float)(sum / n);
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * c;
            int cls = (int)t[i];
            if (cls < 0 || cls >= c) { /* the CSV loader validates; be safe */
                sum += NAN;
                if (dy)
                    for (int j = 0; j < c; j++)
                        dy[o + j] = 0.0f;
                continue;
            }
            sum += cce_row(dy ? dy + o : NULL, y ? y + o : NULL,
                           logits ? logits + o : NULL, NULL, cls, c, inv_n);
        }
        return (float)(sum / n);
    }
    abort(); /* not a seqrt_loss_kind: a corrupt descriptor */
}

SEQRT_DISPATCH
double seqrt_metric_sum(int metric, const float *y, const float *t, int n,
                        int c)
{
    /* y: (n,c), t: (n,c), or (n) class indices for the sparse metric */
    double total = 0.0;
    if (metric < 0 || metric >= SEQRT_METRIC_COUNT)
        abort(); /* not a seqrt_metric_kind: a corrupt descriptor */
    for (int i = 0; i < n; i++) {
        const float *yr = y + (size_t)i * c;
        const float *tr = metric == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY
                              ? NULL
                              : t + (size_t)i * c;
        double s = 0.0;
        switch ((seqrt_metric_kind)metric) {
        case SEQRT_METRIC_BINARY_ACCURACY: {
            int hits = 0;
            for (int j = 0; j < c; j++)
                hits += (yr[j] > 0.5f) == (tr[j] > 0.5f);
            total += (double)hits / c;
            break;
        }
        case SEQRT_METRIC_CATEGORICAL_ACCURACY:
            total += seqrt_argmax(yr, c) == seqrt_argmax(tr, c);
            break;
        case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
            total += seqrt_argmax(yr, c) == (int)t[i];
            break;
        case SEQRT_METRIC_MAE:
            for (int j = 0; j < c; j++)
                s += fabs((double)yr[j] - tr[j]);
            total += s / c;
            break;
        case SEQRT_METRIC_MSE:
            for (int j = 0; j < c; j++) {
                double e = (double)yr[j] - tr[j];
                s += e * e;
            }
            total += s / c;
            break;
        }
    }
    return total;
}
