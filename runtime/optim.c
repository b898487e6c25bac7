/*
 * optim.c - Keras optimizer update rules over flat parameter arrays.
 *
 * Every parameter tensor of a model lies in one contiguous range, as do its
 * gradients and optimizer slots, so each optimizer is a single loop over
 * `count` elements. The formulas are Keras 3's:
 *   SGD:     v = momentum v - lr g; w += nesterov ? momentum v - lr g : v
 *            (momentum == 0: w -= lr g, velocity unused and may be NULL)
 *   Adam:    m += (1-b1)(g - m); v += (1-b2)(g^2 - v)   (= b1 m + (1-b1) g,
 *            Keras's and PyTorch's lerp form);
 *            w -= lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1-b2^t)/(1-b1^t)
 *            computed in double once per step, then rounded to float.
 *   AdamW:   w -= lr wd w first (decoupled weight decay), then Adam.
 *   RMSprop: v = rho v + (1-rho) g^2; inc = lr g / sqrt(v + eps);
 *            momentum > 0: mom = momentum mom + inc, w -= mom; else w -= inc.
 * and Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl, AMSGrad and centered
 * RMSprop as seqrt_kernels.h states them, each Keras 3's update_step
 * (keras/src/optimizers) in the same order of operations, in float; the
 * per-step scalars (bias corrections, Nadam's momentum schedule) in double,
 * rounded once.
 *
 * Around the update rule, as Keras's BaseOptimizer.apply orders them: the
 * gradients are clipped (clipnorm per weight, global_clipnorm over all of
 * them, clipvalue per element), the weights decayed (w -= w wd lr), the
 * rule applied, then the constraints (MaxNorm, NonNeg, UnitNorm,
 * MinMaxNorm). The learning rate is a constant or a schedule evaluated at
 * the step count before the step (seqrt_lr_at).
 */
#include "seqrt_kernels.h"
#include "dispatch.h"

#include <math.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

SEQRT_DISPATCH
void seqrt_sgd_update(float *w, const float *g, float *velocity, long count,
                      float lr, float momentum, int nesterov)
{
    /* w: (count), g: (count), velocity: (count) or NULL if momentum == 0 */
    if (momentum == 0.0f || !velocity) {
        for (long i = 0; i < count; i++)
            w[i] -= lr * g[i];
        return;
    }
    for (long i = 0; i < count; i++) {
        float v = momentum * velocity[i] - lr * g[i];
        velocity[i] = v;
        w[i] += nesterov ? momentum * v - lr * g[i] : v;
    }
}

SEQRT_DISPATCH
void seqrt_adam_update(float *restrict w, const float *restrict g,
                       float *restrict m, float *restrict v, long count,
                       float lr, float beta1, float beta2, float eps,
                       float weight_decay, long long step)
{
    /* w: (count), g: (count), m: (count), v: (count) */
    double t = (double)(step > 0 ? step : 1);
    float lr_t = (float)((double)lr * sqrt(1.0 - pow((double)beta2, t)) /
                         (1.0 - pow((double)beta1, t)));
    float wd = lr * weight_decay;
    float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
    if (weight_decay > 0.0f)   /* AdamW: decoupled decay first (Keras) */
        for (long i = 0; i < count; i++)
            w[i] -= wd * w[i];
    for (long i = 0; i < count; i++) {
        float wi = w[i];
        float gi = g[i];
        float mi = m[i] + c1 * (gi - m[i]);
        float vi = v[i] + c2 * (gi * gi - v[i]);
        m[i] = mi;
        v[i] = vi;
        w[i] = wi - lr_t * mi / (sqrtf(vi) + eps);
    }
}

SEQRT_DISPATCH
void seqrt_rmsprop_update(float *w, const float *g, float *v, float *mom,
                          long count, float lr, float rho, float momentum,
                          float eps)
{
    /* w: (count), g: (count), v: (count), mom: (count) or NULL if
     * momentum == 0 */
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float vi = rho * v[i] + (1.0f - rho) * gi * gi;
        v[i] = vi;
        float inc = lr * gi / sqrtf(vi + eps);
        if (momentum > 0.0f && mom) {
            float mi = momentum * mom[i] + inc;
            mom[i] = mi;
            w[i] -= mi;
        } else {
            w[i] -= inc;
        }
    }
}

void seqrt_amsgrad_update(float *restrict w, const float *restrict g,
                          float *restrict m, float *restrict v,
                          float *restrict vhat, long count, float lr,
                          float beta1, float beta2, float eps,
                          float weight_decay, long long step)
{
    /* w, g, m, v, vhat: (count) */
    double t = (double)(step > 0 ? step : 1);
    float lr_t = (float)((double)lr * sqrt(1.0 - pow((double)beta2, t)) /
                         (1.0 - pow((double)beta1, t)));
    float wd = lr * weight_decay;
    float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
    if (weight_decay > 0.0f)
        for (long i = 0; i < count; i++)
            w[i] -= wd * w[i];
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float mi = m[i] + c1 * (gi - m[i]);
        float vi = v[i] + c2 * (gi * gi - v[i]);
        float hi = vhat[i] > vi ? vhat[i] : vi;
        m[i] = mi;
        v[i] = vi;
        vhat[i] = hi;
        w[i] -= lr_t * mi / (sqrtf(hi) + eps);
    }
}

void seqrt_rmsprop_centered_update(float *w, const float *g, float *v,
                                   float *mom, float *avg, long count,
                                   float lr, float rho, float momentum,
                                   float eps)
{
    /* w, g, v, avg: (count); mom: (count) or NULL if momentum == 0 */
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float vi = rho * v[i] + (1.0f - rho) * gi * gi;
        float ai = rho * avg[i] + (1.0f - rho) * gi;
        v[i] = vi;
        avg[i] = ai;
        float inc = lr * gi / sqrtf(vi - ai * ai + eps);
        if (momentum > 0.0f && mom) {
            float mi = momentum * mom[i] + inc;
            mom[i] = mi;
            w[i] -= mi;
        } else {
            w[i] -= inc;
        }
    }
}

void seqrt_adagrad_update(float *restrict w, const float *restrict g,
                          float *restrict acc, long count, float lr,
                          float eps)
{
    /* w, g, acc: (count) */
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float a = acc[i] + gi * gi;
        acc[i] = a;
        w[i] -= lr * gi / sqrtf(a + eps);
    }
}

void seqrt_adadelta_update(float *restrict w, const float *restrict g,
                           float *restrict acc_grad,
                           float *restrict acc_delta, long count, float lr,
                           float rho, float eps)
{
    /* w, g, acc_grad, acc_delta: (count) */
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float ag = rho * acc_grad[i] + (1.0f - rho) * (gi * gi);
        acc_grad[i] = ag;
        float d = -(sqrtf(acc_delta[i] + eps) * gi / sqrtf(ag + eps));
        acc_delta[i] = rho * acc_delta[i] + (1.0f - rho) * (d * d);
        w[i] += lr * d;
    }
}

void seqrt_adamax_update(float *restrict w, const float *restrict g,
                         float *restrict m, float *restrict u, long count,
                         float lr, float beta1, float beta2, float eps,
                         long long step)
{
    /* w, g, m, u: (count) */
    double t = (double)(step > 0 ? step : 1);
    float b1p = (float)(1.0 - pow((double)beta1, t));
    float c1 = 1.0f - beta1;
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * c1;
        float bu = beta2 * u[i], ag = fabsf(gi);
        float ui = bu > ag ? bu : ag;
        m[i] = mi;
        u[i] = ui;
        w[i] -= lr * mi / (b1p * (ui + eps));
    }
}

void seqrt_nadam_update(float *restrict w, const float *restrict g,
                        float *restrict m, float *restrict v,
                        float *u_product, long count, float lr, float beta1,
                        float beta2, float eps, long long step)
{
    /* w, g, m, v: (count); u_product: one float, updated once per step */
    double t = (double)(step > 0 ? step : 1);
    double u_t = (double)beta1 * (1.0 - 0.5 * pow(0.96, t));
    double u_t1 = (double)beta1 * (1.0 - 0.5 * pow(0.96, t + 1.0));
    float up = (float)((double)*u_product * u_t);
    *u_product = up;
    double up1 = (double)up * u_t1;
    float a = (float)(u_t1 / (1.0 - up1)), b = (float)((1.0 - u_t) / (1.0 - (double)up));
    float vscale = (float)(1.0 / (1.0 - pow((double)beta2, t)));
    float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * c1;
        float vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        float mhat = a * mi + b * gi;
        float vhat = vi * vscale;
        w[i] -= mhat * lr / (sqrtf(vhat) + eps);
    }
}

void seqrt_lion_update(float *restrict w, const float *restrict g,
                       float *restrict m, long count, float lr, float beta1,
                       float beta2)
{
    /* w, g, m: (count) */
    for (long i = 0; i < count; i++) {
        float gi = g[i], mi = m[i];
        float c = mi * beta1 + gi * (1.0f - beta1);
        float sgn = c > 0.0f ? 1.0f : (c < 0.0f ? -1.0f : 0.0f);
        w[i] -= lr * sgn;
        m[i] = mi * beta2 + gi * (1.0f - beta2);
    }
}

void seqrt_ftrl_update(float *restrict w, const float *restrict g,
                       float *restrict acc, float *restrict linear,
                       long count, float lr, float lr_power, float l1,
                       float l2, float l2_shrinkage, float beta)
{
    /* w, g, acc, linear: (count) */
    float l2_reg = l2 + beta / (2.0f * lr);
    float p = -lr_power;
    for (long i = 0; i < count; i++) {
        float gi = g[i], wi = w[i];
        float g2 = gi + 2.0f * l2_shrinkage * wi;
        float na = acc[i] + gi * gi;
        float pn = p == 0.5f ? sqrtf(na) : powf(na, p);
        float po = p == 0.5f ? sqrtf(acc[i]) : powf(acc[i], p);
        float lin = linear[i] + (g2 - (pn - po) / lr * wi);
        float quad = pn / lr + 2.0f * l2_reg;
        float clipped = lin < -l1 ? -l1 : (lin > l1 ? l1 : lin);
        linear[i] = lin;
        w[i] = (clipped - lin) / quad;
        acc[i] = na;
    }
}

void seqrt_weight_decay(float *restrict w, long count, float lr, float wd)
{
    /* w: (count) */
    for (long i = 0; i < count; i++)
        w[i] -= w[i] * wd * lr;
}

void seqrt_clip_by_norm(float *g, long count, float clipnorm)
{
    /* g: (count), one weight's gradient */
    double sq = 0.0;
    for (long i = 0; i < count; i++)
        sq += (double)g[i] * g[i];
    float den = fmaxf((float)sqrt(sq), clipnorm);
    for (long i = 0; i < count; i++)
        g[i] = g[i] * clipnorm / den;
}

void seqrt_clip_by_global_norm(float *g, long count, float clipnorm)
{
    /* g: (count), every gradient of the model */
    double sq = 0.0;
    for (long i = 0; i < count; i++)
        sq += (double)g[i] * g[i];
    float norm = (float)sqrt(sq);
    /* Keras: scale = clipnorm * min(1 / norm, 1 / clipnorm), NaN when the
     * norm is not finite */
    float scale = clipnorm * fminf(1.0f / norm, 1.0f / clipnorm) + (norm - norm);
    if (scale == 1.0f)
        return;
    for (long i = 0; i < count; i++)
        g[i] *= scale;
}

void seqrt_clip_by_value(float *g, long count, float clipvalue)
{
    /* g: (count) */
    for (long i = 0; i < count; i++)
        g[i] = g[i] < -clipvalue ? -clipvalue : (g[i] > clipvalue ? clipvalue : g[i]);
}

/* The L2 norm of the elements i*istride + j*jstride, j < len. */
static float norm_of(const float *w, long len, long stride)
{
    double sq = 0.0;
    for (long j = 0; j < len; j++)
        sq += (double)w[j * stride] * w[j * stride];
    return (float)sqrt(sq);
}

void seqrt_constrain(int kind, float *w, int rows, int cols, int axis,
                     float min_value, float max_value, float rate)
{
    /* w: (rows, cols) */
    const float eps = 1e-7f;
    long count = (long)rows * cols;
    if (kind == SEQRT_CONSTRAINT_NON_NEG) {
        for (long i = 0; i < count; i++)
            w[i] = w[i] > 0.0f ? w[i] : 0.0f;
        return;
    }
    /* groups: each row (axis 1), each column (axis 0) or all (-1) */
    long ngroups = axis == 1 ? rows : axis == 0 ? cols : 1;
    long len = axis == 1 ? cols : axis == 0 ? rows : count;
    long stride = axis == 0 ? cols : 1;
    for (long k = 0; k < ngroups; k++) {
        float *x = axis == 1 ? w + k * cols : axis == 0 ? w + k : w;
        float norm = norm_of(x, len, stride), desired = 0.0f;
        switch ((seqrt_constraint_kind)kind) {
        case SEQRT_CONSTRAINT_MAX_NORM:
            desired = norm < 0.0f ? 0.0f : (norm > max_value ? max_value : norm);
            break;
        case SEQRT_CONSTRAINT_UNIT_NORM:
            desired = 1.0f;
            break;
        case SEQRT_CONSTRAINT_MIN_MAX_NORM:
            desired = rate * (norm < min_value ? min_value : (norm > max_value ? max_value : norm)) +
                      (1.0f - rate) * norm;
            break;
        case SEQRT_CONSTRAINT_NON_NEG:
            return;   /* handled above */
        }
        float scale = desired / (eps + norm);
        for (long j = 0; j < len; j++)
            x[j * stride] *= scale;
    }
}

/* ---------------------------------------------------------------- schedules */

float seqrt_lr_at(const seqrt_lr_schedule *s, int64_t step_count)
{
    double step = (double)step_count, lr0 = s->initial_learning_rate, p, r;
    switch ((seqrt_schedule_kind)s->kind) {
    case SEQRT_SCHEDULE_EXPONENTIAL_DECAY:
        p = step / s->decay_steps;
        if (s->staircase)
            p = floor(p);
        return (float)(lr0 * pow(s->decay_rate, p));
    case SEQRT_SCHEDULE_INVERSE_TIME_DECAY:
        p = step / s->decay_steps;
        if (s->staircase)
            p = floor(p);
        return (float)(lr0 / (1.0 + s->decay_rate * p));
    case SEQRT_SCHEDULE_POLYNOMIAL_DECAY: {
        double ds = s->decay_steps;
        if (s->cycle)
            ds *= step == 0 ? 1.0 : ceil(step / s->decay_steps);
        else
            step = step < ds ? step : ds;
        p = step / ds;
        return (float)((lr0 - s->end_learning_rate) * pow(1.0 - p, s->power) + s->end_learning_rate);
    }
    case SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY: {
        int nb = s->nvalues - 1;
        if (nb <= 0)
            return (float)s->values[0];
        if (step <= s->boundaries[0])
            return (float)s->values[0];
        if (step > s->boundaries[nb - 1])
            return (float)s->values[nb];
        for (int i = 0; i + 1 < nb; i++)
            if (step > s->boundaries[i] && step <= s->boundaries[i + 1])
                return (float)s->values[i + 1];
        return (float)s->values[nb];
    }
    case SEQRT_SCHEDULE_COSINE_DECAY: {
        double ds = s->decay_steps, from = lr0;
        if (s->warmup) {
            double ws = s->warmup_steps;
            step = step < ds + ws ? step : ds + ws;
            if (step < ws)
                return (float)((s->warmup_target - lr0) * (step / ws) + lr0);
            step -= ws;
            from = s->warmup_target;
        } else {
            step = step < ds ? step : ds;
        }
        r = 0.5 * (1.0 + cos(M_PI * (step / ds)));
        return (float)(from * ((1.0 - s->alpha) * r + s->alpha));
    }
    case SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS: {
        double f = step / s->decay_steps, i_restart;
        if (s->t_mul == 1.0) {
            i_restart = floor(f);
            f -= i_restart;
        } else {
            i_restart = floor(log(1.0 - f * (1.0 - s->t_mul)) / log(s->t_mul));
            double sum_r = (1.0 - pow(s->t_mul, i_restart)) / (1.0 - s->t_mul);
            f = (f - sum_r) / pow(s->t_mul, i_restart);
        }
        r = 0.5 * pow(s->m_mul, i_restart) * (1.0 + cos(M_PI * f));
        return (float)(lr0 * ((1.0 - s->alpha) * r + s->alpha));
    }
    }
    abort(); /* not a seqrt_schedule_kind: a corrupt descriptor */
}
