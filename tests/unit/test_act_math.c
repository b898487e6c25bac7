/*
 * test_act_math.c - the accuracy of act_math.h's exp, tanh and sigmoid
 * (seqrt_expf, seqrt_tanhf, seqrt_sigmoidf) against double precision, and
 * that the runtime's vectorized activation loops compute the same bits as
 * the scalar functions.
 *
 * The bound: at most 2 ulp from exp, tanh and 1 / (1 + exp(-x)) computed in
 * double (an ulp is the spacing of floats at the reference value; 2^-149
 * below 2^-126), over
 *   - every 257th float bit pattern (16.7 M values, both signs, every
 *     exponent, subnormals, inf and NaN patterns),
 *   - every float where the formulas change or hit a limit: tanh's switch
 *     from the polynomial to the exponential (|x| in [0.5, 0.75]), exp's
 *     subnormal results ([-104, -87]) and its overflow ([88, 89]),
 *     sigmoid's subnormal tail ([-104, -87]) and its steepest error region
 *     ([-8, -4]),
 *   - and exact properties: exp(+-0) = 1, exp(-inf) = 0, exp(inf) = inf,
 *     exp(x) = inf exactly from the first x where it overflows on,
 *     tanh(+-0) = +-0, tanh(+-inf) = +-1 and exactly +-1 for every
 *     |x| >= 9.1, sigmoid in [0, 1], sigmoid(-inf) = 0, sigmoid(inf) = 1,
 *     NaN in -> NaN out.
 * A failure prints the worst input, both values and the error in ulp.
 *
 * The vectorized loops: seqrt_act_forward (the dispatched clone for this
 * CPU, AVX-512F, AVX2 or baseline) over the same inputs must give the bits
 * of the scalar function evaluated here one value at a time (NaN: any NaN).
 * tests/dispatch compares the clones with each other.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_math.h"
#include "seqrt_kernels.h"

#define BOUND_ULP 2.0

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* the spacing of floats at r (r finite, rounded to float finite) */
static double ulp_at(double r)
{
    double a = fabs(r);
    if (a < 0x1p-126)
        return 0x1p-149;
    int e;
    frexp(a >= 0x1p128 ? 0x1p127 : a, &e);   /* a = m 2^e, m in [0.5, 1) */
    return ldexp(1.0, e - 24);
}

/* the error of y against the double reference r, in ulp; HUGE_VAL when y
 * is of the wrong kind (NaN, inf, sign of an infinity) */
static double ulp_error(float y, double r)
{
    if (isnan(r))
        return isnan(y) ? 0.0 : HUGE_VAL;
    float rf = (float)r;
    if (isinf(rf))
        return isinf(y) && signbit(y) == signbit(rf) ? 0.0 : HUGE_VAL;
    if (isnan(y) || isinf(y))
        return HUGE_VAL;
    return fabs((double)y - r) / ulp_at(r);
}

typedef struct {
    const char *name;
    float (*f)(float);
    double (*ref)(double);
    seqrt_act act;   /* the runtime activation that computes it; -1: none */
    double worst;
    float worst_x;
    long count;
} Fn;

static float f_exp(float x) { return seqrt_expf(x); }
static float f_tanh(float x) { return seqrt_tanhf(x); }
static float f_sigmoid(float x) { return seqrt_sigmoidf(x); }
static double r_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static Fn fns[] = {
    {"exp", f_exp, exp, SEQRT_ACT_EXPONENTIAL, 0, 0, 0},
    {"tanh", f_tanh, tanh, SEQRT_ACT_TANH, 0, 0, 0},
    {"sigmoid", f_sigmoid, r_sigmoid, SEQRT_ACT_SIGMOID, 0, 0, 0},
};
#define NFN ((int)(sizeof fns / sizeof fns[0]))

static int failures;

static void fail(const char *what, const char *fn, float x, float y)
{
    if (failures++ < 20)
        printf("FAIL %s: %s(%a = %.9g) = %a (%.9g)\n", what, fn, x, x, y, y);
}

/* Checks a batch of inputs: the error bound for every function, and the
 * runtime's vectorized loop against the scalar function. */
#define BATCH 4096
static void check(const float *x, int n, int which)
{
    static float y[BATCH];
    for (int k = 0; k < NFN; k++) {
        Fn *f = &fns[k];
        if (which >= 0 && k != which)
            continue;
        seqrt_act_forward(y, x, 1, n, seqrt_act_default(f->act));
        for (int i = 0; i < n; i++) {
            float s = f->f(x[i]);
            double e = ulp_error(s, f->ref((double)x[i]));
            f->count++;
            if (e > f->worst)
                f->worst = e, f->worst_x = x[i];
            if (!(isnan(s) && isnan(y[i])) && to_bits(s) != to_bits(y[i]))
                fail("vectorized != scalar", f->name, x[i], y[i]);
        }
    }
}

/* every float from lo to hi (same sign), then the same with -x */
static void sweep_range(float lo, float hi, int which)
{
    static float x[BATCH];
    for (int sgn = 0; sgn < 2; sgn++) {
        int n = 0;
        for (float v = lo; v <= hi; v = nextafterf(v, INFINITY)) {
            x[n++] = sgn ? -v : v;
            if (n == BATCH)
                check(x, n, which), n = 0;
        }
        check(x, n, which);
    }
}

static void expect(int ok, const char *what, const char *fn, float x, float y)
{
    if (!ok)
        fail(what, fn, x, y);
}

static void exact_properties(void)
{
    float inf = HUGE_VALF, nan = from_bits(0x7fc00000u);
    expect(seqrt_expf(0.0f) == 1.0f, "exp(0) == 1", "exp", 0.0f, seqrt_expf(0.0f));
    expect(seqrt_expf(-0.0f) == 1.0f, "exp(-0) == 1", "exp", -0.0f, seqrt_expf(-0.0f));
    expect(seqrt_expf(-inf) == 0.0f && !signbit(seqrt_expf(-inf)), "exp(-inf) == +0", "exp", -inf, seqrt_expf(-inf));
    expect(seqrt_expf(inf) == inf, "exp(inf) == inf", "exp", inf, seqrt_expf(inf));
    /* the overflow threshold: exp(88.7228317) < FLT_MAX, the next float overflows */
    float big = 88.7228317f, over = nextafterf(big, inf);
    expect(isfinite(seqrt_expf(big)), "exp finite below the overflow", "exp", big, seqrt_expf(big));
    for (float v = over; v < 1e30f; v *= 1.001f)
        if (seqrt_expf(v) != inf) {
            expect(0, "exp overflows to inf", "exp", v, seqrt_expf(v));
            break;
        }
    for (float v = -104.0f; v > -1e30f; v *= 1.001f)
        if (seqrt_expf(v) != 0.0f) {
            expect(0, "exp underflows to 0", "exp", v, seqrt_expf(v));
            break;
        }
    expect(seqrt_expf(-103.9f) > 0.0f, "exp(-103.9) is subnormal, not 0", "exp", -103.9f, seqrt_expf(-103.9f));

    float t0 = seqrt_tanhf(0.0f), tm0 = seqrt_tanhf(-0.0f);
    expect(t0 == 0.0f && !signbit(t0), "tanh(+0) == +0", "tanh", 0.0f, t0);
    expect(tm0 == 0.0f && signbit(tm0), "tanh(-0) == -0", "tanh", -0.0f, tm0);
    expect(seqrt_tanhf(inf) == 1.0f, "tanh(inf) == 1", "tanh", inf, seqrt_tanhf(inf));
    expect(seqrt_tanhf(-inf) == -1.0f, "tanh(-inf) == -1", "tanh", -inf, seqrt_tanhf(-inf));
    for (float v = 9.1f; v < 1e38f; v = v * 1.0001f + 1e-3f) {
        if (seqrt_tanhf(v) != 1.0f || seqrt_tanhf(-v) != -1.0f) {
            expect(0, "tanh saturates to +-1 exactly from 9.1 on", "tanh", v, seqrt_tanhf(v));
            break;
        }
    }
    float sm = from_bits(1);   /* the smallest subnormal: tanh(x) = x */
    expect(seqrt_tanhf(sm) == sm && seqrt_tanhf(-sm) == -sm, "tanh(subnormal) == subnormal", "tanh", sm,
           seqrt_tanhf(sm));

    expect(seqrt_sigmoidf(-inf) == 0.0f, "sigmoid(-inf) == 0", "sigmoid", -inf, seqrt_sigmoidf(-inf));
    expect(seqrt_sigmoidf(inf) == 1.0f, "sigmoid(inf) == 1", "sigmoid", inf, seqrt_sigmoidf(inf));
    expect(seqrt_sigmoidf(0.0f) == 0.5f && seqrt_sigmoidf(-0.0f) == 0.5f, "sigmoid(+-0) == 0.5", "sigmoid", 0.0f,
           seqrt_sigmoidf(0.0f));

    for (int k = 0; k < NFN; k++) {
        const uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fffffffu, 0xffa00000u};
        for (int i = 0; i < 5; i++)
            expect(isnan(fns[k].f(from_bits(nans[i]))), "NaN in, NaN out", fns[k].name, from_bits(nans[i]),
                   fns[k].f(from_bits(nans[i])));
        expect(isnan(fns[k].f(nan)), "NaN in, NaN out", fns[k].name, nan, fns[k].f(nan));
    }
}

/* the ranges of sigmoid and tanh over every 257th bit pattern */
static void bounded_ranges(void)
{
    for (uint64_t b = 0; b < (1ull << 32); b += 257) {
        float x = from_bits((uint32_t)b);
        if (isnan(x))
            continue;
        float s = seqrt_sigmoidf(x), t = seqrt_tanhf(x);
        expect(s >= 0.0f && s <= 1.0f, "sigmoid in [0, 1]", "sigmoid", x, s);
        expect(t >= -1.0f && t <= 1.0f, "tanh in [-1, 1]", "tanh", x, t);
    }
}

int main(void)
{
    static float x[BATCH];
    int n = 0;
    for (uint64_t b = 0; b < (1ull << 32); b += 257) {
        x[n++] = from_bits((uint32_t)b);
        if (n == BATCH)
            check(x, n, -1), n = 0;
    }
    check(x, n, -1);
    sweep_range(0.5f, 0.75f, 1);      /* tanh: the polynomial / exponential switch at 0.625 */
    sweep_range(87.0f, 104.0f, 0);    /* exp: subnormal results (-x), overflow (x > 88.72) */
    sweep_range(87.0f, 104.0f, 2);    /* sigmoid: subnormal results */
    sweep_range(4.0f, 8.0f, 2);       /* sigmoid: where e / (1 + e) loses most */
    exact_properties();
    bounded_ranges();

    for (int k = 0; k < NFN; k++) {
        Fn *f = &fns[k];
        double r = f->ref((double)f->worst_x);
        printf("%-8s %ld values, max error %.3f ulp at x = %a (%.9g): %.9g, double %.17g\n", f->name, f->count,
               f->worst, f->worst_x, f->worst_x, f->f(f->worst_x), r);
        if (!(f->worst <= BOUND_ULP)) {
            printf("FAIL %s: max error %.3f ulp > %.1f ulp\n", f->name, f->worst, BOUND_ULP);
            failures++;
        }
    }
    if (failures) {
        printf("%d failure(s)\n", failures);
        return 1;
    }
    printf("ok: within %.1f ulp, exact at the limits, vectorized == scalar\n", BOUND_ULP);
    return 0;
}
