/*
 * test_gradcheck_conv.c - the kernels of the convolutional layers
 * (conv.c, pool.c, spatial.c, spatial dropout) against central finite
 * differences of their forward (gradcheck_util.h; the method and tolerance
 * are those of test_gradcheck_kernels.c), and their forward values against
 * naive double-precision loops written here from the definitions: a
 * convolution as the sum over in-range taps of x[s, oy sh - pt + ky dh,
 * ox sw - pl + kx dw, c] w[o, c, ky, kx] with zero padding, TensorFlow's
 * "same" rule for the padding (total = max((out - 1) s + (k - 1) d + 1 -
 * in, 0), the smaller half before), pooling over the real elements of each
 * window.
 *
 * Cases (one line each in main): strides 1 to 3, "valid" and "same",
 * dilation 2, odd and even kernels, rectangular kernels, 1-D (h = 1),
 * groups 2, depthwise with depth multipliers 1 and 2, 1x1 pointwise, a
 * one-channel first layer, batch 1 and 4, with and without bias, linear,
 * relu and tanh activations; each convolution with the smallest scratch
 * its kernel accepts (patches one row at a time, so every chunk boundary is
 * crossed) and with a large one (all rows at once), which must agree.
 * Max pooling draws distinct values at least 3 h apart, so no perturbation
 * changes which element of a window is the largest (a kink).
 *
 * Forward values: |kernel - naive| <= 1e-5 max(1, |naive|); these are
 * sums of at most 72 products of O(1) floats, whose float32 rounding is
 * below 1e-5. On failure the worst element is printed.
 */
#include <stdlib.h>

#include "gradcheck_util.h"

/* ---------------------------------------------------------------- geometry */

/* TensorFlow's "same" padding: (before, total) for one axis. */
static void same_pad(int in, int k, int s, int d, int *out, int *before)
{
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + (k - 1) * d + 1 - in;
    if (total < 0)
        total = 0;
    *before = total / 2;
}

static seqrt_window window(int h, int w, int c, int oc, int kh, int kw, int sh, int sw, int dh, int dw, int same,
                           int groups)
{
    seqrt_window g = {h, w, c, 0, 0, oc, kh, kw, sh, sw, dh, dw, 0, 0, groups};
    if (same) {
        same_pad(h, kh, sh, dh, &g.oh, &g.pt);
        same_pad(w, kw, sw, dw, &g.ow, &g.pl);
    } else {
        g.oh = (h - (kh - 1) * dh - 1) / sh + 1;
        g.ow = (w - (kw - 1) * dw - 1) / sw + 1;
    }
    return g;
}

static const char *geom_label(const seqrt_window *g, char *buf, size_t cap)
{
    snprintf(buf, cap, "%dx%dx%d->%dx%dx%d k%dx%d s%dx%d d%dx%d p%d,%d g%d", g->h, g->w, g->c, g->oh, g->ow, g->oc,
             g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, g->pt, g->pl, g->groups);
    return buf;
}

/* The worst |a - ref| / max(1, |ref|); prints and counts a failure above
 * tol. */
static void check_values(const char *what, const float *a, const double *ref, long count, double tol)
{
    double worst = 0.0;
    long wi = 0;
    for (long i = 0; i < count; i++) {
        double e = fabs(a[i] - ref[i]) / fmax(1.0, fabs(ref[i]));
        if (!(e <= worst)) {
            worst = e;
            wi = i;
        }
    }
    checks++;
    if (!(worst <= tol)) {
        printf("FAIL %s: worst element [%ld]: kernel %.9g, reference %.9g (error %.3g > %.3g)\n", what, wi, a[wi],
               ref[wi], worst, tol);
        failures++;
    }
}

/* ---------------------------------------------------------------- convolution */

typedef struct {
    seqrt_window g;
    int n, bias;
    seqrt_actfn act;
    float *x, *w, *b, *z, *y, *r, *scratch;
    long scratch_floats;
} conv_ctx;

static long conv_min_scratch(const seqrt_window *g)
{
    long kk = (long)g->kh * g->kw, cg = g->c / g->groups, K = kk * cg;
    if (cg == 1 && g->groups > 1)
        return 2 * kk * g->oc;
    return 2L * g->oc * K + K;
}

static long xsize(const conv_ctx *t) { return (long)t->n * t->g.h * t->g.w * t->g.c; }
static long ysize(const conv_ctx *t) { return (long)t->n * t->g.oh * t->g.ow * t->g.oc; }
static long wsize(const conv_ctx *t) { return (long)t->g.oc * (t->g.c / t->g.groups) * t->g.kh * t->g.kw; }

static double conv_obj(void *p)
{
    conv_ctx *t = p;
    seqrt_conv_forward(t->y, t->z, t->x, t->w, t->bias ? t->b : NULL, t->n, &t->g, t->act, t->scratch,
                       t->scratch_floats);
    return dot(t->y, t->r, ysize(t));
}

/* The convolution in double, before the activation. */
static void conv_naive(double *out, const conv_ctx *t)
{
    const seqrt_window *g = &t->g;
    int cg = g->c / g->groups, ocg = g->oc / g->groups;
    for (int s = 0; s < t->n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++)
                for (int o = 0; o < g->oc; o++) {
                    double acc = t->bias ? t->b[o] : 0.0;
                    int grp = o / ocg;
                    for (int c = 0; c < cg; c++)
                        for (int ky = 0; ky < g->kh; ky++)
                            for (int kx = 0; kx < g->kw; kx++) {
                                int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
                                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                                    continue;
                                double xv = t->x[(((long)s * g->h + iy) * g->w + ix) * g->c + grp * cg + c];
                                acc += xv * t->w[(((long)o * cg + c) * g->kh + ky) * g->kw + kx];
                            }
                    out[(((long)s * g->oh + oy) * g->ow + ox) * g->oc + o] = acc;
                }
}

static void test_conv(seqrt_window g, int n, int bias, seqrt_actfn act)
{
    conv_ctx t;
    seqrt_rng r;
    memset(&t, 0, sizeof t);
    t.g = g;
    t.n = n;
    t.bias = bias;
    t.act = act;
    long nx = xsize(&t), ny = ysize(&t), nw = wsize(&t), big = 2L * g.oc * g.kh * g.kw * g.c + (long)n * g.oh *
                                                                                                g.ow * g.kh * g.kw * g.c;
    char what[256], w2[300], gl[128], al[64];
    snprintf(what, sizeof what, "conv %s n=%d bias=%d %s", geom_label(&g, gl, sizeof gl), n, bias,
             act_label(act, al, sizeof al));
    t.x = malloc(sizeof(float) * nx);
    t.w = malloc(sizeof(float) * nw);
    t.b = malloc(sizeof(float) * g.oc);
    t.z = malloc(sizeof(float) * ny);
    t.y = malloc(sizeof(float) * ny);
    t.r = malloc(sizeof(float) * ny);
    t.scratch = malloc(sizeof(float) * big);
    float *dx = malloc(sizeof(float) * nx), *dw = malloc(sizeof(float) * nw), *db = malloc(sizeof(float) * g.oc);
    float *num = malloc(sizeof(float) * (nx > nw ? nx : nw)), *dy = malloc(sizeof(float) * ny);
    float *y2 = malloc(sizeof(float) * ny), *dx2 = malloc(sizeof(float) * nx), *dw2 = malloc(sizeof(float) * nw);
    double *ref = malloc(sizeof(double) * ny);
    t.scratch_floats = conv_min_scratch(&g);
    uint64_t seed = seed_of(what);
    do {
        seqrt_rng_seed(&r, seed = next_seed(seed));
        fill(t.x, nx, &r, -1, 1);
        fill(t.w, nw, &r, -1, 1);
        fill(t.b, g.oc, &r, -0.5f, 0.5f);
        conv_obj(&t);
    } while (near_kink(act, t.z, ny));
    fill(t.r, ny, &r, -1, 1);
    conv_obj(&t);

    /* forward values: the pre-activation against the naive loops */
    conv_naive(ref, &t);
    snprintf(w2, sizeof w2, "%s forward", what);
    check_values(w2, t.z, ref, ny, 1e-5);

    memcpy(dy, t.r, sizeof(float) * ny);
    seqrt_conv_backward(dx, dw, bias ? db : NULL, dy, t.x, t.w, t.z, t.y, n, &g, act, t.scratch, t.scratch_floats);
    numgrad(num, t.x, nx, conv_obj, &t);
    snprintf(w2, sizeof w2, "%s dx", what);
    compare(w2, num, dx, nx);
    numgrad(num, t.w, nw, conv_obj, &t);
    snprintf(w2, sizeof w2, "%s dw", what);
    compare(w2, num, dw, nw);
    if (bias) {
        numgrad(num, t.b, g.oc, conv_obj, &t);
        snprintf(w2, sizeof w2, "%s db", what);
        compare(w2, num, db, g.oc);
    }

    /* dx == NULL: the same dw bits */
    memcpy(dy, t.r, sizeof(float) * ny);
    seqrt_conv_backward(NULL, dw2, NULL, dy, t.x, t.w, t.z, t.y, n, &g, act, t.scratch, t.scratch_floats);
    checks++;
    if (memcmp(dw2, dw, sizeof(float) * nw)) {
        printf("FAIL %s: dx == NULL gives another dw\n", what);
        failures++;
    }
    /* all rows in one chunk: the same values up to the GEMMs' rounding */
    long small = t.scratch_floats;
    t.scratch_floats = big;
    conv_obj(&t);
    memcpy(y2, t.y, sizeof(float) * ny);
    memcpy(dy, t.r, sizeof(float) * ny);
    seqrt_conv_backward(dx2, dw2, NULL, dy, t.x, t.w, t.z, t.y, n, &g, act, t.scratch, t.scratch_floats);
    double e = 0.0;
    t.scratch_floats = small;
    conv_obj(&t);
    for (long i = 0; i < ny; i++)
        e = fmax(e, fabs((double)y2[i] - t.y[i]) / fmax(1.0, fabs(t.y[i])));
    for (long i = 0; i < nx; i++)
        e = fmax(e, fabs((double)dx2[i] - dx[i]) / fmax(1.0, fabs(dx[i])));
    for (long i = 0; i < nw; i++)
        e = fmax(e, fabs((double)dw2[i] - dw[i]) / fmax(1.0, fabs(dw[i])));
    checks++;
    if (!(e <= 1e-5)) {
        printf("FAIL %s: one chunk and one row per chunk differ by %.3g\n", what, e);
        failures++;
    }
    /* z == NULL for the activations whose derivative reads only y */
    if (act.kind == SEQRT_ACT_LINEAR || (act.kind == SEQRT_ACT_RELU &&
                                         !memcmp(act.p, seqrt_act_default(SEQRT_ACT_RELU).p, sizeof act.p))) {
        seqrt_conv_forward(y2, NULL, t.x, t.w, bias ? t.b : NULL, n, &g, act, t.scratch, t.scratch_floats);
        memcpy(dy, t.r, sizeof(float) * ny);
        seqrt_conv_backward(dx2, dw2, NULL, dy, t.x, t.w, NULL, y2, n, &g, act, t.scratch, t.scratch_floats);
        checks++;
        if (memcmp(y2, t.y, sizeof(float) * ny) || memcmp(dx2, dx, sizeof(float) * nx) ||
            memcmp(dw2, dw, sizeof(float) * nw)) {
            printf("FAIL %s: without z the results differ\n", what);
            failures++;
        }
    }
    free(t.x), free(t.w), free(t.b), free(t.z), free(t.y), free(t.r), free(t.scratch);
    free(dx), free(dw), free(db), free(num), free(dy), free(y2), free(dx2), free(dw2), free(ref);
}

/* ---------------------------------------------------------------- pooling */

typedef struct {
    seqrt_window g;
    int n, max;
    float *x, *y, *r;
} pool_ctx;

static double pool_obj(void *p)
{
    pool_ctx *t = p;
    if (t->max)
        seqrt_maxpool_forward(t->y, t->x, t->n, &t->g);
    else
        seqrt_avgpool_forward(t->y, t->x, t->n, &t->g);
    return dot(t->y, t->r, (long)t->n * t->g.oh * t->g.ow * t->g.c);
}

static void pool_naive(double *out, const pool_ctx *t)
{
    const seqrt_window *g = &t->g;
    for (int s = 0; s < t->n; s++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++)
                for (int c = 0; c < g->c; c++) {
                    double acc = t->max ? -INFINITY : 0.0;
                    int count = 0;
                    for (int ky = 0; ky < g->kh; ky++)
                        for (int kx = 0; kx < g->kw; kx++) {
                            int iy = oy * g->sh - g->pt + ky, ix = ox * g->sw - g->pl + kx;
                            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                                continue;
                            double v = t->x[(((long)s * g->h + iy) * g->w + ix) * g->c + c];
                            acc = t->max ? fmax(acc, v) : acc + v;
                            count++;
                        }
                    out[(((long)s * g->oh + oy) * g->ow + ox) * g->c + c] = t->max ? acc : acc / count;
                }
}

static void test_pool(int max, seqrt_window g, int n)
{
    pool_ctx t = {g, n, max, NULL, NULL, NULL};
    seqrt_rng r;
    long nx = (long)n * g.h * g.w * g.c, ny = (long)n * g.oh * g.ow * g.c;
    char what[200], w2[260], gl[128];
    snprintf(what, sizeof what, "%spool %s n=%d", max ? "max" : "avg", geom_label(&g, gl, sizeof gl), n);
    t.x = malloc(sizeof(float) * nx);
    t.y = malloc(sizeof(float) * ny);
    t.r = malloc(sizeof(float) * ny);
    float *dx = malloc(sizeof(float) * nx), *num = malloc(sizeof(float) * nx);
    double *ref = malloc(sizeof(double) * ny);
    seqrt_rng_seed(&r, seed_of(what));
    /* distinct values 0.037 apart (> 3 h), in random order */
    for (long i = 0; i < nx; i++)
        t.x[i] = (float)(0.037 * (double)(i - nx / 2));
    for (long i = nx - 1; i > 0; i--) {
        long j = (long)seqrt_rng_below(&r, (uint32_t)(i + 1));
        float v = t.x[i];
        t.x[i] = t.x[j];
        t.x[j] = v;
    }
    fill(t.r, ny, &r, -1, 1);
    pool_obj(&t);
    pool_naive(ref, &t);
    snprintf(w2, sizeof w2, "%s forward", what);
    check_values(w2, t.y, ref, ny, 1e-6);
    if (max)
        seqrt_maxpool_backward(dx, t.r, t.x, t.y, n, &g);
    else
        seqrt_avgpool_backward(dx, t.r, n, &g);
    numgrad(num, t.x, nx, pool_obj, &t);
    snprintf(w2, sizeof w2, "%s dx", what);
    compare(w2, num, dx, nx);
    free(t.x), free(t.y), free(t.r), free(dx), free(num), free(ref);
}

static seqrt_window pool_window(int h, int w, int c, int kh, int kw, int sh, int sw, int same)
{
    return window(h, w, c, c, kh, kw, sh, sw, 1, 1, same, 1);
}

/* ---------------------------------------------------------------- shift, upsample, scale, spatial dropout */

typedef struct {
    int kind;   /* 0 shift, 1 upsample, 2 scale, 3 spatial dropout */
    int n, h, w, c, oh, ow, a, b;   /* shift: top, left; upsample: sh, sw */
    float scale, offset, rate;
    float *x, *y, *r, *mask;
} move_ctx;

static long move_out(const move_ctx *t)
{
    return (long)t->n * t->oh * t->ow * t->c;
}

static double move_obj(void *p)
{
    move_ctx *t = p;
    seqrt_rng g;
    switch (t->kind) {
    case 0:
        seqrt_shift_forward(t->y, t->x, t->n, t->h, t->w, t->c, t->oh, t->ow, t->a, t->b);
        break;
    case 1:
        seqrt_upsample_forward(t->y, t->x, t->n, t->h, t->w, t->c, t->a, t->b);
        break;
    case 2:
        seqrt_scale_forward(t->y, t->x, move_out(t), t->scale, t->offset);
        break;
    default:
        seqrt_rng_seed(&g, 77); /* the same mask every call */
        seqrt_spatial_dropout_forward(t->y, t->mask, t->x, t->n, (long)t->h * t->w, t->c, t->rate, &g);
        break;
    }
    return dot(t->y, t->r, move_out(t));
}

static void test_move(move_ctx t, const char *what)
{
    seqrt_rng r;
    long nx = (long)t.n * t.h * t.w * t.c, ny = move_out(&t);
    t.x = malloc(sizeof(float) * nx);
    t.y = malloc(sizeof(float) * ny);
    t.r = malloc(sizeof(float) * ny);
    t.mask = malloc(sizeof(float) * (size_t)t.n * t.c);
    float *dx = malloc(sizeof(float) * nx), *num = malloc(sizeof(float) * nx);
    double *ref = malloc(sizeof(double) * ny);
    seqrt_rng_seed(&r, seed_of(what));
    fill(t.x, nx, &r, -1, 1);
    fill(t.r, ny, &r, -1, 1);
    move_obj(&t);
    /* forward values from the definitions */
    for (int s = 0; s < t.n; s++)
        for (int oy = 0; oy < t.oh; oy++)
            for (int ox = 0; ox < t.ow; ox++)
                for (int c = 0; c < t.c; c++) {
                    long o = (((long)s * t.oh + oy) * t.ow + ox) * t.c + c;
                    int iy = oy, ix = ox;
                    double v;
                    if (t.kind == 0) {
                        iy = oy - t.a, ix = ox - t.b;
                        v = iy < 0 || iy >= t.h || ix < 0 || ix >= t.w
                                ? 0.0 : t.x[(((long)s * t.h + iy) * t.w + ix) * t.c + c];
                    } else if (t.kind == 1) {
                        v = t.x[(((long)s * t.h + oy / t.a) * t.w + ox / t.b) * t.c + c];
                    } else if (t.kind == 2) {
                        v = (double)t.x[o] * t.scale + t.offset;
                    } else {
                        v = (double)t.x[o] * t.mask[s * t.c + c];
                    }
                    ref[o] = v;
                }
    char w2[200];
    snprintf(w2, sizeof w2, "%s forward", what);
    check_values(w2, t.y, ref, ny, 1e-6);
    switch (t.kind) {
    case 0:
        seqrt_shift_backward(dx, t.r, t.n, t.h, t.w, t.c, t.oh, t.ow, t.a, t.b);
        break;
    case 1:
        seqrt_upsample_backward(dx, t.r, t.n, t.h, t.w, t.c, t.a, t.b);
        break;
    case 2:
        seqrt_scale_backward(dx, t.r, ny, t.scale);
        break;
    default:
        seqrt_spatial_dropout_backward(dx, t.r, t.mask, t.n, (long)t.h * t.w, t.c);
        break;
    }
    numgrad(num, t.x, nx, move_obj, &t);
    snprintf(w2, sizeof w2, "%s dx", what);
    compare(w2, num, dx, nx);
    if (t.kind == 3) {
        /* whole channels of a sample are dropped or kept, and both happen */
        int dropped = 0, kept = 0, bad = 0;
        for (int k = 0; k < t.n * t.c; k++) {
            if (t.mask[k] == 0.0f)
                dropped++;
            else if (t.mask[k] == 1.0f / (1.0f - t.rate))
                kept++;
            else
                bad++;
        }
        checks++;
        if (bad || !dropped || !kept) {
            printf("FAIL %s: mask with %d bad values, %d dropped, %d kept channels\n", what, bad, dropped, kept);
            failures++;
        }
    }
    free(t.x), free(t.y), free(t.r), free(t.mask), free(dx), free(num), free(ref);
}

static void test_shift(int n, int h, int w, int c, int top, int bottom, int left, int right)
{
    move_ctx t = {0, n, h, w, c, h + top + bottom, w + left + right, top, left, 0, 0, 0, 0, 0, 0, 0};
    char what[128];
    snprintf(what, sizeof what, "shift %dx%dx%d by (%d,%d),(%d,%d) n=%d", h, w, c, top, bottom, left, right, n);
    test_move(t, what);
}

static void test_upsample(int n, int h, int w, int c, int sh, int sw)
{
    move_ctx t = {1, n, h, w, c, h * sh, w * sw, sh, sw, 0, 0, 0, 0, 0, 0, 0};
    char what[128];
    snprintf(what, sizeof what, "upsample %dx%dx%d by %dx%d n=%d", h, w, c, sh, sw, n);
    test_move(t, what);
}

static void test_scale(float scale, float offset)
{
    move_ctx t = {2, 3, 2, 3, 2, 2, 3, 0, 0, scale, offset, 0, 0, 0, 0, 0};
    char what[128];
    snprintf(what, sizeof what, "scale %g offset %g", scale, offset);
    test_move(t, what);
}

static void test_spatial_dropout(int n, int h, int w, int c, float rate)
{
    move_ctx t = {3, n, h, w, c, h, w, 0, 0, 0, 0, rate, 0, 0, 0, 0};
    char what[128];
    snprintf(what, sizeof what, "spatial dropout %dx%dx%d rate %g n=%d", h, w, c, rate, n);
    test_move(t, what);
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    seqrt_actfn lin = seqrt_act_default(SEQRT_ACT_LINEAR), relu = seqrt_act_default(SEQRT_ACT_RELU),
                tanh_ = seqrt_act_default(SEQRT_ACT_TANH);
    /*        window(h, w, c, oc, kh, kw, sh, sw, dh, dw, same, groups), n, bias, act */
    test_conv(window(5, 5, 2, 3, 3, 3, 1, 1, 1, 1, 0, 1), 1, 1, lin);
    test_conv(window(5, 5, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1), 4, 1, relu);
    test_conv(window(6, 6, 3, 4, 2, 2, 2, 2, 1, 1, 1, 1), 2, 1, tanh_);     /* even kernel, stride 2, same */
    test_conv(window(7, 6, 2, 3, 3, 2, 3, 2, 1, 1, 1, 1), 1, 0, lin);       /* stride 3, rectangular */
    test_conv(window(7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 0, 1), 4, 1, lin);       /* stride 3 valid */
    test_conv(window(7, 7, 2, 3, 3, 3, 1, 1, 2, 2, 0, 1), 2, 1, tanh_);     /* dilation 2 valid */
    test_conv(window(6, 5, 2, 3, 2, 3, 1, 1, 2, 2, 1, 1), 1, 1, lin);       /* dilation 2 same, even */
    test_conv(window(6, 6, 4, 6, 3, 3, 1, 1, 1, 1, 1, 2), 2, 1, lin);       /* groups 2 */
    test_conv(window(6, 6, 4, 4, 3, 3, 2, 2, 1, 1, 1, 4), 3, 1, relu);      /* depthwise, stride 2 */
    test_conv(window(5, 5, 3, 6, 3, 3, 1, 1, 1, 1, 0, 3), 2, 0, lin);       /* depthwise, multiplier 2 */
    test_conv(window(5, 5, 1, 4, 3, 3, 1, 1, 1, 1, 0, 1), 4, 1, relu);      /* one input channel */
    test_conv(window(4, 4, 3, 5, 1, 1, 1, 1, 1, 1, 0, 1), 4, 1, lin);       /* pointwise */
    test_conv(window(4, 4, 3, 5, 1, 1, 2, 2, 1, 1, 0, 1), 2, 1, lin);       /* 1x1 with a stride */
    test_conv(window(1, 9, 2, 3, 1, 3, 1, 1, 1, 1, 0, 1), 1, 1, lin);       /* 1-D */
    test_conv(window(1, 9, 2, 3, 1, 4, 1, 2, 1, 1, 1, 1), 4, 1, tanh_);     /* 1-D, even, stride 2, same */
    test_conv(window(1, 10, 3, 3, 1, 3, 1, 1, 1, 3, 1, 1), 2, 0, lin);      /* 1-D dilation 3 same */
    test_conv(window(1, 8, 4, 4, 1, 3, 1, 1, 1, 1, 1, 4), 2, 1, lin);       /* 1-D depthwise */
    test_conv(window(3, 3, 2, 2, 3, 3, 1, 1, 1, 1, 0, 1), 4, 1, lin);       /* kernel = input: 1x1 out */

    /*        pool_window(h, w, c, kh, kw, sh, sw, same), n */
    for (int max = 0; max < 2; max++) {
        test_pool(max, pool_window(4, 4, 3, 2, 2, 2, 2, 0), 1);
        test_pool(max, pool_window(5, 5, 2, 2, 2, 2, 2, 1), 4);          /* same: a padded last window */
        test_pool(max, pool_window(5, 6, 2, 3, 3, 2, 2, 1), 2);          /* odd window, stride 2, same */
        test_pool(max, pool_window(6, 6, 2, 3, 3, 1, 1, 0), 1);          /* overlapping */
        test_pool(max, pool_window(5, 5, 2, 3, 3, 1, 1, 1), 2);          /* same, padding on both sides */
        test_pool(max, pool_window(7, 7, 2, 2, 3, 3, 2, 0), 2);          /* stride 3, rectangular */
        test_pool(max, pool_window(1, 7, 3, 1, 2, 1, 2, 1), 3);          /* 1-D same */
        test_pool(max, pool_window(4, 3, 2, 4, 3, 1, 1, 0), 4);          /* global */
    }

    test_shift(2, 3, 3, 2, 1, 1, 1, 1);
    test_shift(1, 3, 4, 2, 0, 2, 1, 0);
    test_shift(3, 5, 5, 2, -1, -2, 0, -1);   /* cropping */
    test_shift(1, 1, 6, 3, 0, 0, 2, -1);     /* 1-D */
    test_upsample(2, 2, 3, 2, 2, 2);
    test_upsample(1, 1, 4, 3, 1, 3);
    test_scale(1.0f / 255.0f, 0.0f);
    test_scale(-2.0f, 0.5f);
    test_spatial_dropout(4, 2, 3, 5, 0.4f);
    test_spatial_dropout(3, 1, 4, 6, 0.5f);

    printf("test_gradcheck_conv (%s): %d checks, %d failures\n", seqrt_gemm_backend(), checks, failures);
    return failures ? 1 : 0;
}
