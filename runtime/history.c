/*
 * history.c - the training history as CSV, and atomic file output.
 *
 * Design: every file the driver writes (history CSV, SVG plot, predictions)
 * goes through seqrt_atomic_*: the text is written to a temporary file
 * created with mkstemp next to the destination, flushed, fsynced and
 * renamed over it, so a reader never sees half a file and a failed write
 * leaves the old file in place. The result gets mode 0644.
 *
 * The CSV has one row per epoch and the header
 *   epoch,loss,<metric>...,val_loss,val_<metric>...,learning_rate,seconds
 * with the metrics' names; the val_ columns are left out when no epoch has
 * a validation loss, learning_rate when no epoch recorded it
 * (ReduceLROnPlateau does). Numbers use %.9g, enough digits to read every
 * float back exactly; a missing value is written as "nan".
 *
 * seqrt_history_read_csv reads such a file back (a run resumed from a
 * checkpoint continues its history): the header must be the one this model
 * writes, and every row is checked.
 */
#include "seqrt_driver.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- atomic files */

int seqrt_atomic_open(seqrt_atomic_file *a, const char *path)
{
    static const char suffix[] = ".tmpXXXXXX";
    a->f = NULL;
    a->path = path;
    a->tmp = malloc(strlen(path) + sizeof suffix);
    if (!a->tmp)
        return seqrt_fail("%s: out of memory", path);
    strcpy(a->tmp, path);
    strcat(a->tmp, suffix);
    int fd = mkstemp(a->tmp);
    if (fd >= 0)    /* mkstemp's 0600 would make the result private */
        fchmod(fd, 0644);
    if (fd < 0 || !(a->f = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            remove(a->tmp);
        }
        free(a->tmp);
        a->tmp = NULL;
        return seqrt_fail("%s: cannot create a temporary file: %s", path,
                          strerror(e));
    }
    return 0;
}

int seqrt_atomic_commit(seqrt_atomic_file *a)
{
    int e = 0;
    if (fflush(a->f) || ferror(a->f) || fsync(fileno(a->f)))
        e = errno ? errno : EIO;
    if (fclose(a->f) && !e)
        e = errno ? errno : EIO;
    a->f = NULL;
    if (!e && rename(a->tmp, a->path))
        e = errno;
    if (e)
        remove(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
    if (e)
        return seqrt_fail("%s: cannot write: %s", a->path, strerror(e));
    return 0;
}

void seqrt_atomic_abort(seqrt_atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    if (a->tmp)
        remove(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
}

/* ---------------------------------------------------------------- history CSV */

static int has_validation(const seqrt_history *h)
{
    for (int i = 0; i < h->nepochs; i++)
        if (!isnan(h->epochs[i].val_loss))
            return 1;
    return 0;
}

static int has_lr(const seqrt_history *h)
{
    for (int i = 0; i < h->nepochs; i++)
        if (h->epochs[i].has_lr)
            return 1;
    return 0;
}

static void write_header(FILE *f, const seqrt_model *m, int val, int lr)
{
    fputs("epoch,loss", f);
    for (int i = 0; i < m->nmetrics; i++)
        fprintf(f, ",%s", seqrt_model_metric_name(m, i));
    if (val) {
        fputs(",val_loss", f);
        for (int i = 0; i < m->nmetrics; i++)
            fprintf(f, ",val_%s", seqrt_model_metric_name(m, i));
    }
    if (lr)
        fputs(",learning_rate", f);
    fputs(",seconds\n", f);
}

static void write_row(FILE *f, const seqrt_model *m, const seqrt_epoch_log *e,
                      int val, int lr)
{
    fprintf(f, "%d,%.9g", e->epoch, e->loss);
    for (int i = 0; i < m->nmetrics; i++)
        fprintf(f, ",%.9g", e->metric[i]);
    if (val) {
        fprintf(f, ",%.9g", e->val_loss);
        for (int i = 0; i < m->nmetrics; i++)
            fprintf(f, ",%.9g", e->val_metric[i]);
    }
    if (lr)
        fprintf(f, ",%.9g", e->has_lr ? e->lr : NAN);
    fprintf(f, ",%.9g\n", e->seconds);
}

int seqrt_history_write_csv(const seqrt_model *m, const seqrt_history *h,
                            const char *path)
{
    seqrt_atomic_file a;
    if (seqrt_atomic_open(&a, path))
        return -1;
    int val = has_validation(h), lr = has_lr(h);
    write_header(a.f, m, val, lr);
    for (int i = 0; i < h->nepochs; i++)
        write_row(a.f, m, &h->epochs[i], val, lr);
    return seqrt_atomic_commit(&a);
}

/* ---------------------------------------------------------------- reading it back */

/* One number of a history row; "nan" reads as NaN. */
static int read_number(const char **p, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(*p, &end);
    if (end == *p || errno == ERANGE)
        return -1;
    *p = end;
    return 0;
}

int seqrt_history_read_csv(const seqrt_model *m, const char *path,
                           int upto_epoch, seqrt_history *h)
{
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "r");
    if (!f)
        return seqrt_fail("%s: cannot open the history to continue it: %s",
                          path, strerror(errno));
    char line[8192];
    int rc = -1, lineno = 1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return seqrt_fail("%s: empty; not a history this model wrote", path);
    }
    line[strcspn(line, "\r\n")] = 0;
    /* which of the header forms this model writes is it? */
    int val = -1, lr = 0;
    for (int v = 0; v <= 1 && val < 0; v++)
        for (int l = 0; l <= 1 && val < 0; l++) {
            char *text = NULL;
            size_t len = 0;
            FILE *mf = open_memstream(&text, &len);
            if (!mf)
                break;
            write_header(mf, m, v, l);
            fclose(mf);
            text[strcspn(text, "\n")] = 0;
            if (!strcmp(text, line))
                val = v, lr = l;
            free(text);
        }
    if (val < 0) {
        fclose(f);
        return seqrt_fail("%s:1: the header \"%s\" is not the one this model "
                          "writes; the history cannot be continued", path,
                          line);
    }
    int cap = 16;
    h->epochs = calloc((size_t)cap, sizeof *h->epochs);
    if (!h->epochs) {
        fclose(f);
        return seqrt_fail("%s: out of memory", path);
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        seqrt_epoch_log e;
        memset(&e, 0, sizeof e);
        e.val_loss = NAN;
        for (int i = 0; i < SEQRT_MAX_METRICS; i++)
            e.val_metric[i] = NAN;
        const char *p = line;
        double v;
        int ok = read_number(&p, &v) == 0 && v == floor(v) && v >= 1 && v <= 1e9;
        e.epoch = ok ? (int)v : 0;
        ok = ok && *p++ == ',' && read_number(&p, &e.loss) == 0;
        for (int i = 0; ok && i < m->nmetrics; i++)
            ok = *p++ == ',' && read_number(&p, &e.metric[i]) == 0;
        if (ok && val) {
            ok = *p++ == ',' && read_number(&p, &e.val_loss) == 0;
            for (int i = 0; ok && i < m->nmetrics; i++)
                ok = *p++ == ',' && read_number(&p, &e.val_metric[i]) == 0;
        }
        if (ok && lr) {
            ok = *p++ == ',' && read_number(&p, &e.lr) == 0;
            e.has_lr = !isnan(e.lr);
        }
        ok = ok && *p++ == ',' && read_number(&p, &e.seconds) == 0 && !*p;
        if (!ok) {
            seqrt_fail("%s:%d: not a row of this model's history", path,
                       lineno);
            goto out;
        }
        if (e.epoch > upto_epoch)
            continue;   /* epochs the checkpoint did not reach */
        if (h->nepochs == cap) {
            seqrt_epoch_log *more = realloc(h->epochs, sizeof *more * (size_t)(cap *= 2));
            if (!more) {
                seqrt_fail("%s: out of memory", path);
                goto out;
            }
            h->epochs = more;
        }
        h->epochs[h->nepochs++] = e;
    }
    rc = ferror(f) ? seqrt_fail("%s: read error", path) : 0;
out:
    fclose(f);
    if (rc)
        seqrt_history_free(h);
    return rc;
}
