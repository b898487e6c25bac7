/*
 * ir_print.c - the one text form of the IR.
 *
 * One line per layer, in order, with its statement index, kind (fused
 * parts joined by '+'), shapes, attributes (the kind's print hook) and
 * parameters; then the training configuration; then, once pass_plan has
 * run, the buffer plan: every buffer of the generated state with its size,
 * and per layer where its output, its kept values and its gradients live.
 * The form is stable: golden tests compare it byte for byte, so numbers
 * print with %.9g (round-trip exact for floats) and nothing depends on
 * addresses or the environment. Example:
 *
 *     model clf {
 *       input [10] -> [1]
 *       L0 dense+batchnorm+relu [10] -> [64] use_bias=true ...  params 0.weight[64,10] ...
 *       ...
 *     }
 */
#include "seqc.h"

const char *ir_bool(int b) { return b ? "true" : "false"; }

static void print_params(FILE *f, const Layer *l)
{
    int n = ir_nparams(l);
    if (!n)
        return;
    fprintf(f, "  params");
    for (int k = 0; k < n; k++) {
        const Param *p = ir_param_at(l, k);
        fprintf(f, " %s[", p->name);
        for (int d = 0; d < p->shape.rank; d++)
            fprintf(f, "%s%d", d ? "," : "", p->shape.dim[d]);
        fprintf(f, "]%s", p->trainable ? "" : "*");
    }
}

static void print_keeps(FILE *f, const Model *m, const Layer *l)
{
    for (int k = 0; k < l->nkeep; k++)
        fprintf(f, "%s%s", k ? "," : " keep=", m->buf[l->keep[k].buf].name);
}

static void print_plan_of(FILE *f, const Model *m, const Layer *l)
{
    fprintf(f, "    out=%s", l->out_buf >= 0 ? m->buf[l->out_buf].name
                                             : m->input_buf >= 0 ? m->buf[m->input_buf].name : "x");
    if (l->mid_buf >= 0)
        fprintf(f, " mid=%s", m->buf[l->mid_buf].name);
    print_keeps(f, m, l);
    if (l->norm)
        print_keeps(f, m, l->norm);
    if (l->dy_buf >= 0)
        fprintf(f, " dy=%s", m->buf[l->dy_buf].name);
    if (l->dx_buf >= 0)
        fprintf(f, " dx=%s", m->buf[l->dx_buf].name);
    if (l->scratch > 0)
        fprintf(f, " scratch=%ld", l->scratch);
    fputc('\n', f);
}

static void print_layer(FILE *f, const Model *m, const Layer *l)
{
    fprintf(f, "  L%d %s", l->index, l->kind->name);
    if (l->norm)
        fprintf(f, "+%s", l->norm->kind->name);
    if (!act_is_linear(l->act))
        fprintf(f, "%s%s", (l->kind->props & LK_ACTIVATION) ? " " : "+", act_str(l->act));
    fprintf(f, " %s -> %s", shape_str(&l->in), shape_str(&l->out));
    if (l->kind->print)
        l->kind->print(f, l);
    if (l->norm && l->norm->kind->print)
        l->norm->kind->print(f, l->norm);
    print_params(f, l);
    fputc('\n', f);
    if (m->planned)
        print_plan_of(f, m, l);
}

static void print_optimizer(FILE *f, const Optimizer *o)
{
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        fprintf(f, "  optimizer sgd learning_rate=%.9g momentum=%.9g nesterov=%s\n", o->lr, o->momentum,
                ir_bool(o->nesterov));
        return;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        fprintf(f, "  optimizer %s learning_rate=%.9g beta_1=%.9g beta_2=%.9g epsilon=%.9g",
                seqrt_opt_name(o->kind), o->lr, o->beta1, o->beta2, o->epsilon);
        if (o->kind == SEQRT_OPT_ADAMW)
            fprintf(f, " weight_decay=%.9g", o->weight_decay);
        fputc('\n', f);
        return;
    case SEQRT_OPT_RMSPROP:
        fprintf(f, "  optimizer rmsprop learning_rate=%.9g rho=%.9g momentum=%.9g epsilon=%.9g\n", o->lr, o->rho,
                o->momentum, o->epsilon);
        return;
    }
    ir_internal_error("an optimizer that is not a seqrt_opt_kind");
}

static const char *const mode_names[] = {"auto", "min", "max"};

void ir_print(FILE *f, const Model *m)
{
    fprintf(f, "model %s {\n  input %s -> %s\n", m->name, shape_str(&m->in_shape), shape_str(&m->out_shape));
    for (int i = 0; i < m->nlayers; i++)
        print_layer(f, m, &m->layer[i]);
    if (m->has_loss) {
        fprintf(f, "  loss %s%s\n", seqrt_loss_name(m->loss),
                m->loss_on_logits ? " from_logits=true" : m->loss_from_logits ? " (computed from logits)" : "");
        print_optimizer(f, &m->opt);
        if (m->nmetrics) {
            fprintf(f, "  metrics");
            for (int i = 0; i < m->nmetrics; i++)
                fprintf(f, " %s", seqrt_metric_name(m->metric[i]));
            fputc('\n', f);
        }
    }
    fprintf(f, "  fit batch_size=%d epochs=%d shuffle=%s validation_split=%.9g seed=%lld verbose=%d\n",
            m->batch_size, m->epochs, ir_bool(m->shuffle), m->validation_split, (long long)m->seed, m->verbose);
    if (m->es.enabled)
        fprintf(f, "  early_stopping monitor=%s min_delta=%.9g patience=%d mode=%s restore_best_weights=%s "
                "start_from_epoch=%d\n", m->es.monitor, m->es.min_delta, m->es.patience, mode_names[m->es.mode],
                ir_bool(m->es.restore_best_weights), m->es.start_from_epoch);
    fprintf(f, "  params %ld trainable, %ld non-trainable\n", ir_param_count(m, 1), ir_param_count(m, 0));
    if (m->planned) {
        fprintf(f, "  buffers");
        for (int b = 0; b < m->nbuf; b++)
            fprintf(f, " %s[%s%ld]", m->buf[b].name, m->buf[b].per_row ? "B," : "", m->buf[b].floats);
        fputc('\n', f);
        if (m->has_loss && m->grad_end <= m->grad_start)
            fprintf(f, "  backward L%d..L%d%s\n", m->layer[m->grad_start].index, m->layer[m->grad_end].index,
                    m->skip_last_act ? " (the last activation folded into the loss)" : "");
    }
    fprintf(f, "}\n");
}
