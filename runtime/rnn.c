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
 * Recurrent dropout (Keras 3's implementation 1, which Keras uses when
 * recurrent_dropout is not 0): hmask (n, R, H) multiplies the previous
 * state before gate block k's recurrent product (R = the gate blocks, 1
 * for SimpleRNN), xmask (n, R, F) the input before block k's input
 * product; both are fixed over the steps. The input side scales w_ih's
 * columns by a sample's masks (x m_k w_k^T = x (w_k diag m_k)^T), one GEMM
 * per sample; the recurrent side multiplies the previous states into
 * scratch, one GEMM per block and step. Their temporaries follow the
 * SEQRT_RNN_SCRATCH floats (SEQRT_RNN_MASK_SCRATCH more).
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

/* Where the masked paths' temporaries start in scratch. */
SEQRT_INLINE float *mask_scratch(float *scratch, int n, int G, int H)
{
    return scratch + SEQRT_RNN_SCRATCH(n, G, H);
}

/* ws (G, F) = w_ih with gate block k's columns times sample b's input mask k. */
SEQRT_INLINE void masked_w_ih(float *ws, const float *w_ih, const float *xmask, int b, int R, int F, int H)
{
    for (int k = 0; k < R; k++) {
        const float *m = xmask + ((size_t)b * R + k) * F;
        for (int i = 0; i < H; i++) {
            size_t o = ((size_t)k * H + i) * F;
            for (int j = 0; j < F; j++)
                ws[o + j] = w_ih[o + j] * m[j];
        }
    }
}

/* zz (n T, G) = x (n T, F) w_ih^T + b_ih + b_hh (either bias may be NULL);
 * with xmask each sample's x times its block masks (ws: (G, F) scratch). */
SEQRT_INLINE void input_products(float *zz, const float *x, const float *w_ih, const float *b_ih, const float *b_hh,
                                 const float *xmask, float *ws, int n, int T, int F, int G, int H)
{
    long rows = (long)n * T;
    if (!xmask) {
        seqrt_gemm(0, 1, (int)rows, G, F, 1.0f, x, F, w_ih, F, 0.0f, zz, G);
    } else {
        for (int b = 0; b < n; b++) {
            masked_w_ih(ws, w_ih, xmask, b, G / H, F, H);
            seqrt_gemm(0, 1, T, G, F, 1.0f, x + (size_t)b * T * F, F, ws, F, 0.0f, zz + (size_t)b * T * G, G);
        }
    }
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

/* out (n rows, ld ldo) = beta out + hp (n rows, ld ldh) w_hh's gate blocks
 * k0 .. k0 + blocks - 1 (H rows each) transposed; with hmask (n, R, H)
 * block k reads hp times the samples' mask k (hm: (n, H) scratch). */
SEQRT_INLINE void recurrent_products(float *out, int ldo, const float *hp, int ldh, const float *w_hh, int k0,
                                     int blocks, const float *hmask, int R, int n, int H, float beta, float *hm)
{
    if (!hmask) {
        seqrt_gemm(0, 1, n, blocks * H, H, 1.0f, hp, ldh, w_hh + (size_t)k0 * H * H, H, beta, out, ldo);
        return;
    }
    for (int k = 0; k < blocks; k++) {
        for (int b = 0; b < n; b++) {
            const float *m = hmask + ((size_t)b * R + k0 + k) * H, *hr = hp + (size_t)b * ldh;
            for (int j = 0; j < H; j++)
                hm[(size_t)b * H + j] = hr[j] * m[j];
        }
        seqrt_gemm(0, 1, n, H, H, 1.0f, hm, H, w_hh + (size_t)(k0 + k) * H * H, H, beta, out + (size_t)k * H, ldo);
    }
}

/* dh (n, H) = beta dh + the sum over gate blocks k0 .. k0 + blocks - 1 of
 * dz's block k (n rows, ld ldz) times w_hh's block k, times the samples'
 * mask k with hmask (tmp: (n, H) scratch). */
SEQRT_INLINE void recurrent_state_grads(float *dh, const float *dz, int ldz, const float *w_hh, int k0, int blocks,
                                        const float *hmask, int R, int n, int H, float beta, float *tmp)
{
    if (!hmask) {
        seqrt_gemm(0, 0, n, H, blocks * H, 1.0f, dz, ldz, w_hh + (size_t)k0 * H * H, H, beta, dh, H);
        return;
    }
    if (beta == 0.0f)
        memset(dh, 0, sizeof(float) * n * H);
    for (int k = 0; k < blocks; k++) {
        seqrt_gemm(0, 0, n, H, H, 1.0f, dz + (size_t)k * H, ldz, w_hh + (size_t)(k0 + k) * H * H, H, 0.0f, tmp, H);
        for (int b = 0; b < n; b++) {
            const float *m = hmask + ((size_t)b * R + k0 + k) * H, *tr = tmp + (size_t)b * H;
            float *dr = dh + (size_t)b * H;
            for (int j = 0; j < H; j++)
                dr[j] += tr[j] * m[j];
        }
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

/* dw_ih (G, F) = dz^T x over all n T rows, dx (n T, F) = dz w_ih (if dx);
 * with xmask per sample through w_ih scaled by its masks (ws, tw: (G, F)
 * scratch each). */
SEQRT_INLINE void input_grads(float *dx, float *dw_ih, const float *dz, const float *x, const float *w_ih,
                              const float *xmask, float *ws, float *tw, int n, int T, int F, int G, int H)
{
    int rows = n * T;
    if (!xmask) {
        seqrt_gemm(1, 0, G, F, rows, 1.0f, dz, G, x, F, 0.0f, dw_ih, F);
        if (dx)
            seqrt_gemm(0, 0, rows, F, G, 1.0f, dz, G, w_ih, F, 0.0f, dx, F);
        return;
    }
    int R = G / H;
    memset(dw_ih, 0, sizeof(float) * G * F);
    for (int b = 0; b < n; b++) {
        const float *dzb = dz + (size_t)b * T * G, *xb = x + (size_t)b * T * F;
        if (dx) {
            masked_w_ih(ws, w_ih, xmask, b, R, F, H);
            seqrt_gemm(0, 0, T, F, G, 1.0f, dzb, G, ws, F, 0.0f, dx + (size_t)b * T * F, F);
        }
        seqrt_gemm(1, 0, G, F, T, 1.0f, dzb, G, xb, F, 0.0f, tw, F);
        for (int k = 0; k < R; k++) {
            const float *m = xmask + ((size_t)b * R + k) * F;
            for (int i = 0; i < H; i++) {
                size_t o = ((size_t)k * H + i) * F;
                for (int j = 0; j < F; j++)
                    dw_ih[o + j] += tw[o + j] * m[j];
            }
        }
    }
}

/* dw (m, H) (+)= sum over samples of dzr[steps with a previous state]^T
 * hp[their previous states]: dzr rows of ld G starting at column col
 * (gate block k0 = col / H), m wide; hp (n, T, H). beta 0 overwrites dw
 * first. With hmask each sample's previous states times its mask of the
 * row's block (tw: (m, H) scratch). */
SEQRT_INLINE void recurrent_weight_grads(float *dw, const float *dzr, int col, int m, const float *hp, int n,
                                         const seqrt_rnn *g, int G, float beta, const float *hmask, float *tw)
{
    int T = g->T, H = g->H, R = G / H, k0 = col / H;
    if (beta == 0.0f)
        memset(dw, 0, sizeof(float) * m * H);
    if (T < 2)
        return;
    int oz = g->go_backwards ? 0 : 1, oh = g->go_backwards ? 1 : 0;
    for (int b = 0; b < n; b++) {
        const float *dzb = dzr + ((size_t)b * T + oz) * G + col, *hb = hp + ((size_t)b * T + oh) * H;
        if (!hmask) {
            seqrt_gemm(1, 0, m, H, T - 1, 1.0f, dzb, G, hb, H, 1.0f, dw, H);
            continue;
        }
        seqrt_gemm(1, 0, m, H, T - 1, 1.0f, dzb, G, hb, H, 0.0f, tw, H);
        for (int i = 0; i < m; i++) {
            const float *mk = hmask + ((size_t)b * R + k0 + i / H) * H;
            for (int j = 0; j < H; j++)
                dw[(size_t)i * H + j] += tw[(size_t)i * H + j] * mk[j];
        }
    }
}

/* The masked paths' temporaries: hm (n, H), ws (G, F), tw (G, max(F, H)). */
typedef struct {
    float *hm, *ws, *tw;
} mask_tmp;

SEQRT_INLINE mask_tmp mask_temps(float *scratch, const float *xmask, const float *hmask, int n, int G, int F, int H)
{
    mask_tmp m = {NULL, NULL, NULL};
    if (!xmask && !hmask)
        return m;
    m.hm = mask_scratch(scratch, n, G, H);
    m.ws = m.hm + (size_t)n * H;
    m.tw = m.ws + (size_t)G * F;
    return m;
}

/* ---------------------------------------------------------------- SimpleRNN */

SEQRT_DISPATCH
void seqrt_simple_rnn_forward(float *y, float *z, float *h, const float *x, const float *w_ih, const float *w_hh,
                              const float *b_ih, const float *b_hh, const float *xmask, const float *hmask, int n,
                              const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H;
    mask_tmp mt = mask_temps(scratch, xmask, hmask, n, H, F, H);
    float *zz = z ? z : h;   /* pre-activations: kept, or activated in place */
    input_products(zz, x, w_ih, b_ih, b_hh, xmask, mt.ws, n, T, F, H, H);
    for (int s = 0; s < T; s++) {
        int t = step_time(g, s);
        float *zt = zz + (size_t)t * H;   /* (n, H), row stride T H */
        if (s > 0)
            recurrent_products(zt, T * H, h + (size_t)step_time(g, s - 1) * H, T * H, w_hh, 0, 1, hmask, 1, n, H,
                               1.0f, mt.hm);
        for (int b = 0; b < n; b++)
            seqrt_act_row_forward(g->act, h + ((size_t)b * T + t) * H, zt + (size_t)b * T * H, H);
    }
    write_output(y, h, n, g);
}

SEQRT_DISPATCH
void seqrt_simple_rnn_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, const float *dy,
                               float *z, const float *h, const float *x, const float *w_ih, const float *w_hh,
                               const float *xmask, const float *hmask, int n, const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H;
    mask_tmp mt = mask_temps(scratch, xmask, hmask, n, H, F, H);
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
            recurrent_state_grads(dh, z + (size_t)t * H, T * H, w_hh, 0, 1, hmask, 1, n, H, 0.0f, mt.hm);
    }
    column_sums(db_ih, z, (long)n * T, H);
    column_sums(db_hh, z, (long)n * T, H);
    input_grads(dx, dw_ih, z, x, w_ih, xmask, mt.ws, mt.tw, n, T, F, H, H);
    recurrent_weight_grads(dw_hh, z, 0, H, h, n, g, H, 0.0f, hmask, mt.tw);
}

/* ---------------------------------------------------------------- LSTM */

SEQRT_DISPATCH
void seqrt_lstm_forward(float *y, float *z, float *a, float *h, float *c, const float *x, const float *w_ih,
                        const float *w_hh, const float *b_ih, const float *b_hh, const float *xmask,
                        const float *hmask, int n, const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 4 * H;
    mask_tmp mt = mask_temps(scratch, xmask, hmask, n, G, F, H);
    float *zz = z ? z : a;
    float *tc = scratch;   /* (H): act(c) of one row */
    input_products(zz, x, w_ih, b_ih, b_hh, xmask, mt.ws, n, T, F, G, H);
    for (int s = 0; s < T; s++) {
        int t = step_time(g, s), tp = s > 0 ? step_time(g, s - 1) : -1;
        float *zt = zz + (size_t)t * G;   /* (n, G), row stride T G */
        if (s > 0)
            recurrent_products(zt, T * G, h + (size_t)tp * H, T * H, w_hh, 0, 4, hmask, 4, n, H, 1.0f, mt.hm);
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
                         const float *w_hh, const float *xmask, const float *hmask, int n, const seqrt_rnn *g,
                         float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 4 * H;
    mask_tmp mt = mask_temps(scratch, xmask, hmask, n, G, F, H);
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
            recurrent_state_grads(dh, z + (size_t)t * G, T * G, w_hh, 0, 4, hmask, 4, n, H, 0.0f, mt.hm);
    }
    column_sums(db_ih, z, (long)n * T, G);
    input_grads(dx, dw_ih, z, x, w_ih, xmask, mt.ws, mt.tw, n, T, F, G, H);
    recurrent_weight_grads(dw_hh, z, 0, G, h, n, g, G, 0.0f, hmask, mt.tw);
}

/* ---------------------------------------------------------------- GRU */

SEQRT_DISPATCH
void seqrt_gru_forward(float *y, float *z, float *a, float *h, float *hn, const float *x, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh, const float *xmask,
                       const float *hmask, int n, const seqrt_rnn *g, float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 3 * H;
    mask_tmp mt = mask_temps(scratch, xmask, hmask, n, G, F, H);
    float *zz = z ? z : a;
    float *hz = scratch;   /* (n, G): h_prev w_hh^T (+ b_hh) of one step */
    /* reset_after: b_hh's n part sits inside r * (...), so it is not added here */
    input_products(zz, x, w_ih, b_ih, NULL, xmask, mt.ws, n, T, F, G, H);
    for (int s = 0; s < T; s++) {
        int t = step_time(g, s), tp = s > 0 ? step_time(g, s - 1) : -1;
        const float *hp0 = tp >= 0 ? h + (size_t)tp * H : NULL;   /* (n, H), row stride T H */
        if (g->reset_after) {
            if (hp0)
                recurrent_products(hz, G, hp0, T * H, w_hh, 0, 3, hmask, 3, n, H, 0.0f, mt.hm);
            else
                memset(hz, 0, sizeof(float) * n * G);
        } else if (hp0) {
            /* r and z parts straight into the step's pre-activations */
            recurrent_products(zz + (size_t)t * G, T * G, hp0, T * H, w_hh, 0, 2, hmask, 3, n, H, 1.0f, mt.hm);
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
                const float *mn = hmask ? hmask + ((size_t)b * 3 + 2) * H : NULL;
                for (int j = 0; j < H; j++)                                    /* kept: r * h_prev (* mask n) */
                    hnr[j] = hp ? ar[j] * (mn ? hp[j] * mn[j] : hp[j]) : 0.0f;
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
                        const float *w_hh, const float *xmask, const float *hmask, int n, const seqrt_rnn *g,
                        float *scratch)
{
    int T = g->T, F = g->F, H = g->H, G = 3 * H;
    mask_tmp mt = mask_temps(scratch, xmask, hmask, n, G, F, H);
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
                const float *mn = hmask ? hmask + ((size_t)b * 3 + 2) * H : NULL;
                for (int j = 0; j < H; j++) {
                    float hm = hp ? (mn ? hp[j] * mn[j] : hp[j]) : 0.0f;
                    da[j] = drh[j] * hm;                                /* d r */
                    dpr[j] += mn ? drh[j] * ar[j] * mn[j] : drh[j] * ar[j];
                }
                seqrt_act_row_backward(g->rec_act, zr, da, zr, ar, H);
            }
            memcpy(dh, dhp, sizeof(float) * n * H);
            if (s > 0)
                recurrent_state_grads(dh, z + (size_t)t * G, T * G, w_hh, 0, 2, hmask, 3, n, H, 1.0f, mt.hm);
        } else {
            memcpy(dh, dhp, sizeof(float) * n * H);
            if (s > 0)
                recurrent_state_grads(dh, a + (size_t)t * G, T * G, w_hh, 0, 3, hmask, 3, n, H, 1.0f, mt.hm);
        }
    }
    column_sums(db_ih, z, (long)n * T, G);
    input_grads(dx, dw_ih, z, x, w_ih, xmask, mt.ws, mt.tw, n, T, F, G, H);
    if (g->reset_after) {
        column_sums(db_hh, a, (long)n * T, G);
        recurrent_weight_grads(dw_hh, a, 0, G, h, n, g, G, 0.0f, hmask, mt.tw);
    } else {
        /* r, z rows from the previous states; n rows from r * h_prev (0 at the first step) */
        recurrent_weight_grads(dw_hh, z, 0, 2 * H, h, n, g, G, 0.0f, hmask, mt.tw);
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
