/*
 * embedding.c - Embedding: integer ids (held as floats, as data files give
 * them) to rows of a table.
 *
 * The ids are checked where the data is read (the driver names the file and
 * position of a bad one); the kernels still never read or write outside
 * the table: an id that is not an integer in [0, rows) gives a zero vector
 * forward and no gradient.
 */
#include <string.h>

#include "seqrt_kernels.h"

int seqrt_embedding_id(float v, int rows)
{
    if (!(v >= 0.0f && v < (float)rows) || v != (float)(int)v)
        return -1;
    return (int)v;
}

void seqrt_embedding_forward(float *y, const float *ids, const float *w, long count, int rows, int dim)
{
    for (long i = 0; i < count; i++) {
        int id = seqrt_embedding_id(ids[i], rows);
        if (id >= 0)
            memcpy(y + i * dim, w + (size_t)id * dim, sizeof(float) * dim);
        else
            memset(y + i * dim, 0, sizeof(float) * dim);
    }
}

void seqrt_embedding_backward(float *dw, const float *dy, const float *ids, long count, int rows, int dim)
{
    memset(dw, 0, sizeof(float) * rows * (size_t)dim);
    for (long i = 0; i < count; i++) {
        int id = seqrt_embedding_id(ids[i], rows);
        if (id < 0)
            continue;
        float *d = dw + (size_t)id * dim;
        const float *g = dy + i * dim;
        for (int j = 0; j < dim; j++)
            d[j] += g[j];
    }
}
