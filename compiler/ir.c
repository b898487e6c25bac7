/*
 * ir.c - the IR: a flat, typed list of layers with shapes and parameters.
 *
 * A Sequential model needs no graph: layer i reads the output of layer
 * i - 1 (the first reads the model's input). Every value has a full shape
 * per sample (the batch axis is never part of a Shape). Each layer keeps the
 * statement index it came from (parameter names follow a PyTorch
 * nn.Sequential state_dict: "3.weight") and its source location. What a
 * layer computes is its kind (layer_NAME.c): this file knows no kind, it
 * calls their hooks.
 *
 * ir_infer_shapes runs once after lowering: it asks each kind's shape rule
 * for the output shape, declares the parameters and rejects sizes that
 * would overflow. ir_verify checks the invariants every pass must keep,
 * the buffer plan's included; it runs after lowering and after every pass.
 */
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

const LayerKind *const layer_kinds[] = {
#define LAYER(name) &kind_##name,
#include "layers.def"
#undef LAYER
};
const int nlayer_kinds = COUNT_OF(layer_kinds);

void ir_internal_error(const char *what)
{
    fprintf(stderr, "seqc: internal error: %s\n", what);
    exit(3);
}

void ir_check_kinds(void)
{
    for (int i = 0; i < nlayer_kinds; i++) {
        const LayerKind *k = layer_kinds[i];
        const char *missing = !k->name ? "name" : !k->syntax || !k->syntax[0] ? "syntax" : !k->infer ? "infer"
                              : !k->bake ? "bake" : !k->forward && !(k->props & LK_VIEW) ? "forward" : NULL;
        if (missing)
            ir_internal_error(arena_printf("layer kind %d (%s) of layers.def has no %s hook", i,
                                           k->name ? k->name : "unnamed", missing));
        for (const Syntax *const *s = k->syntax; *s; s++)
            if (!(*s)->spec || !(*s)->lower)
                ir_internal_error(arena_printf("a statement of layer kind %s has no argument table or lower hook",
                                               k->name));
    }
}

/* ---------------------------------------------------------------- shapes */

long shape_size(const Shape *s)
{
    long n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->dim[i];
    return n;
}

int shape_last(const Shape *s)
{
    return s->rank ? s->dim[s->rank - 1] : 1;
}

long shape_lead(const Shape *s)
{
    long n = 1;
    for (int i = 0; i + 1 < s->rank; i++)
        n *= s->dim[i];
    return n;
}

int shape_eq(const Shape *a, const Shape *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i])
            return 0;
    return 1;
}

Shape shape_1d(int n)
{
    Shape s = {1, {n}};
    return s;
}

const char *shape_str(const Shape *s)
{
    char buf[16 * MAX_RANK + 4];
    int n = 0;
    buf[n++] = '[';
    for (int i = 0; i < s->rank; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%d", i ? ", " : "", s->dim[i]);
    snprintf(buf + n, sizeof buf - (size_t)n, "]");
    return arena_strdup(buf);
}

/* ---------------------------------------------------------------- activations */

#define ACT_IDEMPOTENT 1
static const unsigned char act_flags[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) flags,
#define ACT_ROW(id, name, flags, FR, BR, desc) flags,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};
static const unsigned char act_is_row[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) 0,
#define ACT_ROW(id, name, flags, FR, BR, desc) 1,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};
static const char *const act_param_names[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) pn,
#define ACT_ROW(id, name, flags, FR, BR, desc) "",
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};
#undef ACT_IDEMPOTENT

Act act_default(seqrt_act kind)
{
    seqrt_actfn f = seqrt_act_default(kind);
    Act a = {kind, {f.p[0], f.p[1], f.p[2]}};
    return a;
}

int act_is(Act a, seqrt_act kind) { return a.kind == kind; }

int act_is_linear(Act a) { return a.kind == SEQRT_ACT_LINEAR; }

int act_rowwise(Act a) { return act_is_row[a.kind]; }

static int act_has_defaults(Act a)
{
    Act d = act_default(a.kind);
    return (float)a.p[0] == (float)d.p[0] && (float)a.p[1] == (float)d.p[1] && (float)a.p[2] == (float)d.p[2];
}

int act_idempotent(Act a) { return (act_flags[a.kind] & 1) && act_has_defaults(a); }

int act_backward_needs_y_only(Act a)
{
    return a.kind == SEQRT_ACT_LINEAR || act_rowwise(a) || (a.kind == SEQRT_ACT_RELU && act_has_defaults(a));
}

const char *act_str(Act a)
{
    if (act_has_defaults(a))
        return seqrt_act_name(a.kind);
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s(", seqrt_act_name(a.kind));
    const char *names = act_param_names[a.kind];
    for (int k = 0; *names && k < 3; k++) {
        const char *end = strchr(names, ',');
        int len = end ? (int)(end - names) : (int)strlen(names);
        if (a.p[k] >= 1e30)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%.*s=None", k ? "," : "", len, names);
        else
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%.*s=%.9g", k ? "," : "", len, names, a.p[k]);
        names += len + (end != NULL);
    }
    snprintf(buf + n, sizeof buf - (size_t)n, ")");
    return arena_strdup(buf);
}

/* ---------------------------------------------------------------- layers */

Layer *ir_add_layer(Model *m, const LayerKind *kind, int index, Loc loc)
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
    l->kind = kind;
    l->index = index;
    l->loc = loc;
    l->act = act_default(SEQRT_ACT_LINEAR);
    l->act_index = -1;
    l->out_buf = l->mid_buf = l->dy_buf = l->dx_buf = -1;
    return l;
}

void ir_insert_layer(Model *m, int at, const Layer *l)
{
    Layer copy = *l;
    ir_add_layer(m, copy.kind, copy.index, copy.loc);
    memmove(&m->layer[at + 1], &m->layer[at], sizeof(Layer) * (size_t)(m->nlayers - 1 - at));
    m->layer[at] = copy;
}

void ir_remove_layer(Model *m, int at)
{
    memmove(&m->layer[at], &m->layer[at + 1], sizeof(Layer) * (size_t)(m->nlayers - 1 - at));
    m->nlayers--;
}

const char *ir_tag(const Layer *l)
{
    if ((l->kind->props & LK_ACTIVATION) && l->act_index == l->index)
        return arena_printf("l%d_act", l->index);
    return arena_printf("l%d", l->index);
}

Param *ir_add_param(Layer *l, const char *suffix, const char *role, int trainable, Shape shape,
                    seqrt_init_kind init, int fan_in, int fan_out)
{
    if (l->nparam == MAX_PARAMS)
        ir_internal_error("a layer declares more than MAX_PARAMS parameters");
    Param *p = &l->param[l->nparam++];
    p->name = arena_printf("%d.%s", l->index, suffix);
    p->cname = arena_printf("l%d_%s", l->index, suffix);
    for (char *c = (char *)p->cname; *c; c++)
        if (*c == '.')
            *c = '_';   /* "3.depthwise.weight" -> l3_depthwise_weight */
    p->role = role;
    p->trainable = trainable;
    p->shape = shape;
    p->init = init;
    p->fan_in = fan_in;
    p->fan_out = fan_out;
    return p;
}

void ir_param_opts(Param *p, const WeightOpts *o)
{
    /* p->init is the kind given to ir_add_param (o->init.kind for weights
     * read by lower_weight) */
    if (o->init.given || o->init.has_args || o->init.has_seed)
        p->ispec = o->init;
    p->reg = o->reg;
    p->con = o->con;
}

void ir_param_keras_layout(Param *p, Shape view, const int *kaxis)
{
    if (shape_size(&view) != shape_size(&p->shape))
        ir_internal_error("a Keras view of a parameter with another element count");
    p->kview = view;
    for (int a = 0; a < view.rank; a++)
        p->kaxis[a] = kaxis[a];
}

int ir_keras_layout(const Param *p, Shape *view, int *kaxis)
{
    if (p->kview.rank) {
        *view = p->kview;
        for (int a = 0; a < view->rank; a++)
            kaxis[a] = p->kaxis[a];
        return view->rank;
    }
    *view = p->shape;
    for (int a = 0; a < view->rank; a++)
        kaxis[a] = a;
    if (p->transposed && view->rank == 2)
        kaxis[0] = 1, kaxis[1] = 0;
    return view->rank;
}

const char *ir_keras_shape(const Param *p)
{
    Shape v;
    int ka[MAX_RANK], r = ir_keras_layout(p, &v, ka);
    const char *s = "(";
    for (int a = 0; a < r; a++)
        s = arena_printf("%s%s%d", s, a ? ", " : "", v.dim[ka[a]]);
    return arena_printf("%s%s)", s, r == 1 ? "," : "");
}

int ir_constraint_axes(const Param *p, unsigned *reduce, unsigned *kmask)
{
    Shape v;
    int ka[MAX_RANK], r = ir_keras_layout(p, &v, ka);
    *reduce = *kmask = 0;
    if (p->con.all_axes) {
        *kmask = (1u << r) - 1u;
        *reduce = *kmask;
        return 0;
    }
    for (int i = 0; i < p->con.naxes; i++) {
        int a = p->con.axes[i];
        if (a < -r || a >= r)
            return -1;
        a = a < 0 ? a + r : a;
        if (*kmask >> a & 1u)
            return -1;
        *kmask |= 1u << a;
        *reduce |= 1u << ka[a];
    }
    return 0;
}

void ir_constraint_view(const Param *p, Shape *view, unsigned *reduce, unsigned *kmask)
{
    int ka[MAX_RANK];
    ir_keras_layout(p, view, ka);
    if (ir_constraint_axes(p, reduce, kmask))
        ir_internal_error("a constraint axis outside its weight");
}

/* A norm constraint's axes must be axes of the weight as Keras lays it
 * out: Keras (NumPy) fails at the first update otherwise. */
static int check_constraint(const Source *src, const Layer *l, const Param *p)
{
    unsigned reduce, kmask;
    if (!p->con.on || p->con.kind == SEQRT_CONSTRAINT_NON_NEG || !ir_constraint_axes(p, &reduce, &kmask))
        return 0;
    Shape v;
    int ka[MAX_RANK], r = ir_keras_layout(p, &v, ka);
    const char *axes = r == 1 ? "its one axis is 0 (or -1)"
                              : arena_printf("the axes are 0 to %d (or -%d to -1), each named once", r - 1, r);
    diag_error(src, p->con.loc, "axis is not an axis of the %s of %s, which Keras lays out as %s: %s", p->role,
               l->keras_class ? l->keras_class : l->kind->name, ir_keras_shape(p), axes);
    return -1;
}

/* Keras's Orthogonal initializer needs a weight of two or more axes and
 * Identity one of exactly two (both raise a ValueError otherwise). */
static int check_init(const Source *src, const Layer *l, const Param *p)
{
    if (!p->ispec.given || (p->init != SEQRT_INIT_ORTHOGONAL && p->init != SEQRT_INIT_IDENTITY))
        return 0;
    Shape v;
    int ka[MAX_RANK], r = ir_keras_layout(p, &v, ka);
    int orth = p->init == SEQRT_INIT_ORTHOGONAL;
    if (orth ? r >= 2 : r == 2)
        return 0;
    diag_error(src, p->ispec.loc, "%s needs a weight with %s axes, but the %s of %s is %s", orth ? "Orthogonal" : "Identity",
               orth ? "two or more" : "exactly two", p->role, l->keras_class ? l->keras_class : l->kind->name,
               ir_keras_shape(p));
    return -1;
}

const Param *ir_param(const Layer *l, const char *role)
{
    for (int k = 0; k < l->nparam; k++)
        if (!strcmp(l->param[k].role, role))
            return &l->param[k];
    return NULL;
}

int ir_nparams(const Layer *l)
{
    return l->nparam + (l->norm ? l->norm->nparam : 0);
}

const Param *ir_param_at(const Layer *l, int k)
{
    return k < l->nparam ? &l->param[k] : &l->norm->param[k - l->nparam];
}

long ir_param_count(const Model *m, int trainable)
{
    long n = 0;
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++) {
            const Param *p = ir_param_at(&m->layer[i], k);
            if (p->trainable == trainable)
                n += shape_size(&p->shape);
        }
    return n;
}

int ir_check_last_axis(const Source *src, const Layer *l, Axis axis, const char *what)
{
    if (axis.axis == -1 || axis.axis == l->in.rank)
        return 0;
    diag_error(src, axis.loc, "%s over axis %d of an input of shape %s (the batch is axis 0) is not supported; "
               "seqc works over the last axis: use axis=-1", what, axis.axis, shape_str(&l->in));
    return -1;
}

/* ---------------------------------------------------------------- shape inference */

#define MAX_ELEMENTS 2147483647LL   /* 2^31 - 1: every size fits an int */

static long long checked_size(const Shape *s)
{
    long long n = 1;
    for (int i = 0; i < s->rank; i++) {
        n *= s->dim[i];
        if (n > MAX_ELEMENTS)
            return -1;
    }
    return n;
}

int ir_infer_shapes(Model *m)
{
    const Source *src = m->src;
    if (checked_size(&m->in_shape) < 0) {
        diag_error(src, m->layer[0].loc, "the input shape %s has more than 2^31-1 elements",
                   shape_str(&m->in_shape));
        return -1;
    }
    m->in = (int)shape_size(&m->in_shape);
    Shape cur = m->in_shape;
    long long total = 0, widest = m->in;
    for (int i = 0; i < m->nlayers; i++) {
        Layer *l = &m->layer[i];
        l->in = cur;
        l->out = cur;
        if (l->kind->infer(src, l) < 0)
            return -1;
        long long size = checked_size(&l->out);
        if (size < 0) {
            diag_error(src, l->loc, "the output of this layer, %s, has more than 2^31-1 elements",
                       shape_str(&l->out));
            return -1;
        }
        if (size == 0) {
            diag_error(src, l->loc, "the output of this layer, %s, is empty", shape_str(&l->out));
            return -1;
        }
        l->nparam = 0;
        if (l->kind->params)
            l->kind->params(l);
        for (int k = 0; k < l->nparam; k++) {
            if (check_constraint(src, l, &l->param[k]) || check_init(src, l, &l->param[k]))
                return -1;
            long long ps = checked_size(&l->param[k].shape);
            if (ps < 0) {
                diag_error(src, l->loc, "parameter %s has %s, more than 2^31-1 elements", l->param[k].name,
                           shape_str(&l->param[k].shape));
                return -1;
            }
            total += ps;
        }
        if (total > MAX_ELEMENTS / 4) {
            diag_error(src, l->loc, "the model has more than 2^29 parameters; seqc's state must stay below 2^31 "
                       "floats");
            return -1;
        }
        if (size > widest)
            widest = size;
        cur = l->out;
    }
    m->out_shape = cur;
    m->out = (int)shape_size(&cur);
    if ((long long)m->batch_size * widest * 8 > MAX_ELEMENTS) {
        diag_error(src, m->loc, "batch_size %d times the widest layer (%lld) is too large for static buffers",
                   m->batch_size, widest);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- verification */

static int fail(const Model *m, int i, const char *after, const char *what)
{
    fprintf(stderr, "seqc: internal error: IR of model '%s' invalid after %s: layer %d: %s\n",
            m->name, after, i, what);
    return -1;
}

static int known_kind(const LayerKind *k)
{
    for (int i = 0; i < nlayer_kinds; i++)
        if (layer_kinds[i] == k)
            return 1;
    return 0;
}

/* A buffer index is valid and the buffer holds at least `floats` per row. */
static int buf_ok(const Model *m, int b, long floats)
{
    if (b < 0 || b >= m->nbuf)
        return 0;
    const Buffer *bu = &m->buf[b];
    return bu->per_row ? bu->floats >= floats : bu->floats >= floats * m->batch_size;
}

static int verify_plan(const Model *m, int i, const char *after)
{
    const Layer *l = &m->layer[i];
    long in = shape_size(&l->in), out = shape_size(&l->out);
    if (has_prop(l, LK_VIEW) || (!m->has_loss && has_prop(l, LK_TRAIN_ONLY))) {
        if (in != out)
            return fail(m, i, after, "a view changes the number of elements");
        int prev = i ? m->layer[i - 1].out_buf : -1;
        if (l->out_buf != prev)
            return fail(m, i, after, "a view's output is not its input's buffer");
    } else if (!buf_ok(m, l->out_buf, out)) {
        return fail(m, i, after, "the output buffer is missing or too small");
    } else if (i > 0 && l->out_buf == m->layer[i - 1].out_buf) {
        return fail(m, i, after, "a layer writes its output over its input");
    }
    if (l->norm && !buf_ok(m, l->mid_buf, out))
        return fail(m, i, after, "a fused norm has no buffer for its input");
    for (const Layer *part = l; part; part = part == l ? l->norm : NULL)
        if (part->scratch > 0 && (m->scratch_buf < 0 || m->buf[m->scratch_buf].role != BUF_SCRATCH ||
                                  m->buf[m->scratch_buf].floats < part->scratch))
            return fail(m, i, after, "a layer needs more scratch than the plan has");
    for (const Layer *part = l; part; part = part == l ? l->norm : NULL)
        for (int k = 0; k < part->nkeep; k++)
            if (part->keep[k].buf < 0 || part->keep[k].buf >= m->nbuf ||
                (m->buf[part->keep[k].buf].role != BUF_KEEP && m->buf[part->keep[k].buf].role != BUF_VALUE))
                return fail(m, i, after, "a kept buffer is missing");
    int in_backward = m->has_loss && i <= m->grad_start && i >= m->grad_end;
    if (in_backward && !has_prop(l, LK_VIEW) &&
        (!l->kind->backward || (l->norm && !l->norm->kind->backward)))
        return fail(m, i, after, "a layer backward runs through has no backward");
    if (in_backward) {
        if (!buf_ok(m, l->dy_buf, out) || m->buf[l->dy_buf].role != BUF_GRAD)
            return fail(m, i, after, "backward has no buffer for d loss / d output");
        if (i > m->grad_end || !has_prop(l, LK_DX_OPTIONAL)) {
            if (!buf_ok(m, l->dx_buf, in) || m->buf[l->dx_buf].role != BUF_GRAD)
                return fail(m, i, after, "backward has no buffer for d loss / d input");
            if (l->dx_buf == l->dy_buf && !has_prop(l, LK_GRAD_IN_PLACE) && !has_prop(l, LK_VIEW))
                return fail(m, i, after, "backward writes d input over d output, which the kind cannot");
            if (i > m->grad_end && m->layer[i - 1].dy_buf != l->dx_buf)
                return fail(m, i, after, "backward's gradient does not reach the layer before");
        }
    } else if (l->dy_buf >= 0 || l->dx_buf >= 0) {
        /* (a layer before grad_end has no gradient) */
        return fail(m, i, after, "a gradient buffer outside backward");
    }
    return 0;
}

int ir_verify(const Model *m, const char *after)
{
    if (m->nlayers < 1)
        return fail(m, 0, after, "no layers");
    Shape prev = m->in_shape;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (!known_kind(l->kind))
            return fail(m, i, after, "unknown layer kind");
        if (!shape_eq(&l->in, &prev))
            return fail(m, i, after, "input shape differs from the previous layer's output");
        if (l->in.rank < 1 || l->out.rank < 1 || shape_size(&l->in) <= 0 || shape_size(&l->out) <= 0)
            return fail(m, i, after, "empty shape");
        if ((unsigned)l->act.kind >= SEQRT_ACT_COUNT)
            return fail(m, i, after, "bad activation");
        if (!act_is_linear(l->act) && !has_prop(l, LK_TAKES_ACT) && !has_prop(l, LK_ACTIVATION))
            return fail(m, i, after, "activation on a layer that takes none");
        if (l->norm) {
            if (!has_prop(l, LK_TAKES_NORM) || !(l->norm->kind->props & LK_NORM))
                return fail(m, i, after, "a norm fused into a layer that takes none");
            if (!shape_eq(&l->norm->in, &l->out) || !shape_eq(&l->norm->out, &l->out))
                return fail(m, i, after, "a fused norm's shape differs from the layer's");
        }
        if (l->nparam > MAX_PARAMS || l->nkeep > MAX_KEEP)
            return fail(m, i, after, "too many parameters or kept buffers");
        for (int k = 0; k < ir_nparams(l); k++) {
            const Param *p = ir_param_at(l, k);
            if (p->shape.rank < 1 || shape_size(&p->shape) <= 0)
                return fail(m, i, after, "a parameter with an empty shape");
        }
        if (i > 0 && l->index < m->layer[i - 1].index)
            return fail(m, i, after, "layers out of statement order");
        if (m->planned && verify_plan(m, i, after) < 0)
            return -1;
        prev = l->out;
    }
    if (!shape_eq(&prev, &m->out_shape) || shape_size(&prev) != m->out)
        return fail(m, m->nlayers - 1, after, "last layer's output is not the model's output");
    return 0;
}
