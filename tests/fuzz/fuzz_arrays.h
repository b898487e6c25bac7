/*
 * fuzz_arrays.h - what the two binary-reader harnesses share (fuzz_npy.c,
 * fuzz_idx.c): the model a control byte picks, writing the input to a
 * file (gzip-compressed when another control bit says so, possibly cut
 * short), and the properties every load must have:
 *
 *   - a failed load leaves the data empty and its message starts with the
 *     file's name ("path: ...");
 *   - a successful features load has one row of the model's inputs per
 *     sample, all finite; a successful load with targets (the same file
 *     read as both) has targets encoded for the loss: a one-hot row for
 *     categorical cross-entropy, an integer class in [0, outputs) for the
 *     sparse loss, values in [0, 1] for binary cross-entropy, finite
 *     values otherwise;
 *   - loading twice gives the same bits.
 *
 * Input: byte 0 picks the loss and the gzip treatment, byte 1 the model's
 * input shape (rank 1 to 3, small sizes) and outputs; the rest, after the
 * harness's magic, is the file.
 */
#ifndef FUZZ_ARRAYS_H
#define FUZZ_ARRAYS_H

#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "seqrt.h"

#define FAIL(...) (fprintf(stderr, "fuzz_arrays: " __VA_ARGS__), fputc('\n', stderr), abort())

static char path[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[256];
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_arrays.XXXXXX", base);
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/data.bin", dir);
    return 0;
}

static void write_file(const uint8_t *magic, size_t nmagic, const uint8_t *data, size_t size, int gz, int cut)
{
    size_t n = nmagic + size;
    uint8_t *b = malloc(n + 1);
    if (!b)
        abort();
    memcpy(b, magic, nmagic);
    if (size)
        memcpy(b + nmagic, data, size);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (gz) {
        uLongf zn = compressBound((uLong)n) + 32;
        uint8_t *z = malloc(zn);
        z_stream s;
        memset(&s, 0, sizeof s);
        if (!z || deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            abort();
        s.next_in = b;
        s.avail_in = (uInt)n;
        s.next_out = z;
        s.avail_out = (uInt)zn;
        if (deflate(&s, Z_FINISH) != Z_STREAM_END)
            abort();
        size_t zlen = zn - s.avail_out;
        deflateEnd(&s);
        if ((size_t)cut < zlen)
            zlen -= (size_t)cut;   /* a truncated gzip stream */
        if (fwrite(z, 1, zlen, f) != zlen)
            abort();
        free(z);
    } else if (fwrite(b, 1, n, f) != n) {
        abort();
    }
    if (fclose(f))
        abort();
    free(b);
}

static void check_failed(const seqrt_data *d)
{
    const char *e = seqrt_error();
    if (strncmp(e, path, strlen(path)) || e[strlen(path)] != ':')
        FAIL("message without the file name: '%s'", e);
    if (d->x || d->y || d->rows || d->cols || d->ycols)
        FAIL("failed load left data behind");
}

static void check_loaded(const seqrt_model *m, const seqrt_data *d, int targets)
{
    if (d->rows <= 0 || d->cols != m->in)
        FAIL("rows %ld, cols %d (in %d)", d->rows, d->cols, m->in);
    for (long i = 0; i < d->rows * d->cols; i++)
        if (!isfinite(d->x[i]))
            FAIL("a non-finite feature was accepted");
    if (!targets) {
        if (d->y || d->ycols)
            FAIL("features-only load has targets");
        return;
    }
    for (long r = 0; r < d->rows; r++) {
        const float *y = d->y + r * d->ycols;
        if (m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY) {
            if (d->ycols != m->out)
                FAIL("categorical targets of %d columns for %d outputs", d->ycols, m->out);
            for (int j = 0; j < d->ycols; j++)
                if (!(y[j] >= 0 && y[j] <= 1))
                    FAIL("categorical target %g outside [0, 1]", y[j]);
        } else if (m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
            if (d->ycols != 1 || !(y[0] >= 0 && y[0] < m->out) || y[0] != floorf(y[0]))
                FAIL("bad class index %g for %d classes", y[0], m->out);
        } else {
            if (d->ycols != m->out)
                FAIL("%d target columns for %d outputs", d->ycols, m->out);
            for (int j = 0; j < d->ycols; j++) {
                if (!isfinite(y[j]))
                    FAIL("non-finite target accepted");
                if (m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && !(y[j] >= 0 && y[j] <= 1))
                    FAIL("binary target %g outside [0, 1]", y[j]);
            }
        }
    }
}

static int same(const seqrt_data *a, const seqrt_data *b)
{
    return a->rows == b->rows && a->cols == b->cols && a->ycols == b->ycols &&
           !memcmp(a->x, b->x, sizeof(float) * (size_t)(a->rows * a->cols)) &&
           (!a->ycols || !memcmp(a->y, b->y, sizeof(float) * (size_t)(a->rows * a->ycols)));
}

static int fuzz_arrays(const uint8_t *magic, size_t nmagic, const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = "fz";
    m.loss = data[0] % SEQRT_LOSS_COUNT;
    int gz = (data[0] >> 4) & 1, cut = (data[0] >> 5) & 7;
    m.in_rank = 1 + data[1] % 3;
    m.in = 1;
    for (int d = 0; d < m.in_rank; d++) {
        m.in_shape[d] = 1 + ((data[1] >> (2 + 2 * d)) & 3) % 3;
        m.in *= m.in_shape[d];
    }
    m.out = 1 + (data[1] >> 6);
    m.out_rank = 1;
    m.out_shape[0] = m.out;
    write_file(magic, nmagic, data + 2, size - 2, gz, cut);
    seqrt_data d, d2;
    if (seqrt_array_load_features(&d, path, &m, NULL)) {
        check_failed(&d);
    } else {
        check_loaded(&m, &d, 0);
        if (seqrt_array_load_features(&d2, path, &m, NULL) || !same(&d, &d2))
            FAIL("a second load differs");
        seqrt_data_free(&d2);
        seqrt_data_free(&d);
    }
    if (seqrt_array_load(&d, path, path, &m, NULL, NULL))
        check_failed(&d);
    else
        check_loaded(&m, &d, 1);
    seqrt_data_free(&d);
    return 0;
}

#endif
