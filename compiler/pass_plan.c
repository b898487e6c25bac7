/*
 * pass_plan.c - plan the memory of the generated code.
 *
 * In training, every layer's output is kept (backward reads it), but the
 * gradient flowing between layers is needed only from one layer to the
 * next: backward uses two ping-pong buffers of the widest layer instead of
 * one per layer. Inference needs two ping-pong activation buffers. The plan
 * is a flag read by the emitter; -O0 keeps one gradient buffer per layer.
 */
#include "seqc.h"

int pass_plan(Model *m)
{
    if (m->planned)
        return 0;
    m->planned = 1;
    return 1;
}
