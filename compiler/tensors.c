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

int ir_opt_slots(const Model *m, const char **slot_m, const char **slot_v)
{
    *slot_m = *slot_v = NULL;
    if (!m->has_loss)
        return 0;
    switch (m->opt.kind) {
    case SEQRT_OPT_SGD:
        *slot_m = m->opt.momentum > 0 ? "momentum" : NULL;
        return 1;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        *slot_m = "m";
        *slot_v = "v";
        return 1;
    case SEQRT_OPT_RMSPROP:
        *slot_m = m->opt.momentum > 0 ? "momentum" : NULL;
        *slot_v = "velocity";
        return 1;
    }
    ir_internal_error("an optimizer that is not a seqrt_opt_kind");
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

static void row(TensorRow *r, const char *name, seqrt_tensor_kind kind, const char *member, const Param *p)
{
    r->name = name;
    r->kind = kind;
    r->dtype = SEQRT_F32;
    r->member = member;
    r->param = p;
    r->ndim = p->shape.rank;
    for (int d = 0; d < p->shape.rank; d++)
        r->shape[d] = p->shape.dim[d];
}

int ir_tensors(const Model *m, TensorRow **out)
{
    int cap = 8;
    for (int i = 0; i < m->nlayers; i++)
        cap += 4 * ir_nparams(&m->layer[i]) + 1;
    TensorRow *t = arena_alloc(sizeof(TensorRow) * (size_t)cap);
    int n = 0;
    const char *slot_m, *slot_v;
    int training = ir_opt_slots(m, &slot_m, &slot_v);
    for (int pass = 0; pass < 5; pass++) {
        if (pass >= 2 && !training)
            break;
        for (int i = 0; i < m->nlayers; i++) {
            const Layer *l = &m->layer[i];
            for (int k = 0; k < ir_nparams(l); k++) {
                const Param *p = ir_param_at(l, k);
                if (pass == 0 && p->trainable)
                    row(&t[n++], p->name, SEQRT_T_PARAM, arena_printf("param.%s", p->cname), p);
                else if (pass == 1 && !p->trainable)
                    row(&t[n++], p->name, SEQRT_T_BUFFER, arena_printf("buffer.%s", p->cname), p);
                else if (pass == 2 && p->trainable && slot_m)
                    row(&t[n++], arena_printf("optimizer.%s.%s", p->name, slot_m), SEQRT_T_OPTIM,
                        arena_printf("opt_m.%s", p->cname), p);
                else if (pass == 3 && p->trainable && slot_v)
                    row(&t[n++], arena_printf("optimizer.%s.%s", p->name, slot_v), SEQRT_T_OPTIM,
                        arena_printf("opt_v.%s", p->cname), p);
                else if (pass == 4 && p->trainable)
                    row(&t[n++], arena_printf("grad.%s", p->name), SEQRT_T_GRAD, arena_printf("grad.%s", p->cname), p);
            }
        }
    }
    state_row(&t[n++], "train.step", "step", 1);
    state_row(&t[n++], "train.epoch", "epoch", 1);
    state_row(&t[n++], "train.rng", "rng", 2);
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (l->kind->seed && l->kind->seed(l) >= 0)
            state_row(&t[n++], arena_printf("train.rng.%d", l->index), arena_printf("rng_%s", ir_tag(l)), 2);
    }
    *out = t;
    return n;
}
