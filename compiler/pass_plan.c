/*
 * pass_plan.c - plan the memory of the generated code, in the IR.
 *
 * Every value the generated code computes gets a buffer of the state
 * struct, recorded in the IR (Model.buf, and per layer out_buf, mid_buf,
 * keep[], dy_buf, dx_buf) where ir_verify checks it and --dump-after=plan
 * shows it:
 *
 *   - a model that trains keeps a copy of its input, every layer's output
 *     (backward reads them) and what each kind asks to keep for backward
 *     (its plan hook: a pre-activation, a normalized copy, a mask);
 *   - the gradient between layers is needed only from one layer to the
 *     next: from -O1 backward uses two buffers of the widest layer in turn,
 *     and a kind whose backward can write d input over d output
 *     (LK_GRAD_IN_PLACE) keeps the gradient where it is; at -O0 every layer
 *     has a gradient buffer of its own;
 *   - a model without a loss needs none of that: no input copy, no kept
 *     values, no gradients, and from -O1 its layers write their outputs
 *     into two buffers in turn.
 *
 * A view (Flatten) has no buffer: its output is its input's. Working
 * memory that a kernel needs only while it runs (a convolution's patches
 * and permuted weights) is one scratch buffer for the whole model, as large
 * as the largest request (plan_scratch): layers run one at a time, so they
 * share it, and STATE_BYTES counts it once. The plan runs at every -O level
 * (the emitters read it); it replaces any earlier plan.
 */
#include <string.h>

#include "seqc.h"

static int add_buf(Model *m, const char *name, BufRole role, Shape shape, int per_row, const char *what)
{
    if (m->nbuf == m->bufcap) {
        int cap = m->bufcap ? 2 * m->bufcap : 16;
        Buffer *nb = arena_alloc(sizeof(Buffer) * (size_t)cap);
        if (m->nbuf)
            memcpy(nb, m->buf, sizeof(Buffer) * (size_t)m->nbuf);
        m->buf = nb;
        m->bufcap = cap;
    }
    Buffer *b = &m->buf[m->nbuf];
    b->name = name;
    b->role = role;
    b->shape = shape;
    b->floats = shape_size(&shape);
    b->per_row = per_row;
    b->what = what;
    return m->nbuf++;
}

static void keep(Plan *p, Layer *l, const char *role, Shape shape, int per_row, const char *what)
{
    if (!p->training)
        return;
    if (l->nkeep == MAX_KEEP)
        ir_internal_error("a layer keeps more than MAX_KEEP buffers");
    l->keep[l->nkeep].role = role;
    l->keep[l->nkeep].buf = add_buf(p->m, arena_printf("%s_%s", ir_tag(l), role), BUF_KEEP, shape, per_row, what);
    l->nkeep++;
}

void plan_keep(Plan *p, Layer *l, const char *role, Shape shape, const char *what)
{
    keep(p, l, role, shape, 1, what);
}

void plan_keep_fixed(Plan *p, Layer *l, const char *role, Shape shape, const char *what)
{
    keep(p, l, role, shape, 0, what);
}

void plan_value(Plan *p, Layer *l, const char *role, Shape shape, const char *what)
{
    if (l->nkeep == MAX_KEEP)
        ir_internal_error("a layer keeps more than MAX_KEEP buffers");
    l->keep[l->nkeep].role = role;
    l->keep[l->nkeep].buf = add_buf(p->m, arena_printf("%s_%s", ir_tag(l), role), BUF_VALUE, shape, 1, what);
    l->nkeep++;
}

void plan_scratch(Plan *p, Layer *l, long floats)
{
    l->scratch = floats;
    if (floats > p->scratch)
        p->scratch = floats;
}

static void reset(Layer *l)
{
    l->out_buf = l->mid_buf = l->dy_buf = l->dx_buf = -1;
    l->nkeep = 0;
    l->scratch = 0;
    if (l->norm) {
        l->norm->nkeep = 0;
        l->norm->scratch = 0;
    }
}

/* Which layers backward runs over: from the last (or the one before an
 * output activation folded into the loss) down to the first layer with
 * trainable parameters; whether the last fused activation is folded. */
static void backward_range(Model *m)
{
    int last = m->nlayers - 1;
    m->grad_end = m->nlayers;
    for (int i = 0; i < m->nlayers && m->grad_end == m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++)
            if (ir_param_at(&m->layer[i], k)->trainable)
                m->grad_end = i;
    m->grad_start = last;
    m->skip_last_act = 0;
    if (m->loss_from_logits && !m->loss_on_logits) {
        if (has_prop(&m->layer[last], LK_ACTIVATION))
            m->grad_start = last - 1;
        else
            m->skip_last_act = 1;
    }
}

static void plan_forward(Model *m, int level)
{
    int training = m->has_loss;
    int pingpong = !training && level >= 1, cur = -1, pp[2] = {-1, -1};
    if (pingpong) {
        long widest = 0;
        for (int i = 0; i < m->nlayers; i++)
            if (!has_prop(&m->layer[i], LK_VIEW) && shape_size(&m->layer[i].out) > widest)
                widest = shape_size(&m->layer[i].out);
        pp[0] = add_buf(m, "value_a", BUF_VALUE, shape_1d((int)widest), 1, "layer outputs, in turn");
        pp[1] = add_buf(m, "value_b", BUF_VALUE, shape_1d((int)widest), 1, "layer outputs, in turn");
    }
    Plan p = {m, training, 0, 0};
    for (int i = 0; i < m->nlayers; i++) {
        Layer *l = &m->layer[i];
        const char *tag = ir_tag(l);
        if (l->norm)
            l->mid_buf = add_buf(m, arena_printf("%s_z", tag), BUF_VALUE, l->out, 1,
                                 arena_printf("output of layer %d before %s", l->index, l->norm->kind->name));
        if (has_prop(l, LK_VIEW) || (!training && has_prop(l, LK_TRAIN_ONLY))) {
            l->out_buf = cur;   /* its input's memory: nothing is written */
        } else if (pingpong) {
            l->out_buf = cur == pp[0] ? pp[1] : pp[0];
        } else {
            l->out_buf = add_buf(m, arena_printf("%s_y", tag), BUF_VALUE, l->out, 1,
                                 arena_printf("output of layer %d", l->index));
        }
        cur = l->out_buf;
        p.keep_logits = i == m->nlayers - 1 && m->skip_last_act;
        if (l->kind->plan)
            l->kind->plan(&p, l);
        if (l->norm && l->norm->kind->plan) {
            p.keep_logits = 0;
            l->norm->kind->plan(&p, l->norm);
        }
    }
    if (p.scratch > 0)
        m->scratch_buf = add_buf(m, "scratch", BUF_SCRATCH, shape_1d((int)p.scratch), 0,
                                 "working memory of the kernels, shared by the layers");
}

static void plan_backward(Model *m, int level)
{
    if (m->grad_end > m->grad_start)
        return;
    int pp[2] = {-1, -1};
    if (level >= 1) {
        long widest = 0;
        for (int i = m->grad_end; i <= m->grad_start; i++) {
            long in = shape_size(&m->layer[i].in), out = shape_size(&m->layer[i].out);
            if (out > widest)
                widest = out;
            if ((i > m->grad_end || !has_prop(&m->layer[i], LK_DX_OPTIONAL)) && in > widest)
                widest = in;
        }
        pp[0] = add_buf(m, "grad_a", BUF_GRAD, shape_1d((int)widest), 1, "d loss / d value, in turn");
        pp[1] = add_buf(m, "grad_b", BUF_GRAD, shape_1d((int)widest), 1, "d loss / d value, in turn");
    }
    Layer *top = &m->layer[m->grad_start];
    top->dy_buf = level >= 1 ? pp[0]
                             : add_buf(m, arena_printf("%s_dy", ir_tag(top)), BUF_GRAD, top->out, 1,
                                       "d loss / d output");
    for (int i = m->grad_start; i >= m->grad_end; i--) {
        Layer *l = &m->layer[i], *prev = i > 0 ? &m->layer[i - 1] : NULL;
        /* the first layer computes d loss / d input only when its kind
         * cannot skip it: unused, over its d output where it can */
        if (i == m->grad_end && has_prop(l, LK_DX_OPTIONAL))
            break;
        if (has_prop(l, LK_VIEW))
            l->dx_buf = l->dy_buf;
        else if (level >= 1 && has_prop(l, LK_GRAD_IN_PLACE))
            l->dx_buf = l->dy_buf;
        else if (level >= 1)
            l->dx_buf = l->dy_buf == pp[0] ? pp[1] : pp[0];
        else if (prev)
            l->dx_buf = add_buf(m, arena_printf("%s_dy", ir_tag(prev)), BUF_GRAD, prev->out, 1,
                                "d loss / d output");
        else
            l->dx_buf = add_buf(m, "input_dy", BUF_GRAD, m->in_shape, 1, "d loss / d input (unused)");
        if (i > m->grad_end)
            prev->dy_buf = l->dx_buf;
    }
}

int pass_plan(Model *m, int level)
{
    m->buf = NULL;
    m->nbuf = m->bufcap = 0;
    for (int i = 0; i < m->nlayers; i++)
        reset(&m->layer[i]);
    m->input_buf = -1;
    m->scratch_buf = -1;
    if (m->has_loss) {
        backward_range(m);
        m->input_buf = add_buf(m, "input", BUF_INPUT, m->in_shape, 1, "copy of x, for backward");
    }
    plan_forward(m, level);
    if (m->has_loss)
        plan_backward(m, level);
    m->planned = 1;
    return 1;
}
