/*
 * lower_keras.c - the Keras objects around the layers: initializers with
 * arguments, regularizers, constraints, learning-rate schedules, callbacks
 * other than EarlyStopping, class weights, and the names Keras has that
 * seqc reports specially (Keras 1/2 spellings, Keras objects seqc does not
 * build).
 *
 * Every object is read the way Keras 3's get() reads it: a string (its
 * snake_case name or class name), a bare name, or a class call with
 * Keras's arguments in Keras's positional order (one CallSpec each, bound
 * by lower_bind), with Keras's defaults and Keras's range checks. What
 * seqc does not build is a located error that names it; nothing Keras
 * accepts is silently dropped. The argument tables of layers, compile()
 * and fit() stay in their files (lower.c, layer_*.c); this file is called
 * from them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seqc.h"

/* ---------------------------------------------------------------- Keras 1/2 spellings */

typedef enum { ANY_LAYER, ANY_OPTIMIZER, CALL } Where;

typedef struct {
    Where where;
    const char *call;     /* CALL: the call's name */
    const char *name;     /* the Keras 1/2 argument */
    const char *keras3;   /* its Keras 3 spelling, or NULL */
    int warn;             /* Keras 3 ignores it (with a warning): so does seqc */
    const char *what;     /* what Keras 3 does, for the message */
} Legacy;

static const Legacy legacy[] = {
    {ANY_OPTIMIZER, NULL, "lr", "learning_rate", 0, "Keras 3 rejects it (\"Argument(s) not recognized\")"},
    {ANY_OPTIMIZER, NULL, "decay", NULL, 1, "Keras 3 ignores it with a warning"},
    {ANY_OPTIMIZER, NULL, "schedule_decay", NULL, 0, "Keras 3 rejects it (Nadam's Keras 2 argument)"},
    {ANY_LAYER, NULL, "init", "kernel_initializer", 0, "Keras 3 rejects it (\"Unrecognized keyword arguments\")"},
    {ANY_LAYER, NULL, "output_dim", "units", 0, "Keras 3 rejects it (\"Unrecognized keyword arguments\")"},
    {ANY_LAYER, NULL, "W_regularizer", "kernel_regularizer", 0, "Keras 3 rejects it"},
    {ANY_LAYER, NULL, "b_regularizer", "bias_regularizer", 0, "Keras 3 rejects it"},
    {ANY_LAYER, NULL, "W_constraint", "kernel_constraint", 0, "Keras 3 rejects it"},
    {ANY_LAYER, NULL, "b_constraint", "bias_constraint", 0, "Keras 3 rejects it"},
    {ANY_LAYER, NULL, "bias", "use_bias", 0, "Keras 3 rejects it"},
    {ANY_LAYER, NULL, "batch_input_shape", "input_shape (without the batch size)", 0, "Keras 3 rejects it"},
    {CALL, "Dropout", "p", "rate", 0, "Keras 3 rejects it"},
    {CALL, "BatchNormalization", "beta_init", "beta_initializer", 0, "Keras 3 rejects it"},
    {CALL, "BatchNormalization", "gamma_init", "gamma_initializer", 0, "Keras 3 rejects it"},
    {CALL, "BatchNormalization", "mode", NULL, 0, "Keras 3 rejects it (Keras 1's modes are gone)"},
    {CALL, "fit", "nb_epoch", "epochs", 0, "Keras 3 rejects it (TypeError: unexpected keyword argument)"},
    {CALL, "fit", "show_accuracy", "metrics=[\"accuracy\"] in compile()", 0, "Keras 3 rejects it"},
    {CALL, "compile", "sample_weight_mode", NULL, 0, "Keras 3 rejects it (TypeError: unexpected keyword argument)"},
    {CALL, "ModelCheckpoint", "period", "save_freq", 0, "Keras 3 rejects it (TypeError: unexpected keyword argument)"},
    {CALL, "ReduceLROnPlateau", "epsilon", "min_delta", 1, "Keras 3 ignores it (it is swallowed by **kwargs)"},
};

int lower_legacy_arg(const Lower *lw, const Value *call, const CallSpec *spec, const Arg *a)
{
    for (int i = 0; i < COUNT_OF(legacy); i++) {
        const Legacy *g = &legacy[i];
        if (strcmp(g->name, a->key))
            continue;
        int here = g->where == ANY_LAYER ? lower_is_layer_spec(spec)
                 : g->where == ANY_OPTIMIZER ? lower_is_optimizer_spec(spec)
                                             : !strcmp(spec->name, g->call);
        if (!here)
            continue;
        const char *fix = g->keras3 ? arena_printf("; write %s=...", g->keras3) : "";
        if (!g->warn) {
            diag_error(lw->src, a->key_loc, "'%s' is a Keras 1/2 argument of %s: %s%s", a->key, spec->name, g->what,
                       fix);
            return -1;
        }
        if (!strcmp(a->key, "decay")) {
            double d = a->val->kind == VAL_INT || a->val->kind == VAL_FLOAT ? a->val->f : 0;
            /* the learning rate as written: learning_rate= (or lr=), or
             * the first positional argument, when it is a number */
            const char *lr = "LR";
            int pos = 0;
            for (const Arg *b = call->args; b; b = b->next) {
                int first = !b->key && pos++ == 0;
                if ((first || (b->key && (!strcmp(b->key, "learning_rate") || !strcmp(b->key, "lr")))) &&
                    (b->val->kind == VAL_INT || b->val->kind == VAL_FLOAT)) {
                    char lb[40];
                    lr = arena_strdup(seqrt_pyfloat(lb, sizeof lb, b->val->f));
                }
            }
            char buf[40];
            diag_warning(lw->src, a->key_loc, "'decay' is a Keras 2 argument of %s: %s, and so does seqc; Keras 2 "
                         "decayed the learning rate as lr / (1 + decay * step): to keep that, write "
                         "learning_rate=InverseTimeDecay(%s, decay_steps=1, decay_rate=%s)", spec->name, g->what,
                         lr, seqrt_pyfloat(buf, sizeof buf, d));
        } else {
            diag_warning(lw->src, a->key_loc, "'%s' is a Keras 2 argument of %s: %s, and so does seqc%s", a->key,
                         spec->name, g->what, g->keras3 ? arena_printf(" (Keras 3 spells it %s)", g->keras3) : "");
        }
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- what seqc does not build */

typedef struct {
    const char *what;
    const char *names;    /* '|'-separated */
} NotBuilt;

static const NotBuilt not_built[] = {
    {"layer", "Conv3D|Conv1DTranspose|Conv2DTranspose|Conv3DTranspose|MaxPooling3D|AveragePooling3D|"
              "GlobalMaxPooling3D|GlobalAveragePooling3D|RNN|ConvLSTM1D|"
              "ConvLSTM2D|ConvLSTM3D|TimeDistributed|Permute|RepeatVector|Cropping3D|UpSampling3D|"
              "ZeroPadding3D|SpatialDropout3D|GroupNormalization|UnitNormalization|SpectralNormalization|"
              "RMSNormalization|Lambda|MultiHeadAttention|Attention|AdditiveAttention|GroupQueryAttention|"
              "Add|Concatenate|Multiply|Average|Maximum|Minimum|Subtract|Dot|Resizing|CenterCrop|RandomFlip|"
              "RandomRotation|RandomZoom|RandomTranslation|RandomContrast|RandomCrop|RandomBrightness|"
              "TextVectorization|StringLookup|IntegerLookup|CategoryEncoding|Hashing|Discretization|EinsumDense|"
              "Identity|ThresholdedReLU"},
    {"loss", "BinaryFocalCrossentropy|binary_focal_crossentropy|CategoricalFocalCrossentropy|"
             "categorical_focal_crossentropy|CTC|ctc|Dice|dice|Tversky|tversky|Circle|circle|"
             "CategoricalGeneralizedCrossEntropy|categorical_generalized_cross_entropy"},
    {"metric", "Accuracy|F1Score|f1_score|FBetaScore|f_beta_score|IoU|io_u|BinaryIoU|binary_io_u|MeanIoU|"
               "mean_io_u|OneHotIoU|one_hot_io_u|OneHotMeanIoU|one_hot_mean_io_u|PrecisionAtRecall|"
               "precision_at_recall|RecallAtPrecision|recall_at_precision|SensitivityAtSpecificity|"
               "sensitivity_at_specificity|SpecificityAtSensitivity|specificity_at_sensitivity|"
               "PearsonCorrelation|pearson_correlation|ConcordanceCorrelation|concordance_correlation|"
               "Mean|mean|Sum|sum|MeanMetricWrapper"},
    {"optimizer", "adafactor|muon|lamb|lossscaleoptimizer|schedulefreeadamw|multioptimizer"},
    {"initializer", "STFT|stft|STFTInitializer"},
    {"regularizer", "OrthogonalRegularizer|orthogonal_regularizer"},
    {"callback", "LearningRateScheduler|TensorBoard|BackupAndRestore|LambdaCallback|RemoteMonitor|"
                 "SwapEMAWeights|ProgbarLogger|History|OrbaxCheckpoint"},
};

int keras_not_built(const char *what, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < COUNT_OF(not_built); i++) {
        if (strcmp(not_built[i].what, what))
            continue;
        for (const char *p = not_built[i].names; *p;) {
            const char *end = strchr(p, '|');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            int same = len == n && (!strcmp(what, "optimizer") ? !strncasecmp(p, name, n) : !strncmp(p, name, n));
            if (same)
                return 1;
            p += len + (end != NULL);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- Keras 2 names */

/* Names Keras 2 registered that Keras 3's get() no longer reads (its
 * losses.get and metrics.get tables: class names, their snake_case, and a
 * few short aliases): the Keras 3 name to write instead. */
static const struct {
    const char *what, *keras2, *keras3;
} keras2_names[] = {
    {"loss", "logcosh", "log_cosh"},
    {"loss", "kullback_leibler_divergence", "kl_divergence"},
    {"metric", "logcosh", "log_cosh_error"},
    {"metric", "kullback_leibler_divergence", "kl_divergence"},
};

const char *keras2_name(const char *what, const char *name)
{
    for (int i = 0; i < COUNT_OF(keras2_names); i++)
        if (!strcmp(keras2_names[i].what, what) && !strcmp(keras2_names[i].keras2, name))
            return keras2_names[i].keras3;
    return NULL;
}

/* ---------------------------------------------------------------- initializers */

static const CallSpec spec_init_plain = {"initializer", 1, {{"seed", T_INT}}};
static const CallSpec spec_init_normal = {"RandomNormal", 3, {{"mean", T_FLOAT}, {"stddev", T_FLOAT}, {"seed", T_INT}}};
static const CallSpec spec_init_uniform = {"RandomUniform", 3, {
    {"minval", T_FLOAT}, {"maxval", T_FLOAT}, {"seed", T_INT}}};
static const CallSpec spec_init_constant = {"Constant", 1, {{"value", T_FLOAT}}};
static const CallSpec spec_init_none = {"initializer", 0, {{NULL, T_ANY}}};
static const CallSpec spec_init_vs = {"VarianceScaling", 4, {
    {"scale", T_FLOAT}, {"mode", T_STR}, {"distribution", T_STR}, {"seed", T_INT}}};
static const CallSpec spec_init_orthogonal = {"Orthogonal", 2, {{"gain", T_FLOAT}, {"seed", T_INT}}};
static const CallSpec spec_init_identity = {"Identity", 1, {{"gain", T_FLOAT}}};

static const CallSpec *init_spec(seqrt_init_kind k)
{
    switch (k) {
    case SEQRT_INIT_ZEROS:
    case SEQRT_INIT_ONES: return &spec_init_none;
    case SEQRT_INIT_GLOROT_UNIFORM:
    case SEQRT_INIT_GLOROT_NORMAL:
    case SEQRT_INIT_HE_UNIFORM:
    case SEQRT_INIT_HE_NORMAL:
    case SEQRT_INIT_LECUN_UNIFORM:
    case SEQRT_INIT_LECUN_NORMAL: return &spec_init_plain;
    case SEQRT_INIT_RANDOM_NORMAL:
    case SEQRT_INIT_TRUNCATED_NORMAL: return &spec_init_normal;
    case SEQRT_INIT_RANDOM_UNIFORM: return &spec_init_uniform;
    case SEQRT_INIT_CONSTANT: return &spec_init_constant;
    case SEQRT_INIT_VARIANCE_SCALING: return &spec_init_vs;
    case SEQRT_INIT_ORTHOGONAL: return &spec_init_orthogonal;
    case SEQRT_INIT_IDENTITY: return &spec_init_identity;
    }
    ir_internal_error("an initializer that is not a seqrt_init_kind");
}

/* The initializer spelled `s` (name, class, alias), or -1. */
static int init_lookup(const char *s)
{
#define INIT(id, name, cls, aliases)                                           \
    if (!strcmp(s, name) || !strcmp(s, cls))                                   \
        return SEQRT_INIT_##id;                                                \
    for (const char *a = aliases; *a;) {                                       \
        const char *end = strchr(a, '|');                                      \
        size_t len = end ? (size_t)(end - a) : strlen(a);                      \
        if (len == strlen(s) && !strncmp(a, s, len))                           \
            return SEQRT_INIT_##id;                                            \
        a += len + (end != NULL);                                              \
    }
#include "seqrt_inits.def"
#undef INIT
    return -1;
}

static const char *const init_spellings[] = {
#define INIT(id, name, cls, aliases) name, cls,
#include "seqrt_inits.def"
#undef INIT
};

int lower_init_spec(const Lower *lw, const Value *v, const char *argname, seqrt_init_kind def, InitSpec *out)
{
    memset(out, 0, sizeof *out);
    out->kind = def;
    if (!v)
        return 0;
    out->given = 1;
    out->loc = v->loc;
    if (v->kind == VAL_NONE) {
        out->kind = SEQRT_INIT_GLOROT_UNIFORM;   /* Keras's add_weight(initializer=None) */
        return 0;
    }
    const char *s = lower_spelled_name(v);
    if (!s || (v->kind != VAL_STRING && v->kind != VAL_NAME && v->kind != VAL_CALL))
        return lower_type_error(lw, v, argname, "an initializer name or call such as RandomNormal(stddev=0.01)");
    int k = init_lookup(s);
    if (k < 0) {
        if (keras_not_built("initializer", s)) {
            diag_error(lw->src, v->loc, "initializer '%s' is a Keras initializer seqc does not build", s);
            return -1;
        }
        lower_error_unknown(lw, v->kind == VAL_CALL ? lower_name_loc(lw, v) : v->loc, "initializer", s, init_spellings,
                            COUNT_OF(init_spellings), "");
        return -1;
    }
    out->kind = (seqrt_init_kind)k;
    if (v->kind != VAL_CALL)
        return 0;
    Lower sub = *lw;
    Value *vals[MAX_ARGS];
    const CallSpec *spec = init_spec(out->kind);
    if (lower_bind(&sub, v, spec, vals))
        return -1;
    seqrt_init_args *a = &out->args;
    a->kind = k;
    int err = 0;
    double d0 = 0.0, d1 = 0.05;
    switch (out->kind) {
    case SEQRT_INIT_RANDOM_UNIFORM:
        err |= lower_float(&sub, "minval", -0.05, &a->a);
        err |= lower_float(&sub, "maxval", 0.05, &a->b);
        out->has_args = lower_arg(&sub, "minval") || lower_arg(&sub, "maxval");
        break;
    case SEQRT_INIT_RANDOM_NORMAL:
    case SEQRT_INIT_TRUNCATED_NORMAL:
        err |= lower_float(&sub, "mean", d0, &a->a);
        err |= lower_float(&sub, "stddev", d1, &a->b);
        out->has_args = lower_arg(&sub, "mean") || lower_arg(&sub, "stddev");
        if (!err && !(a->b >= 0)) {
            diag_error(lw->src, lower_loc(&sub, "stddev"), "stddev must be 0 or more");
            err = -1;
        }
        break;
    case SEQRT_INIT_CONSTANT:
        err |= lower_float(&sub, "value", 0.0, &a->a);
        out->has_args = 1;
        break;
    case SEQRT_INIT_VARIANCE_SCALING: {
        const char *mode, *dist;
        err |= lower_float(&sub, "scale", 1.0, &a->a);
        err |= lower_str(&sub, "mode", "fan_in", &mode);
        err |= lower_str(&sub, "distribution", "truncated_normal", &dist);
        if (err)
            break;
        static const char *const modes[] = {"fan_in", "fan_out", "fan_avg"};
        static const char *const dists[] = {"truncated_normal", "untruncated_normal", "uniform", "normal"};
        a->mode = -1;
        for (int i = 0; i < 3; i++)
            if (!strcmp(mode, modes[i]))
                a->mode = i;
        a->distribution = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(dist, dists[i]))
                a->distribution = i == 3 ? 0 : i;   /* Keras 3 reads "normal" as truncated_normal */
        if (a->mode < 0) {
            lower_error_unknown(lw, lower_loc(&sub, "mode"), "mode", mode, modes, 3, " for VarianceScaling");
            err = -1;
        } else if (a->distribution < 0) {
            lower_error_unknown(lw, lower_loc(&sub, "distribution"), "distribution", dist, dists, 4,
                                " for VarianceScaling");
            err = -1;
        } else if (!(a->a > 0)) {
            diag_error(lw->src, lower_loc(&sub, "scale"), "scale must be positive");
            err = -1;
        }
        out->has_args = 1;
        break;
    }
    case SEQRT_INIT_ORTHOGONAL:
    case SEQRT_INIT_IDENTITY:
        err |= lower_float(&sub, "gain", 1.0, &a->a);
        out->has_args = 1;
        break;
    case SEQRT_INIT_ZEROS:
    case SEQRT_INIT_ONES:
    case SEQRT_INIT_GLOROT_UNIFORM:
    case SEQRT_INIT_GLOROT_NORMAL:
    case SEQRT_INIT_HE_UNIFORM:
    case SEQRT_INIT_HE_NORMAL:
    case SEQRT_INIT_LECUN_UNIFORM:
    case SEQRT_INIT_LECUN_NORMAL:
        break;
    }
    for (int i = 0; i < MAX_ARGS && spec->args[i].name; i++)
        if (!strcmp(spec->args[i].name, "seed") && vals[i] && vals[i]->kind != VAL_NONE) {
            err |= lower_int(&sub, "seed", 0, &out->seed);
            out->has_seed = 1;
        }
    return err;
}

/* ---------------------------------------------------------------- regularizers */

static const CallSpec spec_l1 = {"L1", 1, {{"l1", T_FLOAT}}};
static const CallSpec spec_l2 = {"L2", 1, {{"l2", T_FLOAT}}};
static const CallSpec spec_l1l2 = {"L1L2", 2, {{"l1", T_FLOAT}, {"l2", T_FLOAT}}};

int lower_regularizer(const Lower *lw, const Value *v, const char *argname, Regularizer *out)
{
    memset(out, 0, sizeof *out);
    if (!v || v->kind == VAL_NONE)
        return 0;
    const char *s = lower_spelled_name(v);
    if (!s)
        return lower_type_error(lw, v, argname, "a regularizer such as \"l2\" or L2(0.01)");
    /* Keras 3's regularizers.get: the classes and their snake_case names
     * ("l1", "l2", "l1l2"); keras.regularizers.l1, l2, l1_l2 are the classes */
    int kind = !strcmp(s, "L1") || !strcmp(s, "l1") ? 1 : !strcmp(s, "L2") || !strcmp(s, "l2") ? 2
             : !strcmp(s, "L1L2") || !strcmp(s, "l1l2") || (v->kind != VAL_STRING && !strcmp(s, "l1_l2")) ? 3 : 0;
    if (!kind) {
        if (!strcmp(s, "l1_l2"))
            diag_error(lw->src, v->loc, "Keras 3 does not read the string \"l1_l2\" (regularizers.get knows \"l1\", "
                       "\"l2\" and \"l1l2\"); write L1L2(l1=0.01, l2=0.01)");
        else if (keras_not_built("regularizer", s))
            diag_error(lw->src, v->loc, "regularizer '%s' is a Keras regularizer seqc does not build", s);
        else {
            static const char *const names[] = {"l1", "l2", "l1l2", "L1", "L2", "L1L2"};
            lower_error_unknown(lw, v->kind == VAL_CALL ? lower_name_loc(lw, v) : v->loc, "regularizer", s, names, 6,
                                "");
        }
        return -1;
    }
    out->on = 1;
    out->l1 = kind == 1 ? 0.01 : 0.0;   /* L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0) */
    out->l2 = kind == 2 ? 0.01 : 0.0;
    if (v->kind != VAL_CALL)
        return 0;
    Lower sub = *lw;
    Value *vals[MAX_ARGS];
    if (lower_bind(&sub, v, kind == 1 ? &spec_l1 : kind == 2 ? &spec_l2 : &spec_l1l2, vals))
        return -1;
    int err = 0;
    /* None means the default, as Keras's L1(l1=None) */
    if (kind != 2 && lower_arg(&sub, "l1") && lower_arg(&sub, "l1")->kind != VAL_NONE)
        err |= lower_float(&sub, "l1", out->l1, &out->l1);
    if (kind != 1 && lower_arg(&sub, "l2") && lower_arg(&sub, "l2")->kind != VAL_NONE)
        err |= lower_float(&sub, "l2", out->l2, &out->l2);
    if (!err && !(out->l1 >= 0 && out->l2 >= 0 && isfinite(out->l1) && isfinite(out->l2))) {
        diag_error(lw->src, v->loc, "regularization factors must be non-negative numbers");
        err = -1;
    }
    return err;
}

/* ---------------------------------------------------------------- constraints */

static const CallSpec spec_max_norm = {"MaxNorm", 2, {{"max_value", T_FLOAT}, {"axis", T_ANY}}};
static const CallSpec spec_unit_norm = {"UnitNorm", 1, {{"axis", T_ANY}}};
static const CallSpec spec_min_max_norm = {"MinMaxNorm", 4, {
    {"min_value", T_FLOAT}, {"max_value", T_FLOAT}, {"rate", T_FLOAT}, {"axis", T_ANY}}};
static const CallSpec spec_non_neg = {"NonNeg", 0, {{NULL, T_ANY}}};

/* axis=0, -1, [0, 1, 2], (0, 1), None: checked against the weight's
 * Keras rank once the shapes are known (ir_infer_shapes) */
static int constraint_axis(const Lower *lw, const Value *v, Constraint *c)
{
    c->naxes = 1;
    c->axes[0] = 0;   /* Keras's default */
    if (!v)
        return 0;
    c->loc = v->loc;
    if (v->kind == VAL_NONE) {
        c->all_axes = 1;
        return 0;
    }
    if (v->kind == VAL_INT && v->i >= -MAX_RANK && v->i < MAX_RANK) {
        c->axes[0] = (int)v->i;
        return 0;
    }
    if (v->kind == VAL_LIST && v->items) {
        c->naxes = 0;
        for (const Value *e = v->items; e; e = e->next) {
            if (e->kind != VAL_INT || e->i < -MAX_RANK || e->i >= MAX_RANK || c->naxes == MAX_RANK)
                break;
            c->axes[c->naxes++] = (int)e->i;
            if (!e->next)
                return 0;
        }
    }
    diag_error(lw->src, v->loc, "axis must be an axis of the weight as Keras lays it out, a list of them, or None "
               "(all of them): e.g. axis=0 for the inputs of each unit of a Dense kernel (in, units), axis=[0, 1, 2] "
               "for each filter of a Conv2D kernel (kh, kw, in, filters)");
    return -1;
}

int lower_constraint(const Lower *lw, const Value *v, const char *argname, Constraint *out)
{
    memset(out, 0, sizeof *out);
    if (!v || v->kind == VAL_NONE)
        return 0;
    const char *s = lower_spelled_name(v);
    if (!s)
        return lower_type_error(lw, v, argname, "a constraint such as MaxNorm(3) or \"non_neg\"");
    static const char *const names[] = {"MaxNorm", "max_norm", "NonNeg", "non_neg", "UnitNorm", "unit_norm",
                                        "MinMaxNorm", "min_max_norm"};
    int k = -1;
    for (int i = 0; i < 8; i++)
        if (!strcmp(s, names[i]))
            k = i / 2;
    if (k < 0) {
        lower_error_unknown(lw, v->kind == VAL_CALL ? lower_name_loc(lw, v) : v->loc, "constraint", s, names, 8, "");
        return -1;
    }
    static const seqrt_constraint_kind kinds[] = {SEQRT_CONSTRAINT_MAX_NORM, SEQRT_CONSTRAINT_NON_NEG,
                                                  SEQRT_CONSTRAINT_UNIT_NORM, SEQRT_CONSTRAINT_MIN_MAX_NORM};
    static const CallSpec *const specs[] = {&spec_max_norm, &spec_non_neg, &spec_unit_norm, &spec_min_max_norm};
    out->on = 1;
    out->kind = kinds[k];
    out->loc = v->loc;
    out->naxes = 1;   /* axis=0, Keras's default */
    out->max_value = k == 0 ? 2.0 : 1.0;   /* MaxNorm(max_value=2), MinMaxNorm(0, 1, rate=1) */
    out->min_value = 0.0;
    out->rate = 1.0;
    if (v->kind != VAL_CALL)
        return 0;
    Lower sub = *lw;
    Value *vals[MAX_ARGS];
    if (lower_bind(&sub, v, specs[k], vals))
        return -1;
    int err = 0;
    if (k == 0 || k == 3)
        err |= lower_float(&sub, "max_value", out->max_value, &out->max_value);
    if (k == 3) {
        err |= lower_float(&sub, "min_value", 0.0, &out->min_value);
        err |= lower_float(&sub, "rate", 1.0, &out->rate);
    }
    if (k != 1)
        err |= constraint_axis(lw, lower_arg(&sub, "axis"), out);
    if (!err && (out->max_value < 0 || out->min_value < 0 || out->min_value > out->max_value)) {
        diag_error(lw->src, v->loc, "the norm bounds must satisfy 0 <= min_value <= max_value");
        err = -1;
    }
    return err;
}

/* ---------------------------------------------------------------- schedules */

static const CallSpec spec_exp_decay = {"ExponentialDecay", 5, {
    {"initial_learning_rate", T_FLOAT}, {"decay_steps", T_FLOAT}, {"decay_rate", T_FLOAT},
    {"staircase", T_BOOL}, {"name", T_IGNORED}}};
static const CallSpec spec_inv_decay = {"InverseTimeDecay", 5, {
    {"initial_learning_rate", T_FLOAT}, {"decay_steps", T_FLOAT}, {"decay_rate", T_FLOAT},
    {"staircase", T_BOOL}, {"name", T_IGNORED}}};
static const CallSpec spec_poly_decay = {"PolynomialDecay", 6, {
    {"initial_learning_rate", T_FLOAT}, {"decay_steps", T_FLOAT}, {"end_learning_rate", T_FLOAT},
    {"power", T_FLOAT}, {"cycle", T_BOOL}, {"name", T_IGNORED}}};
static const CallSpec spec_piecewise = {"PiecewiseConstantDecay", 3, {
    {"boundaries", T_ANY}, {"values", T_ANY}, {"name", T_IGNORED}}};
static const CallSpec spec_cosine = {"CosineDecay", 6, {
    {"initial_learning_rate", T_FLOAT}, {"decay_steps", T_FLOAT}, {"alpha", T_FLOAT},
    {"name", T_IGNORED}, {"warmup_target", T_ANY}, {"warmup_steps", T_FLOAT}}};
static const CallSpec spec_cosine_restarts = {"CosineDecayRestarts", 6, {
    {"initial_learning_rate", T_FLOAT}, {"first_decay_steps", T_FLOAT}, {"t_mul", T_FLOAT},
    {"m_mul", T_FLOAT}, {"alpha", T_FLOAT}, {"name", T_IGNORED}}};

static const CallSpec *const schedule_specs[SEQRT_SCHEDULE_COUNT] = {
    [SEQRT_SCHEDULE_EXPONENTIAL_DECAY] = &spec_exp_decay,
    [SEQRT_SCHEDULE_INVERSE_TIME_DECAY] = &spec_inv_decay,
    [SEQRT_SCHEDULE_POLYNOMIAL_DECAY] = &spec_poly_decay,
    [SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY] = &spec_piecewise,
    [SEQRT_SCHEDULE_COSINE_DECAY] = &spec_cosine,
    [SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS] = &spec_cosine_restarts,
};

/* A list of numbers; *n its length. */
static int number_list(const Lower *lw, const Value *v, const char *argname, double **out, int *n)
{
    *n = 0;
    if (!v || v->kind != VAL_LIST)
        return v ? lower_type_error(lw, v, argname, "a list of numbers") : 0;
    for (const Value *e = v->items; e; e = e->next)
        (*n)++;
    *out = arena_alloc(sizeof(double) * (size_t)(*n ? *n : 1));
    int i = 0;
    for (const Value *e = v->items; e; e = e->next) {
        if (lower_get_float(lw, e, argname, 0, &(*out)[i++]))
            return -1;
    }
    return 0;
}

static int required(const Lower *sub, const char *name)
{
    if (lower_arg(sub, name))
        return 0;
    diag_error(sub->src, sub->call->loc, "%s needs %s", sub->spec->name, name);
    return -1;
}

int lower_schedule(Lower *lw, const Value *v, Optimizer *o)
{
    const char *s = lower_spelled_name(v);
    int k = -1;
    for (int i = 0; s && i < SEQRT_SCHEDULE_COUNT; i++)
        if (!strcmp(s, seqrt_schedule_name(i)))
            k = i;
    if (k < 0) {
        const char *names[SEQRT_SCHEDULE_COUNT];
        for (int i = 0; i < SEQRT_SCHEDULE_COUNT; i++)
            names[i] = seqrt_schedule_name(i);
        lower_error_unknown(lw, lower_name_loc(lw, v), "learning-rate schedule", s ? s : v->s, names,
                            SEQRT_SCHEDULE_COUNT, "");
        return -1;
    }
    Lower sub = *lw;
    Value *vals[MAX_ARGS];
    if (lower_bind(&sub, v, schedule_specs[k], vals))
        return -1;
    seqrt_lr_schedule *sc = &o->sched;
    memset(sc, 0, sizeof *sc);
    sc->kind = k;
    int err = 0;
    switch ((seqrt_schedule_kind)k) {
    case SEQRT_SCHEDULE_EXPONENTIAL_DECAY:
    case SEQRT_SCHEDULE_INVERSE_TIME_DECAY:
        err |= required(&sub, "initial_learning_rate") | required(&sub, "decay_steps") | required(&sub, "decay_rate");
        err |= lower_float(&sub, "decay_rate", 0, &sc->decay_rate);
        err |= lower_bool(&sub, "staircase", 0, &sc->staircase);
        break;
    case SEQRT_SCHEDULE_POLYNOMIAL_DECAY:
        err |= required(&sub, "initial_learning_rate") | required(&sub, "decay_steps");
        err |= lower_float(&sub, "end_learning_rate", 0.0001, &sc->end_learning_rate);
        err |= lower_float(&sub, "power", 1.0, &sc->power);
        err |= lower_bool(&sub, "cycle", 0, &sc->cycle);
        break;
    case SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY: {
        double *b = NULL, *vv = NULL;
        int nb = 0, nv = 0;
        err |= required(&sub, "boundaries") | required(&sub, "values");
        if (err)
            return -1;
        err |= number_list(lw, lower_arg(&sub, "boundaries"), "boundaries", &b, &nb);
        err |= number_list(lw, lower_arg(&sub, "values"), "values", &vv, &nv);
        if (!err && nb != nv - 1) {
            diag_error(lw->src, v->loc, "PiecewiseConstantDecay needs one boundary fewer than values (%d boundaries, "
                       "%d values)", nb, nv);
            err = -1;
        }
        if (!err && nv < 1) {
            diag_error(lw->src, v->loc, "PiecewiseConstantDecay needs at least one value");
            err = -1;
        }
        for (int i = 0; !err && i < nv; i++)
            if (!(vv[i] > 0 && isfinite(vv[i]))) {
                diag_error(lw->src, lower_loc(&sub, "values"), "every learning rate must be positive");
                err = -1;
            }
        sc->boundaries = b;
        sc->values = vv;
        sc->nvalues = nv;
        if (!err)
            o->lr = vv[0];
        return err;
    }
    case SEQRT_SCHEDULE_COSINE_DECAY: {
        err |= required(&sub, "initial_learning_rate") | required(&sub, "decay_steps");
        err |= lower_float(&sub, "alpha", 0.0, &sc->alpha);
        err |= lower_float(&sub, "warmup_steps", 0.0, &sc->warmup_steps);
        Value *wt = lower_arg(&sub, "warmup_target");
        if (wt && wt->kind != VAL_NONE) {
            sc->warmup = 1;
            err |= lower_get_float(lw, wt, "warmup_target", 0, &sc->warmup_target);
            if (!err && !(sc->warmup_steps > 0)) {
                diag_error(lw->src, lower_loc(&sub, "warmup_steps"), "warmup_steps must be positive with a warmup_target");
                err = -1;
            }
        }
        break;
    }
    case SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS:
        err |= required(&sub, "initial_learning_rate") | required(&sub, "first_decay_steps");
        err |= lower_float(&sub, "first_decay_steps", 1, &sc->decay_steps);
        err |= lower_float(&sub, "t_mul", 2.0, &sc->t_mul);
        err |= lower_float(&sub, "m_mul", 1.0, &sc->m_mul);
        err |= lower_float(&sub, "alpha", 0.0, &sc->alpha);
        if (!err && !(sc->t_mul > 0 && sc->m_mul >= 0)) {
            diag_error(lw->src, v->loc, "t_mul must be positive and m_mul 0 or more");
            err = -1;
        }
        break;
    }
    if (err)
        return -1;
    err |= lower_float(&sub, "initial_learning_rate", 0, &sc->initial_learning_rate);
    if (k != SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS)
        err |= lower_float(&sub, "decay_steps", 1, &sc->decay_steps);
    if (err)
        return -1;
    if (!(sc->decay_steps > 0)) {
        diag_error(lw->src, lower_loc(&sub, k == SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS ? "first_decay_steps"
                                                                                        : "decay_steps"),
                   "decay_steps must be > 0 (Keras raises for it too)");
        return -1;
    }
    /* a warmup may start from 0 (Keras's own example: CosineDecay(0.0, ...,
     * warmup_target=..., warmup_steps=...)); it then rises to the target */
    int from_zero = sc->warmup && sc->warmup_target > 0 && isfinite(sc->warmup_target);
    if (!((from_zero ? sc->initial_learning_rate >= 0 : sc->initial_learning_rate > 0) &&
          isfinite(sc->initial_learning_rate))) {
        diag_error(lw->src, lower_loc(&sub, "initial_learning_rate"), "initial_learning_rate must be positive%s",
                   sc->warmup ? " (or 0, with a positive warmup_target)" : "");
        return -1;
    }
    o->lr = sc->initial_learning_rate;
    return 0;
}

/* ---------------------------------------------------------------- callbacks */

static const CallSpec spec_reduce_lr = {"ReduceLROnPlateau", 8, {
    {"monitor", T_STR}, {"factor", T_FLOAT}, {"patience", T_INT}, {"verbose", T_INT},
    {"mode", T_STR}, {"min_delta", T_FLOAT}, {"cooldown", T_INT}, {"min_lr", T_FLOAT}}};
static const CallSpec spec_model_checkpoint = {"ModelCheckpoint", 8, {
    {"filepath", T_STR}, {"monitor", T_STR}, {"verbose", T_INT}, {"save_best_only", T_BOOL},
    {"save_weights_only", T_BOOL}, {"mode", T_STR}, {"save_freq", T_ANY}, {"initial_value_threshold", T_ANY}}};
static const CallSpec spec_csv_logger = {"CSVLogger", 3, {
    {"filename", T_STR}, {"separator", T_STR}, {"append", T_BOOL}}};
static const CallSpec spec_terminate_on_nan = {"TerminateOnNaN", 1, {{"raise_error", T_BOOL}}};

static int monitor_mode(const Lower *sub, int *mode)
{
    const char *s;
    if (lower_str(sub, "mode", "auto", &s))
        return -1;
    static const char *const modes[] = {"auto", "min", "max"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, modes[i])) {
            *mode = i;
            return 0;
        }
    lower_error_unknown(sub, lower_loc(sub, "mode"), "mode", s, modes, 3,
                        arena_printf(" for %s", sub->spec->name));
    return -1;
}

/* ModelCheckpoint's filepath must end in .keras or .h5 (Keras 3), or
 * .weights.h5 with save_weights_only; seqc writes safetensors in its
 * place, and says so. */
static const char *checkpoint_path(const Lower *sub, const char *path, int weights_only)
{
    static const char *const exts[] = {".weights.h5", ".keras", ".h5", ".safetensors"};
    size_t n = strlen(path);
    for (int i = 0; i < 4; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && !strcmp(path + n - e, exts[i])) {
            if (i == 3)
                return path;
            const char *to = arena_printf("%.*s.safetensors", (int)(n - e), path);
            diag_warning(sub->src, lower_loc(sub, "filepath"), "seqc writes checkpoints as safetensors: '%s' is "
                         "saved as '%s'", path, to);
            return to;
        }
    }
    diag_error(sub->src, lower_loc(sub, "filepath"), "the filepath must end in %s (as Keras 3 requires; seqc "
               "writes safetensors there, under the name with .safetensors)",
               weights_only ? "'.weights.h5'" : "'.keras' or '.h5'");
    return NULL;
}

int lower_callback(Lower *lw, const Value *call, const char *name, int order)
{
    Model *m = lw->m;
    Lower sub = *lw;
    Value *vals[MAX_ARGS];
    const CallSpec *spec = !strcmp(name, "ReduceLROnPlateau") ? &spec_reduce_lr
                         : !strcmp(name, "ModelCheckpoint") ? &spec_model_checkpoint
                         : !strcmp(name, "CSVLogger") ? &spec_csv_logger
                         : !strcmp(name, "TerminateOnNaN") ? &spec_terminate_on_nan : NULL;
    if (!spec)
        ir_internal_error("lower_callback of an unknown callback");
    if (lower_bind(&sub, call, spec, vals))
        return -1;
    if (m->ncb == SEQRT_MAX_CALLBACKS) {
        diag_error(lw->src, call->loc, "at most %d callbacks", SEQRT_MAX_CALLBACKS);
        return -1;
    }
    for (int i = 0; i < m->ncb; i++)
        if (!strcmp(spec->name, "ReduceLROnPlateau") && m->cb[i].cb.kind == SEQRT_CB_REDUCE_LR_ON_PLATEAU) {
            diag_error(lw->src, call->loc, "ReduceLROnPlateau given twice");
            return -1;
        }
    Callback *c = &m->cb[m->ncb];
    memset(c, 0, sizeof *c);
    seqrt_callback *cb = &c->cb;
    cb->order = order;
    c->loc = call->loc;
    int err = 0;
    int64_t v;
    double d;
    if (spec == &spec_reduce_lr) {
        cb->kind = SEQRT_CB_REDUCE_LR_ON_PLATEAU;
        err |= lower_str(&sub, "monitor", "val_loss", &cb->monitor);
        err |= lower_float(&sub, "factor", 0.1, &d);
        cb->factor = (float)d;
        err |= lower_int(&sub, "patience", 10, &v);
        cb->patience = (int)v;
        if (!err && (v < 0 || v > INT32_MAX)) {
            diag_error(lw->src, lower_loc(&sub, "patience"), "patience must be 0 or more");
            err = -1;
        }
        err |= lower_int(&sub, "verbose", 0, &v);
        cb->verbose = (int)v;
        err |= monitor_mode(&sub, &cb->mode);
        err |= lower_float(&sub, "min_delta", 1e-4, &d);
        cb->min_delta = (float)fabs(d);
        err |= lower_int(&sub, "cooldown", 0, &v);
        cb->cooldown = (int)v;
        if (!err && (v < 0 || v > INT32_MAX)) {
            diag_error(lw->src, lower_loc(&sub, "cooldown"), "cooldown must be 0 or more");
            err = -1;
        }
        err |= lower_float(&sub, "min_lr", 0.0, &d);
        cb->min_lr = (float)d;
        if (!err && !(cb->factor < 1.0f)) {
            diag_error(lw->src, lower_loc(&sub, "factor"), "ReduceLROnPlateau does not support a factor >= 1.0 "
                       "(Keras raises for it too)");
            err = -1;
        }
        if (!err && !(cb->factor >= 0.0f)) {
            diag_error(lw->src, lower_loc(&sub, "factor"), "factor must be 0 or more");
            err = -1;
        }
        if (!err && m->opt.has_schedule) {
            diag_error(lw->src, call->loc, "ReduceLROnPlateau cannot change a learning rate given as a schedule "
                       "(Keras 3 raises a TypeError: the learning rate is not settable)");
            diag_note(lw->src, m->opt.loc, "the optimizer's learning rate is a schedule here");
            err = -1;
        }
        m->opt.settable_lr = 1;
    } else if (spec == &spec_model_checkpoint) {
        cb->kind = SEQRT_CB_MODEL_CHECKPOINT;
        const char *path;
        if (!lower_arg(&sub, "filepath")) {
            diag_error(lw->src, call->loc, "ModelCheckpoint needs a filepath, e.g. ModelCheckpoint(\"best.keras\")");
            return -1;
        }
        err |= lower_str(&sub, "filepath", NULL, &path);
        err |= lower_str(&sub, "monitor", "val_loss", &cb->monitor);
        err |= lower_int(&sub, "verbose", 0, &v);
        cb->verbose = (int)v;
        err |= lower_bool(&sub, "save_best_only", 0, &cb->save_best_only);
        err |= lower_bool(&sub, "save_weights_only", 0, &cb->save_weights_only);
        err |= monitor_mode(&sub, &cb->mode);
        Value *freq = lower_arg(&sub, "save_freq");
        if (freq && !((freq->kind == VAL_STRING || freq->kind == VAL_NAME) && !strcmp(freq->s, "epoch"))) {
            diag_error(lw->src, freq->loc, "save_freq=\"epoch\" is the only frequency seqc supports");
            err = -1;
        }
        Value *thr = lower_arg(&sub, "initial_value_threshold");
        if (thr && thr->kind != VAL_NONE) {
            err |= lower_get_float(lw, thr, "initial_value_threshold", 0, &d);
            cb->has_initial_value = 1;
            cb->initial_value = (float)d;
        }
        if (!err && !(cb->path = checkpoint_path(&sub, path, cb->save_weights_only)))
            err = -1;
    } else if (spec == &spec_csv_logger) {
        cb->kind = SEQRT_CB_CSV_LOGGER;
        const char *sep;
        if (!lower_arg(&sub, "filename")) {
            diag_error(lw->src, call->loc, "CSVLogger needs a filename, e.g. CSVLogger(\"training.log\")");
            return -1;
        }
        err |= lower_str(&sub, "filename", NULL, &cb->path);
        err |= lower_str(&sub, "separator", ",", &sep);
        err |= lower_bool(&sub, "append", 0, &cb->append);
        if (!err && (strlen(sep) != 1 || sep[0] == '"' || sep[0] == '\n' || sep[0] == '\r')) {
            diag_error(lw->src, lower_loc(&sub, "separator"), "separator must be one character (not a quote or a "
                       "line break)");
            err = -1;
        }
        if (!err)
            cb->separator = sep[0];
    } else {
        cb->kind = SEQRT_CB_TERMINATE_ON_NAN;
        err |= lower_bool(&sub, "raise_error", 0, &cb->raise_error);
    }
    if (!err)
        m->ncb++;
    return err;
}

/* ---------------------------------------------------------------- class weights */

int lower_class_weight(Lower *lw, const Value *v)
{
    Model *m = lw->m;
    if (!v || v->kind == VAL_NONE)
        return 0;
    if (v->kind != VAL_DICT) {
        if (v->kind == VAL_NAME)
            diag_error(lw->src, v->loc, "class_weight must be a dict literal such as {0: 1.0, 1: 5.0}: seqc cannot "
                       "evaluate '%s' (compute the weights in Python and paste them)", v->s);
        else
            lower_type_error(lw, v, "class_weight", "a dict such as {0: 1.0, 1: 5.0}");
        return -1;
    }
    int max = -1;
    for (const Value *e = v->items; e; e = e->next) {
        if (e->kind != VAL_INT || e->i < 0 || e->i >= 1 << 20) {
            diag_error(lw->src, e->loc, "a class_weight key must be a class index (an integer from 0)");
            return -1;
        }
        if (e->i > max)
            max = (int)e->i;
    }
    m->nclass_weight = max + 1;
    m->class_weight = arena_alloc(sizeof(float) * (size_t)(max + 2));
    for (int k = 0; k <= max; k++)
        m->class_weight[k] = 1.0f;   /* a class not in the dict weighs 1, as in Keras */
    for (const Value *e = v->items; e; e = e->next) {
        for (const Value *f = v->items; f != e; f = f->next)
            if (f->i == e->i) {
                diag_error(lw->src, e->loc, "class %lld is given twice", (long long)e->i);
                return -1;
            }
        double w;
        if (lower_get_float(lw, e->dval, "class_weight", 1, &w))
            return -1;
        if (!(w >= 0 && isfinite(w))) {
            diag_error(lw->src, e->dval->loc, "a class weight must be a non-negative number");
            return -1;
        }
        m->class_weight[e->i] = (float)w;
    }
    m->class_weight_loc = v->loc;
    return 0;
}
