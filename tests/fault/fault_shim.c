/*
 * fault_shim.c - an LD_PRELOAD library that injects write faults into a
 * program that writes files through stdio (seqc, generated programs).
 *
 * It counts the bytes passed to fwrite/fputs/fputc/putc/fprintf-free paths
 * (fwrite and fputs, which is all seqc and the checkpoint writer use for
 * their files) on any stream but stdout/stderr. When the total would pass
 * FAULT_LIMIT bytes:
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
    return size ? part / size : 0;
}

int fputs(const char *s, FILE *f)
{
    size_t n = strlen(s);
    return fwrite(s, 1, n, f) == n ? 1 : EOF;
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
