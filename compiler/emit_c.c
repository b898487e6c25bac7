/*
 * emit_c.c - IR -> NAME.h and NAME.c: the model as plain, readable C.
 *
 * The generated state is one struct with no pointers, so `static NAME net;`
 * works and a checkpoint is a table of offsets into it:
 *
 *     int64 counters, RNG states            (fixed size, first: no padding)
 *     NAME_params param                     every trainable parameter, one block
 *     NAME_buffers buffer                   running statistics (non-trainable)
 *     NAME_params grad, opt_m, opt_v        same layout as param (training only)
 *     float input[], lK_* ...               the buffers of the plan (pass_plan)
 *
 * Forward is one block per layer in order, backward one block per layer in
 * reverse. What a block computes is its kind's business (the forward and
 * backward hooks of layer_NAME.c, called with a Site: the pointers and the
 * activation of that piece); this file walks the layers, gives each the
 * pointers the plan says, and writes everything around them: the struct,
 * init, the loss, the optimizer step, the tensor table and the descriptor.
 * Every size is a literal. Names depend only on statement indices (l3_weight,
 * l3_y), so adding a layer changes only nearby lines of a golden file.
 * Nothing in the output depends on time, paths beyond the file's base name,
 * or addresses.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

static const char *const act_ids[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) "SEQRT_ACT_" #id,
#define ACT_ROW(id, name, flags, FR, BR, desc) "SEQRT_ACT_" #id,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

static const char *const init_ids[SEQRT_INIT_COUNT] = {
#define INIT(id, name, cls, aliases) "SEQRT_INIT_" #id,
#include "seqrt_inits.def"
#undef INIT
};

static const char *const loss_ids[SEQRT_LOSS_COUNT] = {
#define LOSS(id, name, cls, aliases) "SEQRT_LOSS_" #id,
#include "seqrt_losses.def"
#undef LOSS
};

static const char *const metric_ids[SEQRT_METRIC_COUNT] = {
#define METRIC(id, name, cls, aliases, mode, cname) "SEQRT_METRIC_" #id,
#include "seqrt_metrics.def"
#undef METRIC
};

#define MAX_ACTS 64
#define MAX_STATICS 256

static int model_has_penalty(const Model *m);

struct Emit {
    const Model *m;
    Buf *b;                   /* where emit_line writes */
    int indent;
    const char *p, *P;        /* the model name, and upper-case */
    int training;             /* the model has a loss: backward, update */
    int nrng;                 /* layers with a random stream of their own */
    Buf code;                 /* the functions, written before the constants they use */
    Buf consts;               /* file-scope constants the functions use (the loss's
                                 arguments, the schedule), written before them */
    int has_loss_fn;          /* a seqrt_lossfn constant loss_fn exists */
    int has_penalty;          /* NAME_penalty exists */
    Act acts[MAX_ACTS];       /* the activation constants used, in order */
    const char *act_names[MAX_ACTS];
    int nacts;
    const char *static_names[MAX_STATICS]; /* file-scope constants (emit_static) */
    Buf statics;
    int nstatics;
};

/* ---------------------------------------------------------------- helpers for the kinds */

void emit_line(Emit *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = arena_vprintf(fmt, ap);
    va_end(ap);
    for (char *line = text;;) {
        char *nl = strchr(line, '\n');
        buf_printf(e->b, "%*s%.*s\n", 4 * e->indent, "", nl ? (int)(nl - line) : (int)strlen(line), line);
        if (!nl)
            break;
        line = nl + 1;
    }
}

int emit_training(const Emit *e) { return e->training; }

static const char *param_in(const Layer *l, const char *role, const char *block)
{
    const Param *p = ir_param(l, role);
    if (!p)
        return "NULL";
    return arena_printf("net->%s.%s", p->trainable ? block : "buffer", p->cname);
}

const char *emit_param(const Emit *e, const Layer *l, const char *role)
{
    (void)e;
    return param_in(l, role, "param");
}

const char *emit_grad(const Emit *e, const Layer *l, const char *role)
{
    const Param *p = ir_param(l, role);
    if (!p || !p->trainable || !e->training)
        return "NULL";
    return param_in(l, role, "grad");
}

const char *emit_keep(const Emit *e, const Layer *l, const char *role)
{
    for (int k = 0; k < l->nkeep; k++)
        if (!strcmp(l->keep[k].role, role))
            return arena_printf("net->%s", e->m->buf[l->keep[k].buf].name);
    return "NULL";
}

const char *emit_act(Emit *e, Act a)
{
    for (int i = 0; i < e->nacts; i++)
        if (e->acts[i].kind == a.kind && e->acts[i].p[0] == a.p[0] && e->acts[i].p[1] == a.p[1] &&
            e->acts[i].p[2] == a.p[2])
            return e->act_names[i];
    if (e->nacts == MAX_ACTS)
        ir_internal_error("more than MAX_ACTS distinct activations in one model");
    int variants = 0;
    for (int i = 0; i < e->nacts; i++)
        variants += e->acts[i].kind == a.kind;
    Act d = act_default(a.kind);
    int is_default = (float)a.p[0] == (float)d.p[0] && (float)a.p[1] == (float)d.p[1] &&
                     (float)a.p[2] == (float)d.p[2];
    const char *name = seqrt_act_name(a.kind);
    e->acts[e->nacts] = a;
    e->act_names[e->nacts] = is_default && !variants ? arena_printf("act_%s", name)
                                                     : arena_printf("act_%s_%d", name, variants + 1);
    return e->act_names[e->nacts++];
}

const char *emit_rng(const Emit *e, const Layer *l)
{
    (void)e;
    if (l->kind->seed && l->kind->seed(l) >= 0)
        return arena_printf("&net->rng_%s", ir_tag(l));
    return "&net->rng";
}

const char *emit_scratch(const Emit *e, const Layer *l)
{
    if (l->scratch <= 0 || e->m->scratch_buf < 0)
        return "NULL";
    return arena_printf("net->%s", e->m->buf[e->m->scratch_buf].name);
}

const char *emit_static(Emit *e, const char *type, const char *name, const char *init)
{
    for (int i = 0; i < e->nstatics; i++)
        if (!strcmp(e->static_names[i], name))
            return name;
    if (e->nstatics == MAX_STATICS)
        ir_internal_error("more than MAX_STATICS file-scope constants in one model");
    e->static_names[e->nstatics++] = name;
    buf_printf(&e->statics, "static const %s %s = %s;\n", type, name, init);
    return name;
}

const char *emit_dims(const Shape *s)
{
    char buf[16 * MAX_RANK + 32];
    int n = snprintf(buf, sizeof buf, "(const int[]){");
    for (int i = 0; i < s->rank; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%d", i ? ", " : "", s->dim[i]);
    snprintf(buf + n, sizeof buf - (size_t)n, "}");
    return arena_strdup(buf);
}

/* ---------------------------------------------------------------- pointers */

/* Layer i's output (i = -1: the model's input). fwd: in NAME_forward, where
 * a training-only layer's output is a local pointer (its input when not
 * training); in backward every output is the training-mode one. */
static const char *value_of(const Emit *e, int i, int fwd)
{
    const Model *m = e->m;
    if (i < 0)
        return fwd ? "x" : "net->input";
    const Layer *l = &m->layer[i];
    if (has_prop(l, LK_VIEW) || (!e->training && has_prop(l, LK_TRAIN_ONLY)))
        return value_of(e, i - 1, fwd);
    if (has_prop(l, LK_TRAIN_ONLY) && fwd)
        return arena_printf("%s_out", ir_tag(l));
    return arena_printf("net->%s", m->buf[l->out_buf].name);
}

static const char *buf_ptr(const Emit *e, int b)
{
    return arena_printf("net->%s", e->m->buf[b].name);
}

static const char *rows_of(const Shape *s)
{
    long lead = shape_lead(s);
    return lead == 1 ? "n" : arena_printf("n * %ld", lead);
}

/* The pieces of layer i: the layer itself and its fused norm, with their
 * pointers. fwd selects forward or backward pointers. */
static int sites_of(const Emit *e, int i, int fwd, Site *s)
{
    const Model *m = e->m;
    const Layer *l = &m->layer[i];
    const char *x = value_of(e, i - 1, fwd);
    const char *y = has_prop(l, LK_TRAIN_ONLY) ? buf_ptr(e, l->out_buf) : value_of(e, i, fwd);
    int skip = !fwd && i == m->grad_start && m->skip_last_act;
    Act act = skip ? act_default(SEQRT_ACT_LINEAR) : l->act;
    memset(s, 0, 2 * sizeof *s);
    s[0].l = l;
    s[0].owner = l;
    s[0].x = x;
    s[0].rows = rows_of(&l->out);
    if (!fwd) {
        s[0].dy = l->dy_buf >= 0 ? buf_ptr(e, l->dy_buf) : "NULL";
        s[0].dx = l->dx_buf >= 0 ? buf_ptr(e, l->dx_buf) : "NULL";
    }
    if (!l->norm) {
        s[0].y = y;
        s[0].act = act;
        return 1;
    }
    const char *mid = buf_ptr(e, l->mid_buf);
    s[0].y = mid;
    s[0].act = act_default(SEQRT_ACT_LINEAR);
    s[1] = s[0];
    s[1].l = l->norm;
    s[1].x = mid;
    s[1].y = y;
    s[1].act = act;
    if (!fwd)
        s[1].dx = s[1].dy;   /* normalizations compute their backward in place */
    return 2;
}

/* "dense + batchnorm (2) + relu" */
static const char *describe(const Layer *l)
{
    const char *d = arena_printf("%d: %s", l->index, l->kind->name);
    if (l->norm)
        d = arena_printf("%s + %s (%d)", d, l->norm->kind->name, l->norm->index);
    if (!act_is_linear(l->act))
        d = arena_printf("%s%s%s", d, has_prop(l, LK_ACTIVATION) ? " " : " + ", act_str(l->act));
    return d;
}

static const char *batch_shape(const Shape *s)
{
    const char *t = "(n";
    for (int i = 0; i < s->rank; i++)
        t = arena_printf("%s, %d", t, s->dim[i]);
    return arena_printf("%s)", t);
}

/* ---------------------------------------------------------------- the struct */

static void emit_params_struct(Buf *b, const Emit *e, int trainable, const char *name, const char *what)
{
    const Model *m = e->m;
    buf_printf(b, "/* %s */\ntypedef struct %s_%s {\n", what, e->p, name);
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++) {
            const Param *p = ir_param_at(&m->layer[i], k);
            if (p->trainable != trainable)
                continue;
            buf_printf(b, "    float %s[", p->cname);
            for (int d = 0; d < p->shape.rank; d++)
                buf_printf(b, "%s%d", d ? " * " : "", p->shape.dim[d]);
            buf_printf(b, "]; /* %s (", p->name);
            for (int d = 0; d < p->shape.rank; d++)
                buf_printf(b, "%s%d", d ? ", " : "", p->shape.dim[d]);
            buf_printf(b, ") */\n");
        }
    buf_printf(b, "} %s_%s;\n\n", e->p, name);
}

static long emit_struct(Buf *b, const Emit *e)
{
    const Model *m = e->m;
    long B = m->batch_size, P = ir_param_count(m, 1), nbuffer = ir_param_count(m, 0), nfloats = 0;
    buf_printf(b, "/* The whole state of the model: plain arrays, no pointers. */\n");
    buf_printf(b, "struct %s {\n", e->p);
    buf_printf(b, "    int64_t step;            /* optimizer steps taken */\n");
    buf_printf(b, "    int64_t epoch;           /* epochs completed (seqrt_fit) */\n");
    buf_printf(b, "    int64_t rows;            /* rows of the last forward */\n");
    buf_printf(b, "    seqrt_rng rng;           /* initializers, then Dropout */\n");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (l->kind->seed && l->kind->seed(l) >= 0)
            buf_printf(b, "    seqrt_rng rng_%s;         /* %s(seed=%lld) */\n", ir_tag(l), l->kind->name,
                       (long long)l->kind->seed(l));
    }
    if (P)
        buf_printf(b, "    %s_params param;     /* trainable parameters */\n", e->p);
    if (nbuffer)
        buf_printf(b, "    %s_buffers buffer;   /* non-trainable state */\n", e->p);
    nfloats += P + nbuffer;
    if (e->training) {
        OptSlots os;
        ir_opt_slots(m, &os);
        static const char *const members[3] = {"opt_m", "opt_v", "opt_w"};
        buf_printf(b, "    %s_params grad;      /* d loss / d param */\n", e->p);
        nfloats += P;
        for (int k = 0; k < 3; k++)
            if (os.name[k]) {
                buf_printf(b, "    %s_params %s;     /* %s */\n", e->p, members[k], os.what[k]);
                nfloats += P;
            }
        if (os.u_product) {
            buf_printf(b, "    float u_product;         /* Nadam: the product of its momentum factors */\n");
            nfloats++;
        }
        if (m->opt.settable_lr) {
            buf_printf(b, "    float learning_rate;     /* settable: ReduceLROnPlateau changes it */\n");
            nfloats++;
        }
    }
    buf_printf(b, "    /* values, for up to %ld rows (the buffer plan) */\n", B);
    for (int k = 0; k < m->nbuf; k++) {
        const Buffer *bu = &m->buf[k];
        long rows = bu->per_row ? B : 1;
        buf_printf(b, "    float %s[", bu->name);
        if (bu->per_row)
            buf_printf(b, "%ld * ", B);
        for (int d = 0; d < bu->shape.rank; d++)
            buf_printf(b, "%s%d", d ? " * " : "", bu->shape.dim[d]);
        buf_printf(b, "]; /* (");
        if (bu->per_row)
            buf_printf(b, "%ld, ", B);
        for (int d = 0; d < bu->shape.rank; d++)
            buf_printf(b, "%s%d", d ? ", " : "", bu->shape.dim[d]);
        buf_printf(b, ") %s */\n", bu->what);
        nfloats += rows * bu->floats;
    }
    buf_printf(b, "};\n\n");
    return nfloats;
}

static long state_bytes(const Emit *e, long nfloats)
{
    long bytes = 8 * 3 + 16 * (1 + e->nrng) + 4 * nfloats;
    return (bytes + 7) / 8 * 8;
}

/* ---------------------------------------------------------------- header */

static void emit_header(Buf *b, Emit *e, const char *file)
{
    const Model *m = e->m;
    const char *p = e->p, *P = e->P;
    Buf body = {0};
    long nfloats = emit_struct(&body, e);
    buf_printf(b, "/*\n * %s.h - model '%s', generated by seqc %s from %s. Do not edit.\n", p, m->name, SEQC_VERSION,
               file);
    buf_printf(b, " *\n * Layers (IR after optimization):\n");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        const char *d = describe(l);
        buf_printf(b, " *   %s %s -> %s\n", d, shape_str(&l->in), shape_str(&l->out));
    }
    if (e->training)
        buf_printf(b, " * Loss: %s. Optimizer: %s.\n", seqrt_loss_name(m->loss), seqrt_opt_name(m->opt.kind));
    buf_printf(b, " *\n * x: (n, %s_IN) row-major floats", P);
    if (m->in_shape.rank > 1)
        buf_printf(b, ", each row a %s sample", shape_str(&m->in_shape));
    buf_printf(b, "; y: (n, %s_OUT)", P);
    if (m->out_shape.rank > 1)
        buf_printf(b, ", each row %s", shape_str(&m->out_shape));
    buf_printf(b, "; 1 <= n <= %s_MAX_BATCH.\n", P);
    buf_printf(b, " * Targets: %s.\n */\n",
               !e->training ? "none (inference only: the model has no compile())"
               : m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ? "one-hot rows (n, OUT)"
               : m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? "the class index of each row, as a float (n)"
                                                                       : "one float per output (n, OUT)");
    buf_printf(b, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n#include \"seqrt_kernels.h\"\n\n", P, P);
    /* The runtime ABI this code needs (runtime/seqrt_kernels.h): a runtime
     * of another ABI version, or of an older revision, stops the build
     * here rather than at link time or at run time. */
    buf_printf(b, "/* Generated for the seqrt runtime ABI %d, revision %d or later. */\n", SEQRT_ABI_VERSION,
               SEQRT_ABI_REVISION);
    buf_printf(b, "#if !defined(SEQRT_ABI_VERSION) || SEQRT_ABI_VERSION != %d || SEQRT_ABI_REVISION < %d\n",
               SEQRT_ABI_VERSION, SEQRT_ABI_REVISION);
    buf_printf(b, "#error \"%s.h was generated by seqc %s for the seqrt runtime ABI %d (revision %d or later), which "
                  "the seqrt_kernels.h included here does not provide: build with the runtime of seqc %s, or "
                  "regenerate %s.c and %s.h with the seqc of this runtime (seqc --version names its ABI)\"\n",
               p, SEQC_VERSION, SEQRT_ABI_VERSION, SEQRT_ABI_REVISION, SEQC_VERSION, p, p);
    buf_printf(b, "#endif\n#define %s_SEQC_VERSION \"%s\" /* the seqc that generated this file */\n\n", P,
               SEQC_VERSION);
    buf_printf(b, "#define %s_IN %d\n#define %s_OUT %d\n#define %s_MAX_BATCH %d\n", P, m->in, P, m->out, P,
               m->batch_size);
    buf_printf(b, "#define %s_PARAM_COUNT %ld /* trainable parameters */\n", P, ir_param_count(m, 1));
    buf_printf(b, "#define %s_BUFFER_COUNT %ld /* non-trainable parameters */\n", P, ir_param_count(m, 0));
    buf_printf(b, "#define %s_STATE_BYTES %ld /* sizeof(%s) */\n\n", P, state_bytes(e, nfloats), p);
    if (ir_param_count(m, 1))
        emit_params_struct(b, e, 1, "params", "Trainable parameters, one block; PyTorch layout.");
    if (ir_param_count(m, 0))
        emit_params_struct(b, e, 0, "buffers", "Non-trainable state: running statistics.");
    buf_printf(b, "typedef struct %s %s;\n", p, p);
    buf_printf(b, "%.*s", (int)body.len, body.data);
    free(body.data);
    buf_printf(b, "/* Keras initializers, seeded; zeroes everything else. */\n");
    buf_printf(b, "void %s_init(%s *net, uint64_t seed);\n", p, p);
    if (e->training)
        buf_printf(b, "/* y = model(x); training != 0: batch statistics, Dropout, and what\n"
                      " * backward needs is kept. y may be NULL. */\n");
    else
        buf_printf(b, "/* y = model(x). The model has no loss, so it has no training mode:\n"
                      " * `training` is ignored. y may be NULL. */\n");
    buf_printf(b, "void %s_forward(%s *net, const float *x, float *y, int n, int training);\n", p, p);
    if (e->training) {
        buf_printf(b, "/* After a training forward of the same n rows: returns the mean loss and\n"
                      " * fills net->grad. */\n");
        buf_printf(b, "float %s_backward(%s *net, const float *target, int n);\n", p, p);
        buf_printf(b, "/* One optimizer step with net->grad. */\n");
        buf_printf(b, "void %s_update(%s *net);\n", p, p);
        buf_printf(b, "/* forward(training) + backward + update; returns the batch loss. */\n");
        buf_printf(b, "float %s_train_step(%s *net, const float *x, const float *target, int n);\n", p, p);
        if (model_has_penalty(m)) {
            buf_printf(b, "/* The regularization penalties on the state as the last forward of n rows\n"
                          " * left it; Keras adds them to every loss it reports. */\n");
            buf_printf(b, "float %s_penalty(%s *net, int n);\n", p, p);
        }
    }
    buf_printf(b, "/* The descriptor the runtime's fit/evaluate/predict use. */\n");
    buf_printf(b, "extern const seqrt_model %s_model;\n\n", p);
    buf_printf(b, "/* safetensors checkpoints (weights, optimizer state, counters); 0 or -1\n"
                  " * with seqrt_error() set. Saving is atomic; a failed load changes nothing.\n"
                  " * They need the driver library (libseqrt); an application that never\n"
                  " * calls them links libseqrt_kernels alone. */\n");
    buf_printf(b, "static inline int %s_save(const %s *net, const char *path)\n{\n"
                  "    return seqrt_model_save(&%s_model, net, path);\n}\n", p, p, p);
    buf_printf(b, "static inline int %s_load(%s *net, const char *path)\n{\n"
                  "    return seqrt_model_load(&%s_model, net, path);\n}\n\n#endif\n", p, p, p);
}

/* ---------------------------------------------------------------- init, forward, backward */

/* The tensor as Keras lays it out (rows, cols): a Dense kernel is (in,
 * units), stored transposed; otherwise its leading axes by its last. */
static void keras_layout(const Param *p, int *rows, int *cols)
{
    if (p->transposed) {
        *rows = p->shape.dim[1];
        *cols = p->shape.dim[0];
        return;
    }
    *cols = p->shape.rank ? p->shape.dim[p->shape.rank - 1] : 1;
    *rows = (int)(shape_size(&p->shape) / *cols);
}

/* An initializer with the arguments of its class form, or a seed of its own. */
static void emit_init_args(Emit *e, const Param *p)
{
    const InitSpec *s = &p->ispec;
    seqrt_init_args a = s->args;
    a.kind = s->kind;
    if (!s->has_args) {   /* a seed only: Keras's defaults */
        a.a = s->kind == SEQRT_INIT_RANDOM_UNIFORM ? -0.05 : s->kind == SEQRT_INIT_VARIANCE_SCALING ||
              s->kind == SEQRT_INIT_ORTHOGONAL || s->kind == SEQRT_INIT_IDENTITY ? 1.0 : 0.0;
        a.b = 0.05;
    }
    int rows, cols;
    keras_layout(p, &rows, &cols);
    const char *rng = "&net->rng";
    if (s->has_seed) {
        buf_printf(e->b, "    {\n        seqrt_rng own; /* %s(seed=%lld): a stream of its own */\n"
                         "        seqrt_rng_seed(&own, %lluu);\n", seqrt_init_name(s->kind), (long long)s->seed,
                   (unsigned long long)s->seed);
        rng = "&own";
    }
    buf_printf(e->b, "%s    seqrt_init_fill_args(&(const seqrt_init_args){%s, %.17g, %.17g, %d, %d},\n"
                     "%s                         net->%s.%s, %ld, %d, %d, %d, %d, %s); /* %s */\n",
               s->has_seed ? "    " : "", init_ids[a.kind], a.a, a.b, a.mode, a.distribution, s->has_seed ? "    " : "",
               p->trainable ? "param" : "buffer", p->cname, shape_size(&p->shape), p->fan_in, p->fan_out, rows, cols,
               rng, p->name);
    if (s->has_seed)
        buf_printf(e->b, "    }\n");
}

static void emit_init(Emit *e)
{
    const Model *m = e->m;
    buf_printf(e->b, "\nvoid %s_init(%s *net, uint64_t seed)\n{\n", e->p, e->p);
    buf_printf(e->b, "    memset(net, 0, sizeof *net);\n    seqrt_rng_seed(&net->rng, seed);\n");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        for (int k = 0; k < ir_nparams(l); k++) {
            const Param *p = ir_param_at(l, k);
            if (p->ispec.has_args || p->ispec.has_seed) {
                emit_init_args(e, p);
                continue;
            }
            if (p->init == SEQRT_INIT_ZEROS)
                continue;   /* memset did it */
            buf_printf(e->b, "    seqrt_init_fill(%s, net->%s.%s, %ld, %d, %d, &net->rng); /* %s */\n",
                       init_ids[p->init], p->trainable ? "param" : "buffer", p->cname, shape_size(&p->shape),
                       p->fan_in, p->fan_out, p->name);
        }
        if (l->kind->seed && l->kind->seed(l) >= 0)
            buf_printf(e->b, "    seqrt_rng_seed(&net->rng_%s, %lldu);\n", ir_tag(l), (long long)l->kind->seed(l));
        if (l->kind->init) {
            e->indent = 1;
            l->kind->init(e, l);
        }
    }
    if (e->training) {
        OptSlots os;
        ir_opt_slots(m, &os);
        static const char *const members[3] = {"opt_m", "opt_v", "opt_w"};
        for (int k = 0; k < 3; k++)
            if (os.name[k] && os.fill[k] != 0)
                buf_printf(e->b, "    for (long i = 0; i < %s_PARAM_COUNT; i++) /* a fresh %s holds %.9g */\n"
                                 "        ((float *)&net->%s)[i] = %s;\n", e->P, os.name[k], os.fill[k], members[k],
                           float_literal(os.fill[k]));
        if (os.u_product)
            buf_printf(e->b, "    net->u_product = 1.0f;\n");
        if (m->opt.settable_lr)
            buf_printf(e->b, "    net->learning_rate = %s;\n", float_literal(m->opt.lr));
    }
    buf_printf(e->b, "}\n");
}

static void emit_forward_layer(Emit *e, int i)
{
    const Layer *l = &e->m->layer[i];
    buf_printf(e->b, "\n    /* %s, %s -> %s */\n", describe(l), batch_shape(&l->in), batch_shape(&l->out));
    if (has_prop(l, LK_VIEW) || (!e->training && has_prop(l, LK_TRAIN_ONLY))) {
        buf_printf(e->b, "    /* %s: the output is the input's memory */\n",
                   has_prop(l, LK_VIEW) ? "a view" : "the identity at inference");
        return;
    }
    Site s[2];
    int n = sites_of(e, i, 1, s);
    e->indent = 1;
    if (has_prop(l, LK_TRAIN_ONLY)) {
        /* the identity at inference: the next layer reads x itself */
        const char *var = arena_printf("%s_out", ir_tag(l));
        emit_line(e, "const float *%s = %s;", var, s[0].x);
        emit_line(e, "if (training) {");
        e->indent = 2;
        l->kind->forward(e, &s[0]);
        emit_line(e, "%s = %s;", var, s[0].y);
        e->indent = 1;
        emit_line(e, "}");
        return;
    }
    for (int k = 0; k < n; k++)
        s[k].l->kind->forward(e, &s[k]);
}

static void emit_forward(Emit *e)
{
    const Model *m = e->m;
    buf_printf(e->b, "\nvoid %s_forward(%s *net, const float *x, float *y, int n, int training)\n{\n", e->p, e->p);
    buf_printf(e->b, "    assert(n >= 1 && n <= %s_MAX_BATCH);\n", e->P);
    buf_printf(e->b, "    net->rows = n;\n");
    if (e->training)
        buf_printf(e->b, "    if (training)\n        memcpy(net->input, x, sizeof(float) * (size_t)n * %d);\n", m->in);
    else
        buf_printf(e->b, "    (void)training;\n");
    for (int i = 0; i < m->nlayers; i++)
        emit_forward_layer(e, i);
    buf_printf(e->b, "\n    if (y)\n        memcpy(y, %s, sizeof(float) * (size_t)n * %d);\n}\n",
               value_of(e, m->nlayers - 1, 1), m->out);
}

static void emit_backward_layer(Emit *e, int i)
{
    const Model *m = e->m;
    const Layer *l = &m->layer[i];
    int skip = i == m->grad_start && m->skip_last_act;
    buf_printf(e->b, "\n    /* %s%s */\n", describe(l), skip ? " (the activation is folded into the loss)" : "");
    if (has_prop(l, LK_VIEW) && !l->kind->backward) {
        buf_printf(e->b, "    /* a view: the gradient passes through */\n");
        return;
    }
    Site s[2];
    int n = sites_of(e, i, 0, s);
    e->indent = 1;
    for (int k = n - 1; k >= 0; k--)
        s[k].l->kind->backward(e, &s[k]);
}

/* The logits the loss reads when the output activation is folded into it. */
static const char *logits_of(const Emit *e)
{
    const Model *m = e->m;
    int last = m->nlayers - 1;
    if (m->loss_on_logits)
        return value_of(e, last, 0);
    if (!m->loss_from_logits)
        return "NULL";
    if (!m->skip_last_act)
        return value_of(e, last - 1, 0);   /* the input of the final Activation layer */
    return emit_keep(e, &m->layer[last], KEEP_PREACT);
}

/* Does the loss need its arguments (seqrt_lossfn) rather than Keras's
 * defaults? */
static int loss_has_args(const Model *m)
{
    int grouped = m->loss == SEQRT_LOSS_KL_DIVERGENCE || m->loss == SEQRT_LOSS_CATEGORICAL_HINGE ||
                  m->loss == SEQRT_LOSS_COSINE_SIMILARITY;
    return m->loss_delta != 1.0 || m->label_smoothing != 0 || m->class_weight ||
           (grouped && m->out_shape.rank > 1);
}

/* The loss's arguments as a file-scope constant loss_fn. */
static void emit_loss_fn(Emit *e)
{
    const Model *m = e->m;
    Buf *b = &e->consts;
    if (m->class_weight) {
        buf_printf(b, "\n/* fit(class_weight=...): the weight of each class's rows in the loss */\n");
        buf_printf(b, "static const float class_weight[%d] = {", m->nclass_weight);
        for (int k = 0; k < m->nclass_weight; k++)
            buf_printf(b, "%s%s", k ? ", " : "", float_literal(m->class_weight[k]));
        buf_printf(b, "};\n");
    }
    buf_printf(b, "\n/* The loss and its arguments: kind, delta, label_smoothing, last axis, class weights. */\n");
    buf_printf(b, "static const seqrt_lossfn loss_fn = {%s, %s, %s, %d, %d, %s};\n", loss_ids[m->loss],
               float_literal(m->loss_delta), float_literal(m->label_smoothing),
               m->out_shape.rank > 1 ? shape_last(&m->out_shape) : 0, m->nclass_weight,
               m->class_weight ? "class_weight" : "NULL");
    e->has_loss_fn = 1;
}

/* The output of the first layer at or before i that writes one, as the
 * inference forward leaves it (train-only layers and views pass on their
 * input's). */
static const char *inference_value(const Emit *e, int i)
{
    const Model *m = e->m;
    while (i >= 0 && (has_prop(&m->layer[i], LK_VIEW) || has_prop(&m->layer[i], LK_TRAIN_ONLY)))
        i--;
    return i < 0 ? "net->input" : arena_printf("net->%s", m->buf[m->layer[i].out_buf].name);
}

static int has_weight_penalty(const Model *m)
{
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++)
            if (ir_param_at(&m->layer[i], k)->reg.on)
                return 1;
    return 0;
}

static int model_has_penalty(const Model *m)
{
    int any = m->has_loss && has_weight_penalty(m);
    for (int i = 0; m->has_loss && i < m->nlayers; i++)
        any |= m->layer[i].kind == &kind_activity_regularization;
    return any;
}

/* The weights' regularization penalties, and their gradients when grad. */
static void emit_weight_penalties(Emit *e, const char *acc, int grad)
{
    const Model *m = e->m;
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++) {
            const Param *p = ir_param_at(&m->layer[i], k);
            if (!p->reg.on)
                continue;
            buf_printf(e->b, "    %s += seqrt_regularize(net->param.%s, %s, %ld, %s, %s, n); /* %s */\n", acc,
                       p->cname, grad ? arena_printf("net->grad.%s", p->cname) : "NULL", shape_size(&p->shape),
                       float_literal(p->reg.l1), float_literal(p->reg.l2), p->name);
        }
}

static void emit_backward(Emit *e)
{
    const Model *m = e->m;
    buf_printf(e->b, "\nfloat %s_backward(%s *net, const float *target, int n)\n{\n", e->p, e->p);
    buf_printf(e->b, "    assert(n >= 1 && n == net->rows);\n");
    buf_printf(e->b, "\n    /* loss: %s, mean over the batch", seqrt_loss_name(m->loss));
    if (m->loss_on_logits)
        buf_printf(e->b, ", from the output logits");
    else if (m->loss_from_logits)
        buf_printf(e->b, ", computed from the logits (gradient p - t)");
    if (m->class_weight)
        buf_printf(e->b, ", rows weighted by class");
    buf_printf(e->b, " */\n");
    if (loss_has_args(m)) {
        emit_loss_fn(e);
        buf_printf(e->b, "    float loss = seqrt_loss_fn(&loss_fn, %s, %s, %s, target, n, %d);\n",
                   buf_ptr(e, m->layer[m->grad_start].dy_buf), value_of(e, m->nlayers - 1, 0), logits_of(e), m->out);
    } else {
        buf_printf(e->b, "    float loss = seqrt_loss(%s, %s, %s, %s, target, n, %d);\n", loss_ids[m->loss],
                   buf_ptr(e, m->layer[m->grad_start].dy_buf), value_of(e, m->nlayers - 1, 0), logits_of(e), m->out);
    }
    for (int i = m->grad_start; i >= m->grad_end; i--)
        emit_backward_layer(e, i);
    int first = 1;
    for (int i = 0; i < m->grad_end; i++) {
        const Layer *l = &m->layer[i];
        if (l->kind != &kind_activity_regularization)
            continue;
        const Regularizer *r = l->attr;
        if (first)
            buf_printf(e->b, "\n    /* activity penalties before the first trainable layer: no gradient */\n");
        first = 0;
        buf_printf(e->b, "    loss += seqrt_activity_regularize(%s, NULL, n, %ld, %s, %s); /* %d */\n",
                   value_of(e, i - 1, 0), shape_size(&l->out), float_literal(r->l1), float_literal(r->l2), l->index);
    }
    if (has_weight_penalty(m)) {
        buf_printf(e->b, "\n    /* weight regularization penalties, added to the loss and its gradients */\n");
        emit_weight_penalties(e, "loss", 1);
    }
    buf_printf(e->b, "    return loss;\n}\n");
}

/* NAME_penalty: the regularization penalties on the state as the last
 * forward left it, for the driver's reported losses (evaluation). */
static void emit_penalty(Emit *e)
{
    const Model *m = e->m;
    if (!model_has_penalty(m))
        return;
    e->has_penalty = 1;
    buf_printf(e->b, "\nfloat %s_penalty(%s *net, int n)\n{\n    float p = 0.0f;\n    (void)n;\n", e->p, e->p);
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (l->kind != &kind_activity_regularization)
            continue;
        const Regularizer *r = l->attr;
        buf_printf(e->b, "    p += seqrt_activity_regularize(%s, NULL, n, %ld, %s, %s); /* %d: activity */\n",
                   inference_value(e, i - 1), shape_size(&l->out), float_literal(r->l1), float_literal(r->l2),
                   l->index);
    }
    emit_weight_penalties(e, "p", 0);
    buf_printf(e->b, "    return p;\n}\n");
}

/* s as a C string literal. */
static const char *c_string(const char *s)
{
    Buf b = {0};
    buf_printf(&b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(&b, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            buf_printf(&b, "\\%03o", *p);
        else
            buf_printf(&b, "%c", *p);
    }
    buf_printf(&b, "\"");
    const char *r = arena_strndup(b.data, b.len);
    free(b.data);
    return r;
}

/* The schedule as a file-scope constant lr_schedule. */
static void emit_schedule(Emit *e)
{
    const seqrt_lr_schedule *s = &e->m->opt.sched;
    Buf *b = &e->consts;
    static const char *const ids[SEQRT_SCHEDULE_COUNT] = {
#define SCHEDULE(id, cls) "SEQRT_SCHEDULE_" #id,
#include "seqrt_schedules.def"
#undef SCHEDULE
    };
    if (s->kind == SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY) {
        buf_printf(b, "\nstatic const double lr_boundaries[%d] = {", s->nvalues > 1 ? s->nvalues - 1 : 1);
        for (int i = 0; i + 1 < s->nvalues; i++)
            buf_printf(b, "%s%.17g", i ? ", " : "", s->boundaries[i]);
        buf_printf(b, "%s};\nstatic const double lr_values[%d] = {", s->nvalues > 1 ? "" : "0", s->nvalues);
        for (int i = 0; i < s->nvalues; i++)
            buf_printf(b, "%s%.17g", i ? ", " : "", s->values[i]);
        buf_printf(b, "};\n");
    }
    buf_printf(b, "\n/* learning_rate=%s(...), evaluated at every step (seqrt_lr_at). */\n",
               seqrt_schedule_name(s->kind));
    buf_printf(b, "static const seqrt_lr_schedule lr_schedule = {\n    .kind = %s,\n", ids[s->kind]);
    if (s->kind == SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY) {
        buf_printf(b, "    .nvalues = %d,\n    .boundaries = lr_boundaries,\n    .values = lr_values,\n", s->nvalues);
    } else {
        buf_printf(b, "    .initial_learning_rate = %.17g,\n    .decay_steps = %.17g,\n", s->initial_learning_rate,
                   s->decay_steps);
        if (s->decay_rate != 0)
            buf_printf(b, "    .decay_rate = %.17g,\n", s->decay_rate);
        if (s->staircase)
            buf_printf(b, "    .staircase = 1,\n");
        if (s->kind == SEQRT_SCHEDULE_POLYNOMIAL_DECAY)
            buf_printf(b, "    .end_learning_rate = %.17g,\n    .power = %.17g,\n    .cycle = %d,\n",
                       s->end_learning_rate, s->power, s->cycle);
        if (s->alpha != 0)
            buf_printf(b, "    .alpha = %.17g,\n", s->alpha);
        if (s->warmup)
            buf_printf(b, "    .warmup = 1,\n    .warmup_target = %.17g,\n    .warmup_steps = %.17g,\n",
                       s->warmup_target, s->warmup_steps);
        if (s->kind == SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS)
            buf_printf(b, "    .t_mul = %.17g,\n    .m_mul = %.17g,\n", s->t_mul, s->m_mul);
    }
    buf_printf(b, "};\n");
}

static void emit_update(Emit *e)
{
    const Model *m = e->m;
    const Optimizer *o = &m->opt;
    OptSlots os;
    ir_opt_slots(m, &os);
    const char *p = e->p, *P = e->P, *mom = os.name[0] ? "(float *)&net->opt_m" : "NULL";
    Buf *b = e->b;
    buf_printf(b, "\nvoid %s_update(%s *net)\n{\n", p, p);
    buf_printf(b, "    float *w = (float *)&net->param;\n    const float *g = (const float *)&net->grad;\n");
    const char *lr = float_literal(o->lr);
    const char *lr_text = arena_printf("%.9g", o->lr);
    if (o->has_schedule) {
        emit_schedule(e);
        buf_printf(b, "    float lr = seqrt_lr_at(&lr_schedule, net->step); /* at the step count before this step */\n");
        lr = "lr";
        lr_text = arena_printf("%s(...)", seqrt_schedule_name(o->sched.kind));
    } else if (o->settable_lr) {
        buf_printf(b, "    float lr = net->learning_rate; /* ReduceLROnPlateau may change it */\n");
        lr = "lr";
    }
    buf_printf(b, "    net->step++;\n");
    /* Keras's order: clip the gradients, decay the weights, update, constrain */
    if (o->clipnorm > 0) {
        buf_printf(b, "    /* clipnorm=%.9g: each weight's gradient to that L2 norm at most */\n", o->clipnorm);
        for (int i = 0; i < m->nlayers; i++)
            for (int k = 0; k < ir_nparams(&m->layer[i]); k++) {
                const Param *q = ir_param_at(&m->layer[i], k);
                if (q->trainable)
                    buf_printf(b, "    seqrt_clip_by_norm(net->grad.%s, %ld, %s);\n", q->cname, shape_size(&q->shape),
                               float_literal(o->clipnorm));
            }
    } else if (o->global_clipnorm > 0) {
        buf_printf(b, "    /* global_clipnorm=%.9g: all the gradients together */\n", o->global_clipnorm);
        buf_printf(b, "    seqrt_clip_by_global_norm((float *)&net->grad, %s_PARAM_COUNT, %s);\n", P,
                   float_literal(o->global_clipnorm));
    } else if (o->clipvalue > 0) {
        buf_printf(b, "    /* clipvalue=%.9g: every gradient element */\n", o->clipvalue);
        buf_printf(b, "    seqrt_clip_by_value((float *)&net->grad, %s_PARAM_COUNT, %s);\n", P,
                   float_literal(o->clipvalue));
    }
    if (o->decoupled_wd)
        buf_printf(b, "    seqrt_weight_decay(w, %s_PARAM_COUNT, %s, %s); /* weight_decay=%.9g */\n", P, lr,
                   float_literal(o->weight_decay), o->weight_decay);
    if ((unsigned)o->kind >= SEQRT_OPT_COUNT)
        ir_internal_error("an optimizer that is not a seqrt_opt_kind");
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        buf_printf(b, "    /* SGD: learning_rate=%s momentum=%.9g nesterov=%s */\n", lr_text, o->momentum,
                   o->nesterov ? "True" : "False");
        buf_printf(b, "    seqrt_sgd_update(w, g, %s, %s_PARAM_COUNT, %s, %s, %d);\n", mom, P, lr,
                   float_literal(o->momentum), o->nesterov);
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        buf_printf(b, "    /* %s: learning_rate=%s beta_1=%.9g beta_2=%.9g epsilon=%.9g weight_decay=%.9g%s */\n",
                   o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW", lr_text, o->beta1, o->beta2, o->epsilon,
                   o->weight_decay, o->amsgrad ? " amsgrad=True" : "");
        if (o->amsgrad)
            buf_printf(b, "    seqrt_amsgrad_update(w, g, (float *)&net->opt_m, (float *)&net->opt_v, (float *)&net->opt_w,\n"
                          "                         %s_PARAM_COUNT, %s, %s, %s, %s, %s, net->step);\n",
                       P, lr, float_literal(o->beta1), float_literal(o->beta2), float_literal(o->epsilon),
                       float_literal(o->weight_decay));
        else
            buf_printf(b, "    seqrt_adam_update(w, g, (float *)&net->opt_m, (float *)&net->opt_v, %s_PARAM_COUNT,\n"
                          "                      %s, %s, %s, %s, %s, net->step);\n",
                       P, lr, float_literal(o->beta1), float_literal(o->beta2), float_literal(o->epsilon),
                       float_literal(o->weight_decay));
        break;
    case SEQRT_OPT_RMSPROP:
        buf_printf(b, "    /* RMSprop: learning_rate=%s rho=%.9g momentum=%.9g epsilon=%.9g%s */\n", lr_text, o->rho,
                   o->momentum, o->epsilon, o->centered ? " centered=True" : "");
        if (o->centered)
            buf_printf(b, "    seqrt_rmsprop_centered_update(w, g, (float *)&net->opt_v, %s, (float *)&net->opt_w,\n"
                          "                                  %s_PARAM_COUNT, %s, %s, %s, %s);\n",
                       mom, P, lr, float_literal(o->rho), float_literal(o->momentum), float_literal(o->epsilon));
        else
            buf_printf(b, "    seqrt_rmsprop_update(w, g, (float *)&net->opt_v, %s, %s_PARAM_COUNT,\n"
                          "                         %s, %s, %s, %s);\n",
                       mom, P, lr, float_literal(o->rho), float_literal(o->momentum), float_literal(o->epsilon));
        break;
    case SEQRT_OPT_ADAGRAD:
        buf_printf(b, "    /* Adagrad: learning_rate=%s initial_accumulator_value=%.9g epsilon=%.9g */\n", lr_text,
                   o->initial_accumulator_value, o->epsilon);
        buf_printf(b, "    seqrt_adagrad_update(w, g, (float *)&net->opt_v, %s_PARAM_COUNT, %s, %s);\n", P, lr,
                   float_literal(o->epsilon));
        break;
    case SEQRT_OPT_ADADELTA:
        buf_printf(b, "    /* Adadelta: learning_rate=%s rho=%.9g epsilon=%.9g */\n", lr_text, o->rho, o->epsilon);
        buf_printf(b, "    seqrt_adadelta_update(w, g, (float *)&net->opt_m, (float *)&net->opt_v, %s_PARAM_COUNT,\n"
                      "                          %s, %s, %s);\n", P, lr, float_literal(o->rho),
                   float_literal(o->epsilon));
        break;
    case SEQRT_OPT_ADAMAX:
        buf_printf(b, "    /* Adamax: learning_rate=%s beta_1=%.9g beta_2=%.9g epsilon=%.9g */\n", lr_text, o->beta1,
                   o->beta2, o->epsilon);
        buf_printf(b, "    seqrt_adamax_update(w, g, (float *)&net->opt_m, (float *)&net->opt_v, %s_PARAM_COUNT,\n"
                      "                        %s, %s, %s, %s, net->step);\n", P, lr, float_literal(o->beta1),
                   float_literal(o->beta2), float_literal(o->epsilon));
        break;
    case SEQRT_OPT_NADAM:
        buf_printf(b, "    /* Nadam: learning_rate=%s beta_1=%.9g beta_2=%.9g epsilon=%.9g */\n", lr_text, o->beta1,
                   o->beta2, o->epsilon);
        buf_printf(b, "    seqrt_nadam_update(w, g, (float *)&net->opt_m, (float *)&net->opt_v, &net->u_product,\n"
                      "                       %s_PARAM_COUNT, %s, %s, %s, %s, net->step);\n", P, lr,
                   float_literal(o->beta1), float_literal(o->beta2), float_literal(o->epsilon));
        break;
    case SEQRT_OPT_LION:
        buf_printf(b, "    /* Lion: learning_rate=%s beta_1=%.9g beta_2=%.9g */\n", lr_text, o->beta1, o->beta2);
        buf_printf(b, "    seqrt_lion_update(w, g, (float *)&net->opt_m, %s_PARAM_COUNT, %s, %s, %s);\n", P, lr,
                   float_literal(o->beta1), float_literal(o->beta2));
        break;
    case SEQRT_OPT_FTRL:
        buf_printf(b, "    /* Ftrl: learning_rate=%s learning_rate_power=%.9g initial_accumulator_value=%.9g\n"
                      "       l1=%.9g l2=%.9g l2_shrinkage=%.9g beta=%.9g */\n", lr_text, o->lr_power,
                   o->initial_accumulator_value, o->l1, o->l2, o->l2_shrinkage, o->beta);
        buf_printf(b, "    seqrt_ftrl_update(w, g, (float *)&net->opt_v, (float *)&net->opt_m, %s_PARAM_COUNT,\n"
                      "                      %s, %s, %s, %s, %s, %s);\n", P, lr, float_literal(o->lr_power),
                   float_literal(o->l1), float_literal(o->l2), float_literal(o->l2_shrinkage), float_literal(o->beta));
        break;
    }
    int first = 1;
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++) {
            const Param *q = ir_param_at(&m->layer[i], k);
            if (!q->con.on || !q->trainable)
                continue;
            if (first)
                buf_printf(b, "    /* constraints, after the update (Keras) */\n");
            first = 0;
            /* the norm's axes: Keras's, in seqc's layout of the weight */
            Shape view;
            unsigned reduce, kmask;
            ir_constraint_view(q, &view, &reduce, &kmask);
            static const char *const kinds[] = {"SEQRT_CONSTRAINT_MAX_NORM", "SEQRT_CONSTRAINT_NON_NEG",
                                                "SEQRT_CONSTRAINT_UNIT_NORM", "SEQRT_CONSTRAINT_MIN_MAX_NORM"};
            const char *axes = "";
            for (int a = 0; a < view.rank; a++)
                if (kmask >> a & 1u)
                    axes = arena_printf("%s%s%d", axes, *axes ? ", " : "", a);
            buf_printf(b, "    seqrt_constrain(%s, net->param.%s, %d, %s, 0x%xu,\n"
                          "                    %s, %s, %s); /* %s: Keras %s, axis=[%s] */\n",
                       kinds[q->con.kind], q->cname, view.rank, emit_dims(&view), reduce,
                       float_literal(q->con.min_value), float_literal(q->con.max_value), float_literal(q->con.rate),
                       q->name, ir_keras_shape(q), axes);
        }
    buf_printf(b, "}\n");
    buf_printf(b, "\nfloat %s_train_step(%s *net, const float *x, const float *target, int n)\n{\n", p, p);
    buf_printf(b, "    %s_forward(net, x, NULL, n, 1);\n    float loss = %s_backward(net, target, n);\n", p, p);
    buf_printf(b, "    %s_update(net);\n    return loss;\n}\n", p);
}

/* ---------------------------------------------------------------- tables */

static void emit_tensor_table(Buf *b, const Emit *e)
{
    TensorRow *t;
    int n = ir_tensors(e->m, &t);
    buf_printf(b, "\n/* Checkpoint names: a PyTorch nn.Sequential state_dict, indexed by layer\n"
                  " * statement; optimizer slots under \"optimizer.\", counters under \"train.\". */\n");
    buf_printf(b, "static const seqrt_tensor %s_tensors[] = {\n", e->p);
    static const char *const kinds[] = {"SEQRT_T_PARAM", "SEQRT_T_BUFFER", "SEQRT_T_OPTIM", "SEQRT_T_STATE",
                                        "SEQRT_T_GRAD"};
    for (int i = 0; i < n; i++) {
        buf_printf(b, "    {\"%s\", %s, %s, offsetof(%s, %s), %d, {", t[i].name, kinds[t[i].kind],
                   t[i].dtype == SEQRT_I64 ? "SEQRT_I64" : "SEQRT_F32", e->p, t[i].member, t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++)
            buf_printf(b, "%s%d", d ? ", " : "", t[i].shape[d]);
        buf_printf(b, "%s}},\n", t[i].ndim ? "" : "0");
    }
    buf_printf(b, "};\n");
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= t[i].fill != 0;
    if (any) {
        buf_printf(b, "\n/* The value each element of a fresh optimizer tensor holds (a weights-only\n"
                      " * load puts it back), by row of %s_tensors. */\n", e->p);
        buf_printf(b, "static const float %s_tensor_fill[] = {", e->p);
        for (int i = 0; i < n; i++)
            buf_printf(b, "%s%s", i ? ", " : "", t[i].fill != 0 ? float_literal(t[i].fill) : "0");
        buf_printf(b, "};\n");
    }
}

static void shape_init(Buf *b, const char *field, const Shape *s)
{
    buf_printf(b, "    .%s_rank = %d,\n    .%s_shape = {", field, s->rank, field);
    for (int i = 0; i < s->rank; i++)
        buf_printf(b, "%s%d", i ? ", " : "", s->dim[i]);
    buf_printf(b, "},\n");
}

static void emit_descriptor(Buf *b, const Emit *e)
{
    const Model *m = e->m;
    const char *p = e->p, *P = e->P;
    buf_printf(b, "\nstatic void init_v(void *net, uint64_t seed) { %s_init(net, seed); }\n", p);
    buf_printf(b, "static void forward_v(void *net, const float *x, float *y, int n, int training)\n"
                  "{\n    %s_forward(net, x, y, n, training);\n}\n", p);
    if (e->training) {
        buf_printf(b, "static float backward_v(void *net, const float *t, int n) { return %s_backward(net, t, n); }\n",
                   p);
        buf_printf(b, "static void update_v(void *net) { %s_update(net); }\n", p);
        buf_printf(b, "static float train_step_v(void *net, const float *x, const float *t, int n)\n"
                      "{\n    return %s_train_step(net, x, t, n);\n}\n", p);
        if (e->has_penalty)
            buf_printf(b, "static float penalty_v(void *net, int n) { return %s_penalty(net, n); }\n", p);
    }
    buf_printf(b, "\nconst seqrt_model %s_model = {\n", p);
    buf_printf(b, "    .name = \"%s\",\n    .in = %s_IN,\n    .out = %s_OUT,\n", p, P, P);
    shape_init(b, "in", &m->in_shape);
    shape_init(b, "out", &m->out_shape);
    buf_printf(b, "    .max_batch = %s_MAX_BATCH,\n    .state_bytes = sizeof(%s),\n", P, p);
    if (e->training) {
        buf_printf(b, "    .loss = %s,\n", loss_ids[m->loss]);
        if (m->loss_on_logits)
            buf_printf(b, "    .output_is_logits = 1,\n");
    } else {
        buf_printf(b, "    .loss = -1, /* inference only */\n");
    }
    if (m->nmetrics) {
        buf_printf(b, "    .nmetrics = %d,\n    .metrics = {", m->nmetrics);
        for (int i = 0; i < m->nmetrics; i++)
            buf_printf(b, "%s%s", i ? ", " : "", metric_ids[m->metric[i]]);
        buf_printf(b, "},\n    .metric_labels = {");
        for (int i = 0; i < m->nmetrics; i++)
            buf_printf(b, "%s\"%s\"", i ? ", " : "", m->metric_label[i]);
        buf_printf(b, "}, /* as the model file names them */\n");
        int any = 0;
        for (int i = 0; i < m->nmetrics; i++)
            any |= m->metric_args[i].given;
        if (any) {
            buf_printf(b, "    .metric_args = { /* threshold, k, num_thresholds, curve, summation, class_id,\n"
                          "                      from_logits, label_smoothing, aggregation, num_regressors, last axis */\n");
            for (int i = 0; i < m->nmetrics; i++) {
                const seqrt_metric_args *a = &m->metric_args[i];
                if (a->given)
                    buf_printf(b, "        [%d] = {1, %s, %d, %d, %d, %d, %d, %d, %s, %d, %d, %d},\n", i,
                               float_literal(a->threshold), a->k, a->num_thresholds, a->curve, a->summation,
                               a->class_id, a->from_logits, float_literal(a->label_smoothing), a->aggregation,
                               a->num_regressors, a->axis_len);
            }
            buf_printf(b, "    },\n");
        }
    }
    if (e->has_loss_fn)
        buf_printf(b, "    .loss_fn = &loss_fn,\n");
    if (e->has_penalty)
        buf_printf(b, "    .penalty = penalty_v,\n");
    if (m->opt.settable_lr)
        buf_printf(b, "    .lr_offset = offsetof(%s, learning_rate),\n", p);
    {
        TensorRow *t;
        int nt = ir_tensors(m, &t), any = 0;
        for (int i = 0; i < nt; i++)
            any |= t[i].fill != 0;
        if (any)
            buf_printf(b, "    .tensor_fill = %s_tensor_fill,\n", p);
    }
    buf_printf(b, "    .tensors = %s_tensors,\n    .ntensors = sizeof %s_tensors / sizeof %s_tensors[0],\n", p, p, p);
    long np = ir_param_count(m, 1), nb = ir_param_count(m, 0);
    const char *first = np ? "param" : nb ? "buffer" : NULL;
    if (first)
        buf_printf(b, "    .weights_offset = offsetof(%s, %s),\n"
                      "    .weights_bytes = sizeof(float) * (%s_PARAM_COUNT + %s_BUFFER_COUNT),\n", p, first, P, P);
    if (np) {
        buf_printf(b, "    .param_offset = offsetof(%s, param),\n", p);
        if (e->training)
            buf_printf(b, "    .grad_offset = offsetof(%s, grad),\n", p);
        buf_printf(b, "    .param_count = %s_PARAM_COUNT,\n", P);
    }
    const Layer *l0 = &m->layer[0];
    if (l0->kind == &kind_normalization)
        buf_printf(b, "    .norm_mean_offset = offsetof(%s, buffer.%s), /* Normalization, adapted before fit */\n"
                      "    .norm_var_offset = offsetof(%s, buffer.%s),\n    .norm_features = %ld,\n", p,
                   ir_param(l0, "mean")->cname, p, ir_param(l0, "variance")->cname,
                   shape_size(&ir_param(l0, "mean")->shape));
    if (l0->kind == &kind_embedding)
        buf_printf(b, "    .input_ids = %d, /* Embedding first: the input is ids below this */\n",
                   ir_param(l0, "embeddings")->shape.dim[0]);
    buf_printf(b, "    .step_offset = offsetof(%s, step),\n    .epoch_offset = offsetof(%s, epoch),\n", p, p);
    buf_printf(b, "    .fit = {\n        .batch_size = %d,\n        .epochs = %d,\n        .shuffle = %d,\n"
                  "        .validation_split = %s,\n        .seed = %lluu,\n        .verbose = %d,\n",
               m->batch_size, m->epochs, m->shuffle, float_literal(m->validation_split),
               (unsigned long long)m->seed, m->verbose);
    if (m->initial_epoch)
        buf_printf(b, "        .initial_epoch = %d,\n", m->initial_epoch);
    const EarlyStopping *es = &m->es;
    if (es->enabled) {
        buf_printf(b, "        .early_stopping = {\n            .enabled = 1,\n            .monitor = \"%s\",\n"
                      "            .min_delta = %s,\n            .patience = %d,\n            .mode = %d,\n"
                      "            .restore_best_weights = %d,\n            .start_from_epoch = %d,\n",
                   es->monitor, float_literal(es->min_delta), es->patience, es->mode, es->restore_best_weights,
                   es->start_from_epoch);
        buf_printf(b, "        },\n");
        if (es->order)
            buf_printf(b, "        .early_stopping_order = %d,\n", es->order);
        if (es->has_baseline)
            buf_printf(b, "        .early_stopping_has_baseline = 1,\n        .early_stopping_baseline = %s,\n",
                       float_literal(es->baseline));
    }
    if (m->ncb) {
        static const char *const kinds[] = {"SEQRT_CB_REDUCE_LR_ON_PLATEAU", "SEQRT_CB_MODEL_CHECKPOINT",
                                            "SEQRT_CB_CSV_LOGGER", "SEQRT_CB_TERMINATE_ON_NAN"};
        buf_printf(b, "        .ncallbacks = %d,\n        .callbacks = {\n", m->ncb);
        for (int i = 0; i < m->ncb; i++) {
            const seqrt_callback *c = &m->cb[i].cb;
            buf_printf(b, "            {.kind = %s, .order = %d", kinds[c->kind], c->order);
            if (c->monitor)
                buf_printf(b, ", .monitor = \"%s\", .mode = %d", c->monitor, c->mode);
            switch ((seqrt_callback_kind)c->kind) {
            case SEQRT_CB_REDUCE_LR_ON_PLATEAU:
                buf_printf(b, ",\n             .factor = %s, .patience = %d, .min_delta = %s, .cooldown = %d, "
                              ".min_lr = %s", float_literal(c->factor), c->patience, float_literal(c->min_delta),
                           c->cooldown, float_literal(c->min_lr));
                break;
            case SEQRT_CB_MODEL_CHECKPOINT:
                buf_printf(b, ",\n             .path = %s, .save_best_only = %d, .save_weights_only = %d",
                           c_string(c->path), c->save_best_only, c->save_weights_only);
                if (c->has_initial_value)
                    buf_printf(b, ", .has_initial_value = 1, .initial_value = %s", float_literal(c->initial_value));
                break;
            case SEQRT_CB_CSV_LOGGER:
                buf_printf(b, ",\n             .path = %s, .separator = %d, .append = %d", c_string(c->path),
                           c->separator, c->append);
                break;
            case SEQRT_CB_TERMINATE_ON_NAN:
                buf_printf(b, ", .raise_error = %d", c->raise_error);
                break;
            }
            if (c->verbose)
                buf_printf(b, ", .verbose = %d", c->verbose);
            buf_printf(b, "},\n");
        }
        buf_printf(b, "        },\n");
    }

    buf_printf(b, "    },\n    .init = init_v,\n    .forward = forward_v,\n");
    if (e->training)
        buf_printf(b, "    .backward = backward_v,\n    .update = update_v,\n    .train_step = train_step_v,\n");
    buf_printf(b, "};\n");
}

/* The activation constants the code uses, before the code. */
static void emit_act_constants(Buf *b, const Emit *e)
{
    if (!e->nacts)
        return;
    buf_printf(b, "\n/* The activations and their parameters (seqrt_acts.def). */\n");
    for (int i = 0; i < e->nacts; i++) {
        Act a = e->acts[i];
        int np = seqrt_act_nparams(a.kind);
        buf_printf(b, "static const seqrt_actfn %s = {%s, {", e->act_names[i], act_ids[a.kind]);
        for (int k = 0; k < (np ? np : 1); k++)
            buf_printf(b, "%s%s", k ? ", " : "", float_literal(np ? a.p[k] : 0.0));
        buf_printf(b, "}}; /* %s */\n", act_str(a));
    }
}

static void emit_source(Buf *b, Emit *e, const char *file)
{
    buf_printf(b, "/*\n * %s.c - model '%s', generated by seqc %s from %s. Do not edit.\n", e->p, e->m->name,
               SEQC_VERSION, file);
    buf_printf(b, " * Forward is one block per layer in order; backward one per layer in\n"
                  " * reverse. Every kernel is a seqrt_* function of the runtime.\n */\n");
    buf_printf(b, "#include <assert.h>\n#include <stddef.h>\n#include <string.h>\n\n#include \"%s.h\"\n\n", e->p);
    buf_printf(b, "/* The layout of the state is part of the checkpoint format and of\n"
                  " * %s_STATE_BYTES: check it at compile time. */\n", e->P);
    buf_printf(b, "typedef char %s_state_bytes_check[sizeof(%s) == %s_STATE_BYTES ? 1 : -1];\n", e->p, e->p, e->P);
    e->b = &e->code;
    emit_init(e);
    emit_forward(e);
    if (e->training) {
        emit_backward(e);
        emit_update(e);
        emit_penalty(e);
    }
    emit_act_constants(b, e);
    if (e->nstatics) {
        buf_printf(b, "\n/* The geometry of the layers' windows (seqrt_window). */\n");
        buf_printf(b, "%.*s", (int)e->statics.len, e->statics.data);
        free(e->statics.data);
        e->statics = (Buf){0};
    }
    if (e->consts.len)
        buf_printf(b, "%.*s", (int)e->consts.len, e->consts.data);
    buf_printf(b, "%.*s", (int)e->code.len, e->code.data);
    free(e->code.data);
    free(e->consts.data);
    e->code = (Buf){0};
    e->consts = (Buf){0};
    e->b = NULL;
    emit_tensor_table(b, e);
    emit_descriptor(b, e);
}

static void setup(Emit *e, const Model *m)
{
    memset(e, 0, sizeof *e);
    e->m = m;
    e->p = m->name;
    e->P = upper_name(m->name);
    e->training = m->has_loss;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layer[i].kind->seed && m->layer[i].kind->seed(&m->layer[i]) >= 0)
            e->nrng++;
    if (!m->planned)
        ir_internal_error("the emitter needs the buffer plan (pass_plan)");
}

void emit_model_buffers(const Model *m, Buf *h, Buf *c)
{
    Emit e;
    setup(&e, m);
    const char *file = base_name(m->src->path);
    emit_header(h, &e, file);
    emit_source(c, &e, file);
}

int emit_model(const Model *m, const EmitOptions *opt)
{
    Buf h = {0}, src = {0}, mb = {0};
    emit_model_buffers(m, &h, &src);
    const char *file = base_name(m->src->path);
    const char *paths[3] = {arena_printf("%s/%s.h", opt->outdir, m->name),
                            arena_printf("%s/%s.c", opt->outdir, m->name),
                            arena_printf("%s/%s_main.c", opt->outdir, m->name)};
    const Buf *bufs[3] = {&h, &src, &mb};
    if (opt->main_program) {
        buf_printf(&mb, "/*\n * %s_main.c - the train/evaluate/predict program for model '%s',\n"
                        " * generated by seqc %s from %s. Do not edit. Run `%s --help`.\n */\n",
                   m->name, m->name, SEQC_VERSION, file, m->name);
        buf_printf(&mb, "#include \"seqrt_driver.h\"\n#include \"%s.h\"\n\nint main(int argc, char **argv)\n{\n"
                        "    return seqrt_main(&%s_model, argc, argv);\n}\n", m->name, m->name);
    }
    int rc = write_files_atomic(paths, bufs, opt->main_program ? 3 : 2);
    free(mb.data);
    free(h.data);
    free(src.data);
    return rc;
}
