/*
 * pool.c - max and average pooling over channels-last batches, 1-D and
 * 2-D (a 1-D window is a 2-D one with h = kh = 1), and the global
 * poolings (a window as large as the input).
 *
 * The window geometry is seqrt_window's (kh, kw, strides, padding before;
 * dilation 1; oc == c). Padding is Keras's (TensorFlow's) "same": the
 * padded positions take no part, so a max is over the real elements of the
 * window and an average divides by how many real elements it has (Keras's
 * AveragePooling "same" counts only those; torch's count_include_pad=False
 * is the same rule). Every window holds at least one real element: the
 * shape rule guarantees it.
 *
 * Loops run over the channels innermost (contiguous in channels-last
 * memory, so they vectorize). Max pooling keeps nothing for backward: the
 * gradient goes to the first element of the window, in (ky, kx) order,
 * that equals the output, which is the element forward chose (it keeps the
 * first maximum, as PyTorch's CPU kernel does, so ties resolve the same
 * way).
 *
 * The entry points are dispatched at run time (dispatch.h); the helpers
 * are SEQRT_INLINE so that they are compiled into each clone.
 */
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "seqrt_kernels.h"

SEQRT_INLINE long window_pixel(const seqrt_window *g, int oy, int ox, int ky, int kx)
{
    int iy = oy * g->sh - g->pt + ky, ix = ox * g->sw - g->pl + kx;
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
        return -1;
    return (long)iy * g->w + ix;
}

/* Channels per block of max pooling's backward: the block's state is a
 * fixed-size local array, kept in vector registers. */
#define POOL_BLOCK 16

/* Forward: the output pixel itself accumulates, over the channels (loops
 * over memory vectorize where a local accumulator array would be split
 * into scalars). */
SEQRT_INLINE void pool_forward(float *y, const float *x, int n, const seqrt_window *g, int max)
{
    int c = g->c;
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float *restrict yr = y + (((size_t)s * g->oh + oy) * g->ow + ox) * c;
                int count = 0;
                for (int j = 0; j < c; j++)
                    yr[j] = max ? -HUGE_VALF : 0.0f;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        long ip = window_pixel(g, oy, ox, ky, kx);
                        if (ip < 0)
                            continue;
                        const float *restrict xr = x + ((size_t)s * g->h * g->w + ip) * c;
                        count++;
                        if (max)
                            for (int j = 0; j < c; j++)
                                yr[j] = xr[j] > yr[j] ? xr[j] : yr[j];
                        else
                            for (int j = 0; j < c; j++)
                                yr[j] += xr[j];
                    }
                if (!max) {
                    float inv = 1.0f / (float)count;
                    for (int j = 0; j < c; j++)
                        yr[j] *= inv;
                }
            }
}

SEQRT_DISPATCH
void seqrt_maxpool_forward(float *y, const float *x, int n, const seqrt_window *g)
{
    /* y: (n, oh, ow, c), x: (n, h, w, c) */
    pool_forward(y, x, n, g, 1);
}

SEQRT_DISPATCH
void seqrt_avgpool_forward(float *y, const float *x, int n, const seqrt_window *g)
{
    /* y: (n, oh, ow, c), x: (n, h, w, c) */
    pool_forward(y, x, n, g, 0);
}

/* One output pixel's channels [j0, j0 + nb) of max pooling's backward:
 * the first element of the window, in forward's order, equal to the
 * output gets the gradient. tiled: the windows tile the input, so dx is
 * written here (the gradient or 0) rather than added to. */
SEQRT_INLINE void maxpool_pixel_backward(float *restrict dxs, const float *restrict gr, const float *restrict xs,
                                          const float *restrict yr, const seqrt_window *g, int oy, int ox, int j0,
                                          int nb, int tiled)
{
    float left[POOL_BLOCK];   /* 1 until the channel's maximum has been found */
    for (int j = 0; j < nb; j++)
        left[j] = 1.0f;
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++) {
            long ip = window_pixel(g, oy, ox, ky, kx);
            if (ip < 0)
                continue;
            size_t i = (size_t)ip * g->c + (size_t)j0;
            const float *restrict xr = xs + i;
            float *restrict d = dxs + i;
            /* branch-free, so that it vectorizes (which element is the
             * maximum is data: a branch on it would be mispredicted) */
            for (int j = 0; j < nb; j++) {
                float hit = (xr[j] == yr[j0 + j] ? 1.0f : 0.0f) * left[j];
                d[j] = tiled ? hit * gr[j0 + j] : d[j] + hit * gr[j0 + j];
                left[j] -= hit;
            }
        }
}

SEQRT_DISPATCH
void seqrt_maxpool_backward(float *dx, const float *dy, const float *x, const float *y, int n,
                            const seqrt_window *g)
{
    /* dx: (n, h, w, c) overwritten; dy, y: (n, oh, ow, c); x: (n, h, w, c).
     * Windows that tile the input (stride = pool size, no padding before:
     * MaxPooling2D()) write each element of dx once, the rows and columns
     * no window covers are zeroed; otherwise dx is zeroed and added to. */
    int c = g->c;
    int tiled = g->sh == g->kh && g->sw == g->kw && g->pt == 0 && g->pl == 0;
    for (int s = 0; s < n; s++) {
        size_t base = (size_t)s * g->h * g->w * c;
        if (!tiled)
            memset(dx + base, 0, sizeof(float) * (size_t)g->h * g->w * c);
        else
            for (int iy = 0; iy < g->h; iy++)
                for (int ix = 0; ix < g->w; ix++)
                    if (iy >= g->oh * g->kh || ix >= g->ow * g->kw)
                        memset(dx + base + ((size_t)iy * g->w + ix) * c, 0, sizeof(float) * (size_t)c);
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                size_t o = (((size_t)s * g->oh + oy) * g->ow + ox) * c;
                int j0 = 0;
                for (; j0 + POOL_BLOCK <= c; j0 += POOL_BLOCK)
                    if (tiled)
                        maxpool_pixel_backward(dx + base, dy + o, x + base, y + o, g, oy, ox, j0, POOL_BLOCK, 1);
                    else
                        maxpool_pixel_backward(dx + base, dy + o, x + base, y + o, g, oy, ox, j0, POOL_BLOCK, 0);
                if (j0 < c)
                    maxpool_pixel_backward(dx + base, dy + o, x + base, y + o, g, oy, ox, j0, c - j0, tiled);
            }
    }
}

/* The number of real (not padding) elements in a window. */
SEQRT_INLINE int window_count(const seqrt_window *g, int oy, int ox)
{
    int count = 0;
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++)
            count += window_pixel(g, oy, ox, ky, kx) >= 0;
    return count;
}

SEQRT_DISPATCH
void seqrt_avgpool_backward(float *dx, const float *dy, int n, const seqrt_window *g)
{
    /* dx: (n, h, w, c) overwritten; dy: (n, oh, ow, c) */
    int c = g->c;
    memset(dx, 0, sizeof(float) * (size_t)n * g->h * g->w * c);
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                const float *restrict dyr = dy + (((size_t)s * g->oh + oy) * g->ow + ox) * c;
                float inv = 1.0f / (float)window_count(g, oy, ox);
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        long ip = window_pixel(g, oy, ox, ky, kx);
                        if (ip < 0)
                            continue;
                        float *restrict dxr = dx + ((size_t)s * g->h * g->w + ip) * c;
                        for (int j = 0; j < c; j++)
                            dxr[j] += dyr[j] * inv;
                    }
            }
}
