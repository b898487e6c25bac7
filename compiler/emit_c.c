/*
 * emit_c.c - IR -> NAME.h and NAME.c: the model as plain, readable C.
 *
 * The generated state is one struct with no pointers, so `static NAME net;`
 * works and a checkpoint is a table of offsets into it:
 *
 *     int64 counters, RNG states            (fixed size, first: no padding)
 *     NAME_params param                     every trainable parameter, one block
 *     NAME_buffers buffer                   running statistics (non-trainable)
 *     NAME_params grad, opt_m, opt_v        same layout as param
 *     float input[], lK_* buffers           activations for MAX_BATCH rows
 *     float grad_a[], grad_b[]              gradients between layers
 *
 * Forward is one block per layer in order, backward one block per layer in
 * reverse, each a call of a runtime kernel pair with every size a literal.
 * Names depend only on statement indices (l3_weight, l3_y), so adding a
 * layer changes only nearby lines of a golden file. Nothing in the output
 * depends on time, paths beyond the file's base name, or addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

static const char *const act_ids[] = {
#define ACT(id, name) "SEQRT_ACT_" #id,
#include "seqrt_acts.def"
#undef ACT
};

static const char *const init_ids[] = {
    "SEQRT_INIT_ZEROS", "SEQRT_INIT_ONES", "SEQRT_INIT_GLOROT_UNIFORM",
    "SEQRT_INIT_GLOROT_NORMAL", "SEQRT_INIT_HE_UNIFORM", "SEQRT_INIT_HE_NORMAL",
    "SEQRT_INIT_LECUN_UNIFORM", "SEQRT_INIT_LECUN_NORMAL",
    "SEQRT_INIT_RANDOM_UNIFORM", "SEQRT_INIT_RANDOM_NORMAL",
};

static const char *const loss_ids[] = {
    "SEQRT_LOSS_MAE", "SEQRT_LOSS_MSE", "SEQRT_LOSS_HUBER",
    "SEQRT_LOSS_BINARY_CROSSENTROPY", "SEQRT_LOSS_CATEGORICAL_CROSSENTROPY",
    "SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY",
};

static const char *const metric_ids[] = {
    "SEQRT_METRIC_BINARY_ACCURACY", "SEQRT_METRIC_CATEGORICAL_ACCURACY",
    "SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY", "SEQRT_METRIC_MAE",
    "SEQRT_METRIC_MSE",
};

/* ---------------------------------------------------------------- layout */

typedef struct {
    const Model *m;
    const char *p;          /* prefix: the model name */
    const char *P;          /* upper-case prefix */
    int training;           /* the model has a loss: backward, update */
    int first_trainable;    /* lowest layer with trainable parameters */
    int start;              /* the layer backward starts at */
    int skip_last_act;      /* start's activation is folded into the loss */
    const char *logits;     /* logits pointer for the loss, or NULL */
    int widest;
    long nfloats;           /* floats in the state after the counters */
    int nrng;               /* seeded Dropout layers with their own RNG */
    int has_m, has_v;       /* optimizer slots */
    long nbuffer;
    const char **gout;      /* per layer: its output gradient buffer */
    const char **gin;       /* per layer: its input gradient buffer */
    int *dy_used;           /* -O0: which layers own a gradient buffer */
    int input_dy_used;
} Ctx;

static char *upper(const char *s)
{
    char *u = arena_strdup(s);
    for (char *c = u; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    return u;
}

/* "l3" for a layer of statement 3; "l3_act" for the activation split out
 * of Dense statement 3 by canonicalize. */
static const char *tag(const Layer *l)
{
    if (l->op == OP_ACTIVATION && l->act_index == l->index)
        return arena_printf("l%d_act", l->index);
    return arena_printf("l%d", l->index);
}

static int has_z(const Layer *l)
{
    return l->op == OP_DENSE && (l->act != SEQRT_ACT_LINEAR || l->norm != OP_COUNT);
}

static int has_norm_state(const Layer *l)
{
    return l->op == OP_BATCHNORM || l->op == OP_LAYERNORM || (l->op == OP_DENSE && l->norm != OP_COUNT);
}

static OpKind norm_of(const Layer *l)
{
    return l->op == OP_DENSE ? l->norm : l->op;
}

/* The pointer to layer i's output. */
static const char *out_of(const Ctx *c, int i, int fwd);

static const char *in_of(const Ctx *c, int i, int fwd)
{
    if (i == 0)
        return fwd ? "x" : "net->input";
    return out_of(c, i - 1, fwd);
}

static const char *out_of(const Ctx *c, int i, int fwd)
{
    const Layer *l = &c->m->layer[i];
    if (l->op == OP_FLATTEN)
        return in_of(c, i, fwd);
    if (l->op == OP_DROPOUT && fwd)   /* training ? the masked copy : x */
        return arena_printf("%s_out", tag(l));
    return arena_printf("net->%s_y", tag(l));
}

static const Param *find_param(const Layer *l, ParamRole role)
{
    for (int k = 0; k < l->nparam; k++)
        if (l->param[k].role == role)
            return &l->param[k];
    return NULL;
}

static const char *param_ptr(const Layer *l, ParamRole role, const char *block)
{
    const Param *p = find_param(l, role);
    if (!p)
        return "NULL";
    if (!p->trainable)
        block = "buffer";
    return arena_printf("net->%s.%s", block, p->cname);
}

static long param_size(const Param *p)
{
    return (long)p->rows * (p->cols ? p->cols : 1);
}

/* -O0 (no plan): the buffer of d loss / d output of layer i, owned by the
 * nearest layer at or before i that is not a Flatten (whose gradient is
 * its input's), or the model input's. Records which buffers exist. */
static const char *dy_of(Ctx *c, int i)
{
    while (i >= 0 && c->m->layer[i].op == OP_FLATTEN)
        i--;
    if (i < 0) {
        c->input_dy_used = 1;
        return "net->input_dy";
    }
    c->dy_used[i] = 1;
    return arena_printf("net->%s_dy", tag(&c->m->layer[i]));
}

static void plan_gradients(Ctx *c)
{
    const Model *m = c->m;
    int n = m->nlayers;
    c->gout = arena_alloc(sizeof(char *) * (size_t)n);
    c->gin = arena_alloc(sizeof(char *) * (size_t)n);
    c->dy_used = arena_alloc(sizeof(int) * (size_t)n);
    int cur = 0;
    const char *buf = m->planned ? "net->grad_a" : NULL;
    for (int i = c->start; i >= c->first_trainable; i--) {
        const Layer *l = &m->layer[i];
        if (!c->gout[i])
            c->gout[i] = buf ? buf : dy_of(c, i);
        if (l->op == OP_FLATTEN) {
            c->gin[i] = c->gout[i];
        } else if (i > c->first_trainable || l->op != OP_DENSE) {
            if (m->planned) {
                cur ^= 1;
                c->gin[i] = cur ? "net->grad_b" : "net->grad_a";
            } else {
                c->gin[i] = dy_of(c, i - 1);
            }
        }
        buf = c->gin[i];
        if (i > 0)
            c->gout[i - 1] = c->gin[i];
    }
}

static void layout(Ctx *c, const Model *m)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->p = m->name;
    c->P = upper(m->name);
    c->training = m->loss >= 0;
    c->first_trainable = m->nlayers;
    c->widest = m->in;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (l->out > c->widest)
            c->widest = l->out;
        for (int k = 0; k < l->nparam; k++)
            if (l->param[k].trainable && c->first_trainable > i)
                c->first_trainable = i;
            else if (!l->param[k].trainable)
                c->nbuffer += param_size(&l->param[k]);
        if (l->op == OP_DROPOUT && l->seed >= 0)
            c->nrng++;
    }
    int last = m->nlayers - 1;
    const Layer *L = &m->layer[last];
    c->start = last;
    if (m->loss_on_logits) {
        c->logits = out_of(c, last, 0);
    } else if (m->loss_from_logits) {
        if (L->op == OP_ACTIVATION) {
            c->start = last - 1;
            c->logits = in_of(c, last, 0);
        } else {
            c->skip_last_act = 1;
            c->logits = arena_printf("net->%s_z", tag(L));
        }
    }
    const char *slot_m, *slot_v;
    ir_opt_slots(m, &slot_m, &slot_v);
    c->has_m = slot_m != NULL;
    c->has_v = slot_v != NULL;
    if (c->training)
        plan_gradients(c);
}

/* ---------------------------------------------------------------- header */

static void emit_params_struct(Buf *b, const Ctx *c, int trainable, const char *name, const char *what)
{
    buf_printf(b, "/* %s */\ntypedef struct %s_%s {\n", what, c->p, name);
    for (int i = 0; i < c->m->nlayers; i++) {
        const Layer *l = &c->m->layer[i];
        for (int k = 0; k < l->nparam; k++) {
            const Param *p = &l->param[k];
            if (p->trainable != trainable)
                continue;
            if (p->cols)
                buf_printf(b, "    float %s[%d * %d]; /* %s (%d, %d) */\n", p->cname, p->rows, p->cols, p->name,
                           p->rows, p->cols);
            else
                buf_printf(b, "    float %s[%d]; /* %s (%d) */\n", p->cname, p->rows, p->name, p->rows);
        }
    }
    buf_printf(b, "} %s_%s;\n\n", c->p, name);
}

static void member(Buf *b, Ctx *c, const char *name, long rows, long cols, const char *what)
{
    if (cols)
        buf_printf(b, "    float %s[%ld * %ld]; /* (%ld, %ld) %s */\n", name, rows, cols, rows, cols, what);
    else
        buf_printf(b, "    float %s[%ld]; /* (%ld) %s */\n", name, rows, rows, what);
    c->nfloats += rows * (cols ? cols : 1);
}

static void emit_struct(Buf *b, Ctx *c)
{
    const Model *m = c->m;
    long B = m->batch_size, P = ir_param_count(m, 1);
    c->nfloats = 0;
    buf_printf(b, "/* The whole state of the model: plain arrays, no pointers. */\n");
    buf_printf(b, "struct %s {\n", c->p);
    buf_printf(b, "    int64_t step;            /* optimizer steps taken */\n");
    buf_printf(b, "    int64_t epoch;           /* epochs completed (seqrt_fit) */\n");
    buf_printf(b, "    int64_t rows;            /* rows of the last forward */\n");
    buf_printf(b, "    seqrt_rng rng;           /* initializers, then Dropout */\n");
    for (int i = 0; i < m->nlayers; i++)
        if (m->layer[i].op == OP_DROPOUT && m->layer[i].seed >= 0)
            buf_printf(b, "    seqrt_rng rng_%s;         /* Dropout(seed=%lld) */\n", tag(&m->layer[i]),
                       (long long)m->layer[i].seed);
    if (P)
        buf_printf(b, "    %s_params param;     /* trainable parameters */\n", c->p);
    if (c->nbuffer)
        buf_printf(b, "    %s_buffers buffer;   /* non-trainable state */\n", c->p);
    c->nfloats += P + c->nbuffer;
    if (c->training) {
        buf_printf(b, "    %s_params grad;      /* d loss / d param */\n", c->p);
        c->nfloats += P;
        if (c->has_m) {
            buf_printf(b, "    %s_params opt_m;     /* %s */\n", c->p,
                       m->opt.kind == SEQRT_OPT_SGD || m->opt.kind == SEQRT_OPT_RMSPROP ? "momentum"
                                                                                        : "first moment");
            c->nfloats += P;
        }
        if (c->has_v) {
            buf_printf(b, "    %s_params opt_v;     /* %s */\n", c->p,
                       m->opt.kind == SEQRT_OPT_RMSPROP ? "mean square (velocity)" : "second moment");
            c->nfloats += P;
        }
    }
    buf_printf(b, "    /* activations, for up to %ld rows */\n", B);
    member(b, c, "input", B, m->in, "copy of x, for backward");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        const char *t = tag(l);
        long C = l->out;
        if (l->op == OP_FLATTEN)
            continue;
        if (has_z(l))
            member(b, c, arena_printf("%s_z", t), B, C, "dense output before norm/activation");
        if (has_norm_state(l)) {
            member(b, c, arena_printf("%s_xhat", t), B, C, "normalized");
            long s = norm_of(l) == OP_BATCHNORM ? C : B;
            member(b, c, arena_printf("%s_mean", t), s, 0, "mean");
            member(b, c, arena_printf("%s_invstd", t), s, 0, "1 / sqrt(var + epsilon)");
        }
        if (l->op == OP_DROPOUT)
            member(b, c, arena_printf("%s_mask", t), B, C, "0 or 1 / (1 - rate)");
        member(b, c, arena_printf("%s_y", t), B, C, arena_printf("output of layer %d", i));
    }
    if (c->training) {
        if (m->planned) {
            buf_printf(b, "    /* gradients between layers, reused in turn */\n");
            member(b, c, "grad_a", B, c->widest, "d loss / d activation");
            member(b, c, "grad_b", B, c->widest, "d loss / d activation");
        } else {
            buf_printf(b, "    /* gradients between layers */\n");
            for (int i = 0; i < m->nlayers; i++)
                if (c->dy_used[i])
                    member(b, c, arena_printf("%s_dy", tag(&m->layer[i])), B, m->layer[i].out,
                           "d loss / d output");
            if (c->input_dy_used)
                member(b, c, "input_dy", B, m->in, "d loss / d input (unused)");
        }
    }
    buf_printf(b, "};\n\n");
}

static long state_bytes(const Ctx *c)
{
    long bytes = 8 * 3 + 16 * (1 + c->nrng) + 4 * c->nfloats;
    return (bytes + 7) / 8 * 8;
}

static void emit_header(Buf *b, Ctx *c, const char *file)
{
    const Model *m = c->m;
    Buf body = {0};
    emit_struct(&body, c);   /* computes nfloats for STATE_BYTES */
    buf_printf(b, "/*\n * %s.h - model '%s', generated by seqc %s from %s. Do not edit.\n", c->p, m->name,
               SEQC_VERSION, file);
    buf_printf(b, " *\n * Layers (IR after optimization):\n");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        buf_printf(b, " *   %d: %s", l->index, op_names[l->op]);
        if (l->op == OP_DENSE && l->norm != OP_COUNT)
            buf_printf(b, " + %s", op_names[l->norm]);
        if (l->act != SEQRT_ACT_LINEAR)
            buf_printf(b, " %s%s", l->op == OP_DENSE ? "+ " : "", seqrt_act_name(l->act));
        buf_printf(b, " %d -> %d\n", l->in, l->out);
    }
    if (c->training)
        buf_printf(b, " * Loss: %s. Optimizer: %s.\n", seqrt_loss_name(m->loss),
                   (const char *[]){"SGD", "Adam", "AdamW", "RMSprop"}[m->opt.kind]);
    buf_printf(b, " *\n * x: (n, %s_IN) row-major floats; y: (n, %s_OUT); 1 <= n <= %s_MAX_BATCH.\n", c->P, c->P,
               c->P);
    buf_printf(b, " * Targets: %s.\n */\n",
               m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ? "one-hot rows (n, OUT)"
               : m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? "the class index of each row, as a float (n)"
               : m->loss < 0 ? "none (inference only: the model has no compile())"
                             : "one float per output (n, OUT)");
    buf_printf(b, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n#include \"seqrt_kernels.h\"\n\n", c->P, c->P);
    buf_printf(b, "#define %s_IN %d\n#define %s_OUT %d\n#define %s_MAX_BATCH %d\n", c->P, m->in, c->P, m->out, c->P,
               m->batch_size);
    buf_printf(b, "#define %s_PARAM_COUNT %ld /* trainable parameters */\n", c->P, ir_param_count(m, 1));
    buf_printf(b, "#define %s_BUFFER_COUNT %ld /* non-trainable parameters */\n", c->P, c->nbuffer);
    buf_printf(b, "#define %s_STATE_BYTES %ld /* sizeof(%s) */\n\n", c->P, state_bytes(c), c->p);
    if (ir_param_count(m, 1))
        emit_params_struct(b, c, 1, "params", "Trainable parameters, one block; PyTorch layout.");
    if (c->nbuffer)
        emit_params_struct(b, c, 0, "buffers", "Non-trainable state: running statistics.");
    buf_printf(b, "typedef struct %s %s;\n", c->p, c->p);
    buf_printf(b, "%.*s", (int)body.len, body.data);
    free(body.data);
    const char *p = c->p;
    buf_printf(b, "/* Keras initializers, seeded; zeroes everything else. */\n");
    buf_printf(b, "void %s_init(%s *net, uint64_t seed);\n", p, p);
    buf_printf(b, "/* y = model(x); training != 0: batch statistics, Dropout, and what\n"
                  " * backward needs is kept. y may be NULL. */\n");
    buf_printf(b, "void %s_forward(%s *net, const float *x, float *y, int n, int training);\n", p, p);
    if (c->training) {
        buf_printf(b, "/* After a training forward of the same n rows: returns the mean loss and\n"
                      " * fills net->grad. */\n");
        buf_printf(b, "float %s_backward(%s *net, const float *target, int n);\n", p, p);
        buf_printf(b, "/* One optimizer step with net->grad. */\n");
        buf_printf(b, "void %s_update(%s *net);\n", p, p);
        buf_printf(b, "/* forward(training) + backward + update; returns the batch loss. */\n");
        buf_printf(b, "float %s_train_step(%s *net, const float *x, const float *target, int n);\n", p, p);
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

/* ---------------------------------------------------------------- forward */

static void emit_forward_layer(Buf *b, const Ctx *c, int i)
{
    const Layer *l = &c->m->layer[i];
    const char *t = tag(l), *x = in_of(c, i, 1), *y = out_of(c, i, 1);
    int C = l->out;
    buf_printf(b, "\n    /* %d: %s", l->index, op_names[l->op]);
    if (l->op == OP_DENSE && l->norm != OP_COUNT)
        buf_printf(b, " + %s (%d)", op_names[l->norm], l->norm_index);
    if (l->act != SEQRT_ACT_LINEAR)
        buf_printf(b, " %s%s", l->op == OP_DENSE ? "+ " : "", seqrt_act_name(l->act));
    buf_printf(b, ", (n, %d) -> (n, %d) */\n", l->in, l->out);
    switch (l->op) {
    case OP_DENSE: {
        const char *w = param_ptr(l, P_KERNEL, "param"), *bias = param_ptr(l, P_BIAS, "param");
        if (l->norm == OP_COUNT) {
            buf_printf(b, "    seqrt_dense_forward(%s, %s, %s, %s, %s, n, %d, %d, %s);\n", y,
                       has_z(l) ? arena_printf("net->%s_z", t) : y, x, w, bias, l->in, C, act_ids[l->act]);
            break;
        }
        const char *z = arena_printf("net->%s_z", t);
        buf_printf(b, "    seqrt_dense_forward(%s, %s, %s, %s, %s, n, %d, %d, SEQRT_ACT_LINEAR);\n", z, z, x, w, bias,
                   l->in, C);
        x = z;
    }
        /* fall through */
    case OP_BATCHNORM:
    case OP_LAYERNORM:
        if (norm_of(l) == OP_BATCHNORM)
            buf_printf(b, "    seqrt_batchnorm_forward(%s, net->%s_xhat, net->%s_mean, net->%s_invstd,\n"
                          "                            %s, %s,\n"
                          "                            %s, %s, %s, n, %d, %s, %s, %s, training);\n",
                       y, t, t, t, param_ptr(l, P_RUN_MEAN, "buffer"), param_ptr(l, P_RUN_VAR, "buffer"), x,
                       param_ptr(l, P_GAMMA, "param"), param_ptr(l, P_BETA, "param"), C,
                       float_literal(l->momentum), float_literal(l->epsilon), act_ids[l->act]);
        else
            buf_printf(b, "    seqrt_layernorm_forward(%s, net->%s_xhat, net->%s_mean, net->%s_invstd,\n"
                          "                            %s, %s, %s, n, %d, %s, %s);\n",
                       y, t, t, t, x, param_ptr(l, P_GAMMA, "param"), param_ptr(l, P_BETA, "param"), C,
                       float_literal(l->epsilon), act_ids[l->act]);
        break;
    case OP_ACTIVATION:
        buf_printf(b, "    seqrt_act_forward(%s, %s, %s, n, %d);\n", act_ids[l->act], y, x, C);
        break;
    case OP_DROPOUT:
        /* identity at inference: the next layer reads x itself */
        buf_printf(b, "    const float *%s = %s;\n    if (training) {\n", y, x);
        buf_printf(b, "        seqrt_dropout_forward(net->%s_y, net->%s_mask, %s, (long)n * %d, %s, &net->%s, 1);\n", t,
                   t, x, C, float_literal(l->rate), l->seed >= 0 ? arena_printf("rng_%s", t) : "rng");
        buf_printf(b, "        %s = net->%s_y;\n    }\n", y, t);
        break;
    case OP_FLATTEN:
        buf_printf(b, "    /* row-major data is already flat: nothing to do */\n");
        break;
    case OP_NORMALIZATION:
        buf_printf(b, "    seqrt_normalization_forward(%s, %s, %s, %s, n, %d);\n", y, x,
                   param_ptr(l, P_NORM_MEAN, "buffer"), param_ptr(l, P_NORM_VAR, "buffer"), C);
        break;
    case OP_COUNT:
        break;
    }
}

/* ---------------------------------------------------------------- backward */

static void emit_backward_layer(Buf *b, const Ctx *c, int i)
{
    const Layer *l = &c->m->layer[i];
    const char *t = tag(l), *x = in_of(c, i, 0), *y = out_of(c, i, 0);
    const char *dy = c->gout[i], *dx = c->gin[i] ? c->gin[i] : "NULL";
    int C = l->out;
    buf_printf(b, "\n    /* %d: %s", l->index, op_names[l->op]);
    if (l->op == OP_DENSE && l->norm != OP_COUNT)
        buf_printf(b, " + %s (%d)", op_names[l->norm], l->norm_index);
    if (l->act != SEQRT_ACT_LINEAR)
        buf_printf(b, " %s%s%s", l->op == OP_DENSE ? "+ " : "", seqrt_act_name(l->act),
                   i == c->start && c->skip_last_act ? " (folded into the loss)" : "");
    buf_printf(b, " */\n");
    switch (l->op) {
    case OP_DENSE: {
        const char *w = param_ptr(l, P_KERNEL, "param");
        const char *dw = param_ptr(l, P_KERNEL, "grad"), *db = param_ptr(l, P_BIAS, "grad");
        int act = (i == c->start && c->skip_last_act) ? SEQRT_ACT_LINEAR : l->act;
        const char *z = has_z(l) ? arena_printf("net->%s_z", t) : y;
        if (l->norm != OP_COUNT) {
            const char *fn = l->norm == OP_BATCHNORM ? "batchnorm" : "layernorm";
            buf_printf(b, "    seqrt_%s_backward(%s, %s, %s, %s, net->%s_xhat, net->%s_invstd,\n"
                          "                             %s, %s, %s, n, %d, %s);\n",
                       fn, dy, param_ptr(l, P_GAMMA, "grad"), param_ptr(l, P_BETA, "grad"), dy, t, t,
                       param_ptr(l, P_GAMMA, "param"), param_ptr(l, P_BETA, "param"), y, C, act_ids[l->act]);
            act = SEQRT_ACT_LINEAR;
            y = z;
        }
        buf_printf(b, "    seqrt_dense_backward(%s, %s, %s, %s, %s, %s, %s,\n"
                      "                         %s, %s, n, %d, %d, %s);\n",
                   dx, dw, db, dy, dy, x, w, z, y, l->in, C, act_ids[act]);
        break;
    }
    case OP_BATCHNORM:
    case OP_LAYERNORM:
        buf_printf(b, "    seqrt_%s_backward(%s, %s, %s, %s, net->%s_xhat, net->%s_invstd,\n"
                      "                             %s, %s, %s, n, %d, SEQRT_ACT_LINEAR);\n",
                   l->op == OP_BATCHNORM ? "batchnorm" : "layernorm", dx, param_ptr(l, P_GAMMA, "grad"),
                   param_ptr(l, P_BETA, "grad"), dy, t, t, param_ptr(l, P_GAMMA, "param"),
                   param_ptr(l, P_BETA, "param"), y, C);
        break;
    case OP_ACTIVATION:
        buf_printf(b, "    seqrt_act_backward(%s, %s, %s, %s, %s, n, %d);\n", act_ids[l->act], dx, dy, x, y, C);
        break;
    case OP_DROPOUT:
        buf_printf(b, "    seqrt_dropout_backward(%s, %s, net->%s_mask, (long)n * %d);\n", dx, dy, t, C);
        break;
    case OP_FLATTEN:
        buf_printf(b, "    /* the gradient passes through unchanged */\n");
        break;
    case OP_NORMALIZATION:
    case OP_COUNT:
        break;
    }
}

/* ---------------------------------------------------------------- the .c file */

static void emit_init(Buf *b, const Ctx *c)
{
    const Model *m = c->m;
    buf_printf(b, "\nvoid %s_init(%s *net, uint64_t seed)\n{\n", c->p, c->p);
    buf_printf(b, "    memset(net, 0, sizeof *net);\n    seqrt_rng_seed(&net->rng, seed);\n");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        for (int k = 0; k < l->nparam; k++) {
            const Param *p = &l->param[k];
            if (p->init == SEQRT_INIT_ZEROS)
                continue;   /* memset did it */
            int fan_in = p->cols ? p->cols : p->rows, fan_out = p->rows;
            buf_printf(b, "    seqrt_init_fill(%s, net->%s.%s, %ld, %d, %d, &net->rng); /* %s */\n",
                       init_ids[p->init], p->trainable ? "param" : "buffer", p->cname, param_size(p), fan_in,
                       fan_out, p->name);
        }
        if (l->op == OP_DROPOUT && l->seed >= 0)
            buf_printf(b, "    seqrt_rng_seed(&net->rng_%s, %lldu);\n", tag(l), (long long)l->seed);
    }
    buf_printf(b, "}\n");
}

static void emit_forward(Buf *b, const Ctx *c)
{
    const Model *m = c->m;
    buf_printf(b, "\nvoid %s_forward(%s *net, const float *x, float *y, int n, int training)\n{\n", c->p, c->p);
    buf_printf(b, "    assert(n >= 1 && n <= %s_MAX_BATCH);\n", c->P);
    buf_printf(b, "    net->rows = n;\n");
    buf_printf(b, "    if (training)\n        memcpy(net->input, x, sizeof(float) * (size_t)n * %d);\n", m->in);
    for (int i = 0; i < m->nlayers; i++)
        emit_forward_layer(b, c, i);
    buf_printf(b, "\n    if (y)\n        memcpy(y, %s, sizeof(float) * (size_t)n * %d);\n}\n",
               out_of(c, m->nlayers - 1, 1), m->out);
}

static void emit_backward(Buf *b, const Ctx *c)
{
    const Model *m = c->m;
    buf_printf(b, "\nfloat %s_backward(%s *net, const float *target, int n)\n{\n", c->p, c->p);
    buf_printf(b, "    assert(n >= 1 && n == net->rows);\n");
    buf_printf(b, "\n    /* loss: %s, mean over the batch", seqrt_loss_name(m->loss));
    if (m->loss_on_logits)
        buf_printf(b, ", from the output logits");
    else if (m->loss_from_logits)
        buf_printf(b, ", computed from the logits (gradient p - t)");
    buf_printf(b, " */\n");
    buf_printf(b, "    float loss = seqrt_loss(%s, %s, %s, %s, target, n, %d);\n", loss_ids[m->loss],
               c->gout[c->start], out_of(c, m->nlayers - 1, 0), c->logits ? c->logits : "NULL", m->out);
    for (int i = c->start; i >= c->first_trainable; i--)
        emit_backward_layer(b, c, i);
    buf_printf(b, "    return loss;\n}\n");
}

static void emit_update(Buf *b, const Ctx *c)
{
    const Optimizer *o = &c->m->opt;
    buf_printf(b, "\nvoid %s_update(%s *net)\n{\n", c->p, c->p);
    buf_printf(b, "    float *w = (float *)&net->param;\n    const float *g = (const float *)&net->grad;\n");
    buf_printf(b, "    net->step++;\n");
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        buf_printf(b, "    /* SGD: learning_rate=%.9g momentum=%.9g nesterov=%s */\n", o->lr, o->momentum,
                   o->nesterov ? "True" : "False");
        buf_printf(b, "    seqrt_sgd_update(w, g, %s, %s_PARAM_COUNT, %s, %s, %d);\n",
                   c->has_m ? "(float *)&net->opt_m" : "NULL", c->P, float_literal(o->lr),
                   float_literal(o->momentum), o->nesterov);
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        buf_printf(b, "    /* %s: learning_rate=%.9g beta_1=%.9g beta_2=%.9g epsilon=%.9g weight_decay=%.9g */\n",
                   o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW", o->lr, o->beta1, o->beta2, o->epsilon,
                   o->weight_decay);
        buf_printf(b, "    seqrt_adam_update(w, g, (float *)&net->opt_m, (float *)&net->opt_v, %s_PARAM_COUNT,\n"
                      "                      %s, %s, %s, %s, %s, net->step);\n",
                   c->P, float_literal(o->lr), float_literal(o->beta1), float_literal(o->beta2),
                   float_literal(o->epsilon), float_literal(o->weight_decay));
        break;
    case SEQRT_OPT_RMSPROP:
        buf_printf(b, "    /* RMSprop: learning_rate=%.9g rho=%.9g momentum=%.9g epsilon=%.9g */\n", o->lr, o->rho,
                   o->momentum, o->epsilon);
        buf_printf(b, "    seqrt_rmsprop_update(w, g, (float *)&net->opt_v, %s, %s_PARAM_COUNT,\n"
                      "                         %s, %s, %s, %s);\n",
                   c->has_m ? "(float *)&net->opt_m" : "NULL", c->P, float_literal(o->lr), float_literal(o->rho),
                   float_literal(o->momentum), float_literal(o->epsilon));
        break;
    }
    buf_printf(b, "}\n");
    buf_printf(b, "\nfloat %s_train_step(%s *net, const float *x, const float *target, int n)\n{\n", c->p, c->p);
    buf_printf(b, "    %s_forward(net, x, NULL, n, 1);\n    float loss = %s_backward(net, target, n);\n", c->p, c->p);
    buf_printf(b, "    %s_update(net);\n    return loss;\n}\n", c->p);
}

static void emit_tensor_table(Buf *b, const Ctx *c)
{
    TensorRow *t;
    int n = ir_tensors(c->m, &t);
    buf_printf(b, "\n/* Checkpoint names: a PyTorch nn.Sequential state_dict, indexed by layer\n"
                  " * statement; optimizer slots under \"optimizer.\", counters under \"train.\". */\n");
    buf_printf(b, "static const seqrt_tensor %s_tensors[] = {\n", c->p);
    static const char *const kinds[] = {"SEQRT_T_PARAM", "SEQRT_T_BUFFER", "SEQRT_T_OPTIM", "SEQRT_T_STATE",
                                        "SEQRT_T_GRAD"};
    for (int i = 0; i < n; i++) {
        buf_printf(b, "    {\"%s\", %s, %s, offsetof(%s, %s), %d, {", t[i].name, kinds[t[i].kind],
                   t[i].dtype == SEQRT_I64 ? "SEQRT_I64" : "SEQRT_F32", c->p, t[i].member, t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++)
            buf_printf(b, "%s%d", d ? ", " : "", t[i].shape[d]);
        buf_printf(b, "%s}},\n", t[i].ndim ? "" : "0");
    }
    buf_printf(b, "};\n");
}

static void shape_init(Buf *b, const char *field, const int *dims, int rank)
{
    buf_printf(b, "    .%s_rank = %d,\n    .%s_shape = {", field, rank, field);
    for (int i = 0; i < rank; i++)
        buf_printf(b, "%s%d", i ? ", " : "", dims[i]);
    buf_printf(b, "},\n");
}

static void emit_descriptor(Buf *b, const Ctx *c)
{
    const Model *m = c->m;
    const char *p = c->p, *P = c->P;
    buf_printf(b, "\nstatic void init_v(void *net, uint64_t seed) { %s_init(net, seed); }\n", p);
    buf_printf(b, "static void forward_v(void *net, const float *x, float *y, int n, int training)\n"
                  "{\n    %s_forward(net, x, y, n, training);\n}\n", p);
    if (c->training) {
        buf_printf(b, "static float backward_v(void *net, const float *t, int n) { return %s_backward(net, t, n); }\n",
                   p);
        buf_printf(b, "static void update_v(void *net) { %s_update(net); }\n", p);
        buf_printf(b, "static float train_step_v(void *net, const float *x, const float *t, int n)\n"
                      "{\n    return %s_train_step(net, x, t, n);\n}\n", p);
    }
    buf_printf(b, "\nconst seqrt_model %s_model = {\n", p);
    buf_printf(b, "    .name = \"%s\",\n    .in = %s_IN,\n    .out = %s_OUT,\n", p, P, P);
    shape_init(b, "in", m->in_shape, m->in_rank);
    shape_init(b, "out", (int[]){m->out}, 1);
    buf_printf(b, "    .max_batch = %s_MAX_BATCH,\n    .state_bytes = sizeof(%s),\n", P, p);
    if (c->training) {
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
    }
    buf_printf(b, "    .tensors = %s_tensors,\n    .ntensors = sizeof %s_tensors / sizeof %s_tensors[0],\n", p, p, p);
    long np = ir_param_count(m, 1);
    const char *first = np ? "param" : c->nbuffer ? "buffer" : NULL;
    if (first)
        buf_printf(b, "    .weights_offset = offsetof(%s, %s),\n"
                      "    .weights_bytes = sizeof(float) * (%s_PARAM_COUNT + %s_BUFFER_COUNT),\n", p, first, P, P);
    if (np) {
        buf_printf(b, "    .param_offset = offsetof(%s, param),\n", p);
        if (c->training)
            buf_printf(b, "    .grad_offset = offsetof(%s, grad),\n", p);
        buf_printf(b, "    .param_count = %s_PARAM_COUNT,\n", P);
    }
    const Layer *l0 = &m->layer[0];
    if (l0->op == OP_NORMALIZATION)
        buf_printf(b, "    .norm_mean_offset = offsetof(%s, buffer.%s), /* Normalization, adapted before fit */\n"
                      "    .norm_var_offset = offsetof(%s, buffer.%s),\n", p,
                   find_param(l0, P_NORM_MEAN)->cname, p, find_param(l0, P_NORM_VAR)->cname);
    buf_printf(b, "    .step_offset = offsetof(%s, step),\n    .epoch_offset = offsetof(%s, epoch),\n", p, p);
    buf_printf(b, "    .fit = {\n        .batch_size = %d,\n        .epochs = %d,\n        .shuffle = %d,\n"
                  "        .validation_split = %s,\n        .seed = %lluu,\n        .verbose = %d,\n",
               m->batch_size, m->epochs, m->shuffle, float_literal(m->validation_split),
               (unsigned long long)m->seed, m->verbose);
    const EarlyStopping *es = &m->es;
    if (es->enabled)
        buf_printf(b, "        .early_stopping = {\n            .enabled = 1,\n            .monitor = \"%s\",\n"
                      "            .min_delta = %s,\n            .patience = %d,\n            .mode = %d,\n"
                      "            .restore_best_weights = %d,\n            .start_from_epoch = %d,\n        },\n",
                   es->monitor, float_literal(es->min_delta), es->patience, es->mode, es->restore_best_weights,
                   es->start_from_epoch);
    buf_printf(b, "    },\n    .init = init_v,\n    .forward = forward_v,\n");
    if (c->training)
        buf_printf(b, "    .backward = backward_v,\n    .update = update_v,\n    .train_step = train_step_v,\n");
    buf_printf(b, "};\n");
}

static void emit_source(Buf *b, Ctx *c, const char *file)
{
    buf_printf(b, "/*\n * %s.c - model '%s', generated by seqc %s from %s. Do not edit.\n", c->p, c->m->name,
               SEQC_VERSION, file);
    buf_printf(b, " * Forward is one block per layer in order; backward one per layer in\n"
                  " * reverse. Every kernel is a seqrt_* function of the runtime.\n */\n");
    buf_printf(b, "#include <assert.h>\n#include <stddef.h>\n#include <string.h>\n\n#include \"%s.h\"\n\n", c->p);
    buf_printf(b, "/* The layout of the state is part of the checkpoint format and of\n"
                  " * %s_STATE_BYTES: check it at compile time. */\n", c->P);
    buf_printf(b, "typedef char %s_state_bytes_check[sizeof(%s) == %s_STATE_BYTES ? 1 : -1];\n", c->p, c->p, c->P);
    emit_init(b, c);
    emit_forward(b, c);
    if (c->training) {
        emit_backward(b, c);
        emit_update(b, c);
    }
    emit_tensor_table(b, c);
    emit_descriptor(b, c);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int emit_model_buffers(const Model *m, Buf *h, Buf *src)
{
    Ctx c;
    layout(&c, m);
    if (c.training && ir_param_count(m, 1) == 0) {
        diag_error(m->src, m->loc, "model '%s' has a loss but no trainable parameters", m->name);
        return -1;
    }
    const char *file = base_name(m->src->path);
    emit_header(h, &c, file);
    emit_source(src, &c, file);
    return c.training;
}

int emit_model(const Model *m, const EmitOptions *opt)
{
    Buf h = {0}, src = {0};
    int training = emit_model_buffers(m, &h, &src);
    if (training < 0)
        return -1;
    const char *file = base_name(m->src->path);
    Buf mb = {0};
    const char *paths[3] = {arena_printf("%s/%s.h", opt->outdir, m->name),
                            arena_printf("%s/%s.c", opt->outdir, m->name),
                            arena_printf("%s/%s_main.c", opt->outdir, m->name)};
    const Buf *bufs[3] = {&h, &src, &mb};
    if (opt->main_program) {
        if (!training) {
            diag_error(m->src, m->loc, "--main needs a model with compile(loss=...)");
            return -1;
        }
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
