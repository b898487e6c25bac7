/*
 * fault_shim.c - an LD_PRELOAD library that injects write faults into a
 * program that writes files through stdio (seqc, generated programs).
 *
 * It counts the bytes passed to fwrite, fputs, fputc and fprintf (and
 * glibc's _chk forms of fprintf), which is all seqc, the checkpoint writer,
 * the history and the predictions use for their files, on any stream but
 * stdout/stderr. When the total would pass FAULT_LIMIT bytes:
 *   FAULT_MODE=kill    writes the bytes up to the limit, flushes them to
 *                      the file, and kills the process with SIGKILL (a
 *                      crash in the middle of a write);
 *   FAULT_MODE=enospc  writes the bytes up to the limit and returns a short
 *                      count with errno ENOSPC (a full disk).
 * FAULT_FSYNC=fail makes every fsync fail with EIO.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long written;

static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);

static long long limit(void)
{
    const char *s = getenv("FAULT_LIMIT");
    return s ? atoll(s) : -1;
}

static int kill_mode(void)
{
    const char *s = getenv("FAULT_MODE");
    return s && !strcmp(s, "kill");
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    if (!real_fwrite)
        real_fwrite = (size_t(*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite");
    long long lim = limit();
    size_t bytes = size * n;
    if (f == stdout || f == stderr || lim < 0 || written + (long long)bytes <= lim) {
        written += (long long)bytes;
        return real_fwrite(p, size, n, f);
    }
    size_t part = (size_t)(lim - written);
    if (part)
        real_fwrite(p, 1, part, f);
    written = lim;
    if (kill_mode()) {
        fflush(f);
        kill(getpid(), SIGKILL);
    }
    errno = ENOSPC;
    f->_flags |= 0x0020;    /* glibc's _IO_ERR_SEEN: ferror(f), as a real
                               short write sets it */
    return size ? part / size : 0;
}

int fputs(const char *s, FILE *f)
{
    size_t n = strlen(s);
    return fwrite(s, 1, n, f) == n ? 1 : EOF;
}

int fputc(int c, FILE *f)
{
    unsigned char b = (unsigned char)c;
    return fwrite(&b, 1, 1, f) == 1 ? c : EOF;
}

int putc(int c, FILE *f)
{
    return fputc(c, f);
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    char small[512], *buf = small;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (buf = malloc((size_t)n + 1)) != NULL)
        vsnprintf(buf, (size_t)n + 1, fmt, aq);
    va_end(aq);
    if (n < 0 || !buf)
        return -1;
    size_t w = fwrite(buf, 1, (size_t)n, f);
    if (buf != small)
        free(buf);
    return w == (size_t)n ? n : -1;
}

int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    (void)flag;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int fsync(int fd)
{
    const char *s = getenv("FAULT_FSYNC");
    if (s && !strcmp(s, "fail")) {
        errno = EIO;
        return -1;
    }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}
