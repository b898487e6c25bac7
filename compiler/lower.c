/*
 * lower.c - from the syntax tree to the IR, with Keras's names and defaults.
 *
 * Every call a model file may contain is described by a table: its Keras
 * name and its arguments in Keras's positional order, each with a type.
 * bind() matches a call's arguments against its table (positional first,
 * then keywords; unknown names get a "did you mean" hint; duplicates and
 * type mismatches are errors). Layer statements belong to the layer kinds:
 * each kind (layer_NAME.c) lists its Keras statements with their tables
 * and a lower hook that reads the bound values with Keras's defaults
 * (lower_int, lower_act, ...). compile(), fit(), Input() and their
 * optimizer, loss, metric and callback calls are lowered here. Losses,
 * metrics, optimizers and initializers are found in the runtime's tables
 * (seqrt_*.def), so the names the compiler accepts are the names the runtime
 * prints.
 *
 * Errors carry the location of the offending argument, or of the call; a
 * model with errors is reported completely and then dropped. Shape
 * inference and parameter naming are ir.c's job (ir_infer_shapes), called
 * once all statements of a model have been read.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seqc.h"

/* ---------------------------------------------------------------- tables */

static const CallSpec spec_input = {"Input", 2, {
    {"shape", T_SHAPE}, {"batch_size", T_IGNORED}, {"dtype", T_IGNORED},
    {"sparse", T_ANY}, {"ragged", T_ANY}, {"batch_shape", T_SHAPE}, {"name", T_IGNORED},
    {"tensor", T_NONE}, {"optional", T_ANY}}};
static const CallSpec spec_input_layer = {"InputLayer", 2, {
    {"shape", T_SHAPE}, {"batch_size", T_IGNORED}, {"dtype", T_IGNORED},
    {"sparse", T_ANY}, {"ragged", T_ANY}, {"batch_shape", T_SHAPE}, {"input_tensor", T_NONE},
    {"optional", T_ANY}, {"name", T_IGNORED}, {"input_shape", T_SHAPE}, {"batch_input_shape", T_SHAPE}}};
static const CallSpec spec_compile = {"compile", 3, {
    {"optimizer", T_ANY}, {"loss", T_ANY}, {"metrics", T_ANY},
    {"loss_weights", T_NONE}, {"weighted_metrics", T_NONE},
    {"run_eagerly", T_IGNORED}, {"steps_per_execution", T_IGNORED},
    {"jit_compile", T_IGNORED}, {"auto_scale_loss", T_IGNORED}}};
static const CallSpec spec_fit = {"fit", 0, {
    {"x", T_NONE}, {"y", T_NONE}, {"batch_size", T_INT}, {"epochs", T_INT},
    {"verbose", T_ANY}, {"callbacks", T_ANY}, {"validation_split", T_FLOAT},
    {"validation_data", T_NONE}, {"shuffle", T_BOOL}, {"class_weight", T_ANY},
    {"sample_weight", T_NONE}, {"initial_epoch", T_INT},
    {"steps_per_epoch", T_NONE}, {"validation_steps", T_NONE},
    {"validation_batch_size", T_IGNORED}, {"validation_freq", T_INT},
    {"seed", T_INT}}};
static const CallSpec spec_summary = {"summary", 6, {
    {"line_length", T_ANY}, {"positions", T_ANY}, {"print_fn", T_NONE},
    {"expand_nested", T_BOOL}, {"show_trainable", T_BOOL},
    {"layer_range", T_NONE}}};

/* What every Keras 3 optimizer takes after its own arguments. */
#define OPT_COMMON                                                                \
    {"weight_decay", T_ANY}, {"clipnorm", T_ANY}, {"clipvalue", T_ANY},           \
    {"global_clipnorm", T_ANY}, {"use_ema", T_BOOL}, {"ema_momentum", T_IGNORED}, \
    {"ema_overwrite_frequency", T_IGNORED}, {"loss_scale_factor", T_NONE},        \
    {"gradient_accumulation_steps", T_NONE}, {"name", T_IGNORED}
static const CallSpec spec_sgd = {"SGD", 3, {
    {"learning_rate", T_ANY}, {"momentum", T_FLOAT}, {"nesterov", T_BOOL}, OPT_COMMON}};
static const CallSpec spec_adam = {"Adam", 5, {
    {"learning_rate", T_ANY}, {"beta_1", T_FLOAT}, {"beta_2", T_FLOAT},
    {"epsilon", T_FLOAT}, {"amsgrad", T_BOOL}, OPT_COMMON}};
static const CallSpec spec_adamw = {"AdamW", 6, {
    {"learning_rate", T_ANY}, {"weight_decay", T_ANY}, {"beta_1", T_FLOAT},
    {"beta_2", T_FLOAT}, {"epsilon", T_FLOAT}, {"amsgrad", T_BOOL},
    {"clipnorm", T_ANY}, {"clipvalue", T_ANY}, {"global_clipnorm", T_ANY},
    {"use_ema", T_BOOL}, {"ema_momentum", T_IGNORED}, {"ema_overwrite_frequency", T_IGNORED},
    {"loss_scale_factor", T_NONE}, {"gradient_accumulation_steps", T_NONE}, {"name", T_IGNORED}}};
static const CallSpec spec_rmsprop = {"RMSprop", 5, {
    {"learning_rate", T_ANY}, {"rho", T_FLOAT}, {"momentum", T_FLOAT},
    {"epsilon", T_FLOAT}, {"centered", T_BOOL}, OPT_COMMON}};
static const CallSpec spec_adagrad = {"Adagrad", 3, {
    {"learning_rate", T_ANY}, {"initial_accumulator_value", T_FLOAT}, {"epsilon", T_FLOAT}, OPT_COMMON}};
static const CallSpec spec_adadelta = {"Adadelta", 3, {
    {"learning_rate", T_ANY}, {"rho", T_FLOAT}, {"epsilon", T_FLOAT}, OPT_COMMON}};
static const CallSpec spec_adamax = {"Adamax", 4, {
    {"learning_rate", T_ANY}, {"beta_1", T_FLOAT}, {"beta_2", T_FLOAT}, {"epsilon", T_FLOAT}, OPT_COMMON}};
static const CallSpec spec_nadam = {"Nadam", 4, {
    {"learning_rate", T_ANY}, {"beta_1", T_FLOAT}, {"beta_2", T_FLOAT}, {"epsilon", T_FLOAT}, OPT_COMMON}};
static const CallSpec spec_lion = {"Lion", 3, {
    {"learning_rate", T_ANY}, {"beta_1", T_FLOAT}, {"beta_2", T_FLOAT}, OPT_COMMON}};
static const CallSpec spec_ftrl = {"Ftrl", 7, {
    {"learning_rate", T_ANY}, {"learning_rate_power", T_FLOAT},
    {"initial_accumulator_value", T_FLOAT}, {"l1_regularization_strength", T_FLOAT},
    {"l2_regularization_strength", T_FLOAT}, {"l2_shrinkage_regularization_strength", T_FLOAT},
    {"beta", T_FLOAT}, OPT_COMMON}};
static const CallSpec spec_early_stopping = {"EarlyStopping", 8, {
    {"monitor", T_STR}, {"min_delta", T_FLOAT}, {"patience", T_INT},
    {"verbose", T_INT}, {"mode", T_STR}, {"baseline", T_ANY},
    {"restore_best_weights", T_BOOL}, {"start_from_epoch", T_INT}}};

/* The argument table of each optimizer, indexed by seqrt_opt_kind. */
static const CallSpec *const optimizer_specs[SEQRT_OPT_COUNT] = {
    [SEQRT_OPT_SGD] = &spec_sgd,
    [SEQRT_OPT_ADAM] = &spec_adam,
    [SEQRT_OPT_ADAMW] = &spec_adamw,
    [SEQRT_OPT_RMSPROP] = &spec_rmsprop,
    [SEQRT_OPT_ADAGRAD] = &spec_adagrad,
    [SEQRT_OPT_ADADELTA] = &spec_adadelta,
    [SEQRT_OPT_ADAMAX] = &spec_adamax,
    [SEQRT_OPT_NADAM] = &spec_nadam,
    [SEQRT_OPT_LION] = &spec_lion,
    [SEQRT_OPT_FTRL] = &spec_ftrl,
};

int lower_is_optimizer_spec(const CallSpec *spec)
{
    for (int k = 0; k < SEQRT_OPT_COUNT; k++)
        if (optimizer_specs[k] == spec)
            return 1;
    return 0;
}

/* The arguments of the losses' class forms (reduction: Keras 3's default
 * only; axis: the last). */
#define LOSS_COMMON {"reduction", T_STR}, {"name", T_IGNORED}, {"dtype", T_IGNORED}
static const CallSpec spec_loss_plain = {"loss", 0, {LOSS_COMMON}};
static const CallSpec spec_loss_huber = {"Huber", 1, {{"delta", T_FLOAT}, LOSS_COMMON}};
static const CallSpec spec_loss_cosine = {"CosineSimilarity", 1, {{"axis", T_INT}, LOSS_COMMON}};
static const CallSpec spec_loss_bce = {"BinaryCrossentropy", 3, {
    {"from_logits", T_BOOL}, {"label_smoothing", T_FLOAT}, {"axis", T_INT}, LOSS_COMMON}};
static const CallSpec spec_loss_cce = {"CategoricalCrossentropy", 3, {
    {"from_logits", T_BOOL}, {"label_smoothing", T_FLOAT}, {"axis", T_INT}, LOSS_COMMON}};
static const CallSpec spec_loss_scce = {"SparseCategoricalCrossentropy", 2, {
    {"from_logits", T_BOOL}, {"ignore_class", T_NONE}, {"reduction", T_STR}, {"axis", T_INT},
    {"name", T_IGNORED}, {"dtype", T_IGNORED}}};

static const CallSpec *loss_spec(seqrt_loss_kind k)
{
    switch (k) {
    case SEQRT_LOSS_HUBER: return &spec_loss_huber;
    case SEQRT_LOSS_COSINE_SIMILARITY: return &spec_loss_cosine;
    case SEQRT_LOSS_BINARY_CROSSENTROPY: return &spec_loss_bce;
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY: return &spec_loss_cce;
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: return &spec_loss_scce;
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_MAPE:
    case SEQRT_LOSS_MSLE:
    case SEQRT_LOSS_LOG_COSH:
    case SEQRT_LOSS_KL_DIVERGENCE:
    case SEQRT_LOSS_POISSON:
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE:
    case SEQRT_LOSS_CATEGORICAL_HINGE:
        return &spec_loss_plain;
    }
    ir_internal_error("a loss that is not a seqrt_loss_kind");
}

/* The arguments of the metrics' class forms, in Keras's positional order. */
#define METRIC_COMMON {"name", T_STR}, {"dtype", T_IGNORED}
static const CallSpec spec_metric_plain = {"metric", 2, {METRIC_COMMON}};
static const CallSpec spec_metric_binacc = {"BinaryAccuracy", 3, {METRIC_COMMON, {"threshold", T_FLOAT}}};
static const CallSpec spec_metric_auc = {"AUC", 10, {
    {"num_thresholds", T_INT}, {"curve", T_STR}, {"summation_method", T_STR}, METRIC_COMMON,
    {"thresholds", T_NONE}, {"multi_label", T_BOOL}, {"num_labels", T_IGNORED},
    {"label_weights", T_NONE}, {"from_logits", T_BOOL}}};
static const CallSpec spec_metric_pr = {"Precision", 5, {
    {"thresholds", T_FLOAT}, {"top_k", T_NONE}, {"class_id", T_ANY}, METRIC_COMMON}};
static const CallSpec spec_metric_count = {"TruePositives", 3, {{"thresholds", T_FLOAT}, METRIC_COMMON}};
static const CallSpec spec_metric_topk = {"TopKCategoricalAccuracy", 3, {{"k", T_INT}, METRIC_COMMON}};
static const CallSpec spec_metric_sptopk = {"SparseTopKCategoricalAccuracy", 4, {
    {"k", T_INT}, METRIC_COMMON, {"from_sorted_ids", T_BOOL}}};
static const CallSpec spec_metric_r2 = {"R2Score", 4, {
    {"class_aggregation", T_ANY}, {"num_regressors", T_INT}, METRIC_COMMON}};
static const CallSpec spec_metric_bce = {"BinaryCrossentropy", 4, {
    METRIC_COMMON, {"from_logits", T_BOOL}, {"label_smoothing", T_FLOAT}}};
static const CallSpec spec_metric_cce = {"CategoricalCrossentropy", 5, {
    METRIC_COMMON, {"from_logits", T_BOOL}, {"label_smoothing", T_FLOAT}, {"axis", T_INT}}};
static const CallSpec spec_metric_scce = {"SparseCategoricalCrossentropy", 5, {
    METRIC_COMMON, {"from_logits", T_BOOL}, {"ignore_class", T_NONE}, {"axis", T_INT}}};
static const CallSpec spec_metric_cosine = {"CosineSimilarity", 3, {METRIC_COMMON, {"axis", T_INT}}};

static const CallSpec *metric_spec(seqrt_metric_kind k)
{
    switch (k) {
    case SEQRT_METRIC_BINARY_ACCURACY: return &spec_metric_binacc;
    case SEQRT_METRIC_AUC: return &spec_metric_auc;
    case SEQRT_METRIC_PRECISION:
    case SEQRT_METRIC_RECALL: return &spec_metric_pr;
    case SEQRT_METRIC_TRUE_POSITIVES:
    case SEQRT_METRIC_FALSE_POSITIVES:
    case SEQRT_METRIC_TRUE_NEGATIVES:
    case SEQRT_METRIC_FALSE_NEGATIVES: return &spec_metric_count;
    case SEQRT_METRIC_TOP_K_CATEGORICAL_ACCURACY: return &spec_metric_topk;
    case SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY: return &spec_metric_sptopk;
    case SEQRT_METRIC_R2_SCORE: return &spec_metric_r2;
    case SEQRT_METRIC_BINARY_CROSSENTROPY: return &spec_metric_bce;
    case SEQRT_METRIC_CATEGORICAL_CROSSENTROPY: return &spec_metric_cce;
    case SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY: return &spec_metric_scce;
    case SEQRT_METRIC_COSINE_SIMILARITY: return &spec_metric_cosine;
    case SEQRT_METRIC_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
    case SEQRT_METRIC_MAE:
    case SEQRT_METRIC_MSE:
    case SEQRT_METRIC_RMSE:
    case SEQRT_METRIC_MAPE:
    case SEQRT_METRIC_MSLE:
    case SEQRT_METRIC_LOG_COSH:
    case SEQRT_METRIC_KL_DIVERGENCE:
    case SEQRT_METRIC_POISSON:
    case SEQRT_METRIC_HINGE:
    case SEQRT_METRIC_SQUARED_HINGE:
    case SEQRT_METRIC_CATEGORICAL_HINGE:
        return &spec_metric_plain;
    }
    ir_internal_error("a metric that is not a seqrt_metric_kind");
}

/* Names a user coming from PyTorch may write, with the Keras name. */
static const char *const torch_names[][2] = {
    {"Linear", "Dense"}, {"BatchNorm1d", "BatchNormalization"},
    {"LayerNorm", "LayerNormalization"}, {"Sigmoid", "Activation(\"sigmoid\")"},
    {"Tanh", "Activation(\"tanh\")"},
};

/* Module prefixes a Keras user writes before a name; stripped. */
static const char *const prefixes[] = {
    "tf", "keras", "layers", "optimizers", "callbacks", "losses", "metrics",
    "activations", "initializers", "model", "nn", "regularizers", "constraints",
    "schedules", "experimental", "preprocessing", "tf_keras",
};

/* C keywords and names the generated code uses: not model names. */
static const char *const reserved_names[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "_Bool", "_Complex",
    "_Imaginary", "main", "seqrt", "errno", "stdin", "stdout", "stderr",
};

/* ---------------------------------------------------------------- names from the runtime's tables */

/* Every spelling of a table's rows: name, Keras class, '|'-separated
 * aliases; value[i] is the row spelling i belongs to. */
typedef struct {
    const char **spelling;
    int *value;
    int n;
} Names;

/* The tables live as long as the process (not in the arena, which the
 * fuzz harness resets between inputs). */
static void names_add(Names *t, int value, const char *s, size_t len)
{
    t->spelling[t->n] = strndup(s, len);
    if (!t->spelling[t->n])
        diag_fatal("out of memory"), exit(1);
    t->value[t->n++] = value;
}

static void names_row(Names *t, int value, const char *name, const char *cls, const char *aliases)
{
    names_add(t, value, name, strlen(name));
    names_add(t, value, cls, strlen(cls));
    for (const char *a = aliases; *a;) {
        const char *end = strchr(a, '|');
        size_t len = end ? (size_t)(end - a) : strlen(a);
        names_add(t, value, a, len);
        a += len + (end != NULL);
    }
}

static Names names_new(int rows)
{
    Names t = {0};
    t.spelling = calloc((size_t)rows * 8, sizeof(char *));
    t.value = calloc((size_t)rows * 8, sizeof(int));
    if (!t.spelling || !t.value)
        diag_fatal("out of memory"), exit(1);
    return t;
}

static const Names *loss_names(void)
{
    static Names t;
    if (!t.n) {
        t = names_new(SEQRT_LOSS_COUNT);
#define LOSS(id, name, cls, aliases) names_row(&t, SEQRT_LOSS_##id, name, cls, aliases);
#include "seqrt_losses.def"
#undef LOSS
    }
    return &t;
}

/* -1: "accuracy", resolved from the loss. */
static const Names *metric_names(void)
{
    static Names t;
    if (!t.n) {
        t = names_new(SEQRT_METRIC_COUNT + 1);
        names_row(&t, -1, "accuracy", "acc", "");   /* resolved from the shapes */
#define METRIC(id, name, cls, aliases, mode, cname) names_row(&t, SEQRT_METRIC_##id, name, cls, aliases);
#include "seqrt_metrics.def"
#undef METRIC
    }
    return &t;
}

static const Names *optimizer_names(void)
{
    static Names t;
    if (!t.n) {
        t = names_new(SEQRT_OPT_COUNT);
#define OPT(id, name, cls) names_row(&t, SEQRT_OPT_##id, name, cls, "");
#include "seqrt_optimizers.def"
#undef OPT
    }
    return &t;
}

static const Names *act_names(void)
{
    static Names t;
    if (!t.n) {
        t = names_new(SEQRT_ACT_COUNT);
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) names_add(&t, SEQRT_ACT_##id, name, strlen(name));
#define ACT_ROW(id, name, flags, FR, BR, desc) names_add(&t, SEQRT_ACT_##id, name, strlen(name));
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
        /* Keras's activations.get() aliases */
        names_add(&t, SEQRT_ACT_SILU, "swish", 5);
        names_add(&t, SEQRT_ACT_HARD_SILU, "hard_swish", 10);
    }
    return &t;
}

/* The value spelled s, or -2 if none; case-insensitive for optimizers. */
static int names_find(const Names *t, const char *s, int nocase)
{
    for (int i = 0; i < t->n; i++)
        if (nocase ? !strcasecmp(s, t->spelling[i]) : !strcmp(s, t->spelling[i]))
            return t->value[i];
    return -2;
}

/* ---------------------------------------------------------------- helpers */

static const char *const *names_of(const CallSpec *s, int *n)
{
    static const char *buf[MAX_ARGS];
    int k = 0;
    while (k < MAX_ARGS && s->args[k].name) {
        buf[k] = s->args[k].name;
        k++;
    }
    *n = k;
    return buf;
}

static void error_unknown(const Lower *lw, Loc loc, const char *what, const char *name,
                          const char *const *names, int n, const char *where)
{
    const char *s = diag_suggest(name, names, n);
    if (s)
        diag_error(lw->src, loc, "unknown %s '%s'%s; did you mean '%s'?", what, name, where, s);
    else
        diag_error(lw->src, loc, "unknown %s '%s'%s", what, name, where);
}

/* The span of a call's dotted name ("keras.layers.Dense" in
 * "keras.layers.Dense(64)"): where an error about the name points. */
static Loc name_loc(const Lower *lw, const Value *call)
{
    const Source *src = lw->src;
    Loc l = {call->loc.start, call->loc.start};
    while (l.end < src->len && (src->text[l.end] == '.' || src->text[l.end] == '_' ||
                                isalnum((unsigned char)src->text[l.end])))
        l.end++;
    return l.end > l.start ? l : call->loc;
}

/* "keras.layers.Dense" -> "Dense"; NULL if a prefix is not a Keras module. */
static const char *strip_prefix(const char *name)
{
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (!dot)
            return p;
        int ok = 0;
        for (int i = 0; i < COUNT_OF(prefixes); i++)
            if ((size_t)(dot - p) == strlen(prefixes[i]) && !strncmp(p, prefixes[i], (size_t)(dot - p)))
                ok = 1;
        if (!ok)
            return NULL;
        p = dot + 1;
    }
}

/* Does v hold an expression that could not be folded (already reported)? */
static int has_error(const Value *v)
{
    if (!v)
        return 0;
    if (v->kind == VAL_ERROR)
        return 1;
    if (v->kind == VAL_LIST || v->kind == VAL_DICT)
        for (const Value *e = v->items; e; e = e->next)
            if (has_error(e) || has_error(e->dval))
                return 1;
    if (v->kind == VAL_CALL)
        for (const Arg *a = v->args; a; a = a->next)
            if (has_error(a->val))
                return 1;
    return 0;
}

const char *lower_strip_prefix(const char *name) { return strip_prefix(name); }
Loc lower_name_loc(const Lower *lw, const Value *call) { return name_loc(lw, call); }
void lower_error_unknown(const Lower *lw, Loc loc, const char *what, const char *name,
                         const char *const *names, int n, const char *where)
{
    error_unknown(lw, loc, what, name, names, n, where);
}

/* Binds a call's arguments to its spec: out[i] is the value of spec arg i
 * or NULL. Returns 0, or -1 after reporting errors. */
static int bind(const Lower *lw, const Value *call, const CallSpec *spec, Value **out)
{
    const Source *src = lw->src;
    int nspec, err = 0, pos = 0, seen_kw = 0;
    const char *const *names = names_of(spec, &nspec);
    for (int i = 0; i < nspec; i++)
        out[i] = NULL;
    if (has_error(call))
        return -1;   /* reported where the expression was folded */
    for (const Arg *a = call->args; a; a = a->next) {
        if (!a->key) {
            if (seen_kw) {
                diag_error(src, a->val->loc, "positional argument follows keyword argument");
                err = -1;
            } else if (pos >= spec->npositional) {
                if (pos++ > spec->npositional)
                    continue;   /* one message for all the extra ones */
                if (spec->npositional == 0)
                    diag_error(src, a->val->loc, "%s() takes only keyword arguments%s", spec->name,
                               !strcmp(spec->name, "fit") ? "; the data is given when the generated program runs" : "");
                else
                    diag_error(src, a->val->loc, "too many positional arguments to %s (at most %d)",
                               spec->name, spec->npositional);
                err = -1;
            } else {
                out[pos++] = a->val;
            }
            continue;
        }
        seen_kw = 1;
        int k = -1;
        for (int i = 0; i < nspec; i++)
            if (!strcmp(names[i], a->key))
                k = i;
        if (k < 0) {
            int legacy = lower_legacy_arg(lw, call, spec, a);   /* a Keras 1/2 spelling: its own message */
            if (legacy < 0 || !legacy) {
                if (!legacy)
                    error_unknown(lw, a->key_loc, "argument", a->key, names, nspec,
                                  arena_printf(" to %s", spec->name));
                err = -1;
            }
        } else if (out[k]) {
            diag_error(src, a->key_loc, "argument '%s' given twice", a->key);
            err = -1;
        } else {
            out[k] = a->val;
        }
    }
    for (int i = 0; i < nspec; i++) {
        if (!out[i])
            continue;
        if (spec->args[i].type == T_NONE && out[i]->kind != VAL_NONE) {
            /* fit's data: the generated program reads it when it runs */
            int data = !strcmp(spec->name, "fit") &&
                       (!strcmp(names[i], "x") || !strcmp(names[i], "y") || !strcmp(names[i], "validation_data"));
            diag_error(src, out[i]->loc, "argument '%s' of %s is not supported by seqc (only None)%s",
                       names[i], spec->name,
                       !data ? "" : !strcmp(names[i], "validation_data")
                                ? ": the generated program reads validation data when it runs (train DATA.csv "
                                  "--val VAL.csv)"
                                : ": the generated program reads the data when it runs (train DATA.csv)");
            err = -1;
        }
    }
    return err;
}

/* A Lower for the call `call` bound to `spec`. */
static int bind_call(Lower *lw, const Value *call, const CallSpec *spec, Value **vals)
{
    lw->spec = spec;
    lw->vals = vals;
    lw->call = call;
    return bind(lw, call, spec, vals);
}

int lower_bind(Lower *lw, const Value *call, const CallSpec *spec, Value **vals)
{
    return bind_call(lw, call, spec, vals);
}

Value *lower_arg(const Lower *lw, const char *name)
{
    for (int i = 0; i < MAX_ARGS && lw->spec->args[i].name; i++)
        if (!strcmp(lw->spec->args[i].name, name))
            return lw->vals[i];
    ir_internal_error(arena_printf("argument '%s' is not in the table of %s", name, lw->spec->name));
}

Loc lower_loc(const Lower *lw, const char *name)
{
    const Value *v = lower_arg(lw, name);
    return v ? v->loc : lw->call->loc;
}

static int type_error(const Lower *lw, const Value *v, const char *name, const char *want)
{
    if (v->kind == VAL_ERROR)
        return -1;   /* already reported */
    if (v->kind == VAL_SYMBOLIC || (v->kind == VAL_NAME && strncmp(want, "a string", 8))) {
        diag_error(lw->src, v->loc, "argument '%s' must be %s, but '%s' is a Python expression, which seqc does "
                   "not evaluate: write its value", name, want, v->s);
        return -1;
    }
    diag_error(lw->src, v->loc, "argument '%s' must be %s, not %s", name, want, ast_kind_name(v->kind));
    return -1;
}

int lower_type_error(const Lower *lw, const Value *v, const char *name, const char *want)
{
    return type_error(lw, v, name, want);
}

static int get_int(const Lower *lw, const Value *v, const char *name, int64_t def, int64_t *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind == VAL_FLOAT) {
        /* Python would pass the float on; Keras then fails where it needs
         * an int: say which float, and how it came to be one */
        char buf[40];
        diag_error(lw->src, v->loc, "argument '%s' must be an integer, but this is the float %s%s", name,
                   seqrt_pyfloat(buf, sizeof buf, v->f),
                   v->truediv ? " ('/' is true division in Python: use '//' for an integer)" : "");
        return -1;
    }
    if (v->kind != VAL_INT)
        return type_error(lw, v, name, "an integer");
    *out = v->i;
    return 0;
}

int lower_get_int(const Lower *lw, const Value *v, const char *name, int64_t def, int64_t *out)
{
    return get_int(lw, v, name, def, out);
}

static int get_float(const Lower *lw, const Value *v, const char *name, double def, double *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_INT && v->kind != VAL_FLOAT)
        return type_error(lw, v, name, "a number");
    *out = v->f;
    return 0;
}

int lower_get_float(const Lower *lw, const Value *v, const char *name, double def, double *out)
{
    return get_float(lw, v, name, def, out);
}

static int get_bool(const Lower *lw, const Value *v, const char *name, int def, int *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_BOOL)
        return type_error(lw, v, name, "True or False");
    *out = (int)v->i;
    return 0;
}

static int get_str(const Lower *lw, const Value *v, const char *name, const char *def, const char **out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_STRING && v->kind != VAL_NAME)
        return type_error(lw, v, name, "a string");
    *out = v->s;
    return 0;
}

int lower_get_bool(const Lower *lw, const Value *v, const char *name, int def, int *out)
{
    return get_bool(lw, v, name, def, out);
}

int lower_get_str(const Lower *lw, const Value *v, const char *name, const char *def, const char **out)
{
    return get_str(lw, v, name, def, out);
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* activation="relu", activation=relu, keras.activations.relu, None */
static int get_act(const Lower *lw, const Value *v, const char *argname, Act *out)
{
    *out = act_default(SEQRT_ACT_LINEAR);
    if (!v || v->kind == VAL_NONE)
        return 0;
    if (v->kind != VAL_STRING && v->kind != VAL_NAME)
        return type_error(lw, v, argname, "an activation name");
    const char *s = v->kind == VAL_NAME ? strip_prefix(v->s) : v->s;
    if (!s)
        s = v->s;
    const Names *t = act_names();
    int a = names_find(t, s, 0);
    if (a < 0) {
        static const char *const needs_args[] = {"threshold", "glu", "sparsemax"};
        if (lookup(s, needs_args, COUNT_OF(needs_args)) >= 0) {
            diag_error(lw->src, v->loc, "activation '%s' is not supported by seqc%s", s,
                       !strcmp(s, "threshold") ? " (Keras's threshold needs arguments; use ReLU(threshold=...))"
                                               : "");
            return -1;
        }
        error_unknown(lw, v->loc, "activation", s, t->spelling, t->n, "");
        return -1;
    }
    *out = act_default((seqrt_act)a);
    return 0;
}

int lower_int(const Lower *lw, const char *name, int64_t def, int64_t *out)
{
    return get_int(lw, lower_arg(lw, name), name, def, out);
}

int lower_float(const Lower *lw, const char *name, double def, double *out)
{
    return get_float(lw, lower_arg(lw, name), name, def, out);
}

int lower_bool(const Lower *lw, const char *name, int def, int *out)
{
    return get_bool(lw, lower_arg(lw, name), name, def, out);
}

int lower_str(const Lower *lw, const char *name, const char *def, const char **out)
{
    return get_str(lw, lower_arg(lw, name), name, def, out);
}

int lower_act(const Lower *lw, const char *name, Act *out)
{
    return get_act(lw, lower_arg(lw, name), name, out);
}

int lower_init(const Lower *lw, const char *name, seqrt_init_kind def, seqrt_init_kind *out)
{
    InitSpec spec;
    Value *v = lower_arg(lw, name);
    *out = def;
    if (lower_init_spec(lw, v, name, def, &spec))
        return -1;
    if (spec.has_args || spec.has_seed) {
        diag_error(lw->src, v->loc, "'%s' takes an initializer name here (arguments are supported on the "
                   "initializers of Dense and PReLU weights)", name);
        return -1;
    }
    *out = spec.kind;
    return 0;
}

int lower_weight(const Lower *lw, const char *weight, seqrt_init_kind def, WeightOpts *out)
{
    memset(out, 0, sizeof *out);
    out->init.kind = def;
    const char *names[3] = {arena_printf("%s_initializer", weight), arena_printf("%s_regularizer", weight),
                            arena_printf("%s_constraint", weight)};
    int have[3] = {0, 0, 0};
    for (int i = 0; i < MAX_ARGS && lw->spec->args[i].name; i++)
        for (int k = 0; k < 3; k++)
            have[k] |= !strcmp(lw->spec->args[i].name, names[k]);
    int err = 0;
    if (have[0])
        err |= lower_init_spec(lw, lower_arg(lw, names[0]), names[0], def, &out->init);
    if (have[1])
        err |= lower_regularizer(lw, lower_arg(lw, names[1]), names[1], &out->reg);
    if (have[2])
        err |= lower_constraint(lw, lower_arg(lw, names[2]), names[2], &out->con);
    return err;
}

int lower_axis(const Lower *lw, Axis *axis)
{
    int64_t v;
    axis->loc = lower_loc(lw, "axis");
    axis->axis = -1;
    if (lower_int(lw, "axis", -1, &v))
        return -1;
    if (v < -1 || v == 0 || v > MAX_RANK) {
        diag_error(lw->src, lower_loc(lw, "axis"), "axis %lld is not supported: seqc works over the last axis of a "
                   "sample; use axis=-1", (long long)v);
        return -1;
    }
    axis->axis = (int)v;
    return 0;
}

/* input_shape=[28, 28, 1], (10,), 10 */
static int get_shape(const Lower *lw, const Value *v, const char *argname, Shape *out)
{
    const Source *src = lw->src;
    out->rank = 0;
    if (v->kind == VAL_INT) {
        if (v->i <= 0 || v->i > INT32_MAX) {
            diag_error(src, v->loc, "'%s' must be positive and below 2^31", argname);
            return -1;
        }
        out->dim[out->rank++] = (int)v->i;
        return 0;
    }
    if (v->kind != VAL_LIST)
        return type_error(lw, v, argname, "a list of sizes such as [10]");
    for (const Value *e = v->items; e; e = e->next) {
        if (e->kind == VAL_NONE && out->rank == 0 && e->next) {
            continue;   /* batch_input_shape-style leading None */
        }
        if (e->kind != VAL_INT)
            return type_error(lw, e, argname, "a list of integers");
        if (e->i <= 0 || e->i > INT32_MAX) {
            diag_error(src, e->loc, "every size in '%s' must be positive and below 2^31", argname);
            return -1;
        }
        if (out->rank == MAX_RANK) {
            diag_error(src, e->loc, "'%s' has more than %d dimensions", argname, MAX_RANK);
            return -1;
        }
        out->dim[out->rank++] = (int)e->i;
    }
    if (out->rank == 0) {
        diag_error(src, v->loc, "'%s' is empty", argname);
        return -1;
    }
    long long n = 1;
    for (int i = 0; i < out->rank && n <= INT32_MAX; i++)
        n *= out->dim[i];
    if (n > INT32_MAX) {
        diag_error(src, v->loc, "the input shape has more than 2^31-1 elements");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- layers */

/* Is v (or an item of it) computed in Python: a name, a subscript, a call? */
static int python_computed(const Value *v)
{
    if (v->kind == VAL_SYMBOLIC || v->kind == VAL_NAME || v->kind == VAL_CALL)
        return 1;
    if (v->kind == VAL_LIST)
        for (const Value *e = v->items; e; e = e->next)
            if (python_computed(e))
                return 1;
    return 0;
}

static int set_input(Lower *lw, const Value *shape, const char *argname)
{
    Model *m = lw->m;
    if (m->in_shape.rank) {
        diag_error(lw->src, shape->loc, "the input shape is given twice");
        return -1;
    }
    if (python_computed(shape)) {
        /* input_shape=(X_train.shape[1],): Python knows it, seqc does not */
        if (lw->default_input && lw->default_input->rank) {
            m->in_shape = *lw->default_input;
            return 0;
        }
        const char *text = arena_strndup(lw->src->text + shape->loc.start,
                                         (size_t)(shape->loc.end - shape->loc.start));
        diag_error(lw->src, shape->loc, "the input shape %s is computed in Python, which seqc does not run: write "
                   "its value (such as %s=(30,)), or pass it with --input-shape=N[,N...]", text, argname);
        return -1;
    }
    if (get_shape(lw, shape, argname, &m->in_shape) < 0)
        return -1;
    /* --input-shape supplies a shape the model lacks; one that disagrees
     * with the model's own is a mistake in one of them */
    const Shape *flag = lw->default_input;
    if (flag && flag->rank && !shape_eq(flag, &m->in_shape)) {
        char csv[16 * MAX_RANK + 4];
        int n = 0;
        for (int i = 0; i < flag->rank; i++)
            n += snprintf(csv + n, sizeof csv - (size_t)n, "%s%d", i ? "," : "", flag->dim[i]);
        diag_error(lw->src, shape->loc, "the model's input shape %s differs from --input-shape=%s (the option only "
                   "supplies a shape the model does not give)", shape_str(&m->in_shape), csv);
        return -1;
    }
    return 0;
}

/* input_shape / input_dim on a layer: only on the first. */
static int layer_input(Lower *lw)
{
    Value *shape = lower_arg(lw, "input_shape");
    Value *dim = lower_arg(lw, "input_dim");
    int err = 0;
    if (lw->spec->npositional > 0 && !strcmp(lw->spec->args[0].name, "input_dim"))
        dim = NULL;   /* the layer's own first argument (Embedding's vocabulary), not Keras 2's input shape */
    if (shape && dim) {
        diag_error(lw->src, dim->loc, "give either input_shape or input_dim, not both");
        return -1;
    }
    Value *v = shape ? shape : dim;
    if (v) {
        if (lw->m->nlayers > 0) {
            diag_error(lw->src, v->loc, "only the first layer can give the input shape");
            return -1;
        }
        err = set_input(lw, v, shape ? "input_shape" : "input_dim");
    }
    Value *tr = lower_arg(lw, "trainable");
    if (tr && !(tr->kind == VAL_BOOL && tr->i)) {
        diag_error(lw->src, tr->loc, "trainable=False is not supported by seqc");
        err = -1;
    }
    return err;
}

/* The kind and syntax of a layer statement named `name`, or NULL. */
static const Syntax *find_syntax(const char *name, const LayerKind **kind)
{
    for (int k = 0; k < nlayer_kinds; k++)
        for (const Syntax *const *s = layer_kinds[k]->syntax; *s; s++)
            if (!strcmp((*s)->spec->name, name)) {
                *kind = layer_kinds[k];
                return *s;
            }
    return NULL;
}

/* Every statement name, for "did you mean". */
static const char *const *statement_names(int *n)
{
    static const char *names[128];
    static int count;
    if (!count) {
        for (int k = 0; k < nlayer_kinds; k++)
            for (const Syntax *const *s = layer_kinds[k]->syntax; *s && count < 120; s++)
                names[count++] = (*s)->spec->name;
        static const char *const others[] = {"Input", "InputLayer", "compile", "fit", "add"};
        for (int i = 0; i < COUNT_OF(others); i++)
            names[count++] = others[i];
    }
    *n = count;
    return names;
}

int lower_is_layer_spec(const CallSpec *spec)
{
    const LayerKind *kind;
    const Syntax *syn = find_syntax(spec->name, &kind);
    return syn && syn->spec == spec;
}

/* Keras's automatic layer names: the class in snake_case (Keras's
 * to_snake_case: "BatchNormalization" -> "batch_normalization",
 * "LeakyReLU" -> "leaky_re_lu"), numbered from the second one of a prefix
 * on ("dense", "dense_1", ...) over the whole file, as one Python session
 * numbers them. */
static struct {
    const char *prefix[256];
    int count[256];
    int n;
} auto_names;

static const char *to_snake_case(const char *name)
{
    size_t n = strlen(name);
    char *out = arena_alloc(2 * n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        /* "(.)([A-Z][a-z]+)" -> "\\1_\\2", then "([a-z])([A-Z])" -> "\\1_\\2" */
        int upper = c >= 'A' && c <= 'Z';
        if (i > 0 && upper && i + 1 < n && name[i + 1] >= 'a' && name[i + 1] <= 'z' && o[-1] != '_')
            *o++ = '_';
        else if (i > 0 && upper && name[i - 1] >= 'a' && name[i - 1] <= 'z')
            *o++ = '_';
        *o++ = (char)(upper ? c - 'A' + 'a' : c);
    }
    *o = 0;
    return out;
}

static const char *auto_name(const char *cls)
{
    const char *prefix = to_snake_case(cls);
    for (int i = 0; i < auto_names.n; i++)
        if (!strcmp(auto_names.prefix[i], prefix))
            return arena_printf("%s_%d", prefix, auto_names.count[i]++);
    if (auto_names.n < COUNT_OF(auto_names.prefix)) {
        auto_names.prefix[auto_names.n] = prefix;
        auto_names.count[auto_names.n++] = 1;
    }
    return prefix;
}

static int lower_layer(Lower *lw, const LayerKind *kind, const Syntax *syn, const Value *call, int index)
{
    Value *vals[MAX_ARGS];
    if (bind_call(lw, call, syn->spec, vals) < 0)
        return -1;
    if (layer_input(lw) < 0)
        return -1;
    const char *name;
    Regularizer act_reg;
    if (lower_str(lw, "name", NULL, &name) ||
        lower_regularizer(lw, lower_arg(lw, "activity_regularizer"), "activity_regularizer", &act_reg))
        return -1;
    Layer *l = ir_add_layer(lw->m, kind, index, call->loc);
    l->keras_class = syn->spec->name;
    l->keras_name = name ? name : auto_name(syn->spec->name);
    int err = syn->lower(lw, l);
    if (!err && act_reg.on) {
        /* Keras adds the penalty of the layer's output: an
         * activity_regularization layer after it, which the summary skips */
        Layer *r = ir_add_layer(lw->m, &kind_activity_regularization, index, lower_loc(lw, "activity_regularizer"));
        r->attr = arena_alloc(sizeof(Regularizer));
        *(Regularizer *)r->attr = act_reg;
    }
    return err;
}

const LayerKind *lower_nested_layer(Lower *lw, const Value *call, Layer *l)
{
    const LayerKind *kind = NULL;
    const Syntax *syn = call->kind == VAL_CALL ? find_syntax(call->s, &kind) : NULL;
    if (!syn) {
        diag_error(lw->src, call->loc, "expected a layer here, e.g. LSTM(32)");
        return NULL;
    }
    Lower saved = *lw;
    Value *vals[MAX_ARGS];
    int err = bind_call(lw, call, syn->spec, vals);
    Value *act_reg = err ? NULL : lower_arg(lw, "activity_regularizer");
    if (act_reg && act_reg->kind != VAL_NONE) {
        /* Keras would add a penalty of each inner layer's output */
        diag_error(lw->src, act_reg->loc, "activity_regularizer on the layer inside a wrapper is not built by "
                   "seqc; give it to the wrapper (with merge_mode=\"concat\" that is the same penalty)");
        err = -1;
    }
    for (int i = 0; !err && i < 2; i++) {
        static const char *const shape_args[] = {"input_shape", "input_dim"};
        Value *v = lower_arg(lw, shape_args[i]);
        if (v) {
            diag_error(lw->src, v->loc, "give %s to the outer layer (or use Input), not to the layer inside it",
                       shape_args[i]);
            err = -1;
        }
    }
    if (!err)
        err = syn->lower(lw, l);
    *lw = saved;
    return err ? NULL : kind;
}

/* ---------------------------------------------------------------- compile */

/* The name a string, a bare name or a call spells, without the Keras
 * module prefixes of the last two; NULL for any other kind of value. */
static const char *spelled_name(const Value *v)
{
    if (v->kind != VAL_STRING && v->kind != VAL_NAME && v->kind != VAL_CALL)
        return NULL;
    const char *name = v->kind == VAL_STRING ? v->s : strip_prefix(v->s);
    return name ? name : v->s;
}

const char *lower_spelled_name(const Value *v) { return spelled_name(v); }

/* A hyper-parameter that Keras takes as a float or None (weight_decay,
 * clipnorm, ...): 0 when absent or None. */
static int float_or_none(Lower *lw, const char *name, double *out)
{
    Value *v = lower_arg(lw, name);
    *out = 0;
    if (!v || v->kind == VAL_NONE)
        return 0;
    if (get_float(lw, v, name, 0, out))
        return -1;
    if (!(*out >= 0 && isfinite(*out))) {
        diag_error(lw->src, v->loc, "%s must be 0 or more", name);
        return -1;
    }
    return 0;
}

static int range_error(Lower *lw, const char *name, const char *what)
{
    diag_error(lw->src, lower_loc(lw, name), "%s must be %s", name, what);
    return -1;
}

static int lower_optimizer(Lower *lw, const Value *v)
{
    Optimizer *o = &lw->m->opt;
    const Source *src = lw->src;
    o->loc = v->loc;
    const char *name = spelled_name(v);
    if (!name)
        return type_error(lw, v, "optimizer", "an optimizer name or call such as Adam(learning_rate=0.001)");
    const Names *t = optimizer_names();
    int k = names_find(t, name, 1);
    if (k < 0) {
        Loc at = v->kind == VAL_CALL ? name_loc(lw, v) : v->loc;
        if (keras_not_built("optimizer", name))
            diag_error(src, at, "optimizer '%s' is a Keras optimizer seqc does not build", name);
        else
            error_unknown(lw, at, "optimizer", name, t->spelling, t->n, "");
        return -1;
    }
    const CallSpec *spec = optimizer_specs[k];
    Value *vals[MAX_ARGS] = {0};
    lw->spec = spec;
    lw->vals = vals;
    lw->call = v;
    if (v->kind == VAL_CALL && bind(lw, v, spec, vals) < 0)
        return -1;
    memset(o, 0, sizeof *o);
    o->loc = v->loc;
    o->kind = (seqrt_opt_kind)k;
    int err = 0;
    Value *lrv = lower_arg(lw, "learning_rate");
    if (lrv && lrv->kind == VAL_CALL) {
        err |= lower_schedule(lw, lrv, o);
        o->has_schedule = !err;
        lw->spec = spec;   /* lower_schedule bound its own call on a copy */
        lw->vals = vals;
        lw->call = v;
    } else {
        err |= lower_float(lw, "learning_rate", 0.001, &o->lr);
        if (o->kind == SEQRT_OPT_SGD && !lrv)
            o->lr = 0.01;
        if (!err && !(o->lr > 0 && isfinite(o->lr)))
            err = range_error(lw, "learning_rate", "positive");
    }
    if ((unsigned)o->kind >= SEQRT_OPT_COUNT)
        ir_internal_error("an optimizer that is not a seqrt_opt_kind");
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        err |= lower_float(lw, "momentum", 0, &o->momentum);
        err |= lower_bool(lw, "nesterov", 0, &o->nesterov);
        if (!err && !(o->momentum >= 0 && o->momentum <= 1))
            err = range_error(lw, "momentum", "in [0, 1]");
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
    case SEQRT_OPT_ADAMAX:
    case SEQRT_OPT_NADAM:
    case SEQRT_OPT_LION:
        err |= lower_float(lw, "beta_1", 0.9, &o->beta1);
        err |= lower_float(lw, "beta_2", o->kind == SEQRT_OPT_LION ? 0.99 : 0.999, &o->beta2);
        if (o->kind != SEQRT_OPT_LION)
            err |= lower_float(lw, "epsilon", 1e-7, &o->epsilon);
        if (o->kind == SEQRT_OPT_ADAM || o->kind == SEQRT_OPT_ADAMW)
            err |= lower_bool(lw, "amsgrad", 0, &o->amsgrad);
        if (o->kind == SEQRT_OPT_LION) {
            if (!err && !(o->beta1 > 0 && o->beta1 <= 1))
                err = range_error(lw, "beta_1", "in (0, 1] for Lion (Keras raises: it degenerates to SignSGD)");
            if (!err && !(o->beta2 >= 0 && o->beta2 <= 1))
                err = range_error(lw, "beta_2", "in [0, 1]");
        } else if (!err && !(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1)) {
            diag_error(src, v->loc, "beta_1 and beta_2 must be in [0, 1)");
            err = -1;
        }
        break;
    case SEQRT_OPT_RMSPROP:
        err |= lower_float(lw, "rho", 0.9, &o->rho);
        err |= lower_float(lw, "momentum", 0, &o->momentum);
        err |= lower_float(lw, "epsilon", 1e-7, &o->epsilon);
        err |= lower_bool(lw, "centered", 0, &o->centered);
        if (!err && !(o->rho >= 0 && o->rho < 1))
            err = range_error(lw, "rho", "in [0, 1)");
        if (!err && !(o->momentum >= 0 && o->momentum <= 1))
            err = range_error(lw, "momentum", "in [0, 1]");
        break;
    case SEQRT_OPT_ADAGRAD:
        err |= lower_float(lw, "initial_accumulator_value", 0.1, &o->initial_accumulator_value);
        err |= lower_float(lw, "epsilon", 1e-7, &o->epsilon);
        if (!err && !(o->initial_accumulator_value >= 0))
            err = range_error(lw, "initial_accumulator_value", "0 or more");
        break;
    case SEQRT_OPT_ADADELTA:
        err |= lower_float(lw, "rho", 0.95, &o->rho);
        err |= lower_float(lw, "epsilon", 1e-7, &o->epsilon);
        if (!err && !(o->rho >= 0 && o->rho < 1))
            err = range_error(lw, "rho", "in [0, 1)");
        break;
    case SEQRT_OPT_FTRL:
        err |= lower_float(lw, "learning_rate_power", -0.5, &o->lr_power);
        err |= lower_float(lw, "initial_accumulator_value", 0.1, &o->initial_accumulator_value);
        err |= lower_float(lw, "l1_regularization_strength", 0, &o->l1);
        err |= lower_float(lw, "l2_regularization_strength", 0, &o->l2);
        err |= lower_float(lw, "l2_shrinkage_regularization_strength", 0, &o->l2_shrinkage);
        err |= lower_float(lw, "beta", 0, &o->beta);
        if (!err && !(o->lr_power <= 0))
            err = range_error(lw, "learning_rate_power", "0 or less (Keras raises for it too)");
        if (!err && !(o->initial_accumulator_value >= 0))
            err = range_error(lw, "initial_accumulator_value", "0 or more");
        if (!err && !(o->l1 >= 0 && o->l2 >= 0 && o->l2_shrinkage >= 0)) {
            diag_error(src, v->loc, "the Ftrl regularization strengths must be 0 or more");
            err = -1;
        }
        if (!err && o->has_schedule && o->beta != 0) {
            diag_error(src, lower_loc(lw, "beta"), "Ftrl's beta with a learning-rate schedule is not supported");
            err = -1;
        }
        break;
    }
    int needs_eps = o->kind != SEQRT_OPT_SGD && o->kind != SEQRT_OPT_LION && o->kind != SEQRT_OPT_FTRL;
    if (!err && needs_eps && !(o->epsilon > 0 && isfinite(o->epsilon))) {
        diag_error(src, lower_arg(lw, "epsilon") ? lower_loc(lw, "epsilon") : v->loc, "epsilon must be positive");
        err = -1;
    }
    /* weight_decay: every Keras 3 optimizer decays decoupled (AdamW's default is 0.004) */
    if (o->kind == SEQRT_OPT_ADAMW && !lower_arg(lw, "weight_decay"))
        o->weight_decay = 0.004;
    else if (o->kind == SEQRT_OPT_ADAMW && lower_arg(lw, "weight_decay")->kind == VAL_NONE) {
        diag_error(src, lower_loc(lw, "weight_decay"), "AdamW needs a weight_decay (Keras raises for None)");
        err = -1;
    } else
        err |= float_or_none(lw, "weight_decay", &o->weight_decay);
    o->decoupled_wd = o->weight_decay > 0 && o->kind != SEQRT_OPT_ADAM && o->kind != SEQRT_OPT_ADAMW;
    err |= float_or_none(lw, "clipnorm", &o->clipnorm);
    err |= float_or_none(lw, "clipvalue", &o->clipvalue);
    err |= float_or_none(lw, "global_clipnorm", &o->global_clipnorm);
    int nclip = 0;
    static const char *const clips[] = {"clipnorm", "clipvalue", "global_clipnorm"};
    for (int i = 0; i < 3; i++)
        nclip += lower_arg(lw, clips[i]) && lower_arg(lw, clips[i])->kind != VAL_NONE;
    if (!err && nclip > 1) {
        diag_error(src, v->loc, "only one of clipnorm, clipvalue and global_clipnorm can be set (Keras raises for "
                   "more)");
        err = -1;
    }
    int ema;
    err |= lower_bool(lw, "use_ema", 0, &ema);
    if (!err && ema) {
        diag_error(src, lower_loc(lw, "use_ema"), "use_ema=True (an exponential moving average of the weights) is "
                   "not supported by seqc");
        err = -1;
    }
    return err;
}

/* The loss "crossentropy" (or "ce"): Keras resolves it from the shapes. */
static int is_generic_crossentropy(const char *name)
{
    return !strcasecmp(name, "crossentropy") || !strcasecmp(name, "ce");
}

static int lower_loss(Lower *lw, const Value *v)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    const char *name = spelled_name(v);
    if (!name)
        return type_error(lw, v, "loss", "a loss name such as \"mse\"");
    m->loss_delta = 1.0;
    m->loss_loc = v->loc;
    if (v->kind == VAL_STRING && is_generic_crossentropy(name)) {
        m->has_loss = 1;
        m->loss = (seqrt_loss_kind)-1;   /* resolved from the output's shape (resolve_deferred) */
        return 0;
    }
    const Names *t = loss_names();
    int k = names_find(t, name, 0);
    if (k < 0) {
        Loc at = v->kind == VAL_CALL ? name_loc(lw, v) : v->loc;
        if (keras_not_built("loss", name))
            diag_error(src, at, "loss '%s' is a Keras loss seqc does not build", name);
        else if (keras2_name("loss", name))
            diag_error(src, at, "'%s' is Keras 2's name: Keras 3 rejects it; write \"%s\"", name,
                       keras2_name("loss", name));
        else
            error_unknown(lw, at, "loss", name, t->spelling, t->n, "");
        return -1;
    }
    m->has_loss = 1;
    m->loss = (seqrt_loss_kind)k;
    if (v->kind != VAL_CALL)
        return 0;
    Value *vals[MAX_ARGS];
    CallSpec named = *loss_spec(m->loss);   /* messages name the loss as written */
    named.name = name;
    const CallSpec *spec = &named;
    if (bind_call(lw, v, spec, vals) < 0)
        return -1;
    int err = 0;
    const char *reduction;
    err |= lower_str(lw, "reduction", "sum_over_batch_size", &reduction);
    if (!err && strcmp(reduction, "sum_over_batch_size")) {
        diag_error(src, lower_loc(lw, "reduction"), "reduction=\"%s\" is not supported by seqc (only Keras 3's "
                   "default, \"sum_over_batch_size\")%s", reduction,
                   !strcmp(reduction, "auto") ? "; Keras 3 rejects Keras 2's \"auto\" too" : "");
        err = -1;
    }
    for (int i = 0; i < MAX_ARGS && spec->args[i].name; i++) {
        const char *an = spec->args[i].name;
        if (!strcmp(an, "from_logits"))
            err |= lower_bool(lw, "from_logits", 0, &m->loss_on_logits);
        else if (!strcmp(an, "delta")) {
            err |= lower_float(lw, "delta", 1.0, &m->loss_delta);
            if (!err && !(m->loss_delta >= 0))
                err = range_error(lw, "delta", "0 or more");
        } else if (!strcmp(an, "label_smoothing")) {
            err |= lower_float(lw, "label_smoothing", 0.0, &m->label_smoothing);
            if (!err && !(m->label_smoothing >= 0 && m->label_smoothing <= 1))
                err = range_error(lw, "label_smoothing", "in [0, 1]");
        } else if (!strcmp(an, "axis")) {
            int64_t axis;
            err |= lower_int(lw, "axis", -1, &axis);
            if (!err && axis != -1) {
                diag_error(src, lower_loc(lw, "axis"), "axis %lld is not supported: seqc's losses work over the last "
                           "axis (axis=-1)", (long long)axis);
                err = -1;
            }
        }
    }
    return err;
}

static int is_accuracy(seqrt_metric_kind k)
{
    return k == SEQRT_METRIC_BINARY_ACCURACY || k == SEQRT_METRIC_CATEGORICAL_ACCURACY ||
           k == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
}

/* "accuracy" and "acc" (any case), which Keras resolves from the shapes */
static int is_generic_accuracy(const char *name)
{
    return !strcasecmp(name, "accuracy") || !strcasecmp(name, "acc");
}

/* Reads a metric class call's arguments into a. */
static int metric_call_args(Lower *lw, seqrt_metric_kind k, seqrt_metric_args *a)
{
    const Source *src = lw->src;
    const CallSpec *spec = lw->spec;
    int err = 0;
    int64_t iv;
    double d;
    const char *str;
    for (int i = 0; i < MAX_ARGS && spec->args[i].name; i++) {
        const char *an = spec->args[i].name;
        if (!lw->vals[i])
            continue;
        a->given = 1;
        if (!strcmp(an, "threshold") || !strcmp(an, "thresholds")) {
            err |= lower_float(lw, an, 0.5, &d);
            a->threshold = (float)d;
            if (!err && !(d >= 0 && d <= 1))
                err = range_error(lw, an, "in [0, 1]");
        } else if (!strcmp(an, "num_thresholds")) {
            err |= lower_int(lw, an, 200, &iv);
            if (!err && !(iv > 1 && iv <= 1000000))
                err = range_error(lw, an, "an integer > 1");
            a->num_thresholds = (int)iv;
        } else if (!strcmp(an, "curve")) {
            err |= lower_str(lw, an, "ROC", &str);
            if (!err && (!strcmp(str, "ROC") || !strcmp(str, "roc")))
                a->curve = 0;
            else if (!err && (!strcmp(str, "PR") || !strcmp(str, "pr")))
                a->curve = 1;
            else if (!err && (!strcmp(str, "PRGAIN") || !strcmp(str, "prgain")))
                a->curve = 2;
            else if (!err) {
                diag_error(src, lower_loc(lw, an), "invalid AUC curve \"%s\" (Keras accepts \"ROC\", \"PR\" and \"PRGAIN\", upper or lower case)", str);
                err = -1;
            }
        } else if (!strcmp(an, "summation_method")) {
            err |= lower_str(lw, an, "interpolation", &str);
            static const char *const ms[] = {"interpolation", "minoring", "majoring"};
            int found = -1;
            for (int j = 0; !err && j < 3; j++)
                if (!strcmp(str, ms[j]) || (str[0] == toupper((unsigned char)ms[j][0]) && !strcmp(str + 1, ms[j] + 1)))
                    found = j;
            if (!err && found < 0) {
                error_unknown(lw, lower_loc(lw, an), "summation_method", str, ms, 3, " for AUC");
                err = -1;
            }
            a->summation = found;
        } else if (!strcmp(an, "multi_label")) {
            int ml;
            err |= lower_bool(lw, an, 0, &ml);
            if (!err && ml && lw->m->out_shape.rank && shape_last(&lw->m->out_shape) > 1) {
                diag_error(src, lower_loc(lw, an), "AUC(multi_label=True) over several outputs is not supported");
                err = -1;
            }
        } else if (!strcmp(an, "from_logits")) {
            err |= lower_bool(lw, an, 0, &a->from_logits);
        } else if (!strcmp(an, "label_smoothing")) {
            err |= lower_float(lw, an, 0, &d);
            a->label_smoothing = (float)d;
            if (!err && !(d >= 0 && d <= 1))
                err = range_error(lw, an, "in [0, 1]");
        } else if (!strcmp(an, "k")) {
            err |= lower_int(lw, an, 5, &iv);
            if (!err && !(iv >= 1 && iv <= INT32_MAX))
                err = range_error(lw, an, "1 or more");
            a->k = (int)iv;
        } else if (!strcmp(an, "class_id")) {
            Value *cv = lw->vals[i];
            if (cv->kind != VAL_NONE) {
                err |= lower_int(lw, an, -1, &iv);
                if (!err && !(iv >= 0 && iv < INT32_MAX))
                    err = range_error(lw, an, "a class index (0 or more)");
                a->class_id = (int)iv;
            }
        } else if (!strcmp(an, "class_aggregation")) {
            Value *cv = lw->vals[i];
            const char *agg = cv->kind == VAL_NONE ? "None" : NULL;
            if (!agg)
                err |= lower_str(lw, an, "uniform_average", &agg);
            if (!err && !strcmp(agg, "variance_weighted_average"))
                a->aggregation = 1;
            else if (!err && strcmp(agg, "uniform_average")) {
                diag_error(src, cv->loc, "class_aggregation=%s is not supported (it reports one score per output): "
                           "use \"uniform_average\" or \"variance_weighted_average\"", agg);
                err = -1;
            }
        } else if (!strcmp(an, "num_regressors")) {
            err |= lower_int(lw, an, 0, &iv);
            if (!err && !(iv >= 0 && iv < INT32_MAX))
                err = range_error(lw, an, "0 or more");
            a->num_regressors = (int)iv;
        } else if (!strcmp(an, "axis")) {
            err |= lower_int(lw, an, -1, &iv);
            if (!err && iv != -1) {
                diag_error(src, lower_loc(lw, an), "axis %lld is not supported: seqc's metrics work over the last "
                           "axis (axis=-1)", (long long)iv);
                err = -1;
            }
        } else if (!strcmp(an, "from_sorted_ids")) {
            int f;
            err |= lower_bool(lw, an, 0, &f);
            if (!err && f) {
                diag_error(src, lower_loc(lw, an), "from_sorted_ids=True is not supported");
                err = -1;
            }
        }
    }
    (void)k;
    return err;
}

static int resolve_metric(Lower *lw, const Value *v)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    const char *name = spelled_name(v);
    if (!name)
        return type_error(lw, v, "metrics", "a list of metric names");
    int k;
    if (v->kind == VAL_STRING && is_generic_accuracy(name))
        k = -1;
    else if (v->kind == VAL_CALL && !strcmp(name, "Accuracy"))
        k = -2;   /* Keras's exact-equality Accuracy class: not built */
    else
        k = names_find(metric_names(), name, 0);
    if (k == -2) {
        Loc at = v->kind == VAL_CALL ? name_loc(lw, v) : v->loc;
        if (!strcmp(name, "Accuracy"))
            diag_error(src, at, "metric 'Accuracy' (Keras's exact-equality class) is not supported by seqc; the "
                       "string \"accuracy\" gives the accuracy Keras resolves from the shapes");
        else if (keras_not_built("metric", name))
            diag_error(src, at, "metric '%s' is a Keras metric seqc does not build", name);
        else if (keras2_name("metric", name))
            diag_error(src, at, "'%s' is Keras 2's name: Keras 3 rejects it; write \"%s\"", name,
                       keras2_name("metric", name));
        else
            error_unknown(lw, at, "metric", name, metric_names()->spelling, metric_names()->n, "");
        return -1;
    }
    if (m->nmetrics == SEQRT_MAX_METRICS) {
        diag_error(src, v->loc, "at most %d metrics", SEQRT_MAX_METRICS);
        return -1;
    }
    seqrt_metric_args args;
    memset(&args, 0, sizeof args);
    const char *label = NULL;
    if (v->kind == VAL_CALL) {
        Value *vals[MAX_ARGS];
        CallSpec named = *(k >= 0 ? metric_spec((seqrt_metric_kind)k) : &spec_metric_plain);
        named.name = name;   /* messages name the metric as written */
        if (bind_call(lw, v, &named, vals) < 0)
            return -1;
        args = seqrt_metric_defaults(k);
        args.given = 0;
        if (metric_call_args(lw, (seqrt_metric_kind)k, &args) || lower_str(lw, "name", NULL, &label))
            return -1;
        if (!args.given)
            memset(&args, 0, sizeof args);
        else
            args.given = 1;
        /* Keras names a class form after the object: its name=, or the
         * class's default name */
        if (!label)
            label = seqrt_metric_class_name(k);
    } else {
        label = name;   /* a string is reported as written */
    }
    /* Keras reports metrics by name: a second one of the same name adds
     * nothing */
    for (int i = 0; i < m->nmetrics; i++)
        if (!strcmp(m->metric_label[i], label))
            return 0;
    m->metric_label[m->nmetrics] = label;
    m->metric[m->nmetrics] = (seqrt_metric_kind)k;   /* -1: resolved from the shapes */
    m->metric_args[m->nmetrics] = args;
    m->metric_loc[m->nmetrics] = v->loc;
    m->nmetrics++;
    return 0;
}

static int lower_compile(Lower *lw, const Value *call, int *seen)
{
    Model *m = lw->m;
    if ((*seen)++) {
        diag_error(lw->src, name_loc(lw, call), "compile() appears twice in model '%s'", m->name);
        return -1;
    }
    Value *vals[MAX_ARGS];
    if (bind_call(lw, call, &spec_compile, vals) < 0)
        return -1;
    Value *opt = lower_arg(lw, "optimizer"), *loss = lower_arg(lw, "loss"), *metrics = lower_arg(lw, "metrics");
    int err = 0;
    if (opt)
        err |= lower_optimizer(lw, opt);
    if (!loss) {
        diag_error(lw->src, call->loc, "compile() needs a loss, e.g. compile(optimizer=\"adam\", loss=\"mse\")");
        return -1;
    }
    err |= lower_loss(lw, loss);
    if (err)
        return err;
    if (metrics && metrics->kind == VAL_LIST) {
        for (const Value *e = metrics->items; e; e = e->next)
            err |= resolve_metric(lw, e);
    } else if (metrics && metrics->kind == VAL_DICT) {
        diag_error(lw->src, metrics->loc, "metrics as a dict (per output) is for models with several outputs; give "
                   "a list");
        err = -1;
    } else if (metrics && metrics->kind != VAL_NONE) {
        err |= resolve_metric(lw, metrics);
    }
    return err;
}

/* ---------------------------------------------------------------- fit */

static int lower_early_stopping(Lower *lw, const Value *v, int order)
{
    EarlyStopping *es = &lw->m->es;
    const Source *src = lw->src;
    Value *vals[MAX_ARGS];
    if (bind_call(lw, v, &spec_early_stopping, vals) < 0)
        return -1;
    if (es->enabled) {
        diag_error(src, v->loc, "EarlyStopping given twice");
        return -1;
    }
    es->enabled = 1;
    es->order = order;
    es->loc = lower_loc(lw, "monitor");
    int err = 0;
    int64_t patience, start, verbose;
    const char *mode;
    err |= lower_str(lw, "monitor", "val_loss", &es->monitor);
    err |= lower_float(lw, "min_delta", 0, &es->min_delta);
    err |= lower_int(lw, "patience", 0, &patience);
    err |= lower_int(lw, "verbose", 0, &verbose);
    err |= lower_str(lw, "mode", "auto", &mode);
    err |= lower_bool(lw, "restore_best_weights", 0, &es->restore_best_weights);
    err |= lower_int(lw, "start_from_epoch", 0, &start);
    Value *base = lower_arg(lw, "baseline");
    if (base && base->kind != VAL_NONE) {
        err |= get_float(lw, base, "baseline", 0, &es->baseline);
        es->has_baseline = 1;
    }
    if (err)
        return err;
    if (patience < 0 || patience > INT32_MAX) {
        diag_error(src, lower_loc(lw, "patience"), "patience must be 0 or more");
        return -1;
    }
    if (start < 0 || start > INT32_MAX) {
        diag_error(src, lower_loc(lw, "start_from_epoch"), "start_from_epoch must be 0 or more");
        return -1;
    }
    es->patience = (int)patience;
    es->start_from_epoch = (int)start;
    es->verbose = verbose > 0;
    es->min_delta = fabs(es->min_delta);   /* Keras takes abs() too */
    static const char *const modes[] = {"auto", "min", "max"};
    int k = lookup(mode, modes, 3);
    if (k < 0) {
        error_unknown(lw, lower_loc(lw, "mode"), "mode", mode, modes, 3, " for EarlyStopping");
        return -1;
    }
    es->mode = (MonitorMode)k;
    return 0;
}

int lower_monitor(Lower *lw, const char **monitor, int mode, Loc loc, const char *who, int *max)
{
    Model *m = lw->m;
    const char *mon = *monitor;
    int val = !strncmp(mon, "val_", 4);
    const char *base = val ? mon + 4 : mon;
    int kind = -3, metric = -1;
    if (!strcmp(base, "loss")) {
        *max = mode == MONITOR_MAX;
        return 0;
    }
    if (m->opt.settable_lr && !strcmp(mon, "learning_rate")) {
        *max = mode == MONITOR_MAX;
        return 0;
    }
    for (int i = 0; i < m->nmetrics; i++)
        if (!strcmp(base, m->metric_label[i]))
            metric = i;   /* the name it is reported under */
    /* a label that merely spells the metric's kind ("accuracy", "mae") is
     * rewritten to the kind's name, as any other spelling of it */
    if (metric >= 0 && (names_find(metric_names(), base, 0) == (int)m->metric[metric] ||
                        (is_generic_accuracy(base) && is_accuracy(m->metric[metric]))))
        metric = -1;
    if (metric < 0) {
        /* seqc also takes any spelling of a compiled metric's kind
         * ("val_mae" for "mean_absolute_error"), rewritten to its name */
        kind = names_find(metric_names(), base, 0);
        if (kind == -2 && is_generic_accuracy(base))
            kind = -1;
        for (int i = 0; i < m->nmetrics && metric < 0; i++)
            if (kind == (int)m->metric[i] || (is_accuracy(m->metric[i]) && kind == -1))
                metric = i;
        if (metric >= 0)
            *monitor = arena_printf("%s%s", val ? "val_" : "", seqrt_metric_name(m->metric[metric]));
    }
    if (metric < 0) {
        const char *known[3 + 2 * SEQRT_MAX_METRICS];
        int nk = 0;
        known[nk++] = "loss";
        known[nk++] = "val_loss";
        for (int i = 0; i < m->nmetrics; i++) {
            known[nk++] = m->metric_label[i];
            known[nk++] = arena_printf("val_%s", m->metric_label[i]);
        }
        if (m->opt.settable_lr)
            known[nk++] = "learning_rate";
        error_unknown(lw, loc, "monitor", mon, known, nk,
                      arena_printf(" for %s (it must name the loss or a metric given to compile())", who));
        return -1;
    }
    if (mode == MONITOR_AUTO && !seqrt_metric_has_direction(m->metric[metric])) {
        diag_error(lw->src, loc, "%s cannot tell whether '%s' should be maximized or minimized (Keras raises for "
                   "it too): give mode=\"max\" or mode=\"min\"", who, mon);
        return -1;
    }
    *max = mode == MONITOR_MAX || (mode == MONITOR_AUTO && seqrt_metric_higher_is_better(m->metric[metric]));
    return 0;
}

/* The monitors name a quantity the training loop reports: loss, val_loss,
 * or a metric (by the name it is reported under, or any spelling of its
 * kind) with or without val_. */
int lower_check_callbacks(Lower *lw)
{
    Model *m = lw->m;
    int max, err = 0;
    if (m->es.enabled)
        err |= lower_monitor(lw, &m->es.monitor, m->es.mode, m->es.loc, "EarlyStopping", &max);
    for (int i = 0; i < m->ncb; i++) {
        seqrt_callback *cb = &m->cb[i].cb;
        if (cb->kind == SEQRT_CB_REDUCE_LR_ON_PLATEAU || cb->kind == SEQRT_CB_MODEL_CHECKPOINT)
            err |= lower_monitor(lw, &cb->monitor, cb->mode, m->cb[i].loc,
                                 cb->kind == SEQRT_CB_MODEL_CHECKPOINT ? "ModelCheckpoint" : "ReduceLROnPlateau",
                                 &max);
    }
    return err;
}

static const char *const callback_names[] = {
    "EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint", "CSVLogger", "TerminateOnNaN",
};

static int lower_fit(Lower *lw, const Value *call, int *seen)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    if ((*seen)++) {
        diag_error(src, name_loc(lw, call), "fit() appears twice in model '%s'", m->name);
        return -1;
    }
    Value *vals[MAX_ARGS];
    if (bind_call(lw, call, &spec_fit, vals) < 0)
        return -1;
    int err = 0;
    int64_t batch, epochs, seed, initial, vfreq;
    err |= lower_int(lw, "batch_size", 32, &batch);
    err |= lower_int(lw, "epochs", 1, &epochs);
    err |= lower_int(lw, "seed", 0, &seed);
    err |= lower_int(lw, "initial_epoch", 0, &initial);
    err |= lower_int(lw, "validation_freq", 1, &vfreq);
    err |= lower_float(lw, "validation_split", 0, &m->validation_split);
    err |= lower_bool(lw, "shuffle", 1, &m->shuffle);
    Value *verbose = lower_arg(lw, "verbose");
    m->verbose = 1;
    if (verbose) {
        if (verbose->kind == VAL_INT && verbose->i >= 0 && verbose->i <= 2)
            m->verbose = (int)verbose->i;
        else if (!((verbose->kind == VAL_STRING || verbose->kind == VAL_NAME) && !strcmp(verbose->s, "auto"))) {
            diag_error(src, verbose->loc, "verbose must be 0, 1, 2 or \"auto\"");
            err = -1;
        }
    }
    if (err)
        return err;
    if (batch <= 0 || batch > 1 << 24) {
        diag_error(src, lower_loc(lw, "batch_size"), "batch_size must be between 1 and 16777216");
        return -1;
    }
    if (epochs < 0 || epochs > INT32_MAX) {
        diag_error(src, lower_loc(lw, "epochs"), "epochs must be 0 or more");
        return -1;
    }
    if (initial < 0 || initial > INT32_MAX) {
        diag_error(src, lower_loc(lw, "initial_epoch"), "initial_epoch must be 0 or more");
        return -1;
    }
    if (vfreq != 1) {
        diag_error(src, lower_loc(lw, "validation_freq"), "validation_freq=%lld is not supported: seqc validates "
                   "after every epoch (validation_freq=1)", (long long)vfreq);
        return -1;
    }
    if (!(m->validation_split >= 0 && m->validation_split < 1)) {
        diag_error(src, lower_loc(lw, "validation_split"), "validation_split must be in [0, 1)");
        return -1;
    }
    m->batch_size = (int)batch;
    m->epochs = (int)epochs;
    m->initial_epoch = (int)initial;
    m->seed = seed;
    err |= lower_class_weight(lw, lower_arg(lw, "class_weight"));
    Value *cbs = lower_arg(lw, "callbacks");
    if (cbs && cbs->kind != VAL_NONE) {
        if (cbs->kind != VAL_LIST)
            return type_error(lw, cbs, "callbacks", "a list such as [EarlyStopping(patience=5)]");
        int order = 0;
        for (const Value *c = cbs->items; c; c = c->next, order++) {
            const char *name = c->kind == VAL_CALL ? strip_prefix(c->s) : NULL;
            if (c->kind != VAL_CALL) {
                err |= type_error(lw, c, "callbacks", "a list of calls such as EarlyStopping()");
            } else if (!name || lookup(name, callback_names, COUNT_OF(callback_names)) < 0) {
                if (name && keras_not_built("callback", name))
                    diag_error(src, name_loc(lw, c), "callback '%s' is a Keras callback seqc does not build", name);
                else
                    error_unknown(lw, name_loc(lw, c), "callback", name ? name : c->s, callback_names,
                                  COUNT_OF(callback_names), "");
                err = -1;
            } else if (!strcmp(name, "EarlyStopping")) {
                err |= lower_early_stopping(lw, c, order);
            } else {
                err |= lower_callback(lw, c, name, order);
            }
        }
    }
    return err;
}

/* ---------------------------------------------------------------- model checks */

/* The activation of the model's output: the last layer's (skipping the
 * activity_regularization layers that activity_regularizer= adds), or -1. */
static int output_activation(const Model *m)
{
    int i = m->nlayers - 1;
    while (i > 0 && m->layer[i].kind == &kind_activity_regularization)
        i--;
    const Layer *last = &m->layer[i];
    if (has_prop(last, LK_TAKES_ACT) || has_prop(last, LK_ACTIVATION))
        return last->act.kind;
    return -1;
}

/* What Keras decides from the shapes once they are known: the loss
 * "crossentropy", the metric "accuracy" (a one-unit output: binary; sparse
 * targets: sparse categorical; else categorical), and the metrics'
 * requirements. */
static int resolve_deferred(Lower *lw)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    int last = shape_last(&m->out_shape);
    if (m->has_loss && (int)m->loss == -1)
        m->loss = last == 1 ? SEQRT_LOSS_BINARY_CROSSENTROPY : SEQRT_LOSS_CATEGORICAL_CROSSENTROPY;
    int sparse = m->has_loss && m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    int err = 0;
    for (int i = 0; i < m->nmetrics; i++) {
        if ((int)m->metric[i] == -1)
            m->metric[i] = last == 1 ? SEQRT_METRIC_BINARY_ACCURACY
                         : sparse ? SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY
                                  : SEQRT_METRIC_CATEGORICAL_ACCURACY;
        seqrt_metric_kind k = m->metric[i];
        int needs_sparse = k == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY ||
                           k == SEQRT_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY ||
                           k == SEQRT_METRIC_SPARSE_CATEGORICAL_CROSSENTROPY;
        if (m->has_loss && needs_sparse != sparse) {
            if (needs_sparse)
                diag_error(src, m->metric_loc[i], "metric '%s' needs class-index targets, which only the loss "
                           "sparse_categorical_crossentropy reads", m->metric_label[i]);
            else
                diag_error(src, m->metric_loc[i], "metric '%s' needs targets of the output's shape, but "
                           "sparse_categorical_crossentropy reads class indices (\"accuracy\" resolves to the "
                           "sparse accuracy)", m->metric_label[i]);
            diag_note(src, m->loss_loc, "the loss is given here");
            err = -1;
        }
        if (m->metric_args[i].given && m->metric_args[i].class_id >= last) {
            diag_error(src, m->metric_loc[i], "metric '%s': class_id %d is beyond the model's %d outputs",
                       m->metric_label[i], m->metric_args[i].class_id, last);
            err = -1;
        }
        if (m->out_shape.rank > 1 && k == SEQRT_METRIC_R2_SCORE) {
            diag_error(src, m->metric_loc[i], "R2Score needs a flat output (Keras expects (batch, outputs))");
            err = -1;
        }
        if (m->out_shape.rank > 1) {   /* per-sample functions over the last axis */
            if (!m->metric_args[i].given)
                m->metric_args[i] = seqrt_metric_defaults(k);
            m->metric_args[i].axis_len = last;
        }
    }
    return err;
}

static int check_loss(Lower *lw)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    if (!m->has_loss)
        return 0;
    const Layer *last = &m->layer[m->nlayers - 1];
    int out_act = output_activation(m);
    int categorical = m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ||
                      m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    if (categorical && m->out < 2) {
        diag_error(src, m->loss_loc, "%s needs one output per class (at least 2), but the model has %d output",
                   seqrt_loss_name(m->loss), m->out);
        return -1;
    }
    if (categorical && m->out_shape.rank > 1) {
        diag_error(src, m->loss_loc, "%s needs a flat output (one score per class), but the model's output has "
                   "shape %s; add Flatten() before the last Dense layer", seqrt_loss_name(m->loss),
                   shape_str(&m->out_shape));
        return -1;
    }
    if (m->class_weight && m->out_shape.rank > 1) {
        diag_error(src, m->class_weight_loc, "class_weight needs a flat output (one row per sample), but the model's "
                   "output has shape %s", shape_str(&m->out_shape));
        return -1;
    }
    if (ir_param_count(m, 1) == 0) {
        diag_error(src, m->loss_loc, "model '%s' has a loss but no trainable parameters: add a Dense layer", m->name);
        return -1;
    }
    if (m->loss_on_logits)
        return 0;
    if (out_act == SEQRT_ACT_SOFTMAX && m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY) {
        /* Keras computes it elementwise on the probabilities; it trains,
         * though probably not as meant */
        diag_warning(src, m->loss_loc, "binary_crossentropy on a softmax output is computed elementwise on the "
                     "probabilities, as Keras does; for one class per sample categorical_crossentropy is probably "
                     "meant");
        diag_note(src, last->loc, "the softmax output is here");
        return 0;
    }
    if (m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && out_act != SEQRT_ACT_SIGMOID)
        diag_warning(src, m->loss_loc, "binary_crossentropy expects probabilities, but the output activation is "
                     "%s; use sigmoid, or BinaryCrossentropy(from_logits=True)",
                     out_act >= 0 ? seqrt_act_name(out_act) : "not sigmoid");
    if (categorical && out_act != SEQRT_ACT_SOFTMAX)
        diag_warning(src, m->loss_loc, "%s expects probabilities, but the output activation is %s; use softmax, "
                     "or from_logits=True", seqrt_loss_name(m->loss),
                     out_act >= 0 ? seqrt_act_name(out_act) : "not softmax");
    /* The loss is computed from the logits when the last layer's activation
     * is the one the loss expects: stable, and its gradient is p - y. */
    int last_is_output = last->kind != &kind_activity_regularization;
    if (last_is_output && ((m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && out_act == SEQRT_ACT_SIGMOID) ||
                           (categorical && out_act == SEQRT_ACT_SOFTMAX)))
        m->loss_from_logits = 1;
    return 0;
}

/* Input(shape=...) or InputLayer(...): the shape, or the batch shape
 * without its first axis (batch_shape, Keras 2's batch_input_shape), or
 * InputLayer's deprecated input_shape. sparse, ragged and optional must
 * be false. */
static int lower_input(Lower *lw, const Value *call, int layer)
{
    Model *m = lw->m;
    Value *vals[MAX_ARGS];
    if (bind_call(lw, call, layer ? &spec_input_layer : &spec_input, vals) < 0)
        return -1;
    if (m->nlayers > 0) {
        diag_error(lw->src, call->loc, "Input must come before the first layer");
        return -1;
    }
    static const char *const flags[] = {"sparse", "ragged", "optional"};
    for (int i = 0; i < 3; i++) {
        Value *v = lower_arg(lw, flags[i]);
        if (v && !(v->kind == VAL_NONE || (v->kind == VAL_BOOL && !v->i))) {
            diag_error(lw->src, v->loc, "%s=True inputs are not supported by seqc", flags[i]);
            return -1;
        }
    }
    static const char *const forms[] = {"shape", "input_shape", "batch_shape", "batch_input_shape"};
    const char *used = NULL;
    Value *shape = NULL;
    for (int i = 0; i < 4; i++) {
        if (!layer && i % 2)
            continue;
        Value *v = lower_arg(lw, forms[i]);
        if (!v || v->kind == VAL_NONE)
            continue;
        if (shape) {
            diag_error(lw->src, v->loc, "give either %s or %s, not both", used, forms[i]);
            return -1;
        }
        shape = v;
        used = forms[i];
    }
    if (!shape) {
        if (lw->default_input && lw->default_input->rank) {
            m->in_shape = *lw->default_input;
            return 0;
        }
        diag_error(lw->src, call->loc, "Input needs a shape, e.g. Input(shape=(10,)) (or pass --input-shape=10 to "
                   "seqc)");
        return -1;
    }
    if (!strcmp(used, "batch_shape") || !strcmp(used, "batch_input_shape")) {
        /* drop the batch axis: a leading None or batch size */
        if (shape->kind != VAL_LIST || !shape->items || !shape->items->next) {
            diag_error(lw->src, shape->loc, "%s needs the batch axis and at least one more, e.g. (None, 10)", used);
            return -1;
        }
        Value *rest = ast_list(shape->items->next, shape->loc);
        return set_input(lw, rest, used);
    }
    return set_input(lw, shape, used);
}

/* model.summary(line_length=None, positions=None, print_fn=None,
 * expand_nested=False, show_trainable=False, layer_range=None): printed
 * when seqc compiles the file (main.c), as Keras prints it when the script
 * runs. expand_nested changes nothing: a Sequential of seqc's layers has no
 * nested models. */
static int lower_summary(Lower *lw, const Value *call)
{
    Model *m = lw->m;
    Value *vals[MAX_ARGS];
    if (bind_call(lw, call, &spec_summary, vals) < 0)
        return -1;
    SummaryOptions *o = &m->summary_opts;
    memset(o, 0, sizeof *o);
    m->summary = 1;
    int err = 0, expand;
    err |= lower_bool(lw, "show_trainable", 0, &o->show_trainable);
    err |= lower_bool(lw, "expand_nested", 0, &expand);
    Value *ll = lower_arg(lw, "line_length");
    if (ll && ll->kind != VAL_NONE) {
        int64_t v;
        err |= get_int(lw, ll, "line_length", 0, &v);
        if (!err && (v < 20 || v > 1000)) {
            diag_error(lw->src, ll->loc, "line_length must be between 20 and 1000");
            err = -1;
        }
        o->line_length = (int)v;
    }
    Value *pv = lower_arg(lw, "positions");
    if (pv && pv->kind != VAL_NONE) {
        int n = 0;
        for (const Value *e = pv->kind == VAL_LIST ? pv->items : NULL; e && n < 4; e = e->next)
            if (get_float(lw, e, "positions", 0, &o->positions[n++]))
                return -1;
        if (pv->kind != VAL_LIST || n != 3 || !(o->positions[0] > 0 && o->positions[0] < o->positions[1] &&
                                                o->positions[1] < o->positions[2] && o->positions[2] <= 1)) {
            diag_error(lw->src, pv->loc, "positions must be three increasing fractions of the line, such as "
                       "[0.45, 0.8, 1.0]");
            return -1;
        }
        o->npositions = 3;
    }
    return err;
}

static Model *lower_model(Lower *lw, ModelAst *ma)
{
    const Source *src = lw->src;
    Model *m = arena_alloc(sizeof *m);
    lw->m = m;
    m->name = ma->name;
    m->loc = ma->name_loc;
    m->src = src;
    m->opt.kind = SEQRT_OPT_RMSPROP;   /* Keras compile()'s default */
    m->opt.lr = 0.001;
    m->opt.rho = 0.9;
    m->opt.epsilon = 1e-7;
    m->batch_size = 32;
    m->epochs = 1;
    m->shuffle = 1;
    m->verbose = 1;
    m->input_buf = -1;
    m->loss_delta = 1.0;
    int err = 0, ncompile = 0, nfit = 0, index = 0;
    if (lookup(m->name, reserved_names, COUNT_OF(reserved_names)) >= 0) {
        diag_error(src, ma->name_loc, "'%s' cannot name a model: it is a C keyword or a name the generated code uses",
                   m->name);
        err = -1;
    }
    for (Value *st = ma->stmts; st; st = st->next) {
        if (st->kind != VAL_CALL) {
            err = -1;   /* a statement the parser skipped (None): already reported */
            continue;
        }
        const char *name = strip_prefix(st->s);
        Value *call = st;
        if (name && !strcmp(name, "add")) {
            if (!call->args || call->args->key || call->args->next || call->args->val->kind != VAL_CALL) {
                diag_error(src, call->loc, "add() takes one layer, e.g. add(Dense(64))");
                err = -1;
                continue;
            }
            call = call->args->val;
            name = strip_prefix(call->s);
        }
        int nnames;
        const char *const *names = statement_names(&nnames);
        if (!name) {
            error_unknown(lw, name_loc(lw, call), "statement", call->s, names, nnames, "");
            err = -1;
            continue;
        }
        const LayerKind *kind;
        const Syntax *syn = find_syntax(name, &kind);
        if (syn) {
            err |= lower_layer(lw, kind, syn, call, index++);
        } else if (!strcmp(name, "Input") || !strcmp(name, "InputLayer")) {
            err |= lower_input(lw, call, !strcmp(name, "InputLayer"));
        } else if (!strcmp(name, "compile")) {
            err |= lower_compile(lw, call, &ncompile);
        } else if (!strcmp(name, "fit")) {
            err |= lower_fit(lw, call, &nfit);
        } else if (!strcmp(name, "summary")) {
            err |= lower_summary(lw, call);
        } else {
            int torch = -1;
            for (int i = 0; i < COUNT_OF(torch_names); i++)
                if (!strcmp(name, torch_names[i][0]))
                    torch = i;
            if (torch >= 0)
                diag_error(src, name_loc(lw, call), "unknown layer '%s'; the Keras name is %s", name,
                           torch_names[torch][1]);
            else if (keras_not_built("layer", name))
                diag_error(src, name_loc(lw, call), "layer '%s' is a Keras layer seqc does not build", name);
            else
                error_unknown(lw, name_loc(lw, call), "layer", name, names, nnames, "");
            err = -1;
        }
    }
    if (err)
        return NULL;
    if (m->nlayers == 0) {
        diag_error(src, ma->name_loc, "model '%s' has no layers", m->name);
        return NULL;
    }
    if (!m->in_shape.rank && lw->default_input && lw->default_input->rank)
        m->in_shape = *lw->default_input;
    if (!m->in_shape.rank) {
        diag_error(src, m->layer[0].loc, "the input shape is not given, and seqc needs it when it compiles (Keras "
                   "builds the model from the first batch): add `Input(shape=(n,))` before the first layer "
                   "(or input_shape=(n,) on it), or pass --input-shape=n to seqc");
        return NULL;
    }
    if (ir_infer_shapes(m) < 0)
        return NULL;
    if (resolve_deferred(lw) < 0 || check_loss(lw) < 0 || lower_check_callbacks(lw) < 0)
        return NULL;
    return m;
}

Program *lower_program(const Source *src, ModelAst *models)
{
    return lower_program_with(src, models, NULL);
}

Program *lower_program_with(const Source *src, ModelAst *models, const Shape *default_input)
{
    ir_check_kinds();
    Lower lw = {.src = src, .default_input = default_input};
    memset(&auto_names, 0, sizeof auto_names);
    Program *p = arena_alloc(sizeof *p);
    int n = 0;
    for (ModelAst *ma = models; ma; ma = ma->next)
        n++;
    p->model = arena_alloc(sizeof(Model *) * (size_t)(n + 1));
    for (ModelAst *ma = models; ma; ma = ma->next) {
        int dup = 0;
        for (ModelAst *prev = models; prev != ma; prev = prev->next)
            if (!strcmp(prev->name, ma->name)) {
                diag_error(src, ma->name_loc, "model '%s' is defined twice", ma->name);
                diag_note(src, prev->name_loc, "the first definition is here");
                dup = 1;
                break;
            }
        if (dup)
            continue;
        Model *m = lower_model(&lw, ma);
        if (m)
            p->model[p->n++] = m;
    }
    return p;
}
