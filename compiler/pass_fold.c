/*
 * pass_fold.c - fold what is constant before C is emitted.
 *
 * Shapes, loop bounds and hyper-parameters are literals in the emitted code
 * by construction (the emitter prints every size and constant the IR
 * holds). What this pass folds at the IR level is layers that compose to
 * one: consecutive activation layers computing the same idempotent function
 * (relu after relu; seqrt_acts.def marks them). Dropout layers are not
 * merged: that would change the random stream, and -O levels must train
 * the same.
 */
#include "seqc.h"

int pass_fold(Model *m, int level)
{
    (void)level;
    int changed = 0;
    for (int i = 0; i + 1 < m->nlayers; i++) {
        Layer *a = &m->layer[i], *b = &m->layer[i + 1];
        if (has_prop(a, LK_ACTIVATION) && has_prop(b, LK_ACTIVATION) && a->act.kind == b->act.kind &&
            act_idempotent(a->act) && act_idempotent(b->act)) {
            ir_remove_layer(m, i + 1);
            i--;
            changed = 1;
        }
    }
    return changed;
}
