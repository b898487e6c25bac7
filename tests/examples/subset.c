/*
 * subset.c - the first rows of an image data set, for the short CTest
 * versions of the Fashion-MNIST examples:
 *
 *   subset IMAGES LABELS ROWS OUT_X.npy OUT_Y.npy
 *
 * Reads IMAGES (n, h, w) and LABELS (n,) with the runtime's own reader (any
 * .npy or IDX file, gzip or not), and writes the first ROWS images as a
 * float32 .npy (ROWS, h, w) and their labels as an int64 .npy (ROWS,), so
 * the test also goes through the .npy reader.
 */
#include <stdio.h>
#include <stdlib.h>

#include "seqrt.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: subset IMAGES LABELS ROWS OUT_X.npy OUT_Y.npy\n");
        return 2;
    }
    long rows = atol(argv[3]);
    seqrt_model m = {0};
    m.name = "subset";
    m.in = 28 * 28;
    m.in_rank = 2;
    m.in_shape[0] = m.in_shape[1] = 28;
    m.out = 10;
    m.loss = SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    seqrt_data d;
    if (seqrt_array_load(&d, argv[1], argv[2], &m, NULL, NULL)) {
        fprintf(stderr, "subset: %s\n", seqrt_error());
        return 1;
    }
    if (rows < 1 || rows > d.rows) {
        fprintf(stderr, "subset: ROWS must be in 1..%ld\n", d.rows);
        return 2;
    }
    long long *y = malloc(sizeof *y * (size_t)rows);
    for (long i = 0; i < rows; i++)
        y[i] = (long long)d.y[i];
    long xs[3] = {rows, 28, 28}, ys[1] = {rows};
    int rc = seqrt_npy_write(argv[4], "<f4", d.x, 3, xs) || seqrt_npy_write(argv[5], "<i8", y, 1, ys);
    if (rc)
        fprintf(stderr, "subset: %s\n", seqrt_error());
    free(y);
    seqrt_data_free(&d);
    return rc ? 1 : 0;
}
