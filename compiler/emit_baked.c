/*
 * emit_baked.c - prediction-only C with the trained weights compiled in.
 */
#include "seqc.h"

int emit_baked(const Model *m, const EmitOptions *opt)
{
    (void)opt;
    diag_error(m->src, m->loc, "--inference is not implemented yet");
    return -1;
}
