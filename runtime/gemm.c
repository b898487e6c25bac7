/*
 * gemm.c - the one matrix multiply every layer goes through.
 *
 * C (m,n) = alpha * op(A) op(B) + beta * C, row-major, op(X) = X or X^T.
 *
 * With SEQC_BLAS the call is forwarded to CBLAS. A single row or column
 * (m == 1 or n == 1, the batch-of-one inference case) goes to sgemv instead:
 * OpenBLAS 0.3.21's sgemm is several times slower than sgemv there. For
 * beta == 0 the output is zeroed here first, so C is never read, whatever
 * BLAS does with 0 * NaN.
 *
 * OpenBLAS threads a GEMM from about 2.6e5 multiply-adds on (a gemv from
 * 9,216 elements), where on a small shape waking and joining the threads
 * costs more than the second core gains: benchmark (a) trained slower with
 * 2 threads than with 1. With OpenBLAS (SEQC_OPENBLAS_THREADS) a call of
 * fewer than SEQRT_GEMM_THREADED_MIN multiply-adds therefore runs on one
 * thread (openblas_set_num_threads(1) around it, the caller's count
 * restored after); larger ones use the threads OpenBLAS was given. When
 * the runtime links the generic libblas.so.3 (Debian's BLAS alternative,
 * for the package's dependency) the two OpenBLAS calls are not in its
 * symbols, but when OpenBLAS is the alternative its libopenblas.so.0 is
 * loaded with the program and exports them: SEQC_BLAS_DLSYM looks them up
 * once with dlsym; with another BLAS behind libblas.so.3 they are absent
 * and every GEMM runs on that BLAS's own threads. The
 * thread count is process-wide state: seqrt_gemm must not run in two
 * threads at once (the runtime never does). OpenBLAS splits a GEMM by rows
 * and columns of C, never along k, so the results do not depend on it.
 *
 * Without BLAS a plain-C loop nest is used, ordered so that the innermost
 * loop runs over contiguous memory (and vectorizes at -O2/-O3):
 *   NN: C[i,:] += A[i,p] * B[p,:]                     (axpy over rows of B)
 *   NT: C[i,j]  = dot(A[i,:], B[j,:])                 (8 partial sums)
 *   TN: C[i,:] += A[p,i] * B[p,:]                     (axpy, p outermost)
 *   TT: C[i,j] += dot(alpha A[:,i], B[j,:])        (column of A gathered)
 * beta == 0 stores zeros before accumulating and never reads C. The loops
 * have a fixed summation order, so results are bit-for-bit reproducible.
 */
#ifdef SEQC_BLAS_DLSYM
#define _GNU_SOURCE   /* RTLD_DEFAULT */
#include <dlfcn.h>
#endif
#include <string.h>

#include "seqrt_kernels.h"
#include "dispatch.h"

#ifdef SEQC_BLAS
#include <cblas.h>

/* OpenBLAS's thread count: blas_threads() the current one, 0 when it
 * cannot be set; blas_set_threads(n) sets it. */
#if defined(SEQC_OPENBLAS_THREADS)
static int blas_threads(void) { return openblas_get_num_threads(); }
static void blas_set_threads(int n) { openblas_set_num_threads(n); }
#elif defined(SEQC_BLAS_DLSYM)
static void (*openblas_set)(int);
static int (*openblas_get)(void);
static int openblas_looked_up;

static int blas_threads(void)
{
    if (!openblas_looked_up) {
        void *set = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
        void *get = dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
        if (set && get) {   /* object to function pointer: POSIX's way */
            memcpy(&openblas_set, &set, sizeof set);
            memcpy(&openblas_get, &get, sizeof get);
        }
        openblas_looked_up = 1;
    }
    return openblas_get ? openblas_get() : 0;
}
static void blas_set_threads(int n) { openblas_set(n); }
#else
static int blas_threads(void) { return 0; }
static void blas_set_threads(int n) { (void)n; }
#endif

/* Fewer multiply-adds (m n k) than this run on one OpenBLAS thread. */
#define SEQRT_GEMM_THREADED_MIN (2.0 * 1024 * 1024)

static void gemm_blas(int trans_a, int trans_b, int m, int n, int k,
                      float alpha, const float *a, int lda, const float *b,
                      int ldb, float beta, float *c, int ldc)
{
    if (m == 1) {
        /* c row (n) = op(B)^T a_row: op(B) is (k,n). */
        const float *x = a;                 /* op(A) row 0: (k) */
        int incx = trans_a ? lda : 1;
        if (!trans_b) /* B (k,n): y = B^T x */
            cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, x,
                        incx, beta, c, 1);
        else          /* B (n,k): y = B x */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, x,
                        incx, beta, c, 1);
        return;
    }
    if (n == 1) {
        /* c column (m) with stride ldc = op(A) b_col: op(A) is (m,k). */
        const float *x = b;                 /* op(B) column 0: (k) */
        int incx = trans_b ? 1 : ldb;
        if (!trans_a) /* A (m,k) */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, alpha, a, lda, x,
                        incx, beta, c, ldc);
        else          /* A (k,m): y = A^T x */
            cblas_sgemv(CblasRowMajor, CblasTrans, k, m, alpha, a, lda, x,
                        incx, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda,
                b, ldb, beta, c, ldc);
}
#endif

#ifndef SEQC_BLAS
/* c: (m,n) with row stride ldc. Applies beta (beta == 0: store zeros). */
SEQRT_INLINE void scale_c(float *c, int m, int n, int ldc, float beta)
{
    for (int i = 0; i < m; i++) {
        float *restrict crow = c + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < n; j++)
                crow[j] = 0.0f;
        else if (beta != 1.0f)
            for (int j = 0; j < n; j++)
                crow[j] *= beta;
    }
}

/* dot of two contiguous vectors of length k, fixed order: 8 lanes, then the
 * lanes pairwise, then the tail. */
SEQRT_INLINE float dot8(const float *restrict a, const float *restrict b, int k)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int p = 0;
    for (; p + 8 <= k; p += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += a[p + l] * b[p + l];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) +
              ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; p < k; p++)
        s += a[p] * b[p];
    return s;
}

SEQRT_INLINE void gemm_plain(int ta, int tb, int m, int n, int k, float alpha,
                             const float *a, int lda, const float *b, int ldb,
                             float beta, float *c, int ldc)
{
    /* a: (m,k) or (k,m) if ta; b: (k,n) or (n,k) if tb; c: (m,n) */
    if (!ta && tb) {
        for (int i = 0; i < m; i++) {
            const float *arow = a + (size_t)i * lda;
            float *crow = c + (size_t)i * ldc;
            for (int j = 0; j < n; j++) {
                float s = alpha * dot8(arow, b + (size_t)j * ldb, k);
                crow[j] = beta == 0.0f ? s : s + beta * crow[j];
            }
        }
        return;
    }
    scale_c(c, m, n, ldc, beta);
    if (alpha == 0.0f || k == 0)
        return;
    if (!ta && !tb) {
        for (int i = 0; i < m; i++) {
            const float *arow = a + (size_t)i * lda;
            float *restrict crow = c + (size_t)i * ldc;
            int p = 0;
            for (; p + 4 <= k; p += 4) {
                float a0 = alpha * arow[p], a1 = alpha * arow[p + 1];
                float a2 = alpha * arow[p + 2], a3 = alpha * arow[p + 3];
                const float *restrict b0 = b + (size_t)p * ldb;
                const float *restrict b1 = b0 + ldb;
                const float *restrict b2 = b1 + ldb;
                const float *restrict b3 = b2 + ldb;
                for (int j = 0; j < n; j++)
                    crow[j] += (a0 * b0[j] + a1 * b1[j]) +
                               (a2 * b2[j] + a3 * b3[j]);
            }
            for (; p < k; p++) {
                float ap = alpha * arow[p];
                const float *restrict brow = b + (size_t)p * ldb;
                for (int j = 0; j < n; j++)
                    crow[j] += ap * brow[j];
            }
        }
    } else if (ta && !tb) {
        for (int p = 0; p < k; p++) {
            const float *arow = a + (size_t)p * lda;
            const float *restrict brow = b + (size_t)p * ldb;
            for (int i = 0; i < m; i++) {
                float ap = alpha * arow[i];
                float *restrict crow = c + (size_t)i * ldc;
                for (int j = 0; j < n; j++)
                    crow[j] += ap * brow[j];
            }
        }
    } else { /* ta && tb: gather alpha * column i of A, then dots with rows
              * of B, in chunks of a stack buffer */
        float acol[256];
        for (int i = 0; i < m; i++) {
            float *crow = c + (size_t)i * ldc;
            for (int p0 = 0; p0 < k; p0 += 256) {
                int pb = k - p0 < 256 ? k - p0 : 256;
                for (int p = 0; p < pb; p++)
                    acol[p] = alpha * a[(size_t)(p0 + p) * lda + i];
                for (int j = 0; j < n; j++)
                    crow[j] += dot8(acol, b + (size_t)j * ldb + p0, pb);
            }
        }
    }
}
#endif

SEQRT_DISPATCH
void seqrt_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc)
{
    /* a: (m,k), or (k,m) if trans_a; b: (k,n), or (n,k) if trans_b;
     * c: (m,n); leading dimensions are row strides in elements. */
    if (m <= 0 || n <= 0)
        return;
#ifdef SEQC_BLAS
    /* beta == 0 never reads C. cblas_sgemm guarantees that itself (BLAS:
     * "when BETA is supplied as zero then C need not be set on input";
     * OpenBLAS zeroes C in its beta pass, checked with a NaN-filled C), so
     * a memset here would be a second pass over C: a conv layer's whole
     * output. The sgemv paths (m or n 1) and the no-product case zero C
     * here. */
    if (beta == 0.0f && (m == 1 || n == 1 || k <= 0 || alpha == 0.0f)) {
        if (ldc == n)
            memset(c, 0, sizeof(float) * (size_t)m * (size_t)n);
        else
            for (int i = 0; i < m; i++)
                memset(c + (size_t)i * ldc, 0, sizeof(float) * (size_t)n);
    }
    if (k <= 0 || alpha == 0.0f) {
        if (beta != 0.0f && beta != 1.0f)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    c[(size_t)i * ldc + j] *= beta;
        return;
    }
    int threads = 0;   /* the caller's count, to restore; 0: unchanged */
    if ((double)m * n * k < SEQRT_GEMM_THREADED_MIN) {
        threads = blas_threads();
        if (threads > 1)
            blas_set_threads(1);
        else
            threads = 0;
    }
    gemm_blas(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (threads)
        blas_set_threads(threads);
#else
    gemm_plain(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

const char *seqrt_gemm_backend(void)
{
#ifdef SEQC_BLAS
    return "cblas";
#else
    return "plain C";
#endif
}
