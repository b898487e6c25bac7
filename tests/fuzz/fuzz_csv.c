/*
 * fuzz_csv.c - the CSV data loader (seqrt_csv_load and
 * seqrt_csv_load_features).
 *
 * Input: byte 0 picks the model's loss (6 kinds) and whether features only
 * are read; byte 1 picks m->in (1..4) and m->out (1..4), the target column
 * (the last one, or the column named "y") and the delimiter; the rest is
 * the file, written to a temporary file (the loader reads a path).
 *
 * Properties: on success the matrix has m->in columns of finite values and
 * the targets obey the loss's encoding (a one-hot row for
 * categorical_crossentropy, an integer class in [0, out) for the sparse
 * loss, a value in [0, 1] for binary cross-entropy, finite otherwise); on
 * failure there is a message of the form "path:line:col: ..." or
 * "path: ...", and the data is empty.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqrt.h"

#define FAIL(...) (fprintf(stderr, "fuzz_csv: " __VA_ARGS__), fputc('\n', stderr), abort())

static char path[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[256];
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_csv.XXXXXX", base);
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/data.csv", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char delims[4] = {0, ';', '\t', ' '};
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = "fz";
    m.loss = data[0] % SEQRT_LOSS_COUNT;
    int features_only = (data[0] >> 4) & 1;
    m.in = 1 + (data[1] & 3);
    m.out = 1 + ((data[1] >> 2) & 3);
    const char *target = (data[1] & 16) ? "y" : NULL;
    char delim = delims[(data[1] >> 5) & 3];
    FILE *f = fopen(path, "wb");
    if (!f || (size > 2 && fwrite(data + 2, 1, size - 2, f) != size - 2) || fclose(f))
        abort();

    seqrt_data d;
    int rc = features_only ? seqrt_csv_load_features(&d, path, &m, target, delim)
                           : seqrt_csv_load(&d, path, &m, target, delim);
    if (rc) {
        if (strncmp(seqrt_error(), path, strlen(path)) || seqrt_error()[strlen(path)] != ':')
            FAIL("message without the file name: '%s'", seqrt_error());
        if (d.x || d.y || d.rows)
            FAIL("failed load left data behind");
        return 0;
    }
    if (d.rows < 0 || d.cols != m.in)
        FAIL("rows %ld, cols %d (in %d)", d.rows, d.cols, m.in);
    for (long i = 0; i < d.rows * d.cols; i++)
        if (!isfinite(d.x[i]))
            FAIL("a non-finite feature was accepted");
    if (features_only && (d.y || d.ycols))
        FAIL("features-only load has targets");
    for (long r = 0; !features_only && r < d.rows; r++) {
        const float *y = d.y + r * d.ycols;
        if (m.loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY) {
            int ones = 0;
            for (int j = 0; j < d.ycols; j++) {
                if (y[j] != 0 && y[j] != 1)
                    FAIL("one-hot row with %g", y[j]);
                ones += y[j] == 1;
            }
            if (d.ycols != m.out || ones != 1)
                FAIL("bad one-hot row");
        } else if (m.loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
            if (d.ycols != 1 || !(y[0] >= 0 && y[0] < m.out) || y[0] != floorf(y[0]))
                FAIL("bad class index %g for %d classes", y[0], m.out);
        } else {
            for (int j = 0; j < d.ycols; j++) {
                if (!isfinite(y[j]))
                    FAIL("non-finite target accepted");
                if (m.loss == SEQRT_LOSS_BINARY_CROSSENTROPY && !(y[j] >= 0 && y[j] <= 1))
                    FAIL("binary target %g outside [0, 1]", y[j]);
            }
        }
    }
    seqrt_data_free(&d);
    return 0;
}
