/*
 * gen_ref.c - the runtime-weights side of the inference tests.
 *
 * Compiled once per model (MODEL = the model name, MODEL_HEADER = its
 * generated header). It initializes the model with a fixed seed, adapts a
 * leading Normalization layer, trains a few epochs of train_step (so that
 * BatchNormalization running statistics and the weights are not their
 * initial values), saves a checkpoint, and writes the reference predictions
 * of NAME_forward(training = 0) on held-out rows:
 *
 *   gen_ref CKPT REF EPOCHS (--csv TRAIN.csv TEST.csv | --random TRAIN_ROWS TEST_ROWS)
 *
 * REF is binary, little-endian host floats: int32 rows, in, out, then
 * x (rows, in), then y (rows, out). With --random, features are N(0, 1) and
 * targets are drawn to suit the loss.
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
    fprintf(stderr, "gen_ref: %s: %s\n", what, seqrt_error());
    return 1;
}

static void random_data(seqrt_data *d, long rows, seqrt_rng *r)
{
    const seqrt_model *m = &MDESC;
    int sparse = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    d->rows = rows;
    d->cols = m->in;
    d->ycols = sparse ? 1 : m->out;
    d->x = malloc(sizeof(float) * (size_t)rows * (size_t)d->cols);
    d->y = malloc(sizeof(float) * (size_t)rows * (size_t)d->ycols);
    for (long i = 0; i < rows * d->cols; i++)   /* ids for an Embedding first */
        d->x[i] = m->input_ids > 0 ? (float)seqrt_rng_below(r, (uint32_t)m->input_ids) : seqrt_rng_normal(r);
    for (long i = 0; i < rows; i++)
        for (int j = 0; j < d->ycols; j++) {
            float *t = &d->y[i * d->ycols + j];
            switch (m->loss) {
            case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
                *t = (float)seqrt_rng_below(r, (uint32_t)m->out);
                break;
            case SEQRT_LOSS_BINARY_CROSSENTROPY:
                *t = seqrt_rng_uniform(r) < 0.5f ? 0.0f : 1.0f;
                break;
            case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
                *t = j == (int)(i % m->out) ? 1.0f : 0.0f;
                break;
            default:
                *t = seqrt_rng_normal(r);
            }
        }
}

/* The data files of examples/data have a header row. */
static const seqrt_csv_options csv_with_header = {SEQRT_CSV_HEADER_PRESENT, NULL, ','};

int main(int argc, char **argv)
{
    if (argc != 7 || (strcmp(argv[4], "--csv") && strcmp(argv[4], "--random"))) {
        fprintf(stderr, "usage: gen_ref CKPT REF EPOCHS (--csv TRAIN TEST | --random NTRAIN NTEST)\n");
        return 2;
    }
    const seqrt_model *m = &MDESC;
    int epochs = atoi(argv[3]);
    seqrt_data train = {0}, test = {0};
    seqrt_rng r;
    seqrt_rng_seed(&r, 12345);
    if (!strcmp(argv[4], "--csv")) {
        if (seqrt_csv_load(&train, argv[5], m, &csv_with_header, NULL) < 0)
            return fail(argv[5]);
        if (seqrt_csv_load_features(&test, argv[6], m, &csv_with_header, NULL) < 0)
            return fail(argv[6]);
    } else {
        random_data(&train, atol(argv[5]), &r);
        random_data(&test, atol(argv[6]), &r);
    }
    MODEL *net = malloc(sizeof *net);
    if (!net)
        return 1;
    FN(_init)(net, 7);
    if (seqrt_adapt(m, net, &train) < 0)
        return fail("adapt");
    int B = m->max_batch;
    for (int e = 0; e < epochs; e++)
        for (long i = 0; i < train.rows; i += B) {
            int nb = (int)(train.rows - i < B ? train.rows - i : B);
            FN(_train_step)(net, train.x + i * train.cols, train.y + i * train.ycols, nb);
        }
    if (FN(_save)(net, argv[1]) < 0)
        return fail(argv[1]);

    float *y = malloc(sizeof(float) * (size_t)test.rows * (size_t)m->out);
    for (long i = 0; i < test.rows; i += B) {
        int nb = (int)(test.rows - i < B ? test.rows - i : B);
        FN(_forward)(net, test.x + i * m->in, y + i * m->out, nb, 0);
    }
    FILE *f = fopen(argv[2], "wb");
    int32_t head[3] = {(int32_t)test.rows, m->in, m->out};
    if (!f || fwrite(head, sizeof head, 1, f) != 1 ||
        fwrite(test.x, sizeof(float), (size_t)test.rows * m->in, f) != (size_t)test.rows * m->in ||
        fwrite(y, sizeof(float), (size_t)test.rows * m->out, f) != (size_t)test.rows * m->out ||
        fclose(f) != 0) {
        fprintf(stderr, "gen_ref: cannot write %s\n", argv[2]);
        return 1;
    }
    printf("gen_ref: %s: %ld reference rows, %d epochs of training\n", m->name, (long)test.rows, epochs);
    free(y);
    free(net);
    if (!strcmp(argv[4], "--csv")) {
        seqrt_data_free(&train);
        seqrt_data_free(&test);
    } else {
        free(train.x);
        free(train.y);
        free(test.x);
        free(test.y);
    }
    return 0;
}
