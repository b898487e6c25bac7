/*
 * names.c - the spellings of activations, losses, metrics, optimizers and
 * initializers as the model language (and Keras) writes them.
 *
 * Every table comes from its seqrt_*.def, the single list shared with the
 * compiler, so the enums and the names cannot drift apart. An out-of-range
 * value gives "unknown" rather than NULL so the result can always be
 * printed.
 */
#include "seqrt_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const act_names[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) name,
#define ACT_ROW(id, name, flags, FR, BR, desc) name,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

static const seqrt_actfn act_defaults[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) {SEQRT_ACT_##id, {d0, d1, d2}},
#define ACT_ROW(id, name, flags, FR, BR, desc) {SEQRT_ACT_##id, {0.0f, 0.0f, 0.0f}},
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

static const unsigned char act_nparams[SEQRT_ACT_COUNT] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) np,
#define ACT_ROW(id, name, flags, FR, BR, desc) 0,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

seqrt_actfn seqrt_act_default(seqrt_act kind)
{
    if ((unsigned)kind >= SEQRT_ACT_COUNT)
        abort(); /* not a seqrt_act: a corrupt call */
    return act_defaults[kind];
}

int seqrt_act_is_rowwise(seqrt_act kind)
{
    switch (kind) {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) case SEQRT_ACT_##id: return 0;
#define ACT_ROW(id, name, flags, FR, BR, desc) case SEQRT_ACT_##id: return 1;
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    }
    abort(); /* not a seqrt_act: a corrupt call */
}

int seqrt_act_nparams(seqrt_act kind)
{
    if ((unsigned)kind >= SEQRT_ACT_COUNT)
        abort(); /* not a seqrt_act: a corrupt call */
    return act_nparams[kind];
}

static const char *const loss_names[SEQRT_LOSS_COUNT] = {
#define LOSS(id, name, cls, aliases) name,
#include "seqrt_losses.def"
#undef LOSS
};

static const char *const metric_names[SEQRT_METRIC_COUNT] = {
#define METRIC(id, name, cls, aliases, mode, cname) name,
#include "seqrt_metrics.def"
#undef METRIC
};

static const char *const metric_class_names[SEQRT_METRIC_COUNT] = {
#define METRIC(id, name, cls, aliases, mode, cname) cname,
#include "seqrt_metrics.def"
#undef METRIC
};

#define MIN 0
#define MAX 1
#define NONE 2
static const unsigned char metric_max[SEQRT_METRIC_COUNT] = {
#define METRIC(id, name, cls, aliases, mode, cname) mode,
#include "seqrt_metrics.def"
#undef METRIC
};
#undef MIN
#undef MAX
#undef NONE

static const char *const opt_names[SEQRT_OPT_COUNT] = {
#define OPT(id, name, cls) name,
#include "seqrt_optimizers.def"
#undef OPT
};

static const char *const init_names[SEQRT_INIT_COUNT] = {
#define INIT(id, name, cls, aliases) name,
#include "seqrt_inits.def"
#undef INIT
};

static const char *const schedule_names[SEQRT_SCHEDULE_COUNT] = {
#define SCHEDULE(id, cls) cls,
#include "seqrt_schedules.def"
#undef SCHEDULE
};

#define NAME_OF(table, count, i) ((i) >= 0 && (i) < (count) ? (table)[i] : "unknown")

const char *seqrt_act_name(int act) { return NAME_OF(act_names, SEQRT_ACT_COUNT, act); }
const char *seqrt_loss_name(int loss) { return NAME_OF(loss_names, SEQRT_LOSS_COUNT, loss); }
const char *seqrt_metric_name(int metric) { return NAME_OF(metric_names, SEQRT_METRIC_COUNT, metric); }
const char *seqrt_opt_name(int opt) { return NAME_OF(opt_names, SEQRT_OPT_COUNT, opt); }
const char *seqrt_init_name(int init) { return NAME_OF(init_names, SEQRT_INIT_COUNT, init); }
const char *seqrt_schedule_name(int s) { return NAME_OF(schedule_names, SEQRT_SCHEDULE_COUNT, s); }
const char *seqrt_metric_class_name(int metric)
{
    return NAME_OF(metric_class_names, SEQRT_METRIC_COUNT, metric);
}

int seqrt_metric_higher_is_better(int metric)
{
    return metric >= 0 && metric < SEQRT_METRIC_COUNT && metric_max[metric] == 1;
}

int seqrt_metric_has_direction(int metric)
{
    return metric >= 0 && metric < SEQRT_METRIC_COUNT && metric_max[metric] != 2;
}

/* s is name, cls, or one of the '|'-separated aliases. */
static int spelled(const char *s, const char *name, const char *cls, const char *aliases)
{
    if (!strcmp(s, name) || !strcmp(s, cls))
        return 1;
    size_t n = strlen(s);
    for (const char *a = aliases; *a;) {
        const char *end = strchr(a, '|');
        size_t len = end ? (size_t)(end - a) : strlen(a);
        if (len == n && !strncmp(a, s, n))
            return 1;
        a += len + (end != NULL);
    }
    return 0;
}

int seqrt_metric_lookup(const char *s)
{
#define METRIC(id, name, cls, aliases, mode, cname) \
    if (spelled(s, name, cls, aliases))             \
        return SEQRT_METRIC_##id;
#include "seqrt_metrics.def"
#undef METRIC
    return -1;
}

const char *seqrt_model_metric_name(const seqrt_model *m, int i)
{
    return m->metric_labels[i] ? m->metric_labels[i] : seqrt_metric_name(m->metrics[i]);
}

/* Keras's defaults of the metrics' arguments (seqrt_metric_args). */
seqrt_metric_args seqrt_metric_defaults(int metric)
{
    seqrt_metric_args a;
    memset(&a, 0, sizeof a);
    (void)metric;
    a.given = 1;
    a.threshold = 0.5f;
    a.k = 5;
    a.num_thresholds = 200;
    a.class_id = -1;
    return a;
}

