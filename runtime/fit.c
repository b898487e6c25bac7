/*
 * fit.c - fit, evaluate and predict over any generated model.
 *
 * Design: everything goes through the seqrt_model descriptor; the state is
 * an opaque block of m->state_bytes. seqrt_fit allocates all it needs once
 * (the shuffle order, batch buffers of m->max_batch rows, two copies of the
 * weights range) and nothing in the per-batch path allocates.
 *
 * Epochs. The int64 at m->epoch_offset counts the epochs completed; fit runs
 * from that count up to cfg.epochs in total (Keras's initial_epoch), so a
 * run resumed from a checkpoint continues where it stopped. The counter is
 * incremented as soon as an epoch's training pass ends, before validation
 * and callbacks, so a checkpoint saved at the end of epoch E says E. Each
 * epoch's order is the identity permutation, Fisher-Yates shuffled with a
 * seqrt_rng seeded from (seed, epoch index): it depends on nothing else, so
 * a resumed run sees the same batches as an uninterrupted one.
 *
 * Batches. A step is forward(training=1) into a batch output buffer (the
 * train metrics are computed from these outputs, before the update, as
 * Keras does), backward (which returns the batch loss, with the class
 * weights and the regularization penalties the model has) and update. The
 * last partial batch is included. The epoch loss is the mean of the batch
 * losses weighted by batch rows: that is what Keras 3's loss tracker
 * reports (a Mean updated with sample_weight = batch size), and equals the
 * mean over rows. Metrics are stateful over the epoch, as Keras's: each
 * has a state of sums and counts (seqrt_metric_update) that every batch
 * adds to, and the epoch's value is computed from it at the end (AUC over
 * the epoch, not a mean of batch AUCs). Validation runs after each epoch in
 * inference mode, in batches of max_batch rows, with the loss's arguments
 * but without the class weights (Keras weights only the training data),
 * plus the model's regularization penalties (m->penalty), as Keras adds
 * them to every loss it reports.
 *
 * initial_epoch (fit(initial_epoch=...)): a fresh model (epoch counter 0)
 * starts at that epoch, as Keras's fit does; a resumed one continues from
 * its counter.
 *
 * Callbacks (callbacks.c) act at the end of each epoch in the order of
 * the model file's list: EarlyStopping (Keras 3: mode auto by the
 * monitored quantity's direction; an improvement is current < best -
 * min_delta (min) or current > best + min_delta (max); epochs before
 * start_from_epoch are ignored; training stops when wait >= patience, not
 * at the first epoch; a baseline must be beaten to reset the wait;
 * restore_best_weights copies the weights range [weights_offset,
 * +weights_bytes) of the best epoch and restores it at the end of
 * training), ReduceLROnPlateau, ModelCheckpoint and CSVLogger.
 * TerminateOnNaN acts at the batch: a non-finite batch loss stops training
 * with Keras's message and, unlike Keras (which keeps the NaN weights),
 * with the weights of the last completed epoch; without it a non-finite
 * loss is an error, below.
 *
 * Checkpoint (cfg.checkpoint): the full state is saved with
 * seqrt_model_save whenever the monitored value improves: the early-stopping
 * monitor when early stopping is on, else val_loss (loss without validation
 * data). If that value is unavailable, every epoch is saved.
 *
 * history (if not NULL) is overwritten, not appended to: it holds the
 * epochs of this call only (their `epoch` fields are absolute); free it
 * with seqrt_history_free.
 *
 * A NaN or infinite batch loss stops training at once: the weights range is
 * put back to its copy from the end of the last completed epoch and fit
 * returns -1 (optimizer slots and counters are not rolled back), or 0
 * under TerminateOnNaN(raise_error=False).
 *
 * Data-parallel (seqrt_dist_size() = N > 1: a SEQC_MPI build started by
 * mpirun, or seqrt_mpi_fit_comm; see docs/distributed.md). Every rank calls
 * seqrt_fit with the same data, configuration and state, which fit checks
 * first (hashes compared over the group). Every rank computes the same
 * epoch order; a step takes the next global batch of N x batch_size
 * positions, and rank r trains on its slice of it: the batch's R rows split
 * as evenly as possible (R/N rows each, the first R mod N ranks one more;
 * a rank left with none runs a stand-in row that counts for nothing).
 * BatchNorm's statistics and the loss's divisor are the whole batch's (the
 * kernels' batch hook), and one MPI_Allreduce sums the gradient block, so
 * every rank applies the update one process would apply to the whole
 * batch. A non-finite loss on any rank poisons the first gradient before
 * the sum, so every rank sees it after and stops at the same step. The
 * epoch's loss and metric sums, and validation (each rank evaluates a slice
 * of the validation rows), are summed over the ranks once per epoch:
 * every rank holds the same log, so EarlyStopping and checkpointing decide
 * the same everywhere. Rank 0 alone prints and writes the checkpoint,
 * ModelCheckpoint's files and CSVLogger's; a failed write fails every
 * rank. Dropout: rank r draws its masks from its
 * own stream, derived from the model's RNG state at the start of the epoch
 * and r; at the end of the training pass every rank's RNG state becomes the
 * same derived "next epoch" state, so checkpoints and resumed runs repeat
 * bit for bit for a given N. After every epoch fit checks that the ranks'
 * states are still identical.
 */
#include "seqrt_driver.h"
#include "seqrt_dist.h"
#include "fit_callbacks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define METRICS_MAX SEQRT_MAX_METRICS

typedef struct {
    const char *monitor;
    int maximize, have_best;
    double best;
} checkpointer;

/* The metrics' states: one block per use (the epoch's training, the
 * validation, an evaluation), each metric at off[i]. */
typedef struct {
    long off[METRICS_MAX + 1];   /* off[nmetrics]: the block's size */
} metric_layout;

typedef struct {
    const seqrt_model *m;
    void *net;
    seqrt_fit_config cfg;
    const seqrt_data *train, *val;
    int has_val, bar;           /* bar: live progress bar on a tty */
    long *order;
    float *xb, *tb, *yb;
    unsigned char *best_w, *last_w;
    seqrt_history *h;
    checkpointer ck;
    int rank, size;             /* in the group of data-parallel training */
    uint64_t *rng_saved;        /* N > 1: the RNG states at epoch start */
    long rng_words;
    seqrt_cb_run cb;
    metric_layout ml;
    double *mstate;             /* ml.off[nmetrics] doubles */
    int terminate_on_nan;       /* TerminateOnNaN in the list: 1, or 2 with raise_error */
} fit_run;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned char *weights_of(const seqrt_model *m, void *net)
{
    return (unsigned char *)net + m->weights_offset;
}

static int64_t *epoch_counter(const seqrt_model *m, void *net)
{
    return (int64_t *)((unsigned char *)net + m->epoch_offset);
}

/* ---------------------------------------------------------------- checks */

static int check_data(const seqrt_model *m, const seqrt_data *d,
                      const char *what, int need_rows)
{
    int ycols = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1
                                                                      : m->out;
    if (!d || !d->x || (need_rows && d->rows <= 0))
        return seqrt_fail("%s data: no rows", what);
    if (d->cols != m->in)
        return seqrt_fail("%s data: %d feature columns, the model takes %d",
                          what, d->cols, m->in);
    if (!d->y || d->ycols != ycols)
        return seqrt_fail("%s data: %d target columns, the model's loss %s "
                          "needs %d", what, d->ycols,
                          seqrt_loss_name(m->loss), ycols);
    return 0;
}

static int check_config(const seqrt_model *m, const seqrt_fit_config *c)
{
    if (c->batch_size < 1 || c->batch_size > m->max_batch)
        return seqrt_fail("batch_size %d is out of range: the model's "
                          "buffers hold at most %d rows (fixed at compile "
                          "time by fit(batch_size=...))", c->batch_size,
                          m->max_batch);
    if (c->epochs < 0)
        return seqrt_fail("epochs must not be negative (got %d)", c->epochs);
    return 0;
}

/* ---------------------------------------------------------------- evaluate, predict */

static void layout_metrics(const seqrt_model *m, metric_layout *ml)
{
    long off = 0;
    for (int i = 0; i < m->nmetrics; i++) {
        ml->off[i] = off;
        off += seqrt_metric_state_size(m->metrics[i], &m->metric_args[i], m->out);
    }
    ml->off[m->nmetrics] = off;
}

static void metrics_update(const seqrt_model *m, const metric_layout *ml, double *state, const float *y,
                           const float *t, int n)
{
    for (int i = 0; i < m->nmetrics; i++)
        seqrt_metric_update(m->metrics[i], &m->metric_args[i], state + ml->off[i], y, t, n, m->out);
}

static void metrics_result(const seqrt_model *m, const metric_layout *ml, const double *state, double *out)
{
    for (int i = 0; i < m->nmetrics; i++)
        out[i] = seqrt_metric_result(m->metrics[i], &m->metric_args[i], state + ml->off[i], m->out);
}

/* The loss as evaluation reports it: the loss's arguments without the
 * class weights of training. */
static float eval_loss(const seqrt_model *m, const float *y, const float *t, int n)
{
    const float *logits = m->output_is_logits ? y : NULL;
    if (!m->loss_fn)
        return seqrt_loss(m->loss, NULL, y, logits, t, n, m->out);
    seqrt_lossfn f = *m->loss_fn;
    f.class_weight = NULL;
    f.nclass_weight = 0;
    return seqrt_loss_fn(&f, NULL, y, logits, t, n, m->out);
}

/* Over rows [lo, hi) of d: the loss (with the model's regularization
 * penalties, as Keras reports it) summed over the rows into *lsum, and the
 * metrics' states (layout ml) into state; yb (max_batch x out) is the
 * output buffer. */
static void evaluate_sums(const seqrt_model *m, void *net, const seqrt_data *d, long lo, long hi, float *yb,
                          const metric_layout *ml, double *state, double *lsum)
{
    *lsum = 0;
    memset(state, 0, sizeof(double) * (size_t)ml->off[m->nmetrics]);
    for (long s = lo; s < hi; s += m->max_batch) {
        int n = (int)(hi - s < m->max_batch ? hi - s : m->max_batch);
        const float *t = d->y + (size_t)s * (size_t)d->ycols;
        m->forward(net, d->x + (size_t)s * (size_t)m->in, yb, n, 0);
        double l = eval_loss(m, yb, t, n);
        if (m->penalty)
            l += m->penalty(net, n);
        *lsum += l * n;
        metrics_update(m, ml, state, yb, t, n);
    }
}

/* Loss and metrics over d with yb (max_batch x out) as output buffer and
 * state (layout ml) as the metrics' state. */
static void evaluate_into(const seqrt_model *m, void *net, const seqrt_data *d, float *yb,
                          const metric_layout *ml, double *state, double *loss, double *metrics)
{
    double lsum;
    evaluate_sums(m, net, d, 0, d->rows, yb, ml, state, &lsum);
    *loss = lsum / (double)d->rows;
    if (metrics)
        metrics_result(m, ml, state, metrics);
}

int seqrt_evaluate(const seqrt_model *m, void *net, const seqrt_data *d,
                   double *loss, double *metrics)
{
    if (check_data(m, d, "evaluation", 1))
        return -1;
    if (m->nmetrics < 0 || m->nmetrics > METRICS_MAX)
        return seqrt_fail("evaluate: the model has %d metrics (at most %d)", m->nmetrics, METRICS_MAX);
    metric_layout ml;
    layout_metrics(m, &ml);
    float *yb = malloc((size_t)m->max_batch * (size_t)m->out * sizeof *yb);
    double *state = malloc(sizeof(double) * (size_t)(ml.off[m->nmetrics] + 1));
    if (!yb || !state) {
        free(yb);
        free(state);
        return seqrt_fail("evaluate: out of memory");
    }
    double scratch[METRICS_MAX];
    evaluate_into(m, net, d, yb, &ml, state, loss, metrics ? metrics : scratch);
    free(yb);
    free(state);
    return 0;
}

int seqrt_predict(const seqrt_model *m, void *net, const float *x, long rows,
                  float *y)
{
    if (rows < 0 || (rows > 0 && (!x || !y)))
        return seqrt_fail("predict: no data");
    for (long s = 0; s < rows; s += m->max_batch) {
        int n = (int)(rows - s < m->max_batch ? rows - s : m->max_batch);
        m->forward(net, x + (size_t)s * (size_t)m->in,
                   y + (size_t)s * (size_t)m->out, n, 0);
    }
    return 0;
}

int seqrt_adapt(const seqrt_model *m, void *net, const seqrt_data *d)
{
    if (m->norm_mean_offset == 0)
        return 0;
    if (!d || d->rows <= 0 || !d->x)
        return seqrt_fail("adapt: no rows to adapt the Normalization layer "
                          "to");
    unsigned char *s = net;
    /* statistics per feature of the last axis, over the rows and every
     * position of the other axes */
    int features = m->norm_features > 0 ? m->norm_features : m->in;
    seqrt_normalization_adapt((float *)(s + m->norm_mean_offset),
                              (float *)(s + m->norm_var_offset), d->x,
                              d->rows * (long)(m->in / features), features);
    return 0;
}

/* The decimal the user most likely wrote for f (shortest round trip), so
 * that 0.2f splits like Python's 0.2. */
static double as_written(float f)
{
    char buf[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return (double)f;
}

void seqrt_data_split(const seqrt_data *d, float fraction, seqrt_data *train,
                      seqrt_data *val)
{
    long split = d->rows;
    if (fraction > 0 && fraction < 1)
        split = (long)((double)d->rows * (1.0 - as_written(fraction)));
    if (fraction >= 1)
        split = 0;
    *train = *d;
    *val = *d;
    train->rows = split;
    val->rows = d->rows - split;
    val->x = d->x ? d->x + (size_t)split * (size_t)d->cols : NULL;
    val->y = d->y ? d->y + (size_t)split * (size_t)d->ycols : NULL;
}

void seqrt_history_free(seqrt_history *h)
{
    if (!h)
        return;
    free(h->epochs);
    memset(h, 0, sizeof *h);
}

/* ---------------------------------------------------------------- the checkpoint of the command line */

static void checkpointer_init(fit_run *r)
{
    checkpointer *ck = &r->ck;
    ck->monitor = r->cb.es.enabled ? r->cb.es.monitor : (r->has_val ? "val_loss" : "loss");
    ck->maximize = r->cb.es.enabled ? r->cb.es.maximize : 0;
    ck->have_best = 0;
    ck->best = 0;
}

/* cfg.checkpoint: the full state whenever the early-stopping monitor (else
 * val_loss, else loss) improves. */
static int checkpoint_update(fit_run *r, const seqrt_epoch_log *log)
{
    checkpointer *ck = &r->ck;
    double v;
    int metric;
    if (!r->cfg.checkpoint)
        return 0;
    if (seqrt_cb_value(&r->cb, ck->monitor, log, &v, &metric)) {
        if (ck->have_best && !(ck->maximize ? v > ck->best : v < ck->best))
            return 0;
        if (isnan(v))
            return 0;
        ck->have_best = 1;
        ck->best = v;
    }
    /* rank 0 writes; its failure is every rank's */
    int rc = r->rank == 0 ? seqrt_model_save(r->m, r->net, r->cfg.checkpoint)
                          : 0;
    return seqrt_dist_agree(rc);
}

/* ---------------------------------------------------------------- progress */

/* One value in Keras's number format (4 decimals, or 4 significant digits
 * in scientific notation below 1e-3) appended to line (cap bytes, *len
 * used; what does not fit is cut). */
static void format_value(char *line, size_t cap, size_t *len, const char *sep, const char *prefix,
                         const char *name, double v)
{
    if (*len >= cap)
        return;
    const char *fmt = v == 0 || fabs(v) >= 1e-3 || !isfinite(v) ? "%s%s%s: %.4f" : "%s%s%s: %.4e";
    int k = snprintf(line + *len, cap - *len, fmt, sep, prefix, name, v);
    if (k > 0)
        *len = *len + (size_t)k < cap ? *len + (size_t)k : cap - 1;
}

void seqrt_print_value(FILE *f, const char *sep, const char *prefix,
                       const char *name, double v)
{
    char line[512];
    size_t len = 0;
    format_value(line, sizeof line, &len, sep, prefix, name, v);
    fputs(line, f);
}

/* The epoch's line is written with one fputs: stderr is unbuffered, and
 * under mpirun another rank's message must not land inside it. */
static void print_epoch(const fit_run *r, const seqrt_epoch_log *e)
{
    const seqrt_model *m = r->m;
    char name[64], line[4096];
    size_t len = 0;
    /* a live bar's line is blanked out first */
    int k = snprintf(line, sizeof line, "%s%*sEpoch %d/%d - %.2fs", r->bar ? "\r" : "", r->bar ? 80 : 0,
                     r->bar ? "\r" : "", e->epoch, r->cfg.epochs, e->seconds);
    len = k > 0 ? (size_t)k : 0;
    format_value(line, sizeof line, &len, " - ", "", "loss", e->loss);
    for (int i = 0; i < m->nmetrics; i++)
        format_value(line, sizeof line, &len, " - ", "", seqrt_model_metric_name(m, i), e->metric[i]);
    if (r->has_val) {
        format_value(line, sizeof line, &len, " - ", "", "val_loss", e->val_loss);
        for (int i = 0; i < m->nmetrics; i++) {
            snprintf(name, sizeof name, "val_%s",
                     seqrt_model_metric_name(m, i));
            format_value(line, sizeof line, &len, " - ", "", name, e->val_metric[i]);
        }
    }
    if (e->has_lr)
        format_value(line, sizeof line, &len, " - ", "", "learning_rate", e->lr);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}

/* Redraws the live bar (at most every 0.1 s, and at the last batch). */
static void print_bar(const fit_run *r, int epoch, long batch, long batches,
                      double loss, double *last_draw)
{
    double t = now_seconds();
    if (batch < batches && t - *last_draw < 0.1)
        return;
    *last_draw = t;
    char bar[31];
    int filled = (int)(30 * batch / batches);
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : '.');
    bar[30] = '\0';
    char line[256];
    int k = snprintf(line, sizeof line, "\rEpoch %d/%d [%s] %ld/%ld", epoch, r->cfg.epochs, bar, batch, batches);
    size_t len = k > 0 ? (size_t)k : 0;
    format_value(line, sizeof line, &len, " - ", "", "loss", loss);
    fputs(line, stderr);   /* one write */
    fflush(stderr);
}

/* ---------------------------------------------------------------- training */

static void epoch_order(fit_run *r, int e)
{
    long rows = r->train->rows;
    for (long i = 0; i < rows; i++)
        r->order[i] = i;
    if (!r->cfg.shuffle)
        return;
    seqrt_rng g;
    seqrt_rng_seed(&g, r->cfg.seed ^ (0x9E3779B97F4A7C15ull *
                                      (uint64_t)(e + 1)));
    for (long i = rows - 1; i > 0; i--) {
        long j = (long)seqrt_rng_below(&g, (uint32_t)(i + 1));
        long t = r->order[i];
        r->order[i] = r->order[j];
        r->order[j] = t;
    }
}

/* Points *x and *t at n rows starting at position s of this epoch's order:
 * gathered into the batch buffers when shuffling, in place otherwise. */
static void batch_rows(fit_run *r, long s, int n, const float **x,
                       const float **t)
{
    const seqrt_data *d = r->train;
    size_t in = (size_t)d->cols, tc = (size_t)d->ycols;
    if (!r->cfg.shuffle) {
        *x = d->x + (size_t)s * in;
        *t = d->y + (size_t)s * tc;
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t row = (size_t)r->order[s + i];
        memcpy(r->xb + (size_t)i * in, d->x + row * in, in * sizeof(float));
        memcpy(r->tb + (size_t)i * tc, d->y + row * tc, tc * sizeof(float));
    }
    *x = r->xb;
    *t = r->tb;
}

/* One training pass (0-based epoch e); fills the loss and metrics of log.
 * Returns -1 on a non-finite batch loss (1 when TerminateOnNaN stops
 * training there). */
static int train_epoch(fit_run *r, int e, seqrt_epoch_log *log)
{
    const seqrt_model *m = r->m;
    long rows = r->train->rows, bs = r->cfg.batch_size;
    long batches = (rows + bs - 1) / bs;
    double lsum = 0, last_draw = 0;
    memset(r->mstate, 0, sizeof(double) * (size_t)r->ml.off[m->nmetrics]);
    epoch_order(r, e);
    for (long b = 0; b < batches; b++) {
        long s = b * bs;
        int n = (int)(rows - s < bs ? rows - s : bs);
        const float *x, *t;
        batch_rows(r, s, n, &x, &t);
        m->forward(r->net, x, r->yb, n, 1);
        metrics_update(m, &r->ml, r->mstate, r->yb, t, n);
        float loss = m->backward(r->net, t, n);
        if (!isfinite(loss)) {
            if (r->bar)
                fputc('\n', stderr);
            if (r->terminate_on_nan == 1) {
                if (r->cfg.verbose > 0)
                    fprintf(stderr, "Batch %ld: Invalid loss, terminating training\n", b);
                return 1;
            }
            return seqrt_fail("loss became %s at epoch %d batch %ld; weights "
                              "of epoch %d kept", isnan(loss) ? "NaN" : "Inf",
                              e + 1, b + 1, e);
        }
        m->update(r->net);
        lsum += (double)loss * n;
        if (r->bar)
            print_bar(r, e + 1, b + 1, batches, lsum / (double)(s + n),
                      &last_draw);
    }
    log->loss = lsum / (double)rows;
    metrics_result(m, &r->ml, r->mstate, log->metric);
    return 0;
}

/* ---------------------------------------------------------------- data-parallel (N ranks) */

/* The slice of a batch of `rows` rows that rank r of n trains on: `*count`
 * rows from position `*first`; the first rows % n ranks get one more. */
static void batch_share(long rows, int r, int n, long *first, long *count)
{
    long q = rows / n, extra = rows % n;
    *count = q + (r < extra);
    *first = r * q + (r < extra ? r : extra);
}

/* Is t one of the model's RNG states (the "train.rng*" tensors, 64-bit
 * words), which Dropout's masks come from? */
static int is_rng(const seqrt_tensor *t)
{
    return t->kind == SEQRT_T_STATE && t->dtype == SEQRT_I64 &&
           !strncmp(t->name, "train.rng", 9);
}

static long tensor_elems(const seqrt_tensor *t)
{
    long n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= t->shape[d];
    return n;
}

/* The 64-bit words of all the RNG states. */
static long rng_state_words(const seqrt_model *m)
{
    long words = 0;
    for (int i = 0; i < m->ntensors; i++)
        if (is_rng(&m->tensors[i]))
            words += tensor_elems(&m->tensors[i]);
    return words;
}

static uint64_t mix64(uint64_t z)   /* splitmix64's finalizer */
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* save != 0: copies the RNG states to rng_saved. Else sets them to a
 * stream derived from the saved ones and tag (rank + 1 during an epoch's
 * training pass, 0 for the state every rank continues from), never the
 * all-zero state xoshiro cannot leave. */
static void rng_states(fit_run *r, int save, uint64_t tag)
{
    long k = 0;
    for (int i = 0; i < r->m->ntensors; i++) {
        const seqrt_tensor *t = &r->m->tensors[i];
        if (!is_rng(t))
            continue;
        uint64_t *w = (uint64_t *)((unsigned char *)r->net + t->offset);
        long n = tensor_elems(t);
        uint64_t any = 0;
        for (long j = 0; j < n; j++, k++) {
            if (save) {
                r->rng_saved[k] = w[j];
                continue;
            }
            w[j] = mix64(r->rng_saved[k] + 0x9E3779B97F4A7C15ull * (tag + 1) +
                         0xD1B54A32D192ED03ull * (uint64_t)k);
            any |= w[j];
        }
        if (!save && n > 0 && !any)
            w[0] = 1;
    }
}

/* n bytes into hash h, 8 at a time (about 1 ns per word: the data check
 * must cost little next to an epoch), the tail byte by byte. */
static uint64_t hash_mem(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t words = n / 8;
    for (size_t w = 0; w < words; w++) {
        uint64_t v;
        memcpy(&v, b + 8 * w, 8);
        h = (h ^ v) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
    }
    for (size_t i = 8 * words; i < n; i++)
        h = (h ^ b[i]) * 0x100000001B3ull;
    return mix64(h);
}

/* A hash of what must be identical on every rank after every epoch: the
 * weights range, optimizer slots, counters and RNG states. */
static uint64_t state_hash(const seqrt_model *m, const void *net)
{
    const unsigned char *s = net;
    uint64_t h = hash_mem(0, s + m->weights_offset, m->weights_bytes);
    for (int i = 0; i < m->ntensors; i++) {
        const seqrt_tensor *t = &m->tensors[i];
        if (t->kind == SEQRT_T_OPTIM || t->kind == SEQRT_T_STATE)
            h = hash_mem(h, s + t->offset, (size_t)tensor_elems(t) *
                                               (t->dtype == SEQRT_I64 ? 8 : 4));
    }
    return h;
}

static uint64_t data_hash(const seqrt_data *d)
{
    long v[3] = {d ? d->rows : 0, d ? d->cols : 0, d ? d->ycols : 0};
    uint64_t h = hash_mem(0, v, sizeof v);
    if (!d || d->rows <= 0)
        return h;
    h = hash_mem(h, d->x, (size_t)d->rows * (size_t)d->cols * sizeof(float));
    return hash_mem(h, d->y, (size_t)d->rows * (size_t)d->ycols * sizeof(float));
}

/* Before the first epoch on N ranks: the same configuration, data and
 * state everywhere, or every rank fails with the same message. */
static int group_check(fit_run *r)
{
    const seqrt_fit_config *c = &r->cfg;
    long cfg[3] = {c->batch_size, c->epochs, c->shuffle};
    uint64_t h = hash_mem(hash_mem(0, cfg, sizeof cfg), &c->seed,
                          sizeof c->seed);
    if (!seqrt_dist_same(h))
        return seqrt_fail("fit: the ranks were given different batch_size, "
                          "epochs, shuffle or seed");
    if (!seqrt_dist_same(data_hash(r->train)) ||
        !seqrt_dist_same(data_hash(r->has_val ? r->val : NULL)))
        return seqrt_fail("fit: the ranks read different data (every rank "
                          "must load the same rows: the same file, on a "
                          "shared file system or copied to every node)");
    if (!seqrt_dist_same(state_hash(r->m, r->net)))
        return seqrt_fail("fit: the ranks start from different model states "
                          "(every rank must use the same --seed, or load "
                          "the same checkpoint)");
    return 0;
}

/* One training pass on N ranks (the file's comment, "Data-parallel"). */
static int train_epoch_shared(fit_run *r, int e, seqrt_epoch_log *log)
{
    const seqrt_model *m = r->m;
    long rows = r->train->rows, bs = r->cfg.batch_size;
    long global = bs * r->size, batches = (rows + global - 1) / global;
    long nstate = r->ml.off[m->nmetrics];
    double lsum = 0;
    float *g0 = (float *)((unsigned char *)r->net + m->grad_offset);
    float loss = 0;
    int rc = 0;
    memset(r->mstate, 0, sizeof(double) * (size_t)nstate);
    epoch_order(r, e);
    rng_states(r, 1, 0);
    rng_states(r, 0, (uint64_t)r->rank + 1);
    for (long b = 0; b < batches; b++) {
        long s = b * global, part = rows - s < global ? rows - s : global;
        long first, count;
        batch_share(part, r->rank, r->size, &first, &count);
        int n = count > 0 ? (int)count : 1;   /* 0: one stand-in row */
        const float *x, *t;
        batch_rows(r, count > 0 ? s + first : s, n, &x, &t);
        seqrt_dist_batch((int)count, part);
        m->forward(r->net, x, r->yb, n, 1);
        if (count > 0)
            metrics_update(m, &r->ml, r->mstate, r->yb, t, n);
        loss = m->backward(r->net, t, n);
        if (count > 0 && !isfinite(loss) && m->param_count > 0)
            g0[0] = NAN;   /* every rank sees it after the sum */
        seqrt_dist_allreduce_grads(m, r->net);
        if (m->param_count > 0 && !isfinite(g0[0])) {
            if (r->terminate_on_nan == 1) {   /* TerminateOnNaN: a stop */
                if (r->cfg.verbose > 0)
                    fprintf(stderr, "Batch %ld: Invalid loss, terminating training\n", b);
                rc = 1;
                break;
            }
            rc = count > 0 && !isfinite(loss)
                     ? seqrt_fail("loss became %s at epoch %d batch %ld; "
                                  "weights of epoch %d kept",
                                  isnan(loss) ? "NaN" : "Inf", e + 1, b + 1, e)
                     : seqrt_fail("loss or gradients became NaN or Inf at "
                                  "epoch %d batch %ld (on another rank); "
                                  "weights of epoch %d kept", e + 1, b + 1, e);
            break;
        }
        m->update(r->net);
        if (count > 0)
            lsum += (double)loss * n;
    }
    seqrt_dist_batch_end();
    rng_states(r, 0, 0);   /* the same next state on every rank */
    if (rc)
        return rc;
    /* the loss sum, then the metrics' states: sums and counts that add up */
    seqrt_dist_sum(&lsum, 1);
    seqrt_dist_sum(r->mstate, (int)nstate);
    log->loss = lsum / (double)rows;
    metrics_result(m, &r->ml, r->mstate, log->metric);
    return 0;
}

/* Validation on N ranks: each evaluates its slice of the rows. */
static void evaluate_shared(fit_run *r, seqrt_epoch_log *log)
{
    long first, count, rows = r->val->rows;
    double lsum;
    batch_share(rows, r->rank, r->size, &first, &count);
    evaluate_sums(r->m, r->net, r->val, first, first + count, r->yb, &r->ml, r->mstate, &lsum);
    seqrt_dist_sum(&lsum, 1);
    seqrt_dist_sum(r->mstate, (int)r->ml.off[r->m->nmetrics]);
    log->val_loss = lsum / (double)rows;
    metrics_result(r->m, &r->ml, r->mstate, log->val_metric);
}

/* Runs epoch e completely: training, counter, validation, timing. */
static int run_epoch(fit_run *r, int e, seqrt_epoch_log *log)
{
    double t0 = now_seconds();
    memset(log, 0, sizeof *log);
    log->epoch = e + 1;
    log->val_loss = NAN;
    for (int i = 0; i < METRICS_MAX; i++)
        log->val_metric[i] = NAN;
    memcpy(r->last_w, weights_of(r->m, r->net), r->m->weights_bytes);
    int rc = r->size > 1 ? train_epoch_shared(r, e, log) : train_epoch(r, e, log);
    if (rc) {
        memcpy(weights_of(r->m, r->net), r->last_w, r->m->weights_bytes);
        r->h->stopped_nan = 1;
        return rc;
    }
    (*epoch_counter(r->m, r->net))++;
    if (r->has_val && r->size > 1)
        evaluate_shared(r, log);
    else if (r->has_val)
        evaluate_into(r->m, r->net, r->val, r->yb, &r->ml, r->mstate, &log->val_loss, log->val_metric);
    log->seconds = now_seconds() - t0;
    return 0;
}

/* The best epoch for the history: early stopping's, else the lowest
 * val_loss (loss without validation data). */
static int best_epoch(const fit_run *r)
{
    if (r->cb.es.enabled && r->cb.es.have_best)
        return r->cb.es.best_epoch;
    int best = 0;
    double bv = 0;
    for (int i = 0; i < r->h->nepochs; i++) {
        const seqrt_epoch_log *e = &r->h->epochs[i];
        double v = r->has_val ? e->val_loss : e->loss;
        if (!isnan(v) && (!best || v < bv)) {
            best = e->epoch;
            bv = v;
        }
    }
    return best;
}

static void finish(fit_run *r)
{
    seqrt_cb_es *es = &r->cb.es;
    int verbose = r->cfg.verbose > 0;
    if (es->stopped_epoch && verbose)
        fprintf(stderr, "Epoch %d: early stopping\n", es->stopped_epoch);
    if (es->enabled && r->cfg.early_stopping.restore_best_weights && es->have_best) {
        if (verbose)
            fprintf(stderr, "Restoring model weights from the end of the "
                    "best epoch: %d.\n", es->best_epoch);
        memcpy(weights_of(r->m, r->net), r->best_w, r->m->weights_bytes);
    }
    r->h->stopped_early = es->stopped_epoch != 0;
    r->h->best_epoch = best_epoch(r);
}

static int fit_alloc(fit_run *r, int epochs_left)
{
    const seqrt_model *m = r->m;
    size_t mb = (size_t)m->max_batch;
    r->order = malloc((size_t)r->train->rows * sizeof *r->order);
    r->xb = malloc(mb * (size_t)(m->in > 0 ? m->in : 1) * sizeof(float));
    r->tb = malloc(mb * (size_t)r->train->ycols * sizeof(float));
    r->yb = malloc(mb * (size_t)m->out * sizeof(float));
    r->best_w = malloc(m->weights_bytes ? m->weights_bytes : 1);
    r->last_w = malloc(m->weights_bytes ? m->weights_bytes : 1);
    r->h->epochs = calloc((size_t)(epochs_left > 0 ? epochs_left : 1),
                          sizeof *r->h->epochs);
    if (r->size > 1)
        r->rng_saved = malloc((size_t)(r->rng_words > 0 ? r->rng_words : 1) *
                              sizeof *r->rng_saved);
    r->mstate = malloc(sizeof(double) * (size_t)(r->ml.off[m->nmetrics] + 1));
    if (!r->order || !r->xb || !r->tb || !r->yb || !r->best_w || !r->last_w ||
        !r->h->epochs || (r->size > 1 && !r->rng_saved) || !r->mstate)
        return seqrt_fail("fit: out of memory");
    r->cb.best_w = r->best_w;
    return 0;
}

static void fit_free(fit_run *r)
{
    free(r->order);
    free(r->xb);
    free(r->tb);
    free(r->yb);
    free(r->best_w);
    free(r->last_w);
    free(r->rng_saved);
    free(r->mstate);
    seqrt_callbacks_free(&r->cb);
}

static int fit_setup(fit_run *r, const seqrt_model *m, void *net,
                     const seqrt_data *train, const seqrt_data *val,
                     const seqrt_fit_config *cfg)
{
    r->m = m;
    r->net = net;
    r->cfg = cfg ? *cfg : m->fit;
    r->train = train;
    r->val = val;
    r->has_val = val && val->rows > 0;
    r->rank = seqrt_dist_rank();
    r->size = seqrt_dist_size();
    if (r->rank != 0)
        r->cfg.verbose = 0;   /* rank 0 alone prints */
    if (m->nmetrics < 0 || m->nmetrics > METRICS_MAX)
        return seqrt_fail("fit: the model has %d metrics (at most %d)",
                          m->nmetrics, METRICS_MAX);
    if (check_config(m, &r->cfg) || check_data(m, train, "training", 1) ||
        (r->has_val && check_data(m, val, "validation", 1)))
        return -1;
    if (train->rows > (long)UINT32_MAX)
        return seqrt_fail("fit: too many rows (%ld)", train->rows);
    r->bar = r->cfg.verbose == 1 && isatty(fileno(stderr));
    layout_metrics(m, &r->ml);
    r->cb.m = m;
    r->cb.cfg = &r->cfg;
    r->cb.net = net;
    r->cb.has_val = r->has_val;
    r->cb.quiet = r->cfg.verbose <= 0;
    r->cb.writer = r->rank == 0;   /* rank 0 alone writes files */
    for (int i = 0; i < r->cfg.ncallbacks && i < SEQRT_MAX_CALLBACKS; i++)
        if (r->cfg.callbacks[i].kind == SEQRT_CB_TERMINATE_ON_NAN)
            r->terminate_on_nan = r->cfg.callbacks[i].raise_error ? 2 : 1;
    if (seqrt_callbacks_begin(&r->cb))
        return -1;
    checkpointer_init(r);
    return 0;
}

int seqrt_fit(const seqrt_model *m, void *net, const seqrt_data *train,
              const seqrt_data *val, const seqrt_fit_config *cfg,
              seqrt_history *history)
{
    fit_run r;
    seqrt_history local;
    memset(&r, 0, sizeof r);
    r.h = history ? history : &local;
    memset(r.h, 0, sizeof *r.h);
    int rc = fit_setup(&r, m, net, train, val, cfg);
    /* a fresh model starts at initial_epoch, as Keras's fit(initial_epoch=) */
    if (rc == 0 && *epoch_counter(m, net) == 0 && r.cfg.initial_epoch > 0)
        *epoch_counter(m, net) = r.cfg.initial_epoch;
    int first = rc ? 0 : (int)*epoch_counter(m, net);
    if (rc == 0 && r.size > 1)
        r.rng_words = rng_state_words(m);
    if (rc == 0)
        rc = fit_alloc(&r, r.cfg.epochs - first);
    /* N ranks: one failure fails all; then they must agree on everything */
    rc = seqrt_dist_agree(rc);
    if (rc == 0 && r.size > 1)
        rc = group_check(&r);
    for (int e = first; rc == 0 && e < r.cfg.epochs; e++) {
        seqrt_epoch_log *log = &r.h->epochs[r.h->nepochs];
        if ((rc = run_epoch(&r, e, log)) != 0)
            break;
        r.h->nepochs++;
        int stop = 0;
        /* a write that fails on rank 0 fails every rank */
        if ((rc = seqrt_dist_agree(seqrt_callbacks_epoch_end(&r.cb, e, log, &stop))) != 0)
            break;
        if (r.cfg.verbose > 0)
            print_epoch(&r, log);
        if (r.size > 1 && !seqrt_dist_same(state_hash(m, net))) {
            rc = seqrt_fail("fit: the ranks' model states differ after epoch "
                            "%d: MPI_Allreduce did not return the same sums "
                            "on every rank", e + 1);
            break;
        }
        if ((rc = checkpoint_update(&r, log)) != 0 || stop)
            break;
    }
    if (rc == 1) {   /* TerminateOnNaN: a stop, not a failure */
        rc = 0;
        r.h->stopped_nan = 1;
    }
    if (rc == 0)
        finish(&r);
    else
        r.h->best_epoch = best_epoch(&r);
    fit_free(&r);
    if (!history)
        seqrt_history_free(&local);
    return rc;
}
