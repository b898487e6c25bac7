/*
 * loss.c - losses (value and gradient in one call) and regularization
 * penalties.
 *
 * Every loss is Keras 3's per-sample function (keras/src/losses/losses.py)
 * over the last axis of a sample, then the mean over the batch ("sum over
 * batch size"). A sample of c outputs is c / L groups of its last axis
 * (L = axis_len, c when 0); the loss is the mean over the n * c / L groups
 * of each group's value:
 *   elementwise (mean over the group of a per-element term, e = y - t):
 *     mae |e|; mse e^2; huber 0.5 e^2 if |e| <= delta else
 *     delta |e| - 0.5 delta^2; mape 100 |e| / max(|t|, eps);
 *     msle (log(max(y, eps) + 1) - log(max(t, eps) + 1))^2;
 *     log_cosh log(cosh(e)); poisson y - t log(y + eps);
 *     hinge max(1 - t y, 0), squared_hinge its square (t in {0, 1}
 *       everywhere in the batch becomes 2t - 1, as Keras converts them);
 *     binary cross-entropy (below)
 *   per group (a sum or a single value over the group):
 *     categorical and sparse cross-entropy (below); kl_divergence
 *     sum t' log(t' / y') with t', y' clipped to [eps, 1];
 *     categorical_hinge max(max_j (1 - t_j) y_j - sum t y + 1, 0);
 *     cosine_similarity -sum (t / |t|) (y / |y|), norms clamped at eps.
 * eps is Keras's epsilon, 1e-7. Sums are accumulated in double; the
 * gradient of the mean is written elementwise in float. Derivatives at the
 * kinks (|e| = 0 for mae, the hinge's corner, a clip's edge) are those of
 * TensorFlow and PyTorch: 0 for |x| at 0, the clipped branch's at an edge
 * (tf.clip_by_value passes the gradient on [lo, hi]), and a max's gradient
 * shared evenly by the tied maxima.
 *
 * label_smoothing (binary: t (1 - s) + s / 2; categorical: t (1 - s) + s / C)
 * replaces the targets before the loss, as Keras does. Class weights
 * multiply each row's loss and gradient; the mean stays over the rows (Keras
 * does not divide by the weights' sum).
 *
 * Cross-entropies. With logits (the last layer's pre-activation when the
 * output activation is sigmoid/softmax) the loss is computed stably:
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

/* One group of categorical cross-entropy. y, logits, t, dy: (c); t == NULL
 * means one-hot at index `cls`; ls: label smoothing. Returns the group's
 * loss; writes dy (scaled by inv_n) if dy != NULL. */
SEQRT_INLINE double cce_row(float *dy, const float *y, const float *logits,
                            const float *t, int cls, int c, float inv_n, float ls)
{
    double loss = 0.0;
    float keep = 1.0f - ls, add = ls / (float)c;
#define TARGET(j) (ls != 0.0f ? (t ? t[j] : ((j) == cls ? 1.0f : 0.0f)) * keep + add \
                              : (t ? t[j] : ((j) == cls ? 1.0f : 0.0f)))
    if (logits) {
        float mx = logits[seqrt_argmax(logits, c)];
        double se = 0.0;
        for (int j = 0; j < c; j++)
            se += exp((double)(logits[j] - mx));
        double lse = (double)mx + log(se);
        double tsum = 0.0;
        if (t || ls != 0.0f) {
            for (int j = 0; j < c; j++) {
                float tj = TARGET(j);
                tsum += tj;
                loss -= (double)tj * logits[j];
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
                float tj = TARGET(j);
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
        float tj = TARGET(j);
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
            float tj = TARGET(j);
            float q = y[j] / s;
            float g = (tj != 0.0f && q >= lo && q <= hi) ? -tj / q : 0.0f;
            dy[j] = (g - fgq) * inv_s * inv_n;
        }
    }
#undef TARGET
    return loss;
}

/* The class of row t (for class weights): the index (sparse), the argmax
 * of a one-hot row, or the rounded value of a single target (numpy's
 * round, half to even, as Keras's class_weight_to_sample_weights). */
static float row_weight(const seqrt_lossfn *f, const float *t, int i, int c)
{
    if (!f->class_weight)
        return 1.0f;
    long k;
    if (f->kind == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
        k = (long)t[i];
    else if (c > 1)
        k = seqrt_argmax(t + (size_t)i * c, c);
    else
        k = (long)nearbyintf(t[i]);
    return k >= 0 && k < f->nclass_weight ? f->class_weight[k] : 1.0f;
}

/* Keras's hinge converts {0, 1} targets to {-1, 1} when every target of the
 * batch is 0 or 1. */
static int hinge_binary(const float *t, long count)
{
    for (long i = 0; i < count; i++)
        if (t[i] != 0.0f && t[i] != 1.0f)
            return 0;
    return 1;
}

/* One element of an elementwise loss: its value, and d value / d y in *d
 * (d value / d z for binary cross-entropy from logits). */
static double element(const seqrt_lossfn *f, float y, float z, float t,
                      int from_logits, int hinge01, float *d)
{
    const float eps = SEQRT_LOSS_EPS;
    float e = y - t, a = fabsf(e);
    switch ((seqrt_loss_kind)f->kind) {
    case SEQRT_LOSS_MAE:
        *d = e > 0.0f ? 1.0f : (e < 0.0f ? -1.0f : 0.0f);
        return a;
    case SEQRT_LOSS_MSE:
        *d = 2.0f * e;
        return (double)e * e;
    case SEQRT_LOSS_HUBER: {
        float delta = f->delta;
        if (a <= delta) {
            *d = e;
            return 0.5 * (double)e * e;
        }
        *d = e > 0.0f ? delta : -delta;
        return (double)delta * a - 0.5 * (double)delta * delta;
    }
    case SEQRT_LOSS_MAPE: {
        float den = fmaxf(fabsf(t), eps);
        *d = 100.0f * (e > 0.0f ? 1.0f : (e < 0.0f ? -1.0f : 0.0f)) / den;
        return 100.0 * (double)a / den;
    }
    case SEQRT_LOSS_MSLE: {
        double ly = log((double)fmaxf(y, eps) + 1.0), lt = log((double)fmaxf(t, eps) + 1.0);
        double df = ly - lt;
        *d = y >= eps ? (float)(2.0 * df / ((double)y + 1.0)) : 0.0f;
        return df * df;
    }
    case SEQRT_LOSS_LOG_COSH: {
        /* log(cosh(e)) = |e| + log1p(exp(-2|e|)) - log 2, without overflow */
        double ad = fabs((double)e);
        *d = tanhf(e);
        return ad + log1p(exp(-2.0 * ad)) - log(2.0);
    }
    case SEQRT_LOSS_POISSON:
        *d = 1.0f - t / (y + eps);
        return (double)y - (double)t * log((double)y + eps);
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE: {
        float tt = hinge01 ? 2.0f * t - 1.0f : t;
        float m = 1.0f - tt * y;
        if (m <= 0.0f) {
            *d = 0.0f;
            return 0.0;
        }
        if (f->kind == SEQRT_LOSS_HINGE) {
            *d = -tt;
            return m;
        }
        *d = -2.0f * tt * m;
        return (double)m * m;
    }
    case SEQRT_LOSS_BINARY_CROSSENTROPY: {
        float ls = f->label_smoothing;
        float ts = ls != 0.0f ? t * (1.0f - ls) + 0.5f * ls : t;
        if (from_logits) {
            *d = seqrt_sigmoidf(z) - ts;
            return (double)fmaxf(z, 0.0f) - (double)z * ts + log1p(exp(-fabs((double)z)));
        }
        const float lo = eps, hi = 1.0f - eps;
        float p = y < lo ? lo : (y > hi ? hi : y);
        *d = (y >= lo && y <= hi) ? -ts / p + (1.0f - ts) / (1.0f - p) : 0.0f;
        return -((double)ts * log((double)p) + (1.0 - (double)ts) * log(1.0 - (double)p));
    }
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_KL_DIVERGENCE:
    case SEQRT_LOSS_CATEGORICAL_HINGE:
    case SEQRT_LOSS_COSINE_SIMILARITY:
        break;
    }
    abort(); /* not an elementwise loss: a corrupt call */
}

/* One group of a per-group loss other than the cross-entropies; dy (L)
 * receives d loss / d y scaled by s when not NULL. */
static double group(const seqrt_lossfn *f, float *dy, const float *y,
                    const float *t, int L, float s)
{
    const float eps = SEQRT_LOSS_EPS;
    double loss = 0.0;
    switch ((seqrt_loss_kind)f->kind) {
    case SEQRT_LOSS_KL_DIVERGENCE:
        for (int j = 0; j < L; j++) {
            float tc = t[j] < eps ? eps : (t[j] > 1.0f ? 1.0f : t[j]);
            float yc = y[j] < eps ? eps : (y[j] > 1.0f ? 1.0f : y[j]);
            loss += (double)tc * log((double)tc / yc);
            if (dy)
                dy[j] = (y[j] >= eps && y[j] <= 1.0f) ? -tc / yc * s : 0.0f;
        }
        return loss;
    case SEQRT_LOSS_CATEGORICAL_HINGE: {
        double pos = 0.0;
        float neg = -HUGE_VALF;
        int ties = 0;
        for (int j = 0; j < L; j++) {
            pos += (double)t[j] * y[j];
            float v = (1.0f - t[j]) * y[j];
            if (v > neg) {
                neg = v;
                ties = 1;
            } else if (v == neg) {
                ties++;
            }
        }
        double m = (double)neg - pos + 1.0;
        if (dy)
            for (int j = 0; j < L; j++) {
                float v = (1.0f - t[j]) * y[j];
                float g = m > 0.0 ? -t[j] + (v == neg ? (1.0f - t[j]) / (float)ties : 0.0f) : 0.0f;
                dy[j] = g * s;
            }
        return m > 0.0 ? m : 0.0;
    }
    case SEQRT_LOSS_COSINE_SIMILARITY: {
        double yy = 0.0, tt = 0.0, ty = 0.0;
        for (int j = 0; j < L; j++) {
            yy += (double)y[j] * y[j];
            tt += (double)t[j] * t[j];
            ty += (double)t[j] * y[j];
        }
        const double e2 = (double)eps * eps;
        double iy = 1.0 / sqrt(yy > e2 ? yy : e2), it = 1.0 / sqrt(tt > e2 ? tt : e2);
        double cosv = ty * iy * it;
        if (dy)
            for (int j = 0; j < L; j++) {
                /* d(-sum that_j yhat_j)/dy_k = -iy (that_k - yhat_k cos), or
                 * -iy that_k where |y| is clamped */
                double g = yy > e2 ? -iy * ((double)t[j] * it - (double)y[j] * iy * cosv) : -iy * t[j] * it;
                dy[j] = (float)g * s;
            }
        return -cosv;
    }
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_HUBER:
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_MAPE:
    case SEQRT_LOSS_MSLE:
    case SEQRT_LOSS_LOG_COSH:
    case SEQRT_LOSS_POISSON:
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE:
        break;
    }
    abort(); /* not a per-group loss: a corrupt call */
}

SEQRT_DISPATCH
float seqrt_loss_fn(const seqrt_lossfn *f, float *dy, const float *y,
                    const float *logits, const float *t, int n, int c)
{
    /* dy: (n,c) or NULL, y: (n,c), logits: (n,c) or NULL,
     * t: (n,c), or (n) class indices for the sparse loss */
    if (n <= 0 || c <= 0)
        return 0.0f;
    int L = f->axis_len > 0 && f->axis_len <= c && c % f->axis_len == 0 ? f->axis_len : c;
    int G = c / L;                       /* groups per sample */
    long count = (long)n * c;
    /* the gradient is of the mean over the whole batch: hook->rows rows
     * when it is split over processes (seqrt_batch_hook), else these n */
    seqrt_batch_hook *hook = seqrt_batch_hook_get();
    long rows = hook && hook->rows > 0 ? hook->rows : n;
    float inv_nc = 1.0f / (float)(rows * c), inv_n = 1.0f / (float)rows;
    double sum = 0.0;
    switch ((seqrt_loss_kind)f->kind) {
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_HUBER:
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
    case SEQRT_LOSS_MAPE:
    case SEQRT_LOSS_MSLE:
    case SEQRT_LOSS_LOG_COSH:
    case SEQRT_LOSS_POISSON:
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE: {
        int hinge01 = (f->kind == SEQRT_LOSS_HINGE || f->kind == SEQRT_LOSS_SQUARED_HINGE) &&
                      hinge_binary(t, count);
        int from_logits = f->kind == SEQRT_LOSS_BINARY_CROSSENTROPY && logits;
        for (int i = 0; i < n; i++) {
            float w = row_weight(f, t, i, c), s = inv_nc * w;
            double row = 0.0;
            for (int j = 0; j < c; j++) {
                size_t k = (size_t)i * c + j;
                float d;
                row += element(f, y ? y[k] : 0.0f, from_logits ? logits[k] : 0.0f, t[k], from_logits, hinge01, &d);
                if (dy)
                    dy[k] = d * s;
            }
            sum += f->class_weight ? (double)w * row : row;
        }
        return (float)(sum / (double)count);
    }
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: {
        int sparse = f->kind == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * c;
            float w = row_weight(f, t, i, c);
            int cls = sparse ? (int)t[i] : 0;
            if (sparse && (cls < 0 || cls >= c)) { /* the CSV loader validates; be safe */
                sum += NAN;
                if (dy)
                    for (int j = 0; j < c; j++)
                        dy[o + j] = 0.0f;
                continue;
            }
            double r = cce_row(dy ? dy + o : NULL, y ? y + o : NULL, logits ? logits + o : NULL,
                               sparse ? NULL : t + o, cls, c, inv_n * w, f->label_smoothing);
            sum += f->class_weight ? (double)w * r : r;
        }
        return (float)(sum / n);
    }
    case SEQRT_LOSS_KL_DIVERGENCE:
    case SEQRT_LOSS_CATEGORICAL_HINGE:
    case SEQRT_LOSS_COSINE_SIMILARITY: {
        float inv_groups = 1.0f / (float)(rows * G);
        for (int i = 0; i < n; i++) {
            float w = row_weight(f, t, i, c);
            for (int g = 0; g < G; g++) {
                size_t o = (size_t)i * c + (size_t)g * L;
                double r = group(f, dy ? dy + o : NULL, y + o, t + o, L, inv_groups * w);
                sum += f->class_weight ? (double)w * r : r;
            }
        }
        return (float)(sum / ((double)n * G));
    }
    }
    abort(); /* not a seqrt_loss_kind: a corrupt descriptor */
}

float seqrt_loss(int loss, float *dy, const float *y, const float *logits,
                 const float *t, int n, int c)
{
    seqrt_lossfn f = {loss, 1.0f, 0.0f, 0, 0, NULL};
    return seqrt_loss_fn(&f, dy, y, logits, t, n, c);
}

/* ---------------------------------------------------------------- regularization */

float seqrt_regularize(const float *w, float *dw, long count, float l1,
                       float l2, int n)
{
    /* w: (count), dw: (count) or NULL */
    /* a batch split over processes: this call adds its share n / rows of
     * the gradient, so that the processes' sum adds it once */
    seqrt_batch_hook *hook = seqrt_batch_hook_get();
    float share = hook && hook->rows > 0 ? (float)n / (float)hook->rows : 1.0f;
    float g1 = l1 * share, g2 = 2.0f * l2 * share;
    double s1 = 0.0, s2 = 0.0;
    for (long i = 0; i < count; i++) {
        float x = w[i];
        s1 += fabs((double)x);
        s2 += (double)x * x;
        if (dw)
            dw[i] += g1 * (x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f)) + g2 * x;
    }
    return (float)((double)l1 * s1 + (double)l2 * s2);
}

float seqrt_activity_regularize(const float *y, float *dy, int n, long size,
                                float l1, float l2)
{
    /* y: (n, size), dy: (n, size) or NULL */
    if (n <= 0)
        return 0.0f;
    /* the gradient is of the penalty over the whole batch's rows when the
     * batch is split over processes (seqrt_batch_hook) */
    seqrt_batch_hook *hook = seqrt_batch_hook_get();
    float inv_n = 1.0f / (float)(hook && hook->rows > 0 ? hook->rows : n);
    double s1 = 0.0, s2 = 0.0;
    long count = (long)n * size;
    for (long i = 0; i < count; i++) {
        float x = y[i];
        s1 += fabs((double)x);
        s2 += (double)x * x;
        if (dy)
            dy[i] += (l1 * (x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f)) + 2.0f * l2 * x) * inv_n;
    }
    return (float)(((double)l1 * s1 + (double)l2 * s2) / n);
}
