/*
 * fuzz_csv.c - the CSV data loader (seqrt_csv_load and
 * seqrt_csv_load_features).
 *
 * Input: byte 0 picks the model's loss (6 kinds) and whether features only
 * are read; byte 1 picks m->in (1..4) and m->out (1..4), the target column
 * (the last one, or the column named "y") and the delimiter; the rest is
 * the file, written to a temporary file (the loader reads a path). Every
 * input is loaded three times: with the header decided automatically, with
 * --header and with --no-header.
 *
 * Properties: on success the matrix has m->in columns of finite values and
 * the targets obey the loss's encoding (a one-hot row for
 * categorical_crossentropy, an integer class in [0, out) for the sparse
 * loss, a value in [0, 1] for binary cross-entropy, finite otherwise), and
 * the info agrees with the data; on failure there is a message of the form
 * "path:line:col: ..." or "path: ...", and the data is empty. A file with a
 * NUL byte is always refused. Across the three loads, no row is lost or
 * invented: when both --header and
 * --no-header loads succeed, the --no-header one has exactly one more row
 * and its other rows are the --header rows bit for bit; when the
 * --no-header load succeeds (line 1 is valid data) the automatic load
 * fails (it never takes a row of data as a header); and an automatic load
 * that succeeds equals the explicit load of the choice it reports.
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

/* Checks one successful load against the model (aborts on a failure). */
static void check_loaded(const seqrt_model *m, const seqrt_data *d,
                         const seqrt_csv_info *info, int features_only)
{
    if (d->rows <= 0 || d->cols != m->in)
        FAIL("rows %ld, cols %d (in %d)", d->rows, d->cols, m->in);
    if (info->rows != d->rows || info->columns < m->in ||
        info->columns > m->in + 1 || info->target_column >= info->columns)
        FAIL("info: rows %ld, columns %d, target %d", info->rows,
             info->columns, info->target_column);
    if (!features_only && info->target_column < 0)
        FAIL("training data without a target column");
    for (long i = 0; i < d->rows * d->cols; i++)
        if (!isfinite(d->x[i]))
            FAIL("a non-finite feature was accepted");
    if (features_only && (d->y || d->ycols))
        FAIL("features-only load has targets");
    for (long r = 0; !features_only && r < d->rows; r++) {
        const float *y = d->y + r * d->ycols;
        if (m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY) {
            int ones = 0;
            for (int j = 0; j < d->ycols; j++) {
                if (y[j] != 0 && y[j] != 1)
                    FAIL("one-hot row with %g", y[j]);
                ones += y[j] == 1;
            }
            if (d->ycols != m->out || ones != 1)
                FAIL("bad one-hot row");
        } else if (m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
            if (d->ycols != 1 || !(y[0] >= 0 && y[0] < m->out) || y[0] != floorf(y[0]))
                FAIL("bad class index %g for %d classes", y[0], m->out);
        } else {
            for (int j = 0; j < d->ycols; j++) {
                if (!isfinite(y[j]))
                    FAIL("non-finite target accepted");
                if (m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && !(y[j] >= 0 && y[j] <= 1))
                    FAIL("binary target %g outside [0, 1]", y[j]);
            }
        }
    }
}

/* Do rows [from, from + a->rows) of b equal a, bit for bit? */
static int same_rows(const seqrt_data *a, const seqrt_data *b, long from)
{
    if (a->cols != b->cols || a->ycols != b->ycols || b->rows - from != a->rows)
        return 0;
    if (memcmp(a->x, b->x + from * b->cols, sizeof(float) * (size_t)(a->rows * a->cols)))
        return 0;
    return !a->ycols || !memcmp(a->y, b->y + from * b->ycols,
                                sizeof(float) * (size_t)(a->rows * a->ycols));
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
    int has_nul = size > 2 && memchr(data + 2, '\0', size - 2) != NULL;

    /* 0: automatic, 1: --header, 2: --no-header */
    static const seqrt_csv_header modes[3] = {SEQRT_CSV_HEADER_AUTO, SEQRT_CSV_HEADER_PRESENT,
                                              SEQRT_CSV_HEADER_ABSENT};
    seqrt_data d[3];
    seqrt_csv_info info[3];
    int ok[3];
    for (int k = 0; k < 3; k++) {
        seqrt_csv_options o = {modes[k], target, delim};
        int rc = features_only ? seqrt_csv_load_features(&d[k], path, &m, &o, &info[k])
                               : seqrt_csv_load(&d[k], path, &m, &o, &info[k]);
        ok[k] = rc == 0;
        if (rc) {
            if (strncmp(seqrt_error(), path, strlen(path)) || seqrt_error()[strlen(path)] != ':')
                FAIL("message without the file name: '%s'", seqrt_error());
            if (d[k].x || d[k].y || d[k].rows || info[k].rows)
                FAIL("failed load left data behind");
            continue;
        }
        if (has_nul)
            FAIL("a file with a NUL byte was accepted");
        check_loaded(&m, &d[k], &info[k], features_only);
        if (info[k].header != (k == 1 || (k == 0 && info[k].header)))
            FAIL("header %d under mode %d", info[k].header, k);
    }
    if (ok[2] && ok[0])
        FAIL("line 1 is valid data, yet the automatic load took it as a header");
    if (ok[1] && ok[2] && !same_rows(&d[1], &d[2], 1))
        FAIL("--header and --no-header loads differ by more than line 1");
    if (ok[0] && !(ok[info[0].header ? 1 : 2] && same_rows(&d[0], &d[info[0].header ? 1 : 2], 0)))
        FAIL("the automatic load differs from the explicit one it chose");
    for (int k = 0; k < 3; k++)
        seqrt_data_free(&d[k]);
    return 0;
}
