/*
 * test_gradcheck_rnn.c - finite-difference checks of the recurrent kernels
 * (runtime/rnn.c): SimpleRNN, LSTM, GRU with reset_after on and off.
 *
 * For each case the objective is L = sum(y * wy) with random wy, so
 * dL/dy = wy; backward's dx, dw_ih, dw_hh, db_ih and db_hh (GRU
 * reset_after) are compared with central differences of L (method and
 * tolerance: gradcheck_util.h, test_gradcheck_kernels.c). The cases cover
 * T = 1, 2 and longer, batch 1 and several rows, return_sequences on and
 * off, go_backwards, no bias, activations other than the defaults, and
 * recurrent dropout's fixed masks (hmask alone, and with the per-gate
 * input masks xmask: Keras's implementation 1).
 * Also: Keras's orthogonal initializer gives orthonormal rows or columns.
 * One line per case in main.
 */
#include "gradcheck_util.h"

#include <stdlib.h>

typedef enum { SIMPLE, LSTM, GRU } Cell;

typedef struct {
    Cell cell;
    int n, bias;
    seqrt_rnn g;
    float *x, *w_ih, *w_hh, *b_ih, *b_hh, *wy;
    float *y, *z, *a, *h, *c, *scratch;
    float *xmask, *hmask;   /* (n, gates, F), (n, gates, H) or NULL */
} rnn_ctx;

static int gates(Cell c)
{
    return c == LSTM ? 4 : c == GRU ? 3 : 1;
}

static long out_count(const rnn_ctx *t)
{
    return (long)t->n * t->g.H * (t->g.return_sequences ? t->g.T : 1);
}

static void run_forward(rnn_ctx *t, float *z)
{
    switch (t->cell) {
    case SIMPLE:
        seqrt_simple_rnn_forward(t->y, z, t->h, t->x, t->w_ih, t->w_hh, t->b_ih, t->b_hh, t->xmask, t->hmask, t->n,
                                 &t->g, t->scratch);
        return;
    case LSTM:
        seqrt_lstm_forward(t->y, z, t->a, t->h, t->c, t->x, t->w_ih, t->w_hh, t->b_ih, t->b_hh, t->xmask,
                           t->hmask, t->n, &t->g, t->scratch);
        return;
    case GRU:
        seqrt_gru_forward(t->y, z, t->a, t->h, t->c, t->x, t->w_ih, t->w_hh, t->b_ih, t->b_hh, t->xmask,
                          t->hmask, t->n, &t->g, t->scratch);
        return;
    }
}

static double objective_rnn(void *ctx)
{
    rnn_ctx *t = ctx;
    run_forward(t, NULL);   /* the inference path: activated in place */
    return dot(t->y, t->wy, out_count(t));
}

/* A dropout mask: 0 or 1 / (1 - 0.3) at random. */
static float *mask(long count, seqrt_rng *r)
{
    float *m = malloc(sizeof(float) * count);
    seqrt_dropout_mask(m, count, 0.3f, r);
    return m;
}

/* drop: 0 no masks, 1 the recurrent masks, 2 the input masks too. */
static void test_rnn(Cell cell, int n, int T, int F, int Hh, int rs, int gb, int ra, int bias, seqrt_act act,
                     seqrt_act rec, int drop)
{
    char what[180];
    snprintf(what, sizeof what, "%s n=%d T=%d F=%d H=%d%s%s%s%s act=%s rec=%s%s",
             cell == SIMPLE ? "simple_rnn" : cell == LSTM ? "lstm" : "gru", n, T, F, Hh,
             rs ? " return_sequences" : "", gb ? " go_backwards" : "", cell == GRU ? (ra ? " reset_after" : " reset_before") : "",
             bias ? "" : " no-bias", seqrt_act_name(act), seqrt_act_name(rec),
             drop == 2 ? " xmask hmask" : drop ? " hmask" : "");
    seqrt_rng r;
    seqrt_rng_seed(&r, seed_of(what));
    int G = gates(cell) * Hh;
    rnn_ctx t = {cell, n, bias, {T, F, Hh, rs, gb, ra, seqrt_act_default(act), seqrt_act_default(rec)},
                 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    long nx = (long)n * T * F, ny = out_count(&t), ng = (long)n * T * G, nh = (long)n * T * Hh;
    long nscr = SEQRT_RNN_SCRATCH(n, G, Hh) + (drop ? SEQRT_RNN_MASK_SCRATCH(n, G, F, Hh) : 0);
    t.x = malloc(sizeof(float) * nx);
    t.w_ih = malloc(sizeof(float) * G * F);
    t.w_hh = malloc(sizeof(float) * G * Hh);
    t.b_ih = bias ? malloc(sizeof(float) * G) : NULL;
    /* SimpleRNN and LSTM: b_hh is added, not trained (checked by the forward only) */
    t.b_hh = bias && !(cell == GRU && !ra) ? malloc(sizeof(float) * G) : NULL;
    t.wy = malloc(sizeof(float) * ny);
    t.y = malloc(sizeof(float) * ny);
    t.z = malloc(sizeof(float) * ng);
    t.a = malloc(sizeof(float) * ng);
    t.h = malloc(sizeof(float) * nh);
    t.c = malloc(sizeof(float) * nh);
    t.scratch = malloc(sizeof(float) * nscr);
    fill(t.x, nx, &r, -1, 1);
    fill(t.w_ih, (long)G * F, &r, -0.6f, 0.6f);
    fill(t.w_hh, (long)G * Hh, &r, -0.6f, 0.6f);
    if (t.b_ih)
        fill(t.b_ih, G, &r, -0.5f, 0.5f);
    if (t.b_hh)
        fill(t.b_hh, G, &r, -0.5f, 0.5f);
    fill(t.wy, ny, &r, -1, 1);
    if (drop)
        t.hmask = mask((long)n * gates(cell) * Hh, &r);
    if (drop == 2)
        t.xmask = mask((long)n * gates(cell) * F, &r);

    /* analytic: a training forward (z kept), then backward */
    float *dx = malloc(sizeof(float) * nx), *dwi = malloc(sizeof(float) * G * F),
          *dwh = malloc(sizeof(float) * G * Hh), *dbi = malloc(sizeof(float) * G), *dbh = malloc(sizeof(float) * G);
    run_forward(&t, t.z);
    /* the training forward and the in-place inference forward agree exactly */
    float *y_train = malloc(sizeof(float) * ny);
    memcpy(y_train, t.y, sizeof(float) * ny);
    objective_rnn(&t);
    checks++;
    if (memcmp(y_train, t.y, sizeof(float) * ny)) {
        printf("FAIL %s: the training and inference forwards differ\n", what);
        failures++;
    }
    run_forward(&t, t.z);
    int train_bhh = cell == GRU && ra && t.b_hh;
    switch (cell) {
    case SIMPLE:
        seqrt_simple_rnn_backward(dx, dwi, dwh, t.b_ih ? dbi : NULL, NULL, t.wy, t.z, t.h, t.x, t.w_ih, t.w_hh,
                                  t.xmask, t.hmask, n, &t.g, t.scratch);
        break;
    case LSTM:
        seqrt_lstm_backward(dx, dwi, dwh, t.b_ih ? dbi : NULL, t.wy, t.z, t.a, t.h, t.c, t.x, t.w_ih, t.w_hh,
                            t.xmask, t.hmask, n, &t.g, t.scratch);
        break;
    case GRU:
        seqrt_gru_backward(dx, dwi, dwh, t.b_ih ? dbi : NULL, train_bhh ? dbh : NULL, t.wy, t.z, t.a, t.h, t.c,
                           t.x, t.w_ih, t.w_hh, t.xmask, t.hmask, n, &t.g, t.scratch);
        break;
    }

    long most = nx > (long)G * Hh ? nx : (long)G * Hh;
    if ((long)G * F > most)
        most = (long)G * F;
    float *num = malloc(sizeof(float) * most);
    char part[200];
    numgrad(num, t.x, nx, objective_rnn, &t);
    snprintf(part, sizeof part, "%s dx", what);
    compare(part, num, dx, nx);
    numgrad(num, t.w_ih, (long)G * F, objective_rnn, &t);
    snprintf(part, sizeof part, "%s dw_ih", what);
    compare(part, num, dwi, (long)G * F);
    numgrad(num, t.w_hh, (long)G * Hh, objective_rnn, &t);
    snprintf(part, sizeof part, "%s dw_hh", what);
    compare(part, num, dwh, (long)G * Hh);
    if (t.b_ih) {
        numgrad(num, t.b_ih, G, objective_rnn, &t);
        snprintf(part, sizeof part, "%s db_ih", what);
        compare(part, num, dbi, G);
    }
    if (train_bhh) {
        numgrad(num, t.b_hh, G, objective_rnn, &t);
        snprintf(part, sizeof part, "%s db_hh", what);
        compare(part, num, dbh, G);
    }
    free(num);
    free(y_train);
    free(dx), free(dwi), free(dwh), free(dbi), free(dbh);
    free(t.x), free(t.w_ih), free(t.w_hh), free(t.b_ih), free(t.b_hh), free(t.wy), free(t.y), free(t.z),
        free(t.a), free(t.h), free(t.c), free(t.scratch), free(t.xmask), free(t.hmask);
}

/* Keras's Orthogonal: W (rows, cols) has orthonormal rows (rows <= cols) or
 * columns; |W W^T - I| or |W^T W - I| below 1e-5 everywhere. */
static void test_orthogonal(int rows, int cols)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, (uint64_t)rows * 1000 + cols);
    float *w = malloc(sizeof(float) * rows * cols);
    seqrt_init_fill(SEQRT_INIT_ORTHOGONAL, w, (long)rows * cols, cols, rows, &r);
    int m = rows <= cols ? rows : cols;
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double d = 0;
            if (rows <= cols)
                for (int k = 0; k < cols; k++)
                    d += (double)w[i * cols + k] * w[j * cols + k];
            else
                for (int k = 0; k < rows; k++)
                    d += (double)w[k * cols + i] * w[k * cols + j];
            worst = fmax(worst, fabs(d - (i == j)));
        }
    checks++;
    if (!(worst < 1e-5)) {
        printf("FAIL orthogonal %dx%d: worst |Q^T Q - I| %.3g\n", rows, cols, worst);
        failures++;
    }
    free(w);
}

int main(void)
{
    const seqrt_act TANH = SEQRT_ACT_TANH, SIG = SEQRT_ACT_SIGMOID;
    (void)near_kink, (void)next_seed, (void)act_label;   /* shared helpers this file does not need */
    /*      cell    n  T  F  H  rs gb ra bias act                 rec */
    test_rnn(SIMPLE, 1, 1, 3, 4, 0, 0, 0, 1, TANH, SIG, 0);
    test_rnn(SIMPLE, 1, 2, 3, 4, 1, 0, 0, 1, TANH, SIG, 0);
    test_rnn(SIMPLE, 4, 6, 3, 5, 0, 1, 0, 1, TANH, SIG, 0);
    test_rnn(SIMPLE, 3, 5, 2, 4, 1, 1, 0, 0, SEQRT_ACT_SOFTSIGN, SIG, 0);
    test_rnn(LSTM, 1, 1, 3, 4, 0, 0, 0, 1, TANH, SIG, 0);
    test_rnn(LSTM, 1, 2, 3, 4, 1, 0, 0, 1, TANH, SIG, 0);
    test_rnn(LSTM, 4, 6, 3, 5, 0, 0, 0, 1, TANH, SIG, 0);
    test_rnn(LSTM, 4, 6, 3, 5, 1, 1, 0, 1, TANH, SIG, 0);
    test_rnn(LSTM, 2, 4, 3, 3, 0, 1, 0, 0, SEQRT_ACT_SOFTSIGN, SEQRT_ACT_SILU, 0);
    test_rnn(GRU, 1, 1, 3, 4, 0, 0, 1, 1, TANH, SIG, 0);
    test_rnn(GRU, 1, 2, 3, 4, 1, 0, 1, 1, TANH, SIG, 0);
    test_rnn(GRU, 4, 6, 3, 5, 0, 1, 1, 1, TANH, SIG, 0);
    test_rnn(GRU, 3, 5, 2, 4, 1, 0, 1, 0, SEQRT_ACT_SOFTSIGN, SEQRT_ACT_SILU, 0);
    test_rnn(GRU, 1, 1, 3, 4, 0, 0, 0, 1, TANH, SIG, 0);
    test_rnn(GRU, 1, 2, 3, 4, 1, 0, 0, 1, TANH, SIG, 0);
    test_rnn(GRU, 4, 6, 3, 5, 0, 1, 0, 1, TANH, SIG, 0);
    test_rnn(GRU, 3, 5, 2, 4, 1, 1, 0, 0, SEQRT_ACT_SOFTSIGN, SEQRT_ACT_SILU, 0);
    /* recurrent dropout: T = 1 (no previous state), 2, longer; both directions */
    test_rnn(SIMPLE, 1, 1, 3, 4, 0, 0, 0, 1, TANH, SIG, 2);
    test_rnn(SIMPLE, 4, 6, 3, 5, 1, 1, 0, 1, TANH, SIG, 1);
    test_rnn(SIMPLE, 3, 5, 2, 4, 0, 0, 0, 0, SEQRT_ACT_SOFTSIGN, SIG, 2);
    test_rnn(LSTM, 1, 2, 3, 4, 1, 0, 0, 1, TANH, SIG, 2);
    test_rnn(LSTM, 4, 6, 3, 5, 0, 1, 0, 1, TANH, SIG, 1);
    test_rnn(LSTM, 4, 6, 6, 3, 1, 0, 0, 1, TANH, SIG, 2);
    test_rnn(GRU, 1, 2, 3, 4, 1, 0, 1, 1, TANH, SIG, 2);
    test_rnn(GRU, 4, 6, 3, 5, 0, 1, 1, 1, TANH, SIG, 1);
    test_rnn(GRU, 3, 5, 5, 4, 1, 0, 1, 0, SEQRT_ACT_SOFTSIGN, SEQRT_ACT_SILU, 2);
    test_rnn(GRU, 1, 2, 3, 4, 1, 0, 0, 1, TANH, SIG, 2);
    test_rnn(GRU, 4, 6, 3, 5, 0, 1, 0, 1, TANH, SIG, 1);
    test_rnn(GRU, 3, 5, 5, 4, 1, 1, 0, 0, SEQRT_ACT_SOFTSIGN, SEQRT_ACT_SILU, 2);
    test_orthogonal(16, 4);
    test_orthogonal(4, 16);
    test_orthogonal(7, 7);
    test_orthogonal(12, 3);
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
