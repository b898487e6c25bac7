/*
 * test_gemm.c - seqrt_gemm against a naive double-precision loop.
 *
 * Every transpose combination, on shapes that include m == 1 and n == 1
 * (the gemv paths of the BLAS build), k == 1, leading dimensions larger
 * than the row length (padding that must be neither read nor written), and
 * beta in {0, 1, 0.5}. With beta == 0, C is filled with NaN first: any read
 * of C would poison the result. Tolerance: float GEMM of k products of
 * values in [-1, 1] accumulates relative rounding of about k * 2^-24 of the
 * sum of |terms|; we allow 1e-5 * (1 + sum|terms|) * sqrt(k)-ish, written as
 * 2e-6 * k * scale which is far below any indexing or transpose bug (O(1)).
 */
#include "seqrt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures;

static float frand(seqrt_rng *r) { return 2.0f * seqrt_rng_uniform(r) - 1.0f; }

static void check(int ta, int tb, int m, int n, int k, float alpha,
                  float beta, int pad, seqrt_rng *r)
{
    enum { MAXE = 64 * 80 };
    float a[MAXE], b[MAXE], c[MAXE], c0[MAXE];
    int arows = ta ? k : m, acols = ta ? m : k;
    int brows = tb ? n : k, bcols = tb ? k : n;
    int lda = acols + pad, ldb = bcols + pad, ldc = n + pad;
    for (int i = 0; i < MAXE; i++) {
        a[i] = frand(r);
        b[i] = frand(r);
        c0[i] = beta == 0.0f ? NAN : frand(r);
    }
    (void)arows;
    (void)brows;
    memcpy(c, c0, sizeof c);
    seqrt_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    double worst = 0.0;
    int wi = -1, wj = -1;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0.0, mag = 0.0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += av * bv;
                mag += fabs(av * bv);
            }
            double want = alpha * s;
            if (beta != 0.0f)
                want += (double)beta * c0[i * ldc + j];
            double err = fabs(want - c[i * ldc + j]);
            double tol = 2e-6 * (k + 1) * (1.0 + mag);
            if (!(err <= tol) && (err > worst || wi < 0 || isnan(err))) {
                worst = err;
                wi = i;
                wj = j;
            }
        }
        /* padding columns of C untouched */
        for (int j = n; j < ldc && i < m; j++) {
            float got = c[i * ldc + j], was = c0[i * ldc + j];
            if (!(got == was || (isnan(got) && isnan(was)))) {
                printf("FAIL gemm ta=%d tb=%d m=%d n=%d k=%d: padding C[%d,%d] "
                       "written\n", ta, tb, m, n, k, i, j);
                failures++;
                return;
            }
        }
    }
    if (wi >= 0) {
        printf("FAIL gemm ta=%d tb=%d m=%d n=%d k=%d alpha=%g beta=%g pad=%d:"
               " worst C[%d,%d] = %.9g, error %.3g\n", ta, tb, m, n, k,
               alpha, beta, pad, wi, wj, c[wi * ldc + wj], worst);
        failures++;
    }
}

int main(void)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, 42);
    static const int shapes[][3] = {
        {1, 1, 1},  {1, 7, 5},   {7, 1, 5},  {1, 33, 70}, {40, 1, 70},
        {3, 4, 1},  {5, 9, 13},  {17, 31, 8}, {32, 32, 32}, {2, 64, 3},
        {60, 2, 19}, {1, 1, 64}, {9, 9, 0},  {3, 5, 300}, {1, 4, 300},
    };
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    int cases = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 3; bi++)
                    for (int pad = 0; pad < 2; pad++) {
                        check(ta, tb, shapes[s][0], shapes[s][1],
                              shapes[s][2], bi == 2 ? -1.5f : 1.0f,
                              betas[bi], pad * 3, &r);
                        cases++;
                    }
    printf("test_gemm (%s): %d cases, %d failures\n", seqrt_gemm_backend(),
           cases, failures);
    return failures ? 1 : 0;
}
