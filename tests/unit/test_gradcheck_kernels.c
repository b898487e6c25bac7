/*
 * test_gradcheck_kernels.c - every backward kernel against central finite
 * differences of its forward.
 *
 * Objective: L = sum(y * r) with a fixed random r (so dL/dy = r), or the
 * loss itself for the losses; L is accumulated in double from the float
 * outputs. Each input element p is perturbed to fl(p + h) and fl(p - h) and
 * the numeric derivative is (L+ - L-) / (fl(p+h) - fl(p-h)), dividing by the
 * step actually taken.
 *
 * Step and tolerance. Inputs are O(1), so h = 1e-2. Truncation error of the
 * central difference is h^2/6 |f'''| ~ 2e-5 for the smooth functions here.
 * Rounding: the float forward carries a relative error of ~1e-6 (a few ulps
 * after short accumulations), i.e. ~1e-6 * sum|y r| ~ 1e-5 absolute on L, or
 * ~5e-4 after dividing by 2h, in the worst case for the larger tensors. An
 * element passes when
 *     |num - ana| <= 1e-2 |ana| + 3e-3 gmax + 1e-5,
 * gmax the largest |gradient| of that tensor (the 1e-5 floor: ~1e-7 rounding
 * of L over a step of 2h is ~5e-6): about 5-10x above the noise,
 * yet far below the O(gmax) error of a wrong sign, factor, index or missing
 * term. A negative control at the start checks that the comparison rejects
 * a gradient with one element off by a few percent of gmax.
 *
 * Kinks (relu, leaky_relu, selu, hard_sigmoid, the shrinks, MAE at 0, the
 * BCE clip) make finite differences meaningless within h of the kink, so
 * for those cases the random data is redrawn (new seed) until every
 * pre-activation / error is at least a margin away from the kink. Which
 * activations have kinks, and where, is not listed here: near_kink finds
 * them from the table's own formulas (the derivative jumps, or the value
 * jumps, within 1.5 h), so a new row of seqrt_acts.def is checked without
 * a line of this file changing.
 *
 * Every activation of seqrt_acts.def is checked, with its Keras defaults
 * and, when it has parameters, with a second set derived from them. Seeds
 * come from each case's own description (a hash), so adding a case changes
 * no other case's data.
 *
 * Batch sizes 1 and > 1 are covered; batchnorm uses n >= 3 (n = 1 has zero
 * variance, and with n = 2 every xhat is +-1: its gradient nearly vanishes
 * and drowns in the objective's rounding). On failure the worst element, its index and both values are
 * printed.
 */
#include "gradcheck_util.h"

#define MAXE 256

/* ------------------------------------------------------------ act */

typedef struct {
    seqrt_actfn act;
    int n, c;
    float x[MAXE], y[MAXE], r[MAXE];
} act_ctx;

static double act_obj(void *p)
{
    act_ctx *a = p;
    seqrt_act_forward(a->y, a->x, a->n, a->c, a->act);
    return dot(a->y, a->r, (long)a->n * a->c);
}

static void test_act(seqrt_actfn act, int n, int c)
{
    act_ctx a;
    seqrt_rng r;
    a.act = act;
    a.n = n;
    a.c = c;
    long cnt = (long)n * c;
    char what[128], label[64];
    snprintf(what, sizeof what, "act %s n=%d c=%d dx", act_label(act, label, sizeof label), n, c);
    uint64_t seed = seed_of(what);
    do {
        seqrt_rng_seed(&r, seed = next_seed(seed));
        fill(a.x, cnt, &r, -2.5f, 2.5f);
    } while (near_kink(act, a.x, cnt));
    fill(a.r, cnt, &r, -1, 1);
    float dx[MAXE], num[MAXE], dd[MAXE];
    act_obj(&a);
    seqrt_act_backward(dx, a.r, a.x, a.y, n, c, act);
    numgrad(num, a.x, cnt, act_obj, &a);
    compare(what, num, dx, cnt);
    /* in place: dx == dy gives the same bits; y == x forward too */
    memcpy(dd, a.r, sizeof(float) * cnt);
    seqrt_act_backward(dd, dd, a.x, a.y, n, c, act);
    float yy[MAXE];
    memcpy(yy, a.x, sizeof(float) * cnt);
    seqrt_act_forward(yy, yy, n, c, act);
    checks++;
    if (memcmp(dd, dx, sizeof(float) * cnt) ||
        memcmp(yy, a.y, sizeof(float) * cnt)) {
        printf("FAIL %s: in-place result differs\n", what);
        failures++;
    }
}

/* ------------------------------------------------------------ dense */

typedef struct {
    int n, in, out, bias;
    seqrt_actfn act;
    float x[MAXE], w[MAXE], b[16], z[MAXE], y[MAXE], r[MAXE];
} dense_ctx;

static double dense_obj(void *p)
{
    dense_ctx *d = p;
    seqrt_dense_forward(d->y, d->z, d->x, d->w, d->bias ? d->b : NULL, d->n,
                        d->in, d->out, d->act);
    return dot(d->y, d->r, (long)d->n * d->out);
}

static void test_dense(seqrt_actfn act, int bias, int n, int in, int out)
{
    dense_ctx d;
    seqrt_rng r;
    d.n = n;
    d.in = in;
    d.out = out;
    d.act = act;
    d.bias = bias;
    long nx = (long)n * in, nw = (long)out * in, ny = (long)n * out;
    char what[128], label[64];
    snprintf(what, sizeof what, "dense %s bias=%d n=%d in=%d out=%d", act_label(act, label, sizeof label), bias, n,
             in, out);
    uint64_t seed = seed_of(what);
    do {
        seqrt_rng_seed(&r, seed = next_seed(seed));
        fill(d.x, nx, &r, -1, 1);
        fill(d.w, nw, &r, -1, 1);
        fill(d.b, out, &r, -0.5f, 0.5f);
        dense_obj(&d);
    } while (near_kink(act, d.z, ny));
    fill(d.r, ny, &r, -1, 1);
    float dx[MAXE], dw[MAXE], db[16], dz[MAXE], num[MAXE];
    dense_obj(&d);
    memcpy(dz, d.r, sizeof(float) * ny);
    seqrt_dense_backward(dx, dw, bias ? db : NULL, dz, d.x, d.w, d.z, d.y, n, in, out, act);
    char w2[160];
    numgrad(num, d.x, nx, dense_obj, &d);
    snprintf(w2, sizeof w2, "%s dx", what);
    compare(w2, num, dx, nx);
    numgrad(num, d.w, nw, dense_obj, &d);
    snprintf(w2, sizeof w2, "%s dw", what);
    compare(w2, num, dw, nw);
    if (bias) {
        numgrad(num, d.b, out, dense_obj, &d);
        snprintf(w2, sizeof w2, "%s db", what);
        compare(w2, num, db, out);
    }
    /* dx == NULL: the same dw/db bits */
    float dy2[MAXE], dw2[MAXE], db2[16];
    memcpy(dy2, d.r, sizeof(float) * ny);
    seqrt_dense_backward(NULL, dw2, bias ? db2 : NULL, dy2, d.x, d.w, d.z, d.y, n, in, out, act);
    checks++;
    if (memcmp(dw2, dw, sizeof(float) * nw) || (bias && memcmp(db2, db, sizeof(float) * out))) {
        printf("FAIL %s: dx == NULL differs\n", what);
        failures++;
    }
    /* z == NULL (not kept): the same y, and the same gradients for the
     * activations whose derivative reads only y */
    float y3[MAXE], dx3[MAXE], dw3[MAXE], db3[16];
    seqrt_dense_forward(y3, NULL, d.x, d.w, bias ? d.b : NULL, n, in, out, act);
    checks++;
    if (memcmp(y3, d.y, sizeof(float) * ny)) {
        printf("FAIL %s: z == NULL gives another y\n", what);
        failures++;
    }
    if (act.kind == SEQRT_ACT_LINEAR || seqrt_act_is_rowwise(act.kind) ||
        (act.kind == SEQRT_ACT_RELU && !memcmp(act.p, seqrt_act_default(SEQRT_ACT_RELU).p, sizeof act.p))) {
        memcpy(dy2, d.r, sizeof(float) * ny);
        seqrt_dense_backward(dx3, dw3, bias ? db3 : NULL, dy2, d.x, d.w, NULL, y3, n, in, out, act);
        checks++;
        if (memcmp(dx3, dx, sizeof(float) * nx) || memcmp(dw3, dw, sizeof(float) * nw)) {
            printf("FAIL %s: backward without z differs\n", what);
            failures++;
        }
    }
}

/* ------------------------------------------------------------ norms */

typedef struct {
    int layer; /* 0 batchnorm, 1 layernorm */
    int n, c, use_gamma, use_beta;
    seqrt_actfn act;
    float eps;
    float x[MAXE], gamma[16], beta[16], y[MAXE], xhat[MAXE], mean[16],
        invstd[16], rm[16], rv[16], r[MAXE];
} norm_ctx;

static double norm_obj(void *p)
{
    norm_ctx *t = p;
    const float *g = t->use_gamma ? t->gamma : NULL;
    const float *b = t->use_beta ? t->beta : NULL;
    if (t->layer == 0)
        seqrt_batchnorm_forward(t->y, t->xhat, t->mean, t->invstd, t->rm,
                                t->rv, t->x, g, b, t->n, t->c, 0.99f, t->eps,
                                t->act, 1);
    else
        seqrt_layernorm_forward(t->y, t->xhat, t->mean, t->invstd, t->x, g, b,
                                t->n, t->c, t->eps, t->act);
    return dot(t->y, t->r, (long)t->n * t->c);
}

static void test_norm(int layer, seqrt_actfn act, int use_gamma, int use_beta, int n, int c)
{
    norm_ctx t;
    seqrt_rng r;
    memset(&t, 0, sizeof t);
    t.layer = layer;
    t.n = n;
    t.c = c;
    t.act = act;
    t.use_gamma = use_gamma;
    t.use_beta = use_beta;
    t.eps = 1e-3f;
    long cnt = (long)n * c;
    char what[128], w2[160], label[64];
    snprintf(what, sizeof what, "%s %s gamma=%d beta=%d n=%d c=%d", layer ? "layernorm" : "batchnorm",
             act_label(act, label, sizeof label), use_gamma, use_beta, n, c);
    uint64_t seed = seed_of(what);
    for (;;) {
        seqrt_rng_seed(&r, seed = next_seed(seed));
        fill(t.x, cnt, &r, -2, 2);
        fill(t.gamma, c, &r, 0.5f, 1.5f);
        fill(t.beta, c, &r, -0.5f, 0.5f);
        norm_obj(&t);
        /* the pre-activations h = gamma xhat + beta, and how far a step of
         * h in x moves them (xhat's slope is invstd): away from kinks */
        float h[MAXE];
        for (long i = 0; i < cnt; i++) {
            int j = (int)(i % c);
            h[i] = (use_gamma ? t.gamma[j] : 1.0f) * t.xhat[i] + (use_beta ? t.beta[j] : 0.0f);
        }
        /* and batches whose spread is not near 0: with a variance near 0
         * (n = 2 rows that almost agree) xhat is ill-conditioned and central
         * differences measure the curvature, not the derivative */
        float min_std = INFINITY;
        for (int j = 0; j < (layer ? n : c); j++)
            min_std = fminf(min_std, 1.0f / t.invstd[j]);
        if (!near_kink(act, h, cnt) && min_std > 0.4f)
            break;
    }
    fill(t.r, cnt, &r, -1, 1);
    norm_obj(&t);
    float dx[MAXE], dg[16], dbt[16], num[MAXE];
    const float *g = use_gamma ? t.gamma : NULL;
    const float *b = use_beta ? t.beta : NULL;
    if (layer == 0)
        seqrt_batchnorm_backward(dx, dg, dbt, t.r, t.xhat, t.invstd, g, b,
                                 t.y, n, c, act);
    else
        seqrt_layernorm_backward(dx, dg, dbt, t.r, t.xhat, t.invstd, g, b,
                                 t.y, n, c, act);
    numgrad(num, t.x, cnt, norm_obj, &t);
    snprintf(w2, sizeof w2, "%s dx", what);
    compare(w2, num, dx, cnt);
    if (use_gamma) {
        numgrad(num, t.gamma, c, norm_obj, &t);
        snprintf(w2, sizeof w2, "%s dgamma", what);
        compare(w2, num, dg, c);
    }
    /* dbeta is dL/dbeta whether or not beta is used (center=False just
     * means beta = 0); only check it against FD when beta is live. */
    if (use_beta) {
        numgrad(num, t.beta, c, norm_obj, &t);
        snprintf(w2, sizeof w2, "%s dbeta", what);
        compare(w2, num, dbt, c);
    }
    /* dx == dy in place, dgamma/dbeta NULL: same dx bits */
    float d2[MAXE];
    memcpy(d2, t.r, sizeof(float) * cnt);
    if (layer == 0)
        seqrt_batchnorm_backward(d2, NULL, NULL, d2, t.xhat, t.invstd, g, b,
                                 t.y, n, c, act);
    else
        seqrt_layernorm_backward(d2, NULL, NULL, d2, t.xhat, t.invstd, g, b,
                                 t.y, n, c, act);
    checks++;
    if (memcmp(d2, dx, sizeof(float) * cnt)) {
        printf("FAIL %s: in-place dx differs\n", what);
        failures++;
    }
}

/* Value checks: batch statistics, running stats (Keras momentum, biased
 * variance), inference mode, Normalization layer. */
static void test_norm_values(void)
{
    enum { N = 5, C = 3 };
    float x[N * C], y[N * C], xhat[N * C], mean[C], invstd[C];
    float rm[C] = {0.5f, -1.0f, 2.0f}, rv[C] = {1.0f, 2.0f, 0.5f};
    float rm0[C], rv0[C], g[C] = {1.5f, 0.5f, -1.0f}, b[C] = {0.1f, 0.2f, 0.3f};
    seqrt_rng r;
    seqrt_rng_seed(&r, 7);
    fill(x, N * C, &r, -3, 3);
    memcpy(rm0, rm, sizeof rm);
    memcpy(rv0, rv, sizeof rv);
    seqrt_batchnorm_forward(y, xhat, mean, invstd, rm, rv, x, g, b, N, C,
                            0.9f, 1e-3f, seqrt_act_default(SEQRT_ACT_LINEAR), 1);
    double worst = 0.0;
    for (int j = 0; j < C; j++) {
        double mu = 0, var = 0;
        for (int i = 0; i < N; i++)
            mu += x[i * C + j];
        mu /= N;
        for (int i = 0; i < N; i++)
            var += (x[i * C + j] - mu) * (x[i * C + j] - mu);
        var /= N; /* biased */
        worst = fmax(worst, fabs(mean[j] - mu));
        worst = fmax(worst, fabs(invstd[j] - 1.0 / sqrt(var + 1e-3)));
        worst = fmax(worst, fabs(rm[j] - (rm0[j] * 0.9 + mu * 0.1)));
        worst = fmax(worst, fabs(rv[j] - (rv0[j] * 0.9 + var * 0.1)));
        for (int i = 0; i < N; i++) {
            double want = g[j] * (x[i * C + j] - mu) / sqrt(var + 1e-3) + b[j];
            worst = fmax(worst, fabs(y[i * C + j] - want));
        }
    }
    /* inference: running stats */
    seqrt_batchnorm_forward(y, NULL, NULL, NULL, rm, rv, x, g, b, N, C, 0.9f,
                            1e-3f, seqrt_act_default(SEQRT_ACT_LINEAR), 0);
    for (int i = 0; i < N * C; i++) {
        int j = i % C;
        double want = g[j] * (x[i] - rm[j]) / sqrt(rv[j] + 1e-3) + b[j];
        worst = fmax(worst, fabs(y[i] - want));
    }
    /* Normalization adapt + forward */
    float m2[C], v2[C];
    seqrt_normalization_adapt(m2, v2, x, N, C);
    seqrt_normalization_forward(y, x, m2, v2, N, C);
    for (int j = 0; j < C; j++) {
        double mu = 0, var = 0;
        for (int i = 0; i < N; i++)
            mu += x[i * C + j];
        mu /= N;
        for (int i = 0; i < N; i++)
            var += (x[i * C + j] - mu) * (x[i * C + j] - mu);
        var /= N;
        worst = fmax(worst, fabs(m2[j] - mu) + fabs(v2[j] - var));
        for (int i = 0; i < N; i++)
            worst = fmax(worst, fabs(y[i * C + j] - (x[i * C + j] - mu) /
                                                        sqrt(var)));
    }
    float zv[1] = {0.0f}, zm[1] = {1.0f}, one[1] = {1.5f}, out[1];
    seqrt_normalization_forward(out, one, zm, zv, 1, 1); /* var 0: / 1e-7 */
    worst = fmax(worst, fabs(out[0] - 0.5 / 1e-7) / 0.5e7);
    checks++;
    if (!(worst < 1e-5)) {
        printf("FAIL norm values: worst error %.3g\n", worst);
        failures++;
    }
}

/* ------------------------------------------------------------ dropout */

typedef struct {
    long count;
    float rate;
    float x[MAXE], y[MAXE], mask[MAXE], r[MAXE];
} drop_ctx;

static double drop_obj(void *p)
{
    drop_ctx *d = p;
    seqrt_rng g;
    seqrt_rng_seed(&g, 1234); /* the same mask every call */
    seqrt_dropout_forward(d->y, d->mask, d->x, d->count, d->rate, &g, 1);
    return dot(d->y, d->r, d->count);
}

static void test_dropout(void)
{
    drop_ctx d;
    seqrt_rng r;
    seqrt_rng_seed(&r, 99);
    d.count = 200;
    d.rate = 0.3f;
    fill(d.x, d.count, &r, -1, 1);
    fill(d.r, d.count, &r, -1, 1);
    drop_obj(&d);
    float dx[MAXE], num[MAXE];
    seqrt_dropout_backward(dx, d.r, d.mask, d.count);
    numgrad(num, d.x, d.count, drop_obj, &d);
    compare("dropout dx", num, dx, d.count);
    int dropped = 0, bad = 0;
    for (long i = 0; i < d.count; i++) {
        if (d.mask[i] == 0.0f)
            dropped++;
        else if (d.mask[i] != 1.0f / (1.0f - 0.3f))
            bad++;
    }
    float m0[MAXE], y0[MAXE];
    seqrt_dropout_forward(y0, m0, d.x, d.count, 0.0f, &r, 1);
    for (long i = 0; i < d.count; i++)
        bad += m0[i] != 1.0f || y0[i] != d.x[i];
    seqrt_dropout_forward(y0, NULL, d.x, d.count, 0.5f, &r, 0);
    for (long i = 0; i < d.count; i++)
        bad += y0[i] != d.x[i];
    checks++;
    if (bad || dropped < 30 || dropped > 90) {
        printf("FAIL dropout mask: %d bad values, %d of 200 dropped\n", bad,
               dropped);
        failures++;
    }
}

/* ------------------------------------------------------------ losses */

typedef struct {
    int loss, n, c, use_logits;
    seqrt_lossfn fn;
    float y[MAXE], logits[MAXE], t[MAXE];
} loss_ctx;

static double loss_obj(void *p)
{
    loss_ctx *l = p;
    return seqrt_loss_fn(&l->fn, NULL, l->use_logits ? NULL : l->y,
                         l->use_logits ? l->logits : NULL, l->t, l->n, l->c);
}

/* fn: the loss's arguments (NULL: Keras's defaults) */
static void test_loss_args(int loss, const seqrt_lossfn *fn, int use_logits, int n, int c, int soft,
                           uint64_t seed)
{
    loss_ctx l;
    seqrt_rng r;
    l.loss = loss;
    l.n = n;
    l.c = c;
    l.use_logits = use_logits;
    seqrt_lossfn dflt = {loss, 1.0f, 0.0f, 0, 0, NULL};
    l.fn = fn ? *fn : dflt;
    float delta = l.fn.delta;
    long cnt = (long)n * c;
    int ok;
    do {
        seqrt_rng_seed(&r, seed++);
        ok = 1;
        switch (loss) {
        case SEQRT_LOSS_MAE:
        case SEQRT_LOSS_MSE:
        case SEQRT_LOSS_HUBER:
        case SEQRT_LOSS_LOG_COSH:
        case SEQRT_LOSS_MAPE:
            fill(l.y, cnt, &r, -2, 2);
            fill(l.t, cnt, &r, -1, 1);
            for (long i = 0; i < cnt; i++) {
                float e = fabsf(l.y[i] - l.t[i]);
                if (e < 0.05f || fabsf(e - delta) < 0.05f || fabsf(l.t[i]) < 0.05f)
                    ok = 0;
            }
            break;
        case SEQRT_LOSS_MSLE:
        case SEQRT_LOSS_POISSON:
            fill(l.y, cnt, &r, 0.1f, 3);
            fill(l.t, cnt, &r, 0, 3);
            break;
        case SEQRT_LOSS_HINGE:
        case SEQRT_LOSS_SQUARED_HINGE:
            fill(l.y, cnt, &r, -2, 2);
            for (long i = 0; i < cnt; i++)
                l.t[i] = soft ? 2.0f * seqrt_rng_uniform(&r) - 1.0f : (float)(seqrt_rng_uniform(&r) < 0.5f);
            for (long i = 0; i < cnt; i++) {
                float tt = soft ? l.t[i] : 2.0f * l.t[i] - 1.0f;
                if (fabsf(1.0f - tt * l.y[i]) < 0.05f)
                    ok = 0;
            }
            break;
        case SEQRT_LOSS_COSINE_SIMILARITY:
            fill(l.y, cnt, &r, -1, 1);
            fill(l.t, cnt, &r, -1, 1);
            break;
        case SEQRT_LOSS_BINARY_CROSSENTROPY:
            fill(l.y, cnt, &r, 0.05f, 0.95f);
            fill(l.logits, cnt, &r, -4, 4);
            for (long i = 0; i < cnt; i++)
                l.t[i] = soft ? seqrt_rng_uniform(&r)
                              : (float)(seqrt_rng_uniform(&r) < 0.5f);
            break;
        case SEQRT_LOSS_CATEGORICAL_HINGE:
            fill(l.y, cnt, &r, -2, 2);
            for (int i = 0; i < n; i++) {
                int k = (int)seqrt_rng_below(&r, (uint32_t)c);
                float pos = 0, neg = -1e9f, second = -1e9f;
                for (int j = 0; j < c; j++)
                    l.t[i * c + j] = (float)(j == k);
                for (int j = 0; j < c; j++) {
                    float v = (1.0f - l.t[i * c + j]) * l.y[i * c + j];
                    pos += l.t[i * c + j] * l.y[i * c + j];
                    if (v > neg) {
                        second = neg;
                        neg = v;
                    } else if (v > second) {
                        second = v;
                    }
                }
                if (fabsf(neg - pos + 1.0f) < 0.05f || neg - second < 0.05f)
                    ok = 0;
            }
            break;
        case SEQRT_LOSS_KL_DIVERGENCE:
            fill(l.y, cnt, &r, 0.05f, 0.95f);
            for (int i = 0; i < n; i++) {
                float s = 0.0f;
                for (int j = 0; j < c; j++)
                    s += l.t[i * c + j] = 0.05f + seqrt_rng_uniform(&r);
                for (int j = 0; j < c; j++)
                    l.t[i * c + j] /= s;
            }
            break;
        default: /* categorical */
            fill(l.y, cnt, &r, 0.1f, 1.0f); /* not normalized: tests q=y/sum */
            fill(l.logits, cnt, &r, -3, 3);
            for (int i = 0; i < n; i++) {
                int k = (int)seqrt_rng_below(&r, (uint32_t)c);
                if (loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
                    l.t[i] = (float)k;
                    continue;
                }
                float s = 0.0f;
                for (int j = 0; j < c; j++) {
                    l.t[i * c + j] = soft ? seqrt_rng_uniform(&r)
                                          : (float)(j == k);
                    s += l.t[i * c + j];
                }
                /* soft == 1: a distribution; soft == 2: unnormalized */
                if (soft == 1)
                    for (int j = 0; j < c; j++)
                        l.t[i * c + j] /= s;
            }
            break;
        }
    } while (!ok);
    float dy[MAXE], num[MAXE];
    seqrt_loss_fn(&l.fn, dy, use_logits ? NULL : l.y, use_logits ? l.logits : NULL,
                  l.t, n, c);
    numgrad(num, use_logits ? l.logits : l.y, cnt, loss_obj, &l);
    char what[160];
    snprintf(what, sizeof what, "loss %s logits=%d n=%d c=%d soft=%d delta=%g smoothing=%g weights=%d",
             seqrt_loss_name(loss), use_logits, n, c, soft, (double)l.fn.delta, (double)l.fn.label_smoothing,
             l.fn.nclass_weight);
    compare(what, num, dy, cnt);
}

static void test_loss(int loss, int use_logits, int n, int c, int soft, uint64_t seed)
{
    test_loss_args(loss, NULL, use_logits, n, c, soft, seed);
}

/* Loss values against direct formulas, including the clipped regions. */
static void test_loss_values(void)
{
    double worst = 0.0;
    /* BCE without logits, y at 0 and 1: clipped, finite, zero gradient */
    float y[4] = {0.0f, 1.0f, 0.3f, 0.8f}, t[4] = {1.0f, 0.0f, 1.0f, 0.0f};
    float dy[4];
    float L = seqrt_loss(SEQRT_LOSS_BINARY_CROSSENTROPY, dy, y, NULL, t, 1, 4);
    double p0 = 1e-7, p1 = 1.0 - (double)(1.0f - 1e-7f);
    double want = (-log(p0) - log(p1) - log(0.3) - log(0.2)) / 4;
    worst = fmax(worst, fabs(L - want) / want);
    worst = fmax(worst, fabs(dy[0]) + fabs(dy[1]));
    /* BCE with logits against the naive formula */
    float z[3] = {-2.0f, 0.5f, 3.0f}, tz[3] = {0.0f, 1.0f, 0.25f};
    L = seqrt_loss(SEQRT_LOSS_BINARY_CROSSENTROPY, NULL, NULL, z, tz, 3, 1);
    want = 0.0;
    for (int i = 0; i < 3; i++) {
        double s = 1.0 / (1.0 + exp(-z[i]));
        want -= tz[i] * log(s) + (1 - tz[i]) * log(1 - s);
    }
    worst = fmax(worst, fabs(L - want / 3));
    /* CCE with logits == CCE on softmax probabilities */
    float zc[6] = {1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f};
    float tc[6] = {0, 1, 0, 1, 0, 0}, ti[2] = {1, 0}, pc[6];
    seqrt_act_forward(pc, zc, 2, 3, seqrt_act_default(SEQRT_ACT_SOFTMAX));
    float a = seqrt_loss(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, NULL, NULL, zc,
                         tc, 2, 3);
    float b = seqrt_loss(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, NULL, pc, NULL,
                         tc, 2, 3);
    float s1 = seqrt_loss(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, NULL,
                          NULL, zc, ti, 2, 3);
    float s2 = seqrt_loss(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, NULL, pc,
                          NULL, ti, 2, 3);
    want = (-log(pc[1]) - log(pc[3])) / 2;
    worst = fmax(worst, fabs(a - want) + fabs(b - want) + fabs(s1 - want) +
                            fabs(s2 - want));
    /* Huber: 0.5 e^2 inside, |e| - 0.5 outside */
    float yh[2] = {0.5f, 3.0f}, th[2] = {0.0f, 0.0f};
    L = seqrt_loss(SEQRT_LOSS_HUBER, NULL, yh, NULL, th, 1, 2);
    worst = fmax(worst, fabs(L - (0.125 + 2.5) / 2));
    /* metrics */
    float ym[6] = {0.9f, 0.2f, 0.6f, 0.1f, 0.7f, 0.7f};
    float tm[6] = {1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f};
    double ba = seqrt_metric_sum(SEQRT_METRIC_BINARY_ACCURACY, ym, tm, 2, 3);
    double ca = seqrt_metric_sum(SEQRT_METRIC_CATEGORICAL_ACCURACY, ym, tm, 2,
                                 3);
    float ts[2] = {0.0f, 2.0f};
    double sa = seqrt_metric_sum(SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY, ym,
                                 ts, 2, 3);
    double ma = seqrt_metric_sum(SEQRT_METRIC_MAE, ym, tm, 2, 3);
    /* row 0: 2/3 right; row 1: (0.1<.5)==(0<.5) yes, .7 vs 1 yes, .7 vs 0 no
     * -> 2/3. argmax row 1 = 1 (first max) == argmax t = 1. sparse: row 0
     * argmax 0 == 0, row 1 argmax 1 != 2. */
    worst = fmax(worst, fabs(ba - 4.0 / 3.0) + fabs(ca - 2.0) +
                            fabs(sa - 1.0));
    worst = fmax(worst, fabs(ma - ((0.1 + 0.2 + 0.6) / 3 +
                                   (0.1 + 0.3 + 0.7) / 3)));
    checks++;
    if (!(worst < 1e-5)) {
        printf("FAIL loss/metric values: worst error %.3g\n", worst);
        failures++;
    }
}

/* ------------------------------------------------------------ misc */

static void test_negative_control(void)
{
    float num[4] = {1.0f, -0.5f, 0.25f, 2.0f}, ana[4];
    memcpy(ana, num, sizeof ana);
    checks++;
    int good = compare_quiet("control", num, ana, 4, 0);
    ana[2] += 0.05f; /* 2.5% of gmax */
    int bad = compare_quiet("control", num, ana, 4, 0);
    if (!good || bad) {
        printf("FAIL negative control: the comparison has no teeth\n");
        failures++;
    }
}

static void test_rng_init(void)
{
    seqrt_rng a, b;
    seqrt_rng_seed(&a, 0);
    seqrt_rng_seed(&b, 0);
    int bad = 0;
    double s = 0, s2 = 0;
    int hist[7] = {0};
    for (int i = 0; i < 1000; i++)
        bad += seqrt_rng_next(&a) != seqrt_rng_next(&b);
    seqrt_rng_seed(&b, 1);
    bad += seqrt_rng_next(&a) == seqrt_rng_next(&b);
    /* a zeroed state behaves as seed 0 instead of emitting zeros forever */
    seqrt_rng_seed(&a, 0);
    b.s[0] = b.s[1] = 0;
    bad += seqrt_rng_next(&a) != seqrt_rng_next(&b);
    for (int i = 0; i < 70000; i++) {
        float u = seqrt_rng_uniform(&a);
        bad += !(u >= 0.0f && u < 1.0f);
        float z = seqrt_rng_normal(&a);
        s += z;
        s2 += (double)z * z;
        hist[seqrt_rng_below(&a, 7)]++;
    }
    bad += fabs(s / 70000) > 0.02 || fabs(s2 / 70000 - 1) > 0.03;
    for (int k = 0; k < 7; k++)
        bad += hist[k] < 9500 || hist[k] > 10500;
    /* initializers: limits and spread */
    float w[4000];
    seqrt_rng_seed(&a, 5);
    seqrt_init_fill(SEQRT_INIT_GLOROT_UNIFORM, w, 4000, 30, 10, &a);
    double lim = sqrt(6.0 / 40), mx = 0;
    for (int i = 0; i < 4000; i++)
        mx = fmax(mx, fabs(w[i]));
    bad += mx > lim || mx < 0.95 * lim;
    seqrt_init_fill(SEQRT_INIT_HE_NORMAL, w, 4000, 50, 10, &a);
    double sd = sqrt(2.0 / 50) / .87962566103423978, var = 0;
    mx = 0;
    for (int i = 0; i < 4000; i++) {
        mx = fmax(mx, fabs(w[i]));
        var += (double)w[i] * w[i];
    }
    var /= 4000; /* truncated at 2 sd: variance = (0.8796 sd)^2 = 2/50 */
    bad += mx > 2 * sd + 1e-6 || fabs(var / (2.0 / 50) - 1) > 0.08;
    checks++;
    if (bad) {
        printf("FAIL rng/init: %d problems\n", bad);
        failures++;
    }
}

/* A second parameter set for an activation that has parameters: each
 * default moved (0 -> 0.25, "None" -> 1.5, others * 0.7), so the layer
 * forms (ReLU(max_value, negative_slope, threshold), LeakyReLU, ELU, ...)
 * are checked away from Keras's defaults too. */
static seqrt_actfn act_variant(seqrt_act kind)
{
    seqrt_actfn a = seqrt_act_default(kind);
    for (int k = 0; k < seqrt_act_nparams(kind); k++)
        a.p[k] = a.p[k] == 0.0f ? 0.25f : isinf(a.p[k]) ? 1.5f : a.p[k] * 0.7f;
    return a;
}

static void test_one_act(seqrt_actfn a)
{
    test_act(a, 1, 5);
    test_act(a, 3, 4);
    for (int bias = 0; bias < 2; bias++) {
        test_dense(a, bias, 1, 4, 3);
        test_dense(a, bias, 5, 3, 4);
    }
}

int main(void)
{
    test_negative_control();
    test_rng_init();
    for (int act = 0; act < SEQRT_ACT_COUNT; act++) {
        test_one_act(seqrt_act_default((seqrt_act)act));
        if (seqrt_act_nparams((seqrt_act)act))
            test_one_act(act_variant((seqrt_act)act));
    }
    static const seqrt_act norm_acts[] = {SEQRT_ACT_LINEAR, SEQRT_ACT_RELU, SEQRT_ACT_TANH, SEQRT_ACT_SOFTMAX,
                                          SEQRT_ACT_GELU, SEQRT_ACT_SELU, SEQRT_ACT_LOG_SOFTMAX, SEQRT_ACT_MISH};
    for (int layer = 0; layer < 2; layer++)
        for (size_t a = 0; a < sizeof norm_acts / sizeof norm_acts[0]; a++)
            for (int gb = 0; gb < 4; gb++) {
                int g = gb & 1, b = gb >> 1;
                test_norm(layer, seqrt_act_default(norm_acts[a]), g, b, layer ? 1 : 3, 4);
                test_norm(layer, seqrt_act_default(norm_acts[a]), g, b, 6, 5);
            }
    test_norm_values();
    test_dropout();
    uint64_t seed = 1;
    for (int loss = 0; loss < SEQRT_LOSS_COUNT; loss++) {
        int has_logits = loss == SEQRT_LOSS_BINARY_CROSSENTROPY || loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ||
                         loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
        int has_soft = loss == SEQRT_LOSS_BINARY_CROSSENTROPY || loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ||
                       loss == SEQRT_LOSS_HINGE || loss == SEQRT_LOSS_SQUARED_HINGE;
        for (int lg = 0; lg <= has_logits; lg++)
            for (int soft = 0; soft < 3; soft++) {
                if (soft && !has_soft)
                    break;
                if (soft == 2 && loss != SEQRT_LOSS_CATEGORICAL_CROSSENTROPY)
                    break;
                test_loss(loss, lg, 1, 3, soft, seed = next_seed(seed ^ (uint64_t)(loss * 64 + lg * 8 + soft)));
                test_loss(loss, lg, 4, 3, soft, seed = next_seed(seed ^ (uint64_t)(loss * 64 + lg * 8 + soft + 4)));
            }
    }
    /* the losses' arguments: Huber's delta, label smoothing, class weights */
    const float cw[3] = {0.5f, 2.0f, 3.0f};
    seqrt_lossfn huber = {SEQRT_LOSS_HUBER, 2.5f, 0.0f, 0, 0, NULL};
    test_loss_args(SEQRT_LOSS_HUBER, &huber, 0, 4, 3, 0, seed = next_seed(seed));
    for (int lg = 0; lg < 2; lg++) {
        seqrt_lossfn bce = {SEQRT_LOSS_BINARY_CROSSENTROPY, 1.0f, 0.1f, 0, 0, NULL};
        seqrt_lossfn cce = {SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 1.0f, 0.2f, 0, 3, cw};
        seqrt_lossfn scce = {SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1.0f, 0.0f, 0, 3, cw};
        test_loss_args(SEQRT_LOSS_BINARY_CROSSENTROPY, &bce, lg, 4, 3, 0, seed = next_seed(seed));
        test_loss_args(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, &cce, lg, 4, 3, 1, seed = next_seed(seed));
        test_loss_args(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &scce, lg, 4, 3, 0, seed = next_seed(seed));
    }
    seqrt_lossfn mse_w = {SEQRT_LOSS_MSE, 1.0f, 0.0f, 0, 2, cw};   /* one output: the rounded target's class */
    test_loss_args(SEQRT_LOSS_MSE, &mse_w, 0, 4, 1, 0, seed = next_seed(seed));
    seqrt_lossfn cos3 = {SEQRT_LOSS_COSINE_SIMILARITY, 1.0f, 0.0f, 3, 0, NULL};   /* rank-2 output, last axis 3 */
    test_loss_args(SEQRT_LOSS_COSINE_SIMILARITY, &cos3, 0, 2, 6, 0, seed = next_seed(seed));
    test_loss_values();
    printf("test_gradcheck_kernels (%s): %d checks, %d failures\n",
           seqrt_gemm_backend(), checks, failures);
    return failures ? 1 : 0;
}
