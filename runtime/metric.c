/*
 * metric.c - Keras's metrics as states that accumulate over an epoch.
 *
 * Keras's metrics are stateful: each batch updates variables (sums,
 * counts, confusion counts) and the reported value is computed from them at
 * the end, so AUC or precision over an epoch is the AUC of the whole
 * epoch, not a mean of per-batch values. Here a metric's state is an array
 * of doubles holding only sums and counts, so that the states of batches,
 * of slices of a batch or of processes simply add up:
 *
 *   mean metrics (accuracies, mae, mse, mape, msle, log_cosh_error,
 *     cosine_similarity, the cross-entropies, kl_divergence, poisson, the
 *     hinges, the top-k accuracies): [sum of per-sample values, samples];
 *     a per-sample value is Keras's function over the last axis of a
 *     sample (the losses of loss.c for the loss-like ones)
 *   root_mean_squared_error: [sum of squared errors, elements]
 *   precision, recall, true/false positives/negatives: [tp, fp, tn, fn] at
 *     one threshold: a prediction is positive when > threshold, a target
 *     when != 0 (Keras's update_confusion_matrix_variables), over every
 *     output or column class_id
 *   AUC: [tp, fp, tn, fn] at each of num_thresholds thresholds (and two
 *     rows of scratch, zero between calls, so that nothing allocates)
 *     {-eps, 1/(T-1), ..., (T-2)/(T-1), 1 + eps}, filled as Keras does for
 *     evenly spaced thresholds: a prediction clipped to [0, 1] falls into
 *     bucket ceil(p (T-1)) - 1 (at least 0) and counts as positive at every
 *     threshold up to its bucket; the result is Keras's Riemann sum
 *     (interpolation, minoring or majoring) of the ROC, PR or PR-gain
 *     curve (PR gain with Keras's fixes: no true positives gives recall
 *     gain 0 and precision gain 1, a negative recall gain counts as 0), or
 *     the Davis-Goadrich interpolation for PR with interpolation
 *   r2_score: per output column [sum t, sum t^2, sum (t - y)^2, count],
 *     then the samples: Keras's R2Score with uniform or variance-weighted
 *     averaging and the adjusted score for num_regressors > 0.
 */
#include "act_inline.h"

#include <stdlib.h>
#include <string.h>

#define EPS 1e-7

static seqrt_metric_args args_of(int metric, const seqrt_metric_args *a)
{
    return a && a->given ? *a : seqrt_metric_defaults(metric);
}

static int confusion(int metric)
{
    return metric == SEQRT_METRIC_PRECISION || metric == SEQRT_METRIC_RECALL ||
           metric == SEQRT_METRIC_TRUE_POSITIVES || metric == SEQRT_METRIC_FALSE_POSITIVES ||
           metric == SEQRT_METRIC_TRUE_NEGATIVES || metric == SEQRT_METRIC_FALSE_NEGATIVES;
}

long seqrt_metric_state_size(int metric, const seqrt_metric_args *args, int c)
{
    seqrt_metric_args a = args_of(metric, args);
    if (metric == SEQRT_METRIC_AUC)
        return 6L * a.num_thresholds;   /* tp, fp, tn, fn and two zeroed scratch rows */
    if (confusion(metric))
        return 4;
    if (metric == SEQRT_METRIC_R2_SCORE)
        return 4L * c + 1;
    return 2;
}

/* A loss-like metric's loss, computed by loss.c on the model's output. */
static int metric_loss(int metric, int *loss)
{
    switch ((seqrt_metric_kind)metric) {
    case SEQRT_METRIC_MAE: *loss = SEQRT_LOSS_MAE; return 1;
    case SEQRT_METRIC_MSE: *loss = SEQRT_LOSS_MSE; return 1;
    case SEQRT_METRIC_MAPE: *loss = SEQRT_LOSS_MAPE; return 1;
    case SEQRT_METRIC_MSLE: *loss = SEQRT_LOSS_MSLE; return 1;
    case SEQRT_METRIC_LOG_COSH: *loss = SEQRT_LOSS_LOG_COSH; return 1;
    case SEQRT_METRIC_COSINE_SIMILARITY: *loss = SEQRT_LOSS_COSINE_SIMILARITY; return 1;
    case SEQRT_METRIC_BINARY_CROSSENTROPY: *loss = SEQRT_LOSS_BINARY_CROSSENTROPY; return 1;
    case SEQRT_METRIC_CATEGORICAL_CROSSENTROPY: *loss = SEQRT_LOSS_CATEGORICAL_CROSSENTROPY; return 1;
    case SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY:
        *loss = SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
        return 1;
    case SEQRT_METRIC_KL_DIVERGENCE: *loss = SEQRT_LOSS_KL_DIVERGENCE; return 1;
    case SEQRT_METRIC_POISSON: *loss = SEQRT_LOSS_POISSON; return 1;
    case SEQRT_METRIC_HINGE: *loss = SEQRT_LOSS_HINGE; return 1;
    case SEQRT_METRIC_SQUARED_HINGE: *loss = SEQRT_LOSS_SQUARED_HINGE; return 1;
    case SEQRT_METRIC_CATEGORICAL_HINGE: *loss = SEQRT_LOSS_CATEGORICAL_HINGE; return 1;
    case SEQRT_METRIC_BINARY_ACCURACY:
    case SEQRT_METRIC_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_RMSE:
    case SEQRT_METRIC_R2_SCORE:
    case SEQRT_METRIC_AUC:
    case SEQRT_METRIC_PRECISION:
    case SEQRT_METRIC_RECALL:
    case SEQRT_METRIC_TRUE_POSITIVES:
    case SEQRT_METRIC_FALSE_POSITIVES:
    case SEQRT_METRIC_TRUE_NEGATIVES:
    case SEQRT_METRIC_FALSE_NEGATIVES:
    case SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
        return 0;
    }
    abort(); /* not a seqrt_metric_kind: a corrupt descriptor */
}

/* Is the true class (its value v at index `cls`) among the k largest of
 * the c scores? Ties at the boundary count as in (TensorFlow's in_top_k,
 * Keras's torch backend: target value >= the k-th largest). */
static int in_top_k(const float *y, int c, int cls, int k)
{
    if (cls < 0 || cls >= c)
        return 0;
    int greater = 0;
    for (int j = 0; j < c; j++)
        greater += y[j] > y[cls];
    return greater < k;
}

/* Per-sample values of the mean metrics that are not losses, summed. */
static double sample_sum(int metric, const seqrt_metric_args *a, const float *y, const float *t, int n, int c,
                         int L, long *samples)
{
    double total = 0.0;
    int G = c / L;
    *samples = (long)n * G;
    for (int i = 0; i < n; i++)
        for (int g = 0; g < G; g++) {
            const float *yr = y + (size_t)i * c + (size_t)g * L;
            int sparse = metric == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY ||
                         metric == SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY;
            const float *tr = sparse ? NULL : t + (size_t)i * c + (size_t)g * L;
            switch ((seqrt_metric_kind)metric) {
            case SEQRT_METRIC_BINARY_ACCURACY: {
                int hits = 0;
                for (int j = 0; j < L; j++)
                    hits += (yr[j] > a->threshold ? 1.0f : 0.0f) == tr[j];
                total += (double)hits / L;
                break;
            }
            case SEQRT_METRIC_CATEGORICAL_ACCURACY:
                total += seqrt_argmax(yr, L) == seqrt_argmax(tr, L);
                break;
            case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
                total += (float)seqrt_argmax(yr, L) == t[i];
                break;
            case SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY:
                total += in_top_k(yr, L, seqrt_argmax(tr, L), a->k);
                break;
            case SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
                total += t[i] == floorf(t[i]) && in_top_k(yr, L, (int)t[i], a->k);
                break;
            case SEQRT_METRIC_MAE:
            case SEQRT_METRIC_MSE:
            case SEQRT_METRIC_RMSE:
            case SEQRT_METRIC_MAPE:
            case SEQRT_METRIC_MSLE:
            case SEQRT_METRIC_LOG_COSH:
            case SEQRT_METRIC_COSINE_SIMILARITY:
            case SEQRT_METRIC_R2_SCORE:
            case SEQRT_METRIC_AUC:
            case SEQRT_METRIC_PRECISION:
            case SEQRT_METRIC_RECALL:
            case SEQRT_METRIC_TRUE_POSITIVES:
            case SEQRT_METRIC_FALSE_POSITIVES:
            case SEQRT_METRIC_TRUE_NEGATIVES:
            case SEQRT_METRIC_FALSE_NEGATIVES:
            case SEQRT_METRIC_BINARY_CROSSENTROPY:
            case SEQRT_METRIC_CATEGORICAL_CROSSENTROPY:
            case SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY:
            case SEQRT_METRIC_KL_DIVERGENCE:
            case SEQRT_METRIC_POISSON:
            case SEQRT_METRIC_HINGE:
            case SEQRT_METRIC_SQUARED_HINGE:
            case SEQRT_METRIC_CATEGORICAL_HINGE:
                abort(); /* not a sample metric: a corrupt call */
            }
        }
    return total;
}

/* The confusion counts at one threshold, over every output or column
 * class_id: s = [tp, fp, tn, fn]. */
static void confusion_update(const seqrt_metric_args *a, double *s, const float *y, const float *t, int n, int c)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) {
            if (a->class_id >= 0 && j != a->class_id)
                continue;
            float p = y[(size_t)i * c + j], l = t[(size_t)i * c + j];
            int pos = p > a->threshold, lab = l != 0.0f;
            s[lab ? (pos ? 0 : 3) : (pos ? 1 : 2)] += 1.0;
        }
}

void seqrt_metric_update(int metric, const seqrt_metric_args *args, double *state, const float *y,
                         const float *t, int n, int c)
{
    /* y: (n,c), t: (n,c) or (n) class indices for the sparse metrics;
     * state: seqrt_metric_state_size doubles */
    seqrt_metric_args a = args_of(metric, args);
    int L = a.axis_len > 0 && a.axis_len <= c && c % a.axis_len == 0 ? a.axis_len : c;
    int loss;
    if (n <= 0)
        return;
    if (metric_loss(metric, &loss)) {
        seqrt_lossfn f = {loss, 1.0f, a.label_smoothing, L, 0, NULL};
        int G = c / L;
        int logits = a.from_logits && (loss == SEQRT_LOSS_BINARY_CROSSENTROPY ||
                                       loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ||
                                       loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
        double mean = seqrt_loss_fn(&f, NULL, logits ? NULL : y, logits ? y : NULL, t, n, c);
        if (metric == SEQRT_METRIC_COSINE_SIMILARITY)
            mean = -mean;   /* the metric is +cos, the loss -cos */
        state[0] += mean * ((double)n * G);
        state[1] += (double)n * G;
        return;
    }
    switch ((seqrt_metric_kind)metric) {
    case SEQRT_METRIC_RMSE:
        for (long i = 0; i < (long)n * c; i++) {
            double e = (double)y[i] - t[i];
            state[0] += e * e;
        }
        state[1] += (double)n * c;
        return;
    case SEQRT_METRIC_R2_SCORE:
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++) {
                double tv = t[(size_t)i * c + j], e = tv - y[(size_t)i * c + j];
                state[j] += tv;
                state[c + j] += tv * tv;
                state[2 * c + j] += e * e;
                state[3 * c + j] += 1.0;
            }
        state[4 * c] += n;
        return;
    case SEQRT_METRIC_AUC: {
        /* Keras's _update_confusion_matrix_variables_optimized, in float32
         * as Keras: bucket counts, then their reverse cumulative sums are
         * the positives above each threshold */
        int T = a.num_thresholds;
        double *tp = state, *fp = state + T, *tn = state + 2 * T, *fn = state + 3 * T;
        double *btp = state + 4 * T, *bfp = state + 5 * T;   /* scratch, zero between calls */
        double tot_true = 0, tot_false = 0;
        for (long i = 0; i < (long)n * c; i++) {
            float p = a.from_logits ? seqrt_sigmoidf(y[i]) : y[i];
            p = p < 0.0f ? 0.0f : (p > 1.0f ? 1.0f : p);
            int b = (int)(ceilf(p * (float)(T - 1)) - 1.0f);
            b = b < 0 ? 0 : (b > T - 1 ? T - 1 : b);
            if (t[i] != 0.0f) {
                btp[b] += 1.0;
                tot_true += 1.0;
            } else {
                bfp[b] += 1.0;
                tot_false += 1.0;
            }
        }
        double ctp = 0, cfp = 0;
        for (int k = T - 1; k >= 0; k--) {
            ctp += btp[k];
            cfp += bfp[k];
            btp[k] = bfp[k] = 0.0;
            tp[k] += ctp;
            fp[k] += cfp;
            tn[k] += tot_false - cfp;
            fn[k] += tot_true - ctp;
        }
        return;
    }
    case SEQRT_METRIC_PRECISION:
    case SEQRT_METRIC_RECALL:
    case SEQRT_METRIC_TRUE_POSITIVES:
    case SEQRT_METRIC_FALSE_POSITIVES:
    case SEQRT_METRIC_TRUE_NEGATIVES:
    case SEQRT_METRIC_FALSE_NEGATIVES:
        confusion_update(&a, state, y, t, n, c);
        return;
    case SEQRT_METRIC_BINARY_ACCURACY:
    case SEQRT_METRIC_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY: {
        long samples;
        state[0] += sample_sum(metric, &a, y, t, n, c, L, &samples);
        state[1] += (double)samples;
        return;
    }
    case SEQRT_METRIC_MAE:
    case SEQRT_METRIC_MSE:
    case SEQRT_METRIC_MAPE:
    case SEQRT_METRIC_MSLE:
    case SEQRT_METRIC_LOG_COSH:
    case SEQRT_METRIC_COSINE_SIMILARITY:
    case SEQRT_METRIC_BINARY_CROSSENTROPY:
    case SEQRT_METRIC_CATEGORICAL_CROSSENTROPY:
    case SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY:
    case SEQRT_METRIC_KL_DIVERGENCE:
    case SEQRT_METRIC_POISSON:
    case SEQRT_METRIC_HINGE:
    case SEQRT_METRIC_SQUARED_HINGE:
    case SEQRT_METRIC_CATEGORICAL_HINGE:
        break;   /* handled above, as losses */
    }
    abort(); /* not a seqrt_metric_kind: a corrupt descriptor */
}

static double div_no_nan(double a, double b)
{
    return b == 0.0 ? 0.0 : a / b;
}

/* Keras's AUC.interpolate_pr_auc (Davis & Goadrich). */
static double pr_auc_interpolated(const double *tp, const double *fp, const double *fn, int T)
{
    double sum = 0.0;
    for (int i = 0; i < T - 1; i++) {
        double dtp = tp[i] - tp[i + 1];
        double p0 = tp[i] + fp[i], p1 = tp[i + 1] + fp[i + 1];
        double dp = p0 - p1;
        double slope = div_no_nan(dtp, dp > 0 ? dp : 0);
        double intercept = tp[i + 1] - slope * p1;
        double ratio = (p0 > 0 && p1 > 0) ? div_no_nan(p0, p1 > 0 ? p1 : 0) : 1.0;
        double den = tp[i + 1] + fn[i + 1];
        sum += div_no_nan(slope * (dtp + intercept * log(ratio)), den > 0 ? den : 0);
    }
    return sum;
}

/* Keras's precision-recall-gain point at one threshold, with its fixes: no
 * true positives gives recall gain 0 and precision gain 1, and a negative
 * recall gain is clipped to 0. */
static void prgain(double tp, double fp, double tn, double fn, double *recall_gain, double *precision_gain)
{
    double scale = div_no_nan(tp + fn, tn + fp);
    double rg = 1.0 - scale * div_no_nan(fn, tp);
    double pg = 1.0 - scale * div_no_nan(fp, tp);
    if (tp == 0.0) {
        rg = 0.0;
        pg = 1.0;
    }
    *recall_gain = rg > 0.0 ? rg : 0.0;
    *precision_gain = pg;
}

static double auc_result(const seqrt_metric_args *a, const double *s)
{
    int T = a->num_thresholds;
    const double *tp = s, *fp = s + T, *tn = s + 2 * T, *fn = s + 3 * T;
    if (a->curve == 1 && a->summation == 0)
        return pr_auc_interpolated(tp, fp, fn, T);
    double sum = 0.0;
    for (int i = 0; i < T - 1; i++) {
        double x0, x1, y0, y1;
        if (a->curve == 0) {   /* ROC: x = false positive rate, y = recall */
            x0 = div_no_nan(fp[i], fp[i] + tn[i]);
            x1 = div_no_nan(fp[i + 1], fp[i + 1] + tn[i + 1]);
            y0 = div_no_nan(tp[i], tp[i] + fn[i]);
            y1 = div_no_nan(tp[i + 1], tp[i + 1] + fn[i + 1]);
        } else if (a->curve == 1) {   /* PR: x = recall, y = precision */
            x0 = div_no_nan(tp[i], tp[i] + fn[i]);
            x1 = div_no_nan(tp[i + 1], tp[i + 1] + fn[i + 1]);
            y0 = div_no_nan(tp[i], tp[i] + fp[i]);
            y1 = div_no_nan(tp[i + 1], tp[i + 1] + fp[i + 1]);
        } else {               /* PRGAIN: x = recall gain, y = precision gain */
            prgain(tp[i], fp[i], tn[i], fn[i], &x0, &y0);
            prgain(tp[i + 1], fp[i + 1], tn[i + 1], fn[i + 1], &x1, &y1);
        }
        double h = a->summation == 0 ? (y0 + y1) / 2.0 : a->summation == 1 ? (y0 < y1 ? y0 : y1)
                                                                           : (y0 > y1 ? y0 : y1);
        sum += (x0 - x1) * h;
    }
    return sum;
}

double seqrt_metric_result(int metric, const seqrt_metric_args *args, const double *s, int c)
{
    seqrt_metric_args a = args_of(metric, args);
    switch ((seqrt_metric_kind)metric) {
    case SEQRT_METRIC_RMSE:
        return sqrt(div_no_nan(s[0], s[1]));
    case SEQRT_METRIC_AUC:
        return auc_result(&a, s);
    case SEQRT_METRIC_PRECISION:
        return div_no_nan(s[0], s[0] + s[1]);
    case SEQRT_METRIC_RECALL:
        return div_no_nan(s[0], s[0] + s[3]);
    case SEQRT_METRIC_TRUE_POSITIVES:
        return s[0];
    case SEQRT_METRIC_FALSE_POSITIVES:
        return s[1];
    case SEQRT_METRIC_TRUE_NEGATIVES:
        return s[2];
    case SEQRT_METRIC_FALSE_NEGATIVES:
        return s[3];
    case SEQRT_METRIC_R2_SCORE: {
        double uniform = 0.0, wsum = 0.0, wtot = 0.0;
        for (int j = 0; j < c; j++) {
            double mean = s[j] / s[3 * c + j];
            double total = s[c + j] - s[j] * mean;
            double raw = 1.0 - s[2 * c + j] / total;
            if (isinf(raw))
                raw = 0.0;
            uniform += raw;
            wsum += total * raw;
            wtot += total;
        }
        double r2 = a.aggregation == 1 ? wsum / wtot : uniform / c;
        double samples = s[4 * c], p = a.num_regressors;
        if (p > 0 && p < samples - 1)
            r2 = 1.0 - (1.0 - r2) * (samples - 1.0) / (samples - p - 1.0);
        return r2;
    }
    case SEQRT_METRIC_BINARY_ACCURACY:
    case SEQRT_METRIC_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_MAE:
    case SEQRT_METRIC_MSE:
    case SEQRT_METRIC_MAPE:
    case SEQRT_METRIC_MSLE:
    case SEQRT_METRIC_LOG_COSH:
    case SEQRT_METRIC_COSINE_SIMILARITY:
    case SEQRT_METRIC_BINARY_CROSSENTROPY:
    case SEQRT_METRIC_CATEGORICAL_CROSSENTROPY:
    case SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY:
    case SEQRT_METRIC_KL_DIVERGENCE:
    case SEQRT_METRIC_POISSON:
    case SEQRT_METRIC_HINGE:
    case SEQRT_METRIC_SQUARED_HINGE:
    case SEQRT_METRIC_CATEGORICAL_HINGE:
    case SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
        return div_no_nan(s[0], s[1]);
    }
    abort(); /* not a seqrt_metric_kind: a corrupt descriptor */
}

double seqrt_metric_sum(int metric, const float *y, const float *t, int n, int c)
{
    double s[2] = {0, 0};
    if (seqrt_metric_state_size(metric, NULL, c) != 2 || metric == SEQRT_METRIC_RMSE)
        abort(); /* not a mean metric: a corrupt call */
    seqrt_metric_update(metric, NULL, s, y, t, n, c);
    return s[0] / (s[1] / n);
}
