/*
 * bake.h - what the baked build's planner (bake_plan.c) hands its writer
 * (bake_write.c). The stage type itself is in seqc.h: the layer kinds'
 * bake hooks make stages.
 */
#ifndef SEQC_BAKE_H
#define SEQC_BAKE_H

#include "seqc.h"

struct Bake {
    const Model *m;
    /* the checkpoint, read against the model's tensor table */
    unsigned char *state;
    TensorRow *rows;
    size_t *offset;
    int nrows;
    /* the stages, in order, after folding */
    Stage *st;
    int n, cap;
};

/* Reads the checkpoint and makes the folded stages; 0 or -1 (message
 * printed). */
int bake_plan(Bake *b, const Model *m, const char *weights);

/* The text of runtime/act_math.h, embedded at build time. */
extern const char seqc_act_math_text[];

#endif
