/*
 * errors.c - the runtime's error channel.
 *
 * Functions that can fail return -1 and leave a human-readable message here
 * instead of printing: the caller (the CLI, a test, an embedding program)
 * decides what to do with it. The message lives in a fixed-size buffer per
 * thread (GCC/Clang __thread where available, a plain static otherwise), so
 * setting it never allocates and never fails; overlong messages are
 * truncated. seqrt_fail() returns -1 so that error paths read
 * `return seqrt_fail("...", ...);`.
 */
#include "seqrt_driver.h"

#include <stdarg.h>

#if defined(__GNUC__) || defined(__clang__)
#define SEQRT_TLS __thread
#else
#define SEQRT_TLS
#endif

static SEQRT_TLS char seqrt_msg[1024];

const char *seqrt_error(void)
{
    return seqrt_msg[0] ? seqrt_msg : "no error";
}

int seqrt_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(seqrt_msg, sizeof seqrt_msg, fmt, ap);
    va_end(ap);
    return -1;
}
