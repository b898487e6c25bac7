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
 *   epoch,loss,<metric>...,val_loss,val_<metric>...,seconds
 * with the metric names of seqrt_metric_name; the val_ columns are left out
 * when no epoch has a validation loss. Numbers use %.9g, enough digits to
 * read every float back exactly; a missing value is written as "nan".
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

static void write_header(FILE *f, const seqrt_model *m, int val)
{
    fputs("epoch,loss", f);
    for (int i = 0; i < m->nmetrics; i++)
        fprintf(f, ",%s", seqrt_model_metric_name(m, i));
    if (val) {
        fputs(",val_loss", f);
        for (int i = 0; i < m->nmetrics; i++)
            fprintf(f, ",val_%s", seqrt_model_metric_name(m, i));
    }
    fputs(",seconds\n", f);
}

static void write_row(FILE *f, const seqrt_model *m, const seqrt_epoch_log *e,
                      int val)
{
    fprintf(f, "%d,%.9g", e->epoch, e->loss);
    for (int i = 0; i < m->nmetrics; i++)
        fprintf(f, ",%.9g", e->metric[i]);
    if (val) {
        fprintf(f, ",%.9g", e->val_loss);
        for (int i = 0; i < m->nmetrics; i++)
            fprintf(f, ",%.9g", e->val_metric[i]);
    }
    fprintf(f, ",%.9g\n", e->seconds);
}

int seqrt_history_write_csv(const seqrt_model *m, const seqrt_history *h,
                            const char *path)
{
    seqrt_atomic_file a;
    if (seqrt_atomic_open(&a, path))
        return -1;
    int val = has_validation(h);
    write_header(a.f, m, val);
    for (int i = 0; i < h->nepochs; i++)
        write_row(a.f, m, &h->epochs[i], val);
    return seqrt_atomic_commit(&a);
}
