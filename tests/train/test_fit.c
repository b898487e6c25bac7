/*
 * test_fit.c - seqrt_fit and friends on the toy model: every row seen once
 * per epoch with a partial last batch, shuffle determinism, Keras's
 * validation_split boundaries, early stopping on a constructed val_loss
 * sequence (stop epoch, min_delta, start_from_epoch, missing monitor) with
 * an exact restore of the best weights, the NaN stop, evaluate/predict,
 * adapt, checkpoints and resume bit-identical to an uninterrupted run.
 */
#include "check.h"
#include "toy_model.h"

#include <math.h>

/* rows of y = 0.5 a - 0.25 b + 0.1, feature a = the row id */
static seqrt_data make_data(long rows)
{
    seqrt_data d = {malloc(sizeof(float) * 2 * (size_t)rows),
                    malloc(sizeof(float) * (size_t)rows), rows, 2, 1};
    for (long r = 0; r < rows; r++) {
        float a = (float)r, b = (float)((r * 7) % 5) - 2.0f;
        d.x[2 * r] = a;
        d.x[2 * r + 1] = b;
        d.y[r] = 0.01f * a - 0.25f * b + 0.1f;
    }
    return d;
}

/* zero targets: a scripted output c gives val_loss c^2 under MSE */
static seqrt_data make_zero_targets(long rows)
{
    seqrt_data d = make_data(rows);
    memset(d.y, 0, sizeof(float) * (size_t)rows);
    return d;
}

static toy_state *new_net(const seqrt_model *m, uint64_t seed)
{
    toy_state *s = calloc(1, m->state_bytes);
    m->init(s, seed);
    return s;
}

static seqrt_fit_config config(int epochs, int batch, uint64_t seed)
{
    seqrt_fit_config c = toy.fit;
    c.epochs = epochs;
    c.batch_size = batch;
    c.seed = seed;
    c.verbose = 0;
    return c;
}

static int same_weights(const seqrt_model *m, const void *a, const void *b)
{
    return !memcmp((const char *)a + m->weights_offset,
                   (const char *)b + m->weights_offset, m->weights_bytes);
}

static void test_partial_batch(void)
{
    seqrt_model m;
    long hits[37] = {0};
    toy_defaults();
    toy.lr = 0.001f;
    toy.row_hits = hits;
    toy.nrow_hits = 37;
    toy_model(&m);
    seqrt_data d = make_data(37);
    toy_state *s = new_net(&m, 3);
    seqrt_fit_config c = config(3, 8, 5);
    seqrt_history h;
    CHECK(seqrt_fit(&m, s, &d, NULL, &c, &h) == 0);
    CHECK(toy.rows_seen == 3 * 37);
    for (int i = 0; i < 37; i++)
        CHECK(hits[i] == 3);
    CHECK(s->step == 3 * 5);           /* ceil(37 / 8) batches per epoch */
    CHECK(s->epoch == 3);
    CHECK(h.nepochs == 3 && h.epochs[2].epoch == 3);
    CHECK(isnan(h.epochs[0].val_loss));
    CHECK(h.epochs[0].seconds >= 0);
    seqrt_history_free(&h);
    /* batch_size above the compiled maximum */
    c.batch_size = TOY_MAX_BATCH + 1;
    CHECK(seqrt_fit(&m, s, &d, NULL, &c, NULL) == -1);
    CHECK_CONTAINS(seqrt_error(), "fit(batch_size=...)");
    free(s);
    free(d.x);
    free(d.y);
}

static void test_shuffle_determinism(void)
{
    seqrt_model m;
    toy_defaults();
    toy.lr = 0.001f;
    toy_model(&m);
    seqrt_data d = make_data(40);
    toy_state *a = new_net(&m, 1), *b = new_net(&m, 1), *c = new_net(&m, 1),
              *e = new_net(&m, 1);
    seqrt_fit_config cfg = config(4, 8, 42);
    CHECK(seqrt_fit(&m, a, &d, NULL, &cfg, NULL) == 0);
    CHECK(seqrt_fit(&m, b, &d, NULL, &cfg, NULL) == 0);
    cfg.seed = 43;
    CHECK(seqrt_fit(&m, c, &d, NULL, &cfg, NULL) == 0);
    cfg.shuffle = 0;
    CHECK(seqrt_fit(&m, e, &d, NULL, &cfg, NULL) == 0);
    CHECK(same_weights(&m, a, b));
    CHECK(!same_weights(&m, a, c));
    CHECK(!same_weights(&m, a, e));
    free(a);
    free(b);
    free(c);
    free(e);
    free(d.x);
    free(d.y);
}

static void check_split(long rows, float f, long want_train)
{
    seqrt_data d = make_data(rows), t, v;
    seqrt_data_split(&d, f, &t, &v);
    CHECK(t.rows == want_train);
    CHECK(v.rows == rows - want_train);
    CHECK(t.x == d.x && v.x == d.x + 2 * want_train);
    CHECK(v.y == d.y + want_train);
    if (t.rows != want_train)
        fprintf(stderr, "  split %ld rows by %g: %ld train, want %ld\n", rows,
                (double)f, t.rows, want_train);
    free(d.x);
    free(d.y);
}

static void test_split(void)
{
    /* Keras: split_at = int(rows * (1 - validation_split)) in Python */
    check_split(10, 0.2f, 8);
    check_split(10, 0.3f, 7);
    check_split(10, 0.1f, 9);
    check_split(7, 0.2f, 5);
    check_split(7, 0.3f, 4);
    check_split(100, 0.33f, 67);
    check_split(3, 0.25f, 2);
    check_split(10, 0.0f, 10);
}

/* Fits with early stopping on scripted val losses; returns the state. */
static toy_state *fit_scripted(seqrt_model *m, const double *script, int n,
                               seqrt_early_stopping es, int epochs,
                               seqrt_history *h, int with_val)
{
    toy_defaults();
    toy.lr = 0.0005f;
    toy.val_script = script;
    toy.nscript = n;
    toy_model(m);
    seqrt_data d = make_data(24), v = make_zero_targets(5);
    toy_state *s = new_net(m, 9);
    seqrt_fit_config c = config(epochs, 8, 7);
    c.early_stopping = es;
    CHECK(seqrt_fit(m, s, &d, with_val ? &v : NULL, &c, h) == 0);
    free(d.x);
    free(d.y);
    free(v.x);
    free(v.y);
    return s;
}

static void test_early_stopping(void)
{
    static const double script[] = {1.0, 0.5, 0.6, 0.4, 0.45, 0.41, 0.42,
                                    0.3, 0.2, 0.1};
    seqrt_model m;
    seqrt_history h;
    seqrt_early_stopping es = {1, "val_loss", 0, 2, 0, 1, 0};
    toy_state *s = fit_scripted(&m, script, 10, es, 10, &h, 1);
    CHECK(h.nepochs == 6);             /* best 4, no gain at 5 and 6 */
    CHECK(h.stopped_early == 1);
    CHECK(h.best_epoch == 4);
    CHECK(s->epoch == 6);
    CHECK(fabs(h.epochs[3].val_loss - 0.4) < 1e-5);
    seqrt_history_free(&h);
    /* reference: the same run for exactly 4 epochs, no early stopping */
    seqrt_early_stopping off = {0, NULL, 0, 0, 0, 0, 0};
    toy_state *ref = fit_scripted(&m, script, 10, off, 4, &h, 1);
    CHECK(same_weights(&m, s, ref));
    CHECK(h.best_epoch == 4);          /* lowest val_loss */
    seqrt_history_free(&h);
    free(ref);
    free(s);
    /* without restore_best_weights the last epoch's weights stay */
    es.restore_best_weights = 0;
    s = fit_scripted(&m, script, 10, es, 10, &h, 1);
    ref = fit_scripted(&m, script, 10, off, 6, NULL, 1);
    CHECK(same_weights(&m, s, ref));
    seqrt_history_free(&h);
    free(ref);
    free(s);
}

static void test_early_stopping_details(void)
{
    static const double script[] = {1.0, 0.5, 0.47, 0.46, 0.3, 0.2};
    static const double late[] = {0.1, 0.2, 0.3, 0.25, 0.26, 0.27, 0.28};
    seqrt_model m;
    seqrt_history h;
    /* min_delta 0.05: 0.47 and 0.46 are no improvement over 0.5 */
    seqrt_early_stopping es = {1, NULL, 0.05f, 2, 0, 0, 0};
    free(fit_scripted(&m, script, 6, es, 6, &h, 1));
    CHECK(h.nepochs == 4 && h.stopped_early && h.best_epoch == 2);
    seqrt_history_free(&h);
    /* start_from_epoch 2: epochs 1, 2 ignored; best 0.25 at epoch 4 */
    seqrt_early_stopping es2 = {1, "val_loss", 0, 2, 1, 0, 2};
    free(fit_scripted(&m, late, 7, es2, 7, &h, 1));
    CHECK(h.nepochs == 6 && h.best_epoch == 4);
    seqrt_history_free(&h);
    /* patience 0 stops at the first epoch without improvement */
    seqrt_early_stopping es3 = {1, "val_loss", 0, 0, 0, 0, 0};
    free(fit_scripted(&m, late, 7, es3, 7, &h, 1));
    CHECK(h.nepochs == 2 && h.best_epoch == 1);
    seqrt_history_free(&h);
    /* val_loss without validation data: warn, never stop */
    free(fit_scripted(&m, late, 7, es3, 7, &h, 0));
    CHECK(h.nepochs == 7 && !h.stopped_early);
    seqrt_history_free(&h);
    /* mode max on a val_loss that rises */
    seqrt_early_stopping es4 = {1, "val_loss", 0, 1, 2, 0, 0};
    free(fit_scripted(&m, late, 7, es4, 7, &h, 1));
    CHECK(h.nepochs == 4 && h.best_epoch == 3);
    seqrt_history_free(&h);
}

static void test_nan_stop(void)
{
    seqrt_model m;
    toy_defaults();
    toy.lr = 0.001f;
    toy.nan_epoch = 3;
    toy.nan_batch = 2;
    toy_model(&m);
    seqrt_data d = make_data(30);
    toy_state *s = new_net(&m, 2);
    seqrt_fit_config c = config(6, 8, 4);
    seqrt_history h;
    CHECK(seqrt_fit(&m, s, &d, NULL, &c, &h) == -1);
    CHECK_CONTAINS(seqrt_error(),
                   "loss became NaN at epoch 3 batch 2; weights of epoch 2 "
                   "kept");
    CHECK(h.stopped_nan && h.nepochs == 2);
    CHECK(s->epoch == 2);
    seqrt_history_free(&h);
    toy.nan_epoch = 0;
    toy_state *ref = new_net(&m, 2);
    c.epochs = 2;
    CHECK(seqrt_fit(&m, ref, &d, NULL, &c, NULL) == 0);
    CHECK(same_weights(&m, s, ref));
    free(ref);
    free(s);
    free(d.x);
    free(d.y);
}

static void test_evaluate_predict_adapt(void)
{
    seqrt_model m;
    toy_defaults();
    toy.nmetrics = 1;
    toy.metrics[0] = SEQRT_METRIC_MAE;
    toy_model(&m);
    seqrt_data d = make_data(37);
    toy_state *s = new_net(&m, 1);
    s->w[0] = 0.01f;
    s->w[1] = -0.5f;
    s->b[0] = 0.3f;
    double loss, mae, want_loss = 0, want_mae = 0;
    float *y = malloc(sizeof(float) * 37);
    CHECK(seqrt_predict(&m, s, d.x, 37, y) == 0);
    for (int r = 0; r < 37; r++) {
        float p = 0.3f + 0.01f * d.x[2 * r] - 0.5f * d.x[2 * r + 1];
        CHECK(fabsf(y[r] - p) < 1e-5f);
        want_loss += (double)(p - d.y[r]) * (p - d.y[r]) / 37;
        want_mae += fabs((double)(p - d.y[r])) / 37;
    }
    CHECK(seqrt_evaluate(&m, s, &d, &loss, &mae) == 0);
    CHECK(fabs(loss - want_loss) < 1e-4 * want_loss);
    CHECK(fabs(mae - want_mae) < 1e-4 * want_mae);
    free(y);
    free(s);
    /* adapt a leading Normalization layer */
    toy.use_norm = 1;
    toy_model(&m);
    s = new_net(&m, 1);
    CHECK(seqrt_adapt(&m, s, &d) == 0);
    CHECK(fabsf(s->norm_mean[0] - 18.0f) < 1e-4f);    /* ids 0..36 */
    CHECK(fabsf(s->norm_var[0] - 114.0f) < 1e-3f);    /* (37^2-1)/12 */
    free(s);
    free(d.x);
    free(d.y);
}

static void test_resume(void)
{
    seqrt_model m;
    toy_defaults();
    toy.lr = 0.001f;
    toy_model(&m);
    seqrt_data d = make_data(29), v = make_data(7);
    seqrt_fit_config c = config(6, 8, 11);
    toy_state *a = new_net(&m, 5), *b = new_net(&m, 5);
    CHECK(seqrt_fit(&m, a, &d, &v, &c, NULL) == 0);
    c.epochs = 3;
    CHECK(seqrt_fit(&m, b, &d, &v, &c, NULL) == 0);
    CHECK(seqrt_model_save(&m, b, "resume.safetensors") == 0);
    toy_state *r = new_net(&m, 99);
    CHECK(seqrt_model_load(&m, r, "resume.safetensors") == 0);
    CHECK(r->epoch == 3);
    c.epochs = 6;
    seqrt_history h;
    CHECK(seqrt_fit(&m, r, &d, &v, &c, &h) == 0);
    CHECK(h.nepochs == 3 && h.epochs[0].epoch == 4);
    CHECK(same_weights(&m, a, r));
    CHECK(!memcmp(a->vw, r->vw, sizeof a->vw));
    CHECK(a->step == r->step && r->epoch == 6);
    seqrt_history_free(&h);
    /* a checkpoint is written when val_loss improves */
    remove("best.safetensors");
    c.checkpoint = "best.safetensors";
    toy_state *k = new_net(&m, 5);
    CHECK(seqrt_fit(&m, k, &d, &v, &c, NULL) == 0);
    toy_state *kl = new_net(&m, 1);
    CHECK(seqrt_model_load(&m, kl, "best.safetensors") == 0);
    CHECK(kl->epoch >= 1 && kl->epoch <= 6);
    free(kl);
    free(k);
    free(a);
    free(b);
    free(r);
    free(d.x);
    free(d.y);
    free(v.x);
    free(v.y);
}

int main(void)
{
    test_partial_batch();
    test_shuffle_determinism();
    test_split();
    test_early_stopping();
    test_early_stopping_details();
    test_nan_stop();
    test_evaluate_predict_adapt();
    test_resume();
    return check_report("test_fit");
}
