/*
 * tensors.c - the checkpoint tensors of a model, in one place.
 *
 * The generated code's tensor table (emit_c.c) and the checkpoint reader of
 * the baked-weights emitter (emit_baked.c) must agree on every name, kind
 * and shape, so both take them from ir_tensors. Names follow a PyTorch
 * nn.Sequential state_dict indexed by layer statement ("3.weight");
 * optimizer slots are "optimizer.<param>.<slot>" with Keras's slot names;
 * counters and RNG states are "train.*". The order is: parameters,
 * buffers, optimizer slots, gradients, counters.
 */
#include "seqc.h"

static int opt_has_m(const Model *m)
{
    int k = m->opt.kind;
    return k == SEQRT_OPT_ADAM || k == SEQRT_OPT_ADAMW || m->opt.momentum > 0;
}

static int opt_has_v(const Model *m)
{
    int k = m->opt.kind;
    return k == SEQRT_OPT_ADAM || k == SEQRT_OPT_ADAMW || k == SEQRT_OPT_RMSPROP;
}

int ir_opt_slots(const Model *m, const char **slot_m, const char **slot_v)
{
    int training = m->loss >= 0;
    *slot_m = training && opt_has_m(m)
                  ? (m->opt.kind == SEQRT_OPT_SGD || m->opt.kind == SEQRT_OPT_RMSPROP ? "momentum" : "m")
                  : NULL;
    *slot_v = training && opt_has_v(m) ? (m->opt.kind == SEQRT_OPT_RMSPROP ? "velocity" : "v") : NULL;
    return training;
}

/* An int64 counter (a scalar) or RNG state (two words) of the state. */
static void state_row(TensorRow *r, const char *name, const char *member, int words)
{
    r->name = name;
    r->kind = SEQRT_T_STATE;
    r->dtype = SEQRT_I64;
    r->member = member;
    r->param = NULL;
    r->ndim = words > 1;
    r->shape[0] = words > 1 ? words : 0;
}

static void row(TensorRow *r, const char *name, int kind, int dtype, const char *member, const Param *p)
{
    r->name = name;
    r->kind = kind;
    r->dtype = dtype;
    r->member = member;
    r->param = p;
    if (p->cols) {
        r->ndim = 2;
        r->shape[0] = p->rows;
        r->shape[1] = p->cols;
    } else {
        r->ndim = 1;
        r->shape[0] = p->rows;
    }
}

int ir_tensors(const Model *m, TensorRow **out)
{
    int cap = 8;
    for (int i = 0; i < m->nlayers; i++)
        cap += 4 * m->layer[i].nparam + 1;
    TensorRow *t = arena_alloc(sizeof(TensorRow) * (size_t)cap);
    int n = 0;
    const char *slot_m, *slot_v;
    int training = ir_opt_slots(m, &slot_m, &slot_v);
    for (int pass = 0; pass < 5; pass++) {
        if (pass >= 2 && !training)
            break;
        for (int i = 0; i < m->nlayers; i++) {
            const Layer *l = &m->layer[i];
            for (int k = 0; k < l->nparam; k++) {
                const Param *p = &l->param[k];
                if (pass == 0 && p->trainable)
                    row(&t[n++], p->name, SEQRT_T_PARAM, SEQRT_F32, arena_printf("param.%s", p->cname), p);
                else if (pass == 1 && !p->trainable)
                    row(&t[n++], p->name, SEQRT_T_BUFFER, SEQRT_F32, arena_printf("buffer.%s", p->cname), p);
                else if (pass == 2 && p->trainable && slot_m)
                    row(&t[n++], arena_printf("optimizer.%s.%s", p->name, slot_m), SEQRT_T_OPTIM, SEQRT_F32,
                        arena_printf("opt_m.%s", p->cname), p);
                else if (pass == 3 && p->trainable && slot_v)
                    row(&t[n++], arena_printf("optimizer.%s.%s", p->name, slot_v), SEQRT_T_OPTIM, SEQRT_F32,
                        arena_printf("opt_v.%s", p->cname), p);
                else if (pass == 4 && p->trainable)
                    row(&t[n++], arena_printf("grad.%s", p->name), SEQRT_T_GRAD, SEQRT_F32,
                        arena_printf("grad.%s", p->cname), p);
            }
        }
    }
    state_row(&t[n++], "train.step", "step", 1);
    state_row(&t[n++], "train.epoch", "epoch", 1);
    state_row(&t[n++], "train.rng", "rng", 2);
    for (int i = 0; i < m->nlayers; i++)
        if (m->layer[i].op == OP_DROPOUT && m->layer[i].seed >= 0)
            state_row(&t[n++], arena_printf("train.rng.%d", m->layer[i].index),
                      arena_printf("rng_l%d", m->layer[i].index), 2);
    *out = t;
    return n;
}
