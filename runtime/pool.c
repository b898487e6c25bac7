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
 */
#include <math.h>
#include <string.h>

#include "seqrt_kernels.h"

static inline long window_pixel(const seqrt_window *g, int oy, int ox, int ky, int kx)
{
    int iy = oy * g->sh - g->pt + ky, ix = ox * g->sw - g->pl + kx;
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
        return -1;
    return (long)iy * g->w + ix;
}

void seqrt_maxpool_forward(float *y, const float *x, int n, const seqrt_window *g)
{
    /* y: (n, oh, ow, c), x: (n, h, w, c) */
    int c = g->c;
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float *restrict yr = y + (((size_t)s * g->oh + oy) * g->ow + ox) * c;
                for (int j = 0; j < c; j++)
                    yr[j] = -HUGE_VALF;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        long ip = window_pixel(g, oy, ox, ky, kx);
                        if (ip < 0)
                            continue;
                        const float *restrict xr = x + ((size_t)s * g->h * g->w + ip) * c;
                        for (int j = 0; j < c; j++)
                            yr[j] = xr[j] > yr[j] ? xr[j] : yr[j];
                    }
            }
}

void seqrt_maxpool_backward(float *dx, const float *dy, const float *x, const float *y, int n,
                            const seqrt_window *g)
{
    /* dx: (n, h, w, c) overwritten; dy, y: (n, oh, ow, c); x: (n, h, w, c) */
    int c = g->c;
    memset(dx, 0, sizeof(float) * (size_t)n * g->h * g->w * c);
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                size_t o = (((size_t)s * g->oh + oy) * g->ow + ox) * c;
                for (int j = 0; j < c; j++) {
                    int found = 0;
                    for (int ky = 0; ky < g->kh && !found; ky++)
                        for (int kx = 0; kx < g->kw && !found; kx++) {
                            long ip = window_pixel(g, oy, ox, ky, kx);
                            size_t i = ((size_t)s * g->h * g->w + (size_t)ip) * c + (size_t)j;
                            if (ip >= 0 && x[i] == y[o + j]) {
                                dx[i] += dy[o + j];
                                found = 1;
                            }
                        }
                }
            }
}

/* The number of real (not padding) elements in a window. */
static int window_count(const seqrt_window *g, int oy, int ox)
{
    int count = 0;
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++)
            count += window_pixel(g, oy, ox, ky, kx) >= 0;
    return count;
}

void seqrt_avgpool_forward(float *y, const float *x, int n, const seqrt_window *g)
{
    /* y: (n, oh, ow, c), x: (n, h, w, c) */
    int c = g->c;
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float *restrict yr = y + (((size_t)s * g->oh + oy) * g->ow + ox) * c;
                for (int j = 0; j < c; j++)
                    yr[j] = 0.0f;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        long ip = window_pixel(g, oy, ox, ky, kx);
                        if (ip < 0)
                            continue;
                        const float *restrict xr = x + ((size_t)s * g->h * g->w + ip) * c;
                        for (int j = 0; j < c; j++)
                            yr[j] += xr[j];
                    }
                float inv = 1.0f / (float)window_count(g, oy, ox);
                for (int j = 0; j < c; j++)
                    yr[j] *= inv;
            }
}

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
