/*
 * gradcheck_util.h - what the kernel gradient checks share
 * (test_gradcheck_kernels.c, test_gradcheck_conv.c): central differences,
 * the comparison and its tolerance, the kink finder for activations, and
 * per-case seeds. The method and the tolerance are explained at the top of
 * test_gradcheck_kernels.c. Each test file includes this once.
 */
#ifndef GRADCHECK_UTIL_H
#define GRADCHECK_UTIL_H

#include "seqrt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double H = 1e-2;
static int failures, checks;

static float urand(seqrt_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * seqrt_rng_uniform(r);
}
static void fill(float *v, long n, seqrt_rng *r, float lo, float hi)
{
    for (long i = 0; i < n; i++)
        v[i] = urand(r, lo, hi);
}
static double dot(const float *a, const float *b, long n)
{
    double s = 0.0;
    for (long i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

typedef double (*objective)(void *ctx);

/* num (count) = dL/dp by central differences; p (count) is restored. */
static void numgrad(float *num, float *p, long count, objective f, void *ctx)
{
    for (long i = 0; i < count; i++) {
        float v = p[i];
        float hp = (float)(v + H), hm = (float)(v - H);
        p[i] = hp;
        double lp = f(ctx);
        p[i] = hm;
        double lm = f(ctx);
        p[i] = v;
        num[i] = (float)((lp - lm) / ((double)hp - (double)hm));
    }
    f(ctx); /* leave the context's outputs at the unperturbed point */
}

/* Returns 1 if ana matches num within tolerance, else prints and returns 0. */
static int compare_quiet(const char *what, const float *num, const float *ana,
                         long count, int verbose)
{
    double gmax = 0.0;
    for (long i = 0; i < count; i++) {
        gmax = fmax(gmax, fabs(num[i]));
        gmax = fmax(gmax, fabs(ana[i]));
    }
    double worst = -1.0;
    long wi = -1;
    for (long i = 0; i < count; i++) {
        double err = fabs((double)num[i] - ana[i]);
        double tol = 1e-2 * fabs(ana[i]) + 3e-3 * gmax + 1e-5;
        if (!(err <= tol) && (isnan(err) || err / tol > worst)) {
            worst = isnan(err) ? INFINITY : err / tol;
            wi = i;
        }
    }
    if (wi < 0)
        return 1;
    if (verbose)
        printf("FAIL %s: worst element [%ld]: numeric %.7g, analytic %.7g "
               "(|error| %.3g, gmax %.3g)\n", what, wi, num[wi], ana[wi],
               fabs((double)num[wi] - ana[wi]), gmax);
    return 0;
}

static void compare(const char *what, const float *num, const float *ana,
                    long count)
{
    checks++;
    if (!compare_quiet(what, num, ana, count, 1))
        failures++;
}

/* Is any of x (n values) within 1.5 h of a point where the activation's
 * derivative or value jumps? Found from the activation itself: compare the
 * derivatives at x - 1.5h and x + 1.5h, and the value change across them
 * against what the derivatives allow. */
static int near_kink(seqrt_actfn a, const float *x, long n)
{
    if (seqrt_act_is_rowwise(a.kind))
        return 0;
    for (long i = 0; i < n; i++) {
        float p[2] = {(float)(x[i] - 1.5 * H), (float)(x[i] + 1.5 * H)}, f[2], d[2], one[2] = {1, 1};
        seqrt_act_forward(f, p, 1, 2, a);
        seqrt_act_backward(d, one, p, f, 1, 2, a);
        double scale = 1.0 + fabs(d[0]) + fabs(d[1]);
        if (fabs((double)d[1] - d[0]) > 0.05 * scale)
            return 1;
        if (fabs((double)f[1] - f[0]) > 2.0 * 3.0 * H * scale)
            return 1;
    }
    return 0;
}

/* A seed from a case's description (FNV-1a): cases do not share streams,
 * and adding one changes nobody else's data. */
static uint64_t seed_of(const char *what)
{
    uint64_t h = 1469598103934665603ull;
    for (; *what; what++)
        h = (h ^ (unsigned char)*what) * 1099511628211ull;
    return h;
}

static uint64_t next_seed(uint64_t s)
{
    return s * 6364136223846793005ull + 1442695040888963407ull;
}

/* "relu" or "relu(0.25, 1.5, 0.25)" */
static const char *act_label(seqrt_actfn a, char *buf, size_t cap)
{
    int np = seqrt_act_nparams(a.kind);
    int n = snprintf(buf, cap, "%s", seqrt_act_name(a.kind));
    seqrt_actfn d = seqrt_act_default(a.kind);
    if (np && memcmp(d.p, a.p, sizeof a.p)) {
        for (int k = 0; k < np; k++)
            n += snprintf(buf + n, cap - (size_t)n, "%s%g", k ? ", " : "(", (double)a.p[k]);
        snprintf(buf + n, cap - (size_t)n, ")");
    }
    return buf;
}

#endif
