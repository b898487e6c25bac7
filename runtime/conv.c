/*
 * conv.c - convolutions over channels-last batches: Conv1D, Conv2D (with
 * groups), DepthwiseConv1D/2D and both halves of SeparableConv1D/2D.
 *
 * A 1-D convolution is a 2-D one with h = 1 (kh = 1, no padding along h),
 * so there is one kernel pair, over the geometry of seqrt_window. The
 * weights are in PyTorch's layout, (oc, c / groups, kh, kw), so that a
 * checkpoint loads into torch.nn.Conv2d; the activations are Keras's
 * channels-last (n, h, w, c).
 *
 * Three ways to compute it, chosen by the shape:
 *
 *   - 1x1, stride 1, no padding, one group (a pointwise convolution): the
 *     input rows are already the patches; one GEMM y = x w^T, as Dense;
 *   - one input channel per group (depthwise, and the first layer of a
 *     one-channel image): direct loops, vectorized over the output
 *     channels, with the weights transposed to (kh, kw, oc) in the scratch
 *     (patches of one channel would make GEMMs of depth kh kw, too thin to
 *     pay for the copy);
 *   - anything else: im2col + GEMM. A chunk of output pixels at a time,
 *     each pixel's receptive field is copied into a row of the scratch in
 *     (ky, kx, c) order, which for channels-last input is a run of
 *     c / groups contiguous floats per tap (a memcpy); the weights are
 *     permuted once per call to the same (oc, kh, kw, c / groups) order, so
 *     that y (pixels, oc) = cols (pixels, K) w'^T is one GEMM per chunk and
 *     group. Backward recomputes the patches chunk by chunk: dw' += dz^T
 *     cols, then cols = dz w' (over the patches, which are no longer
 *     needed) and col2im adds them into dx; dw' is permuted back to
 *     PyTorch's layout at the end.
 *
 * The scratch is the caller's (the model's one scratch buffer, planned by
 * the compiler; nothing is allocated here): at least 2 oc K + K floats for
 * the GEMM path (K = kh kw c / groups), 2 kh kw oc for the depthwise path;
 * every float beyond the minimum lets a chunk hold one more row of patches
 * (rows per chunk = (scratch - 2 oc K) / K), so the GEMMs get taller.
 *
 * Forward adds the bias and applies the fused activation row by row
 * (act_inline.h), keeping the pre-activation z when the caller gives it,
 * exactly as Dense does; backward first turns dy into dz = act'(z) dy in
 * place.
 */
#include <string.h>

#include "act_inline.h"

/* ---------------------------------------------------------------- helpers */

static long out_pixels(const seqrt_window *g) { return (long)g->oh * g->ow; }

static int is_pointwise(const seqrt_window *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
           g->groups == 1 && g->oh == g->h && g->ow == g->w;
}

static int is_depthwise(const seqrt_window *g)
{
    return g->c / g->groups == 1;
}

/* w (oc, cg, kk) -> wp (oc, kk, cg) */
static void permute_to_taps(float *restrict wp, const float *restrict w, int oc, int cg, int kk)
{
    for (int o = 0; o < oc; o++)
        for (int c = 0; c < cg; c++)
            for (int k = 0; k < kk; k++)
                wp[((size_t)o * kk + k) * cg + c] = w[((size_t)o * cg + c) * kk + k];
}

/* wp (oc, kk, cg) -> w (oc, cg, kk) */
static void permute_from_taps(float *restrict w, const float *restrict wp, int oc, int cg, int kk)
{
    for (int o = 0; o < oc; o++)
        for (int c = 0; c < cg; c++)
            for (int k = 0; k < kk; k++)
                w[((size_t)o * cg + c) * kk + k] = wp[((size_t)o * kk + k) * cg + c];
}

/* The input pixel under tap (ky, kx) of output pixel (oy, ox), or -1 when
 * it falls into the padding. */
static inline long tap_pixel(const seqrt_window *g, int oy, int ox, int ky, int kx)
{
    int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
        return -1;
    return (long)iy * g->w + ix;
}

/* cols (np, kk cg): the patches of output pixels [p0, p0 + np) of the
 * batch, channels [c0, c0 + cg) of x (n, h, w, c), taps in (ky, kx) order,
 * zeros for the padding. */
static void im2col(float *cols, const float *x, long p0, long np, const seqrt_window *g, int c0, int cg)
{
    long pix = out_pixels(g), K = (long)g->kh * g->kw * cg;
    for (long r = 0; r < np; r++) {
        long p = p0 + r, s = p / pix, q = p % pix;
        int oy = (int)(q / g->ow), ox = (int)(q % g->ow);
        const float *xs = x + (size_t)s * g->h * g->w * g->c + c0;
        float *row = cols + (size_t)r * K;
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                float *dst = row + (size_t)(ky * g->kw + kx) * cg;
                long ip = tap_pixel(g, oy, ox, ky, kx);
                if (ip < 0)
                    memset(dst, 0, sizeof(float) * (size_t)cg);
                else
                    memcpy(dst, xs + (size_t)ip * g->c, sizeof(float) * (size_t)cg);
            }
    }
}

/* dx (n, h, w, c) += the patches cols (np, kk cg) of output pixels
 * [p0, p0 + np), channels [c0, c0 + cg); the padding's share is dropped. */
static void col2im(float *dx, const float *cols, long p0, long np, const seqrt_window *g, int c0, int cg)
{
    long pix = out_pixels(g), K = (long)g->kh * g->kw * cg;
    for (long r = 0; r < np; r++) {
        long p = p0 + r, s = p / pix, q = p % pix;
        int oy = (int)(q / g->ow), ox = (int)(q % g->ow);
        float *dxs = dx + (size_t)s * g->h * g->w * g->c + c0;
        const float *row = cols + (size_t)r * K;
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                long ip = tap_pixel(g, oy, ox, ky, kx);
                if (ip < 0)
                    continue;
                float *restrict d = dxs + (size_t)ip * g->c;
                const float *restrict src = row + (size_t)(ky * g->kw + kx) * cg;
                for (int c = 0; c < cg; c++)
                    d[c] += src[c];
            }
    }
}

/* Rows of patches per chunk that the scratch holds after the two weight
 * copies (at least 1: the minimum scratch). */
static long chunk_rows(const seqrt_window *g, long scratch_floats, long K)
{
    long rows = (scratch_floats - 2L * g->oc * K) / K;
    if (rows < 1)
        abort(); /* less scratch than the documented minimum: a corrupt call */
    return rows;
}

/* ---------------------------------------------------------------- depthwise (one input channel per group) */

/* pre (n, oh, ow, oc) = the depthwise convolution, weights wd (kk, oc). */
static void depthwise_forward(float *pre, const float *x, const float *wd, int n, const seqrt_window *g)
{
    int oc = g->oc, dm = oc / g->c;
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float *restrict yr = pre + (((size_t)s * g->oh + oy) * g->ow + ox) * oc;
                for (int o = 0; o < oc; o++)
                    yr[o] = 0.0f;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        long ip = tap_pixel(g, oy, ox, ky, kx);
                        if (ip < 0)
                            continue;
                        const float *restrict xr = x + ((size_t)s * g->h * g->w + ip) * g->c;
                        const float *restrict wk = wd + (size_t)(ky * g->kw + kx) * oc;
                        if (dm == 1)
                            for (int o = 0; o < oc; o++)
                                yr[o] += wk[o] * xr[o];
                        else
                            for (int c = 0; c < g->c; c++)
                                for (int m = 0; m < dm; m++)
                                    yr[c * dm + m] += wk[c * dm + m] * xr[c];
                    }
            }
}

/* dwd (kk, oc) = sum dz x; dx (if not NULL) = sum dz wd. */
static void depthwise_backward(float *dx, float *dwd, const float *dz, const float *x, const float *wd, int n,
                               const seqrt_window *g)
{
    int oc = g->oc, dm = oc / g->c;
    memset(dwd, 0, sizeof(float) * (size_t)g->kh * g->kw * oc);
    if (dx)
        memset(dx, 0, sizeof(float) * (size_t)n * g->h * g->w * g->c);
    for (int s = 0; s < n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                const float *restrict dyr = dz + (((size_t)s * g->oh + oy) * g->ow + ox) * oc;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        long ip = tap_pixel(g, oy, ox, ky, kx);
                        if (ip < 0)
                            continue;
                        size_t xo = ((size_t)s * g->h * g->w + ip) * g->c;
                        const float *restrict xr = x + xo;
                        float *restrict dwk = dwd + (size_t)(ky * g->kw + kx) * oc;
                        const float *restrict wk = wd + (size_t)(ky * g->kw + kx) * oc;
                        for (int c = 0; c < g->c; c++)
                            for (int m = 0; m < dm; m++)
                                dwk[c * dm + m] += dyr[c * dm + m] * xr[c];
                        if (dx) {
                            float *restrict dxr = dx + xo;
                            for (int c = 0; c < g->c; c++)
                                for (int m = 0; m < dm; m++)
                                    dxr[c] += dyr[c * dm + m] * wk[c * dm + m];
                        }
                    }
            }
}

/* ---------------------------------------------------------------- forward, backward */

void seqrt_conv_forward(float *y, float *z, const float *x, const float *w, const float *b, int n,
                        const seqrt_window *g, seqrt_actfn act, float *scratch, long scratch_floats)
{
    /* y: (n, oh, ow, oc); z: the same or NULL; x: (n, h, w, c);
     * w: (oc, c / groups, kh, kw); b: (oc) or NULL; scratch: see above */
    int oc = g->oc, groups = g->groups, cg = g->c / groups, ocg = oc / groups, kk = g->kh * g->kw;
    long K = (long)kk * cg, P = (long)n * out_pixels(g);
    float *pre = z ? z : y;
    if (is_pointwise(g)) {
        seqrt_gemm(0, 1, (int)P, oc, g->c, 1.0f, x, g->c, w, g->c, 0.0f, pre, oc);
    } else if (is_depthwise(g)) {
        float *wd = scratch;   /* (kk, oc) */
        for (int o = 0; o < oc; o++)
            for (int k = 0; k < kk; k++)
                wd[(size_t)k * oc + o] = w[(size_t)o * kk + k];
        depthwise_forward(pre, x, wd, n, g);
    } else {
        float *wp = scratch, *cols = scratch + 2L * oc * K;   /* wp (oc, kk, cg) */
        long R = chunk_rows(g, scratch_floats, K);
        permute_to_taps(wp, w, oc, cg, kk);
        for (long p0 = 0; p0 < P; p0 += R) {
            long np = P - p0 < R ? P - p0 : R;
            for (int gi = 0; gi < groups; gi++) {
                im2col(cols, x, p0, np, g, gi * cg, cg);
                seqrt_gemm(0, 1, (int)np, ocg, (int)K, 1.0f, cols, (int)K, wp + (size_t)gi * ocg * K, (int)K,
                           0.0f, pre + (size_t)p0 * oc + (size_t)gi * ocg, oc);
            }
        }
    }
    for (long i = 0; i < P; i++)
        seqrt_act_row_bias_forward(act, y + (size_t)i * oc, pre + (size_t)i * oc, b, oc);
}

void seqrt_conv_backward(float *dx, float *dw, float *db, float *dy, const float *x, const float *w,
                         const float *z, const float *y, int n, const seqrt_window *g, seqrt_actfn act,
                         float *scratch, long scratch_floats)
{
    /* dx: (n, h, w, c) or NULL; dw: (oc, c / groups, kh, kw); db: (oc) or
     * NULL; dy: (n, oh, ow, oc) in, dz out; x: (n, h, w, c); w: as dw;
     * z: the pre-activation or NULL; y: (n, oh, ow, oc) */
    int oc = g->oc, groups = g->groups, cg = g->c / groups, ocg = oc / groups, kk = g->kh * g->kw;
    long K = (long)kk * cg, P = (long)n * out_pixels(g);
    for (long i = 0; i < P; i++) {
        size_t o = (size_t)i * oc;
        seqrt_act_row_backward(act, dy + o, dy + o, z ? z + o : NULL, y + o, oc);
    }
    const float *dz = dy;
    if (db) {
        for (int j = 0; j < oc; j++)
            db[j] = 0.0f;
        for (long i = 0; i < P; i++) {
            const float *row = dz + (size_t)i * oc;
            for (int j = 0; j < oc; j++)
                db[j] += row[j];
        }
    }
    if (is_pointwise(g)) {
        seqrt_gemm(1, 0, oc, g->c, (int)P, 1.0f, dz, oc, x, g->c, 0.0f, dw, g->c);
        if (dx)
            seqrt_gemm(0, 0, (int)P, g->c, oc, 1.0f, dz, oc, w, g->c, 0.0f, dx, g->c);
        return;
    }
    if (is_depthwise(g)) {
        float *wd = scratch, *dwd = scratch + (size_t)kk * oc;   /* (kk, oc) each */
        for (int o = 0; o < oc; o++)
            for (int k = 0; k < kk; k++)
                wd[(size_t)k * oc + o] = w[(size_t)o * kk + k];
        depthwise_backward(dx, dwd, dz, x, wd, n, g);
        for (int o = 0; o < oc; o++)
            for (int k = 0; k < kk; k++)
                dw[(size_t)o * kk + k] = dwd[(size_t)k * oc + o];
        return;
    }
    float *wp = scratch, *dwp = scratch + (size_t)oc * K, *cols = scratch + 2L * oc * K;
    long R = chunk_rows(g, scratch_floats, K);
    permute_to_taps(wp, w, oc, cg, kk);
    memset(dwp, 0, sizeof(float) * (size_t)oc * K);
    if (dx)
        memset(dx, 0, sizeof(float) * (size_t)n * g->h * g->w * g->c);
    for (long p0 = 0; p0 < P; p0 += R) {
        long np = P - p0 < R ? P - p0 : R;
        for (int gi = 0; gi < groups; gi++) {
            const float *dzg = dz + (size_t)p0 * oc + (size_t)gi * ocg;
            im2col(cols, x, p0, np, g, gi * cg, cg);
            seqrt_gemm(1, 0, ocg, (int)K, (int)np, 1.0f, dzg, oc, cols, (int)K, 1.0f, dwp + (size_t)gi * ocg * K,
                       (int)K);
            if (!dx)
                continue;
            seqrt_gemm(0, 0, (int)np, (int)K, ocg, 1.0f, dzg, oc, wp + (size_t)gi * ocg * K, (int)K, 0.0f, cols,
                       (int)K);
            col2im(dx, cols, p0, np, g, gi * cg, cg);
        }
    }
    permute_from_taps(dw, dwp, oc, cg, kk);
}
