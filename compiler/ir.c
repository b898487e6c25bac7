/*
 * ir.c - the IR: a flat, typed list of layers with shapes and parameters.
 *
 * A Sequential model needs no graph: layer i reads the output of layer
 * i - 1 (the first reads the model's input) and every tensor between layers
 * is a batch of rows of `in`/`out` floats. Each layer keeps the statement
 * index it came from (parameter names follow a PyTorch nn.Sequential
 * state_dict: "3.weight") and its source location (for diagnostics).
 *
 * ir_infer_shapes runs once after lowering: it checks every layer's input
 * rank and size, computes `in`/`out`, names the parameters and rejects
 * sizes that would overflow. ir_verify checks the invariants every pass
 * must keep; it runs after lowering and after every pass.
 */
#include <string.h>

#include "seqc.h"

const char *const op_names[OP_COUNT] = {
#define OP(id, name) name,
#include "ops.def"
#undef OP
};

Layer *ir_add_layer(Model *m, OpKind op, int index, Loc loc)
{
    if (m->nlayers == m->cap) {
        int cap = m->cap ? m->cap * 2 : 8;
        Layer *nl = arena_alloc(sizeof(Layer) * (size_t)cap);
        if (m->nlayers)
            memcpy(nl, m->layer, sizeof(Layer) * (size_t)m->nlayers);
        m->layer = nl;
        m->cap = cap;
    }
    Layer *l = &m->layer[m->nlayers++];
    memset(l, 0, sizeof *l);
    l->op = op;
    l->index = index;
    l->loc = loc;
    l->act = SEQRT_ACT_LINEAR;
    l->norm = OP_COUNT;
    l->norm_index = -1;
    l->act_index = -1;
    l->seed = -1;
    return l;
}

void ir_insert_layer(Model *m, int at, const Layer *l)
{
    ir_add_layer(m, l->op, l->index, l->loc);
    memmove(&m->layer[at + 1], &m->layer[at], sizeof(Layer) * (size_t)(m->nlayers - 1 - at));
    m->layer[at] = *l;
}

void ir_remove_layer(Model *m, int at)
{
    memmove(&m->layer[at], &m->layer[at + 1], sizeof(Layer) * (size_t)(m->nlayers - 1 - at));
    m->nlayers--;
}

static void add_param(Layer *l, int index, const char *suffix, ParamRole role,
                      int trainable, int rows, int cols, int init)
{
    Param *p = &l->param[l->nparam++];
    p->name = arena_printf("%d.%s", index, suffix);
    p->cname = arena_printf("l%d_%s", index, suffix);
    p->role = role;
    p->trainable = trainable;
    p->rows = rows;
    p->cols = cols;
    p->init = init;
}

static void name_params(Layer *l)
{
    l->nparam = 0;
    switch (l->op) {
    case OP_DENSE:
        add_param(l, l->index, "weight", P_KERNEL, 1, l->out, l->in, l->kernel_init);
        if (l->use_bias)
            add_param(l, l->index, "bias", P_BIAS, 1, l->out, 0, l->bias_init);
        break;
    case OP_BATCHNORM:
    case OP_LAYERNORM:
        if (l->scale)
            add_param(l, l->index, "weight", P_GAMMA, 1, l->out, 0, SEQRT_INIT_ONES);
        if (l->center)
            add_param(l, l->index, "bias", P_BETA, 1, l->out, 0, SEQRT_INIT_ZEROS);
        if (l->op == OP_BATCHNORM) {
            add_param(l, l->index, "running_mean", P_RUN_MEAN, 0, l->out, 0, SEQRT_INIT_ZEROS);
            add_param(l, l->index, "running_var", P_RUN_VAR, 0, l->out, 0, SEQRT_INIT_ONES);
        }
        break;
    case OP_NORMALIZATION:
        add_param(l, l->index, "mean", P_NORM_MEAN, 0, l->out, 0, SEQRT_INIT_ZEROS);
        add_param(l, l->index, "variance", P_NORM_VAR, 0, l->out, 0, SEQRT_INIT_ONES);
        break;
    default:
        break;
    }
}

static const char *shape_str(const int *dims, int rank)
{
    char buf[160];
    int n = 0;
    buf[n++] = '[';
    for (int i = 0; i < rank; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%d", i ? ", " : "", dims[i]);
    snprintf(buf + n, sizeof buf - (size_t)n, "]");
    return arena_strdup(buf);
}

/* The Keras names of the operations, for messages (an activation that
 * needs 1-D input is softmax). */
static const char *const keras_name[OP_COUNT] = {
    [OP_DENSE] = "Dense", [OP_ACTIVATION] = "softmax", [OP_BATCHNORM] = "BatchNormalization",
    [OP_LAYERNORM] = "LayerNormalization", [OP_DROPOUT] = "Dropout", [OP_FLATTEN] = "Flatten",
    [OP_NORMALIZATION] = "Normalization",
};

#define MAX_ELEMENTS 2147483647LL   /* 2^31 - 1: every size fits an int */

int ir_infer_shapes(Model *m)
{
    const Source *src = m->src;
    int dims[8], rank = m->in_rank;
    long long flat = 1;
    for (int i = 0; i < rank; i++) {
        dims[i] = m->in_shape[i];
        flat *= dims[i];
        if (flat > MAX_ELEMENTS) {
            diag_error(src, m->layer[0].loc, "the input shape %s has more than 2^31-1 elements",
                       shape_str(m->in_shape, m->in_rank));
            return -1;
        }
    }
    m->in = (int)flat;
    long long total = 0, widest = m->in;
    for (int i = 0; i < m->nlayers; i++) {
        Layer *l = &m->layer[i];
        l->in = (int)flat;
        int needs_1d = l->op == OP_DENSE || l->op == OP_BATCHNORM || l->op == OP_LAYERNORM ||
                       l->op == OP_NORMALIZATION || (l->op == OP_ACTIVATION && l->act == SEQRT_ACT_SOFTMAX);
        if (needs_1d && rank != 1) {
            diag_error(src, l->loc, "%s needs 1-D input, but its input has shape %s; add Flatten() before it",
                       keras_name[l->op], shape_str(dims, rank));
            return -1;
        }
        switch (l->op) {
        case OP_FLATTEN:
            rank = 1;
            dims[0] = (int)flat;
            l->out = l->in;
            break;
        case OP_DENSE:
            if ((long long)l->in * l->out > MAX_ELEMENTS) {
                diag_error(src, l->loc, "Dense(%d) on %d inputs has %lld weights, more than 2^31-1",
                           l->out, l->in, (long long)l->in * l->out);
                return -1;
            }
            dims[0] = l->out;
            flat = l->out;
            break;
        default:
            l->out = l->in;
            break;
        }
        name_params(l);
        for (int k = 0; k < l->nparam; k++)
            total += (long long)l->param[k].rows * (l->param[k].cols ? l->param[k].cols : 1);
        if (total > MAX_ELEMENTS / 4) {
            diag_error(src, l->loc, "the model has more than 2^29 parameters; seqc's state must stay below 2^31 "
                       "floats");
            return -1;
        }
        if (l->out > widest)
            widest = l->out;
    }
    if (rank != 1) {
        diag_error(src, m->layer[m->nlayers - 1].loc, "the model's output has shape %s; add Flatten()",
                   shape_str(dims, rank));
        return -1;
    }
    m->out = (int)flat;
    if ((long long)m->batch_size * widest * 8 > MAX_ELEMENTS) {
        diag_error(src, m->loc, "batch_size %d times the widest layer (%lld) is too large for static buffers",
                   m->batch_size, widest);
        return -1;
    }
    return 0;
}

long ir_param_count(const Model *m, int trainable)
{
    long n = 0;
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < m->layer[i].nparam; k++) {
            const Param *p = &m->layer[i].param[k];
            if (p->trainable == trainable)
                n += (long)p->rows * (p->cols ? p->cols : 1);
        }
    return n;
}

static int fail(const Model *m, int i, const char *after, const char *what)
{
    fprintf(stderr, "seqc: internal error: IR of model '%s' invalid after %s: layer %d: %s\n",
            m->name, after, i, what);
    return -1;
}

int ir_verify(const Model *m, const char *after)
{
    if (m->nlayers < 1)
        return fail(m, 0, after, "no layers");
    int prev = m->in;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if ((unsigned)l->op >= OP_COUNT)
            return fail(m, i, after, "bad op");
        if (l->in != prev)
            return fail(m, i, after, "input size differs from the previous layer's output");
        if (l->in <= 0 || l->out <= 0)
            return fail(m, i, after, "empty shape");
        if (l->op != OP_DENSE && l->in != l->out)
            return fail(m, i, after, "only dense changes the width");
        if ((unsigned)l->act >= SEQRT_ACT_COUNT)
            return fail(m, i, after, "bad activation");
        if (l->norm != OP_COUNT && (l->op != OP_DENSE || (l->norm != OP_BATCHNORM && l->norm != OP_LAYERNORM)))
            return fail(m, i, after, "a norm is fused only into dense");
        if (l->op != OP_DENSE && l->op != OP_ACTIVATION && l->act != SEQRT_ACT_LINEAR)
            return fail(m, i, after, "activation on a layer that has none");
        if (l->nparam > MAX_PARAMS)
            return fail(m, i, after, "too many parameters");
        for (int k = 0; k < l->nparam; k++) {
            const Param *p = &l->param[k];
            int want_rows = p->role == P_KERNEL ? l->out : l->out;
            int want_cols = p->role == P_KERNEL ? l->in : 0;
            if (p->rows != want_rows || p->cols != want_cols)
                return fail(m, i, after, "parameter shape does not match the layer");
        }
        if (i > 0 && l->index < m->layer[i - 1].index)
            return fail(m, i, after, "layers out of statement order");
        prev = l->out;
    }
    if (prev != m->out)
        return fail(m, m->nlayers - 1, after, "last layer's width is not the model's output");
    return 0;
}
