/*
 * dist_none.c - seqrt_dist.h for a runtime built without SEQC_MPI: a group
 * of one process. Every collective is the identity; the split-batch
 * functions are never reached (fit.c calls them only when the group has
 * more than one process) and do nothing.
 *
 * One thing is checked: a program of this build started by mpirun with
 * several processes would train that many independent copies, each writing
 * the same files. It says so once (from the launcher's rank 0) and goes on.
 */
#include "seqrt_dist.h"

#include <stdlib.h>

int seqrt_dist_start(const char *who, int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (!size)
        size = getenv("PMI_SIZE");
    if (!rank)
        rank = getenv("PMI_RANK");
    if (size && atoi(size) > 1 && (!rank || atoi(rank) == 0))
        fprintf(stderr, "%s: warning: started as one of %s MPI processes, "
                "but the seqc runtime was built without SEQC_MPI: each "
                "process trains on its own (rebuild with -DSEQC_MPI=ON for "
                "data-parallel training)\n", who, size);
    return 0;
}

int seqrt_dist_finish(int status)
{
    return status;
}

int seqrt_dist_rank(void)
{
    return 0;
}

int seqrt_dist_size(void)
{
    return 1;
}

void seqrt_dist_sum(double *v, int count)
{
    (void)v;
    (void)count;
}

int seqrt_dist_same(uint64_t h)
{
    (void)h;
    return 1;
}

int seqrt_dist_agree(int rc)
{
    return rc ? -1 : 0;
}

int seqrt_dist_bcast_status(int status)
{
    return status;
}

void seqrt_dist_batch(int rows, long batch_rows)
{
    (void)rows;
    (void)batch_rows;
}

void seqrt_dist_allreduce_grads(const seqrt_model *m, void *net)
{
    (void)m;
    (void)net;
}

void seqrt_dist_batch_end(void)
{
}
