/*
 * test_optim.c - every optimizer against a double-precision re-statement of
 * its Keras formula, over 20 steps with fresh random gradients; and around
 * them, as Keras's BaseOptimizer.apply orders it: gradient clipping
 * (clipnorm per weight, global_clipnorm, clipvalue), decoupled weight
 * decay, the learning-rate schedules (20 steps of each against its Keras
 * formula in double, including a schedule driving an optimizer), the
 * constraints and the regularization penalties.
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

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define N 64
#define STEPS 20
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

/* ---------------------------------------------------------------- the Keras 3 optimizers seqc added */

typedef struct {
    float wf[N], s1f[N], s2f[N], s3f[N];
    double wd[N], s1d[N], s2d[N], s3d[N];
    float g[N];
    seqrt_rng r;
} traj;

static void traj_init(traj *t, uint64_t seed, float fill2)
{
    seqrt_rng_seed(&t->r, seed);
    for (int i = 0; i < N; i++) {
        t->wf[i] = 2.0f * seqrt_rng_uniform(&t->r) - 1.0f;
        t->wd[i] = t->wf[i];
        t->s1f[i] = t->s3f[i] = 0.0f;
        t->s1d[i] = t->s3d[i] = 0.0;
        t->s2f[i] = fill2;
        t->s2d[i] = fill2;
    }
}

static double f(float x) { return (double)x; }   /* the float the kernel sees */

static void test_adagrad(void)
{
    traj t;
    const double lr = 0.05, eps = 1e-7, init = 0.1;
    traj_init(&t, 21, (float)init);
    for (int s = 0; s < STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_adagrad_update(t.wf, t.g, t.s2f, N, (float)lr, (float)eps);
        for (int i = 0; i < N; i++) {
            t.s2d[i] += (double)t.g[i] * t.g[i];
            t.wd[i] -= f((float)lr) * t.g[i] / sqrt(t.s2d[i] + f((float)eps));
        }
    }
    cmp("adagrad", "w", t.wf, t.wd, N, lr);
    cmp("adagrad", "accumulator", t.s2f, t.s2d, N, lr);
}

static void test_adadelta(void)
{
    traj t;
    const double lr = 1.0, rho = 0.95, eps = 1e-6;
    traj_init(&t, 22, 0.0f);
    for (int s = 0; s < STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_adadelta_update(t.wf, t.g, t.s1f, t.s2f, N, (float)lr, (float)rho, (float)eps);
        double r = f((float)rho), e = f((float)eps);
        for (int i = 0; i < N; i++) {
            t.s1d[i] = r * t.s1d[i] + (1 - r) * (double)t.g[i] * t.g[i];
            double d = -sqrt(t.s2d[i] + e) * t.g[i] / sqrt(t.s1d[i] + e);
            t.s2d[i] = r * t.s2d[i] + (1 - r) * d * d;
            t.wd[i] += lr * d;
        }
    }
    cmp("adadelta", "w", t.wf, t.wd, N, 1e-3);
    cmp("adadelta", "accumulated_grad", t.s1f, t.s1d, N, 1e-3);
    cmp("adadelta", "accumulated_delta_var", t.s2f, t.s2d, N, 1e-6);
}

static void test_adamax(void)
{
    traj t;
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    traj_init(&t, 23, 0.0f);
    for (int s = 1; s <= STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_adamax_update(t.wf, t.g, t.s1f, t.s2f, N, (float)lr, (float)b1, (float)b2, (float)eps, s);
        double fb1 = f((float)b1), fb2 = f((float)b2);
        for (int i = 0; i < N; i++) {
            t.s1d[i] += (t.g[i] - t.s1d[i]) * (1 - fb1);
            t.s2d[i] = fmax(fb2 * t.s2d[i], fabs((double)t.g[i]));
            t.wd[i] -= f((float)lr) * t.s1d[i] / ((1 - pow(fb1, s)) * (t.s2d[i] + f((float)eps)));
        }
    }
    cmp("adamax", "w", t.wf, t.wd, N, lr);
    cmp("adamax", "m", t.s1f, t.s1d, N, lr);
    cmp("adamax", "norm", t.s2f, t.s2d, N, lr);
}

static void test_nadam(void)
{
    traj t;
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    traj_init(&t, 24, 0.0f);
    float upf = 1.0f;
    double upd = 1.0;
    for (int s = 1; s <= STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_nadam_update(t.wf, t.g, t.s1f, t.s2f, &upf, N, (float)lr, (float)b1, (float)b2, (float)eps, s);
        double fb1 = f((float)b1), fb2 = f((float)b2);
        double u_t = fb1 * (1 - 0.5 * pow(0.96, s)), u_t1 = fb1 * (1 - 0.5 * pow(0.96, s + 1));
        upd *= u_t;
        double up1 = upd * u_t1;
        for (int i = 0; i < N; i++) {
            t.s1d[i] += (t.g[i] - t.s1d[i]) * (1 - fb1);
            t.s2d[i] += ((double)t.g[i] * t.g[i] - t.s2d[i]) * (1 - fb2);
            double mhat = u_t1 * t.s1d[i] / (1 - up1) + (1 - u_t) * t.g[i] / (1 - upd);
            double vhat = t.s2d[i] / (1 - pow(fb2, s));
            t.wd[i] -= mhat * f((float)lr) / (sqrt(vhat) + f((float)eps));
        }
    }
    cmp("nadam", "w", t.wf, t.wd, N, lr);
    cmp("nadam", "m", t.s1f, t.s1d, N, lr);
    cmp("nadam", "v", t.s2f, t.s2d, N, lr * 1e-3);
    double ud[1] = {upd};
    cmp("nadam", "u_product", &upf, ud, 1, 0);
}

static void test_lion(void)
{
    traj t;
    const double lr = 0.01, b1 = 0.9, b2 = 0.99;
    traj_init(&t, 25, 0.0f);
    for (int s = 0; s < STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_lion_update(t.wf, t.g, t.s1f, N, (float)lr, (float)b1, (float)b2);
        double fb1 = f((float)b1), fb2 = f((float)b2);
        for (int i = 0; i < N; i++) {
            double c = t.s1d[i] * fb1 + t.g[i] * (1 - fb1);
            t.wd[i] -= f((float)lr) * (c > 0 ? 1 : c < 0 ? -1 : 0);
            t.s1d[i] = t.s1d[i] * fb2 + t.g[i] * (1 - fb2);
        }
    }
    cmp("lion", "w", t.wf, t.wd, N, lr);
    cmp("lion", "momentum", t.s1f, t.s1d, N, lr);
}

static void test_ftrl(double l1, double l2, double shrink, double beta)
{
    traj t;
    const double lr = 0.05, power = -0.5, init = 0.1;
    traj_init(&t, 26, (float)init);
    for (int s = 0; s < STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_ftrl_update(t.wf, t.g, t.s2f, t.s1f, N, (float)lr, (float)power, (float)l1, (float)l2,
                          (float)shrink, (float)beta);
        double flr = f((float)lr), l2r = f((float)l2) + f((float)beta) / (2 * flr);
        for (int i = 0; i < N; i++) {
            double g2 = t.g[i] + 2 * f((float)shrink) * t.wd[i];
            double na = t.s2d[i] + (double)t.g[i] * t.g[i];
            t.s1d[i] += g2 - (sqrt(na) - sqrt(t.s2d[i])) / flr * t.wd[i];
            double quad = sqrt(na) / flr + 2 * l2r, l = f((float)l1);
            double clipped = fmin(fmax(t.s1d[i], -l), l);
            t.wd[i] = (clipped - t.s1d[i]) / quad;
            t.s2d[i] = na;
        }
    }
    char what[80];
    snprintf(what, sizeof what, "ftrl l1=%g l2=%g shrinkage=%g beta=%g", l1, l2, shrink, beta);
    cmp(what, "w", t.wf, t.wd, N, lr);
    cmp(what, "linear", t.s1f, t.s1d, N, lr);
    cmp(what, "accumulator", t.s2f, t.s2d, N, lr);
}

static void test_amsgrad(float wdecay)
{
    traj t;
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    traj_init(&t, 27, 0.0f);
    for (int s = 1; s <= STEPS; s++) {
        grads(t.g, &t.r);
        if (s % 5 == 0)   /* small gradients: v falls below its maximum */
            for (int i = 0; i < N; i++)
                t.g[i] *= 0.01f;
        seqrt_amsgrad_update(t.wf, t.g, t.s1f, t.s2f, t.s3f, N, (float)lr, (float)b1, (float)b2, (float)eps,
                             wdecay, s);
        double fb1 = f((float)b1), fb2 = f((float)b2), flr = f((float)lr);
        double lr_t = flr * sqrt(1 - pow(fb2, s)) / (1 - pow(fb1, s));
        for (int i = 0; i < N; i++) {
            if (wdecay > 0)
                t.wd[i] -= flr * (double)wdecay * t.wd[i];
            t.s1d[i] = fb1 * t.s1d[i] + (1 - fb1) * t.g[i];
            t.s2d[i] = fb2 * t.s2d[i] + (1 - fb2) * (double)t.g[i] * t.g[i];
            t.s3d[i] = fmax(t.s3d[i], t.s2d[i]);
            t.wd[i] -= lr_t * t.s1d[i] / (sqrt(t.s3d[i]) + f((float)eps));
        }
    }
    char what[48];
    snprintf(what, sizeof what, "adam amsgrad weight_decay=%g", wdecay);
    cmp(what, "w", t.wf, t.wd, N, lr);
    cmp(what, "vhat", t.s3f, t.s3d, N, lr * 1e-3);
}

static void test_rmsprop_centered(float momentum)
{
    traj t;
    const double lr = 0.01, rho = 0.9, eps = 1e-7;
    traj_init(&t, 28, 0.0f);
    for (int s = 0; s < STEPS; s++) {
        grads(t.g, &t.r);
        seqrt_rmsprop_centered_update(t.wf, t.g, t.s2f, momentum > 0 ? t.s1f : NULL, t.s3f, N, (float)lr,
                                      (float)rho, momentum, (float)eps);
        double r = f((float)rho), flr = f((float)lr);
        for (int i = 0; i < N; i++) {
            t.s2d[i] = r * t.s2d[i] + (1 - r) * (double)t.g[i] * t.g[i];
            t.s3d[i] = r * t.s3d[i] + (1 - r) * t.g[i];
            double inc = flr * t.g[i] / sqrt(t.s2d[i] - t.s3d[i] * t.s3d[i] + f((float)eps));
            if (momentum > 0) {
                t.s1d[i] = (double)momentum * t.s1d[i] + inc;
                t.wd[i] -= t.s1d[i];
            } else {
                t.wd[i] -= inc;
            }
        }
    }
    char what[48];
    snprintf(what, sizeof what, "rmsprop centered momentum=%g", momentum);
    cmp(what, "w", t.wf, t.wd, N, lr);
    cmp(what, "average_gradient", t.s3f, t.s3d, N, lr);
}

/* ---------------------------------------------------------------- around the update */

/* Keras's _clip_gradients then _apply_weight_decay then SGD, 20 steps;
 * kind 0 clipnorm over two "weights" (halves), 1 global_clipnorm, 2
 * clipvalue. */
static void test_clip_and_decay(int kind)
{
    traj t;
    const double lr = 0.1, wd = 0.01, c = kind == 2 ? 0.3 : 1.5;
    traj_init(&t, 30 + (uint64_t)kind, 0.0f);
    for (int s = 0; s < STEPS; s++) {
        grads(t.g, &t.r);
        double gd[N];
        for (int i = 0; i < N; i++)
            gd[i] = t.g[i];
        if (kind == 0) {
            seqrt_clip_by_norm(t.g, N / 2, (float)c);
            seqrt_clip_by_norm(t.g + N / 2, N / 2, (float)c);
            for (int h = 0; h < 2; h++) {
                double sq = 0;
                for (int i = h * N / 2; i < (h + 1) * N / 2; i++)
                    sq += gd[i] * gd[i];
                for (int i = h * N / 2; i < (h + 1) * N / 2; i++)
                    gd[i] = gd[i] * c / fmax(sqrt(sq), c);
            }
        } else if (kind == 1) {
            seqrt_clip_by_global_norm(t.g, N, (float)c);
            double sq = 0;
            for (int i = 0; i < N; i++)
                sq += gd[i] * gd[i];
            double scale = c * fmin(1 / sqrt(sq), 1 / c);
            for (int i = 0; i < N; i++)
                gd[i] *= scale;
        } else {
            seqrt_clip_by_value(t.g, N, (float)c);
            for (int i = 0; i < N; i++)
                gd[i] = fmin(fmax(gd[i], -f((float)c)), f((float)c));
        }
        seqrt_weight_decay(t.wf, N, (float)lr, (float)wd);
        seqrt_sgd_update(t.wf, t.g, NULL, N, (float)lr, 0.0f, 0);
        for (int i = 0; i < N; i++) {
            t.wd[i] -= t.wd[i] * f((float)wd) * f((float)lr);
            t.wd[i] -= f((float)lr) * gd[i];
        }
    }
    static const char *const names[] = {"clipnorm", "global_clipnorm", "clipvalue"};
    char what[64];
    snprintf(what, sizeof what, "sgd %s + weight_decay", names[kind]);
    cmp(what, "w", t.wf, t.wd, N, lr);
}

/* Keras 3's schedule formulas (keras/src/optimizers/schedules), in double. */
static double keras_lr(const seqrt_lr_schedule *s, double step)
{
    double lr0 = s->initial_learning_rate, p;
    switch ((seqrt_schedule_kind)s->kind) {
    case SEQRT_SCHEDULE_EXPONENTIAL_DECAY:
        p = step / s->decay_steps;
        return lr0 * pow(s->decay_rate, s->staircase ? floor(p) : p);
    case SEQRT_SCHEDULE_INVERSE_TIME_DECAY:
        p = step / s->decay_steps;
        return lr0 / (1 + s->decay_rate * (s->staircase ? floor(p) : p));
    case SEQRT_SCHEDULE_POLYNOMIAL_DECAY: {
        double ds = s->decay_steps;
        if (s->cycle)
            ds = ds * (step == 0 ? 1 : ceil(step / s->decay_steps));
        else
            step = fmin(step, ds);
        return (lr0 - s->end_learning_rate) * pow(1 - step / ds, s->power) + s->end_learning_rate;
    }
    case SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY: {
        int nb = s->nvalues - 1;
        double r = 0;
        r += (step <= s->boundaries[0]) * s->values[0];
        r += (step > s->boundaries[nb - 1]) * s->values[nb];
        for (int i = 0; i + 1 < nb; i++)
            r += (step > s->boundaries[i] && step <= s->boundaries[i + 1]) * s->values[i + 1];
        return r;
    }
    case SEQRT_SCHEDULE_COSINE_DECAY: {
        double from = lr0, ds = s->decay_steps;
        if (s->warmup) {
            step = fmin(step, ds + s->warmup_steps);
            if (step < s->warmup_steps) {
                return (s->warmup_target - lr0) * (step / s->warmup_steps) + lr0;
            }
            step -= s->warmup_steps;
            from = s->warmup_target;
        } else {
            step = fmin(step, ds);
        }
        return from * ((1 - s->alpha) * 0.5 * (1 + cos(M_PI * step / ds)) + s->alpha);
    }
    case SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS: {
        double frac = step / s->decay_steps, i_restart;
        if (s->t_mul == 1.0) {
            i_restart = floor(frac);
            frac -= i_restart;
        } else {
            i_restart = floor(log(1 - frac * (1 - s->t_mul)) / log(s->t_mul));
            double sum_r = (1 - pow(s->t_mul, i_restart)) / (1 - s->t_mul);
            frac = (frac - sum_r) / pow(s->t_mul, i_restart);
        }
        double c = 0.5 * pow(s->m_mul, i_restart) * (1 + cos(M_PI * frac));
        return lr0 * ((1 - s->alpha) * c + s->alpha);
    }
    }
    return NAN;
}

static void test_schedules(void)
{
    static const double b[] = {5, 12}, v[] = {0.1, 0.05, 0.01};
    const seqrt_lr_schedule cases[] = {
        {.kind = SEQRT_SCHEDULE_EXPONENTIAL_DECAY, .initial_learning_rate = 0.1, .decay_steps = 7, .decay_rate = 0.5},
        {.kind = SEQRT_SCHEDULE_EXPONENTIAL_DECAY, .initial_learning_rate = 0.1, .decay_steps = 7, .decay_rate = 0.5,
         .staircase = 1},
        {.kind = SEQRT_SCHEDULE_INVERSE_TIME_DECAY, .initial_learning_rate = 0.1, .decay_steps = 3, .decay_rate = 0.5},
        {.kind = SEQRT_SCHEDULE_INVERSE_TIME_DECAY, .initial_learning_rate = 0.1, .decay_steps = 3, .decay_rate = 0.5,
         .staircase = 1},
        {.kind = SEQRT_SCHEDULE_POLYNOMIAL_DECAY, .initial_learning_rate = 0.1, .decay_steps = 12,
         .end_learning_rate = 0.001, .power = 2},
        {.kind = SEQRT_SCHEDULE_POLYNOMIAL_DECAY, .initial_learning_rate = 0.1, .decay_steps = 6,
         .end_learning_rate = 0.0001, .power = 1, .cycle = 1},
        {.kind = SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY, .nvalues = 3, .boundaries = b, .values = v},
        {.kind = SEQRT_SCHEDULE_COSINE_DECAY, .initial_learning_rate = 0.1, .decay_steps = 15, .alpha = 0.1},
        {.kind = SEQRT_SCHEDULE_COSINE_DECAY, .initial_learning_rate = 0.0, .decay_steps = 10, .warmup = 1,
         .warmup_target = 0.1, .warmup_steps = 5},
        {.kind = SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS, .initial_learning_rate = 0.1, .decay_steps = 4, .t_mul = 2,
         .m_mul = 0.8, .alpha = 0.05},
        {.kind = SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS, .initial_learning_rate = 0.1, .decay_steps = 4, .t_mul = 1,
         .m_mul = 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float got[STEPS];
        double want[STEPS];
        for (int s = 0; s < STEPS; s++) {
            got[s] = seqrt_lr_at(&cases[k], s);
            want[s] = keras_lr(&cases[k], s);
        }
        char what[64];
        snprintf(what, sizeof what, "schedule %s case %zu", seqrt_schedule_name(cases[k].kind), k);
        cmp(what, "learning rate", got, want, STEPS, 1e-6);
    }
    /* a schedule driving Adam: the rate of step t is the schedule at t - 1 */
    traj t;
    traj_init(&t, 40, 0.0f);
    for (int s = 1; s <= STEPS; s++) {
        grads(t.g, &t.r);
        float lr = seqrt_lr_at(&cases[0], s - 1);
        seqrt_adam_update(t.wf, t.g, t.s1f, t.s2f, N, lr, 0.9f, 0.999f, 1e-7f, 0.0f, s);
        double flr = f(lr), b1 = f(0.9f), b2 = f(0.999f);
        double lr_t = flr * sqrt(1 - pow(b2, s)) / (1 - pow(b1, s));
        for (int i = 0; i < N; i++) {
            t.s1d[i] = b1 * t.s1d[i] + (1 - b1) * t.g[i];
            t.s2d[i] = b2 * t.s2d[i] + (1 - b2) * (double)t.g[i] * t.g[i];
            t.wd[i] -= lr_t * t.s1d[i] / (sqrt(t.s2d[i]) + f(1e-7f));
        }
    }
    cmp("adam with ExponentialDecay", "w", t.wf, t.wd, N, 0.1);
}

/* Constraints and penalties against their Keras formulas. */
static void test_constraints(void)
{
    float w[12];
    double want[12];
    seqrt_rng r;
    seqrt_rng_seed(&r, 50);
    for (int kind = 0; kind < 4; kind++)
        for (int axis = -1; axis <= 1; axis++) {
            for (int i = 0; i < 12; i++)
                w[i] = 2.0f * seqrt_rng_uniform(&r) - 1.0f - (kind == 1 ? 0.3f : 0.0f);
            float lo = 0.5f, hi = 0.9f, rate = 0.7f;
            /* w is (3, 4); groups: rows (axis 1), columns (axis 0), all (-1) */
            for (int gi = 0; gi < (axis == 1 ? 3 : axis == 0 ? 4 : 1); gi++) {
                int idx[12], n = 0;
                for (int i = 0; i < 12; i++)
                    if (axis == -1 || (axis == 1 && i / 4 == gi) || (axis == 0 && i % 4 == gi))
                        idx[n++] = i;
                double sq = 0;
                for (int j = 0; j < n; j++)
                    sq += (double)w[idx[j]] * w[idx[j]];
                double norm = sqrt(sq), desired = kind == 0 ? fmin(norm, hi) : kind == 2 ? 1.0
                                                 : rate * fmin(fmax(norm, lo), hi) + (1 - rate) * norm;
                for (int j = 0; j < n; j++)
                    want[idx[j]] = kind == 1 ? fmax(w[idx[j]], 0.0) : w[idx[j]] * desired / (1e-7 + norm);
            }
            seqrt_constrain(kind, w, 3, 4, axis, lo, hi, rate);
            char what[48];
            snprintf(what, sizeof what, "constraint %d axis %d", kind, axis);
            cmp(what, "w", w, want, 12, 1e-3);
        }
    /* penalties: l1 sum|w| + l2 sum w^2 and the gradient l1 sign(w) + 2 l2 w */
    float g[12] = {0}, pw[1];
    double gw[12], pd[1] = {0};
    for (int i = 0; i < 12; i++) {
        w[i] = (float)(i - 6) / 4.0f;
        pd[0] += 0.01 * fabs(w[i]) + 0.02 * (double)w[i] * w[i];
        gw[i] = 0.01 * (w[i] > 0 ? 1 : w[i] < 0 ? -1 : 0) + 2 * 0.02 * w[i];
    }
    pw[0] = seqrt_regularize(w, g, 12, 0.01f, 0.02f, 4);   /* no split batch: all of it */
    cmp("regularize", "penalty", pw, pd, 1, 1e-3);
    cmp("regularize", "gradient", g, gw, 12, 1e-3);
    for (int i = 0; i < 12; i++) {
        g[i] = 0;
        gw[i] /= 3.0;   /* activity: divided by the 3 rows */
    }
    pw[0] = seqrt_activity_regularize(w, g, 3, 4, 0.01f, 0.02f);
    pd[0] /= 3.0;
    cmp("activity_regularize", "penalty", pw, pd, 1, 1e-3);
    cmp("activity_regularize", "gradient", g, gw, 12, 1e-3);
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
    test_adagrad();
    test_adadelta();
    test_adamax();
    test_nadam();
    test_lion();
    test_ftrl(0.0, 0.0, 0.0, 0.0);
    test_ftrl(0.01, 0.02, 0.05, 0.5);
    test_amsgrad(0.0f);
    test_amsgrad(0.004f);
    test_rmsprop_centered(0.0f);
    test_rmsprop_centered(0.9f);
    for (int k = 0; k < 3; k++)
        test_clip_and_decay(k);
    test_schedules();
    test_constraints();
    printf("test_optim: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
