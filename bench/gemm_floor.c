/*
 * gemm_floor.c - the machine's floor for one training step: cblas_sgemm
 * alone on exactly the GEMM shapes the step needs, for every Dense layer
 * (in -> out) at batch n:
 *     forward   z  = x W^T    sgemm(N, T, n, out, in)
 *     backward  dW = dz^T x   sgemm(T, N, out, in, n)
 *               dx = dz W     sgemm(N, N, n, in, out)   (not for the first)
 * The same shapes as seqrt_gemm sees them (which sends m == 1 / n == 1 to
 * sgemv; `best` uses that dispatch, `sgemm` uses sgemm for every shape).
 *
 *   gemm_floor BATCH D0 D1 ... Dk        (the layer widths)
 *   gemm_floor --shapes TA,TB,M,N,K ...  (any GEMMs: a convolution's are
 *                                         its im2col products, run.sh)
 *   gemm_floor --gemv                    (sgemm M=1 against sgemv)
 *   gemm_floor --forward D0 D1 ... Dk    (inference: the forward GEMMs alone)
 * Prints key=value lines: sgemm_step_ms, best_step_ms; with --forward
 * fwd_bN_us (cblas_sgemm on every layer's z = x W^T at batch N = 1, 8, 64,
 * 256: the floor the baked build is held to).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { int ta, tb, m, n, k; } Shape;

static float *A, *B, *C;

static void call(const Shape *s, int best)
{
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    if (best && s->m == 1) {
        if (!s->tb)
            cblas_sgemv(CblasRowMajor, CblasTrans, s->k, s->n, 1.0f, B, ldb, A, s->ta ? lda : 1, 0.0f, C, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasNoTrans, s->n, s->k, 1.0f, B, ldb, A, s->ta ? lda : 1, 0.0f, C, 1);
        return;
    }
    if (best && s->n == 1) {
        if (!s->ta)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, s->m, s->k, 1.0f, A, lda, B, s->tb ? 1 : ldb, 0.0f, C, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, s->k, s->m, 1.0f, A, lda, B, s->tb ? 1 : ldb, 0.0f, C, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->m, s->n,
                s->k, 1.0f, A, lda, B, ldb, 0.0f, C, s->n);
}

/* Median seconds of one pass over all shapes. */
static double time_shapes(const Shape *sh, int ns, int best)
{
    double t[9];
    int iters = 1;
    for (;;) {
        double t0 = now();
        for (int k = 0; k < iters; k++)
            for (int i = 0; i < ns; i++)
                call(&sh[i], best);
        if (now() - t0 > 0.05 || iters > (1 << 22))
            break;
        iters *= 2;
    }
    for (int r = 0; r < 9; r++) {
        double t0 = now();
        for (int k = 0; k < iters; k++)
            for (int i = 0; i < ns; i++)
                call(&sh[i], best);
        t[r] = (now() - t0) / iters;
    }
    qsort(t, 9, sizeof(double), cmpd);
    return t[4];
}

int main(int argc, char **argv)
{
    A = malloc(sizeof(float) * 4096 * 4096);
    B = malloc(sizeof(float) * 4096 * 4096);
    C = malloc(sizeof(float) * 4096 * 4096);
    for (long i = 0; i < 4096L * 4096; i++) {
        A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
        B[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    }
    if (argc >= 3 && !strcmp(argv[1], "--shapes")) {
        Shape sh[64];
        int ns = 0;
        for (int i = 2; i < argc && ns < 64; i++)
            if (sscanf(argv[i], "%d,%d,%d,%d,%d", &sh[ns].ta, &sh[ns].tb, &sh[ns].m, &sh[ns].n, &sh[ns].k) == 5)
                ns++;
        printf("sgemm_step_ms=%.5f\nbest_step_ms=%.5f\n", 1e3 * time_shapes(sh, ns, 0),
               1e3 * time_shapes(sh, ns, 1));
        return 0;
    }
    if (argc > 2 && !strcmp(argv[1], "--forward")) {
        static const int batches[] = {1, 8, 64, 256};
        int nd = argc - 2;
        for (int b = 0; b < 4; b++) {
            Shape sh[64];
            int ns = 0;
            for (int l = 0; l + 1 < nd && ns < 64; l++)
                sh[ns++] = (Shape){0, 1, batches[b], atoi(argv[3 + l]), atoi(argv[2 + l])};
            printf("fwd_b%d_us=%.4f\n", batches[b], 1e6 * time_shapes(sh, ns, 0));
        }
        return 0;
    }
    if (argc == 2 && argv[1][0] == '-') {
        /* batch-1 forward shapes (x W^T with W (out, in)) */
        int shapes[][2] = {{10, 64}, {64, 1}, {11, 1024}, {1024, 512}, {512, 1024}, {1024, 1024}, {64, 128}, {128, 64}};
        for (int i = 0; i < 8; i++) {
            Shape s = {0, 1, 1, shapes[i][1], shapes[i][0]};
            double g = time_shapes(&s, 1, 0), v = time_shapes(&s, 1, 1);
            printf("gemv_check in=%d out=%d sgemm_us=%.3f sgemv_us=%.3f ratio=%.2f\n", shapes[i][0], shapes[i][1],
                   1e6 * g, 1e6 * v, g / v);
        }
        return 0;
    }
    if (argc < 4)
        return 2;
    int n = atoi(argv[1]), nd = argc - 2, ns = 0;
    Shape sh[64];
    for (int l = 0; l + 1 < nd; l++) {
        int in = atoi(argv[2 + l]), out = atoi(argv[3 + l]);
        sh[ns++] = (Shape){0, 1, n, out, in};
        sh[ns++] = (Shape){1, 0, out, in, n};
        if (l > 0)
            sh[ns++] = (Shape){0, 0, n, in, out};
    }
    printf("sgemm_step_ms=%.5f\nbest_step_ms=%.5f\n", 1e3 * time_shapes(sh, ns, 0), 1e3 * time_shapes(sh, ns, 1));
    return 0;
}
