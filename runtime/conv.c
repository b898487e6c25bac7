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
 *   - one input channel per group, several groups (depthwise): direct
 *     loops, vectorized over blocks of output channels, with the weights
 *     transposed to (kh, kw, oc) in the scratch;
 *   - anything else: im2col + GEMM. A chunk of output pixels at a time,
 *     each pixel's receptive field is copied into a row of the scratch in
 *     (ky, kx, c) order, which for channels-last input is a run of
 *     c / groups contiguous floats per tap, and with one group and no
 *     dilation a run of kw c floats per row of the window; the weights are
 *     permuted once per call to the same (oc, kh, kw, c / groups) order, so
 *     that y (pixels, oc) = cols (pixels, K) w'^T is one GEMM per chunk and
 *     group. Backward recomputes the patches chunk by chunk: dw' += dz^T
 *     cols, then cols = dz w' (over the patches, which are no longer
 *     needed) and col2im adds them into dx; dw' is permuted back to
 *     PyTorch's layout at the end.
 *
 * Everything else a chunk needs happens while its rows are in cache:
 * forward adds the bias and applies the fused activation to the chunk's
 * outputs right after its GEMM; backward turns the chunk's dy into dz =
 * act'(z) dy (in place) and adds its column sums into db just before its
 * GEMMs.
 *
 * The scratch is the caller's (the model's one scratch buffer, planned by
 * the compiler; nothing is allocated here): at least 2 oc K + K floats for
 * the GEMM path (K = kh kw c / groups), 2 kh kw oc for the depthwise path;
 * every float beyond the minimum lets a chunk hold one more row of patches
 * (rows per chunk = (scratch - 2 oc K) / K), so the GEMMs get taller.
 *
 * The activation is Dense's (act_inline.h): the pre-activation is kept in
 * z when the caller gives it.
 *
 * Both entry points are dispatched at run time (dispatch.h) and every
 * helper here is SEQRT_INLINE, so that im2col, col2im, the depthwise loops
 * and the bias/activation rows are compiled for each clone's ISA.
 */
#include <string.h>

#include "act_inline.h"
#include "dispatch.h"

/* ---------------------------------------------------------------- helpers */

SEQRT_INLINE long out_pixels(const seqrt_window *g) { return (long)g->oh * g->ow; }

SEQRT_INLINE int is_pointwise(const seqrt_window *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
           g->groups == 1 && g->oh == g->h && g->ow == g->w;
}

SEQRT_INLINE int is_depthwise(const seqrt_window *g)
{
    return g->c / g->groups == 1 && g->groups > 1;
}

/* w (oc, cg, kk) -> wp (oc, kk, cg) */
SEQRT_INLINE void permute_to_taps(float *restrict wp, const float *restrict w, int oc, int cg, int kk)
{
    for (int o = 0; o < oc; o++)
        for (int c = 0; c < cg; c++)
            for (int k = 0; k < kk; k++)
                wp[((size_t)o * kk + k) * cg + c] = w[((size_t)o * cg + c) * kk + k];
}

/* wp (oc, kk, cg) -> w (oc, cg, kk) */
SEQRT_INLINE void permute_from_taps(float *restrict w, const float *restrict wp, int oc, int cg, int kk)
{
    for (int o = 0; o < oc; o++)
        for (int c = 0; c < cg; c++)
            for (int k = 0; k < kk; k++)
                w[((size_t)o * cg + c) * kk + k] = wp[((size_t)o * kk + k) * cg + c];
}

/* The input pixel under tap (ky, kx) of output pixel (oy, ox), or -1 when
 * it falls into the padding. */
SEQRT_INLINE long tap_pixel(const seqrt_window *g, int oy, int ox, int ky, int kx)
{
    int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
        return -1;
    return (long)iy * g->w + ix;
}

SEQRT_INLINE void copy_floats(float *restrict dst, const float *restrict src, long n)
{
    if (n > 32) {
        memcpy(dst, src, sizeof(float) * (size_t)n);
        return;
    }
    for (long i = 0; i < n; i++)
        dst[i] = src[i];
}

/* Walks the output pixels [p0, p0 + np) of a batch in order: sample s,
 * row oy, column ox, without a division per pixel. */
typedef struct {
    long s;
    int oy, ox;
} pixel_walk;

SEQRT_INLINE pixel_walk walk_start(const seqrt_window *g, long p0)
{
    long pix = out_pixels(g), q = p0 % pix;
    pixel_walk w = {p0 / pix, (int)(q / g->ow), (int)(q % g->ow)};
    return w;
}

SEQRT_INLINE void walk_next(const seqrt_window *g, pixel_walk *w)
{
    if (++w->ox == g->ow) {
        w->ox = 0;
        if (++w->oy == g->oh) {
            w->oy = 0;
            w->s++;
        }
    }
}

/* The window row ky of an output pixel as one run of kw cg contiguous
 * floats of x (all of it inside the input, one group, no dilation along
 * w): its first input pixel, or -1. */
SEQRT_INLINE long row_run(const seqrt_window *g, int oy, int ox, int ky)
{
    int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl;
    if (g->groups != 1 || g->dw != 1 || iy < 0 || iy >= g->h || ix < 0 || ix + g->kw > g->w)
        return -1;
    return (long)iy * g->w + ix;
}

/* cols (np, kk cg): the patches of output pixels [p0, p0 + np) of the
 * batch, channels [c0, c0 + cg) of x (n, h, w, c), taps in (ky, kx) order,
 * zeros for the padding. */
SEQRT_INLINE void im2col(float *cols, const float *x, long p0, long np, const seqrt_window *g, int c0, int cg)
{
    long K = (long)g->kh * g->kw * cg, run = (long)g->kw * cg, sample = (long)g->h * g->w * g->c;
    pixel_walk w = walk_start(g, p0);
    for (long r = 0; r < np; r++, walk_next(g, &w)) {
        const float *xs = x + (size_t)w.s * sample + c0;
        float *row = cols + (size_t)r * K;
        for (int ky = 0; ky < g->kh; ky++) {
            float *dst = row + (size_t)ky * run;
            long ip = row_run(g, w.oy, w.ox, ky);
            if (ip >= 0) {
                copy_floats(dst, xs + (size_t)ip * g->c, run);
                continue;
            }
            for (int kx = 0; kx < g->kw; kx++, dst += cg) {
                ip = tap_pixel(g, w.oy, w.ox, ky, kx);
                if (ip < 0)
                    for (int c = 0; c < cg; c++)
                        dst[c] = 0.0f;
                else
                    copy_floats(dst, xs + (size_t)ip * g->c, cg);
            }
        }
    }
}

/* dx (n, h, w, c) += the patches cols (np, kk cg) of output pixels
 * [p0, p0 + np), channels [c0, c0 + cg); the padding's share is dropped. */
SEQRT_INLINE void col2im(float *dx, const float *cols, long p0, long np, const seqrt_window *g, int c0, int cg)
{
    long K = (long)g->kh * g->kw * cg, run = (long)g->kw * cg, sample = (long)g->h * g->w * g->c;
    pixel_walk w = walk_start(g, p0);
    for (long r = 0; r < np; r++, walk_next(g, &w)) {
        float *dxs = dx + (size_t)w.s * sample + c0;
        const float *row = cols + (size_t)r * K;
        for (int ky = 0; ky < g->kh; ky++) {
            const float *src = row + (size_t)ky * run;
            long ip = row_run(g, w.oy, w.ox, ky);
            if (ip >= 0) {
                float *restrict d = dxs + (size_t)ip * g->c;
                for (long i = 0; i < run; i++)
                    d[i] += src[i];
                continue;
            }
            for (int kx = 0; kx < g->kw; kx++, src += cg) {
                ip = tap_pixel(g, w.oy, w.ox, ky, kx);
                if (ip < 0)
                    continue;
                float *restrict d = dxs + (size_t)ip * g->c;
                for (int c = 0; c < cg; c++)
                    d[c] += src[c];
            }
        }
    }
}

/* Rows of patches per chunk that the scratch holds after the two weight
 * copies (at least 1: the minimum scratch). */
SEQRT_INLINE long chunk_rows(const seqrt_window *g, long scratch_floats, long K)
{
    long rows = (scratch_floats - 2L * g->oc * K) / K;
    if (rows < 1)
        abort(); /* less scratch than the documented minimum: a corrupt call */
    return rows;
}

/* ---------------------------------------------------------------- depthwise (one input channel per group) */

/* pre (n, oh, ow, oc) = the depthwise convolution, weights wd (kk, oc):
 * each output pixel accumulates in place, tap by tap, over its channels
 * (output channel c dm + m reads input channel c). */
SEQRT_INLINE void depthwise_forward(float *pre, const float *x, const float *wd, int n, const seqrt_window *g)
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
SEQRT_INLINE void depthwise_backward(float *dx, float *dwd, const float *dz, const float *x, const float *wd, int n,
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
                        float *restrict dxr = dx ? dx + xo : NULL;
                        if (dm == 1) {
                            for (int o = 0; o < oc; o++)
                                dwk[o] += dyr[o] * xr[o];
                            if (dxr)
                                for (int o = 0; o < oc; o++)
                                    dxr[o] += dyr[o] * wk[o];
                            continue;
                        }
                        for (int c = 0; c < g->c; c++)
                            for (int m = 0; m < dm; m++)
                                dwk[c * dm + m] += dyr[c * dm + m] * xr[c];
                        if (dxr)
                            for (int c = 0; c < g->c; c++)
                                for (int m = 0; m < dm; m++)
                                    dxr[c] += dyr[c * dm + m] * wk[c * dm + m];
                    }
            }
}

/* Rows [p0, p0 + np) of a forward: the bias and the activation, while the
 * chunk is in cache. */
SEQRT_INLINE void bias_act_rows(float *y, float *pre, const float *b, long p0, long np, int oc, seqrt_actfn act)
{
    for (long i = p0; i < p0 + np; i++)
        seqrt_act_row_bias_forward(act, y + (size_t)i * oc, pre + (size_t)i * oc, b, oc);
}

/* Rows [p0, p0 + np) of a backward: dz = act'(z) dy in place, and their
 * column sums added into db. */
SEQRT_INLINE void dz_rows(float *dy, float *db, const float *z, const float *y, long p0, long np, int oc, seqrt_actfn act)
{
    for (long i = p0; i < p0 + np; i++) {
        size_t o = (size_t)i * oc;
        seqrt_act_row_backward(act, dy + o, dy + o, z ? z + o : NULL, y + o, oc);
        if (db)
            for (int j = 0; j < oc; j++)
                db[j] += dy[o + (size_t)j];
    }
}

SEQRT_DISPATCH
void seqrt_conv_forward(float *y, float *z, const float *x, const float *w, const float *b, int n,
                        const seqrt_window *g, seqrt_actfn act, float *scratch, long scratch_floats)
{
    /* y: (n, oh, ow, oc); z: the same or NULL; x: (n, h, w, c);
     * w: (oc, c / groups, kh, kw); b: (oc) or NULL; scratch: see above */
    int oc = g->oc, groups = g->groups, cg = g->c / groups, ocg = oc / groups, kk = g->kh * g->kw;
    long K = (long)kk * cg, P = (long)n * out_pixels(g);
    float *pre = z ? z : y;
    if (is_depthwise(g)) {
        float *wd = scratch;   /* (kk, oc) */
        for (int o = 0; o < oc; o++)
            for (int k = 0; k < kk; k++)
                wd[(size_t)k * oc + o] = w[(size_t)o * kk + k];
        depthwise_forward(pre, x, wd, n, g);
        bias_act_rows(y, pre, b, 0, P, oc, act);
        return;
    }
    if (is_pointwise(g)) {   /* the rows of x are the patches */
        long R = 1L << 14;
        for (long p0 = 0; p0 < P; p0 += R) {
            long np = P - p0 < R ? P - p0 : R;
            seqrt_gemm(0, 1, (int)np, oc, g->c, 1.0f, x + (size_t)p0 * g->c, g->c, w, g->c, 0.0f,
                       pre + (size_t)p0 * oc, oc);
            bias_act_rows(y, pre, b, p0, np, oc, act);
        }
        return;
    }
    float *wp = scratch, *cols = scratch + 2L * oc * K;   /* wp (oc, kk, cg) */
    long R = chunk_rows(g, scratch_floats, K);
    permute_to_taps(wp, w, oc, cg, kk);
    for (long p0 = 0; p0 < P; p0 += R) {
        long np = P - p0 < R ? P - p0 : R;
        for (int gi = 0; gi < groups; gi++) {
            im2col(cols, x, p0, np, g, gi * cg, cg);
            seqrt_gemm(0, 1, (int)np, ocg, (int)K, 1.0f, cols, (int)K, wp + (size_t)gi * ocg * K, (int)K, 0.0f,
                       pre + (size_t)p0 * oc + (size_t)gi * ocg, oc);
        }
        bias_act_rows(y, pre, b, p0, np, oc, act);
    }
}

SEQRT_DISPATCH
void seqrt_conv_backward(float *dx, float *dw, float *db, float *dy, const float *x, const float *w,
                         const float *z, const float *y, int n, const seqrt_window *g, seqrt_actfn act,
                         float *scratch, long scratch_floats)
{
    /* dx: (n, h, w, c) or NULL; dw: (oc, c / groups, kh, kw); db: (oc) or
     * NULL; dy: (n, oh, ow, oc) in, dz out; x: (n, h, w, c); w: as dw;
     * z: the pre-activation or NULL; y: (n, oh, ow, oc) */
    int oc = g->oc, groups = g->groups, cg = g->c / groups, ocg = oc / groups, kk = g->kh * g->kw;
    long K = (long)kk * cg, P = (long)n * out_pixels(g);
    if (db)
        for (int j = 0; j < oc; j++)
            db[j] = 0.0f;
    if (is_depthwise(g)) {
        dz_rows(dy, db, z, y, 0, P, oc, act);
        float *wd = scratch, *dwd = scratch + (size_t)kk * oc;   /* (kk, oc) each */
        for (int o = 0; o < oc; o++)
            for (int k = 0; k < kk; k++)
                wd[(size_t)k * oc + o] = w[(size_t)o * kk + k];
        depthwise_backward(dx, dwd, dy, x, wd, n, g);
        for (int o = 0; o < oc; o++)
            for (int k = 0; k < kk; k++)
                dw[(size_t)o * kk + k] = dwd[(size_t)k * oc + o];
        return;
    }
    if (is_pointwise(g)) {
        long R = 1L << 14;
        for (long p0 = 0; p0 < P; p0 += R) {
            long np = P - p0 < R ? P - p0 : R;
            const float *dzc = dy + (size_t)p0 * oc;
            dz_rows(dy, db, z, y, p0, np, oc, act);
            seqrt_gemm(1, 0, oc, g->c, (int)np, 1.0f, dzc, oc, x + (size_t)p0 * g->c, g->c, p0 ? 1.0f : 0.0f, dw,
                       g->c);
            if (dx)
                seqrt_gemm(0, 0, (int)np, g->c, oc, 1.0f, dzc, oc, w, g->c, 0.0f, dx + (size_t)p0 * g->c, g->c);
        }
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
        dz_rows(dy, db, z, y, p0, np, oc, act);
        for (int gi = 0; gi < groups; gi++) {
            const float *dzg = dy + (size_t)p0 * oc + (size_t)gi * ocg;
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
