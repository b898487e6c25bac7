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
#include <string.h>

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
        if (p->ispec.has_args || p->ispec.has_seed) {
            const seqrt_init_args *a = &p->ispec.args;
            fprintf(f, "{init=%s", seqrt_init_name(p->ispec.kind));
            if (p->ispec.has_args)
                fprintf(f, "(%.9g,%.9g,%d,%d)", a->a, a->b, a->mode, a->distribution);
            if (p->ispec.has_seed)
                fprintf(f, ",seed=%lld", (long long)p->ispec.seed);
            fputc('}', f);
        }
        if (p->reg.on)
            fprintf(f, "{l1=%.9g,l2=%.9g}", p->reg.l1, p->reg.l2);
        if (p->con.on)
            fprintf(f, "{%s,max=%.9g,min=%.9g,rate=%.9g,axis=%d}",
                    p->con.kind == SEQRT_CONSTRAINT_MAX_NORM ? "max_norm"
                    : p->con.kind == SEQRT_CONSTRAINT_NON_NEG ? "non_neg"
                    : p->con.kind == SEQRT_CONSTRAINT_UNIT_NORM ? "unit_norm" : "min_max_norm",
                    p->con.max_value, p->con.min_value, p->con.rate, p->con.axis);
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

/* learning_rate=ExponentialDecay(initial_learning_rate=0.01,decay_steps=100,...):
 * one token, so that the optimizer line stays key=value pairs */
static void print_schedule(FILE *f, const seqrt_lr_schedule *sc)
{
    fprintf(f, " learning_rate=%s(", seqrt_schedule_name(sc->kind));
    switch ((seqrt_schedule_kind)sc->kind) {
    case SEQRT_SCHEDULE_EXPONENTIAL_DECAY:
    case SEQRT_SCHEDULE_INVERSE_TIME_DECAY:
        fprintf(f, "initial_learning_rate=%.9g,decay_steps=%.9g,decay_rate=%.9g,staircase=%s",
                sc->initial_learning_rate, sc->decay_steps, sc->decay_rate, ir_bool(sc->staircase));
        break;
    case SEQRT_SCHEDULE_POLYNOMIAL_DECAY:
        fprintf(f, "initial_learning_rate=%.9g,decay_steps=%.9g,end_learning_rate=%.9g,power=%.9g,cycle=%s",
                sc->initial_learning_rate, sc->decay_steps, sc->end_learning_rate, sc->power, ir_bool(sc->cycle));
        break;
    case SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY:
        fprintf(f, "boundaries=");
        for (int i = 0; i + 1 < sc->nvalues; i++)
            fprintf(f, "%s%.9g", i ? ":" : "", sc->boundaries[i]);
        fprintf(f, ",values=");
        for (int i = 0; i < sc->nvalues; i++)
            fprintf(f, "%s%.9g", i ? ":" : "", sc->values[i]);
        break;
    case SEQRT_SCHEDULE_COSINE_DECAY:
        fprintf(f, "initial_learning_rate=%.9g,decay_steps=%.9g,alpha=%.9g", sc->initial_learning_rate,
                sc->decay_steps, sc->alpha);
        if (sc->warmup)
            fprintf(f, ",warmup_target=%.9g,warmup_steps=%.9g", sc->warmup_target, sc->warmup_steps);
        break;
    case SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS:
        fprintf(f, "initial_learning_rate=%.9g,first_decay_steps=%.9g,t_mul=%.9g,m_mul=%.9g,alpha=%.9g",
                sc->initial_learning_rate, sc->decay_steps, sc->t_mul, sc->m_mul, sc->alpha);
        break;
    }
    fputc(')', f);
}

static void print_optimizer(FILE *f, const Optimizer *o)
{
    fprintf(f, "  optimizer %s", seqrt_opt_name(o->kind));
    if (o->has_schedule)
        print_schedule(f, &o->sched);
    else
        fprintf(f, " learning_rate=%.9g", o->lr);
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        fprintf(f, " momentum=%.9g nesterov=%s", o->momentum, ir_bool(o->nesterov));
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        fprintf(f, " beta_1=%.9g beta_2=%.9g epsilon=%.9g", o->beta1, o->beta2, o->epsilon);
        if (o->kind == SEQRT_OPT_ADAMW)
            fprintf(f, " weight_decay=%.9g", o->weight_decay);
        if (o->amsgrad)
            fprintf(f, " amsgrad=true");
        break;
    case SEQRT_OPT_RMSPROP:
        fprintf(f, " rho=%.9g momentum=%.9g epsilon=%.9g", o->rho, o->momentum, o->epsilon);
        if (o->centered)
            fprintf(f, " centered=true");
        break;
    case SEQRT_OPT_ADAGRAD:
        fprintf(f, " initial_accumulator_value=%.9g epsilon=%.9g", o->initial_accumulator_value, o->epsilon);
        break;
    case SEQRT_OPT_ADADELTA:
        fprintf(f, " rho=%.9g epsilon=%.9g", o->rho, o->epsilon);
        break;
    case SEQRT_OPT_ADAMAX:
    case SEQRT_OPT_NADAM:
        fprintf(f, " beta_1=%.9g beta_2=%.9g epsilon=%.9g", o->beta1, o->beta2, o->epsilon);
        break;
    case SEQRT_OPT_LION:
        fprintf(f, " beta_1=%.9g beta_2=%.9g", o->beta1, o->beta2);
        break;
    case SEQRT_OPT_FTRL:
        fprintf(f, " learning_rate_power=%.9g initial_accumulator_value=%.9g l1=%.9g l2=%.9g l2_shrinkage=%.9g "
                "beta=%.9g", o->lr_power, o->initial_accumulator_value, o->l1, o->l2, o->l2_shrinkage, o->beta);
        break;
    }
    if (o->decoupled_wd || (o->kind == SEQRT_OPT_ADAM && o->weight_decay > 0))
        fprintf(f, " weight_decay=%.9g", o->weight_decay);
    if (o->clipnorm > 0)
        fprintf(f, " clipnorm=%.9g", o->clipnorm);
    if (o->clipvalue > 0)
        fprintf(f, " clipvalue=%.9g", o->clipvalue);
    if (o->global_clipnorm > 0)
        fprintf(f, " global_clipnorm=%.9g", o->global_clipnorm);
    if (o->settable_lr)
        fprintf(f, " (learning rate settable: ReduceLROnPlateau)");
    fputc('\n', f);
}

static const char *const mode_names[] = {"auto", "min", "max"};

void ir_print(FILE *f, const Model *m)
{
    fprintf(f, "model %s {\n  input %s -> %s\n", m->name, shape_str(&m->in_shape), shape_str(&m->out_shape));
    for (int i = 0; i < m->nlayers; i++)
        print_layer(f, m, &m->layer[i]);
    if (m->has_loss) {
        fprintf(f, "  loss %s%s", seqrt_loss_name(m->loss),
                m->loss_on_logits ? " from_logits=true" : m->loss_from_logits ? " (computed from logits)" : "");
        if (m->loss == SEQRT_LOSS_HUBER && m->loss_delta != 1.0)
            fprintf(f, " delta=%.9g", m->loss_delta);
        if (m->label_smoothing != 0)
            fprintf(f, " label_smoothing=%.9g", m->label_smoothing);
        fputc('\n', f);
        print_optimizer(f, &m->opt);
        if (m->nmetrics) {
            fprintf(f, "  metrics");
            for (int i = 0; i < m->nmetrics; i++) {
                fprintf(f, " %s", seqrt_metric_name(m->metric[i]));
                if (strcmp(m->metric_label[i], seqrt_metric_name(m->metric[i])) &&
                    strcmp(m->metric_label[i], seqrt_metric_class_name(m->metric[i])) &&
                    !(m->metric[i] <= SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY &&
                      (!strcmp(m->metric_label[i], "accuracy") || !strcmp(m->metric_label[i], "acc"))))
                    fprintf(f, "(name=%s)", m->metric_label[i]);
                const seqrt_metric_args *a = &m->metric_args[i];
                if (a->given)
                    fprintf(f, "{threshold=%.9g k=%d num_thresholds=%d curve=%d summation=%d class_id=%d "
                            "from_logits=%d label_smoothing=%.9g aggregation=%d num_regressors=%d axis_len=%d}",
                            a->threshold, a->k, a->num_thresholds, a->curve, a->summation, a->class_id,
                            a->from_logits, a->label_smoothing, a->aggregation, a->num_regressors, a->axis_len);
            }
            fputc('\n', f);
        }
    }
    fprintf(f, "  fit batch_size=%d epochs=%d shuffle=%s validation_split=%.9g seed=%lld verbose=%d",
            m->batch_size, m->epochs, ir_bool(m->shuffle), m->validation_split, (long long)m->seed, m->verbose);
    if (m->initial_epoch)
        fprintf(f, " initial_epoch=%d", m->initial_epoch);
    if (m->class_weight) {
        fprintf(f, " class_weight=");
        for (int k = 0; k < m->nclass_weight; k++)
            fprintf(f, "%s%d:%.9g", k ? "," : "", k, m->class_weight[k]);
    }
    fputc('\n', f);
    if (m->es.enabled) {
        fprintf(f, "  early_stopping monitor=%s min_delta=%.9g patience=%d mode=%s restore_best_weights=%s "
                "start_from_epoch=%d", m->es.monitor, m->es.min_delta, m->es.patience, mode_names[m->es.mode],
                ir_bool(m->es.restore_best_weights), m->es.start_from_epoch);
        if (m->es.order)
            fprintf(f, " order=%d", m->es.order);
        if (m->es.has_baseline)
            fprintf(f, " baseline=%.9g", m->es.baseline);
        fputc('\n', f);
    }
    for (int i = 0; i < m->ncb; i++) {
        const seqrt_callback *c = &m->cb[i].cb;
        switch ((seqrt_callback_kind)c->kind) {
        case SEQRT_CB_REDUCE_LR_ON_PLATEAU:
            fprintf(f, "  reduce_lr_on_plateau monitor=%s factor=%.9g patience=%d mode=%s min_delta=%.9g cooldown=%d "
                    "min_lr=%.9g", c->monitor, c->factor, c->patience, mode_names[c->mode], c->min_delta, c->cooldown,
                    c->min_lr);
            break;
        case SEQRT_CB_MODEL_CHECKPOINT:
            fprintf(f, "  model_checkpoint filepath=%s monitor=%s save_best_only=%s save_weights_only=%s mode=%s",
                    c->path, c->monitor, ir_bool(c->save_best_only), ir_bool(c->save_weights_only),
                    mode_names[c->mode]);
            if (c->has_initial_value)
                fprintf(f, " initial_value_threshold=%.9g", c->initial_value);
            break;
        case SEQRT_CB_CSV_LOGGER:
            fprintf(f, "  csv_logger filename=%s separator='%c' append=%s", c->path, c->separator, ir_bool(c->append));
            break;
        case SEQRT_CB_TERMINATE_ON_NAN:
            fprintf(f, "  terminate_on_nan raise_error=%s", ir_bool(c->raise_error));
            break;
        }
        fprintf(f, " order=%d\n", c->order);
    }
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
