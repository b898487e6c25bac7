/*
 * spatial.c - the layers that move channels-last pixels without mixing
 * them: ZeroPadding and Cropping (one shifted copy: a positive offset pads,
 * a negative one crops), UpSampling (nearest neighbour), and Rescaling
 * (y = x scale + offset). 1-D layers are 2-D ones with h = 1.
 *
 * Each copies whole pixels (c contiguous floats) at a time. Backward is the
 * adjoint: the copy in the other direction (padding's gradient is a crop,
 * cropping's a zero-padded copy), the sum over each upsampled block, the
 * gradient times the scale. Dispatched at run time (dispatch.h).
 */
#include <string.h>

#include "dispatch.h"
#include "seqrt_kernels.h"

SEQRT_DISPATCH
void seqrt_shift_forward(float *y, const float *x, int n, int h, int w, int c, int oh, int ow, int top,
                         int left)
{
    /* y (n, oh, ow, c): y[oy, ox] = x[oy - top, ox - left] where that is in
     * x (n, h, w, c), else 0 */
    size_t pix = sizeof(float) * (size_t)c;
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int iy = oy - top, ix = ox - left;
                float *yr = y + (((size_t)s * oh + oy) * ow + ox) * c;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    memset(yr, 0, pix);
                else
                    memcpy(yr, x + (((size_t)s * h + iy) * w + ix) * c, pix);
            }
}

SEQRT_DISPATCH
void seqrt_shift_backward(float *dx, const float *dy, int n, int h, int w, int c, int oh, int ow, int top,
                          int left)
{
    /* dx (n, h, w, c) = the shift of dy (n, oh, ow, c) by (-top, -left):
     * dx[iy, ix] = dy[iy + top, ix + left] where that is in dy, else 0 */
    seqrt_shift_forward(dx, dy, n, oh, ow, c, h, w, -top, -left);
}

SEQRT_DISPATCH
void seqrt_upsample_forward(float *y, const float *x, int n, int h, int w, int c, int sh, int sw)
{
    /* y (n, h sh, w sw, c): y[oy, ox] = x[oy / sh, ox / sw] */
    size_t pix = sizeof(float) * (size_t)c;
    int oh = h * sh, ow = w * sw;
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                memcpy(y + (((size_t)s * oh + oy) * ow + ox) * c,
                       x + (((size_t)s * h + oy / sh) * w + ox / sw) * c, pix);
}

SEQRT_DISPATCH
void seqrt_upsample_backward(float *dx, const float *dy, int n, int h, int w, int c, int sh, int sw)
{
    /* dx (n, h, w, c) = the sum of each (sh, sw) block of dy */
    int oh = h * sh, ow = w * sw;
    memset(dx, 0, sizeof(float) * (size_t)n * h * w * c);
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float *restrict d = dx + (((size_t)s * h + oy / sh) * w + ox / sw) * c;
                const float *restrict g = dy + (((size_t)s * oh + oy) * ow + ox) * c;
                for (int j = 0; j < c; j++)
                    d[j] += g[j];
            }
}

SEQRT_DISPATCH
void seqrt_scale_forward(float *y, const float *x, long count, float scale, float offset)
{
    /* y, x: (count); y may equal x */
    for (long i = 0; i < count; i++)
        y[i] = x[i] * scale + offset;
}

SEQRT_DISPATCH
void seqrt_scale_backward(float *dx, const float *dy, long count, float scale)
{
    /* dx, dy: (count); dx may equal dy */
    for (long i = 0; i < count; i++)
        dx[i] = dy[i] * scale;
}
