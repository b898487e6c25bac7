/*
 * bake_plan.c - the planner of the baked build (`seqc --inference --weights
 * ckpt.safetensors model.nn`): the model as a list of stages over one
 * sample, with the trained weights folded in. bake_write.c prints them.
 *
 * The checkpoint is read with the runtime's safetensors reader against the
 * model's own tensor table (tensors.c), so a checkpoint of another model is
 * rejected by name and shape. Each layer kind's bake hook turns its layer
 * into stages (affine, scale, layer normalization, PReLU); the planner adds
 * the stage of a fused normalization and of every activation itself. Then
 * everything foldable is folded, in double precision, before the weights
 * are rounded to float once:
 *
 *   - a scale (BatchNormalization's running statistics, Normalization)
 *     folds into the affine stage before or after it, channel by channel;
 *   - two affine stages with nothing nonlinear between them become one
 *     when that is no larger (out2*in1 <= out2*mid + mid*in1);
 *   - a scale after a convolution folds into its weights and bias, output
 *     channel by output channel (BatchNormalization after Conv2D); a scale
 *     before one folds into it input channel by input channel
 *     (Rescaling, Normalization) when that is exact: when the convolution
 *     has no padding, or the scale has no offset (padding zeros must stay
 *     zeros);
 *   - an elementwise activation after a convolution or pooling stage is
 *     applied by that stage as it writes each pixel, and a ReLU (relu6,
 *     leaky_relu) before a max pooling moves after it, onto fewer elements:
 *     max(relu(x)) = relu(max(x)) exactly, for any monotone piecewise-linear
 *     function;
 *   - Dropout, SpatialDropout, Flatten and Reshape make no stage.
 *
 * A fold applies only where the two stages meet on the same shape (a
 * Flatten between a per-channel scale and a Dense changes what a channel
 * is).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"
#include "bake.h"

/* ---------------------------------------------------------------- the checkpoint */

static int load_weights(Bake *b, const char *path)
{
    b->nrows = ir_tensors(b->m, &b->rows);
    b->offset = arena_alloc(sizeof(size_t) * (size_t)b->nrows);
    seqrt_tensor *t = arena_alloc(sizeof(seqrt_tensor) * (size_t)b->nrows);
    size_t off = 0;
    for (int i = 0; i < b->nrows; i++) {
        const TensorRow *r = &b->rows[i];
        size_t count = 1;
        for (int d = 0; d < r->ndim; d++)
            count *= (size_t)r->shape[d];
        b->offset[i] = off;
        t[i].name = r->name;
        t[i].kind = r->kind;
        t[i].dtype = r->dtype;
        t[i].offset = off;
        t[i].ndim = r->ndim;
        for (int d = 0; d < r->ndim; d++)
            t[i].shape[d] = r->shape[d];
        off += (count * (r->dtype == SEQRT_I64 ? 8 : 4) + 7) / 8 * 8;
    }
    b->state = calloc(1, off ? off : 1);
    if (!b->state) {
        diag_fatal("out of memory loading '%s'", path);
        return -1;
    }
    if (seqrt_st_load(path, t, b->nrows, b->state) < 0) {
        diag_fatal("%s", seqrt_error());
        return -1;
    }
    return 0;
}

double *bake_alloc(long n)
{
    return arena_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
}

double *bake_param(Bake *b, const Layer *l, const char *role, long count, double def)
{
    double *v = bake_alloc(count);
    const Param *p = ir_param(l, role);
    for (int i = 0; p && i < b->nrows; i++)
        if (b->rows[i].param == p && (b->rows[i].kind == SEQRT_T_PARAM || b->rows[i].kind == SEQRT_T_BUFFER)) {
            const float *f = (const float *)(b->state + b->offset[i]);
            for (long j = 0; j < count; j++)
                v[j] = f[j];
            return v;
        }
    for (long j = 0; j < count; j++)
        v[j] = def;
    return v;
}

void bake_norm_scale(Bake *b, const Layer *bn, double epsilon, double **s, double **t)
{
    int c = shape_last(&bn->out);
    double *gamma = bake_param(b, bn, "gamma", c, 1.0), *beta = bake_param(b, bn, "beta", c, 0.0);
    double *mean = bake_param(b, bn, "running_mean", c, 0.0), *var = bake_param(b, bn, "running_var", c, 1.0);
    *s = bake_alloc(c);
    *t = bake_alloc(c);
    for (int j = 0; j < c; j++) {
        /* the runtime computes 1/sqrt(var + eps) in float */
        double inv = 1.0 / sqrt((double)((float)var[j] + (float)epsilon));
        (*s)[j] = gamma[j] * inv;
        (*t)[j] = beta[j] - mean[j] * gamma[j] * inv;
    }
}

/* ---------------------------------------------------------------- stages */

Stage *bake_stage(Bake *b, StageKind kind, const Layer *l, const char *what)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        Stage *ns = arena_alloc(sizeof(Stage) * (size_t)b->cap);
        if (b->n)
            memcpy(ns, b->st, sizeof(Stage) * (size_t)b->n);
        b->st = ns;
    }
    Stage *st = &b->st[b->n++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->in = l->in;
    st->out = l->out;
    st->what = what;
    return st;
}

static void drop(Bake *b, int i)
{
    memmove(&b->st[i], &b->st[i + 1], sizeof(Stage) * (size_t)(b->n - i - 1));
    b->n--;
}

static void build_stages(Bake *b)
{
    const Model *m = b->m;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        l->kind->bake(b, l);
        if (l->norm)
            l->norm->kind->bake(b, l->norm);
        if (!act_is_linear(l->act)) {
            Stage *st = bake_stage(b, ST_ACT, l, act_str(l->act));
            st->in = st->out = l->out;
            st->act = l->act;
            if (has_prop(l, LK_ACTIVATION))
                st->what = arena_printf("%d: %s", l->index, act_str(l->act));
        }
    }
}

static const char *joined(const char *a, const char *b)
{
    return arena_printf("%s, %s", a, b);
}

/* A scale that is the same for every channel (Rescaling): it folds
 * across a view too. */
static int uniform(const Stage *st)
{
    for (int c = 1; c < shape_last(&st->out); c++)
        if (st->s[c] != st->s[0] || st->t[c] != st->t[0])
            return 0;
    return 1;
}

/* Taps of a convolution stage's window. */
static long conv_taps(const Stage *st)
{
    return (long)st->win.k[0] * (st->win.rank == 2 ? st->win.k[1] : 1);
}

/* A scale folds into the convolution after it exactly when no tap ever
 * reads padding, or the scale has no offset. */
static int scale_folds_into_conv(const Stage *scale, const Stage *conv)
{
    int padded = 0, offset = 0;
    for (int a = 0; a < conv->win.rank; a++)
        padded |= conv->win.before[a] || conv->win.after[a];
    for (int c = 0; c < shape_last(&scale->out); c++)
        offset |= scale->t[c] != 0.0;
    return !padded || !offset;
}

/* max(f(x)) == f(max(x)) exactly: monotone and piecewise linear. */
static int commutes_with_max(Act a)
{
    return a.kind == SEQRT_ACT_RELU || a.kind == SEQRT_ACT_RELU6 || a.kind == SEQRT_ACT_LEAKY_RELU;
}

/* Applies one folding rule somewhere; returns 1 if it did. */
static int fold_once(Bake *bk)
{
    for (int i = 0; i + 1 < bk->n; i++) {
        Stage *a = &bk->st[i], *b = &bk->st[i + 1];
        /* a view between them changes what a channel is: only a scale of
         * every channel alike folds across one */
        int same = shape_eq(&a->out, &b->in);
        if (!same && !(a->kind == ST_SCALE && uniform(a) && (b->kind == ST_AFFINE || b->kind == ST_CONV)))
            continue;
        int ain = shape_last(&a->in), aout = shape_last(&a->out), bout = shape_last(&b->out);
        if (a->kind == ST_AFFINE && b->kind == ST_SCALE) {          /* scale rows */
            for (int o = 0; o < aout; o++) {
                for (int k = 0; k < ain; k++)
                    a->w[(long)o * ain + k] *= b->s[o];
                a->b[o] = a->b[o] * b->s[o] + b->t[o];
            }
            a->what = joined(a->what, b->what);
            drop(bk, i + 1);
            return 1;
        }
        if (a->kind == ST_SCALE && b->kind == ST_AFFINE) {          /* scale columns */
            int bin = shape_last(&b->in);
            for (int o = 0; o < bout; o++) {
                double acc = b->b[o];
                for (int k = 0; k < bin; k++) {
                    acc += b->w[(long)o * bin + k] * a->t[k % aout];
                    b->w[(long)o * bin + k] *= a->s[k % aout];
                }
                b->b[o] = acc;
            }
            b->what = joined(a->what, b->what);
            if (same)
                b->in = a->in;
            drop(bk, i);
            return 1;
        }
        if (a->kind == ST_SCALE && b->kind == ST_SCALE) {
            for (int j = 0; j < aout; j++) {
                a->t[j] = a->t[j] * b->s[j] + b->t[j];
                a->s[j] *= b->s[j];
            }
            a->what = joined(a->what, b->what);
            drop(bk, i + 1);
            return 1;
        }
        if (a->kind == ST_CONV && b->kind == ST_SCALE && act_is_linear(a->act)) {   /* scale output channels */
            long per = (long)(shape_last(&a->in) / a->groups) * conv_taps(a);
            for (int o = 0; o < aout; o++) {
                for (long k = 0; k < per; k++)
                    a->w[o * per + k] *= b->s[o];
                a->b[o] = a->b[o] * b->s[o] + b->t[o];
            }
            a->what = joined(a->what, b->what);
            drop(bk, i + 1);
            return 1;
        }
        if (a->kind == ST_SCALE && b->kind == ST_CONV && scale_folds_into_conv(a, b)) {   /* input channels */
            int cg = shape_last(&b->in) / b->groups, ocg = bout / b->groups;
            long kk = conv_taps(b);
            for (int o = 0; o < bout; o++) {
                double acc = b->b[o];
                for (int c = 0; c < cg; c++) {
                    int ch = (o / ocg * cg + c) % aout;
                    for (long k = 0; k < kk; k++) {
                        double *wv = &b->w[((long)o * cg + c) * kk + k];
                        acc += *wv * a->t[ch];
                        *wv *= a->s[ch];
                    }
                }
                b->b[o] = acc;
            }
            b->what = joined(a->what, b->what);
            if (same)
                b->in = a->in;
            drop(bk, i);
            return 1;
        }
        if ((a->kind == ST_CONV || a->kind == ST_POOL) && act_is_linear(a->act) && b->kind == ST_ACT &&
            !act_rowwise(b->act)) {   /* the stage activates as it writes */
            a->act = b->act;
            a->what = joined(a->what, b->what);
            drop(bk, i + 1);
            return 1;
        }
        if (a->kind == ST_ACT && commutes_with_max(a->act) && b->kind == ST_POOL && b->pool_max &&
            act_is_linear(b->act)) {   /* pool, then activate fewer elements */
            b->act = a->act;
            b->what = joined(b->what, a->what);
            drop(bk, i);
            return 1;
        }
        if (a->kind == ST_AFFINE && b->kind == ST_AFFINE &&
            (long)bout * ain <= (long)bout * aout + (long)aout * ain) {
            double *w = bake_alloc((long)bout * ain), *bias = bake_alloc(bout);
            for (int o = 0; o < bout; o++) {
                double acc = b->b[o];
                for (int k = 0; k < aout; k++) {
                    double bw = b->w[(long)o * aout + k];
                    acc += bw * a->b[k];
                    for (int j = 0; j < ain; j++)
                        w[(long)o * ain + j] += bw * a->w[(long)k * ain + j];
                }
                bias[o] = acc;
            }
            b->w = w;
            b->b = bias;
            b->in = a->in;
            b->what = joined(a->what, b->what);
            drop(bk, i);
            return 1;
        }
    }
    return 0;
}

int bake_plan(Bake *b, const Model *m, const char *weights)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    if (load_weights(b, weights) < 0)
        return -1;
    build_stages(b);
    while (fold_once(b))
        ;
    free(b->state);
    b->state = NULL;
    return 0;
}
