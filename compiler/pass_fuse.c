/*
 * pass_fuse.c - fuse a layer with the normalization and the activation
 * after it: Dense -> BatchNormalization|LayerNormalization -> activation
 * becomes one layer.
 *
 * Which layers take which is the kinds' business (LK_TAKES_NORM,
 * LK_TAKES_ACT, LK_NORM). The fused layer keeps the normalization as
 * l->norm (with its own parameters and statement index, so checkpoints do
 * not change) and the activation as l->act. The generated code then runs
 * the layer into one buffer and one pass over it for the statistics,
 * normalization, scale/shift and activation, and the reverse in backward,
 * with no buffers between the three.
 *
 * One exception: when the loss is computed from the logits (sigmoid +
 * binary cross-entropy, softmax + categorical), the final activation stays
 * a layer of its own after a fused norm, because the loss needs the
 * pre-activation values that the fused kernel does not keep.
 */
#include "seqc.h"

int pass_fuse(Model *m, int level)
{
    (void)level;
    int changed = 0;
    for (int i = 0; i + 1 < m->nlayers; i++) {
        Layer *d = &m->layer[i];
        if (!act_is_linear(d->act) || d->norm)
            continue;
        Layer *n = &m->layer[i + 1];
        if (has_prop(d, LK_TAKES_NORM) && has_prop(n, LK_NORM) && !n->norm) {
            Layer *copy = arena_alloc(sizeof *copy);
            *copy = *n;
            d->norm = copy;
            ir_remove_layer(m, i + 1);
            changed = 1;
        }
        if (i + 1 >= m->nlayers || !has_prop(d, LK_TAKES_ACT))
            continue;
        Layer *a = &m->layer[i + 1];
        if (!has_prop(a, LK_ACTIVATION))
            continue;
        int last = i + 1 == m->nlayers - 1;
        if (last && d->norm && m->loss_from_logits)
            continue;
        d->act = a->act;
        d->act_index = a->act_index >= 0 ? a->act_index : a->index;
        ir_remove_layer(m, i + 1);
        changed = 1;
    }
    return changed;
}
