/*
 * seqrt_mpi.h - data-parallel training over MPI from an application's own
 * MPI program (the runtime built with -DSEQC_MPI=ON; see
 * docs/distributed.md). The generated NAME_main program needs none of
 * this: `mpirun -np N ./NAME train ...` is distributed by itself.
 *
 * Every rank holds a whole copy of the model. A global batch is split over
 * the ranks; each runs forward and backward on its part, the gradient
 * blocks are summed with one MPI_Allreduce, and every rank applies the same
 * update, so that the parameters stay identical and equal (to rounding)
 * those of one process training on the whole batch. BatchNorm uses the
 * whole batch's statistics (as PyTorch's SyncBatchNorm): the kernels call
 * a hook (seqrt_batch_hook in seqrt_kernels.h) that this module installs.
 *
 * Two ways to use it:
 *
 * 1. seqrt_fit over a communicator. Call seqrt_mpi_fit_comm(comm) once;
 *    then seqrt_fit, called on every rank of comm with the same data,
 *    configuration and initial state, trains data-parallel with per-rank
 *    batch cfg->batch_size (global batch = size x batch_size); see fit.c.
 *    seqrt_mpi_fit_comm(MPI_COMM_NULL) makes seqrt_fit local again.
 *
 * 2. Your own training loop, the step on every rank of comm:
 *
 *        seqrt_mpi_batch(comm, n, 0);          // n rows here, 0: sum them
 *        m_forward(&net, x, NULL, n, 1);        // this rank's rows
 *        m_backward(&net, t, n);
 *        seqrt_mpi_allreduce_grads(&m_model, &net);
 *        m_update(&net);
 *        seqrt_mpi_batch_end();
 *
 *    Start every rank from the same state (same m_init seed, or a
 *    checkpoint). A rank with no rows in a batch passes n = 0 and still
 *    runs forward and backward, on any one row: that row is left out of the
 *    BatchNorm statistics and its gradient is not added.
 *
 * Functions return 0, or -1 with seqrt_error() set when an MPI call fails
 * (under the communicator's error handler; MPI_ERRORS_ARE_FATAL, MPI's
 * default, aborts first). A failure inside the BatchNorm hook, which
 * cannot return one, prints the message and calls MPI_Abort. One split
 * batch at a time per process: the hook is process-wide.
 */
#ifndef SEQRT_MPI_H
#define SEQRT_MPI_H

#include <mpi.h>

#include "seqrt_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* seqrt_fit trains data-parallel over (a duplicate of) comm from now on;
 * MPI_COMM_NULL: on this process alone. Collective over comm. */
int  seqrt_mpi_fit_comm(MPI_Comm comm);

/* Before forward: this rank holds `rows` rows (0: a stand-in row, see
 * above) of a batch of `batch_rows` rows over comm (0: the sum of every
 * rank's rows, one MPI_Allreduce). Installs the kernels' batch hook on
 * comm. */
int  seqrt_mpi_batch(MPI_Comm comm, int rows, long batch_rows);
/* After backward, before NAME_update: sums m's gradient block over the
 * communicator of seqrt_mpi_batch, in place, with one MPI_Allreduce (zeros
 * from a rank with rows == 0). The kernels have already divided every
 * rank's gradient by the whole batch's rows: the sum is the gradient of the
 * whole batch's mean loss. */
int  seqrt_mpi_allreduce_grads(const seqrt_model *m, void *net);
/* After the update: removes the hook (kernels see one process again). */
void seqrt_mpi_batch_end(void);

#ifdef __cplusplus
}
#endif
#endif
