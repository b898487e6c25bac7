/*
 * pass_fuse.c - fuse Dense -> BatchNormalization|LayerNormalization ->
 * activation into one layer.
 *
 * The fused layer is an OP_DENSE whose `norm` and `act` are set; it keeps
 * the parameters of both statements (named after each), so checkpoints do
 * not change. The generated code then runs the GEMM and one pass over its
 * output for the statistics, normalization, scale/shift and activation, and
 * the reverse in backward, with no buffers between the three.
 *
 * One exception: when the loss is computed from the logits (sigmoid +
 * binary cross-entropy, softmax + categorical), the final activation stays
 * a layer of its own after a fused norm, because the loss needs the
 * pre-activation values that the fused kernel does not keep.
 */
#include <string.h>

#include "seqc.h"

int pass_fuse(Model *m)
{
    int changed = 0;
    for (int i = 0; i + 1 < m->nlayers; i++) {
        Layer *d = &m->layer[i];
        if (d->op != OP_DENSE || d->norm != OP_COUNT || d->act != SEQRT_ACT_LINEAR)
            continue;
        Layer *n = &m->layer[i + 1];
        if ((n->op == OP_BATCHNORM || n->op == OP_LAYERNORM) && d->nparam + n->nparam <= MAX_PARAMS) {
            d->norm = n->op;
            d->norm_index = n->index;
            d->momentum = n->momentum;
            d->epsilon = n->epsilon;
            d->center = n->center;
            d->scale = n->scale;
            memcpy(&d->param[d->nparam], n->param, sizeof(Param) * (size_t)n->nparam);
            d->nparam += n->nparam;
            ir_remove_layer(m, i + 1);
            changed = 1;
        }
        if (i + 1 >= m->nlayers)
            break;
        Layer *a = &m->layer[i + 1];
        if (a->op != OP_ACTIVATION)
            continue;
        int last = i + 1 == m->nlayers - 1;
        if (last && d->norm != OP_COUNT && m->loss_from_logits)
            continue;
        d->act = a->act;
        d->act_index = a->act_index >= 0 ? a->act_index : a->index;
        ir_remove_layer(m, i + 1);
        changed = 1;
    }
    return changed;
}
