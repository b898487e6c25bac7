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
 */
#include "seqrt_kernels.h"
#include "dispatch.h"

#include <math.h>

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
