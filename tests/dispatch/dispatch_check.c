/*
 * dispatch_check.c - every hot kernel on fixed inputs, every output bit
 * written to a file, so that builds of the same kernels for different ISAs
 * can be compared byte for byte (compare.sh).
 *
 *   dispatch_check OUT.bin [ISA]
 *
 * Linked once against the dispatched seqrt_kernels (the CPU's clone runs)
 * and once per ISA against the kernels compiled with -m$ISA alone
 * (baseline, avx2, avx512f: the code each clone holds). With ISA given and
 * the CPU lacking it, exits 77 (skip). Shapes are odd on purpose (37
 * columns, 29 rows) so the vector loops' tails run too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqrt_kernels.h"

#define N 29
#define C 37
#define K 23

static FILE *out;

static void put(const float *v, long count)
{
    if (fwrite(v, sizeof(float), (size_t)count, out) != (size_t)count) {
        perror("dispatch_check: write");
        exit(1);
    }
}

static void putd(double d)
{
    if (fwrite(&d, sizeof d, 1, out) != 1) {
        perror("dispatch_check: write");
        exit(1);
    }
}

static void fill(float *v, long count, seqrt_rng *r, float scale)
{
    for (long i = 0; i < count; i++)
        v[i] = scale * seqrt_rng_normal(r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dispatch_check OUT.bin [ISA]\n");
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "baseline") != 0) {
        __builtin_cpu_init();
        int has = !strcmp(argv[2], "avx2")      ? __builtin_cpu_supports("avx2")
                  : !strcmp(argv[2], "avx512f") ? __builtin_cpu_supports("avx512f")
                                                : -1;
        if (has < 0) {
            fprintf(stderr, "dispatch_check: unknown ISA %s\n", argv[2]);
            return 2;
        }
        if (!has) {
            printf("dispatch_check: this CPU has no %s: skipped\n", argv[2]);
            return 77;
        }
    }
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    static float x[N * C], x2[N * C], y[N * C], z[N * C], dy[N * C], dx[N * C], xhat[N * C];
    static float w[C * K], dw[C * K], b[C], db[C], g[C], be[C], dg[C], dbe[C];
    static float mean[N * C], inv[N * C], rm[C], rv[C], mask[N * C], t[N * C], h[N * K];
    seqrt_rng r;
    seqrt_rng_seed(&r, 12345);
    fill(x, N * C, &r, 1.5f);
    fill(dy, N * C, &r, 1.0f);
    fill(w, C * K, &r, 0.3f);
    fill(b, C, &r, 0.1f);
    fill(g, C, &r, 1.0f);
    fill(be, C, &r, 0.5f);
    fill(h, N * K, &r, 1.0f);

    /* every activation, forward and backward, standalone and fused into
     * dense, batchnorm and layernorm */
    for (int a = 0; a < SEQRT_ACT_COUNT; a++) {
        seqrt_actfn act = seqrt_act_default((seqrt_act)a);
        seqrt_act_forward(y, x, N, C, act);
        put(y, N * C);
        memcpy(dx, dy, sizeof dx);
        seqrt_act_backward(dx, dx, x, y, N, C, act);
        put(dx, N * C);

        seqrt_dense_forward(y, z, h, w, b, N, K, C, act);
        put(y, N * C);
        put(z, N * C);
        memcpy(x2, dy, sizeof x2);
        float hx[N * K];
        seqrt_dense_backward(hx, dw, db, x2, h, w, z, y, N, K, C, act);
        put(hx, N * K);
        put(dw, C * K);
        put(db, C);

        for (int j = 0; j < C; j++)
            rm[j] = 0.0f, rv[j] = 1.0f;
        for (int training = 1; training >= 0; training--) {
            seqrt_batchnorm_forward(y, xhat, mean, inv, rm, rv, x, g, be, N, C, 0.99f, 1e-3f, act, training);
            put(y, N * C);
        }
        seqrt_batchnorm_forward(y, xhat, mean, inv, rm, rv, x, g, be, N, C, 0.99f, 1e-3f, act, 1);
        seqrt_batchnorm_backward(dx, dg, dbe, dy, xhat, inv, g, be, y, N, C, act);
        put(dx, N * C);
        put(dg, C);
        put(dbe, C);
        put(rm, C);
        put(rv, C);

        seqrt_layernorm_forward(y, xhat, mean, inv, x, g, be, N, C, 1e-3f, act);
        put(y, N * C);
        seqrt_layernorm_backward(dx, dg, dbe, dy, xhat, inv, g, be, y, N, C, act);
        put(dx, N * C);
        put(dg, C);
        put(dbe, C);
    }

    for (int j = 0; j < C; j++)
        rv[j] = (float)(j + 1) / 7.0f;
    seqrt_normalization_forward(y, x, b, rv, N, C);
    put(y, N * C);

    int dims[2] = {N, C}, adims[2] = {1, C};
    seqrt_prelu_forward(y, x, g, 1, 2, dims, adims);
    put(y, N * C);
    seqrt_prelu_backward(dx, dg, dy, x, g, 1, 2, dims, adims);
    put(dx, N * C);
    put(dg, C);

    for (int k = 0; k < 3; k++) {
        float rate = k == 0 ? 0.5f : k == 1 ? 0.1f : 0.0f;
        seqrt_dropout_forward(y, mask, x, N * C, rate, &r, 1);
        put(y, N * C);
        put(mask, N * C);
        seqrt_dropout_backward(dx, dy, mask, N * C);
        put(dx, N * C);
    }

    /* losses with and without logits, targets of each kind */
    seqrt_act_forward(y, x, N, C, seqrt_act_default(SEQRT_ACT_SOFTMAX));
    seqrt_act_forward(z, x, N, C, seqrt_act_default(SEQRT_ACT_SIGMOID));
    for (int i = 0; i < N * C; i++)
        t[i] = (float)(i % 3 == 0);
    for (int l = 0; l < SEQRT_LOSS_COUNT; l++) {
        int sparse = l == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
        int cat = sparse || l == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY;
        float tt[N * C];
        for (int i = 0; i < N * C; i++)
            tt[i] = sparse ? (float)(i % C) : t[i];
        const float *probs = cat ? y : l == SEQRT_LOSS_BINARY_CROSSENTROPY ? z : x;
        float v = seqrt_loss(l, dx, probs, NULL, tt, N, C);
        put(&v, 1);
        put(dx, N * C);
        if (l == SEQRT_LOSS_BINARY_CROSSENTROPY || cat) {
            v = seqrt_loss(l, dx, probs, x, tt, N, C);
            put(&v, 1);
            put(dx, N * C);
        }
    }
    for (int mt = 0; mt < SEQRT_METRIC_COUNT; mt++) {
        int sparse = mt == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
        float tt[N];
        for (int i = 0; i < N; i++)
            tt[i] = (float)(i % C);
        /* seqrt_metric_sum takes the mean metrics (two state words); the
         * stateful ones (AUC, precision, ...) keep their own state */
        if (seqrt_metric_state_size(mt, NULL, C) == 2 && mt != SEQRT_METRIC_RMSE)
            putd(seqrt_metric_sum(mt, y, sparse ? tt : t, N, C));
    }

    /* optimizers, a few steps each */
    float pw[N * C], m1[N * C], m2[N * C];
    for (int o = 0; o < 5; o++) {
        memcpy(pw, x, sizeof pw);
        memset(m1, 0, sizeof m1);
        memset(m2, 0, sizeof m2);
        for (int s = 1; s <= 3; s++) {
            if (o == 0)
                seqrt_sgd_update(pw, dy, m1, N * C, 0.01f, 0.9f, 0);
            else if (o == 1)
                seqrt_sgd_update(pw, dy, m1, N * C, 0.01f, 0.9f, 1);
            else if (o == 2)
                seqrt_adam_update(pw, dy, m1, m2, N * C, 1e-3f, 0.9f, 0.999f, 1e-7f, 0.0f, s);
            else if (o == 3)
                seqrt_adam_update(pw, dy, m1, m2, N * C, 1e-3f, 0.9f, 0.999f, 1e-7f, 0.004f, s);
            else
                seqrt_rmsprop_update(pw, dy, m1, m2, N * C, 1e-3f, 0.9f, 0.5f, 1e-7f);
        }
        put(pw, N * C);
    }

    /* the GEMM (plain C without BLAS) in its four forms */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            float cc[N * C];
            for (int i = 0; i < N * C; i++)
                cc[i] = 0.5f;
            seqrt_gemm(ta, tb, N, C, K, 0.7f, h, ta ? N : K, w, tb ? K : C, 0.3f, cc, C);
            put(cc, N * C);
        }
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
