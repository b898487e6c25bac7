/*
 * emit_baked.c - prediction-only C with the trained weights compiled in
 * (`seqc --inference --weights ckpt.safetensors model.nn`).
 *
 * The checkpoint is read with the runtime's safetensors reader against the
 * model's own tensor table (tensors.c), so a checkpoint of another model is
 * rejected by name and shape. The layers then become a list of stages over
 * one row: affine (x W^T + b), diagonal scale (x * s + t), activation,
 * layer normalization. Everything foldable is folded, in double precision,
 * before the weights are rounded to float once:
 *
 *   - BatchNormalization (running statistics) and Normalization are
 *     diagonal scales, folded into the neighbouring Dense (before or after);
 *   - two Dense layers with nothing nonlinear between them become one when
 *     that is no larger (out2*in1 <= out2*mid + mid*in1);
 *   - Dropout and Flatten vanish.
 *
 * The output needs only libm: no runtime, no BLAS, no malloc, no global
 * mutable state. Weights print as the shortest decimal that reads back as
 * the same float. Past BAKED_MAX_FLOATS weights, they go to NAME_infer.bin
 * with a generated loader instead of into the source.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

/* 1 Mi floats (4 MiB): beyond this, C sources full of numbers compile
 * slowly and bloat, so the weights go to a .bin file. */
#define BAKED_MAX_FLOATS (1L << 20)

typedef enum { ST_AFFINE, ST_SCALE, ST_ACT, ST_LAYERNORM } StageKind;

typedef struct {
    StageKind kind;
    int in, out;
    double *w, *b;        /* AFFINE: w (out, in), b (out) */
    double *s, *t;        /* SCALE: y = x * s + t; LAYERNORM: gamma, beta */
    double eps;
    int act;
    const char *what;     /* the layers this stage computes, for comments */
} Stage;

typedef struct {
    Stage *st;
    int n, cap;
} Stages;

static Stage *push(Stages *s, StageKind kind, int in, int out, const char *what)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        Stage *ns = arena_alloc(sizeof(Stage) * (size_t)s->cap);
        if (s->n)
            memcpy(ns, s->st, sizeof(Stage) * (size_t)s->n);
        s->st = ns;
    }
    Stage *st = &s->st[s->n++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->in = in;
    st->out = out;
    st->what = what;
    return st;
}

static void drop(Stages *s, int i)
{
    memmove(&s->st[i], &s->st[i + 1], sizeof(Stage) * (size_t)(s->n - i - 1));
    s->n--;
}

static double *dvec(long n)
{
    return arena_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
}

/* ---------------------------------------------------------------- loading */

typedef struct {
    const Model *m;
    unsigned char *state;
    TensorRow *rows;
    size_t *offset;
    int nrows;
} Weights;

static int load_weights(Weights *w, const Model *m, const char *path)
{
    w->m = m;
    w->nrows = ir_tensors(m, &w->rows);
    w->offset = arena_alloc(sizeof(size_t) * (size_t)w->nrows);
    seqrt_tensor *t = arena_alloc(sizeof(seqrt_tensor) * (size_t)w->nrows);
    size_t off = 0;
    for (int i = 0; i < w->nrows; i++) {
        const TensorRow *r = &w->rows[i];
        size_t count = 1;
        for (int d = 0; d < r->ndim; d++)
            count *= (size_t)r->shape[d];
        w->offset[i] = off;
        t[i] = (seqrt_tensor){r->name, r->kind, r->dtype, off, r->ndim, {r->shape[0], r->shape[1]}};
        off += (count * (r->dtype == SEQRT_I64 ? 8 : 4) + 7) / 8 * 8;
    }
    w->state = calloc(1, off ? off : 1);
    if (!w->state) {
        diag_fatal("out of memory loading '%s'", path);
        return -1;
    }
    if (seqrt_st_load(path, t, w->nrows, w->state) < 0) {
        diag_fatal("%s", seqrt_error());
        return -1;
    }
    return 0;
}

static double *param_values(const Weights *w, const Layer *l, ParamRole role, long count, double def)
{
    double *v = dvec(count);
    for (int k = 0; k < l->nparam; k++)
        if (l->param[k].role == role)
            for (int i = 0; i < w->nrows; i++)
                if (w->rows[i].param == &l->param[k] && w->rows[i].kind <= SEQRT_T_BUFFER) {
                    const float *f = (const float *)(w->state + w->offset[i]);
                    for (long j = 0; j < count; j++)
                        v[j] = f[j];
                    return v;
                }
    for (long j = 0; j < count; j++)
        v[j] = def;
    return v;
}

/* ---------------------------------------------------------------- stages */

static void scale_from_norm(const Weights *w, const Layer *l, int c, double **s, double **t)
{
    double *gamma = param_values(w, l, P_GAMMA, c, 1.0), *beta = param_values(w, l, P_BETA, c, 0.0);
    double *mean = param_values(w, l, P_RUN_MEAN, c, 0.0), *var = param_values(w, l, P_RUN_VAR, c, 1.0);
    *s = dvec(c);
    *t = dvec(c);
    for (int j = 0; j < c; j++) {
        /* the runtime computes 1/sqrt(var + eps) in float */
        double inv = 1.0 / sqrt((double)((float)var[j] + (float)l->epsilon));
        (*s)[j] = gamma[j] * inv;
        (*t)[j] = beta[j] - mean[j] * gamma[j] * inv;
    }
}

static void build_stages(Stages *s, const Weights *w, const Model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        int c = l->out;
        const char *what = arena_printf("%d: %s", l->index, op_names[l->op]);
        switch (l->op) {
        case OP_DENSE: {
            Stage *a = push(s, ST_AFFINE, l->in, c, what);
            a->w = param_values(w, l, P_KERNEL, (long)c * l->in, 0.0);
            a->b = param_values(w, l, P_BIAS, c, 0.0);
            if (l->norm == OP_BATCHNORM) {
                Stage *sc = push(s, ST_SCALE, c, c, arena_printf("%d: batchnorm", l->norm_index));
                scale_from_norm(w, l, c, &sc->s, &sc->t);
            } else if (l->norm == OP_LAYERNORM) {
                Stage *ln = push(s, ST_LAYERNORM, c, c, arena_printf("%d: layernorm", l->norm_index));
                ln->s = param_values(w, l, P_GAMMA, c, 1.0);
                ln->t = param_values(w, l, P_BETA, c, 0.0);
                ln->eps = l->epsilon;
            }
            if (l->act != SEQRT_ACT_LINEAR)
                push(s, ST_ACT, c, c, arena_printf("%s", seqrt_act_name(l->act)))->act = l->act;
            break;
        }
        case OP_BATCHNORM: {
            Stage *sc = push(s, ST_SCALE, c, c, what);
            scale_from_norm(w, l, c, &sc->s, &sc->t);
            break;
        }
        case OP_LAYERNORM: {
            Stage *ln = push(s, ST_LAYERNORM, c, c, what);
            ln->s = param_values(w, l, P_GAMMA, c, 1.0);
            ln->t = param_values(w, l, P_BETA, c, 0.0);
            ln->eps = l->epsilon;
            break;
        }
        case OP_NORMALIZATION: {
            Stage *sc = push(s, ST_SCALE, c, c, what);
            double *mean = param_values(w, l, P_NORM_MEAN, c, 0.0), *var = param_values(w, l, P_NORM_VAR, c, 1.0);
            sc->s = dvec(c);
            sc->t = dvec(c);
            for (int j = 0; j < c; j++) {
                double d = sqrt(var[j]) > 1e-7 ? sqrt(var[j]) : 1e-7;
                sc->s[j] = 1.0 / d;
                sc->t[j] = -mean[j] / d;
            }
            break;
        }
        case OP_ACTIVATION:
            if (l->act != SEQRT_ACT_LINEAR)
                push(s, ST_ACT, c, c, arena_printf("%d: %s", l->index, seqrt_act_name(l->act)))->act = l->act;
            break;
        default:   /* Dropout, Flatten: identity at inference */
            break;
        }
    }
}

static const char *joined(const char *a, const char *b)
{
    return arena_printf("%s, %s", a, b);
}

/* Applies one folding rule somewhere; returns 1 if it did. */
/* w (out, in) -> (in, out): the layout the generated loops read. */
static const double *transposed(const Stage *st)
{
    double *t = dvec((long)st->in * st->out);
    for (int o = 0; o < st->out; o++)
        for (int k = 0; k < st->in; k++)
            t[(long)k * st->out + o] = st->w[(long)o * st->in + k];
    return t;
}

static int fold_once(Stages *s)
{
    for (int i = 0; i + 1 < s->n; i++) {
        Stage *a = &s->st[i], *b = &s->st[i + 1];
        if (a->kind == ST_AFFINE && b->kind == ST_SCALE) {          /* scale rows */
            for (int o = 0; o < a->out; o++) {
                for (int k = 0; k < a->in; k++)
                    a->w[(long)o * a->in + k] *= b->s[o];
                a->b[o] = a->b[o] * b->s[o] + b->t[o];
            }
            a->what = joined(a->what, b->what);
            drop(s, i + 1);
            return 1;
        }
        if (a->kind == ST_SCALE && b->kind == ST_AFFINE) {          /* scale columns */
            for (int o = 0; o < b->out; o++) {
                double acc = b->b[o];
                for (int k = 0; k < b->in; k++) {
                    acc += b->w[(long)o * b->in + k] * a->t[k];
                    b->w[(long)o * b->in + k] *= a->s[k];
                }
                b->b[o] = acc;
            }
            b->what = joined(a->what, b->what);
            drop(s, i);
            return 1;
        }
        if (a->kind == ST_SCALE && b->kind == ST_SCALE) {
            for (int j = 0; j < a->out; j++) {
                a->t[j] = a->t[j] * b->s[j] + b->t[j];
                a->s[j] *= b->s[j];
            }
            a->what = joined(a->what, b->what);
            drop(s, i + 1);
            return 1;
        }
        if (a->kind == ST_AFFINE && b->kind == ST_AFFINE &&
            (long)b->out * a->in <= (long)b->out * a->out + (long)a->out * a->in) {
            double *w = dvec((long)b->out * a->in), *bias = dvec(b->out);
            for (int o = 0; o < b->out; o++) {
                double acc = b->b[o];
                for (int k = 0; k < a->out; k++) {
                    double bw = b->w[(long)o * b->in + k];
                    acc += bw * a->b[k];
                    for (int j = 0; j < a->in; j++)
                        w[(long)o * a->in + j] += bw * a->w[(long)k * a->in + j];
                }
                bias[o] = acc;
            }
            b->w = w;
            b->b = bias;
            b->in = a->in;
            b->what = joined(a->what, b->what);
            drop(s, i);
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- emission */

static const char *act_expr(int act)
{
    switch (act) {
    case SEQRT_ACT_RELU: return "v > 0.0f ? v : 0.0f";
    case SEQRT_ACT_SIGMOID: return "sigmoid(v)";
    case SEQRT_ACT_TANH: return "tanhf(v)";
    case SEQRT_ACT_ELU: return "v > 0.0f ? v : expm1f(v)";
    case SEQRT_ACT_SELU: return "1.05070098f * (v > 0.0f ? v : 1.67326324f * expm1f(v))";
    case SEQRT_ACT_LEAKY_RELU: return "v > 0.0f ? v : 0.2f * v";
    case SEQRT_ACT_GELU: return "0.5f * v * (1.0f + erff(v * 0.707106781f))";
    case SEQRT_ACT_SILU: return "v * sigmoid(v)";
    case SEQRT_ACT_SOFTPLUS: return "log1pf(expf(-fabsf(v))) + (v > 0.0f ? v : 0.0f)";
    default: return "v";
    }
}

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

/* NAME_infer.bin: "SEQCWTS1", the float count as a little-endian uint64,
 * then the floats of NAME_weights in order, little-endian. */
static void emit_weights_bin(Buf *out, const Stages *s, long count)
{
    Buf b = {0};
    unsigned char head[16] = "SEQCWTS1";
    for (int k = 0; k < 8; k++)
        head[8 + k] = (unsigned char)((unsigned long)count >> (8 * k));
    buf_bytes(&b, head, 16);
    for (int i = 0; i < s->n; i++) {
        const Stage *st = &s->st[i];
        if (st->kind == ST_ACT)
            continue;
        int aff = st->kind == ST_AFFINE;
        const double *parts[2] = {aff ? transposed(st) : st->s, aff ? st->b : st->t};
        long sizes[2] = {aff ? (long)st->out * st->in : st->out, st->out};
        for (int p = 0; p < 2; p++)
            for (long j = 0; j < sizes[p]; j++) {
                float f = (float)parts[p][j];
                uint32_t u;
                memcpy(&u, &f, 4);
                unsigned char bytes[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                                          (unsigned char)(u >> 24)};
                buf_bytes(&b, bytes, 4);
            }
    }
    *out = b;
}

int emit_baked(const Model *m, const EmitOptions *opt)
{
    Weights w;
    if (load_weights(&w, m, opt->weights) < 0)
        return -1;
    Stages s = {0};
    build_stages(&s, &w, m);
    while (fold_once(&s))
        ;
    free(w.state);

    const char *p = m->name;
    char *P = arena_strdup(p);
    for (char *c = P; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    long nfloats = 0;
    int widest = m->in, uses_sigmoid = 0, uses_softmax = 0;
    for (int i = 0; i < s.n; i++) {
        const Stage *st = &s.st[i];
        if (st->kind == ST_AFFINE)
            nfloats += (long)st->out * st->in + st->out;
        else if (st->kind != ST_ACT)
            nfloats += 2L * st->out;
        if (st->out > widest)
            widest = st->out;
        uses_sigmoid |= st->kind == ST_ACT && (st->act == SEQRT_ACT_SIGMOID || st->act == SEQRT_ACT_SILU);
        uses_softmax |= st->kind == ST_ACT && st->act == SEQRT_ACT_SOFTMAX;
    }
    int to_bin = nfloats > BAKED_MAX_FLOATS;
    const char *file = strrchr(m->src->path, '/') ? strrchr(m->src->path, '/') + 1 : m->src->path;
    const char *wfile = strrchr(opt->weights, '/') ? strrchr(opt->weights, '/') + 1 : opt->weights;

    Buf h = {0};
    buf_printf(&h, "/*\n * %s_infer.h - prediction-only model '%s' with weights from %s,\n"
                   " * generated by seqc %s from %s. Do not edit.\n *\n"
                   " * Needs only libm: no runtime, no BLAS, no malloc, no global mutable\n"
                   " * state; every function is reentrant.\n */\n",
               p, p, wfile, SEQC_VERSION, file);
    buf_printf(&h, "#ifndef %s_INFER_H\n#define %s_INFER_H\n\n", P, P);
    buf_printf(&h, "#define %s_INFER_IN %d\n#define %s_INFER_OUT %d\n", P, m->in, P, m->out);
    buf_printf(&h, "#define %s_INFER_WEIGHT_COUNT %ld\n", P, nfloats);
    buf_printf(&h, "/* stack arena of %s_predict: two rows of the widest layer */\n", p);
    buf_printf(&h, "#define %s_INFER_ARENA_BYTES %ld\n\n", P, 2L * widest * 4);
    buf_printf(&h, "typedef struct %s_weights {\n", p);
    for (int i = 0; i < s.n; i++) {
        const Stage *st = &s.st[i];
        if (st->kind == ST_AFFINE)
            buf_printf(&h, "    float s%d_w[%d * %d]; /* (%d in, %d out), transposed: %s */\n    float s%d_b[%d];\n",
                       i, st->in, st->out, st->in, st->out, st->what, i, st->out);
        else if (st->kind == ST_SCALE || st->kind == ST_LAYERNORM)
            buf_printf(&h, "    float s%d_s[%d]; /* %s */\n    float s%d_t[%d];\n", i, st->out, st->what, i, st->out);
    }
    if (nfloats == 0)
        buf_printf(&h, "    float unused;\n");
    buf_printf(&h, "} %s_weights;\n\n", p);
    buf_printf(&h, "/* y (n, %d) = model(x (n, %d)), row-major, any n >= 0. */\n", m->out, m->in);
    buf_printf(&h, "void %s_predict_with(const %s_weights *w, const float *x, float *y, long n);\n", p, p);
    if (to_bin)
        buf_printf(&h, "/* Reads %s_infer.bin (written by seqc beside this file) into *w: 0 on\n"
                       " * success, -1 if the file is missing, short or not this model's. */\n"
                       "int %s_weights_load(%s_weights *w, const char *path);\n", p, p, p);
    else
        buf_printf(&h, "/* The trained weights, compiled in. */\nextern const %s_weights %s_baked;\n"
                       "void %s_predict(const float *x, float *y, long n);\n", p, p, p);
    buf_printf(&h, "\n#endif\n");

    Buf c = {0};
    buf_printf(&c, "/*\n * %s_infer.c - prediction-only model '%s' with weights from %s,\n"
                   " * generated by seqc %s from %s. Do not edit.\n *\n * Stages (folded):\n",
               p, p, wfile, SEQC_VERSION, file);
    for (int i = 0; i < s.n; i++)
        buf_printf(&c, " *   s%d: %s %d -> %d  [%s]\n", i,
                   (const char *[]){"affine", "scale", "activation", "layernorm"}[s.st[i].kind], s.st[i].in,
                   s.st[i].out, s.st[i].what);
    buf_printf(&c, " */\n#include <math.h>\n%s\n#include \"%s_infer.h\"\n", to_bin ? "#include <stdio.h>\n#include <string.h>" : "", p);
    if (uses_sigmoid)
        buf_printf(&c, "\nstatic float sigmoid(float v)\n{\n    if (v >= 0.0f)\n        return 1.0f / (1.0f + expf(-v));\n"
                       "    float e = expf(v);\n    return e / (1.0f + e);\n}\n");
    buf_printf(&c, "\nvoid %s_predict_with(const %s_weights *w, const float *x, float *y, long n)\n{\n", p, p);
    buf_printf(&c, "    float a[%d], b[%d]; /* ping-pong rows */\n", widest, widest);
    buf_printf(&c, "    for (long r = 0; r < n; r++) {\n        const float *in = x + r * %d;\n", m->in);
    buf_printf(&c, "        float *out = a;\n");
    int cur = 0;   /* where the current row lives: 0 = in, 1 = a, 2 = b */
    for (int i = 0; i < s.n; i++) {
        const Stage *st = &s.st[i];
        const char *src = cur == 0 ? "in" : cur == 1 ? "a" : "b";
        const char *dst = cur == 1 ? "b" : "a";
        buf_printf(&c, "\n        /* s%d: %s */\n", i, st->what);
        switch (st->kind) {
        case ST_AFFINE:
            /* k outer, o inner over the transposed weights: each output
             * still sums its terms in input order, and the inner loop
             * over contiguous weights vectorizes */
            buf_printf(&c, "        for (int o = 0; o < %d; o++)\n            %s[o] = w->s%d_b[o];\n"
                           "        for (int k = 0; k < %d; k++) {\n            const float *wk = w->s%d_w + k * %d;\n"
                           "            const float xk = %s[k];\n            for (int o = 0; o < %d; o++)\n"
                           "                %s[o] += wk[o] * xk;\n        }\n",
                       st->out, dst, i, st->in, i, st->out, src, st->out, dst);
            cur = dst[0] == 'a' ? 1 : 2;
            break;
        case ST_SCALE:
            buf_printf(&c, "        for (int o = 0; o < %d; o++)\n            %s[o] = %s[o] * w->s%d_s[o] + w->s%d_t[o];\n",
                       st->out, dst, src, i, i);
            cur = dst[0] == 'a' ? 1 : 2;
            break;
        case ST_LAYERNORM:
            buf_printf(&c, "        {\n            double mean = 0.0, var = 0.0;\n"
                           "            for (int o = 0; o < %d; o++)\n                mean += %s[o];\n"
                           "            mean /= %d;\n            for (int o = 0; o < %d; o++)\n"
                           "                var += (%s[o] - mean) * (%s[o] - mean);\n            var /= %d;\n"
                           "            float inv = (float)(1.0 / sqrt(var + %s));\n"
                           "            for (int o = 0; o < %d; o++)\n"
                           "                %s[o] = ((float)(%s[o] - mean) * inv) * w->s%d_s[o] + w->s%d_t[o];\n        }\n",
                       st->out, src, st->out, st->out, src, src, st->out, float_literal(st->eps), st->out, dst, src,
                       i, i);
            cur = dst[0] == 'a' ? 1 : 2;
            break;
        case ST_ACT:
            if (st->act == SEQRT_ACT_SOFTMAX) {
                buf_printf(&c, "        {\n            float mx = %s[0], sum = 0.0f;\n"
                               "            for (int o = 1; o < %d; o++)\n                mx = %s[o] > mx ? %s[o] : mx;\n"
                               "            for (int o = 0; o < %d; o++) {\n                %s[o] = expf(%s[o] - mx);\n"
                               "                sum += %s[o];\n            }\n            for (int o = 0; o < %d; o++)\n"
                               "                %s[o] /= sum;\n        }\n",
                           src, st->out, src, src, st->out, dst, src, dst, st->out, dst);
            } else {
                buf_printf(&c, "        for (int o = 0; o < %d; o++) {\n            float v = %s[o];\n"
                               "            %s[o] = %s;\n        }\n", st->out, src, dst, act_expr(st->act));
            }
            cur = dst[0] == 'a' ? 1 : 2;
            break;
        }
    }
    buf_printf(&c, "\n        out = %s;\n        for (int o = 0; o < %d; o++)\n            y[r * %d + o] = out[o];\n",
               cur == 0 ? "(float *)in" : cur == 1 ? "a" : "b", m->out, m->out);
    buf_printf(&c, "    }\n    (void)b;\n    (void)w; /* unused when no stage has weights */\n}\n");
    (void)uses_softmax;
    if (to_bin) {
        buf_printf(&c, "\nint %s_weights_load(%s_weights *w, const char *path)\n{\n"
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
    } else {
        buf_printf(&c, "\nconst %s_weights %s_baked = {\n", p, p);
        for (int i = 0; i < s.n; i++) {
            const Stage *st = &s.st[i];
            if (st->kind == ST_ACT)
                continue;
            int aff = st->kind == ST_AFFINE;
            buf_printf(&c, "    /* s%d: %s */\n    {\n", i, st->what);
            print_array(&c, aff ? transposed(st) : st->s, aff ? (long)st->out * st->in : st->out);
            buf_printf(&c, "    },\n    {\n");
            print_array(&c, aff ? st->b : st->t, st->out);
            buf_printf(&c, "    },\n");
        }
        if (nfloats == 0)
            buf_printf(&c, "    0.0f\n");
        buf_printf(&c, "};\n\nvoid %s_predict(const float *x, float *y, long n)\n{\n"
                       "    %s_predict_with(&%s_baked, x, y, n);\n}\n", p, p, p);
    }
    Buf bin = {0};
    if (to_bin)
        emit_weights_bin(&bin, &s, nfloats);
    const char *paths[3] = {arena_printf("%s/%s_infer.h", opt->outdir, p),
                            arena_printf("%s/%s_infer.c", opt->outdir, p),
                            arena_printf("%s/%s_infer.bin", opt->outdir, p)};
    const Buf *bufs[3] = {&h, &c, &bin};
    int rc = write_files_atomic(paths, bufs, to_bin ? 3 : 2);
    free(bin.data);
    free(h.data);
    free(c.data);
    return rc;
}
