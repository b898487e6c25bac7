/*
 * test_optim.c - every optimizer against a double-precision re-statement of
 * its Keras formula, over several steps with fresh random gradients.
 *
 * The float kernel and the double reference start from the same values; per
 * step the kernel's rounding is a few float ulps (~1e-7 relative), so after
 * STEPS steps the parameters and slots agree to ~1e-6 relative. We require
 * |float - double| <= 2e-5 * (|double| + lr): loose against rounding, tight
 * against any formula error (a missing bias correction, a sign, the decay
 * applied after instead of before, eps inside/outside the root) which moves
 * the parameters by a sizeable fraction of lr per step.
 */
#include "seqrt.h"

#include <math.h>
#include <stdio.h>

#define N 64
#define STEPS 6
static int failures, checks;

static void cmp(const char *what, const char *arr, const float *f,
                const double *d, long n, double lr)
{
    double worst = -1;
    long wi = -1;
    for (long i = 0; i < n; i++) {
        double err = fabs(f[i] - d[i]);
        double tol = 2e-5 * (fabs(d[i]) + lr);
        if (!(err <= tol) && (isnan(err) || err / tol > worst)) {
            worst = isnan(err) ? INFINITY : err / tol;
            wi = i;
        }
    }
    checks++;
    if (wi >= 0) {
        printf("FAIL %s %s: worst element [%ld]: kernel %.9g, reference "
               "%.9g\n", what, arr, wi, f[wi], d[wi]);
        failures++;
    }
}

static void init(float *wf, double *wd, float *sf, double *sd, float *tf,
                 double *td, seqrt_rng *r)
{
    for (int i = 0; i < N; i++) {
        wf[i] = 2.0f * seqrt_rng_uniform(r) - 1.0f;
        wd[i] = wf[i];
        sf[i] = 0.0f;
        sd[i] = 0.0;
        tf[i] = 0.0f;
        td[i] = 0.0;
    }
}

static void grads(float *g, seqrt_rng *r)
{
    for (int i = 0; i < N; i++)
        g[i] = 2.0f * seqrt_rng_uniform(r) - 1.0f;
}

static void test_sgd(float momentum, int nesterov)
{
    float wf[N], vf[N], tf[N], g[N];
    double wd[N], vd[N], td[N];
    seqrt_rng r;
    seqrt_rng_seed(&r, 11);
    init(wf, wd, vf, vd, tf, td, &r);
    const double lr = 0.05;
    for (int s = 0; s < STEPS; s++) {
        grads(g, &r);
        seqrt_sgd_update(wf, g, momentum == 0.0f ? NULL : vf, N, (float)lr,
                         momentum, nesterov);
        for (int i = 0; i < N; i++) {
            if (momentum == 0.0f) {
                wd[i] -= lr * g[i];
                continue;
            }
            vd[i] = (double)momentum * vd[i] - lr * g[i];
            if (nesterov)
                wd[i] += (double)momentum * vd[i] - lr * g[i];
            else
                wd[i] += vd[i];
        }
    }
    char what[64];
    snprintf(what, sizeof what, "sgd momentum=%g nesterov=%d", momentum,
             nesterov);
    cmp(what, "w", wf, wd, N, lr);
    if (momentum != 0.0f)
        cmp(what, "velocity", vf, vd, N, lr);
}

static void test_adam(float wdecay)
{
    float wf[N], mf[N], vf[N], g[N];
    double wd[N], md[N], vd[N];
    seqrt_rng r;
    seqrt_rng_seed(&r, 12);
    init(wf, wd, mf, md, vf, vd, &r);
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    for (int s = 1; s <= STEPS; s++) {
        grads(g, &r);
        seqrt_adam_update(wf, g, mf, vf, N, (float)lr, (float)b1, (float)b2,
                          (float)eps, wdecay, s);
        /* the float kernel sees float(b1) etc.; use the same values */
        double fb1 = (float)b1, fb2 = (float)b2, flr = (float)lr;
        double lr_t = flr * sqrt(1 - pow(fb2, s)) / (1 - pow(fb1, s));
        for (int i = 0; i < N; i++) {
            if (wdecay > 0)
                wd[i] -= flr * (double)wdecay * wd[i];
            md[i] = fb1 * md[i] + (1 - fb1) * g[i];
            vd[i] = fb2 * vd[i] + (1 - fb2) * (double)g[i] * g[i];
            wd[i] -= lr_t * md[i] / (sqrt(vd[i]) + (double)(float)eps);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "adam weight_decay=%g", wdecay);
    cmp(what, "w", wf, wd, N, lr);
    cmp(what, "m", mf, md, N, lr);
    cmp(what, "v", vf, vd, N, lr * 1e-3);
}

static void test_rmsprop(float momentum)
{
    float wf[N], vf[N], mf[N], g[N];
    double wd[N], vd[N], md[N];
    seqrt_rng r;
    seqrt_rng_seed(&r, 13);
    init(wf, wd, vf, vd, mf, md, &r);
    const double lr = 0.01, rho = 0.9, eps = 1e-7;
    for (int s = 0; s < STEPS; s++) {
        grads(g, &r);
        seqrt_rmsprop_update(wf, g, vf, momentum > 0 ? mf : NULL, N,
                             (float)lr, (float)rho, momentum, (float)eps);
        double frho = (float)rho, flr = (float)lr;
        for (int i = 0; i < N; i++) {
            vd[i] = frho * vd[i] + (1 - frho) * (double)g[i] * g[i];
            double inc = flr * g[i] / sqrt(vd[i] + (double)(float)eps);
            if (momentum > 0) {
                md[i] = (double)momentum * md[i] + inc;
                wd[i] -= md[i];
            } else {
                wd[i] -= inc;
            }
        }
    }
    char what[64];
    snprintf(what, sizeof what, "rmsprop momentum=%g", momentum);
    cmp(what, "w", wf, wd, N, lr);
    cmp(what, "v", vf, vd, N, lr * 1e-3);
    if (momentum > 0)
        cmp(what, "momentum", mf, md, N, lr);
}

int main(void)
{
    test_sgd(0.0f, 0);
    test_sgd(0.9f, 0);
    test_sgd(0.9f, 1);
    test_adam(0.0f);
    test_adam(0.004f);
    test_adam(0.1f);
    test_rmsprop(0.0f);
    test_rmsprop(0.9f);
    printf("test_optim: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
