/*
 * dist_mpi.c - data-parallel training over MPI: the driver's group
 * (seqrt_dist.h) and the public API for an application's own MPI program
 * (seqrt_mpi.h). Compiled only with SEQC_MPI; dist_none.c stands in
 * otherwise.
 *
 * Design. One group per process: a duplicate of MPI_COMM_WORLD when
 * seqrt_main was started by an MPI launcher, or of the communicator given
 * to seqrt_mpi_fit_comm. The duplicate gets MPI_ERRORS_RETURN, so that a
 * failed collective comes back here and is reported as one line naming the
 * rank and the call before MPI_Abort ends the job (the default handler
 * would abort with only Open MPI's banner). A program that was not started
 * by a launcher never calls MPI_Init (singleton start-up costs a fraction
 * of a second and is not needed for one process).
 *
 * A split batch goes through the kernels' batch hook (seqrt_kernels.h):
 * batch_sum is its sum function, an MPI_Allreduce of doubles in place. A
 * rank that holds no rows of a batch (the last, short batch of an epoch
 * with fewer rows than ranks) runs a stand-in row and contributes zeros to
 * every sum, BatchNorm's and the gradient's.
 *
 * Reproducibility across ranks rests on MPI_Allreduce returning the same
 * sums on every rank, which Open MPI's reduction algorithms do
 * (reduce-then-broadcast, recursive doubling with IEEE addition, ring
 * reduce-scatter + allgather); fit.c checks at every epoch that the ranks'
 * weights are still identical and stops with an error if they are not.
 */
#include "seqrt_dist.h"
#include "seqrt_mpi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int started;         /* seqrt_dist_start called MPI_Init */
    MPI_Comm comm;       /* the group, or MPI_COMM_NULL */
    int rank, size;
    const char *who;
} G = {0, MPI_COMM_NULL, 0, 1, "seqrt"};

/* The current split batch. */
static struct {
    seqrt_batch_hook hook;
    MPI_Comm comm;
    int stand_in;        /* this rank holds no rows of the batch */
} B;

static void describe(int err, char *buf, size_t size)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "MPI error %d", err);
    snprintf(buf, size, "%s", s);
}

/* The message, then the end of every process of the job. */
static void fatal(MPI_Comm comm, const char *call, int err)
{
    char s[MPI_MAX_ERROR_STRING + 1];
    int rank = 0, size = 1;
    describe(err, s, sizeof s);
    if (comm != MPI_COMM_NULL) {
        MPI_Comm_rank(comm, &rank);
        MPI_Comm_size(comm, &size);
    }
    fprintf(stderr, "%s: error: rank %d of %d: %s failed: %s\n", G.who,
            rank, size, call, s);
    fflush(stderr);
    MPI_Abort(comm != MPI_COMM_NULL ? comm : MPI_COMM_WORLD, 1);
    exit(1);   /* MPI_Abort does not return; in case it does */
}

/* ---------------------------------------------------------------- public API */

int seqrt_mpi_fit_comm(MPI_Comm comm)
{
    char s[MPI_MAX_ERROR_STRING + 1];
    int err;
    if (G.comm != MPI_COMM_NULL)
        MPI_Comm_free(&G.comm);
    G.comm = MPI_COMM_NULL;
    G.rank = 0;
    G.size = 1;
    if (comm == MPI_COMM_NULL)
        return 0;
    if ((err = MPI_Comm_dup(comm, &G.comm)) != MPI_SUCCESS) {
        describe(err, s, sizeof s);
        G.comm = MPI_COMM_NULL;
        return seqrt_fail("MPI_Comm_dup failed: %s", s);
    }
    MPI_Comm_set_errhandler(G.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(G.comm, &G.rank);
    MPI_Comm_size(G.comm, &G.size);
    return 0;
}

static void batch_sum(seqrt_batch_hook *h, double *v, long count)
{
    (void)h;
    if (B.stand_in)
        memset(v, 0, (size_t)count * sizeof *v);
    int err = MPI_Allreduce(MPI_IN_PLACE, v, (int)count, MPI_DOUBLE, MPI_SUM,
                            B.comm);
    if (err != MPI_SUCCESS)
        fatal(B.comm, "MPI_Allreduce (BatchNorm statistics)", err);
}

int seqrt_mpi_batch(MPI_Comm comm, int rows, long batch_rows)
{
    char s[MPI_MAX_ERROR_STRING + 1];
    if (rows < 0)
        return seqrt_fail("seqrt_mpi_batch: rows must not be negative "
                          "(got %d)", rows);
    if (batch_rows <= 0) {
        long mine = rows;
        int err = MPI_Allreduce(&mine, &batch_rows, 1, MPI_LONG, MPI_SUM,
                                comm);
        if (err != MPI_SUCCESS) {
            describe(err, s, sizeof s);
            return seqrt_fail("MPI_Allreduce (batch rows) failed: %s", s);
        }
    }
    B.comm = comm;
    B.stand_in = rows == 0;
    B.hook.sum = batch_sum;
    B.hook.rows = batch_rows;
    B.hook.ctx = &B;
    seqrt_batch_hook_set(&B.hook);
    return 0;
}

int seqrt_mpi_allreduce_grads(const seqrt_model *m, void *net)
{
    char s[MPI_MAX_ERROR_STRING + 1];
    float *g = (float *)((unsigned char *)net + m->grad_offset);
    if (seqrt_batch_hook_get() != &B.hook)
        return seqrt_fail("seqrt_mpi_allreduce_grads: no batch (call "
                          "seqrt_mpi_batch before forward)");
    if (B.stand_in)
        memset(g, 0, (size_t)m->param_count * sizeof *g);
    /* one call unless the block exceeds MPI's int count */
    for (long done = 0; done < m->param_count;) {
        long left = m->param_count - done;
        int n = left > INT_MAX ? INT_MAX : (int)left;
        int err = MPI_Allreduce(MPI_IN_PLACE, g + done, n, MPI_FLOAT, MPI_SUM,
                                B.comm);
        if (err != MPI_SUCCESS) {
            describe(err, s, sizeof s);
            return seqrt_fail("MPI_Allreduce (gradients) failed: %s", s);
        }
        done += n;
    }
    return 0;
}

void seqrt_mpi_batch_end(void)
{
    seqrt_batch_hook_set(NULL);
}

/* ---------------------------------------------------------------- the driver's group */

/* Was this process started by an MPI launcher? Open MPI's mpirun,
 * PMIx-based launchers (Slurm's srun --mpi=pmix) and MPICH's Hydra
 * (PMI_RANK) set these. */
static int launched(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                                 "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

int seqrt_dist_start(const char *who, int *argc, char ***argv)
{
    int init = 0;
    G.who = who;
    if (!launched())
        return 0;
    MPI_Initialized(&init);
    if (!init) {
        if (MPI_Init(argc, argv) != MPI_SUCCESS)
            return seqrt_fail("MPI_Init failed");
        G.started = 1;
    }
    return seqrt_mpi_fit_comm(MPI_COMM_WORLD);
}

int seqrt_dist_finish(int status)
{
    seqrt_mpi_fit_comm(MPI_COMM_NULL);
    if (G.started) {
        fflush(stdout);
        fflush(stderr);
        MPI_Finalize();
        G.started = 0;
    }
    return status;
}

int seqrt_dist_rank(void)
{
    return G.rank;
}

int seqrt_dist_size(void)
{
    return G.size;
}

void seqrt_dist_sum(double *v, int count)
{
    if (G.size <= 1)
        return;
    int err = MPI_Allreduce(MPI_IN_PLACE, v, count, MPI_DOUBLE, MPI_SUM,
                            G.comm);
    if (err != MPI_SUCCESS)
        fatal(G.comm, "MPI_Allreduce", err);
}

int seqrt_dist_same(uint64_t h)
{
    if (G.size <= 1)
        return 1;
    uint64_t v[2] = {h, ~h}, max[2];
    int err = MPI_Allreduce(v, max, 2, MPI_UINT64_T, MPI_MAX, G.comm);
    if (err != MPI_SUCCESS)
        fatal(G.comm, "MPI_Allreduce", err);
    return max[0] == ~max[1];   /* the largest h is also the smallest */
}

int seqrt_dist_agree(int rc)
{
    if (G.size <= 1)
        return rc ? -1 : 0;
    int mine = rc ? G.rank : G.size, first = 0;
    int err = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, G.comm);
    if (err != MPI_SUCCESS)
        fatal(G.comm, "MPI_Allreduce", err);
    if (first == G.size)
        return 0;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", G.rank == first ? seqrt_error() : "");
    if ((err = MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, G.comm)) !=
        MPI_SUCCESS)
        fatal(G.comm, "MPI_Bcast", err);
    msg[sizeof msg - 1] = '\0';
    if (first == 0)
        seqrt_fail("%s", msg);
    else
        seqrt_fail("rank %d of %d: %s", first, G.size, msg);
    return -1;
}

int seqrt_dist_bcast_status(int status)
{
    if (G.size <= 1)
        return status;
    int err = MPI_Bcast(&status, 1, MPI_INT, 0, G.comm);
    if (err != MPI_SUCCESS)
        fatal(G.comm, "MPI_Bcast", err);
    return status;
}

void seqrt_dist_batch(int rows, long batch_rows)
{
    if (seqrt_mpi_batch(G.comm, rows, batch_rows))
        fatal(G.comm, "seqrt_mpi_batch", MPI_ERR_OTHER);
}

void seqrt_dist_allreduce_grads(const seqrt_model *m, void *net)
{
    if (seqrt_mpi_allreduce_grads(m, net) == 0)
        return;
    int rank = G.rank, size = G.size;
    fprintf(stderr, "%s: error: rank %d of %d: %s\n", G.who, rank, size,
            seqrt_error());
    fflush(stderr);
    MPI_Abort(G.comm, 1);
    exit(1);
}

void seqrt_dist_batch_end(void)
{
    seqrt_mpi_batch_end();
}
