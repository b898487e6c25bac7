/*
 * metric_driver.c - the runtime's stateful metrics over several batches,
 * for metrics_ref.py to check against independent references.
 *
 *     metric_driver CASE
 *
 * Draws a data set (seed CASE) of rows outputs and targets, feeds it to
 * every metric in batches of uneven sizes (states accumulate over them, as
 * over an epoch), and prints, one per line:
 *   data N C         then N lines of C outputs and C targets (%.9g)
 *   sparse N C       then N lines of C outputs and one class index
 *   METRIC ARGS... = VALUE
 * where ARGS name the arguments (threshold=, num_thresholds=, curve=, ...)
 * the metric was given. Exit status 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt.h"

#define MAXN 400
#define MAXC 5

static float y[MAXN * MAXC], t[MAXN * MAXC], ts[MAXN];

/* Feeds n rows in batches of 1, 7, 32, 5, ... and returns the result. */
static double run(int metric, const seqrt_metric_args *a, const float *yy, const float *tt, int n, int c,
                  int sparse)
{
    static double state[6 * 4000 + 16];
    long size = seqrt_metric_state_size(metric, a, c);
    if (size > (long)(sizeof state / sizeof state[0]))
        abort();
    memset(state, 0, sizeof(double) * (size_t)size);
    static const int sizes[] = {1, 7, 32, 5, 64, 3};
    for (int s = 0, k = 0; s < n; k++) {
        int b = sizes[k % 6];
        if (b > n - s)
            b = n - s;
        seqrt_metric_update(metric, a, state, yy + (size_t)s * c, sparse ? tt + s : tt + (size_t)s * c, b, c);
        s += b;
    }
    return seqrt_metric_result(metric, a, state, c);
}

static void print(const char *name, const char *args, double v)
{
    printf("%s %s= %.17g\n", name, args, v);
}

int main(int argc, char **argv)
{
    int seedcase = argc > 1 ? atoi(argv[1]) : 1;
    seqrt_rng r;
    seqrt_rng_seed(&r, (uint64_t)seedcase);
    int n = 300;

    /* binary: one output, probabilities with ties and exact 0 / 1 values */
    for (int i = 0; i < n; i++) {
        float p = seqrt_rng_uniform(&r);
        if (i % 17 == 0)
            p = 0.5f;
        if (i % 29 == 0)
            p = i % 2 ? 1.0f : 0.0f;
        t[i] = (float)(seqrt_rng_uniform(&r) < 0.3f + 0.5f * p);
        y[i] = p;
    }
    printf("data %d 1\n", n);
    for (int i = 0; i < n; i++)
        printf("%.9g %.9g\n", y[i], t[i]);
    seqrt_metric_args a = seqrt_metric_defaults(SEQRT_METRIC_AUC);
    print("auc", "", run(SEQRT_METRIC_AUC, &a, y, t, n, 1, 0));
    a.num_thresholds = 2000;
    print("auc", "num_thresholds=2000 ", run(SEQRT_METRIC_AUC, &a, y, t, n, 1, 0));
    a.num_thresholds = 50;
    a.curve = 1;
    print("auc", "num_thresholds=50 curve=PR ", run(SEQRT_METRIC_AUC, &a, y, t, n, 1, 0));
    a.summation = 1;
    print("auc", "num_thresholds=50 curve=PR summation=minoring ", run(SEQRT_METRIC_AUC, &a, y, t, n, 1, 0));
    a.curve = 0;
    a.summation = 2;
    print("auc", "num_thresholds=50 curve=ROC summation=majoring ", run(SEQRT_METRIC_AUC, &a, y, t, n, 1, 0));
    a.curve = 2;
    a.summation = 0;
    print("auc", "num_thresholds=50 curve=PRGAIN ", run(SEQRT_METRIC_AUC, &a, y, t, n, 1, 0));
    static const int counts[] = {SEQRT_METRIC_PRECISION, SEQRT_METRIC_RECALL, SEQRT_METRIC_TRUE_POSITIVES,
                                 SEQRT_METRIC_FALSE_POSITIVES, SEQRT_METRIC_TRUE_NEGATIVES,
                                 SEQRT_METRIC_FALSE_NEGATIVES, SEQRT_METRIC_BINARY_ACCURACY};
    for (int k = 0; k < 7; k++) {
        a = seqrt_metric_defaults(counts[k]);
        print(seqrt_metric_name(counts[k]), "", run(counts[k], &a, y, t, n, 1, 0));
        a.threshold = 0.7f;
        print(seqrt_metric_name(counts[k]), "threshold=0.7 ", run(counts[k], &a, y, t, n, 1, 0));
    }
    a = seqrt_metric_defaults(SEQRT_METRIC_BINARY_CROSSENTROPY);
    print("binary_crossentropy", "", run(SEQRT_METRIC_BINARY_CROSSENTROPY, &a, y, t, n, 1, 0));
    a.label_smoothing = 0.2f;
    print("binary_crossentropy", "label_smoothing=0.2 ", run(SEQRT_METRIC_BINARY_CROSSENTROPY, &a, y, t, n, 1, 0));

    /* regression: three outputs */
    int c = 3;
    for (int i = 0; i < n * c; i++) {
        t[i] = 3.0f * seqrt_rng_uniform(&r) + (float)(i % c) + 1.0f;   /* positive: log() in msle, poisson */
        y[i] = t[i] + 0.5f * (seqrt_rng_uniform(&r) - 0.5f) * (float)(1 + i % c);
    }
    printf("data %d %d\n", n, c);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < c; j++)
            printf("%.9g ", y[i * c + j]);
        for (int j = 0; j < c; j++)
            printf("%.9g%c", t[i * c + j], j + 1 < c ? ' ' : '\n');
    }
    static const int reg[] = {SEQRT_METRIC_MAE, SEQRT_METRIC_MSE, SEQRT_METRIC_RMSE, SEQRT_METRIC_MAPE,
                              SEQRT_METRIC_MSLE, SEQRT_METRIC_LOG_COSH, SEQRT_METRIC_COSINE_SIMILARITY,
                              SEQRT_METRIC_R2_SCORE, SEQRT_METRIC_POISSON};
    for (int k = 0; k < 9; k++) {
        a = seqrt_metric_defaults(reg[k]);
        print(seqrt_metric_name(reg[k]), "", run(reg[k], &a, y, t, n, c, 0));
    }
    a = seqrt_metric_defaults(SEQRT_METRIC_R2_SCORE);
    a.aggregation = 1;
    print("r2_score", "class_aggregation=variance_weighted_average ", run(SEQRT_METRIC_R2_SCORE, &a, y, t, n, c, 0));
    a.aggregation = 0;
    a.num_regressors = 4;
    print("r2_score", "num_regressors=4 ", run(SEQRT_METRIC_R2_SCORE, &a, y, t, n, c, 0));

    /* classification: five classes, softmax-like scores with ties */
    c = 5;
    for (int i = 0; i < n; i++) {
        float s = 0;
        for (int j = 0; j < c; j++)
            s += y[i * c + j] = 0.05f + seqrt_rng_uniform(&r) * (float)(j + 1);
        if (i % 11 == 0)
            y[i * c + 1] = y[i * c + 3];   /* a tie */
        for (int j = 0; j < c; j++)
            y[i * c + j] /= s;
        int k = (int)seqrt_rng_below(&r, (uint32_t)c);
        ts[i] = (float)k;
        for (int j = 0; j < c; j++)
            t[i * c + j] = (float)(j == k);
    }
    printf("sparse %d %d\n", n, c);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < c; j++)
            printf("%.9g ", y[i * c + j]);
        printf("%.9g\n", ts[i]);
    }
    static const int cls[] = {SEQRT_METRIC_CATEGORICAL_ACCURACY, SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY,
                              SEQRT_METRIC_CATEGORICAL_CROSSENTROPY, SEQRT_METRIC_KL_DIVERGENCE,
                              SEQRT_METRIC_CATEGORICAL_HINGE, SEQRT_METRIC_HINGE, SEQRT_METRIC_SQUARED_HINGE};
    for (int k = 0; k < 7; k++) {
        a = seqrt_metric_defaults(cls[k]);
        print(seqrt_metric_name(cls[k]), "", run(cls[k], &a, y, t, n, c, 0));
    }
    a = seqrt_metric_defaults(SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY);
    a.k = 2;
    print("top_k_categorical_accuracy", "k=2 ", run(SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY, &a, y, t, n, c, 0));
    a = seqrt_metric_defaults(SEQRT_METRIC_PRECISION);
    a.class_id = 2;
    print("precision", "class_id=2 ", run(SEQRT_METRIC_PRECISION, &a, y, t, n, c, 0));
    a = seqrt_metric_defaults(SEQRT_METRIC_RECALL);
    a.class_id = 2;
    a.threshold = 0.2f;
    print("recall", "class_id=2 threshold=0.2 ", run(SEQRT_METRIC_RECALL, &a, y, t, n, c, 0));
    static const int sp[] = {SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY, SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY,
                             SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY};
    for (int k = 0; k < 3; k++) {
        a = seqrt_metric_defaults(sp[k]);
        a.k = 2;
        print(seqrt_metric_name(sp[k]), "k=2 ", run(sp[k], &a, y, ts, n, c, 1));
    }
    return 0;
}
