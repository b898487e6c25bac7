/*
 * dense.c - the fully connected layer, y = act(x w^T + b).
 *
 * w is (out,in), PyTorch's layout, so forward is one GEMM with B transposed
 * (z = x w^T, beta 0), the bias added row by row, and the activation
 * (act_inline.h) applied in one sweep over the batch (row by row for the
 * row-wise ones, softmax and log_softmax). z is kept for backward when the
 * caller gives it; otherwise the GEMM writes y and the sweep activates it
 * in place.
 *
 * Backward: dz = act'(z) * dy, in place over dy, then two GEMMs,
 * dw = dz^T x (overwrite) and dx = dz w, and db = column sums of dz.
 */
#include "act_inline.h"
#include "dispatch.h"

#include <limits.h>

SEQRT_DISPATCH
void seqrt_dense_forward(float *y, float *z, const float *x, const float *w,
                         const float *b, int n, int in, int out,
                         seqrt_actfn act)
{
    /* y: (n,out), z: (n,out) or NULL, x: (n,in), w: (out,in),
     * b: (out) or NULL */
    float *pre = z ? z : y;
    seqrt_gemm(0, 1, n, out, in, 1.0f, x, in, w, in, 0.0f, pre, out);
    if (!seqrt_act_rowwise(act) && (long)n * out <= INT_MAX) {
        /* elementwise: the bias row by row, then one activation sweep over
         * the whole batch (one dispatch on the kind, not one per row) */
        if (b)
            for (int i = 0; i < n; i++) {
                float *restrict row = pre + (size_t)i * out;
                for (int j = 0; j < out; j++)
                    row[j] += b[j];
            }
        seqrt_act_row_forward(act, y, pre, n * out);
        return;
    }
    for (int i = 0; i < n; i++)
        seqrt_act_row_bias_forward(act, y + (size_t)i * out,
                                   pre + (size_t)i * out, b, out);
}

SEQRT_DISPATCH
void seqrt_dense_backward(float *dx, float *dw, float *db, float *dy,
                          const float *x, const float *w, const float *z,
                          const float *y, int n, int in, int out,
                          seqrt_actfn act)
{
    /* dx: (n,in) or NULL, dw: (out,in), db: (out) or NULL,
     * dy: (n,out) in, dz out; x: (n,in), w: (out,in), z: (n,out) or NULL,
     * y: (n,out) */
    if (!seqrt_act_rowwise(act) && (long)n * out <= INT_MAX)   /* one sweep */
        seqrt_act_row_backward(act, dy, dy, z, y, n * out);
    else
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * out;
            seqrt_act_row_backward(act, dy + o, dy + o, z ? z + o : NULL, y + o, out);
        }
    const float *dz = dy;
    seqrt_gemm(1, 0, out, in, n, 1.0f, dz, out, x, in, 0.0f, dw, in);
    if (db) {
        for (int j = 0; j < out; j++)
            db[j] = 0.0f;
        for (int i = 0; i < n; i++) {
            const float *row = dz + (size_t)i * out;
            for (int j = 0; j < out; j++)
                db[j] += row[j];
        }
    }
    if (dx)
        seqrt_gemm(0, 0, n, in, out, 1.0f, dz, out, w, in, 0.0f, dx, in);
}
