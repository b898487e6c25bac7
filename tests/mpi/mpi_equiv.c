/*
 * mpi_equiv.c - data-parallel training equals one process training on the
 * global batch.
 *
 *   mpirun -np N mpi_equiv [EPOCHS]
 *   mpi_equiv --compare MODEL A.safetensors B.safetensors
 *       (no MPI: the worst relative difference of two checkpoints of
 *       MODEL, for mpi_cli.sh; exit 1 above the tolerance floor)
 *
 * For every model of equiv.nn (every optimizer, without and with
 * BatchNorm) rank 0 first trains a reference alone with batch 12
 * (seqrt_fit, local), then all N ranks train the same initial state with
 * seqrt_fit over MPI_COMM_WORLD (seqrt_mpi_fit_comm) and batch 12 / N.
 * Training sets of 74 and 77 rows make the last global batch short: 2 rows
 * (split 1,1 on 2 ranks; 1,1,0 on 3: a stand-in rank) and 5 rows (3,2;
 * 2,2,1); validation has 23 rows (uneven slices too).
 *
 * Checks, each printing the worst element when it fails:
 *   - parameters, BatchNorm running statistics and optimizer slots of the
 *     N-rank run equal the reference within the tolerance (below); the
 *     counters are equal;
 *   - every epoch's loss, metrics, val_loss and val metrics equal the
 *     reference's within the tolerance (relative), accuracies within one
 *     row;
 *   - every rank ends with bit-identical weights;
 *   - negative control: one process with batch 12 / N (not the global
 *     batch) must differ from the reference by more than 10 x the
 *     tolerance, or the comparison could not fail;
 *   - the train step of an application's own loop (seqrt_mpi_batch +
 *     seqrt_mpi_allreduce_grads + NAME_update, batch rows summed by
 *     seqrt_mpi_batch, a stand-in rank on 3 ranks) equals
 *     NAME_train_step on the global batch;
 *   - Dropout (eq_dropout): ranks draw different masks, two N-rank runs are
 *     bit-identical, and the final val_loss over 8 seeds agrees with one
 *     process's statistically (paired by seed: the mean difference is
 *     within 4 standard errors + 0.02), and it learns.
 *
 * The tolerance: |N ranks - reference| <= tol x max(1, |reference|), with
 * tol = max(2e-4, 10 x yardstick). The runs differ only in the order of
 * float sums: a gradient element is a sum over the 12 rows of the global
 * batch, which one process adds in one GEMM and N ranks add per rank and
 * then across ranks (BatchNorm's statistics are summed in double and add
 * nothing visible), so every step's gradients differ in the last bits
 * (float: 6e-8 relative). Training then carries such differences forward
 * and can amplify them. The yardstick measures that amplification for the
 * same model, data and epochs on one process: the reference trained again
 * from weights moved by one ulp each. Over 6 epochs (42 steps) the N-rank
 * differences measured here are 1e-7..2e-5, the same order as the
 * yardstick (1e-7..1e-4); 2e-4 leaves 10x room for other BLAS kernels and
 * compilers. A real mistake moves the weights by 0.2 or more: a batch not
 * split as one process would see it (the negative control, 0.2..2);
 * BatchNorm statistics left local, or a per-rank loss divisor, were both
 * tried and fail this test (differences of 0.3 and more, ranks diverging).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt_mpi.h"
#include "eq_adam.h"
#include "eq_adam_bn.h"
#include "eq_adamw.h"
#include "eq_adamw_bn.h"
#include "eq_dropout.h"
#include "eq_keras_bce.h"
#include "eq_keras_reg.h"
#include "eq_rmsprop.h"
#include "eq_rmsprop_bn.h"
#include "eq_sgd.h"
#include "eq_sgd_bn.h"

#define TOL 2e-4   /* the floor of the tolerance; see above */
#define GLOBAL_BATCH 12
#define VAL_ROWS 23

typedef struct {
    const seqrt_model *m;
    long rows;
} eq_case;

static const eq_case CASES[] = {
    {&eq_sgd_model, 74},      {&eq_sgd_bn_model, 77},
    {&eq_adam_model, 77},     {&eq_adam_bn_model, 74},
    {&eq_adamw_model, 74},    {&eq_adamw_bn_model, 77},
    {&eq_rmsprop_model, 77},  {&eq_rmsprop_bn_model, 74},
    {&eq_keras_bce_model, 77}, {&eq_keras_reg_model, 74},
};

static int rank, size, failures;

static void fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Counts a failure; rank 0 prints it (failures are summed at the end). */
static void fail(const char *fmt, ...)
{
    va_list ap;
    if (rank == 0) {
        printf("FAIL: ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
    failures++;
}

/* ---------------------------------------------------------------- data */

static int ycols_of(const seqrt_model *m)
{
    return m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : m->out;
}

/* rows of x ~ N(0, 1) with targets from a fixed rule suited to the loss. */
static void make_data(seqrt_data *d, const seqrt_model *m, long rows,
                      uint64_t seed)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, seed);
    d->rows = rows;
    d->cols = m->in;
    d->ycols = ycols_of(m);
    d->x = malloc((size_t)rows * (size_t)m->in * sizeof(float));
    d->y = malloc((size_t)rows * (size_t)d->ycols * sizeof(float));
    if (!d->x || !d->y)
        abort();
    for (long i = 0; i < rows; i++) {
        float *x = d->x + i * m->in, *y = d->y + i * d->ycols;
        double s[8] = {0};
        for (int j = 0; j < m->in; j++) {
            x[j] = 1.5f * seqrt_rng_normal(&r) + (j == 0 ? 2.0f : 0.0f);
            for (int k = 0; k < 8; k++)
                s[k] += x[j] * ((j + k) % 3 == 0 ? 1.0 : -0.5) * (1 + k % 2);
        }
        int best = 0;
        for (int k = 1; k < m->out; k++)
            if (s[k] > s[best])
                best = k;
        switch (m->loss) {
        case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
            y[0] = (float)best;
            break;
        case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
            for (int k = 0; k < m->out; k++)
                y[k] = k == best;
            break;
        case SEQRT_LOSS_BINARY_CROSSENTROPY:
            for (int k = 0; k < m->out; k++)
                y[k] = s[k] > 1.0;
            break;
        default:
            for (int k = 0; k < m->out; k++)
                y[k] = (float)(0.3 * s[k] + sin(s[k]));
            break;
        }
    }
}

/* ---------------------------------------------------------------- training */

static void *fresh(const seqrt_model *m, const seqrt_data *train,
                   uint64_t seed)
{
    void *net = calloc(1, m->state_bytes);
    if (!net)
        abort();
    m->init(net, seed);
    seqrt_adapt(m, net, train);
    return net;
}

static int train(const seqrt_model *m, void *net, const seqrt_data *tr,
                 const seqrt_data *val, int batch, int epochs, uint64_t seed,
                 seqrt_history *h)
{
    seqrt_fit_config cfg = m->fit;
    cfg.batch_size = batch;
    cfg.epochs = epochs;
    cfg.shuffle = 1;
    cfg.seed = seed;
    cfg.verbose = 0;
    cfg.checkpoint = NULL;
    if (seqrt_fit(m, net, tr, val, &cfg, h)) {
        printf("rank %d: %s: seqrt_fit: %s\n", rank, m->name, seqrt_error());
        return -1;
    }
    return 0;
}

static int local(void)
{
    return seqrt_mpi_fit_comm(MPI_COMM_NULL);
}

static int world(void)
{
    return seqrt_mpi_fit_comm(MPI_COMM_WORLD);
}

/* ---------------------------------------------------------------- comparisons */

/* The worst relative difference |a - b| / max(1, |a|) over the float
 * tensors of kind PARAM, BUFFER and OPTIM; counters (train.step,
 * train.epoch; not the RNG states, which differ by design on N ranks) must
 * be equal. Reports the worst element if it exceeds tol; tol < 0: report
 * nothing and skip the counters (the control takes more steps). *where
 * (if not NULL) receives the worst tensor's name. */
static double compare_states(const seqrt_model *m, const void *a,
                             const void *b, double tol, const char *what,
                             const char **where)
{
    double worst = 0;
    const char *wname = "";
    long wi = 0;
    double wa = 0, wb = 0;
    for (int k = 0; k < m->ntensors; k++) {
        const seqrt_tensor *t = &m->tensors[k];
        long n = 1;
        for (int d = 0; d < t->ndim; d++)
            n *= t->shape[d];
        const unsigned char *pa = (const unsigned char *)a + t->offset;
        const unsigned char *pb = (const unsigned char *)b + t->offset;
        if (t->kind == SEQRT_T_STATE) {
            if (tol >= 0 && strncmp(t->name, "train.rng", 9) && memcmp(pa, pb, (size_t)n * 8)) {
                fail("%s %s: %s differs: %lld vs %lld", m->name, what,
                     t->name, (long long)*(const int64_t *)pa,
                     (long long)*(const int64_t *)pb);
                return INFINITY;
            }
            continue;
        }
        if (t->kind == SEQRT_T_GRAD)
            continue;
        for (long i = 0; i < n; i++) {
            double x = ((const float *)pa)[i], y = ((const float *)pb)[i];
            double r = fabs(x - y) / fmax(1.0, fabs(x));
            if (!(r <= worst)) {
                worst = isnan(r) ? INFINITY : r;
                wname = t->name;
                wi = i;
                wa = x;
                wb = y;
            }
        }
    }
    if (where)
        *where = wname;
    if (tol >= 0 && !(worst <= tol))
        fail("%s %s: %s[%ld] = %.9g vs %.9g (relative %.3g > %.1g)",
             m->name, what, wname, wi, wa, wb, worst, tol);
    return worst;
}

static int is_accuracy(int kind)
{
    return kind == SEQRT_METRIC_BINARY_ACCURACY ||
           kind == SEQRT_METRIC_CATEGORICAL_ACCURACY ||
           kind == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
}

static void compare_value(const seqrt_model *m, const char *name, int epoch,
                          double a, double b, double tol)
{
    if (fabs(a - b) <= tol * fmax(1.0, fabs(a)))
        return;
    fail("%s epoch %d %s: %.9g vs %.9g", m->name, epoch, name, a, b);
}

static void compare_histories(const seqrt_model *m, const seqrt_history *a,
                              const seqrt_history *b, long rows, double tol)
{
    if (a->nepochs != b->nepochs) {
        fail("%s: %d vs %d epochs", m->name, a->nepochs, b->nepochs);
        return;
    }
    for (int e = 0; e < a->nepochs; e++) {
        const seqrt_epoch_log *x = &a->epochs[e], *y = &b->epochs[e];
        compare_value(m, "loss", x->epoch, x->loss, y->loss, tol);
        compare_value(m, "val_loss", x->epoch, x->val_loss, y->val_loss, tol);
        for (int i = 0; i < m->nmetrics; i++) {
            /* an accuracy may flip one row whose output sits at the cut */
            int acc = is_accuracy(m->metrics[i]);
            compare_value(m, "metric", x->epoch, x->metric[i], y->metric[i],
                          acc ? 1.01 / (double)rows : tol);
            compare_value(m, "val_metric", x->epoch, x->val_metric[i],
                          y->val_metric[i], acc ? 1.01 / VAL_ROWS : tol);
        }
    }
}

/* Every rank holds the same bytes as rank 0 in [off, off + n) of its
 * state. */
static int same_on_all_ranks(const void *net, size_t off, size_t n)
{
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, (const unsigned char *)net + off, n);
    MPI_Bcast(copy, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
    int differ = memcmp(copy, (const unsigned char *)net + off, n) != 0, any;
    MPI_Allreduce(&differ, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    free(copy);
    return !any;
}

/* Every parameter moved by one ulp, up and down alternately: the yardstick
 * of how far rounding alone carries one process's training. */
static void nudge(const seqrt_model *m, void *net)
{
    float *w = (float *)((char *)net + m->param_offset);
    for (long i = 0; i < m->param_count; i++)
        w[i] = nextafterf(w[i], i % 2 ? INFINITY : -INFINITY);
}

/* The tolerance (see the top of the file): TOL, or 10 x the yardstick
 * where training amplifies rounding more; and the negative control must
 * stay 10 x beyond it, or the comparison could not fail. */
static double tolerance(const seqrt_model *m, double yard, double control)
{
    double tol = fmax(TOL, 10 * yard);
    if (size > 1 && !(control > 10 * tol))
        fail("%s: negative control: batch %d on one process differs from "
             "batch %d by only %.3g (tolerance %.3g)", m->name,
             GLOBAL_BATCH / size, GLOBAL_BATCH, control, tol);
    return tol;
}

/* ---------------------------------------------------------------- cases */

static void equivalence(const eq_case *c, int epochs)
{
    const seqrt_model *m = c->m;
    seqrt_data tr, val;
    seqrt_history ref_h, h;
    void *ref = NULL, *other = NULL;
    make_data(&tr, m, c->rows, 11);
    make_data(&val, m, VAL_ROWS, 12);
    memset(&ref_h, 0, sizeof ref_h);
    double worst = 0, control = 0, yard = 0;
    const char *where = "";

    /* rank 0 alone: the reference (global batch) and the control */
    local();
    if (rank == 0) {
        ref = fresh(m, &tr, 5);
        other = fresh(m, &tr, 5);
        if (train(m, ref, &tr, &val, GLOBAL_BATCH, epochs, 9, &ref_h) ||
            train(m, other, &tr, &val, GLOBAL_BATCH / size, epochs, 9, NULL))
            failures++;
        control = compare_states(m, ref, other, -1, "control", NULL);
        void *ulp = fresh(m, &tr, 5);
        nudge(m, ulp);
        if (train(m, ulp, &tr, &val, GLOBAL_BATCH, epochs, 9, NULL))
            failures++;
        yard = compare_states(m, ref, ulp, -1, "ulp", NULL);
        free(ulp);
    }
    /* N ranks, batch 12 / N each */
    world();
    void *net = fresh(m, &tr, 5);
    if (train(m, net, &tr, &val, GLOBAL_BATCH / size, epochs, 9, &h))
        failures++;
    if (rank == 0) {
        double tol = tolerance(m, yard, control);
        worst = compare_states(m, ref, net, tol, "N ranks vs 1", &where);
        compare_histories(m, &ref_h, &h, c->rows, tol);
        printf("%-14s rows %ld: worst %.2g (%s); one ulp on one process: "
               "%.2g; tolerance %.2g; control %.2g\n", m->name, c->rows,
               worst, where, yard, tol, control);
    }
    if (!same_on_all_ranks(net, m->weights_offset, m->weights_bytes))
        fail("%s: the ranks' weights differ", m->name);
    seqrt_history_free(&ref_h);
    seqrt_history_free(&h);
    free(ref);
    free(other);
    free(net);
    seqrt_data_free(&tr);
    seqrt_data_free(&val);
}

/* An application's own loop: the global batches in order (no shuffle),
 * rank r's slice trained with seqrt_mpi_batch(rows, 0) and the gradient
 * all-reduce; against eq_adam_bn_train_step on the whole batch. */
static void own_loop(int epochs)
{
    const seqrt_model *m = &eq_adam_bn_model;
    static eq_adam_bn ref, ulp, ctl, net;
    seqrt_data tr;
    make_data(&tr, m, 74, 21);
    eq_adam_bn_init(&net, 3);
    if (rank == 0) {
        eq_adam_bn_init(&ref, 3);
        eq_adam_bn_init(&ulp, 3);
        nudge(m, &ulp);
        eq_adam_bn_init(&ctl, 3);
    }
    for (int e = 0; e < epochs; e++)
        for (long s = 0; s < tr.rows; s += GLOBAL_BATCH) {
            long part = tr.rows - s < GLOBAL_BATCH ? tr.rows - s : GLOBAL_BATCH;
            long q = part / size, extra = part % size;
            long n = q + (rank < extra), first = rank * q + (rank < extra ? rank : extra);
            if (rank == 0) {
                eq_adam_bn_train_step(&ref, tr.x + s * m->in, tr.y + s, (int)part);
                eq_adam_bn_train_step(&ulp, tr.x + s * m->in, tr.y + s, (int)part);
                for (long c = 0; c < part; c += GLOBAL_BATCH / size) {
                    long k = part - c < GLOBAL_BATCH / size ? part - c : GLOBAL_BATCH / size;
                    eq_adam_bn_train_step(&ctl, tr.x + (s + c) * m->in, tr.y + s + c, (int)k);
                }
            }
            /* a rank with no rows runs row s as a stand-in */
            long at = n > 0 ? s + first : s;
            if (seqrt_mpi_batch(MPI_COMM_WORLD, (int)n, 0)) {
                fail("own loop: %s", seqrt_error());
                return;
            }
            eq_adam_bn_forward(&net, tr.x + at * m->in, NULL, n > 0 ? (int)n : 1, 1);
            eq_adam_bn_backward(&net, tr.y + at, n > 0 ? (int)n : 1);
            if (seqrt_mpi_allreduce_grads(m, &net)) {
                fail("own loop: %s", seqrt_error());
                return;
            }
            eq_adam_bn_update(&net);
            seqrt_mpi_batch_end();
        }
    if (rank == 0) {
        const char *where = "";
        double yard = compare_states(m, &ref, &ulp, -1, "ulp", NULL);
        double control = compare_states(m, &ref, &ctl, -1, "control", NULL);
        double tol = tolerance(m, yard, control);
        double w = compare_states(m, &ref, &net, tol, "own loop", &where);
        printf("%-14s own loop: worst %.2g (%s); one ulp: %.2g; tolerance "
               "%.2g; control %.2g\n", m->name, w, where, yard, tol, control);
    }
    seqrt_data_free(&tr);
}

/* Dropout: masks per rank, reproducibility, and the loss statistically. */
static void dropout(int epochs)
{
    const seqrt_model *m = &eq_dropout_model;
    seqrt_data tr, val;
    make_data(&tr, m, 77, 31);
    make_data(&val, m, VAL_ROWS, 32);
    int bs = GLOBAL_BATCH / size;

    world();
    eq_dropout *a = fresh(m, &tr, 1), *b = fresh(m, &tr, 1);
    if (train(m, a, &tr, &val, bs, epochs, 4, NULL) ||
        train(m, b, &tr, &val, bs, epochs, 4, NULL))
        failures++;
    /* the same N and seed: the same bytes, on every rank */
    int differ = memcmp((char *)a + m->weights_offset,
                        (char *)b + m->weights_offset, m->weights_bytes) != 0;
    int any;
    MPI_Allreduce(&differ, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any)
        fail("%s: two runs with the same N and seed differ", m->name);
    /* ranks 0 and 1 held rows in the last step (77 = 6 x 12 + 5): their
     * first row's masks must differ */
    if (size > 1) {
        float mask0[32];
        memcpy(mask0, a->l3_mask, sizeof mask0);
        MPI_Bcast(mask0, 32, MPI_FLOAT, 0, MPI_COMM_WORLD);
        int same = rank == 1 && !memcmp(mask0, a->l3_mask, sizeof mask0), s;
        MPI_Allreduce(&same, &s, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
        if (s)
            fail("%s: ranks 0 and 1 drew the same Dropout mask", m->name);
    }
    free(a);
    free(b);

    /* final val_loss over 8 seeds: N ranks vs one process, paired */
    enum { SEEDS = 8 };
    double dl[SEEDS], mean = 0, var = 0, first_d = 0, last_d = 0;
    for (int k = 0; k < SEEDS; k++) {
        seqrt_history hs, hd;
        double ls = 0;
        memset(&hs, 0, sizeof hs);
        local();
        if (rank == 0) {
            eq_dropout *s = fresh(m, &tr, 100 + k);
            if (train(m, s, &tr, &val, GLOBAL_BATCH, epochs, 50 + k, &hs))
                failures++;
            ls = hs.epochs[hs.nepochs - 1].val_loss;
            free(s);
        }
        world();
        eq_dropout *d = fresh(m, &tr, 100 + k);
        if (train(m, d, &tr, &val, bs, epochs, 50 + k, &hd))
            failures++;
        dl[k] = hd.epochs[hd.nepochs - 1].val_loss - ls;
        first_d += hd.epochs[0].val_loss / SEEDS;
        last_d += hd.epochs[hd.nepochs - 1].val_loss / SEEDS;
        mean += dl[k] / SEEDS;
        seqrt_history_free(&hs);
        seqrt_history_free(&hd);
        free(d);
    }
    for (int k = 0; k < SEEDS; k++)
        var += (dl[k] - mean) * (dl[k] - mean) / (SEEDS - 1);
    double se = sqrt(var / SEEDS);
    if (rank == 0) {
        printf("%-14s val_loss N ranks - 1 process over %d seeds: mean %.4f "
               "(standard error %.4f); N ranks: epoch 1 %.4f -> %d %.4f\n",
               m->name, SEEDS, mean, se, first_d, epochs, last_d);
        if (!(fabs(mean) <= 4 * se + 0.02))
            fail("%s: the N-rank loss differs from one process's: mean "
                 "difference %.4f, standard error %.4f", m->name, mean, se);
        if (!(last_d < first_d))
            fail("%s: N ranks did not learn: %.4f -> %.4f", m->name,
                 first_d, last_d);
    }
    seqrt_data_free(&tr);
    seqrt_data_free(&val);
}

/* --compare MODEL A B */
static int compare_files(int argc, char **argv)
{
    static const seqrt_model *all[] = {
        &eq_sgd_model, &eq_sgd_bn_model, &eq_adam_model, &eq_adam_bn_model,
        &eq_adamw_model, &eq_adamw_bn_model, &eq_rmsprop_model,
        &eq_rmsprop_bn_model, &eq_dropout_model};
    const seqrt_model *m = NULL;
    for (size_t i = 0; argc == 5 && i < sizeof all / sizeof *all; i++)
        if (!strcmp(all[i]->name, argv[2]))
            m = all[i];
    if (!m) {
        printf("usage: mpi_equiv --compare MODEL A.safetensors B.safetensors\n");
        return 2;
    }
    void *a = calloc(1, m->state_bytes), *b = calloc(1, m->state_bytes);
    if (!a || !b || seqrt_model_load(m, a, argv[3]) ||
        seqrt_model_load(m, b, argv[4])) {
        printf("mpi_equiv: %s\n", seqrt_error());
        return 1;
    }
    const char *where = "";
    double w = compare_states(m, a, b, TOL, "checkpoints", &where);
    printf("%s: worst relative difference %.2g (%s), tolerance %.0e\n",
           m->name, w, where, TOL);
    free(a);
    free(b);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--compare"))
        return compare_files(argc, argv);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int epochs = argc > 1 ? atoi(argv[1]) : 6;
    if (GLOBAL_BATCH % size) {
        if (rank == 0)
            printf("mpi_equiv: run with 1, 2, 3, 4, 6 or 12 ranks\n");
        MPI_Finalize();
        return 2;
    }
    if (rank == 0)
        printf("mpi_equiv: %d ranks, global batch %d (%d per rank), %d "
               "epochs\n", size, GLOBAL_BATCH, GLOBAL_BATCH / size, epochs);
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        equivalence(&CASES[i], epochs);
    own_loop(epochs);
    dropout(epochs);
    local();
    int all;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("mpi_equiv: %s\n", all ? "FAILED" : "ok");
    MPI_Finalize();
    return all ? 1 : 0;
}
