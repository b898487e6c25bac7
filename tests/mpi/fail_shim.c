/*
 * fail_shim.c - makes one MPI_Allreduce fail, for mpi_cli.sh's fault case.
 * Preloaded (LD_PRELOAD) into the ranks of a training run; with
 * SEQC_FAIL_ALLREDUCE=R:K the K-th MPI_Allreduce of world rank R returns
 * MPI_ERR_OTHER without communicating (the MPI profiling interface: every
 * other call goes on to PMPI_Allreduce). The program must report it once
 * and end the whole job, not leave the other ranks waiting.
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

int MPI_Allreduce(const void *send, void *recv, int count, MPI_Datatype type,
                  MPI_Op op, MPI_Comm comm)
{
    static long calls;
    const char *spec = getenv("SEQC_FAIL_ALLREDUCE");
    if (spec && strchr(spec, ':')) {
        int rank = -1;
        PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
        if (rank == atoi(spec) && ++calls == atol(strchr(spec, ':') + 1))
            return MPI_ERR_OTHER;
    }
    return PMPI_Allreduce(send, recv, count, type, op, comm);
}
