/*
 * seqrt_dist.h - what the driver (fit.c, cli.c) needs from data-parallel
 * training, implemented twice: dist_mpi.c over MPI (SEQC_MPI builds) and
 * dist_none.c for one process. Internal to the driver; an application
 * that runs its own MPI program uses seqrt_mpi.h.
 *
 * "The group" is the communicator seqrt_fit spreads over: MPI_COMM_WORLD
 * when seqrt_main was started by mpirun, the one given to
 * seqrt_mpi_fit_comm, or none (one process: rank 0 of 1, every function
 * below a no-op or the identity).
 *
 * Every function here except rank/size is collective: each process of the
 * group calls it at the same point. A failing MPI call is fatal: the
 * message "NAME: error: rank R of N: MPI_X failed: ..." and MPI_Abort,
 * which ends every process of the job (continuing would leave the others
 * waiting in a collective that never completes).
 */
#ifndef SEQRT_DIST_H
#define SEQRT_DIST_H

#include "seqrt_driver.h"

/* seqrt_main's start and end: MPI_Init when the program was started by an
 * MPI launcher (mpirun, srun, ...; seen from its environment variables),
 * then the group is the world; `who` names the program in messages.
 * finish returns status (after MPI_Finalize). */
int  seqrt_dist_start(const char *who, int *argc, char ***argv);
int  seqrt_dist_finish(int status);

int  seqrt_dist_rank(void);   /* this process's rank in the group (0: none) */
int  seqrt_dist_size(void);   /* processes in the group (1: none) */

/* v[0..count) summed over the group, in place; the same on every rank. */
void seqrt_dist_sum(double *v, int count);
/* 1 if every rank passed the same h. */
int  seqrt_dist_same(uint64_t h);
/* Makes a failure collective: rc is this rank's status (0 or -1 with
 * seqrt_error() set). Returns 0 if every rank passed 0; else -1 on every
 * rank, with seqrt_error() on every rank set to the message of the lowest
 * failing rank ("rank R of N: ..." unless R is 0). */
int  seqrt_dist_agree(int rc);
/* Rank 0's status, on every rank. */
int  seqrt_dist_bcast_status(int status);

/* One training step of a batch split over the group: `rows` rows here (0:
 * this rank has none and runs a stand-in row that counts for nothing),
 * `batch_rows` in all. Installs the kernels' batch hook (BatchNorm's
 * statistics and the loss's divisor over the whole batch) until
 * seqrt_dist_batch_end. */
void seqrt_dist_batch(int rows, long batch_rows);
/* Sums the model's gradient block over the group, in place (zeros from a
 * stand-in rank): one MPI_Allreduce. */
void seqrt_dist_allreduce_grads(const seqrt_model *m, void *net);
void seqrt_dist_batch_end(void);

#endif
