/*
 * act.c - activation layers as standalone kernels.
 *
 * Thin loops over rows around the per-row helpers of act_inline.h, which
 * dense.c and norm.c also use for their fused activations, so a standalone
 * Activation layer and a fused one give identical bits. Softmax is over
 * each row (max-subtracted); its backward is dx = y * (dy - sum(dy * y)).
 * The other backwards use the exact derivatives (gelu: Phi(x) + x phi(x)).
 */
#include "act_inline.h"

void seqrt_act_forward(int act, float *y, const float *x, int n, int c)
{
    /* y: (n,c), x: (n,c); y may equal x */
    for (int i = 0; i < n; i++)
        seqrt_act_row_forward(act, y + (size_t)i * c, x + (size_t)i * c, c);
}

void seqrt_act_backward(int act, float *dx, const float *dy, const float *x,
                        const float *y, int n, int c)
{
    /* dx: (n,c), dy: (n,c), x: (n,c), y: (n,c); dx may equal dy */
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * c;
        seqrt_act_row_backward(act, dx + o, dy + o, x ? x + o : NULL,
                               y ? y + o : NULL, c);
    }
}
