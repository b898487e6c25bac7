/*
 * pass_canonicalize.c - one spelling for each computation.
 *
 * Dense(..., activation=X) becomes Dense followed by Activation(X), so that
 * later passes see activations only as layers; linear activations,
 * Flatten (a no-op on row-major data once shapes are inferred) and
 * Dropout(0) are dropped. The model computes the same function after it.
 */
#include "seqc.h"

int pass_canonicalize(Model *m)
{
    int changed = 0;
    for (int i = 0; i < m->nlayers; i++) {
        Layer *l = &m->layer[i];
        if (l->op == OP_DENSE && l->norm == OP_COUNT && l->act != SEQRT_ACT_LINEAR) {
            Layer a = *l;
            a.op = OP_ACTIVATION;
            a.in = a.out = l->out;
            a.nparam = 0;
            a.act_index = l->index;
            l->act = SEQRT_ACT_LINEAR;
            ir_insert_layer(m, i + 1, &a);
            changed = 1;
            continue;
        }
        int noop = (l->op == OP_ACTIVATION && l->act == SEQRT_ACT_LINEAR) || l->op == OP_FLATTEN ||
                   (l->op == OP_DROPOUT && l->rate == 0);
        if (noop && m->nlayers > 1) {
            ir_remove_layer(m, i);
            i--;
            changed = 1;
        }
    }
    return changed;
}
