/*
 * toy_model.c - the toy model of toy_model.h: a linear layer with plain-loop
 * forward, backward and SGD-with-momentum update, filled into a seqrt_model
 * descriptor the way generated code fills one. The loss and its gradient
 * come from the runtime's seqrt_loss, so the driver sees the real numbers.
 */
#include "toy_model.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

toy_config toy;

static seqrt_tensor toy_tensors[8];

void toy_defaults(void)
{
    memset(&toy, 0, sizeof toy);
    toy.in = 2;
    toy.out = 1;
    toy.loss = SEQRT_LOSS_MSE;
    toy.lr = 0.05f;
    toy.momentum = 0.9f;
    toy.fit.batch_size = 8;
    toy.fit.epochs = 5;
    toy.fit.shuffle = 1;
    toy.fit.seed = 1;
    toy.fit.verbose = 0;
    toy.fit.early_stopping.monitor = "val_loss";
}

static void toy_init(void *net, uint64_t seed)
{
    toy_state *s = net;
    seqrt_rng r;
    memset(s, 0, sizeof *s);
    seqrt_rng_seed(&r, seed);
    for (int i = 0; i < toy.out * toy.in; i++)
        s->w[i] = seqrt_rng_uniform(&r) - 0.5f;
    for (int j = 0; j < toy.in; j++)
        s->norm_var[j] = 1.0f;
}

static void normalize(toy_state *s, const float *x, int n)
{
    for (int r = 0; r < n; r++)
        for (int j = 0; j < toy.in; j++) {
            float sd = sqrtf(s->norm_var[j]);
            s->xn[r * toy.in + j] =
                toy.use_norm ? (x[r * toy.in + j] - s->norm_mean[j]) /
                                   (sd > 1e-7f ? sd : 1e-7f)
                             : x[r * toy.in + j];
        }
}

static void toy_forward(void *net, const float *x, float *y, int n,
                        int training)
{
    toy_state *s = net;
    memcpy(s->x, x, (size_t)n * (size_t)toy.in * sizeof(float));
    normalize(s, x, n);
    s->n = n;
    for (int r = 0; r < n; r++)
        for (int o = 0; o < toy.out; o++) {
            float z = s->b[o];
            for (int j = 0; j < toy.in; j++)
                z += s->w[o * toy.in + j] * s->xn[r * toy.in + j];
            if (!training && toy.val_script && s->epoch >= 1 &&
                s->epoch <= toy.nscript)
                z = (float)sqrt(toy.val_script[s->epoch - 1]);
            s->y[r * toy.out + o] = z;
        }
    memcpy(y, s->y, (size_t)n * (size_t)toy.out * sizeof(float));
}

static void count_rows(toy_state *s, int n)
{
    toy.rows_seen += n;
    for (int r = 0; r < n && toy.row_hits; r++) {
        long id = (long)s->x[r * toy.in];
        if (id >= 0 && id < toy.nrow_hits)
            toy.row_hits[id]++;
    }
}

static int nan_now(toy_state *s)
{
    if (s->batch_epoch != s->epoch || s->batch_in_epoch == 0) {
        s->batch_epoch = s->epoch;
        s->batch_in_epoch = 0;
    }
    s->batch_in_epoch++;
    return toy.nan_epoch && s->epoch + 1 == toy.nan_epoch &&
           s->batch_in_epoch == toy.nan_batch;
}

static float toy_backward(void *net, const float *t, int n)
{
    toy_state *s = net;
    float loss = seqrt_loss(toy.loss, s->dy, s->y, NULL, t, n, toy.out);
    memset(s->gw, 0, sizeof s->gw);
    memset(s->gb, 0, sizeof s->gb);
    for (int r = 0; r < n; r++)
        for (int o = 0; o < toy.out; o++) {
            float d = s->dy[r * toy.out + o];
            s->gb[o] += d;
            for (int j = 0; j < toy.in; j++)
                s->gw[o * toy.in + j] += d * s->xn[r * toy.in + j];
        }
    count_rows(s, n);
    return nan_now(s) ? NAN : loss;
}

static void sgd(float *w, float *v, const float *g, int count)
{
    for (int i = 0; i < count; i++) {
        v[i] = toy.momentum * v[i] - toy.lr * g[i];
        w[i] += v[i];
    }
}

static void toy_update(void *net)
{
    toy_state *s = net;
    sgd(s->w, s->vw, s->gw, toy.out * toy.in);
    sgd(s->b, s->vb, s->gb, toy.out);
    s->step++;
}

static float toy_train_step(void *net, const float *x, const float *t, int n)
{
    float y[TOY_MAX_BATCH * TOY_OUT_MAX];
    toy_forward(net, x, y, n, 1);
    float loss = toy_backward(net, t, n);
    toy_update(net);
    return loss;
}

static seqrt_tensor tensor(const char *name, int kind, int dtype,
                           size_t offset, int ndim, int d0, int d1)
{
    seqrt_tensor t = {name, kind, dtype, offset, ndim, {d0, d1}};
    return t;
}

static int fill_tensors(void)
{
    int n = 0;
    seqrt_tensor *t = toy_tensors;
    t[n++] = tensor("0.weight", SEQRT_T_PARAM, SEQRT_F32,
                    offsetof(toy_state, w), 2, toy.out, toy.in);
    t[n++] = tensor("0.bias", SEQRT_T_PARAM, SEQRT_F32,
                    offsetof(toy_state, b), 1, toy.out, 0);
    if (toy.use_norm) {
        t[n++] = tensor("norm.mean", SEQRT_T_BUFFER, SEQRT_F32,
                        offsetof(toy_state, norm_mean), 1, toy.in, 0);
        t[n++] = tensor("norm.variance", SEQRT_T_BUFFER, SEQRT_F32,
                        offsetof(toy_state, norm_var), 1, toy.in, 0);
    }
    t[n++] = tensor("optimizer.0.weight.momentum", SEQRT_T_OPTIM, SEQRT_F32,
                    offsetof(toy_state, vw), 2, toy.out, toy.in);
    t[n++] = tensor("optimizer.0.bias.momentum", SEQRT_T_OPTIM, SEQRT_F32,
                    offsetof(toy_state, vb), 1, toy.out, 0);
    t[n++] = tensor("train.step", SEQRT_T_STATE, SEQRT_I64,
                    offsetof(toy_state, step), 0, 0, 0);
    t[n++] = tensor("train.epoch", SEQRT_T_STATE, SEQRT_I64,
                    offsetof(toy_state, epoch), 0, 0, 0);
    return n;
}

void toy_model(seqrt_model *m)
{
    memset(m, 0, sizeof *m);
    m->name = "toy";
    m->in = toy.in;
    m->out = toy.out;
    m->max_batch = TOY_MAX_BATCH;
    m->state_bytes = sizeof(toy_state);
    m->loss = toy.loss;
    m->nmetrics = toy.nmetrics;
    memcpy(m->metrics, toy.metrics, sizeof m->metrics);
    m->ntensors = fill_tensors();
    m->tensors = toy_tensors;
    m->weights_offset = offsetof(toy_state, w);
    m->weights_bytes = offsetof(toy_state, vw) - offsetof(toy_state, w);
    m->param_offset = offsetof(toy_state, w);
    m->grad_offset = offsetof(toy_state, gw);
    m->param_count = toy.out * toy.in + toy.out;
    if (toy.use_norm) {
        m->norm_mean_offset = offsetof(toy_state, norm_mean);
        m->norm_var_offset = offsetof(toy_state, norm_var);
    }
    m->step_offset = offsetof(toy_state, step);
    m->epoch_offset = offsetof(toy_state, epoch);
    m->fit = toy.fit;
    m->init = toy_init;
    m->forward = toy_forward;
    m->backward = toy_backward;
    m->update = toy_update;
    m->train_step = toy_train_step;
}
