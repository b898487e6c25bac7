/*
 * pass_canonicalize.c - one spelling for each computation.
 *
 * A layer that takes an activation (Dense(..., activation=X)) becomes the
 * layer followed by an Activation(X), so that later passes see activations
 * only as layers; layers whose kind says they compute nothing (a linear
 * Activation, Dropout(0)) are dropped, and so are the training-only layers
 * (Dropout) of a model that never trains. The model computes the same
 * function after it.
 */
#include "seqc.h"

int pass_canonicalize(Model *m, int level)
{
    (void)level;
    int changed = 0;
    for (int i = 0; i < m->nlayers; i++) {
        Layer *l = &m->layer[i];
        if (has_prop(l, LK_TAKES_ACT) && !l->norm && !act_is_linear(l->act)) {
            Layer a = {0};
            a.kind = &kind_activation;
            a.index = l->index;
            a.loc = l->loc;
            a.in = a.out = l->out;
            a.act = l->act;
            a.act_index = l->index;
            a.out_buf = a.mid_buf = a.dy_buf = a.dx_buf = -1;
            l->act = act_default(SEQRT_ACT_LINEAR);
            ir_insert_layer(m, i + 1, &a);
            changed = 1;
            continue;
        }
        int noop = (l->kind->noop && l->kind->noop(l)) || (has_prop(l, LK_TRAIN_ONLY) && !m->has_loss);
        if (noop && m->nlayers > 1) {
            ir_remove_layer(m, i);
            i--;
            changed = 1;
        }
    }
    return changed;
}
