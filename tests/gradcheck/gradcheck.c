/*
 * gradcheck.c - finite-difference check of the gradients of generated code.
 *
 *     gradcheck MODEL [-v]
 *
 * MODEL is one of the test models (the .nn files of tests/parity/models) as
 * compiled into this executable (one executable per -O level). Everything goes
 * through the seqrt_model descriptor and its tensor table, so the driver
 * knows nothing about any particular model:
 *
 *   1. init(seed), then every SEQRT_T_PARAM tensor is moved away from its
 *      initializer (biases, gammas and betas would otherwise be exactly 0 or
 *      1) and every SEQRT_T_BUFFER is given plausible statistics; a random
 *      batch X and targets T of the model's loss are drawn.
 *   2. The state is saved (state0). For each batch size n (1 and 5, or 2
 *      and 5 when a BatchNormalization is present: batch statistics of one
 *      row are degenerate; and max_batch): analytic gradient: restore
 *      state0, forward(training=1), backward -> loss L and the SEQRT_T_GRAD
 *      tensors. Numerical gradient of each element of each parameter:
 *      restore state0 (which also restores "train.rng", so Dropout draws the
 *      same mask, and the BatchNorm running statistics that a training
 *      forward moves), set w = w0 +- h, forward(training=1) + backward, and
 *      take the loss that backward returns.
 *
 * Accuracy and tolerance. Everything is float32 and the loss comes back as a
 * float, so an evaluation of L carries a rounding error of a few ulps of L
 * (|L| ~ 1: ~1e-7) plus the float32 rounding of the forward pass, which is
 * not smooth in w. A central difference D(h) has truncation error
 * h^2 L'''/6 and rounding error ~ eps_L / h. We use h = 1e-2 and h/2 and
 * Richardson extrapolation, R = (4 D(h/2) - D(h)) / 3, which cancels the h^2
 * term (leaving O(h^4) ~ 1e-8) while the rounding error stays ~ 3 eps_L/h ~
 * 1e-5 for |L| ~ 1. The check is
 *     |R - g| <= tol = ATOL * max(1, |L|) + RTOL * |g|,
 *     ATOL = 1e-4, RTOL = 2e-3:
 * ATOL is ~10x the rounding error of R (it scales with |L| because the
 * rounding error of L does), RTOL covers the float32 rounding inside the
 * forward pass, which scales with the gradient. Measured worst cases are
 * below 0.75 tol (p16's wide BatchNorm; most models stay below 0.25 tol). A
 * wrong gradient term (a missing factor, a wrong sign, a dropped path) is an
 * O(|g|) error and fails by orders of magnitude.
 *
 * Kinks (relu, leaky_relu, MAE, Huber, the clipping of the probability
 * losses) make the loss non-differentiable on a set of measure zero, and a
 * difference that straddles one is meaningless. A central difference alone
 * cannot see a kink right at w0 (it returns the mean of the two slopes at
 * every h), so the one-sided differences, which come free with L(w0), are
 * used as well: on a smooth piece (L(w0+h) - L(w0))/h - (L(w0) - L(w0-h))/h
 * = h L'' + O(h^3), so it halves when h halves, while across a kink it stays
 * about the slope jump. An element is measured at h = 1e-2 if there
 * |D(h) - D(h/2)| <= tol/2 and that spread halves to within tol; otherwise
 * at 1e-3 and then 1e-4 (with tol scaled by 10 and 100: the rounding error
 * grows as 1/h); if none is smooth the element is skipped. At most 2% of the
 * elements of a model (and never all of a tensor) may be skipped; the
 * current models skip none.
 *
 * The driver also checks that two training evaluations from the same state
 * give bit-identical losses (restoring the state is enough to make Dropout
 * and BatchNorm deterministic) and that the gradients are finite.
 *
 * Exit status: 0 pass, 1 fail, 2 usage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_models.h"

#define ATOL 1e-4
#define RTOL 2e-3
#define STEP 1e-2
#define MAX_SKIP_FRACTION 0.02

static const seqrt_model *M;
static unsigned char *state, *state0;
static int verbose;

static const seqrt_tensor *find_tensor(const char *name)
{
    for (int i = 0; i < M->ntensors; i++)
        if (!strcmp(M->tensors[i].name, name))
            return &M->tensors[i];
    return NULL;
}

static long tensor_count(const seqrt_tensor *t)
{
    long c = 1;
    for (int d = 0; d < t->ndim; d++)
        c *= t->shape[d];
    return c;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static float *f32(unsigned char *base, const seqrt_tensor *t)
{
    return (float *)(void *)(base + t->offset);
}

/* Moves parameters off their initial values and gives buffers plausible
 * statistics. */
static void randomize_state(seqrt_rng *r)
{
    for (int i = 0; i < M->ntensors; i++) {
        const seqrt_tensor *t = &M->tensors[i];
        float *p = f32(state, t);
        long c = tensor_count(t);
        if (t->kind == SEQRT_T_PARAM) {
            float s = t->ndim == 2 ? 0.1f : 0.3f;
            for (long k = 0; k < c; k++)
                p[k] += s * seqrt_rng_normal(r);
        } else if (t->kind == SEQRT_T_BUFFER) {
            int var = ends_with(t->name, "var") || ends_with(t->name, "variance");
            for (long k = 0; k < c; k++)
                p[k] = var ? 0.5f + seqrt_rng_uniform(r) : 0.3f * seqrt_rng_normal(r);
        }
    }
}

/* Targets for n rows, as the model's loss expects them. */
static void make_targets(float *t, int n, seqrt_rng *r)
{
    int c = M->out;
    switch (M->loss) {
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
        for (long i = 0; i < (long)n * c; i++) /* hard and soft labels */
            t[i] = i % 3 == 0 ? seqrt_rng_uniform(r) : (float)(seqrt_rng_uniform(r) < 0.5f);
        break;
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
        for (int i = 0; i < n; i++) {
            float *row = t + (size_t)i * c, s = 0.0f;
            if (i % 2 == 0) { /* one-hot */
                for (int j = 0; j < c; j++)
                    row[j] = 0.0f;
                row[seqrt_rng_below(r, (uint32_t)c)] = 1.0f;
                continue;
            }
            for (int j = 0; j < c; j++) /* a soft label */
                s += row[j] = 0.1f + seqrt_rng_uniform(r);
            for (int j = 0; j < c; j++)
                row[j] /= s;
        }
        break;
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        for (int i = 0; i < n; i++)
            t[i] = (float)seqrt_rng_below(r, (uint32_t)c);
        break;
    default: /* regression: wide enough to reach both Huber branches */
        for (long i = 0; i < (long)n * c; i++)
            t[i] = 1.5f * seqrt_rng_normal(r);
        break;
    }
}

static float eval_loss(const float *x, const float *t, int n, float *w, float value)
{
    memcpy(state, state0, M->state_bytes);
    if (w)
        *(float *)(void *)(state + ((unsigned char *)w - state0)) = value;
    M->forward(state, x, NULL, n, 1);
    return M->backward(state, t, n);
}

/* Central and one-sided differences of the loss with step h; L0 is the
 * loss at w0. */
typedef struct {
    double sym, plus, minus;
} fd_pair;

static fd_pair differences(const float *x, const float *t, int n, float L0, float *w, float w0, double h)
{
    float wp = (float)(w0 + h), wm = (float)(w0 - h);
    double lp = eval_loss(x, t, n, w, wp), lm = eval_loss(x, t, n, w, wm);
    fd_pair d = {(lp - lm) / ((double)wp - (double)wm), (lp - L0) / ((double)wp - (double)w0),
                 ((double)L0 - lm) / ((double)w0 - (double)wm)};
    return d;
}

static int has_batchnorm(void)
{
    for (int i = 0; i < M->ntensors; i++)
        if (ends_with(M->tensors[i].name, "running_mean"))
            return 1;
    return 0;
}

/* Checks every parameter gradient at batch size n; returns the number of
 * failures. */
static int check_batch(int n, seqrt_rng *r, long *nchecked, long *nskipped)
{
    int fails = 0;
    float *x = malloc(sizeof(float) * (size_t)n * M->in);
    float *t = malloc(sizeof(float) * (size_t)n * M->out);
    float *g = malloc(sizeof(float) * (size_t)M->param_count);
    for (long i = 0; i < (long)n * M->in; i++)   /* an Embedding first reads ids */
        x[i] = M->input_ids > 0 ? (float)seqrt_rng_below(r, (uint32_t)M->input_ids) : seqrt_rng_normal(r);
    make_targets(t, n, r);

    float L = eval_loss(x, t, n, NULL, 0.0f);
    memcpy(g, state + M->grad_offset, sizeof(float) * (size_t)M->param_count);
    float L2 = eval_loss(x, t, n, NULL, 0.0f);
    if (memcmp(&L, &L2, sizeof L) || memcmp(g, state + M->grad_offset, sizeof(float) * (size_t)M->param_count)) {
        printf("FAIL %s n=%d: two evaluations from the same state differ (loss %.9g vs %.9g)\n", M->name, n, L,
               L2);
        fails++;
    }
    if (!isfinite(L)) {
        printf("FAIL %s n=%d: loss %g\n", M->name, n, L);
        fails++;
    }
    double atol = ATOL * fmax(1.0, fabs(L));
    if (verbose)
        printf("%s %s n=%d loss %.7g\n", M->name, seqc_test_models_level, n, L);

    for (int ti = 0; ti < M->ntensors; ti++) {
        const seqrt_tensor *pt = &M->tensors[ti];
        if (pt->kind != SEQRT_T_PARAM)
            continue;
        char gname[256];
        snprintf(gname, sizeof gname, "grad.%s", pt->name);
        const seqrt_tensor *gt = find_tensor(gname);
        if (!gt || gt->kind != SEQRT_T_GRAD || tensor_count(gt) != tensor_count(pt)) {
            printf("FAIL %s: parameter %s has no gradient tensor %s of its shape\n", M->name, pt->name, gname);
            fails++;
            continue;
        }
        long c = tensor_count(pt);
        const float *ga = g + (gt->offset - M->grad_offset) / sizeof(float);
        float *w = f32(state0, pt);
        double worst = -1.0, worst_fd = 0.0, worst_g = 0.0, worst_excess = 0.0;
        long worst_k = -1, skipped = 0;
        for (long k = 0; k < c; k++) {
            float w0 = w[k];
            double gk = ga[k];
            if (!isfinite(gk)) {
                printf("FAIL %s n=%d %s[%ld]: gradient %g\n", M->name, n, pt->name, k, gk);
                fails++;
                continue;
            }
            double tol = atol + RTOL * fabs(gk);
            double fd;
            int smooth = 0;
            double h = STEP, scale = 1.0;
            for (int tries = 0; tries < 3 && !smooth; tries++, h /= 10, scale *= 10) {
                fd_pair a = differences(x, t, n, L, w + k, w0, h), b = differences(x, t, n, L, w + k, w0, h / 2);
                fd = (4.0 * b.sym - a.sym) / 3.0;
                /* Smooth on [w0 - h, w0 + h]: the symmetric differences
                 * agree, and the one-sided ones spread as h L'' (a kink
                 * at w0 would keep them a slope jump apart at every h). */
                double spread = fabs(2.0 * (b.plus - b.minus) - (a.plus - a.minus));
                smooth = fabs(a.sym - b.sym) <= 0.5 * tol * scale && spread <= tol * scale;
                if (!smooth && verbose)
                    printf("  %s[%ld] h=%g: not smooth (D(h) %.6g D(h/2) %.6g one-sided spread %.3g, g %.6g)\n",
                           pt->name, k, h, a.sym, b.sym, spread, gk);
                if (smooth)
                    tol *= scale; /* rounding error grows as 1/h */
            }
            if (!smooth) {
                skipped++;
                continue;
            }
            double err = fabs(fd - gk);
            (*nchecked)++;
            if (err / tol > worst) {
                worst = err / tol;
                worst_fd = fd;
                worst_g = gk;
                worst_k = k;
                worst_excess = err;
            }
        }
        *nskipped += skipped;
        if (skipped == c && c > 0) {
            printf("FAIL %s n=%d %s: every element straddles a kink\n", M->name, n, pt->name);
            fails++;
        }
        int bad = worst > 1.0;
        if (bad || verbose) {
            char idx[64];
            if (pt->ndim == 2)
                snprintf(idx, sizeof idx, "[%ld, %ld]", worst_k / pt->shape[1], worst_k % pt->shape[1]);
            else
                snprintf(idx, sizeof idx, "[%ld]", worst_k);
            printf("%s %s %s n=%d %-16s worst %s%s: analytic %.8g numeric %.8g |diff| %.3g (%.2f of tolerance)\n",
                   bad ? "FAIL" : "  ok", M->name, seqc_test_models_level, n, pt->name, pt->name, idx, worst_g,
                   worst_fd, worst_excess, worst);
        }
        fails += bad;
    }
    free(x);
    free(t);
    free(g);
    return fails;
}

int main(int argc, char **argv)
{
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (!name)
            name = argv[i];
        else
            name = NULL, argc = 0;
    }
    if (!name) {
        fprintf(stderr, "usage: gradcheck MODEL [-v]\nmodels (%s):", seqc_test_models_level);
        for (int i = 0; seqc_test_models[i]; i++)
            fprintf(stderr, " %s", seqc_test_models[i]->name);
        fprintf(stderr, "\n");
        return 2;
    }
    M = seqc_test_model_find(name);
    if (!M) {
        fprintf(stderr, "gradcheck: no model '%s' in this build\n", name);
        return 2;
    }
    if (!M->backward || M->param_count <= 0) {
        fprintf(stderr, "gradcheck: model '%s' cannot be trained\n", name);
        return 2;
    }
    /* Restoring the whole state restores the Dropout generators too: check
     * that they are in it. */
    const seqrt_tensor *rng = find_tensor("train.rng");
    if (!rng || rng->offset + 2 * sizeof(uint64_t) > M->state_bytes) {
        fprintf(stderr, "gradcheck: model '%s' has no \"train.rng\" inside its state\n", name);
        return 1;
    }
    state = malloc(M->state_bytes);
    state0 = malloc(M->state_bytes);
    if (!state || !state0)
        return 2;

    uint64_t seed = 0x5eed;
    for (const char *c = name; *c; c++)
        seed = seed * 131 + (unsigned char)*c;
    seqrt_rng r;
    seqrt_rng_seed(&r, seed);
    M->init(state, seed);
    randomize_state(&r);

    int bn = has_batchnorm();
    int sizes[3] = {bn ? 2 : 1, 5, M->max_batch};
    int fails = 0;
    long checked = 0, skipped = 0;
    memcpy(state0, state, M->state_bytes); /* every evaluation starts here */
    for (int s = 0; s < 3; s++) {
        int n = sizes[s] < M->max_batch ? sizes[s] : M->max_batch;
        fails += check_batch(n, &r, &checked, &skipped);
    }
    if (skipped > MAX_SKIP_FRACTION * (double)(checked + skipped)) {
        printf("FAIL %s: %ld of %ld elements skipped at kinks (more than %.0f%%)\n", name, skipped,
               checked + skipped, 100 * MAX_SKIP_FRACTION);
        fails++;
    }
    printf("%s %s %s: %ld gradient elements checked, %ld skipped at kinks, batch sizes %d %d %d\n",
           fails ? "FAIL" : "PASS", name, seqc_test_models_level, checked, skipped, sizes[0], sizes[1],
           sizes[2]);
    free(state);
    free(state0);
    return fails ? 1 : 0;
}
