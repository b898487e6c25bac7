/*
 * emit_util.c - what every emitter shares: an in-memory output buffer,
 * exact float printing, and atomic file writes.
 *
 * Generated files are built completely in memory and then written to a
 * temporary file in the output directory, flushed, and renamed over the
 * final name, so a failure (disk full, a crash) never leaves a partial
 * .c or .h where seqc says it failed.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seqc.h"

void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            diag_fatal("out of memory"), exit(1);
        b->data = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_bytes(Buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            diag_fatal("out of memory"), exit(1);
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

/* The shortest %g text that reads back as the same float, as a C float
 * literal: 0.001f, 1e-07f, 0.0f; infinity as <math.h>'s HUGE_VALF. */
const char *float_literal(double v)
{
    float f = (float)v;
    char buf[64];
    if (isnan(f))
        return "(0.0f / 0.0f)";
    if (isinf(f))
        return f > 0 ? "HUGE_VALF" : "(-HUGE_VALF)";
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    strcat(buf, "f");
    return arena_strdup(buf);
}

const char *upper_name(const char *s)
{
    char *u = arena_strdup(s);
    for (char *c = u; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    return u;
}

const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Writes b to a temporary file beside path and syncs it; returns its name,
 * or NULL (message printed, nothing left behind). */
static const char *write_temp(const char *path, const Buf *b)
{
    char *tmp = arena_printf("%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        diag_fatal("cannot write '%s': %s", path, strerror(errno));
        return NULL;
    }
    int ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    int e = errno;
    ok &= fclose(f) == 0;
    if (!ok) {
        if (!e)
            e = errno;
        remove(tmp);
        diag_fatal("cannot write '%s': %s", path, strerror(e));
        return NULL;
    }
    return tmp;
}

/* All n files or none: every file is written to a temporary name first, and
 * only when all are complete are they renamed into place, so a failure
 * never leaves a new NAME.h beside an old NAME.c. */
int write_files_atomic(const char *const *paths, const Buf *const *bufs, int n)
{
    const char *tmp[8];
    if (n > 8)
        abort();   /* emitters write at most three files */
    for (int i = 0; i < n; i++) {
        tmp[i] = write_temp(paths[i], bufs[i]);
        if (!tmp[i]) {
            while (i-- > 0)
                remove(tmp[i]);
            return -1;
        }
    }
    for (int i = 0; i < n; i++)
        if (rename(tmp[i], paths[i]) != 0) {
            int e = errno;
            for (int k = i; k < n; k++)
                remove(tmp[k]);
            diag_fatal("cannot write '%s': %s", paths[i], strerror(e));
            return -1;
        }
    return 0;
}

int write_file_atomic(const char *path, const Buf *b)
{
    return write_files_atomic(&path, &b, 1);
}

/* mkdir -p: the output directory and its missing parents. */
int make_dirs(const char *path)
{
    char *p = arena_strdup(path);
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c != 0)
            continue;
        char saved = *c;
        *c = 0;
        struct stat st;
        if (stat(p, &st) != 0) {
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                diag_fatal("cannot create directory '%s': %s", p, strerror(errno));
                return -1;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            diag_fatal("cannot write into '%s': it is not a directory", p);
            return -1;
        }
        *c = saved;
        if (!saved)
            return 0;
    }
}
