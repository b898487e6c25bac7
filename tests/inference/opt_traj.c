/*
 * opt_traj.c - one side of the -O0 / -O2 comparison of runtime-weights
 * generated code. Compiled twice, against the model generated at -O0 and
 * at -O2 (same model name, separate executables).
 *
 *   opt_traj traj PREFIX TRAIN.csv TEST.csv
 *       init(seed 1), adapt Normalization, then 3 epochs of train_step in
 *       file order (batch = the model's batch size; Dropout draws from the
 *       model's seeded generator). Writes PREFIX_loss.bin (the loss of every
 *       step), PREFIX_param.bin (all trainable parameters afterwards),
 *       PREFIX_pred.bin (forward(training = 0) on TEST) and
 *       PREFIX.safetensors (the trained checkpoint).
 *   opt_traj fwd CKPT TEST.csv OUT.bin
 *       loads CKPT and writes forward(training = 0) on TEST to OUT.bin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt.h"
#include MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(s) CAT(MODEL, s)
#define MDESC FN(_model)

static int fail(const char *what)
{
    fprintf(stderr, "opt_traj: %s: %s\n", what, seqrt_error());
    return 1;
}

static int write_floats(const char *path, const float *v, long n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof(float), (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        fprintf(stderr, "opt_traj: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int predict(MODEL *net, const seqrt_data *d, const char *path)
{
    const seqrt_model *m = &MDESC;
    float *y = malloc(sizeof(float) * (size_t)(d->rows * m->out));
    for (long i = 0; i < d->rows; i += m->max_batch) {
        int nb = (int)(d->rows - i < m->max_batch ? d->rows - i : m->max_batch);
        FN(_forward)(net, d->x + i * m->in, y + i * m->out, nb, 0);
    }
    int rc = write_floats(path, y, d->rows * m->out);
    free(y);
    return rc;
}

/* The data files of examples/data have a header row. */
static const seqrt_csv_options csv_with_header = {SEQRT_CSV_HEADER_PRESENT, NULL, ','};

int main(int argc, char **argv)
{
    const seqrt_model *m = &MDESC;
    MODEL *net = calloc(1, sizeof *net);
    seqrt_data train = {0}, test = {0};
    char path[4096];
    if (argc == 5 && !strcmp(argv[1], "traj")) {
        const char *prefix = argv[2];
        if (seqrt_csv_load(&train, argv[3], m, &csv_with_header, NULL) < 0)
            return fail(argv[3]);
        if (seqrt_csv_load_features(&test, argv[4], m, &csv_with_header, NULL) < 0)
            return fail(argv[4]);
        FN(_init)(net, 1);
        if (seqrt_adapt(m, net, &train) < 0)
            return fail("adapt");
        int B = m->max_batch, steps = 0;
        long per_epoch = (train.rows + B - 1) / B;
        float *loss = malloc(sizeof(float) * (size_t)(3 * per_epoch));
        for (int e = 0; e < 3; e++)
            for (long i = 0; i < train.rows; i += B) {
                int nb = (int)(train.rows - i < B ? train.rows - i : B);
                loss[steps++] = FN(_train_step)(net, train.x + i * train.cols, train.y + i * train.ycols, nb);
            }
        snprintf(path, sizeof path, "%s_loss.bin", prefix);
        if (write_floats(path, loss, steps) < 0)
            return 1;
        snprintf(path, sizeof path, "%s_param.bin", prefix);
        if (write_floats(path, (const float *)&net->param, CAT(MODEL_UPPER, _PARAM_COUNT)) < 0)
            return 1;
        snprintf(path, sizeof path, "%s_pred.bin", prefix);
        if (predict(net, &test, path) < 0)
            return 1;
        snprintf(path, sizeof path, "%s.safetensors", prefix);
        if (FN(_save)(net, path) < 0)
            return fail(path);
        printf("opt_traj: %d steps, first loss %.7g, last loss %.7g\n", steps, loss[0], loss[steps - 1]);
        free(loss);
    } else if (argc == 5 && !strcmp(argv[1], "fwd")) {
        if (FN(_load)(net, argv[2]) < 0)
            return fail(argv[2]);
        if (seqrt_csv_load_features(&test, argv[3], m, &csv_with_header, NULL) < 0)
            return fail(argv[3]);
        if (predict(net, &test, argv[4]) < 0)
            return 1;
    } else {
        fprintf(stderr, "usage: opt_traj traj PREFIX TRAIN TEST | opt_traj fwd CKPT TEST OUT\n");
        return 2;
    }
    seqrt_data_free(&train);
    seqrt_data_free(&test);
    free(net);
    return 0;
}
