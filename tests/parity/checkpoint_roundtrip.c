/*
 * checkpoint_roundtrip.c - the runtime's checkpoint writer and reader, for
 * rank4_roundtrip.py: a model's parameters of any rank go out to a
 * safetensors file that PyTorch reads, and come back from one PyTorch
 * wrote.
 *
 *     checkpoint_roundtrip save MODEL PATH   init(3), seqrt_model_save
 *     checkpoint_roundtrip load MODEL PATH   init(3), seqrt_model_load
 *
 * Either way it then prints every PARAM and BUFFER tensor of the state as
 * one line: NAME, its shape, and its values (%.9g, exact for floats).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_models.h"

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "save") && strcmp(argv[1], "load"))) {
        fprintf(stderr, "usage: checkpoint_roundtrip save|load MODEL PATH\n");
        return 2;
    }
    const seqrt_model *m = seqc_test_model_find(argv[2]);
    if (!m) {
        fprintf(stderr, "checkpoint_roundtrip: no model %s\n", argv[2]);
        return 2;
    }
    unsigned char *net = calloc(1, m->state_bytes);
    if (!net)
        return 1;
    m->init(net, 3);
    int rc = !strcmp(argv[1], "save") ? seqrt_model_save(m, net, argv[3]) : seqrt_model_load(m, net, argv[3]);
    if (rc) {
        fprintf(stderr, "checkpoint_roundtrip: %s\n", seqrt_error());
        return 1;
    }
    for (int i = 0; i < m->ntensors; i++) {
        const seqrt_tensor *t = &m->tensors[i];
        if (t->kind != SEQRT_T_PARAM && t->kind != SEQRT_T_BUFFER)
            continue;
        long count = 1;
        printf("%s [", t->name);
        for (int d = 0; d < t->ndim; d++) {
            printf("%s%d", d ? "," : "", t->shape[d]);
            count *= t->shape[d];
        }
        printf("]");
        const float *v = (const float *)(net + t->offset);
        for (long k = 0; k < count; k++)
            printf(" %.9g", (double)v[k]);
        printf("\n");
    }
    free(net);
    return 0;
}
