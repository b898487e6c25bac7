/*
 * pass_fold.c - fold what is constant before C is emitted.
 *
 * Shapes, loop bounds and hyper-parameters are literals in the emitted code
 * by construction (the emitter prints every size and constant the IR
 * holds). What this pass folds at the IR level is layers that compose to
 * one: consecutive activations where the second is idempotent over the
 * first (relu after relu). Dropout layers are not merged: that would change
 * the random stream, and -O levels must train the same.
 */
#include "seqc.h"

static int idempotent_pair(int first, int second)
{
    return first == second && (first == SEQRT_ACT_RELU);
}

int pass_fold(Model *m)
{
    int changed = 0;
    for (int i = 0; i + 1 < m->nlayers; i++) {
        Layer *a = &m->layer[i], *b = &m->layer[i + 1];
        if (a->op == OP_ACTIVATION && b->op == OP_ACTIVATION && idempotent_pair(a->act, b->act)) {
            ir_remove_layer(m, i + 1);
            i--;
            changed = 1;
        }
    }
    return changed;
}
