/*
 * callbacks.c - fit()'s callbacks, Keras 3 semantics: EarlyStopping,
 * ReduceLROnPlateau, ModelCheckpoint, CSVLogger (TerminateOnNaN acts per
 * batch, in fit.c).
 *
 * At the end of an epoch the callbacks act in the order of the model
 * file's list (`order`), each seeing the epoch's log as the ones before it
 * left it: ReduceLROnPlateau adds "learning_rate" to the log (the rate
 * before its own change), so a CSVLogger after it records it, one before it
 * does not; a ModelCheckpoint after ReduceLROnPlateau saves the reduced
 * rate. EarlyStopping decides to stop but the rest still act on that
 * epoch, and its best weights are restored at the end of training, as Keras
 * 3 does (keras/src/callbacks).
 *
 * Monitors (MonitorCallback): mode "auto" minimizes the loss and maximizes
 * or minimizes a metric by its Keras direction (seqrt_metric_higher_is_better;
 * the compiler refuses metrics without one); an improvement is
 * current - |min_delta| > best (max) or current + |min_delta| < best (min),
 * and the first value always improves. A monitor that the log lacks (val_
 * without validation data) gives one warning per callback.
 *
 * ModelCheckpoint's path takes Python format fields: {epoch} (1-based) and
 * the log's names ({val_loss:.2f}, {epoch:02d}), formatted as Python's
 * str.format does for ints and floats. It saves atomically
 * (seqrt_st_save), the whole state or, with save_weights_only, the
 * weights; a missing directory is created, as Keras does. CSVLogger writes
 * Keras's file: the header "epoch" and the log's names sorted (with the
 * val_ names added when there is no validation), the 0-based epoch, every
 * value as Python's repr of the float32 Keras holds ("NA" for a missing
 * one), separator as given, CRLF line ends (Python's csv module); the file
 * is rewritten atomically after every epoch, so a reader never sees half a
 * row, and append=True keeps what the file held before training.
 */
#include "seqrt_driver.h"
#include "fit_callbacks.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- the log */

/* Does `name` (a monitor without its val_ prefix) name metric i of m: its
 * reported name, any spelling of its kind, or "accuracy" for an accuracy? */
int seqrt_cb_metric_matches(const seqrt_model *m, int i, const char *name)
{
    int kind = m->metrics[i];
    if (!strcmp(name, seqrt_model_metric_name(m, i)) || seqrt_metric_lookup(name) == kind)
        return 1;
    int is_accuracy = kind == SEQRT_METRIC_BINARY_ACCURACY || kind == SEQRT_METRIC_CATEGORICAL_ACCURACY ||
                      kind == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    return is_accuracy && (!strcmp(name, "accuracy") || !strcmp(name, "acc"));
}

int seqrt_cb_value(const seqrt_cb_run *c, const char *name, const seqrt_epoch_log *e, double *v, int *metric)
{
    int val = !strncmp(name, "val_", 4);
    const char *base = val ? name + 4 : name;
    *metric = -1;
    if (!strcmp(name, "learning_rate")) {
        if (!e->has_lr)
            return 0;
        *v = e->lr;
        return 1;
    }
    if (val && !c->has_val)
        return 0;
    if (!strcmp(base, "loss")) {
        *v = val ? e->val_loss : e->loss;
        return 1;
    }
    for (int i = 0; i < c->m->nmetrics; i++)
        if (!strcmp(base, seqrt_model_metric_name(c->m, i))) {
            *metric = i;
            *v = val ? e->val_metric[i] : e->metric[i];
            return 1;
        }
    for (int i = 0; i < c->m->nmetrics; i++)
        if (seqrt_cb_metric_matches(c->m, i, base)) {
            *metric = i;
            *v = val ? e->val_metric[i] : e->metric[i];
            return 1;
        }
    return 0;
}

/* mode 1 min, 2 max, 0 auto: by the monitored quantity */
static int maximizes(const seqrt_cb_run *c, const char *monitor, int mode)
{
    if (mode == 1)
        return 0;
    if (mode == 2)
        return 1;
    seqrt_epoch_log probe;
    memset(&probe, 0, sizeof probe);
    double v;
    int metric;
    seqrt_cb_run all = *c;
    all.has_val = 1;
    if (seqrt_cb_value(&all, monitor, &probe, &v, &metric) && metric >= 0)
        return seqrt_metric_higher_is_better(c->m->metrics[metric]);
    return 0;   /* the loss, the learning rate */
}

static int improves(double current, int have_best, double best, double min_delta, int maximize)
{
    if (!have_best)
        return 1;
    return maximize ? current - min_delta > best : current + min_delta < best;
}

static void warn_missing(int *warned, const char *who, const char *monitor)
{
    if (*warned)
        return;
    *warned = 1;
    fprintf(stderr, "warning: %s is conditioned on `%s`, which is not available (no validation data?); it does "
            "nothing\n", who, monitor);
}

/* ---------------------------------------------------------------- EarlyStopping */

static void early_stopping_init(seqrt_cb_run *c)
{
    const seqrt_early_stopping *k = &c->cfg->early_stopping;
    seqrt_cb_es *es = &c->es;
    memset(es, 0, sizeof *es);
    es->enabled = k->enabled;
    es->monitor = k->monitor ? k->monitor : "val_loss";
    es->maximize = maximizes(c, es->monitor, k->mode);
    es->min_delta = fabs((double)k->min_delta);
}

/* Keras 3 EarlyStopping.on_epoch_end for 0-based epoch e: *stop = 1 to stop. */
static void early_stopping_epoch_end(seqrt_cb_run *c, int e, const seqrt_epoch_log *log, int *stop)
{
    const seqrt_early_stopping *k = &c->cfg->early_stopping;
    seqrt_cb_es *es = &c->es;
    double v;
    int metric;
    if (!es->enabled)
        return;
    if (!seqrt_cb_value(c, es->monitor, log, &v, &metric)) {
        if (!c->quiet)
            warn_missing(&es->warned, "early stopping", es->monitor);
        return;
    }
    if (e < k->start_from_epoch)
        return;
    es->wait++;
    if (improves(v, es->have_best, es->best, es->min_delta, es->maximize)) {
        es->have_best = 1;
        es->best = v;
        es->best_epoch = e + 1;
        if (k->restore_best_weights)
            memcpy(c->best_w, (unsigned char *)c->net + c->m->weights_offset, c->m->weights_bytes);
        if (!c->cfg->early_stopping_has_baseline ||
            improves(v, 1, c->cfg->early_stopping_baseline, es->min_delta, es->maximize))
            es->wait = 0;
        return;
    }
    if (es->wait >= k->patience && e > 0) {
        es->stopped_epoch = e + 1;
        *stop = 1;
    }
}

/* ---------------------------------------------------------------- ReduceLROnPlateau */

static float get_lr(const seqrt_cb_run *c)
{
    float v;
    memcpy(&v, (unsigned char *)c->net + c->m->lr_offset, sizeof v);
    return v;
}

static void set_lr(const seqrt_cb_run *c, float v)
{
    memcpy((unsigned char *)c->net + c->m->lr_offset, &v, sizeof v);
}

static void reduce_lr_epoch_end(seqrt_cb_run *c, seqrt_cb_state *s, int e, seqrt_epoch_log *log)
{
    const seqrt_callback *k = s->c;
    /* Keras records the rate in the log first, before any change */
    log->has_lr = 1;
    log->lr = (double)get_lr(c);
    double v;
    int metric;
    if (!seqrt_cb_value(c, k->monitor, log, &v, &metric)) {
        if (!c->quiet)
            warn_missing(&s->warned, "learning rate reduction", k->monitor);
        return;
    }
    if (s->cooldown > 0) {
        s->cooldown--;
        s->wait = 0;
    }
    if (improves(v, s->have_best, s->best, fabs((double)k->min_delta), s->maximize)) {
        s->have_best = 1;
        s->best = v;
        s->wait = 0;
        return;
    }
    if (s->cooldown > 0 || ++s->wait < k->patience)
        return;
    double old_lr = (double)get_lr(c);
    if (old_lr > (double)(float)k->min_lr) {
        double new_lr = old_lr * (double)k->factor;
        if (new_lr < (double)k->min_lr)
            new_lr = (double)k->min_lr;
        set_lr(c, (float)new_lr);
        if (k->verbose > 0 && !c->quiet) {
            char buf[40];
            fprintf(stderr, "Epoch %d: ReduceLROnPlateau reducing learning rate to %s.\n", e + 1,
                    seqrt_pyfloat(buf, sizeof buf, new_lr));
        }
        s->cooldown = k->cooldown;
        s->wait = 0;
    }
}

/* ---------------------------------------------------------------- ModelCheckpoint */

/* Python's str.format of one field spec for an int or a float: fill/align
 * are not supported (a plain [0][width][,][.precision][type]). */
static int format_field(char *out, size_t n, const char *spec, double v, int is_int)
{
    char fmt[32], buf[64];
    if (!*spec) {
        if (is_int)
            return snprintf(out, n, "%lld", (long long)v);
        return snprintf(out, n, "%s", seqrt_pyfloat(buf, sizeof buf, v));
    }
    const char *p = spec;
    int zero = 0, width = -1, prec = -1;
    char type = 0;
    if (*p == '0')
        zero = 1, p++;
    if (*p >= '0' && *p <= '9') {
        width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
    }
    if (*p == '.') {
        p++;
        prec = 0;
        while (*p >= '0' && *p <= '9')
            prec = prec * 10 + (*p++ - '0');
    }
    if (*p)
        type = *p++;
    if (*p || (type && !strchr("dfFeEgG%", type)))
        return -1;
    if (type == 'd') {
        if (!is_int && v != floor(v))
            return -1;   /* Python: ValueError for a float with 'd' */
        snprintf(fmt, sizeof fmt, "%%%s%s*lld", zero ? "0" : "", width >= 0 ? "" : "");
        return snprintf(out, n, fmt, width >= 0 ? width : 0, (long long)v);
    }
    if (type == '%') {
        v *= 100;
        type = 'f';
    }
    if (!type)
        type = 'g';   /* close to Python's general format for the cases seen */
    snprintf(fmt, sizeof fmt, "%%%s*.*%c%s", zero ? "0" : "", type, spec[strlen(spec) - 1] == '%' ? "%%" : "");
    return snprintf(out, n, fmt, width >= 0 ? width : 0, prec >= 0 ? prec : 6, v);
}

int seqrt_cb_format_path(const seqrt_cb_run *c, const char *tmpl, int epoch, const seqrt_epoch_log *log,
                         char *out, size_t n)
{
    size_t len = 0;
    for (const char *p = tmpl; *p;) {
        if (*p == '{' && p[1] == '{') {
            if (len + 1 < n)
                out[len++] = '{';
            p += 2;
            continue;
        }
        if (*p == '}' && p[1] == '}') {
            if (len + 1 < n)
                out[len++] = '}';
            p += 2;
            continue;
        }
        if (*p != '{') {
            if (len + 1 < n)
                out[len++] = *p;
            p++;
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end)
            return seqrt_fail("ModelCheckpoint: the filepath \"%s\" has an unclosed '{'", tmpl);
        char field[128], spec[32] = "";
        size_t fl = (size_t)(end - p - 1);
        if (fl >= sizeof field)
            return seqrt_fail("ModelCheckpoint: a field of \"%s\" is too long", tmpl);
        memcpy(field, p + 1, fl);
        field[fl] = 0;
        char *colon = strchr(field, ':');
        if (colon) {
            snprintf(spec, sizeof spec, "%s", colon + 1);
            *colon = 0;
        }
        double v;
        int is_int = 0, metric;
        if (!strcmp(field, "epoch")) {
            v = epoch;
            is_int = 1;
        } else if (!seqrt_cb_value(c, field, log, &v, &metric)) {
            return seqrt_fail("ModelCheckpoint: the filepath \"%s\" names '%s', which this epoch's log lacks",
                              tmpl, field);
        } else {
            v = (double)(float)v;   /* the float32 Keras holds */
        }
        char buf[128];
        int w = format_field(buf, sizeof buf, spec, v, is_int);
        if (w < 0)
            return seqrt_fail("ModelCheckpoint: cannot format '%s' with the spec '%s' in \"%s\"", field, spec, tmpl);
        for (int i = 0; buf[i] && len + 1 < n; i++)
            out[len++] = buf[i];
        p = end + 1;
    }
    if (len + 1 >= n)
        return seqrt_fail("ModelCheckpoint: the path made of \"%s\" is too long", tmpl);
    out[len] = 0;
    return 0;
}

/* mkdir -p of path's directory part. */
static int make_parent_dirs(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) && errno != EEXIST)
            return seqrt_fail("%s: cannot create the directory: %s", dir, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) && errno != EEXIST)
        return seqrt_fail("%s: cannot create the directory: %s", dir, strerror(errno));
    return 0;
}

static int checkpoint_epoch_end(seqrt_cb_run *c, seqrt_cb_state *s, int e, const seqrt_epoch_log *log)
{
    const seqrt_callback *k = s->c;
    char path[4096];
    if (seqrt_cb_format_path(c, k->path, e + 1, log, path, sizeof path))
        return -1;
    int save = 1;
    if (k->save_best_only) {
        double v;
        int metric;
        if (!seqrt_cb_value(c, k->monitor, log, &v, &metric)) {
            if (!c->quiet && !s->warned)
                fprintf(stderr, "warning: can save the best model only with %s available; saving every epoch\n",
                        k->monitor);
            s->warned = 1;
        } else if (improves(v, s->have_best, s->best, 0.0, s->maximize) && !isnan(v)) {
            if (k->verbose > 0 && !c->quiet) {
                if (s->have_best)
                    fprintf(stderr, "Epoch %d: %s improved from %.5f to %.5f, saving model to %s\n", e + 1,
                            k->monitor, s->best, v, path);
                else
                    fprintf(stderr, "Epoch %d: %s improved from None to %.5f, saving model to %s\n", e + 1,
                            k->monitor, v, path);
            }
            s->have_best = 1;
            s->best = v;
        } else {
            if (k->verbose > 0 && !c->quiet) {
                if (s->have_best)
                    fprintf(stderr, "Epoch %d: %s did not improve from %.5f\n", e + 1, k->monitor, s->best);
                else
                    fprintf(stderr, "Epoch %d: %s did not improve from None\n", e + 1, k->monitor);
            }
            save = 0;
        }
    } else if (k->verbose > 0 && !c->quiet) {
        fprintf(stderr, "Epoch %d: saving model to %s\n", e + 1, path);
    }
    if (!save || !c->writer)
        return 0;
    if (make_parent_dirs(path))
        return -1;
    return seqrt_st_save(path, c->m->tensors, c->m->ntensors, c->net,
                         k->save_weights_only ? SEQRT_SAVE_WEIGHTS : SEQRT_SAVE_ALL);
}

/* ---------------------------------------------------------------- CSVLogger */

static int csv_begin(seqrt_cb_state *s)
{
    const seqrt_callback *k = s->c;
    s->prior = NULL;
    s->prior_len = 0;
    s->header = 1;
    if (!k->append)
        return 0;
    FILE *f = fopen(k->path, "rb");
    if (!f)
        return 0;   /* Keras: a missing file is created, with a header */
    size_t cap = 4096;
    s->prior = malloc(cap);
    if (!s->prior) {
        fclose(f);
        return seqrt_fail("%s: out of memory", k->path);
    }
    size_t got;
    while ((got = fread(s->prior + s->prior_len, 1, cap - s->prior_len, f)) > 0) {
        s->prior_len += got;
        if (s->prior_len == cap) {
            char *more = realloc(s->prior, cap *= 2);
            if (!more) {
                fclose(f);
                return seqrt_fail("%s: out of memory", k->path);
            }
            s->prior = more;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return seqrt_fail("%s: cannot read: %s", k->path, strerror(errno));
    /* Keras writes a header only when the file's first line is empty */
    s->header = s->prior_len == 0 || s->prior[0] == '\n' || s->prior[0] == '\r';
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The log's keys as Keras's CSVLogger fixes them at its first epoch. */
static void csv_keys(seqrt_cb_run *c, seqrt_cb_state *s, const seqrt_epoch_log *log)
{
    const seqrt_model *m = c->m;
    int n = 0;
    s->keys[n++] = "loss";
    for (int i = 0; i < m->nmetrics; i++)
        s->keys[n++] = seqrt_model_metric_name(m, i);
    if (c->has_val) {
        s->keys[n++] = "val_loss";
        for (int i = 0; i < m->nmetrics; i++)
            s->keys[n++] = s->val_names[i];
    }
    if (log->has_lr)
        s->keys[n++] = "learning_rate";
    qsort(s->keys, (size_t)n, sizeof s->keys[0], cmp_str);
    if (!c->has_val) {   /* Keras adds the val_ keys it did not see */
        int base = n;
        for (int i = 0; i < base; i++) {
            int j;
            for (j = 0; j < m->nmetrics && strcmp(s->keys[i], seqrt_model_metric_name(m, j)); j++)
                ;
            s->keys[n++] = !strcmp(s->keys[i], "loss") ? "val_loss"
                         : !strcmp(s->keys[i], "learning_rate") ? "val_learning_rate" : s->val_names[j];
        }
    }
    s->nkeys = n;
}

static int csv_epoch_end(seqrt_cb_run *c, seqrt_cb_state *s, int e, const seqrt_epoch_log *log)
{
    const seqrt_callback *k = s->c;
    if (!s->nkeys)
        csv_keys(c, s, log);
    if (!c->writer)
        return 0;
    /* this epoch's row, kept for the rewrites to come */
    char row[4096], buf[40];
    int len = snprintf(row, sizeof row, "%d", e);
    for (int i = 0; i < s->nkeys && len < (int)sizeof row - 64; i++) {
        double v;
        int metric;
        len += snprintf(row + len, sizeof row - (size_t)len, "%c", k->separator);
        if (seqrt_cb_value(c, s->keys[i], log, &v, &metric))
            len += snprintf(row + len, sizeof row - (size_t)len, "%s", seqrt_pyfloat(buf, sizeof buf, (double)(float)v));
        else
            len += snprintf(row + len, sizeof row - (size_t)len, "NA");
    }
    len += snprintf(row + len, sizeof row - (size_t)len, "\r\n");
    char *more = realloc(s->rows, s->rows_len + (size_t)len + 1);
    if (!more)
        return seqrt_fail("%s: out of memory", k->path);
    s->rows = more;
    memcpy(s->rows + s->rows_len, row, (size_t)len + 1);
    s->rows_len += (size_t)len;
    seqrt_atomic_file a;
    if (seqrt_atomic_open(&a, k->path))
        return -1;
    if (s->prior_len)
        fwrite(s->prior, 1, s->prior_len, a.f);
    if (s->header) {
        fputs("epoch", a.f);
        for (int i = 0; i < s->nkeys; i++)
            fprintf(a.f, "%c%s", k->separator, s->keys[i]);
        fputs("\r\n", a.f);
    }
    fwrite(s->rows, 1, s->rows_len, a.f);
    return seqrt_atomic_commit(&a);
}

/* ---------------------------------------------------------------- the list */

int seqrt_callbacks_begin(seqrt_cb_run *c)
{
    const seqrt_model *m = c->m;
    early_stopping_init(c);
    c->n = 0;
    for (int i = 0; i < c->cfg->ncallbacks && i < SEQRT_MAX_CALLBACKS; i++) {
        seqrt_cb_state *s = &c->s[c->n++];
        memset(s, 0, sizeof *s);
        s->c = &c->cfg->callbacks[i];
        if (s->c->monitor)
            s->maximize = maximizes(c, s->c->monitor, s->c->mode);
        if (s->c->kind == SEQRT_CB_MODEL_CHECKPOINT && s->c->has_initial_value) {
            s->have_best = 1;   /* Keras: initial_value_threshold is the first best */
            s->best = s->c->initial_value;
        }
        if (s->c->kind == SEQRT_CB_REDUCE_LR_ON_PLATEAU && !m->lr_offset)
            return seqrt_fail("ReduceLROnPlateau: the model has no settable learning rate (compile it with seqc "
                              "from a file that lists the callback)");
        for (int j = 0; j < m->nmetrics; j++) {
            snprintf(s->val_store[j], sizeof s->val_store[j], "val_%s", seqrt_model_metric_name(m, j));
            s->val_names[j] = s->val_store[j];
        }
        if (s->c->kind == SEQRT_CB_CSV_LOGGER && c->writer && csv_begin(s))
            return -1;
    }
    return 0;
}

/* Place of a callback in the list: EarlyStopping's is its order. */
int seqrt_callbacks_epoch_end(seqrt_cb_run *c, int e, seqrt_epoch_log *log, int *stop)
{
    int es_done = !c->es.enabled;
    for (int i = 0; i <= c->n; i++) {
        const seqrt_cb_state *next = i < c->n ? &c->s[i] : NULL;
        if (!es_done && (!next || c->cfg->early_stopping_order <= next->c->order)) {
            early_stopping_epoch_end(c, e, log, stop);
            es_done = 1;
        }
        if (!next)
            break;
        seqrt_cb_state *s = &c->s[i];
        switch ((seqrt_callback_kind)s->c->kind) {
        case SEQRT_CB_REDUCE_LR_ON_PLATEAU:
            reduce_lr_epoch_end(c, s, e, log);
            break;
        case SEQRT_CB_MODEL_CHECKPOINT:
            if (checkpoint_epoch_end(c, s, e, log))
                return -1;
            break;
        case SEQRT_CB_CSV_LOGGER:
            if (csv_epoch_end(c, s, e, log))
                return -1;
            break;
        case SEQRT_CB_TERMINATE_ON_NAN:
            break;   /* per batch, in fit.c */
        }
    }
    return 0;
}

void seqrt_callbacks_free(seqrt_cb_run *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->s[i].prior);
        free(c->s[i].rows);
        c->s[i].prior = c->s[i].rows = NULL;
    }
}
