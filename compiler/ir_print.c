/*
 * ir_print.c - the one text form of the IR.
 *
 * One line per layer, in order, with its statement index, operation (fused
 * operations joined by '+'), widths, attributes and parameters; then the
 * training configuration. The form is stable: golden tests compare it byte
 * for byte, so numbers print with %.9g (round-trip exact for floats) and
 * nothing depends on addresses or the environment. Example:
 *
 *     model clf {
 *       input [10]
 *       L0 dense+batchnorm+relu 10 -> 64  params 0.weight[64,10] 0.bias[64] ...
 *       ...
 *     }
 */
#include "seqc.h"

static const char *yes(int b) { return b ? "true" : "false"; }

static void print_layer(FILE *f, const Layer *l)
{
    fprintf(f, "  L%d %s", l->index, op_names[l->op]);
    if (l->op == OP_DENSE && l->norm != OP_COUNT)
        fprintf(f, "+%s", op_names[l->norm]);
    if (l->op == OP_DENSE && l->act != SEQRT_ACT_LINEAR)
        fprintf(f, "+%s", seqrt_act_name(l->act));
    if (l->op == OP_ACTIVATION)
        fprintf(f, " %s", seqrt_act_name(l->act));
    fprintf(f, " %d -> %d", l->in, l->out);
    switch (l->op) {
    case OP_DENSE:
        fprintf(f, " use_bias=%s", yes(l->use_bias));
        break;
    case OP_BATCHNORM:
        fprintf(f, " momentum=%.9g", l->momentum);
        /* fall through */
    case OP_LAYERNORM:
        fprintf(f, " epsilon=%.9g center=%s scale=%s", l->epsilon, yes(l->center), yes(l->scale));
        break;
    case OP_DROPOUT:
        fprintf(f, " rate=%.9g", l->rate);
        if (l->seed >= 0)
            fprintf(f, " seed=%lld", (long long)l->seed);
        break;
    default:
        break;
    }
    if (l->op == OP_DENSE && l->norm == OP_BATCHNORM)
        fprintf(f, " momentum=%.9g", l->momentum);
    if (l->op == OP_DENSE && l->norm != OP_COUNT)
        fprintf(f, " epsilon=%.9g center=%s scale=%s", l->epsilon, yes(l->center), yes(l->scale));
    if (l->nparam) {
        fprintf(f, "  params");
        for (int k = 0; k < l->nparam; k++) {
            const Param *p = &l->param[k];
            if (p->cols)
                fprintf(f, " %s[%d,%d]", p->name, p->rows, p->cols);
            else
                fprintf(f, " %s[%d]", p->name, p->rows);
            if (!p->trainable)
                fprintf(f, "*");
        }
    }
    fputc('\n', f);
}

static void print_optimizer(FILE *f, const Optimizer *o)
{
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        fprintf(f, "  optimizer sgd learning_rate=%.9g momentum=%.9g nesterov=%s\n", o->lr, o->momentum,
                yes(o->nesterov));
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        fprintf(f, "  optimizer %s learning_rate=%.9g beta_1=%.9g beta_2=%.9g epsilon=%.9g",
                o->kind == SEQRT_OPT_ADAM ? "adam" : "adamw", o->lr, o->beta1, o->beta2, o->epsilon);
        if (o->kind == SEQRT_OPT_ADAMW)
            fprintf(f, " weight_decay=%.9g", o->weight_decay);
        fputc('\n', f);
        break;
    case SEQRT_OPT_RMSPROP:
        fprintf(f, "  optimizer rmsprop learning_rate=%.9g rho=%.9g momentum=%.9g epsilon=%.9g\n", o->lr, o->rho,
                o->momentum, o->epsilon);
        break;
    }
}

void ir_print(FILE *f, const Model *m)
{
    fprintf(f, "model %s {\n  input [", m->name);
    for (int i = 0; i < m->in_rank; i++)
        fprintf(f, "%s%d", i ? ", " : "", m->in_shape[i]);
    fprintf(f, "] -> %d\n", m->out);
    for (int i = 0; i < m->nlayers; i++)
        print_layer(f, &m->layer[i]);
    fprintf(f, "  output %d\n", m->out);
    if (m->loss >= 0) {
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
            m->batch_size, m->epochs, yes(m->shuffle), m->validation_split, (long long)m->seed, m->verbose);
    if (m->es.enabled)
        fprintf(f, "  early_stopping monitor=%s min_delta=%.9g patience=%d mode=%s restore_best_weights=%s "
                "start_from_epoch=%d\n", m->es.monitor, m->es.min_delta, m->es.patience,
                m->es.mode == 0 ? "auto" : m->es.mode == 1 ? "min" : "max", yes(m->es.restore_best_weights),
                m->es.start_from_epoch);
    fprintf(f, "  params %ld trainable, %ld non-trainable\n", ir_param_count(m, 1), ir_param_count(m, 0));
    fprintf(f, "}\n");
}
