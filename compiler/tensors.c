/*
 * tensors.c - the checkpoint tensors of a model, in one place.
 *
 * The generated code's tensor table (emit_c.c) and the checkpoint reader of
 * the baked-weights emitter (emit_baked.c) must agree on every name, kind
 * and shape, so both take them from ir_tensors. Names follow a PyTorch
 * nn.Sequential state_dict indexed by layer statement ("3.weight");
 * optimizer slots are "optimizer.<param>.<slot>" with Keras's slot names
 * ("optimizer.u_product", "optimizer.learning_rate" for the scalars);
 * counters and RNG states are "train.*". The order is: parameters,
 * buffers, optimizer slots, gradients, counters.
 */
#include <string.h>

#include "seqc.h"

int ir_opt_slots(const Model *m, OptSlots *s)
{
    memset(s, 0, sizeof *s);
    if (!m->has_loss)
        return 0;
    const Optimizer *o = &m->opt;
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        if (o->momentum > 0) {
            s->name[0] = "momentum";
            s->what[0] = "momentum";
        }
        return 1;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
    case SEQRT_OPT_NADAM:
        s->name[0] = "m";
        s->what[0] = "first moment";
        s->name[1] = "v";
        s->what[1] = "second moment";
        if (o->amsgrad) {
            s->name[2] = "vhat";
            s->what[2] = "largest second moment (amsgrad)";
        }
        s->u_product = o->kind == SEQRT_OPT_NADAM;
        return 1;
    case SEQRT_OPT_RMSPROP:
        if (o->momentum > 0) {
            s->name[0] = "momentum";
            s->what[0] = "momentum";
        }
        s->name[1] = "velocity";
        s->what[1] = "mean square (velocity)";
        if (o->centered) {
            s->name[2] = "average_gradient";
            s->what[2] = "mean gradient (centered)";
        }
        return 1;
    case SEQRT_OPT_ADAGRAD:
        s->name[1] = "accumulator";
        s->what[1] = "sum of squared gradients";
        s->fill[1] = o->initial_accumulator_value;
        return 1;
    case SEQRT_OPT_ADADELTA:
        s->name[0] = "accumulated_grad";
        s->what[0] = "mean square of gradients";
        s->name[1] = "accumulated_delta_var";
        s->what[1] = "mean square of updates";
        return 1;
    case SEQRT_OPT_ADAMAX:
        s->name[0] = "m";
        s->what[0] = "first moment";
        s->name[1] = "norm";
        s->what[1] = "weighted infinity norm";
        return 1;
    case SEQRT_OPT_LION:
        s->name[0] = "momentum";
        s->what[0] = "momentum";
        return 1;
    case SEQRT_OPT_FTRL:
        s->name[0] = "linear";
        s->what[0] = "linear term";
        s->name[1] = "accumulator";
        s->what[1] = "sum of squared gradients";
        s->fill[1] = o->initial_accumulator_value;
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
    r->fill = 0;
}

/* A float scalar of the optimizer (Nadam's u_product, a settable learning
 * rate), with its fresh value. */
static void scalar_row(TensorRow *r, const char *name, const char *member, double fill)
{
    r->name = name;
    r->kind = SEQRT_T_OPTIM;
    r->dtype = SEQRT_F32;
    r->member = member;
    r->param = NULL;
    r->ndim = 0;
    r->fill = fill;
}

static void row(TensorRow *r, const char *name, seqrt_tensor_kind kind, const char *member, const Param *p)
{
    r->fill = 0;
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
    int cap = 10;
    for (int i = 0; i < m->nlayers; i++)
        cap += 5 * ir_nparams(&m->layer[i]) + 1;
    TensorRow *t = arena_alloc(sizeof(TensorRow) * (size_t)cap);
    int n = 0;
    OptSlots os;
    int training = ir_opt_slots(m, &os);
    static const char *const members[3] = {"opt_m", "opt_v", "opt_w"};
    for (int pass = 0; pass < 6; pass++) {
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
                else if (pass >= 2 && pass <= 4 && p->trainable && os.name[pass - 2]) {
                    row(&t[n], arena_printf("optimizer.%s.%s", p->name, os.name[pass - 2]), SEQRT_T_OPTIM,
                        arena_printf("%s.%s", members[pass - 2], p->cname), p);
                    t[n++].fill = os.fill[pass - 2];
                } else if (pass == 5 && p->trainable)
                    row(&t[n++], arena_printf("grad.%s", p->name), SEQRT_T_GRAD, arena_printf("grad.%s", p->cname), p);
            }
        }
        if (pass == 4 && os.u_product)
            scalar_row(&t[n++], "optimizer.u_product", "u_product", 1.0);
        if (pass == 4 && m->opt.settable_lr)
            scalar_row(&t[n++], "optimizer.learning_rate", "learning_rate", m->opt.lr);
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
