/*
 * bake_write.c - the writer of the baked build: the folded stages of
 * bake_plan.c as NAME_infer.h and NAME_infer.c (and NAME_infer.bin).
 *
 * The output needs only libm: no runtime, no BLAS, no malloc, no global
 * mutable state. NAME_predict_in works a block of NAME_INFER_BLOCK samples
 * at a time in an arena of NAME_INFER_ARENA_FLOATS, that many times a size
 * per sample planned exactly (plan_arena: a stage that cannot work in place
 * reads one end of the arena and writes the other, one that can writes
 * over its input), which the caller provides; NAME_predict_with keeps it
 * on its stack. The block shrinks for wide models so that the arena stays
 * within BAKED_ARENA_BUDGET.
 *
 * An affine stage is a small GEMM in a function of its own. Its weights
 * are transposed into panels of 16 outputs, each (in, 16) row-major, so a
 * tile reads them contiguously, input after input. Tiles of 8 rows by
 * SEQC_LANES outputs (the vector width the C compiler targets, chosen by
 * the preprocessor) accumulate in local arrays the compiler keeps in vector
 * registers, each weight vector loaded once for 8 rows; the output tiles
 * run outermost so that the panel they read stays in cache across the
 * block's rows. Rows left over (and batch 1) take a one-row loop over the
 * panels. Each output sums its bias, then its terms in input order,
 * whatever the path or the vector width: a batch and its rows one at a
 * time give the same bits. An elementwise activation after an affine stage
 * is applied as the tile is stored, not in a pass of its own.
 *
 * A convolution loops, sample by sample, over output
 * pixels and the taps inside the input, with the weights as (kh, kw,
 * c / groups, oc) so that its inner loop runs over output channels the
 * same way; pooling, padding and upsampling copy whole pixels. Activations are the formulas of runtime/seqrt_acts.def, as text,
 * with the helper blocks of runtime/act_math.h they call copied in: the
 * same text the runtime compiles. Weights print as the shortest decimal
 * that reads back as the same float. Past BAKED_MAX_FLOATS weights they go
 * to NAME_infer.bin with a generated loader instead of into the source.
 */
#include <stdlib.h>
#include <string.h>

#include "seqc.h"
#include "bake.h"

/* 1 Mi floats (4 MiB): beyond this, C sources full of numbers compile
 * slowly and bloat, so the weights go to a .bin file. */
#define BAKED_MAX_FLOATS (1L << 20)

/* Samples per block: up to BAKED_BLOCK, halved while the arena of a block
 * would exceed BAKED_ARENA_BUDGET bytes. */
#define BAKED_BLOCK 64
#define BAKED_ARENA_BUDGET (128L * 1024)
/* Rows of a register tile of an affine stage. */
#define BAKED_TILE_ROWS 8
/* Outputs of a panel of an affine stage's weights: the widest SEQC_LANES,
 * which every SEQC_LANES divides. */
#define BAKED_PANEL 16


/* The formula text of each activation: the expression F of seqrt_acts.def,
 * or the name of the row function. */
static const char *const act_formula[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) #F,
#define ACT_ROW(id, name, flags, FR, BR, desc) #FR,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};
static const char *const act_desc[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) desc,
#define ACT_ROW(id, name, flags, FR, BR, desc) desc,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};
static const char *const act_pnames[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) pn,
#define ACT_ROW(id, name, flags, FR, BR, desc) "",
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

typedef struct {
    Bake *b;
    const Model *m;
    const char *p, *P;
    Act acts[64];
    const char *act_fn[64];
    int nacts;
    long block;   /* samples per block */
} Writer;

static int taps(const Stage *st)
{
    return st->win.k[0] * (st->win.rank == 2 ? st->win.k[1] : 1);
}

static long stage_weights(const Stage *st)
{
    switch (st->kind) {
    case ST_AFFINE:
        return (long)shape_last(&st->in) * shape_last(&st->out) + shape_last(&st->out);
    case ST_SCALE:
    case ST_LAYERNORM:
        return 2L * shape_last(&st->out);
    case ST_PRELU:
        return shape_size(&st->adims);
    case ST_CONV:
        return (long)shape_last(&st->out) * (shape_last(&st->in) / st->groups) * taps(st) + shape_last(&st->out);
    case ST_ACT:
    case ST_POOL:
    case ST_SHIFT:
    case ST_UPSAMPLE:
        return 0;
    case ST_EMBED:
        return (long)st->top * st->left;
    case ST_RNN: {
        long G = (long)st->gates * st->units;
        return (st->bidir + 1) * (G * (shape_last(&st->in) + st->units) + 2 * G);
    }
    }
    ir_internal_error("a baked stage of no known kind");
}

/* m (rows, cols) -> (cols, rows). */
static const double *transpose(const double *m, long rows, long cols)
{
    double *t = bake_alloc(rows * cols);
    for (long r = 0; r < rows; r++)
        for (long k = 0; k < cols; k++)
            t[k * rows + r] = m[r * cols + k];
    return t;
}

/* w (out, in) -> the layout the generated loops read: panels of
 * BAKED_PANEL outputs, panel p (outputs P p .. P p + width - 1, width P
 * but for the last) stored (in, width) row-major from offset P p in. A
 * tile then reads its weights contiguously, input after input. */
static const double *transposed(const Stage *st)
{
    int in = shape_last(&st->in), out = shape_last(&st->out);
    double *t = bake_alloc((long)in * out);
    for (int p = 0; p < out; p += BAKED_PANEL) {
        int width = out - p < BAKED_PANEL ? out - p : BAKED_PANEL;
        for (int k = 0; k < in; k++)
            for (int j = 0; j < width; j++)
                t[(long)p * in + (long)k * width + j] = st->w[(long)(p + j) * in + k];
    }
    return t;
}

/* A convolution's w (oc, cg, kh, kw) -> (kh, kw, cg, oc): the generated
 * loops run over the output channels innermost, contiguous. */
static const double *conv_taps(const Stage *st)
{
    int oc = shape_last(&st->out), cg = shape_last(&st->in) / st->groups, kk = taps(st);
    double *t = bake_alloc((long)oc * cg * kk);
    for (int o = 0; o < oc; o++)
        for (int c = 0; c < cg; c++)
            for (int k = 0; k < kk; k++)
                t[((long)k * cg + c) * oc + o] = st->w[((long)o * cg + c) * kk + k];
    return t;
}

/* The most weight arrays a stage has (a Bidirectional recurrent layer). */
#define STAGE_ARRAYS 8

/* The weight arrays of a stage, in struct order. */
static int stage_arrays(const Stage *st, const double **v, long *n, const char **name)
{
    int c = shape_last(&st->out);
    switch (st->kind) {
    case ST_EMBED:
        v[0] = st->w, n[0] = (long)st->top * st->left, name[0] = "table";
        return 1;
    case ST_RNN: {
        /* the weights transposed, (F, G) and (H, G): the loops run over gates innermost */
        long F = shape_last(&st->in), H = st->units, G = (long)st->gates * H;
        static const char *const names[] = {"wi", "wh", "bi", "bh", "wi_rev", "wh_rev", "bi_rev", "bh_rev"};
        for (int d = 0; d <= st->bidir; d++) {
            v[4 * d] = transpose(st->rw[4 * d], G, F), n[4 * d] = G * F;
            v[4 * d + 1] = transpose(st->rw[4 * d + 1], G, H), n[4 * d + 1] = G * H;
            v[4 * d + 2] = st->rw[4 * d + 2], n[4 * d + 2] = G;
            v[4 * d + 3] = st->rw[4 * d + 3], n[4 * d + 3] = G;
            for (int k = 0; k < 4; k++)
                name[4 * d + k] = names[4 * d + k];
        }
        return 4 * (st->bidir + 1);
    }
    case ST_AFFINE:
        v[0] = transposed(st), n[0] = (long)shape_last(&st->in) * c, name[0] = "w";
        v[1] = st->b, n[1] = c, name[1] = "b";
        return 2;
    case ST_SCALE:
    case ST_LAYERNORM:
        v[0] = st->s, n[0] = c, name[0] = "s";
        v[1] = st->t, n[1] = c, name[1] = "t";
        return 2;
    case ST_PRELU:
        v[0] = st->s, n[0] = shape_size(&st->adims), name[0] = "alpha";
        return 1;
    case ST_CONV:
        v[0] = conv_taps(st), n[0] = stage_weights(st) - c, name[0] = "w";
        v[1] = st->b, n[1] = c, name[1] = "b";
        return 2;
    case ST_ACT:
    case ST_POOL:
    case ST_SHIFT:
    case ST_UPSAMPLE:
        return 0;
    }
    ir_internal_error("a baked stage of no known kind");
}

/* ---------------------------------------------------------------- activations */

static const char *act_function(Writer *w, Act a)
{
    for (int i = 0; i < w->nacts; i++)
        if (w->acts[i].kind == a.kind && w->acts[i].p[0] == a.p[0] && w->acts[i].p[1] == a.p[1] &&
            w->acts[i].p[2] == a.p[2])
            return w->act_fn[i];
    if (w->nacts == 64)
        ir_internal_error("more than 64 distinct activations in one model");
    int variants = 0;
    for (int i = 0; i < w->nacts; i++)
        variants += w->acts[i].kind == a.kind;
    w->acts[w->nacts] = a;
    w->act_fn[w->nacts] = variants ? arena_printf("act_%s_%d", seqrt_act_name(a.kind), variants + 1)
                                   : arena_printf("act_%s", seqrt_act_name(a.kind));
    return w->act_fn[w->nacts++];
}

/* The helper blocks of act_math.h ("@block NAME" ... up to the next block)
 * that the text mentions, and the blocks those mention, in file order. */
static void copy_helpers(Buf *out, const char *text)
{
    const char *blocks[64], *ends[64], *names[64];
    int nb = 0;
    for (const char *s = strstr(seqc_act_math_text, "@block "); s && nb < 64; s = strstr(s + 1, "@block ")) {
        const char *n = s + 7, *e = n;
        while (*e && *e != ' ' && *e != '*' && *e != '\n')
            e++;
        names[nb] = arena_strndup(n, (size_t)(e - n));
        blocks[nb] = strchr(s, '\n') + 1;
        nb++;
    }
    for (int i = 0; i < nb; i++) {
        const char *next = i + 1 < nb ? strstr(blocks[i], "/* @block ") : strstr(blocks[i], "/* @end");
        ends[i] = next ? next : blocks[i] + strlen(blocks[i]);
    }
    int used[64] = {0}, changed = 1;
    for (int i = 0; i < nb; i++)
        used[i] = strstr(text, names[i]) != NULL;
    while (changed) {
        changed = 0;
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < nb; j++)
                if (used[j] && !used[i] && j != i) {
                    char *body = arena_strndup(blocks[j], (size_t)(ends[j] - blocks[j]));
                    if (strstr(body, names[i]))
                        used[i] = changed = 1;
                }
    }
    for (int i = 0; i < nb; i++)
        if (used[i])
            buf_printf(out, "%.*s", (int)(ends[i] - blocks[i]), blocks[i]);
}

static void emit_act_functions(Buf *c, const Writer *w)
{
    Buf text = {0};
    for (int i = 0; i < w->nacts; i++)
        buf_printf(&text, "%s\n", act_formula[w->acts[i].kind]);
    if (text.len) {
        buf_printf(c, "\n/* Helpers of the activations (runtime/act_math.h). */\n");
        copy_helpers(c, text.data);
    }
    free(text.data);
    for (int i = 0; i < w->nacts; i++) {
        Act a = w->acts[i];
        if (act_rowwise(a))
            continue;   /* a helper function of act_math.h, called as it is */
        buf_printf(c, "\n/* %s: %s */\n", act_str(a), act_desc[a.kind]);
        buf_printf(c, "static float %s(float x)\n{\n", w->act_fn[i]);
        const char *names = act_pnames[a.kind];
        for (int k = 0; k < seqrt_act_nparams(a.kind); k++) {
            const char *end = strchr(names, ',');
            int len = end ? (int)(end - names) : (int)strlen(names);
            buf_printf(c, "    const float P%d = %s; /* %.*s */\n", k, float_literal(a.p[k]), len, names);
            names += len + (end != NULL);
        }
        buf_printf(c, "    return %s;\n}\n", act_formula[a.kind]);
    }
}

/* ---------------------------------------------------------------- stages */

static void print_array(Buf *b, const double *v, long n)
{
    for (long i = 0; i < n; i++) {
        if (i % 8 == 0)
            buf_printf(b, "%s        ", i ? ",\n" : "");
        else
            buf_printf(b, ", ");
        buf_printf(b, "%s", float_literal(v[i]));
    }
    buf_printf(b, "\n");
}

/* "m" (the samples of the block) times a count per sample. */
static const char *per_block(long count)
{
    return count == 1 ? "m" : arena_printf("m * %ld", count);
}

/* Opens a loop over the rows of a stage's last axis in the block (rows per
 * sample times m): the row's input and output pointers are xr and yr. */
static void rows_begin(Buf *c, long rows, int in, int out, const char *src, const char *dst)
{
    buf_printf(c, "        for (long q = 0; q < %s; q++) {\n            const float *xr = %s + q * %d;\n"
                  "            float *yr = %s + q * %d;\n", per_block(rows), src, in, dst, out);
}

/* One register tile of an affine stage: BAKED_TILE_ROWS rows from q, `width`
 * outputs from o0 (width: a constant expression of at most SEQC_LANES),
 * their weights from `wp`, `stride` floats from one input to the next. */
static void emit_tile(Buf *c, int in, int out, const char *wp, int stride, const char *width, const char *act)
{
    const int R = BAKED_TILE_ROWS;
    buf_printf(c, "        for (long q = 0; q < q%d; q += %d) {\n            const float *xq = x + q * %d;\n"
                  "            const float *wp = %s;\n            float ", R, R, in, wp);
    for (int r = 0; r < R; r++)
        buf_printf(c, "c%d[SEQC_LANES]%s", r, r + 1 == R ? ";\n" : r % 4 == 3 ? ",\n                  " : ", ");
    buf_printf(c, "            for (int o = 0; o < %s; o++)\n                ", width);
    for (int r = 0; r < R; r++)
        buf_printf(c, "c%d[o] = ", r);
    buf_printf(c, "bias[o0 + o];\n            for (int k = 0; k < %d; k++) {\n"
                  "                const float *wk = wp + k * %d;\n                const float ", in, stride);
    for (int r = 0; r < R; r++)
        buf_printf(c, "%sx%d = xq[%s%sk]", r ? (r % 4 ? ", " : ",\n                            ") : "", r,
                   r ? arena_printf("%d", r * in) : "", r ? " + " : "");
    buf_printf(c, ";\n                for (int o = 0; o < %s; o++) {\n", width);
    for (int r = 0; r < R; r++)
        buf_printf(c, "                    c%d[o] = SEQC_MADD(wk[o], x%d, c%d[o]);\n", r, r, r);
    buf_printf(c, "                }\n            }\n            float *yq = y + q * %d + o0;\n"
                  "            for (int o = 0; o < %s; o++) {\n", out, width);
    for (int r = 0; r < R; r++) {
        const char *v = arena_printf("c%d[o]", r);
        buf_printf(c, "                yq[%s%so] = %s;\n", r ? arena_printf("%d", r * out) : "", r ? " + " : "",
                   act ? arena_printf("%s(%s)", act, v) : v);
    }
    buf_printf(c, "            }\n        }\n");
}

/* Affine stage i as a function: y (rows, out) = act(x (rows, in) w + b),
 * w in panels of BAKED_PANEL outputs (transposed()). */
static void emit_affine_fn(Buf *c, int i, const Stage *st, const char *act, const char *actname)
{
    int in = shape_last(&st->in), out = shape_last(&st->out);
    const int R = BAKED_TILE_ROWS, P = BAKED_PANEL;
    int full = out / P * P, last = out % P;   /* outputs in whole panels; the last panel's width */
    const char *layout = full ? arena_printf("w: (%d, %d) in panels of %d outputs, each\n * (%d, %d)%s", in, out, P, in, P,
                                             last ? arena_printf(", the last (%d, %d)", in, last) : "")
                              : arena_printf("w: (%d, %d)", in, out);
    buf_printf(c, "\n/* s%d: %s%s%s.\n * y (rows, %d) = %sx (rows, %d) w + b%s, %s.\n"
                  " * Tiles of %d rows by SEQC_LANES outputs, then the rows left one at a time. */\n",
               i, st->what, act ? "; then " : "", act ? actname : "", out, act ? "act(" : "", in, act ? ")" : "",
               layout, R);
    buf_printf(c, "static void s%d_affine(const float *w, const float *bias, const float *x, float *y, long rows)\n{\n"
                  "    const long q%d = rows - rows %% %d; /* rows in whole tiles */\n", i, R, R);
    if (full) {   /* SEQC_LANES divides the panel width */
        buf_printf(c, "    for (int o0 = 0; o0 < %d; o0 += SEQC_LANES)\n", full);
        emit_tile(c, in, out, arena_printf("w + (o0 - o0 %% %d) * %d + o0 %% %d", P, in, P), P, "SEQC_LANES", act);
    }
    if (last) {
        const char *wp = full ? arena_printf("w + %ld + (o0 - %d)", (long)full * in, full) : "w + o0";
        buf_printf(c, "    int o0 = %d;\n    for (; o0 + SEQC_LANES <= %d; o0 += SEQC_LANES)\n", full, out);
        emit_tile(c, in, out, wp, last, "SEQC_LANES", act);
        buf_printf(c, "    if (o0 < %d)\n", out);
        emit_tile(c, in, out, wp, last, arena_printf("%d %% SEQC_LANES", last), act);
    }
    buf_printf(c, "    for (long q = q%d; q < rows; q++) {\n        const float *xr = x + q * %d;\n"
                  "        float *yr = y + q * %d;\n", R, in, out);
    for (int part = 0; part < 2; part++) {   /* the whole panels, then the last one */
        int width = part ? last : P;
        if (!(part ? last : full))
            continue;
        const char *o = part ? (full ? arena_printf("%d + o", full) : "o") : "p + o";
        if (part)
            buf_printf(c, "        {\n            const float *wp = w%s;\n",
                       full ? arena_printf(" + %ld", (long)full * in) : "");
        else
            buf_printf(c, "        for (int p = 0; p < %d; p += %d) {\n            const float *wp = w + p * %d;\n",
                       full, P, in);
        buf_printf(c, "            float acc[%d];\n            for (int o = 0; o < %d; o++)\n"
                      "                acc[o] = bias[%s];\n            for (int k = 0; k < %d; k++) {\n"
                      "                const float xk = xr[k];\n                for (int o = 0; o < %d; o++)\n"
                      "                    acc[o] = SEQC_MADD(wp[k * %d + o], xk, acc[o]);\n            }\n"
                      "            for (int o = 0; o < %d; o++)\n                yr[%s] = %s;\n        }\n",
                   width, width, o, in, width, width, width, o, act ? arena_printf("%s(acc[o])", act) : "acc[o]");
    }
    buf_printf(c, "    }\n}\n");
}

/* A channels-last sample as (h, w, c): [steps, c] is h = 1. */
static void hwc(const Shape *s, int *h, int *w, int *c)
{
    *h = s->rank == 3 ? s->dim[0] : 1;
    *w = s->dim[s->rank - 2];
    *c = s->dim[s->rank - 1];
}

/* yr[o] = act(yr[o]) for o < count, when the stage has an activation
 * folded in (elementwise only). */
static void act_after(Buf *c, Writer *w, const Stage *st, int count, const char *indent)
{
    if (act_is_linear(st->act))
        return;
    buf_printf(c, "%sfor (int o = 0; o < %d; o++)\n%s    yr[o] = %s(yr[o]);\n", indent, count, indent,
               act_function(w, st->act));
}

/* The loops over the output pixels of a window stage (yr, after `init`)
 * and over the taps of each that fall inside the input (xr). */
static void window_begin(Buf *c, const Stage *st, const char *src, const char *dst, const char *init)
{
    const Window *g = &st->win;
    int ih, iw, ic, oh, ow, oc, r2 = g->rank == 2;
    hwc(&st->in, &ih, &iw, &ic);
    hwc(&st->out, &oh, &ow, &oc);
    buf_printf(c, "        for (int oy = 0; oy < %d; oy++)\n"
                  "            for (int ox = 0; ox < %d; ox++) {\n"
                  "                float *yr = %s + (oy * %d + ox) * %d;\n%s", oh, ow, dst, ow, oc, init);
    buf_printf(c, "                for (int ky = 0; ky < %d; ky++) {\n"
                  "                    const int iy = oy * %d - %d + ky * %d;\n"
                  "                    if (iy < 0 || iy >= %d)\n                        continue;\n"
                  "                    for (int kx = 0; kx < %d; kx++) {\n"
                  "                        const int ix = ox * %d - %d + kx * %d;\n"
                  "                        if (ix < 0 || ix >= %d)\n                            continue;\n"
                  "                        const float *xr = %s + (iy * %d + ix) * %d;\n",
               r2 ? g->k[0] : 1, r2 ? g->s[0] : 1, r2 ? g->before[0] : 0, r2 ? g->d[0] : 1, ih, g->k[r2], g->s[r2],
               g->before[r2], g->d[r2], iw, src, iw, ic);
}

#define TAP "                        "   /* the indentation inside the tap loops */

static void emit_conv_pool(Buf *c, Writer *w, int i, const Stage *st, const char *src, const char *dst)
{
    int ih, iw, ic, oh, ow, oc;
    hwc(&st->in, &ih, &iw, &ic);
    hwc(&st->out, &oh, &ow, &oc);
    if (st->kind == ST_CONV) {
        int g = st->groups, cg = ic / g, ocg = oc / g;
        /* the sums go to a local array, which the compiler knows aliases
         * neither the weights nor the input: the tap loops vectorize at -O2 */
        window_begin(c, st, src, dst, arena_printf("                float acc[%d];\n"
                                                   "                for (int o = 0; o < %d; o++)\n"
                                                   "                    acc[o] = w->s%d_b[o];\n", oc, oc, i));
        buf_printf(c, TAP "const float *wk = w->s%d_w + (ky * %d + kx) * %d;\n", i,
                   st->win.rank == 2 ? st->win.k[1] : st->win.k[0], cg * oc);
        if (g == 1)
            buf_printf(c, TAP "for (int ci = 0; ci < %d; ci++) {\n" TAP "    const float xc = xr[ci];\n"
                          TAP "    const float *wc = wk + ci * %d;\n" TAP "    for (int o = 0; o < %d; o++)\n"
                          TAP "        acc[o] += wc[o] * xc;\n" TAP "}\n", ic, oc, oc);
        else if (cg == 1 && ocg == 1)
            buf_printf(c, TAP "for (int o = 0; o < %d; o++)\n" TAP "    acc[o] += wk[o] * xr[o];\n", oc);
        else if (cg == 1)
            buf_printf(c, TAP "for (int o = 0; o < %d; o++)\n" TAP "    acc[o] += wk[o] * xr[o / %d];\n", oc, ocg);
        else
            buf_printf(c, TAP "for (int gi = 0; gi < %d; gi++)\n" TAP "    for (int ci = 0; ci < %d; ci++) {\n"
                          TAP "        const float xc = xr[gi * %d + ci];\n"
                          TAP "        const float *wc = wk + ci * %d + gi * %d;\n"
                          TAP "        float *yg = acc + gi * %d;\n"
                          TAP "        for (int o = 0; o < %d; o++)\n" TAP "            yg[o] += wc[o] * xc;\n"
                          TAP "    }\n", g, cg, cg, oc, ocg, ocg, ocg);
        buf_printf(c, "                    }\n                }\n"
                      "                for (int o = 0; o < %d; o++)\n                    yr[o] = acc[o];\n", oc);
    } else if (st->pool_max) {
        window_begin(c, st, src, dst, arena_printf("                for (int o = 0; o < %d; o++)\n"
                                                   "                    yr[o] = -HUGE_VALF;\n", oc));
        buf_printf(c, TAP "for (int o = 0; o < %d; o++)\n" TAP "    yr[o] = xr[o] > yr[o] ? xr[o] : yr[o];\n", oc);
        buf_printf(c, "                    }\n                }\n");
    } else {
        window_begin(c, st, src, dst, arena_printf("                int count = 0;\n"
                                                   "                for (int o = 0; o < %d; o++)\n"
                                                   "                    yr[o] = 0.0f;\n", oc));
        buf_printf(c, TAP "count++;\n" TAP "for (int o = 0; o < %d; o++)\n" TAP "    yr[o] += xr[o];\n", oc);
        buf_printf(c, "                    }\n                }\n"
                      "                const float inv = 1.0f / (float)count;\n"
                      "                for (int o = 0; o < %d; o++)\n                    yr[o] *= inv;\n", oc);
    }
    act_after(c, w, st, oc, "                ");
    buf_printf(c, "            }\n");
}

/* One sample of a window stage, from src to dst. */
static void emit_window_stage(Buf *c, Writer *w, int i, const Stage *st, const char *src, const char *dst)
{
    switch (st->kind) {
    case ST_CONV:
    case ST_POOL:
        emit_conv_pool(c, w, i, st, src, dst);
        return;
    case ST_SHIFT:
    case ST_UPSAMPLE: {
        int ih, iw, ic, oh, ow, oc;
        hwc(&st->in, &ih, &iw, &ic);
        hwc(&st->out, &oh, &ow, &oc);
        buf_printf(c, "        for (int oy = 0; oy < %d; oy++)\n            for (int ox = 0; ox < %d; ox++) {\n"
                      "                float *yr = %s + (oy * %d + ox) * %d;\n", oh, ow, dst, ow, oc);
        if (st->kind == ST_SHIFT)
            buf_printf(c, "                const int iy = oy %c %d, ix = ox %c %d;\n", st->top < 0 ? '+' : '-',
                       st->top < 0 ? -st->top : st->top, st->left < 0 ? '+' : '-', st->left < 0 ? -st->left : st->left);
        else
            buf_printf(c, "                const int iy = oy / %d, ix = ox / %d;\n", st->top, st->left);
        if (st->kind == ST_SHIFT)
            buf_printf(c, "                const int inside = iy >= 0 && iy < %d && ix >= 0 && ix < %d;\n"
                          "                for (int o = 0; o < %d; o++)\n"
                          "                    yr[o] = inside ? %s[(iy * %d + ix) * %d + o] : 0.0f;\n", ih, iw, oc,
                       src, iw, ic);
        else
            buf_printf(c, "                for (int o = 0; o < %d; o++)\n"
                          "                    yr[o] = %s[(iy * %d + ix) * %d + o];\n", oc, src, iw, ic);
        buf_printf(c, "            }\n");
        return;
    }
    case ST_AFFINE:
    case ST_SCALE:
    case ST_ACT:
    case ST_LAYERNORM:
    case ST_PRELU:
    case ST_EMBED:
    case ST_RNN:
        break;
    }
    ir_internal_error("not a window stage");
}

/* Copies text into c with every line indented by `indent` more. */
static void indented(Buf *c, const Buf *text, const char *indent)
{
    for (size_t k = 0; k < text->len;) {
        const char *line = text->data + k, *nl = memchr(line, '\n', text->len - k);
        size_t len = nl ? (size_t)(nl - line) + 1 : text->len - k;
        buf_printf(c, "%s%.*s", len > 1 ? indent : "", (int)len, line);
        k += len;
    }
}

static void emit_rnn_stage(Buf *c, Writer *w, int i, const Stage *st, const char *src, const char *dst,
                           const char *scr);

/* Stage i's code in the block loop; an affine stage calls its function
 * (with the activation stage after it fused when `fused`), the window
 * stages (convolution, pooling, padding, upsampling) and the recurrent
 * ones run sample by sample (a recurrent stage's working memory at scr). */
static void emit_stage(Buf *c, Writer *w, int i, const Stage *st, const char *src, const char *dst, int fused,
                       const char *scr)
{
    int out = shape_last(&st->out);
    long rows = shape_lead(&st->out), size = shape_size(&st->out);
    buf_printf(c, "\n        /* s%d: %s */\n", i, st->what);
    switch (st->kind) {
    case ST_AFFINE:
        if (fused)
            buf_printf(c, "        /* and s%d: %s */\n", i + 1, (st + 1)->what);
        buf_printf(c, "        s%d_affine(w->s%d_w, w->s%d_b, %s, %s, %s);\n", i, i, i, src, dst, per_block(rows));
        return;
    case ST_SCALE:
        rows_begin(c, rows, out, out, src, dst);
        buf_printf(c, "            for (int o = 0; o < %d; o++)\n"
                      "                yr[o] = xr[o] * w->s%d_s[o] + w->s%d_t[o];\n        }\n", out, i, i);
        return;
    case ST_LAYERNORM:
        rows_begin(c, rows, out, out, src, dst);
        buf_printf(c, "            double mean = 0.0, var = 0.0;\n"
                      "            for (int o = 0; o < %d; o++)\n                mean += xr[o];\n"
                      "            mean /= %d;\n            for (int o = 0; o < %d; o++)\n"
                      "                var += (xr[o] - mean) * (xr[o] - mean);\n            var /= %d;\n"
                      "            float inv = (float)(1.0 / sqrt(var + %s));\n"
                      "            for (int o = 0; o < %d; o++)\n"
                      "                yr[o] = ((float)(xr[o] - mean) * inv) * w->s%d_s[o] + w->s%d_t[o];\n        }\n",
                   out, out, out, out, float_literal(st->eps), out, i, i);
        return;
    case ST_ACT:
        if (act_rowwise(st->act)) {
            rows_begin(c, rows, out, out, src, dst);
            act_function(w, st->act);
            buf_printf(c, "            %s(yr, xr, %d); /* %s */\n        }\n", act_formula[st->act.kind], out,
                       act_desc[st->act.kind]);
        } else {
            buf_printf(c, "        for (long o = 0; o < %s; o++)\n            %s[o] = %s(%s[o]);\n", per_block(size),
                       dst, act_function(w, st->act), src);
        }
        return;
    case ST_PRELU: {
        /* alpha's index: the coordinates along the axes it does not share */
        const char *idx = "o";
        if (!shape_eq(&st->adims, &st->out)) {
            idx = "0";
            long stride = 1, astride = 1;
            for (int k = st->out.rank - 1; k >= 0; k--) {
                if (st->adims.dim[k] != 1)
                    idx = arena_printf("%s + o / %ld %% %d * %ld", idx, stride, st->out.dim[k], astride);
                stride *= st->out.dim[k];
                astride *= st->adims.dim[k];
            }
        }
        buf_printf(c, "        for (long e = 0; e < %s; e++) {\n            const long o = e %% %ld;\n"
                      "            const float alpha = w->s%d_alpha[%s];\n"
                      "            %s[e] = %s[e] > 0.0f ? %s[e] : alpha * %s[e];\n        }\n",
                   per_block(size), size, i, idx, dst, src, src, src);
        return;
    }
    case ST_CONV:
    case ST_POOL:
    case ST_SHIFT:
    case ST_UPSAMPLE: {
        Buf one = {0};
        emit_window_stage(&one, w, i, st, "xs", "ys");
        buf_printf(c, "        for (long q = 0; q < m; q++) {\n            const float *xs = %s + q * %ld;\n"
                      "            float *ys = %s + q * %ld;\n", src, shape_size(&st->in), dst, size);
        indented(c, &one, "    ");
        buf_printf(c, "        }\n");
        free(one.data);
        return;
    }
    case ST_EMBED:
        /* an id that is not an integer in [0, rows) gives zeros (the table is never read outside) */
        buf_printf(c, "        for (long q = 0; q < %s; q++) {\n            const float v = %s[q];\n"
                      "            const int ok = v >= 0.0f && v < %d.0f && v == (float)(int)v;\n"
                      "            const float *row = w->s%d_table + (ok ? (int)v : 0) * %d;\n"
                      "            for (int o = 0; o < %d; o++)\n"
                      "                %s[q * %d + o] = ok ? row[o] : 0.0f;\n        }\n",
                   per_block(shape_size(&st->in)), src, st->top, i, st->left, st->left, dst, st->left);
        return;
    case ST_RNN: {
        Buf one = {0};
        emit_rnn_stage(&one, w, i, st, "xs", "ys", scr);
        buf_printf(c, "        for (long q = 0; q < m; q++) {\n            const float *xs = %s + q * %ld;\n"
                      "            float *ys = %s + q * %ld;\n", src, shape_size(&st->in), dst, size);
        indented(c, &one, "    ");
        buf_printf(c, "        }\n");
        free(one.data);
        return;
    }
    }
    ir_internal_error("a baked stage of no known kind");
}

/* A recurrent stage: per direction, h and c from zero, then for each step
 * gx = b_ih + x_t W_ih^T and gh = b_hh + h W_hh^T (weights transposed: the
 * loops run over the gates innermost), the cell's update (runtime/rnn.c's
 * formulas), and the step's state written where the output (or the merge
 * of the two directions) wants it. Working memory: h, c, gx, gh in scr. */
static void emit_rnn_stage(Buf *c, Writer *w, int i, const Stage *st, const char *src, const char *dst,
                           const char *scr)
{
    int T = st->in.dim[0], F = shape_last(&st->in), H = st->units, G = st->gates * H;
    int concat = st->bidir && st->merge == SEQRT_MERGE_CONCAT, Ho = concat ? 2 * H : H;
    const char *act = act_function(w, st->act), *rec = act_function(w, st->rec_act);
    /* restrict: the four are disjoint parts of the arena, apart from the
     * stage's input and output (plan_arena), so the gate loops vectorize */
    buf_printf(c, "        {\n            float *restrict h = %s, *restrict c = h + %d, *restrict gx = c + %d,\n"
                  "                  *restrict gh = gx + %d;\n", scr, H, H, G);
    for (int d = 0; d <= st->bidir; d++) {
        const char *sfx = d ? "_rev" : "";
        int back = d ? !st->gback : st->gback;
        /* the output position of processing step s: the step itself, or for
         * Bidirectional's copy the step flipped back into input order */
        const char *pos = !st->rseq ? "0" : d ? arena_printf("(%d - s)", T - 1) : "s";
        buf_printf(c, "            /* %s */\n", d ? "the backward copy" : st->bidir ? "the forward direction" : "");
        buf_printf(c, "            for (int j = 0; j < %d; j++)\n                h[j] = c[j] = 0.0f;\n", H);
        buf_printf(c, "            for (int s = 0; s < %d; s++) {\n", T);
        buf_printf(c, "                const float *xt = %s + %s * %d;\n", src,
                   back ? arena_printf("(%d - s)", T - 1) : "s", F);
        int ghn = st->cell == 2 && !st->reset_after ? 2 * H : G;   /* reset before: the n part later */
        buf_printf(c, "                for (int k = 0; k < %d; k++)\n                    gx[k] = w->s%d_bi%s[k];\n"
                      "                for (int f = 0; f < %d; f++) {\n"
                      "                    const float *restrict wk = w->s%d_wi%s + f * %d;\n"
                      "                    const float xf = xt[f];\n"
                      "                    for (int k = 0; k < %d; k++)\n                        gx[k] += wk[k] * xf;\n"
                      "                }\n", G, i, sfx, F, i, sfx, G, G);
        buf_printf(c, "                for (int k = 0; k < %d; k++)\n                    gh[k] = w->s%d_bh%s[k];\n"
                      "                for (int q = 0; q < %d; q++) {\n"
                      "                    const float *restrict wk = w->s%d_wh%s + q * %d;\n"
                      "                    const float hq = h[q];\n"
                      "                    for (int k = 0; k < %d; k++)\n                        gh[k] += wk[k] * hq;\n"
                      "                }\n", ghn, i, sfx, H, i, sfx, G, ghn);
        switch (st->cell) {
        case 0:
            buf_printf(c, "                for (int j = 0; j < %d; j++)\n"
                          "                    h[j] = %s(gx[j] + gh[j]);\n", H, act);
            break;
        case 1:
            buf_printf(c, "                for (int j = 0; j < %d; j++) {\n"
                          "                    const float ig = %s(gx[j] + gh[j]), fg = %s(gx[%d + j] + gh[%d + j]);\n"
                          "                    const float gg = %s(gx[%d + j] + gh[%d + j]), og = %s(gx[%d + j] + gh[%d + j]);\n"
                          "                    c[j] = ig * gg + fg * c[j];\n"
                          "                    h[j] = og * %s(c[j]);\n                }\n",
                       H, rec, rec, H, H, act, 2 * H, 2 * H, rec, 3 * H, 3 * H, act);
            break;
        case 2:
            if (st->reset_after)
                buf_printf(c, "                for (int j = 0; j < %d; j++) {\n"
                              "                    const float r = %s(gx[j] + gh[j]), z = %s(gx[%d + j] + gh[%d + j]);\n"
                              "                    const float nn = %s(gx[%d + j] + r * gh[%d + j]);\n"
                              "                    h[j] = (1.0f - z) * nn + z * h[j];\n                }\n",
                           H, rec, rec, H, H, act, 2 * H, 2 * H);
            else
                buf_printf(c, "                for (int j = 0; j < %d; j++) {\n"
                              "                    gx[j] = %s(gx[j] + gh[j]);               /* r */\n"
                              "                    gx[%d + j] = %s(gx[%d + j] + gh[%d + j]); /* z */\n"
                              "                    c[j] = gx[j] * h[j];                    /* r h */\n"
                              "                    gh[%d + j] = 0.0f;\n                }\n"
                              "                for (int q = 0; q < %d; q++) {\n"
                              "                    const float *restrict wk = w->s%d_wh%s + q * %d + %d;\n"
                              "                    const float rq = c[q];\n"
                              "                    for (int k = 0; k < %d; k++)\n"
                              "                        gh[%d + k] += wk[k] * rq;\n                }\n"
                              "                for (int j = 0; j < %d; j++) {\n"
                              "                    const float z = gx[%d + j], nn = %s(gx[%d + j] + gh[%d + j]);\n"
                              "                    h[j] = (1.0f - z) * nn + z * h[j];\n                }\n",
                           H, rec, H, rec, H, H, 2 * H, H, i, sfx, G, 2 * H, H, 2 * H, H, H, act, 2 * H, 2 * H);
            break;
        default:
            ir_internal_error("a recurrent stage of no known cell");
        }
        if (!st->rseq)
            buf_printf(c, "                if (s == %d) {\n", T - 1);
        else
            buf_printf(c, "                {\n");
        const char *o = arena_printf("%s + %s * %d", dst, pos, Ho);
        if (concat)
            buf_printf(c, "                    float *yo = %s + %d;\n", o, d * H);
        else
            buf_printf(c, "                    float *yo = %s;\n", o);
        const char *expr = "h[j]";
        if (d == 1 && !concat)
            expr = st->merge == SEQRT_MERGE_SUM ? "yo[j] + h[j]" : st->merge == SEQRT_MERGE_MUL ? "yo[j] * h[j]"
                                                                                              : "(yo[j] + h[j]) * 0.5f";
        buf_printf(c, "                    for (int j = 0; j < %d; j++)\n                        yo[j] = %s;\n"
                      "                }\n            }\n", H, expr);
    }
    buf_printf(c, "        }\n");
}

/* NAME_infer.bin: "SEQCWTS1", the float count as a little-endian uint64,
 * then the floats of NAME_weights in order, little-endian. */
static void emit_weights_bin(Buf *out, const Bake *b, long count)
{
    unsigned char head[16] = "SEQCWTS1";
    for (int k = 0; k < 8; k++)
        head[8 + k] = (unsigned char)((unsigned long)count >> (8 * k));
    buf_bytes(out, head, 16);
    for (int i = 0; i < b->n; i++) {
        const double *v[STAGE_ARRAYS];
        long n[STAGE_ARRAYS];
        const char *name[STAGE_ARRAYS];
        int na = stage_arrays(&b->st[i], v, n, name);
        for (int a = 0; a < na; a++)
            for (long j = 0; j < n[a]; j++) {
                float f = (float)v[a][j];
                uint32_t u;
                memcpy(&u, &f, 4);
                unsigned char bytes[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                                          (unsigned char)(u >> 24)};
                buf_bytes(out, bytes, 4);
            }
    }
}

/* ---------------------------------------------------------------- the arena */

/* Can the stage write its output over its input (elementwise, or row by
 * row reading a row before writing it)? */
static int in_place(const Stage *st)
{
    switch (st->kind) {
    case ST_EMBED:
    case ST_RNN:
        return 0;
    case ST_SCALE:
    case ST_ACT:
    case ST_LAYERNORM:
    case ST_PRELU:
        return 1;
    case ST_AFFINE:
    case ST_CONV:
    case ST_POOL:
    case ST_SHIFT:
    case ST_UPSAMPLE:
        return 0;
    }
    ir_internal_error("a baked stage of no known kind");
}

/* The activations of one sample live in one arena of floats: a stage that
 * cannot work in place reads its input at one end and writes its output at
 * the other end, so the arena must hold both, and the size is exactly the
 * largest such pair (or the largest output) plus the working memory a
 * stage needs besides (a recurrent layer's state: st->scratch, placed
 * between its input and its output, soff[i]). off[i] is where stage i
 * writes (-1: nowhere, it is skipped); the model's input x is read where
 * it is. Returns the arena's floats. */
static long plan_arena(const Bake *b, long *off, long *soff)
{
    long floats = 0;
    int in_arena = 0;
    for (int i = 0; i < b->n; i++) {
        const Stage *st = &b->st[i];
        long in = shape_size(&st->in), out = shape_size(&st->out);
        long need = (in_arena && !in_place(st) ? in + out : out) + st->scratch;
        if (need > floats)
            floats = need;
        in_arena = 1;
    }
    int low = 1;   /* where the current value is: the low end (offset 0) or the high one */
    in_arena = 0;
    for (int i = 0; i < b->n; i++) {
        const Stage *st = &b->st[i];
        if (in_arena && in_place(st)) {
            off[i] = i ? off[i - 1] : 0;
            continue;
        }
        low = in_arena ? !low : 1;
        off[i] = low ? 0 : floats - shape_size(&st->out);
        /* output low: after it (the input, if in the arena, ends the arena);
         * output high: after the input, which starts the arena */
        soff[i] = low ? shape_size(&st->out) : in_arena ? shape_size(&st->in) : 0;
        in_arena = 1;
    }
    return floats;
}

/* Where a stage writes in the arena of a block: off per sample. */
static const char *arena_at(const Writer *w, long off)
{
    return off ? arena_printf("(arena + %s_INFER_BLOCK * %ldL)", w->P, off) : "arena";
}

static void emit_header(Buf *h, const Writer *w, long nfloats, long arena, int to_bin, const char *file,
                        const char *wfile)
{
    const Model *m = w->m;
    const char *p = w->p, *P = w->P;
    buf_printf(h, "/*\n * %s_infer.h - prediction-only model '%s' with weights from %s,\n"
                  " * generated by seqc %s from %s. Do not edit.\n *\n"
                  " * Needs only libm: no runtime, no BLAS, no malloc, no global mutable\n"
                  " * state; every function is reentrant.\n */\n",
               p, p, wfile, SEQC_VERSION, file);
    buf_printf(h, "#ifndef %s_INFER_H\n#define %s_INFER_H\n\n", P, P);
    buf_printf(h, "#define %s_INFER_IN %d\n#define %s_INFER_OUT %d\n", P, m->in, P, m->out);
    buf_printf(h, "#define %s_INFER_WEIGHT_COUNT %ld\n", P, nfloats);
    buf_printf(h, "/* samples %s_predict works on at a time; defining it (1 or more) when\n"
                  " * compiling %s_infer.c trades speed for stack: the results are the same */\n"
                  "#ifndef %s_INFER_BLOCK\n#define %s_INFER_BLOCK %ld\n#endif\n", p, p, P, P, w->block);
    buf_printf(h, "/* The activations of a block of samples: %s_predict_with keeps them on its\n"
                  " * stack, %s_predict_in in the caller's arena of this many floats (planned\n"
                  " * exactly: per sample, the largest input plus output of a stage that\n"
                  " * cannot work in place). */\n", p, p);
    buf_printf(h, "#define %s_INFER_ARENA_FLOATS (%s_INFER_BLOCK * %ldL)\n"
                  "#define %s_INFER_ARENA_BYTES (%s_INFER_BLOCK * %ldL)\n\n", P, P, arena, P, P, 4 * arena);
    buf_printf(h, "typedef struct %s_weights {\n", p);
    for (int i = 0; i < w->b->n; i++) {
        const Stage *st = &w->b->st[i];
        const double *v[STAGE_ARRAYS];
        long n[STAGE_ARRAYS];
        const char *name[STAGE_ARRAYS];
        int na = stage_arrays(st, v, n, name);
        for (int a = 0; a < na; a++) {
            buf_printf(h, "    float s%d_%s[%ld];", i, name[a], n[a]);
            if (a == 0 && st->kind == ST_AFFINE)
                buf_printf(h, " /* (%d in, %d out), transposed: %s */", shape_last(&st->in), shape_last(&st->out),
                           st->what);
            else if (a == 0)
                buf_printf(h, " /* %s */", st->what);
            buf_printf(h, "\n");
        }
    }
    if (nfloats == 0)
        buf_printf(h, "    float unused;\n");
    buf_printf(h, "} %s_weights;\n\n", p);
    buf_printf(h, "/* y (n, %d) = model(x (n, %d)), row-major, any n >= 0. */\n", m->out, m->in);
    buf_printf(h, "void %s_predict_with(const %s_weights *w, const float *x, float *y, long n);\n", p, p);
    buf_printf(h, "/* The same with the activations in arena (%s_INFER_ARENA_FLOATS floats). */\n", P);
    buf_printf(h, "void %s_predict_in(const %s_weights *w, const float *x, float *y, long n, float *arena);\n", p,
               p);
    if (to_bin)
        buf_printf(h, "/* Reads %s_infer.bin (written by seqc beside this file) into *w: 0 on\n"
                      " * success, -1 if the file is missing, short or not this model's. */\n"
                      "int %s_weights_load(%s_weights *w, const char *path);\n", p, p, p);
    else
        buf_printf(h, "/* The trained weights, compiled in. */\nextern const %s_weights %s_baked;\n"
                      "void %s_predict(const float *x, float *y, long n);\n", p, p, p);
    buf_printf(h, "\n#endif\n");
}

static void emit_source(Buf *c, Writer *w, long nfloats, long arena, const long *off, const long *soff,
                        int to_bin, const char *file, const char *wfile)
{
    const Model *m = w->m;
    const Bake *b = w->b;
    const char *p = w->p;
    static const char *const stage_names[] = {"affine", "scale", "activation", "layernorm", "prelu",
                                              "conv", "pool", "shift", "upsample", "embed", "rnn"};
    buf_printf(c, "/*\n * %s_infer.c - prediction-only model '%s' with weights from %s,\n"
                  " * generated by seqc %s from %s. Do not edit.\n *\n * Stages (folded):\n",
               p, p, wfile, SEQC_VERSION, file);
    for (int i = 0; i < b->n; i++)
        buf_printf(c, " *   s%d: %s %s -> %s  [%s]\n", i, stage_names[b->st[i].kind], shape_str(&b->st[i].in),
                   shape_str(&b->st[i].out), b->st[i].what);
    buf_printf(c, " */\n#include <math.h>\n%s\n#include \"%s_infer.h\"\n",
               to_bin ? "#include <stdio.h>\n#include <string.h>" : "", p);
    buf_printf(c, "\n#if %s_INFER_BLOCK < 1\n#error \"%s_INFER_BLOCK must be 1 or more\"\n#endif\n", w->P, w->P);
    Buf body = {0}, fns = {0};
    const char *B = arena_printf("%s_INFER_BLOCK", w->P);
    buf_printf(&body, "\nvoid %s_predict_in(const %s_weights *w, const float *x, float *y, long n, float *arena)\n{\n",
               p, p);
    buf_printf(&body, "    for (long r = 0; r < n; r += %s) {\n"
                      "        const long m = n - r < %s ? n - r : %s; /* samples in this block */\n"
                      "        const float *in = x + r * %d;\n", B, B, B, m->in);
    const char *cur = "in";
    for (int i = 0; i < b->n; i++) {
        const Stage *st = &b->st[i];
        const char *dst = arena_at(w, off[i]);
        int fused = st->kind == ST_AFFINE && i + 1 < b->n && st[1].kind == ST_ACT && !act_rowwise(st[1].act) &&
                    off[i + 1] == off[i];
        if (st->kind == ST_AFFINE)
            emit_affine_fn(&fns, i, st, fused ? act_function(w, st[1].act) : NULL,
                           fused ? act_str(st[1].act) : NULL);
        emit_stage(&body, w, i, st, cur, dst, fused, arena_at(w, soff[i]));
        cur = dst;
        i += fused;
    }
    buf_printf(&body, "\n        const float *out = %s;\n        for (long o = 0; o < m * %d; o++)\n"
                      "            y[r * %d + o] = out[o];\n", cur, m->out, m->out);
    buf_printf(&body, "    }\n    (void)arena;\n    (void)w; /* unused when no stage has weights */\n}\n");
    if (arena > 0)
        buf_printf(&body, "\nvoid %s_predict_with(const %s_weights *w, const float *x, float *y, long n)\n{\n"
                          "    float arena[%s_INFER_ARENA_FLOATS];\n"
                          "    %s_predict_in(w, x, y, n, arena);\n}\n", p, p, w->P, p);
    else
        buf_printf(&body, "\nvoid %s_predict_with(const %s_weights *w, const float *x, float *y, long n)\n{\n"
                          "    float arena[1]; /* no stage needs one */\n"
                          "    %s_predict_in(w, x, y, n, arena);\n}\n", p, p, p);
    emit_act_functions(c, w);
    if (fns.len) {
        buf_printf(c, "\n/* The width of an output tile: the lanes of the widest vectors the\n"
                      " * compiler targets (it keeps a tile's 8 rows in 8 vector registers).\n"
                      " * Only the speed depends on it: every output sums its terms in the same\n"
                      " * order whatever the width. */\n"
                      "#if defined(__AVX512F__)\n#define SEQC_LANES 16\n#elif defined(__AVX__)\n"
                      "#define SEQC_LANES 8\n#else\n#define SEQC_LANES 4\n#endif\n");
        buf_printf(c, "\n/* a * b + c, in one rounding (fmaf) where the target has a fast FMA\n"
                      " * (FP_FAST_FMAF: e.g. -march=haswell or later), else in two. Every path\n"
                      " * of one build uses the same form: a batch and its rows one at a time\n"
                      " * give the same bits. */\n"
                      "#ifdef FP_FAST_FMAF\n#define SEQC_MADD(a, b, c) fmaf(a, b, c)\n#else\n"
                      "#define SEQC_MADD(a, b, c) ((a) * (b) + (c))\n#endif\n");
        buf_printf(c, "%.*s", (int)fns.len, fns.data);
    }
    free(fns.data);
    buf_printf(c, "%.*s", (int)body.len, body.data);
    free(body.data);
    if (to_bin) {
        buf_printf(c, "\nint %s_weights_load(%s_weights *w, const char *path)\n{\n"
                      "    unsigned char head[16];\n    const unsigned one = 1;\n"
                      "    if (*(const unsigned char *)&one != 1)\n        return -1; /* the file is little-endian */\n"
                      "    FILE *f = fopen(path, \"rb\");\n    if (!f)\n        return -1;\n"
                      "    int ok = fread(head, 1, 16, f) == 16 && memcmp(head, \"SEQCWTS1\", 8) == 0;\n"
                      "    unsigned long long count = 0;\n    for (int k = 0; k < 8; k++)\n"
                      "        count |= (unsigned long long)head[8 + k] << (8 * k);\n"
                      "    ok = ok && count == %ldULL && sizeof *w == %ldUL * sizeof(float);\n"
                      "    ok = ok && fread(w, sizeof(float), %ldUL, f) == %ldUL && fgetc(f) == EOF;\n"
                      "    fclose(f);\n    return ok ? 0 : -1;\n}\n",
                   p, p, nfloats, nfloats, nfloats, nfloats);
        return;
    }
    buf_printf(c, "\nconst %s_weights %s_baked = {\n", p, p);
    for (int i = 0; i < b->n; i++) {
        const double *v[STAGE_ARRAYS];
        long n[STAGE_ARRAYS];
        const char *name[STAGE_ARRAYS];
        int na = stage_arrays(&b->st[i], v, n, name);
        if (na)
            buf_printf(c, "    /* s%d: %s */\n", i, b->st[i].what);
        for (int a = 0; a < na; a++) {
            buf_printf(c, "    {\n");
            print_array(c, v[a], n[a]);
            buf_printf(c, "    },\n");
        }
    }
    if (nfloats == 0)
        buf_printf(c, "    0.0f\n");
    buf_printf(c, "};\n\nvoid %s_predict(const float *x, float *y, long n)\n{\n"
                  "    %s_predict_with(&%s_baked, x, y, n);\n}\n", p, p, p);
}

int emit_baked(const Model *m, const EmitOptions *opt)
{
    Bake b;
    if (bake_plan(&b, m, opt->weights) < 0)
        return -1;
    Writer w = {.b = &b, .m = m, .p = m->name, .P = upper_name(m->name)};
    long nfloats = 0, *off = arena_alloc(sizeof(long) * (size_t)(b.n + 1));
    for (int i = 0; i < b.n; i++)
        nfloats += stage_weights(&b.st[i]);
    long *soff = arena_alloc(sizeof(long) * (size_t)(b.n + 1));
    long arena = plan_arena(&b, off, soff);
    w.block = BAKED_BLOCK;
    while (w.block > 1 && w.block * arena * 4 > BAKED_ARENA_BUDGET)
        w.block /= 2;
    int to_bin = nfloats > BAKED_MAX_FLOATS;
    const char *file = base_name(m->src->path), *wfile = base_name(opt->weights);
    Buf h = {0}, c = {0}, bin = {0};
    emit_header(&h, &w, nfloats, arena, to_bin, file, wfile);
    emit_source(&c, &w, nfloats, arena, off, soff, to_bin, file, wfile);
    if (to_bin)
        emit_weights_bin(&bin, &b, nfloats);
    const char *paths[3] = {arena_printf("%s/%s_infer.h", opt->outdir, m->name),
                            arena_printf("%s/%s_infer.c", opt->outdir, m->name),
                            arena_printf("%s/%s_infer.bin", opt->outdir, m->name)};
    const Buf *bufs[3] = {&h, &c, &bin};
    int rc = write_files_atomic(paths, bufs, to_bin ? 3 : 2);
    free(bin.data);
    free(h.data);
    free(c.data);
    return rc;
}
