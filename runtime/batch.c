/*
 * batch.c - the hook through which a batch split over processes reaches the
 * kernels that need the whole batch (seqrt_kernels.h, "batch.c").
 *
 * One pointer, NULL unless a driver of data-parallel training (dist_mpi.c)
 * installs its hook for the steps of a split batch. norm.c (BatchNorm
 * statistics) and loss.c (the gradient's divisor) read it; nothing else in
 * the kernels does. It is a plain global rather than thread-local storage so
 * that the kernel library stays usable on small devices without TLS.
 */
#include "seqrt_kernels.h"

static seqrt_batch_hook *seqrt_hook;

void seqrt_batch_hook_set(seqrt_batch_hook *h)
{
    seqrt_hook = h;
}

seqrt_batch_hook *seqrt_batch_hook_get(void)
{
    return seqrt_hook;
}
