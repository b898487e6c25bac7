/*
 * bake_write.c - the writer of the baked build: the folded stages of
 * bake_plan.c as NAME_infer.h and NAME_infer.c (and NAME_infer.bin).
 *
 * The output needs only libm: no runtime, no BLAS, no malloc, no global
 * mutable state. NAME_predict_with works one sample at a time through two
 * stack buffers of the widest stage (the arena whose size the header
 * states). An affine stage loops over the rows of its last axis with the
 * weights transposed, (in, out), so the inner loop runs over contiguous
 * weights and vectorizes while each output still sums its terms in input
 * order. Activations are the formulas of runtime/seqrt_acts.def, as text,
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
} Writer;

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
    case ST_ACT:
        return 0;
    }
    ir_internal_error("a baked stage of no known kind");
}

/* w (out, in) -> (in, out): the layout the generated loops read. */
static const double *transposed(const Stage *st)
{
    int in = shape_last(&st->in), out = shape_last(&st->out);
    double *t = bake_alloc((long)in * out);
    for (int o = 0; o < out; o++)
        for (int k = 0; k < in; k++)
            t[(long)k * out + o] = st->w[(long)o * in + k];
    return t;
}

/* The weight arrays of a stage, in struct order. */
static int stage_arrays(const Stage *st, const double **v, long *n, const char **name)
{
    int c = shape_last(&st->out);
    switch (st->kind) {
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
    case ST_ACT:
        return 0;
    }
    ir_internal_error("a baked stage of no known kind");
}

/* ---------------------------------------------------------------- activations */

static const char *act_function(Writer *w, Act a)
{
    for (int i = 0; i < w->nacts; i++)
        if (!memcmp(&w->acts[i], &a, sizeof a))
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

/* Opens a loop over the rows of a stage's last axis when there are several:
 * the row's input and output pointers are then xr and yr. */
static void rows_begin(Buf *c, long rows, int in, int out, const char *src, const char *dst)
{
    if (rows == 1) {
        buf_printf(c, "        {\n            const float *xr = %s;\n            float *yr = %s;\n", src, dst);
        return;
    }
    buf_printf(c, "        for (long q = 0; q < %ld; q++) {\n            const float *xr = %s + q * %d;\n"
                  "            float *yr = %s + q * %d;\n", rows, src, in, dst, out);
}

static void emit_stage(Buf *c, Writer *w, int i, const Stage *st, const char *src, const char *dst)
{
    int in = shape_last(&st->in), out = shape_last(&st->out);
    long rows = shape_lead(&st->out), size = shape_size(&st->out);
    buf_printf(c, "\n        /* s%d: %s */\n", i, st->what);
    switch (st->kind) {
    case ST_AFFINE:
        rows_begin(c, rows, in, out, src, dst);
        buf_printf(c, "            for (int o = 0; o < %d; o++)\n                yr[o] = w->s%d_b[o];\n"
                      "            for (int k = 0; k < %d; k++) {\n"
                      "                const float *wk = w->s%d_w + k * %d;\n"
                      "                const float xk = xr[k];\n                for (int o = 0; o < %d; o++)\n"
                      "                    yr[o] += wk[o] * xk;\n            }\n        }\n",
                   out, i, in, i, out, out);
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
            buf_printf(c, "        for (long o = 0; o < %ld; o++)\n            %s[o] = %s(%s[o]);\n", size, dst,
                       act_function(w, st->act), src);
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
        buf_printf(c, "        for (long o = 0; o < %ld; o++) {\n            const float alpha = w->s%d_alpha[%s];\n"
                      "            %s[o] = %s[o] > 0.0f ? %s[o] : alpha * %s[o];\n        }\n",
                   size, i, idx, dst, src, src, src);
        return;
    }
    }
    ir_internal_error("a baked stage of no known kind");
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
        const double *v[2];
        long n[2];
        const char *name[2];
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

static void emit_header(Buf *h, const Writer *w, long nfloats, long widest, int to_bin, const char *file,
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
    buf_printf(h, "/* stack arena of %s_predict: two samples of the widest stage */\n", p);
    buf_printf(h, "#define %s_INFER_ARENA_BYTES %ld\n\n", P, 2L * widest * 4);
    buf_printf(h, "typedef struct %s_weights {\n", p);
    for (int i = 0; i < w->b->n; i++) {
        const Stage *st = &w->b->st[i];
        const double *v[2];
        long n[2];
        const char *name[2];
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
    if (to_bin)
        buf_printf(h, "/* Reads %s_infer.bin (written by seqc beside this file) into *w: 0 on\n"
                      " * success, -1 if the file is missing, short or not this model's. */\n"
                      "int %s_weights_load(%s_weights *w, const char *path);\n", p, p, p);
    else
        buf_printf(h, "/* The trained weights, compiled in. */\nextern const %s_weights %s_baked;\n"
                      "void %s_predict(const float *x, float *y, long n);\n", p, p, p);
    buf_printf(h, "\n#endif\n");
}

static void emit_source(Buf *c, Writer *w, long nfloats, long widest, int to_bin, const char *file,
                        const char *wfile)
{
    const Model *m = w->m;
    const Bake *b = w->b;
    const char *p = w->p;
    static const char *const stage_names[] = {"affine", "scale", "activation", "layernorm", "prelu"};
    buf_printf(c, "/*\n * %s_infer.c - prediction-only model '%s' with weights from %s,\n"
                  " * generated by seqc %s from %s. Do not edit.\n *\n * Stages (folded):\n",
               p, p, wfile, SEQC_VERSION, file);
    for (int i = 0; i < b->n; i++)
        buf_printf(c, " *   s%d: %s %s -> %s  [%s]\n", i, stage_names[b->st[i].kind], shape_str(&b->st[i].in),
                   shape_str(&b->st[i].out), b->st[i].what);
    buf_printf(c, " */\n#include <math.h>\n%s\n#include \"%s_infer.h\"\n",
               to_bin ? "#include <stdio.h>\n#include <string.h>" : "", p);
    Buf body = {0};
    buf_printf(&body, "\nvoid %s_predict_with(const %s_weights *w, const float *x, float *y, long n)\n{\n", p, p);
    buf_printf(&body, "    float a[%ld], b[%ld]; /* two samples of the widest stage, in turn */\n", widest, widest);
    buf_printf(&body, "    for (long r = 0; r < n; r++) {\n        const float *in = x + r * %d;\n", m->in);
    int cur = 0;   /* where the current sample lives: 0 = in, 1 = a, 2 = b */
    for (int i = 0; i < b->n; i++) {
        const char *src = cur == 0 ? "in" : cur == 1 ? "a" : "b";
        const char *dst = cur == 1 ? "b" : "a";
        emit_stage(&body, w, i, &b->st[i], src, dst);
        cur = dst[0] == 'a' ? 1 : 2;
    }
    buf_printf(&body, "\n        const float *out = %s;\n        for (int o = 0; o < %d; o++)\n"
                      "            y[r * %d + o] = out[o];\n",
               cur == 0 ? "in" : cur == 1 ? "a" : "b", m->out, m->out);
    buf_printf(&body, "    }\n    (void)a;\n    (void)b;\n    (void)w; /* unused when no stage has weights */\n}\n");
    emit_act_functions(c, w);
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
        const double *v[2];
        long n[2];
        const char *name[2];
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
    long nfloats = 0, widest = m->in;
    for (int i = 0; i < b.n; i++) {
        nfloats += stage_weights(&b.st[i]);
        if (shape_size(&b.st[i].out) > widest)
            widest = shape_size(&b.st[i].out);
    }
    int to_bin = nfloats > BAKED_MAX_FLOATS;
    const char *file = base_name(m->src->path), *wfile = base_name(opt->weights);
    Buf h = {0}, c = {0}, bin = {0};
    emit_header(&h, &w, nfloats, widest, to_bin, file, wfile);
    emit_source(&c, &w, nfloats, widest, to_bin, file, wfile);
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
