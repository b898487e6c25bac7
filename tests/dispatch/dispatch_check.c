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

/* A window over (h, w, c) -> oc channels: Keras's "valid" (same = 0) or
 * "same" padding (the extra row or column at the end). */
static seqrt_window window(int h, int w, int c, int oc, int kh, int kw, int sh, int sw, int dh, int dw, int same,
                           int groups)
{
    seqrt_window g = {h, w, c, 0, 0, oc, kh, kw, sh, sw, dh, dw, 0, 0, groups};
    int eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
    if (same) {
        g.oh = (h + sh - 1) / sh;
        g.ow = (w + sw - 1) / sw;
        int ph = (g.oh - 1) * sh + eh - h, pw = (g.ow - 1) * sw + ew - w;
        g.pt = ph > 0 ? ph / 2 : 0;
        g.pl = pw > 0 ? pw / 2 : 0;
    } else {
        g.oh = (h - eh) / sh + 1;
        g.ow = (w - ew) / sw + 1;
    }
    return g;
}

/* Convolutions (im2col + GEMM in chunks of a small and a large scratch,
 * pointwise, grouped, depthwise with depth multipliers 1 and 2, strides,
 * dilation, both paddings), poolings (max with windows that tile the input
 * and ones that overlap, average) and the spatial copies, forward and
 * backward. */
static void window_kernels(seqrt_rng *r)
{
    enum { NS = 3, H = 9, W = 11, CMAX = 8, OCMAX = 16, KMAX = 3 };
    static float x[NS * H * W * CMAX], y[NS * H * W * OCMAX], z[NS * H * W * OCMAX], dy[NS * H * W * OCMAX];
    static float dz[NS * H * W * OCMAX], dx[NS * 4 * H * W * CMAX], w[OCMAX * CMAX * KMAX * KMAX];
    static float dw[OCMAX * CMAX * KMAX * KMAX], b[OCMAX], db[OCMAX];
    static float scratch[2 * OCMAX * CMAX * KMAX * KMAX + 200 * CMAX * KMAX * KMAX];
    fill(x, NS * H * W * CMAX, r, 1.0f);
    fill(dy, NS * H * W * OCMAX, r, 1.0f);
    fill(w, OCMAX * CMAX * KMAX * KMAX, r, 0.4f);
    fill(b, OCMAX, r, 0.2f);
    /* c, oc, kh, kw, sh, sw, dh, dw, same, groups */
    static const int convs[][10] = {
        {5, 7, 3, 3, 1, 1, 1, 1, 1, 1}, {5, 7, 3, 3, 1, 1, 1, 1, 0, 1}, {4, 6, 3, 2, 2, 2, 1, 1, 1, 1},
        {3, 8, 2, 3, 1, 1, 2, 2, 0, 1}, {6, 9, 3, 3, 1, 2, 1, 1, 1, 3}, {5, 16, 1, 1, 1, 1, 1, 1, 0, 1},
        {5, 5, 3, 3, 1, 1, 1, 1, 1, 5}, {4, 8, 3, 3, 2, 1, 1, 1, 1, 4}, {1, 8, 3, 3, 1, 1, 1, 1, 0, 1},
    };
    seqrt_actfn acts[2] = {seqrt_act_default(SEQRT_ACT_RELU), seqrt_act_default(SEQRT_ACT_TANH)};
    for (size_t v = 0; v < sizeof convs / sizeof convs[0]; v++) {
        const int *k = convs[v];
        seqrt_window g = window(H, W, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9]);
        long kd = (long)g.kh * g.kw * g.c / g.groups, nout = (long)NS * g.oh * g.ow * g.oc;
        long sizes[2] = {2 * g.oc * kd + kd, 2 * g.oc * kd + 200 * kd};   /* one row a chunk; up to 200 */
        for (int s = 0; s < 2; s++)
            for (int a = 0; a < 2; a++) {
                const float *bias = a ? b : NULL;
                seqrt_conv_forward(y, a ? z : NULL, x, w, bias, NS, &g, acts[a], scratch, sizes[s]);
                put(y, nout);
                if (a)
                    put(z, nout);
                memcpy(dz, dy, sizeof(float) * (size_t)nout);
                seqrt_conv_backward(s ? NULL : dx, dw, a ? db : NULL, dz, x, w, a ? z : NULL, y, NS, &g, acts[a],
                                    scratch, sizes[s]);
                put(dz, nout);
                put(dw, (long)g.oc * kd);
                if (a)
                    put(db, g.oc);
                if (!s)
                    put(dx, (long)NS * H * W * g.c);
            }
    }
    /* ties on purpose (x on a grid of 0.5), so the first maximum matters */
    for (int i = 0; i < NS * H * W * CMAX; i++)
        x[i] = (float)(int)(x[i] * 2.0f) * 0.5f;
    /* c, k, stride, same */
    static const int pools[][4] = {{8, 2, 2, 0}, {5, 3, 2, 1}, {8, 3, 1, 1}, {3, 2, 3, 0}};
    for (size_t v = 0; v < sizeof pools / sizeof pools[0]; v++) {
        const int *k = pools[v];
        seqrt_window g = window(H, W, k[0], k[0], k[1], k[1], k[2], k[2], 1, 1, k[3], 1);
        long nout = (long)NS * g.oh * g.ow * g.c, nin = (long)NS * H * W * g.c;
        seqrt_maxpool_forward(y, x, NS, &g);
        put(y, nout);
        seqrt_maxpool_backward(dx, dy, x, y, NS, &g);
        put(dx, nin);
        seqrt_avgpool_forward(y, x, NS, &g);
        put(y, nout);
        seqrt_avgpool_backward(dx, dy, NS, &g);
        put(dx, nin);
    }
    seqrt_shift_forward(y, x, NS, H, W, 5, H + 3, W - 2, 2, -1);
    put(y, (long)NS * (H + 3) * (W - 2) * 5);
    seqrt_shift_backward(dx, dy, NS, H, W, 5, H + 3, W - 2, 2, -1);
    put(dx, (long)NS * H * W * 5);
    seqrt_upsample_forward(y, x, NS, 4, 5, 7, 2, 3);
    put(y, (long)NS * 8 * 15 * 7);
    seqrt_upsample_backward(dx, dy, NS, 4, 5, 7, 2, 3);
    put(dx, (long)NS * 4 * 5 * 7);
    seqrt_scale_forward(y, x, NS * H * W * 7, 0.0039215686f, -0.5f);
    put(y, NS * H * W * 7);
    seqrt_scale_backward(dx, dy, NS * H * W * 7, 0.0039215686f);
    put(dx, NS * H * W * 7);
}

/* The recurrent kernels (rnn.c): every cell, both GRU variants, both
 * directions, sequences and last states, forward and backward through
 * time, then Bidirectional's merges. */
static void recurrent_kernels(seqrt_rng *r)
{
    enum { RN = 3, RT = 5, RF = 7, RH = 6, RG = 4 * RH };
    static float rx[RN * RT * RF], wi[RG * RF], wh[RG * RH], bi[RG], bh[RG];
    static float ry[RN * RT * RH], rdy[RN * RT * RH], rz[RN * RT * RG], ra[RN * RT * RG];
    static float rh[RN * RT * RH], rc[RN * RT * RH], rdx[RN * RT * RF], dwi[RG * RF], dwh[RG * RH];
    static float dbi[RG], dbh[RG], scr[SEQRT_RNN_SCRATCH(RN, RG, RH) + SEQRT_RNN_MASK_SCRATCH(RN, RG, RF, RH)];
    static float xmk[RN * 4 * RF], hmk[RN * 4 * RH];   /* recurrent dropout's masks: 0 or 1 / 0.7 */
    for (int i = 0; i < RN * 4 * RF; i++)
        xmk[i] = i % 3 == 1 ? 0.0f : 1.0f / 0.7f;
    for (int i = 0; i < RN * 4 * RH; i++)
        hmk[i] = i % 4 == 2 ? 0.0f : 1.0f / 0.7f;
    fill(rx, RN * RT * RF, r, 1.0f);
    fill(rdy, RN * RT * RH, r, 1.0f);
    fill(wi, RG * RF, r, 0.4f);
    fill(wh, RG * RH, r, 0.4f);
    fill(bi, RG, r, 0.2f);
    fill(bh, RG, r, 0.2f);
    for (int cell = 0; cell < 4; cell++)   /* SimpleRNN, LSTM, GRU, GRU(reset_after=False) */
        for (int v = 0; v < 8; v++) {   /* bits: return_sequences, go_backwards, masks */
            const float *xm = v & 4 ? xmk : NULL, *hm = v & 4 ? hmk : NULL;
            seqrt_rnn g = {.T = RT, .F = RF, .H = RH, .return_sequences = v & 1, .go_backwards = (v >> 1) & 1,
                           .reset_after = cell == 2, .act = seqrt_act_default(SEQRT_ACT_TANH),
                           .rec_act = seqrt_act_default(SEQRT_ACT_SIGMOID)};
            long ny = g.return_sequences ? RN * RT * RH : RN * RH;
            if (cell == 0) {
                seqrt_simple_rnn_forward(ry, rz, rh, rx, wi, wh, bi, bh, xm, hm, RN, &g, scr);
                put(ry, ny);
                seqrt_simple_rnn_backward(rdx, dwi, dwh, dbi, NULL, rdy, rz, rh, rx, wi, wh, xm, hm, RN, &g, scr);
            } else if (cell == 1) {
                seqrt_lstm_forward(ry, rz, ra, rh, rc, rx, wi, wh, bi, bh, xm, hm, RN, &g, scr);
                put(ry, ny);
                seqrt_lstm_backward(rdx, dwi, dwh, dbi, rdy, rz, ra, rh, rc, rx, wi, wh, xm, hm, RN, &g, scr);
            } else {
                seqrt_gru_forward(ry, rz, ra, rh, rc, rx, wi, wh, bi, cell == 2 ? bh : NULL, xm, hm, RN, &g, scr);
                put(ry, ny);
                seqrt_gru_backward(rdx, dwi, dwh, dbi, cell == 2 ? dbh : NULL, rdy, rz, ra, rh, rc, rx, wi, wh,
                                   xm, hm, RN, &g, scr);
            }
            int G = (cell == 0 ? 1 : cell == 1 ? 4 : 3) * RH;
            put(rdx, RN * RT * RF);
            put(dwi, (long)G * RF);
            put(dwh, (long)G * RH);
            put(dbi, G);
            if (cell == 2)
                put(dbh, G);
        }
    for (int mode = 0; mode < 4; mode++)
        for (int flip = 0; flip < 2; flip++) {
            float yf[RN * RT * RH], yb[RN * RT * RH], ym[RN * RT * 2 * RH];
            memcpy(yf, rdy, sizeof yf);
            memcpy(yb, rx, sizeof yb);
            seqrt_merge_forward(ym, yf, yb, RN, RT, RH, mode, flip);
            put(ym, mode == SEQRT_MERGE_CONCAT ? RN * RT * 2 * RH : RN * RT * RH);
            seqrt_merge_backward(yf, yb, ym, RN, RT, RH, mode, flip);
            put(yf, RN * RT * RH);
            put(yb, RN * RT * RH);
        }
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
        if (seqrt_metric_is_mean(mt))
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

    window_kernels(&r);
    recurrent_kernels(&r);

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
