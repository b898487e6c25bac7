/*
 * names.c - the spellings of activations, losses and metrics as the model
 * language (and Keras) writes them.
 *
 * Activations come from seqrt_acts.def, the single list shared with the
 * compiler, so the enum and the names cannot drift apart. Losses and metrics
 * are small fixed tables indexed by their enums. An out-of-range value gives
 * "unknown" rather than NULL so the result can always be printed.
 */
#include "seqrt.h"

static const char *const act_names[SEQRT_ACT_COUNT] = {
#define ACT(id, name) name,
#include "seqrt_acts.def"
#undef ACT
};

static const char *const loss_names[SEQRT_LOSS_COUNT] = {
    "mae",
    "mse",
    "huber",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
};

static const char *const metric_names[SEQRT_METRIC_COUNT] = {
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "mae",
    "mse",
};

const char *seqrt_act_name(int act)
{
    return act >= 0 && act < SEQRT_ACT_COUNT ? act_names[act] : "unknown";
}

const char *seqrt_loss_name(int loss)
{
    return loss >= 0 && loss < SEQRT_LOSS_COUNT ? loss_names[loss] : "unknown";
}

const char *seqrt_metric_name(int metric)
{
    return metric >= 0 && metric < SEQRT_METRIC_COUNT ? metric_names[metric]
                                                        : "unknown";
}

const char *seqrt_model_metric_name(const seqrt_model *m, int i)
{
    return m->metric_labels[i] ? m->metric_labels[i] : seqrt_metric_name(m->metrics[i]);
}
