/*
 * act.c - activation layers as standalone kernels.
 *
 * Thin loops over rows around the per-row helpers of act_inline.h, which
 * dense.c and norm.c also use for their fused activations, so a standalone
 * Activation layer and a fused one give identical bits. Every formula is a
 * row of seqrt_acts.def. Also PReLU, whose slope is a learned parameter
 * (one per element of a sample, broadcast over Keras's shared_axes).
 */
#include "act_inline.h"
#include "dispatch.h"

SEQRT_DISPATCH
void seqrt_act_forward(float *y, const float *x, int n, int c, seqrt_actfn act)
{
    /* y: (n,c), x: (n,c); y may equal x */
    for (int i = 0; i < n; i++)
        seqrt_act_row_forward(act, y + (size_t)i * c, x + (size_t)i * c, c);
}

SEQRT_DISPATCH
void seqrt_act_backward(float *dx, const float *dy, const float *x,
                        const float *y, int n, int c, seqrt_actfn act)
{
    /* dx: (n,c), dy: (n,c), x: (n,c) or NULL, y: (n,c); dx may equal dy */
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * c;
        seqrt_act_row_backward(act, dx + o, dy + o, x ? x + o : NULL,
                               y ? y + o : NULL, c);
    }
}

/* The index of alpha for element j of a sample: alpha broadcasts over the
 * axes where alpha_dims[k] == 1. Row-major coordinates, last axis fastest. */
static long prelu_index(long j, int rank, const int *dims, const int *alpha_dims)
{
    long idx = 0, stride = 1;
    for (int k = rank - 1; k >= 0; k--) {
        long coord = j % dims[k];
        j /= dims[k];
        if (alpha_dims[k] != 1)
            idx += coord * stride;
        stride *= alpha_dims[k];
    }
    return idx;
}

static long prelu_size(int rank, const int *dims)
{
    long size = 1;
    for (int k = 0; k < rank; k++)
        size *= dims[k];
    return size;
}

SEQRT_DISPATCH
void seqrt_prelu_forward(float *y, const float *x, const float *alpha, int n,
                         int rank, const int *dims, const int *alpha_dims)
{
    /* y: (n, size), x: (n, size), alpha: (prod alpha_dims) */
    long size = prelu_size(rank, dims);
    for (int i = 0; i < n; i++) {
        float *yr = y + (size_t)i * (size_t)size;
        const float *xr = x + (size_t)i * (size_t)size;
        for (long j = 0; j < size; j++) {
            float a = alpha[prelu_index(j, rank, dims, alpha_dims)];
            yr[j] = xr[j] > 0.0f ? xr[j] : a * xr[j];
        }
    }
}

SEQRT_DISPATCH
void seqrt_prelu_backward(float *dx, float *dalpha, const float *dy,
                          const float *x, const float *alpha, int n, int rank,
                          const int *dims, const int *alpha_dims)
{
    /* dx: (n, size), dalpha: (prod alpha_dims), dy: (n, size),
     * x: (n, size), alpha: (prod alpha_dims); dx may equal dy */
    long size = prelu_size(rank, dims), asize = prelu_size(rank, alpha_dims);
    for (long k = 0; k < asize; k++)
        dalpha[k] = 0.0f;
    for (int i = 0; i < n; i++) {
        float *dxr = dx + (size_t)i * (size_t)size;
        const float *dyr = dy + (size_t)i * (size_t)size;
        const float *xr = x + (size_t)i * (size_t)size;
        for (long j = 0; j < size; j++) {
            long k = prelu_index(j, rank, dims, alpha_dims);
            float g = dyr[j];
            if (xr[j] > 0.0f) {
                dxr[j] = g;
            } else {
                dalpha[k] += g * xr[j];
                dxr[j] = g * alpha[k];
            }
        }
    }
}
