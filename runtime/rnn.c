/*
 * rnn.c - recurrent layers: SimpleRNN, LSTM and GRU, forward over a whole
 * sequence and backward through time (BPTT).
 *
 * Weights are PyTorch's (nn.RNN, nn.LSTM, nn.GRU): w_ih (G, F), w_hh (G, H),
 * b_ih (G), b_hh (G) with G = gates x H, gates in PyTorch's order (LSTM i,
 * f, g, o, which is Keras's; GRU r, z, n, which is not Keras's z, r, h: the
 * compiler documents the mapping). Every per-step buffer is indexed by the
 * input step it consumed (t), whatever the direction: h (n, T, H)[t] is the
 * hidden state after reading x[t]. With go_backwards the steps run from
 * t = T - 1 down to 0, and a returned sequence is in processing order, as
 * Keras returns it (y[s] = h[T - 1 - s]).
 *
 * Forward makes the input-to-hidden products of all steps one GEMM
 * (n T rows of F), then for each step one GEMM of the previous hidden state
 * (n rows of H, written with a row stride into the step's slice) and one
 * elementwise pass. Backward walks the steps in reverse, keeps d h and
 * d c of the running step in scratch, writes d(pre-activation) over the
 * kept pre-activations z, and afterwards makes d w_ih, d x and the bias
 * gradients single GEMMs / sums over all n T rows and d w_hh one GEMM per
 * sample (the T - 1 steps that had a previous state).
 *
 * The kernels are dispatched (SEQRT_DISPATCH: clones for AVX-512F, AVX2
 * and the baseline, runtime/dispatch.h) with their helpers inlined
 * (SEQRT_INLINE); tests/dispatch compares every clone's bits.
 *
 * b_hh of SimpleRNN and LSTM is added but never trained (db_hh NULL): Keras
 * has one bias for those cells, and a PyTorch checkpoint's second bias then
 * still computes what PyTorch computes.
 */
#include <string.h>

#include "act_inline.h"
#include "seqrt_kernels.h"

SEQRT_INLINE int step_time(const seqrt_rnn *g, int s)
{
    return g->go_backwards ? g->T - 1 - s : s;
}

/* zz (n T, G) = x (n T, F) w_ih^T + b_ih + b_hh (either bias may be NULL). */
SEQRT_INLINE void input_products(float *zz, const float *x, const float *w_ih, const float *b_ih, const float *b_hh, int n,
                           int T, int F, int G)
{
    long rows = (long)n * T;
    seqrt_gemm(0, 1, (int)rows, G, F, 1.0f, x, F, w_ih, F, 0.0f, zz, G);
    for (long r = 0; r < rows; r++) {
        float *row = zz + r * G;
        if (b_ih)
            for (int j = 0; j < G; j++)
                row[j] += b_ih[j];
        if (b_hh)
            for (int j = 0; j < G; j++)
                row[j] += b_hh[j];
    }
}

/* y: the whole sequence in processing order, or the last step's state. */
SEQRT_INLINE void write_output(float *y, const float *h, int n, const seqrt_rnn *g)
{
    int T = g->T, H = g->H;
    for (int b = 0; b < n; b++) {
        if (g->return_sequences) {
            for (int s = 0; s < T; s++)
                memcpy(y + ((size_t)b * T + s) * H, h + ((size_t)b * T + step_time(g, s)) * H, sizeof(float) * H);
        } else {
            memcpy(y + (size_t)b * H, h + ((size_t)b * T + step_time(g, T - 1)) * H, sizeof(float) * H);
        }
    }
}

/* dh (n, H) += the part of dy for processing step s. */
SEQRT_INLINE void add_output_grad(float *dh, const float *dy, int n, int s, const seqrt_rnn *g)
{
    int T = g->T, H = g->H;
    if (!g->return_sequences && s != T - 1)
        return;
    for (int b = 0; b < n; b++) {
        const float *d = g->return_sequences ? dy + ((size_t)b * T + s) * H : dy + (size_t)b * H;
        float *o = dh + (size_t)b * H;
        for (int j = 0; j < H; j++)
            o[j] += d[j];
    }
}

/* db (G) = column sums of dz (rows, G); nothing when db is NULL. */
SEQRT_INLINE void column_sums(float *db, const float *dz, long rows, int G)
{
    if (!db)
        return;
    memset(db, 0, sizeof(float) * G);
    for (long r = 0; r < rows; r++)
        for (int j = 0; j < G; j++)
            db[j] += dz[r * G + j];
}

/* dw_ih (G, F) = dz^T x over all n T rows, dx (n T, F) = dz w_ih (if dx). */
SEQRT_INLINE void input_grads(float *dx, float *dw_ih, const float *dz, const float *x, const float *w_ih, int n, int T,
                        int F, int G)
{
    int rows = n * T;
    seqrt_gemm(1, 0, G, F, rows, 1.0f, dz, G, x, F, 0.0f, dw_ih, F);
    if (dx)
        seqrt_gemm(0, 0, rows, F, G, 1.0f, dz, G, w_ih, F, 0.0f, dx, F);
}

/* dw (m, H) (+)= sum over samples of dzr[steps with a previous state]^T
 * hp[their previous states]: dzr rows of ld G starting at column col, m
 * wide; hp (n, T, H). beta 0 overwrites dw first. */
SEQRT_INLINE void recurrent_weight_grads(float *dw, const float *dzr, int col, int m, const float *hp, int n,
                                   const seqrt_rnn *g, int G, float beta)
{
    int T = g->T, H = g->H;
    if (beta == 0.0f)
        memset(dw, 0, sizeof(float) * m * H);
    if (T < 2)
        return;
    int oz = g->go_backwards ? 0 : 1, oh = g->go_backwards ? 1 : 0;
    for (int b = 0; b < n; b++)
        seqrt_gemm(1, 0, m, H, T - 1, 1.0f, dzr + ((size_t)b * T + oz) * G + col, G,
                   hp + ((size_t)b * T + oh) * H, H, 1.0f, dw, H);
}

/* ---------------------------------------------------------------- SimpleRNN */

SEQRT_DISPATCH
void seqrt_simple_rnn_forward(float *y, float *z, float *h, const float *x, const float *w_ih, const float *w_hh,
                              const float *b_ih, const float *b_hh, int n, const seqrt_rnn *g)
{
    int T = g->T, F = g->F, H = g->H;
    float *zz = z ? z : h;   /* pre-activations: kept, or activated in place */
    input_products(zz, x, w_ih, b_ih, b_hh, n, T, F, H);
    for (int s = 0; s < T; s++) {
        int t = step_time(g, s);
        float *zt = zz + (size_t)t * H;   /* (n, H), row stride T H */
        if (s > 0)
            seqrt_gemm(0, 1, n, H, H, 1.0f, h + (size_t)step_time(g, s - 1) * H, T * H, w_hh, H, 1.0f, zt, T * H);
        for (int b = 0; b < n; b++)
            seqrt_act_row_forward(g->act, h + ((size_t)b * T + t) * H, zt + (size_t)b * T * H, H);
    }
    write_output(y, h, n, g);
}

SEQRT_DISPATCH
void seqrt_simple_rnn_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, const float *dy,
                               float *z, const float *h, const float *x, const float *w_ih, const float *w_hh, int n,
                               const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H;
    float *dh = scratch;   /* (n, H): d loss / d h of the running step */
    memset(dh, 0, sizeof(float) * n * H);
    for (int s = T - 1; s >= 0; s--) {
        int t = step_time(g, s);
        add_output_grad(dh, dy, n, s, g);
        for (int b = 0; b < n; b++) {
            size_t r = ((size_t)b * T + t) * H;
            /* dz over z: the activation's derivative reads z and h */
            seqrt_act_row_backward(g->act, z + r, dh + (size_t)b * H, z + r, h + r, H);
        }
        if (s > 0)
            seqrt_gemm(0, 0, n, H, H, 1.0f, z + (size_t)t * H, T * H, w_hh, H, 0.0f, dh, H);
    }
    column_sums(db_ih, z, (long)n * T, H);
    column_sums(db_hh, z, (long)n * T, H);
    input_grads(dx, dw_ih, z, x, w_ih, n, T, F, H);
    recurrent_weight_grads(dw_hh, z, 0, H, h, n, g, H, 0.0f);
}

/* ---------------------------------------------------------------- LSTM */

SEQRT_DISPATCH
void seqrt_lstm_forward(float *y, float *z, float *a, float *h, float *c, const float *x, const float *w_ih,
                        const float *w_hh, const float *b_ih, const float *b_hh, int n, const seqrt_rnn *g,
                        float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 4 * H;
    float *zz = z ? z : a;
    float *tc = scratch;   /* (H): act(c) of one row */
    input_products(zz, x, w_ih, b_ih, b_hh, n, T, F, G);
    for (int s = 0; s < T; s++) {
        int t = step_time(g, s), tp = s > 0 ? step_time(g, s - 1) : -1;
        float *zt = zz + (size_t)t * G;   /* (n, G), row stride T G */
        if (s > 0)
            seqrt_gemm(0, 1, n, G, H, 1.0f, h + (size_t)tp * H, T * H, w_hh, H, 1.0f, zt, T * G);
        for (int b = 0; b < n; b++) {
            const float *zr = zt + (size_t)b * T * G;
            float *ar = a + ((size_t)b * T + t) * G;
            seqrt_act_row_forward(g->rec_act, ar, zr, 2 * H);                 /* i, f */
            seqrt_act_row_forward(g->act, ar + 2 * H, zr + 2 * H, H);         /* g */
            seqrt_act_row_forward(g->rec_act, ar + 3 * H, zr + 3 * H, H);     /* o */
            float *cr = c + ((size_t)b * T + t) * H, *hr = h + ((size_t)b * T + t) * H;
            const float *cp = tp >= 0 ? c + ((size_t)b * T + tp) * H : NULL;
            for (int j = 0; j < H; j++)
                cr[j] = ar[j] * ar[2 * H + j] + (cp ? ar[H + j] * cp[j] : 0.0f);
            seqrt_act_row_forward(g->act, tc, cr, H);
            for (int j = 0; j < H; j++)
                hr[j] = ar[3 * H + j] * tc[j];
        }
    }
    write_output(y, h, n, g);
}

SEQRT_DISPATCH
void seqrt_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, const float *dy, float *z,
                         const float *a, const float *h, const float *c, const float *x, const float *w_ih,
                         const float *w_hh, int n, const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 4 * H;
    float *dh = scratch;                  /* (n, H) */
    float *dc = dh + (size_t)n * H;       /* (n, H): d loss / d c of the running step */
    float *tc = dc + (size_t)n * H;       /* (H): act(c) */
    float *dt = tc + H;                   /* (H): d loss / d c through h */
    float *da = dt + H;                   /* (G): d loss / d gate values */
    memset(dh, 0, sizeof(float) * 2 * n * H);
    for (int s = T - 1; s >= 0; s--) {
        int t = step_time(g, s), tp = s > 0 ? step_time(g, s - 1) : -1;
        add_output_grad(dh, dy, n, s, g);
        for (int b = 0; b < n; b++) {
            size_t r = (size_t)b * T + t;
            const float *ar = a + r * G, *cr = c + r * H;
            const float *cp = tp >= 0 ? c + ((size_t)b * T + tp) * H : NULL;
            float *dhr = dh + (size_t)b * H, *dcr = dc + (size_t)b * H, *zr = z + r * G;
            seqrt_act_row_forward(g->act, tc, cr, H);
            for (int j = 0; j < H; j++)
                dt[j] = dhr[j] * ar[3 * H + j];
            seqrt_act_row_backward(g->act, dt, dt, cr, tc, H);
            for (int j = 0; j < H; j++) {
                float dct = dcr[j] + dt[j];
                da[j] = dct * ar[2 * H + j];               /* d i */
                da[H + j] = cp ? dct * cp[j] : 0.0f;        /* d f */
                da[2 * H + j] = dct * ar[j];                /* d g */
                da[3 * H + j] = dhr[j] * tc[j];             /* d o */
                dcr[j] = dct * ar[H + j];                   /* to the previous step */
            }
            seqrt_act_row_backward(g->rec_act, zr, da, zr, ar, 2 * H);
            seqrt_act_row_backward(g->act, zr + 2 * H, da + 2 * H, zr + 2 * H, ar + 2 * H, H);
            seqrt_act_row_backward(g->rec_act, zr + 3 * H, da + 3 * H, zr + 3 * H, ar + 3 * H, H);
        }
        if (s > 0)
            seqrt_gemm(0, 0, n, H, G, 1.0f, z + (size_t)t * G, T * G, w_hh, H, 0.0f, dh, H);
    }
    column_sums(db_ih, z, (long)n * T, G);
    input_grads(dx, dw_ih, z, x, w_ih, n, T, F, G);
    recurrent_weight_grads(dw_hh, z, 0, G, h, n, g, G, 0.0f);
}

/* ---------------------------------------------------------------- GRU */

SEQRT_DISPATCH
void seqrt_gru_forward(float *y, float *z, float *a, float *h, float *hn, const float *x, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh, int n, const seqrt_rnn *g,
                       float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 3 * H;
    float *zz = z ? z : a;
    float *hz = scratch;   /* (n, G): h_prev w_hh^T (+ b_hh) of one step */
    /* reset_after: b_hh's n part sits inside r * (...), so it is not added here */
    input_products(zz, x, w_ih, b_ih, NULL, n, T, F, G);
    for (int s = 0; s < T; s++) {
        int t = step_time(g, s), tp = s > 0 ? step_time(g, s - 1) : -1;
        const float *hp0 = tp >= 0 ? h + (size_t)tp * H : NULL;   /* (n, H), row stride T H */
        if (g->reset_after) {
            if (hp0)
                seqrt_gemm(0, 1, n, G, H, 1.0f, hp0, T * H, w_hh, H, 0.0f, hz, G);
            else
                memset(hz, 0, sizeof(float) * n * G);
        } else if (hp0) {
            /* r and z parts straight into the step's pre-activations */
            seqrt_gemm(0, 1, n, 2 * H, H, 1.0f, hp0, T * H, w_hh, H, 1.0f, zz + (size_t)t * G, T * G);
        }
        for (int b = 0; b < n; b++) {
            size_t r = (size_t)b * T + t;
            float *zr = zz + r * G, *ar = a + r * G, *hnr = hn + r * H;
            const float *hp = tp >= 0 ? h + ((size_t)b * T + tp) * H : NULL;
            if (g->reset_after) {
                float *hzr = hz + (size_t)b * G;
                if (b_hh)
                    for (int j = 0; j < G; j++)
                        hzr[j] += b_hh[j];
                for (int j = 0; j < 2 * H; j++)
                    zr[j] += hzr[j];
                seqrt_act_row_forward(g->rec_act, ar, zr, 2 * H);              /* r, z */
                for (int j = 0; j < H; j++) {
                    hnr[j] = hzr[2 * H + j];                                   /* kept: h_prev w_hn^T + b_hn */
                    zr[2 * H + j] += ar[j] * hnr[j];
                }
            } else {
                seqrt_act_row_forward(g->rec_act, ar, zr, 2 * H);
                for (int j = 0; j < H; j++)
                    hnr[j] = hp ? ar[j] * hp[j] : 0.0f;                        /* kept: r * h_prev */
            }
        }
        if (!g->reset_after && hp0)
            seqrt_gemm(0, 1, n, H, H, 1.0f, hn + (size_t)t * H, T * H, w_hh + (size_t)2 * H * H, H, 1.0f,
                       zz + (size_t)t * G + 2 * H, T * G);
        for (int b = 0; b < n; b++) {
            size_t r = (size_t)b * T + t;
            float *zr = zz + r * G, *ar = a + r * G, *hr = h + r * H;
            const float *hp = tp >= 0 ? h + ((size_t)b * T + tp) * H : NULL;
            seqrt_act_row_forward(g->act, ar + 2 * H, zr + 2 * H, H);          /* n */
            for (int j = 0; j < H; j++) {
                float u = ar[H + j];
                hr[j] = (1.0f - u) * ar[2 * H + j] + (hp ? u * hp[j] : 0.0f);
            }
        }
    }
    write_output(y, h, n, g);
}

SEQRT_DISPATCH
void seqrt_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, const float *dy,
                        float *z, float *a, const float *h, const float *hn, const float *x, const float *w_ih,
                        const float *w_hh, int n, const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 3 * H;
    float *dh = scratch;                  /* (n, H) */
    float *dhp = dh + (size_t)n * H;      /* (n, H): the direct part to the previous step */
    float *da = dhp + (size_t)n * H;      /* (G) */
    memset(dh, 0, sizeof(float) * n * H);
    for (int s = T - 1; s >= 0; s--) {
        int t = step_time(g, s), tp = s > 0 ? step_time(g, s - 1) : -1;
        add_output_grad(dh, dy, n, s, g);
        for (int b = 0; b < n; b++) {
            size_t r = (size_t)b * T + t;
            float *zr = z + r * G, *ar = a + r * G, *dhr = dh + (size_t)b * H, *dpr = dhp + (size_t)b * H;
            const float *hp = tp >= 0 ? h + ((size_t)b * T + tp) * H : NULL;
            const float *hnr = hn + r * H;
            for (int j = 0; j < H; j++) {
                float u = ar[H + j], nn = ar[2 * H + j];
                da[2 * H + j] = dhr[j] * (1.0f - u);                   /* d n */
                da[H + j] = dhr[j] * ((hp ? hp[j] : 0.0f) - nn);        /* d z */
                dpr[j] = dhr[j] * u;
            }
            seqrt_act_row_backward(g->act, zr + 2 * H, da + 2 * H, zr + 2 * H, ar + 2 * H, H);   /* dzn */
            seqrt_act_row_backward(g->rec_act, zr + H, da + H, zr + H, ar + H, H);               /* dzz */
            if (g->reset_after) {
                for (int j = 0; j < H; j++)
                    da[j] = zr[2 * H + j] * hnr[j];                     /* d r */
                seqrt_act_row_backward(g->rec_act, zr, da, zr, ar, H);
                /* the recurrent part's gradient over a (its values are no longer needed) */
                for (int j = 0; j < H; j++) {
                    float rr = ar[j];
                    ar[j] = zr[j];
                    ar[H + j] = zr[H + j];
                    ar[2 * H + j] = zr[2 * H + j] * rr;
                }
            }
            /* reset before: d r needs d (r h_prev) = dzn w_hn of every row (below) */
        }
        if (!g->reset_after) {
            /* drh (n, H) = dzn (n, H) w_hn (H, H), into dh (its step is done) */
            seqrt_gemm(0, 0, n, H, H, 1.0f, z + (size_t)t * G + 2 * H, T * G, w_hh + (size_t)2 * H * H, H, 0.0f,
                       dh, H);
            for (int b = 0; b < n; b++) {
                size_t r = (size_t)b * T + t;
                float *zr = z + r * G, *ar = a + r * G, *drh = dh + (size_t)b * H, *dpr = dhp + (size_t)b * H;
                const float *hp = tp >= 0 ? h + ((size_t)b * T + tp) * H : NULL;
                for (int j = 0; j < H; j++) {
                    da[j] = hp ? drh[j] * hp[j] : 0.0f;                 /* d r */
                    dpr[j] += drh[j] * ar[j];
                }
                seqrt_act_row_backward(g->rec_act, zr, da, zr, ar, H);
            }
            memcpy(dh, dhp, sizeof(float) * n * H);
            if (s > 0)
                seqrt_gemm(0, 0, n, H, 2 * H, 1.0f, z + (size_t)t * G, T * G, w_hh, H, 1.0f, dh, H);
        } else {
            memcpy(dh, dhp, sizeof(float) * n * H);
            if (s > 0)
                seqrt_gemm(0, 0, n, H, G, 1.0f, a + (size_t)t * G, T * G, w_hh, H, 1.0f, dh, H);
        }
    }
    column_sums(db_ih, z, (long)n * T, G);
    input_grads(dx, dw_ih, z, x, w_ih, n, T, F, G);
    if (g->reset_after) {
        column_sums(db_hh, a, (long)n * T, G);
        recurrent_weight_grads(dw_hh, a, 0, G, h, n, g, G, 0.0f);
    } else {
        /* r, z rows from the previous states; n rows from r * h_prev (0 at the first step) */
        recurrent_weight_grads(dw_hh, z, 0, 2 * H, h, n, g, G, 0.0f);
        seqrt_gemm(1, 0, H, H, n * T, 1.0f, z + 2 * H, G, hn, H, 0.0f, dw_hh + (size_t)2 * H * H, H);
    }
}

/* ---------------------------------------------------------------- Bidirectional */

/* The element of yb that meets element (b, s, j) of yf. */
SEQRT_INLINE size_t merge_b(int b, int s, int j, int S, int H, int flip)
{
    return ((size_t)b * S + (flip ? S - 1 - s : s)) * H + j;
}

SEQRT_DISPATCH
void seqrt_merge_forward(float *y, const float *yf, const float *yb, int n, int S, int H, int mode, int flip)
{
    int Ho = mode == SEQRT_MERGE_CONCAT ? 2 * H : H;
    for (int b = 0; b < n; b++)
        for (int s = 0; s < S; s++) {
            float *o = y + ((size_t)b * S + s) * Ho;
            const float *f = yf + ((size_t)b * S + s) * H;
            for (int j = 0; j < H; j++) {
                float u = f[j], v = yb[merge_b(b, s, j, S, H, flip)];
                switch ((seqrt_merge_mode)mode) {
                case SEQRT_MERGE_CONCAT:
                    o[j] = u;
                    o[H + j] = v;
                    break;
                case SEQRT_MERGE_SUM:
                    o[j] = u + v;
                    break;
                case SEQRT_MERGE_MUL:
                    o[j] = u * v;
                    break;
                case SEQRT_MERGE_AVE:
                    o[j] = (u + v) * 0.5f;
                    break;
                }
            }
        }
}

SEQRT_DISPATCH
void seqrt_merge_backward(float *yf, float *yb, const float *dy, int n, int S, int H, int mode, int flip)
{
    int Ho = mode == SEQRT_MERGE_CONCAT ? 2 * H : H;
    for (int b = 0; b < n; b++)
        for (int s = 0; s < S; s++) {
            const float *d = dy + ((size_t)b * S + s) * Ho;
            float *f = yf + ((size_t)b * S + s) * H;
            for (int j = 0; j < H; j++) {
                float *v = yb + merge_b(b, s, j, S, H, flip);
                float u = f[j];
                switch ((seqrt_merge_mode)mode) {
                case SEQRT_MERGE_CONCAT:
                    f[j] = d[j];
                    *v = d[H + j];
                    break;
                case SEQRT_MERGE_SUM:
                    f[j] = d[j];
                    *v = d[j];
                    break;
                case SEQRT_MERGE_MUL:
                    f[j] = d[j] * *v;
                    *v = d[j] * u;
                    break;
                case SEQRT_MERGE_AVE:
                    f[j] = 0.5f * d[j];
                    *v = 0.5f * d[j];
                    break;
                }
            }
        }
}

SEQRT_DISPATCH
void seqrt_add_to(float *y, const float *x, long count)
{
    for (long i = 0; i < count; i++)
        y[i] += x[i];
}
