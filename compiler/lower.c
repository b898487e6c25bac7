/*
 * lower.c - from the syntax tree to the IR, with Keras's names and defaults.
 *
 * Every call a model file may contain is described by one table: its Keras
 * name and its arguments in Keras's positional order, each with a type.
 * bind() matches a call's arguments against its table (positional first,
 * then keywords; unknown names get a "did you mean" hint; duplicates and
 * type mismatches are errors), and the lower_* function for the call reads
 * the bound values with the Keras default for any that is absent. Errors
 * carry the location of the offending argument, or of the call; a model
 * with errors is reported completely and then dropped.
 *
 * Shape inference and parameter naming are ir.c's job (ir_infer_shapes),
 * called once all statements of a model have been read.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seqc.h"

/* ---------------------------------------------------------------- tables */

typedef enum {
    T_INT,       /* integer */
    T_FLOAT,     /* integer or float */
    T_BOOL,
    T_STR,       /* string or bare name */
    T_ACT,       /* activation name or None */
    T_INIT,      /* initializer name */
    T_SHAPE,     /* list of positive integers, or one integer */
    T_NONE,      /* a Keras argument seqc does not support: only None */
    T_IGNORED,   /* accepted and ignored (name=, dtype=) */
    T_ANY        /* checked by the lowering function */
} ArgType;

typedef struct {
    const char *name;
    ArgType type;
} ArgSpec;

#define MAX_ARGS 24

typedef struct {
    const char *name;
    int npositional;          /* how many leading args may be positional */
    ArgSpec args[MAX_ARGS];
} CallSpec;

/* Arguments every Keras layer accepts through **kwargs. */
#define LAYER_KWARGS                                                     \
    {"input_shape", T_SHAPE}, {"input_dim", T_INT}, {"name", T_IGNORED}, \
    {"dtype", T_IGNORED}, {"trainable", T_BOOL}

static const CallSpec spec_dense = {"Dense", 2, {
    {"units", T_INT}, {"activation", T_ACT}, {"use_bias", T_BOOL},
    {"kernel_initializer", T_INIT}, {"bias_initializer", T_INIT},
    {"kernel_regularizer", T_NONE}, {"bias_regularizer", T_NONE},
    {"activity_regularizer", T_NONE}, {"kernel_constraint", T_NONE},
    {"bias_constraint", T_NONE}, LAYER_KWARGS}};
static const CallSpec spec_activation = {"Activation", 1, {
    {"activation", T_ACT}, LAYER_KWARGS}};
static const CallSpec spec_batchnorm = {"BatchNormalization", 5, {
    {"axis", T_INT}, {"momentum", T_FLOAT}, {"epsilon", T_FLOAT},
    {"center", T_BOOL}, {"scale", T_BOOL},
    {"beta_initializer", T_INIT}, {"gamma_initializer", T_INIT},
    {"moving_mean_initializer", T_INIT}, {"moving_variance_initializer", T_INIT},
    {"beta_regularizer", T_NONE}, {"gamma_regularizer", T_NONE},
    {"beta_constraint", T_NONE}, {"gamma_constraint", T_NONE},
    {"synchronized", T_BOOL}, LAYER_KWARGS}};
static const CallSpec spec_layernorm = {"LayerNormalization", 4, {
    {"axis", T_INT}, {"epsilon", T_FLOAT}, {"center", T_BOOL},
    {"scale", T_BOOL}, {"beta_initializer", T_INIT},
    {"gamma_initializer", T_INIT}, {"beta_regularizer", T_NONE},
    {"gamma_regularizer", T_NONE}, {"beta_constraint", T_NONE},
    {"gamma_constraint", T_NONE}, LAYER_KWARGS}};
static const CallSpec spec_dropout = {"Dropout", 3, {
    {"rate", T_FLOAT}, {"noise_shape", T_NONE}, {"seed", T_INT}, LAYER_KWARGS}};
static const CallSpec spec_flatten = {"Flatten", 1, {
    {"data_format", T_NONE}, LAYER_KWARGS}};
static const CallSpec spec_relu = {"ReLU", 3, {
    {"max_value", T_NONE}, {"negative_slope", T_FLOAT}, {"threshold", T_FLOAT},
    LAYER_KWARGS}};
static const CallSpec spec_softmax = {"Softmax", 1, {
    {"axis", T_INT}, LAYER_KWARGS}};
static const CallSpec spec_normalization = {"Normalization", 3, {
    {"axis", T_INT}, {"mean", T_NONE}, {"variance", T_NONE},
    {"invert", T_BOOL}, LAYER_KWARGS}};
static const CallSpec spec_input = {"Input", 2, {
    {"shape", T_SHAPE}, {"batch_size", T_INT}, {"name", T_IGNORED},
    {"dtype", T_IGNORED}, {"sparse", T_NONE}, {"batch_shape", T_NONE}}};
static const CallSpec spec_compile = {"compile", 3, {
    {"optimizer", T_ANY}, {"loss", T_ANY}, {"metrics", T_ANY},
    {"loss_weights", T_NONE}, {"weighted_metrics", T_NONE},
    {"run_eagerly", T_IGNORED}, {"steps_per_execution", T_IGNORED},
    {"jit_compile", T_IGNORED}, {"auto_scale_loss", T_IGNORED}}};
static const CallSpec spec_fit = {"fit", 0, {
    {"x", T_NONE}, {"y", T_NONE}, {"batch_size", T_INT}, {"epochs", T_INT},
    {"verbose", T_ANY}, {"callbacks", T_ANY}, {"validation_split", T_FLOAT},
    {"validation_data", T_NONE}, {"shuffle", T_BOOL}, {"class_weight", T_NONE},
    {"sample_weight", T_NONE}, {"initial_epoch", T_IGNORED},
    {"steps_per_epoch", T_NONE}, {"validation_steps", T_NONE},
    {"validation_batch_size", T_IGNORED}, {"validation_freq", T_IGNORED},
    {"seed", T_INT}}};
static const CallSpec spec_sgd = {"SGD", 3, {
    {"learning_rate", T_FLOAT}, {"momentum", T_FLOAT}, {"nesterov", T_BOOL},
    {"weight_decay", T_NONE}, {"clipnorm", T_NONE}, {"clipvalue", T_NONE},
    {"global_clipnorm", T_NONE}, {"name", T_IGNORED}}};
static const CallSpec spec_adam = {"Adam", 5, {
    {"learning_rate", T_FLOAT}, {"beta_1", T_FLOAT}, {"beta_2", T_FLOAT},
    {"epsilon", T_FLOAT}, {"amsgrad", T_BOOL}, {"weight_decay", T_NONE},
    {"clipnorm", T_NONE}, {"clipvalue", T_NONE}, {"global_clipnorm", T_NONE},
    {"name", T_IGNORED}}};
static const CallSpec spec_adamw = {"AdamW", 6, {
    {"learning_rate", T_FLOAT}, {"weight_decay", T_FLOAT}, {"beta_1", T_FLOAT},
    {"beta_2", T_FLOAT}, {"epsilon", T_FLOAT}, {"amsgrad", T_BOOL},
    {"clipnorm", T_NONE}, {"clipvalue", T_NONE}, {"global_clipnorm", T_NONE},
    {"name", T_IGNORED}}};
static const CallSpec spec_rmsprop = {"RMSprop", 5, {
    {"learning_rate", T_FLOAT}, {"rho", T_FLOAT}, {"momentum", T_FLOAT},
    {"epsilon", T_FLOAT}, {"centered", T_BOOL}, {"weight_decay", T_NONE},
    {"clipnorm", T_NONE}, {"clipvalue", T_NONE}, {"global_clipnorm", T_NONE},
    {"name", T_IGNORED}}};
static const CallSpec spec_early_stopping = {"EarlyStopping", 8, {
    {"monitor", T_STR}, {"min_delta", T_FLOAT}, {"patience", T_INT},
    {"verbose", T_IGNORED}, {"mode", T_STR}, {"baseline", T_NONE},
    {"restore_best_weights", T_BOOL}, {"start_from_epoch", T_INT}}};
static const CallSpec spec_loss_call = {"loss", 1, {
    {"from_logits", T_BOOL}, {"reduction", T_IGNORED}, {"name", T_IGNORED},
    {"delta", T_FLOAT}, {"label_smoothing", T_NONE}, {"axis", T_INT}}};
static const CallSpec spec_metric_call = {"metric", 0, {
    {"name", T_IGNORED}, {"dtype", T_IGNORED}, {"threshold", T_FLOAT}}};

static const CallSpec *const layer_specs[] = {
    &spec_dense, &spec_activation, &spec_batchnorm, &spec_layernorm,
    &spec_dropout, &spec_flatten, &spec_relu, &spec_softmax,
    &spec_normalization,
};

/* Names a user coming from PyTorch may write, with the Keras name. */
static const char *const torch_names[][2] = {
    {"Linear", "Dense"}, {"BatchNorm1d", "BatchNormalization"},
    {"LayerNorm", "LayerNormalization"}, {"Sigmoid", "Activation(\"sigmoid\")"},
    {"Tanh", "Activation(\"tanh\")"},
};

/* Statement names, for "did you mean". */
static const char *const statement_names[] = {
    "Dense", "Activation", "BatchNormalization", "LayerNormalization",
    "Dropout", "Flatten", "ReLU", "Softmax", "Normalization", "Input",
    "InputLayer", "compile", "fit", "add",
};

static const char *const act_names[] = {
#define ACT(id, name) name,
#include "seqrt_acts.def"
#undef ACT
};

static const char *const init_names[] = {
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform",
    "he_normal", "lecun_uniform", "lecun_normal", "random_uniform",
    "random_normal",
};
static const char *const init_class_names[] = {
    "Zeros", "Ones", "GlorotUniform", "GlorotNormal", "HeUniform",
    "HeNormal", "LecunUniform", "LecunNormal", "RandomUniform",
    "RandomNormal",
};

static const struct {
    const char *name;
    int loss;
} loss_names[] = {
    {"mae", SEQRT_LOSS_MAE},
    {"mean_absolute_error", SEQRT_LOSS_MAE},
    {"MeanAbsoluteError", SEQRT_LOSS_MAE},
    {"mse", SEQRT_LOSS_MSE},
    {"mean_squared_error", SEQRT_LOSS_MSE},
    {"MeanSquaredError", SEQRT_LOSS_MSE},
    {"huber", SEQRT_LOSS_HUBER},
    {"Huber", SEQRT_LOSS_HUBER},
    {"binary_crossentropy", SEQRT_LOSS_BINARY_CROSSENTROPY},
    {"BinaryCrossentropy", SEQRT_LOSS_BINARY_CROSSENTROPY},
    {"categorical_crossentropy", SEQRT_LOSS_CATEGORICAL_CROSSENTROPY},
    {"CategoricalCrossentropy", SEQRT_LOSS_CATEGORICAL_CROSSENTROPY},
    {"sparse_categorical_crossentropy", SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY},
    {"SparseCategoricalCrossentropy", SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY},
};

static const struct {
    const char *name;
    int metric;        /* -1: "accuracy", resolved from the loss */
} metric_names[] = {
    {"accuracy", -1},
    {"acc", -1},
    {"binary_accuracy", SEQRT_METRIC_BINARY_ACCURACY},
    {"BinaryAccuracy", SEQRT_METRIC_BINARY_ACCURACY},
    {"categorical_accuracy", SEQRT_METRIC_CATEGORICAL_ACCURACY},
    {"CategoricalAccuracy", SEQRT_METRIC_CATEGORICAL_ACCURACY},
    {"sparse_categorical_accuracy", SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY},
    {"SparseCategoricalAccuracy", SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY},
    {"mae", SEQRT_METRIC_MAE},
    {"mean_absolute_error", SEQRT_METRIC_MAE},
    {"MeanAbsoluteError", SEQRT_METRIC_MAE},
    {"mse", SEQRT_METRIC_MSE},
    {"mean_squared_error", SEQRT_METRIC_MSE},
    {"MeanSquaredError", SEQRT_METRIC_MSE},
};

static const struct {
    const char *name;
    int kind;
    const CallSpec *spec;
} optimizer_names[] = {
    {"sgd", SEQRT_OPT_SGD, &spec_sgd},
    {"adam", SEQRT_OPT_ADAM, &spec_adam},
    {"adamw", SEQRT_OPT_ADAMW, &spec_adamw},
    {"rmsprop", SEQRT_OPT_RMSPROP, &spec_rmsprop},
};

/* Module prefixes a Keras user writes before a name; stripped. */
static const char *const prefixes[] = {
    "tf", "keras", "layers", "optimizers", "callbacks", "losses", "metrics",
    "activations", "initializers", "model", "nn",
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

/* ---------------------------------------------------------------- helpers */

static const Source *src;   /* of the model being lowered */

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

static void error_unknown(Loc loc, const char *what, const char *name,
                          const char *const *names, int n, const char *where)
{
    const char *s = diag_suggest(name, names, n);
    if (s)
        diag_error(src, loc, "unknown %s '%s'%s; did you mean '%s'?", what, name, where, s);
    else
        diag_error(src, loc, "unknown %s '%s'%s", what, name, where);
}

/* The span of a call's dotted name ("keras.layers.Dense" in
 * "keras.layers.Dense(64)"): where an error about the name points. */
static Loc name_loc(const Value *call)
{
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

/* Binds a call's arguments to its spec: out[i] is the value of spec arg i
 * or NULL. Returns 0, or -1 after reporting errors. */
static int bind(const Value *call, const CallSpec *spec, Value **out)
{
    int nspec, err = 0, pos = 0, seen_kw = 0;
    const char *const *names = names_of(spec, &nspec);
    for (int i = 0; i < nspec; i++)
        out[i] = NULL;
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
            error_unknown(a->key_loc, "argument", a->key, names, nspec,
                          arena_printf(" to %s", spec->name));
            err = -1;
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
            diag_error(src, out[i]->loc, "argument '%s' of %s is not supported by seqc (only None)",
                       names[i], spec->name);
            err = -1;
        }
    }
    return err;
}

static int arg_index(const CallSpec *spec, const char *name)
{
    for (int i = 0; i < MAX_ARGS && spec->args[i].name; i++)
        if (!strcmp(spec->args[i].name, name))
            return i;
    abort();   /* a name not in the table: a bug in this file */
}

#define ARG(spec, vals, name) ((vals)[arg_index((spec), (name))])

static int type_error(const Value *v, const char *name, const char *want)
{
    diag_error(src, v->loc, "argument '%s' must be %s, not %s", name, want, ast_kind_name(v->kind));
    return -1;
}

static int get_int(const Value *v, const char *name, int64_t def, int64_t *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_INT)
        return type_error(v, name, "an integer");
    *out = v->i;
    return 0;
}

static int get_float(const Value *v, const char *name, double def, double *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_INT && v->kind != VAL_FLOAT)
        return type_error(v, name, "a number");
    *out = v->f;
    return 0;
}

static int get_bool(const Value *v, const char *name, int def, int *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_BOOL)
        return type_error(v, name, "True or False");
    *out = (int)v->i;
    return 0;
}

static int get_str(const Value *v, const char *name, const char *def, const char **out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_STRING && v->kind != VAL_NAME)
        return type_error(v, name, "a string");
    *out = v->s;
    return 0;
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* activation="relu", activation=relu, keras.activations.relu, None */
static int get_act(const Value *v, const char *argname, int *out)
{
    *out = SEQRT_ACT_LINEAR;
    if (!v || v->kind == VAL_NONE)
        return 0;
    if (v->kind != VAL_STRING && v->kind != VAL_NAME)
        return type_error(v, argname, "an activation name");
    const char *s = v->kind == VAL_NAME ? strip_prefix(v->s) : v->s;
    if (!s)
        s = v->s;
    if (!strcmp(s, "swish"))
        s = "silu";
    int a = lookup(s, act_names, COUNT_OF(act_names));
    if (a < 0) {
        error_unknown(v->loc, "activation", s, act_names, COUNT_OF(act_names), "");
        return -1;
    }
    *out = a;
    return 0;
}

static int get_init(const Value *v, const char *argname, int def, int *out)
{
    *out = def;
    if (!v)
        return 0;
    const char *s = NULL;
    if (v->kind == VAL_STRING || v->kind == VAL_NAME)
        s = v->kind == VAL_NAME ? strip_prefix(v->s) : v->s;
    else if (v->kind == VAL_CALL && !v->args)
        s = strip_prefix(v->s);
    else
        return type_error(v, argname, "an initializer name");
    if (!s)
        s = v->s;
    int k = lookup(s, init_names, COUNT_OF(init_names));
    if (k < 0)
        k = lookup(s, init_class_names, COUNT_OF(init_class_names));
    if (k < 0) {
        error_unknown(v->loc, "initializer", s, init_names, COUNT_OF(init_names), "");
        return -1;
    }
    *out = k;
    return 0;
}

/* input_shape=[28, 28, 1], (10,), 10 */
static int get_shape(const Value *v, const char *argname, int *dims, int *rank)
{
    *rank = 0;
    if (v->kind == VAL_INT) {
        if (v->i <= 0 || v->i > INT32_MAX) {
            diag_error(src, v->loc, "'%s' must be positive and below 2^31", argname);
            return -1;
        }
        dims[(*rank)++] = (int)v->i;
        return 0;
    }
    if (v->kind != VAL_LIST)
        return type_error(v, argname, "a list of sizes such as [10]");
    for (const Value *e = v->items; e; e = e->next) {
        if (e->kind == VAL_NONE && *rank == 0 && e->next) {
            continue;   /* batch_input_shape-style leading None */
        }
        if (e->kind != VAL_INT)
            return type_error(e, argname, "a list of integers");
        if (e->i <= 0 || e->i > INT32_MAX) {
            diag_error(src, e->loc, "every size in '%s' must be positive and below 2^31", argname);
            return -1;
        }
        if (*rank == 8) {
            diag_error(src, e->loc, "'%s' has more than 8 dimensions", argname);
            return -1;
        }
        dims[(*rank)++] = (int)e->i;
    }
    if (*rank == 0) {
        diag_error(src, v->loc, "'%s' is empty", argname);
        return -1;
    }
    long long n = 1;
    for (int i = 0; i < *rank && n <= INT32_MAX; i++)
        n *= dims[i];
    if (n > INT32_MAX) {
        diag_error(src, v->loc, "the input shape has more than 2^31-1 elements");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- layers */

static int set_input(Model *m, const Value *shape, const char *argname)
{
    if (m->in_rank) {
        diag_error(src, shape->loc, "the input shape is given twice");
        return -1;
    }
    return get_shape(shape, argname, m->in_shape, &m->in_rank);
}

/* input_shape / input_dim on a layer: only on the first. */
static int layer_input(Model *m, const CallSpec *spec, Value **vals)
{
    Value *shape = ARG(spec, vals, "input_shape");
    Value *dim = ARG(spec, vals, "input_dim");
    int err = 0;
    if (shape && dim) {
        diag_error(src, dim->loc, "give either input_shape or input_dim, not both");
        return -1;
    }
    Value *v = shape ? shape : dim;
    if (v) {
        if (m->nlayers > 0) {
            diag_error(src, v->loc, "only the first layer can give the input shape");
            return -1;
        }
        err = set_input(m, v, shape ? "input_shape" : "input_dim");
    }
    Value *tr = ARG(spec, vals, "trainable");
    if (tr && !(tr->kind == VAL_BOOL && tr->i)) {
        diag_error(src, tr->loc, "trainable=False is not supported by seqc");
        err = -1;
    }
    return err;
}

static int check_axis(const CallSpec *spec, Value **vals)
{
    int64_t axis;
    if (get_int(ARG(spec, vals, "axis"), "axis", -1, &axis))
        return -1;
    if (axis != -1 && axis != 1) {
        diag_error(src, ARG(spec, vals, "axis")->loc,
                   "%s over axis %lld is not supported; seqc models are 1-D: use axis=-1",
                   spec->name, (long long)axis);
        return -1;
    }
    return 0;
}

static int lower_layer(Model *m, const CallSpec *spec, const Value *call, int index)
{
    Value *vals[MAX_ARGS];
    if (bind(call, spec, vals) < 0)
        return -1;
    if (layer_input(m, spec, vals) < 0)
        return -1;
    int err = 0;
    Layer *l;
    if (spec == &spec_dense) {
        Value *u = ARG(spec, vals, "units");
        l = ir_add_layer(m, OP_DENSE, index, call->loc);
        int64_t units;
        if (!u) {
            diag_error(src, call->loc, "Dense needs the number of units, e.g. Dense(64)");
            return -1;
        }
        err |= get_int(u, "units", 0, &units);
        if (!err && (units <= 0 || units > INT32_MAX)) {
            diag_error(src, u->loc, "Dense needs a positive number of units below 2^31, not %.*s",
                       u->loc.end - u->loc.start, src->text + u->loc.start);
            err = -1;
        }
        l->out = (int)units;
        err |= get_act(ARG(spec, vals, "activation"), "activation", &l->act);
        err |= get_bool(ARG(spec, vals, "use_bias"), "use_bias", 1, &l->use_bias);
        err |= get_init(ARG(spec, vals, "kernel_initializer"), "kernel_initializer",
                        SEQRT_INIT_GLOROT_UNIFORM, &l->kernel_init);
        err |= get_init(ARG(spec, vals, "bias_initializer"), "bias_initializer",
                        SEQRT_INIT_ZEROS, &l->bias_init);
    } else if (spec == &spec_activation) {
        Value *a = ARG(spec, vals, "activation");
        l = ir_add_layer(m, OP_ACTIVATION, index, call->loc);
        if (!a) {
            diag_error(src, call->loc, "Activation needs an activation name, e.g. Activation(\"relu\")");
            return -1;
        }
        err |= get_act(a, "activation", &l->act);
    } else if (spec == &spec_relu || spec == &spec_softmax) {
        l = ir_add_layer(m, OP_ACTIVATION, index, call->loc);
        l->act = spec == &spec_relu ? SEQRT_ACT_RELU : SEQRT_ACT_SOFTMAX;
        if (spec == &spec_relu) {
            double slope, thr;
            err |= get_float(ARG(spec, vals, "negative_slope"), "negative_slope", 0, &slope);
            err |= get_float(ARG(spec, vals, "threshold"), "threshold", 0, &thr);
            if (!err && (slope != 0 || thr != 0)) {
                diag_error(src, ARG(spec, vals, slope != 0 ? "negative_slope" : "threshold")->loc,
                           "ReLU with negative_slope or threshold is not supported; "
                           "use Activation(\"leaky_relu\") for a slope of 0.2");
                err = -1;
            }
        } else {
            err |= check_axis(spec, vals);
        }
    } else if (spec == &spec_batchnorm || spec == &spec_layernorm) {
        int bn = spec == &spec_batchnorm;
        l = ir_add_layer(m, bn ? OP_BATCHNORM : OP_LAYERNORM, index, call->loc);
        err |= check_axis(spec, vals);
        if (bn)
            err |= get_float(ARG(spec, vals, "momentum"), "momentum", 0.99, &l->momentum);
        err |= get_float(ARG(spec, vals, "epsilon"), "epsilon", 1e-3, &l->epsilon);
        err |= get_bool(ARG(spec, vals, "center"), "center", 1, &l->center);
        err |= get_bool(ARG(spec, vals, "scale"), "scale", 1, &l->scale);
        int init;
        err |= get_init(ARG(spec, vals, "beta_initializer"), "beta_initializer", SEQRT_INIT_ZEROS, &init);
        if (!err && init != SEQRT_INIT_ZEROS) {
            diag_error(src, ARG(spec, vals, "beta_initializer")->loc, "only beta_initializer=\"zeros\" is supported");
            err = -1;
        }
        err |= get_init(ARG(spec, vals, "gamma_initializer"), "gamma_initializer", SEQRT_INIT_ONES, &init);
        if (!err && init != SEQRT_INIT_ONES) {
            diag_error(src, ARG(spec, vals, "gamma_initializer")->loc, "only gamma_initializer=\"ones\" is supported");
            err = -1;
        }
        if (bn && !err && (l->momentum < 0 || l->momentum > 1)) {
            diag_error(src, ARG(spec, vals, "momentum")->loc, "momentum must be in [0, 1]");
            err = -1;
        }
        if (!err && !(l->epsilon > 0)) {
            diag_error(src, ARG(spec, vals, "epsilon")->loc, "epsilon must be positive");
            err = -1;
        }
    } else if (spec == &spec_dropout) {
        Value *r = ARG(spec, vals, "rate");
        l = ir_add_layer(m, OP_DROPOUT, index, call->loc);
        l->seed = -1;
        if (!r) {
            diag_error(src, call->loc, "Dropout needs a rate, e.g. Dropout(0.5)");
            return -1;
        }
        err |= get_float(r, "rate", 0, &l->rate);
        err |= get_int(ARG(spec, vals, "seed"), "seed", -1, &l->seed);
        if (!err && !(l->rate >= 0 && l->rate < 1)) {
            diag_error(src, r->loc, "dropout rate must be in [0, 1), not %g", l->rate);
            err = -1;
        }
    } else if (spec == &spec_flatten) {
        l = ir_add_layer(m, OP_FLATTEN, index, call->loc);
    } else {
        l = ir_add_layer(m, OP_NORMALIZATION, index, call->loc);
        err |= check_axis(spec, vals);
        int invert;
        err |= get_bool(ARG(spec, vals, "invert"), "invert", 0, &invert);
        if (!err && invert) {
            diag_error(src, ARG(spec, vals, "invert")->loc, "Normalization(invert=True) is not supported");
            err = -1;
        }
        if (!err && m->nlayers != 1) {
            diag_error(src, call->loc, "Normalization must be the first layer: seqc adapts it to the input features");
            err = -1;
        }
    }
    return err;
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

static int lower_optimizer(Model *m, const Value *v)
{
    Optimizer *o = &m->opt;
    o->loc = v->loc;
    const char *name = spelled_name(v);
    if (!name)
        return type_error(v, "optimizer", "an optimizer name or call such as Adam(learning_rate=0.001)");
    int k = -1;
    const char *lname[COUNT_OF(optimizer_names)];
    for (int i = 0; i < COUNT_OF(optimizer_names); i++) {
        lname[i] = optimizer_names[i].name;
        if (!strcasecmp(name, optimizer_names[i].name))
            k = i;
    }
    if (k < 0) {
        error_unknown(v->kind == VAL_CALL ? name_loc(v) : v->loc, "optimizer", name, lname,
                      COUNT_OF(optimizer_names), "");
        return -1;
    }
    const CallSpec *spec = optimizer_names[k].spec;
    Value *vals[MAX_ARGS] = {0};
    if (v->kind == VAL_CALL && bind(v, spec, vals) < 0)
        return -1;
    o->kind = optimizer_names[k].kind;
    int err = 0;
    double lr_def = o->kind == SEQRT_OPT_SGD ? 0.01 : 0.001;
    err |= get_float(ARG(spec, vals, "learning_rate"), "learning_rate", lr_def, &o->lr);
    if (!err && !(o->lr > 0 && isfinite(o->lr))) {
        diag_error(src, ARG(spec, vals, "learning_rate")->loc, "learning_rate must be positive");
        err = -1;
    }
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        err |= get_float(ARG(spec, vals, "momentum"), "momentum", 0, &o->momentum);
        err |= get_bool(ARG(spec, vals, "nesterov"), "nesterov", 0, &o->nesterov);
        if (!err && !(o->momentum >= 0 && o->momentum <= 1)) {
            diag_error(src, ARG(spec, vals, "momentum")->loc, "momentum must be in [0, 1]");
            err = -1;
        }
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        err |= get_float(ARG(spec, vals, "beta_1"), "beta_1", 0.9, &o->beta1);
        err |= get_float(ARG(spec, vals, "beta_2"), "beta_2", 0.999, &o->beta2);
        err |= get_float(ARG(spec, vals, "epsilon"), "epsilon", 1e-7, &o->epsilon);
        if (o->kind == SEQRT_OPT_ADAMW)
            err |= get_float(ARG(spec, vals, "weight_decay"), "weight_decay", 0.004, &o->weight_decay);
        {
            int ams;
            err |= get_bool(ARG(spec, vals, "amsgrad"), "amsgrad", 0, &ams);
            if (!err && ams) {
                diag_error(src, ARG(spec, vals, "amsgrad")->loc, "amsgrad=True is not supported");
                err = -1;
            }
        }
        if (!err && !(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1)) {
            diag_error(src, v->loc, "beta_1 and beta_2 must be in [0, 1)");
            err = -1;
        }
        break;
    case SEQRT_OPT_RMSPROP:
        err |= get_float(ARG(spec, vals, "rho"), "rho", 0.9, &o->rho);
        err |= get_float(ARG(spec, vals, "momentum"), "momentum", 0, &o->momentum);
        err |= get_float(ARG(spec, vals, "epsilon"), "epsilon", 1e-7, &o->epsilon);
        if (!err && !(o->rho >= 0 && o->rho < 1)) {
            diag_error(src, ARG(spec, vals, "rho")->loc, "rho must be in [0, 1)");
            err = -1;
        }
        if (!err && !(o->momentum >= 0 && o->momentum <= 1)) {
            diag_error(src, ARG(spec, vals, "momentum")->loc, "momentum must be in [0, 1]");
            err = -1;
        }
        {
            int centered;
            err |= get_bool(ARG(spec, vals, "centered"), "centered", 0, &centered);
            if (!err && centered) {
                diag_error(src, ARG(spec, vals, "centered")->loc, "centered=True is not supported");
                err = -1;
            }
        }
        break;
    }
    if (!err && o->kind != SEQRT_OPT_SGD && !(o->epsilon > 0 && isfinite(o->epsilon))) {
        diag_error(src, ARG(spec, vals, "epsilon") ? ARG(spec, vals, "epsilon")->loc : v->loc,
                   "epsilon must be positive");
        err = -1;
    }
    if (!err && !(o->weight_decay >= 0 && isfinite(o->weight_decay))) {
        diag_error(src, ARG(spec, vals, "weight_decay") ? ARG(spec, vals, "weight_decay")->loc : v->loc,
                   "weight_decay must be 0 or more");
        err = -1;
    }
    return err;
}

static int lower_loss(Model *m, const Value *v)
{
    const char *name = spelled_name(v);
    if (!name)
        return type_error(v, "loss", "a loss name such as \"mse\"");
    const char *names[COUNT_OF(loss_names)];
    int k = -1;
    for (int i = 0; i < COUNT_OF(loss_names); i++) {
        names[i] = loss_names[i].name;
        if (!strcmp(name, names[i]))
            k = i;
    }
    if (k < 0) {
        error_unknown(v->kind == VAL_CALL ? name_loc(v) : v->loc, "loss", name, names, COUNT_OF(loss_names), "");
        return -1;
    }
    m->loss = loss_names[k].loss;
    m->loss_loc = v->loc;
    if (v->kind == VAL_CALL) {
        Value *vals[MAX_ARGS];
        if (bind(v, &spec_loss_call, vals) < 0)
            return -1;
        int err = get_bool(ARG(&spec_loss_call, vals, "from_logits"), "from_logits", 0, &m->loss_on_logits);
        double delta;
        Value *d = ARG(&spec_loss_call, vals, "delta");
        err |= get_float(d, "delta", 1.0, &delta);
        if (!err && d && (m->loss != SEQRT_LOSS_HUBER || delta != 1.0)) {
            diag_error(src, d->loc, "only Huber(delta=1.0) is supported");
            err = -1;
        }
        if (!err && m->loss_on_logits && m->loss != SEQRT_LOSS_BINARY_CROSSENTROPY &&
            m->loss != SEQRT_LOSS_CATEGORICAL_CROSSENTROPY &&
            m->loss != SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
            diag_error(src, v->loc, "from_logits applies only to cross-entropy losses");
            err = -1;
        }
        return err;
    }
    return 0;
}

static int resolve_metric(Model *m, const Value *v)
{
    const char *name = spelled_name(v);
    if (!name)
        return type_error(v, "metrics", "a list of metric names");
    const char *names[COUNT_OF(metric_names)];
    int k = -1;
    for (int i = 0; i < COUNT_OF(metric_names); i++) {
        names[i] = metric_names[i].name;
        if (!strcmp(name, names[i]))
            k = i;
    }
    if (k < 0) {
        error_unknown(v->kind == VAL_CALL ? name_loc(v) : v->loc, "metric", name, names, COUNT_OF(metric_names), "");
        return -1;
    }
    if (v->kind == VAL_CALL) {
        Value *vals[MAX_ARGS];
        if (bind(v, &spec_metric_call, vals) < 0)
            return -1;
        Value *t = ARG(&spec_metric_call, vals, "threshold");
        double thr;
        if (get_float(t, "threshold", 0.5, &thr))
            return -1;
        if (t && thr != 0.5) {
            diag_error(src, t->loc, "only threshold=0.5 is supported");
            return -1;
        }
    }
    int metric = metric_names[k].metric;
    if (metric < 0) {
        switch (m->loss) {
        case SEQRT_LOSS_BINARY_CROSSENTROPY: metric = SEQRT_METRIC_BINARY_ACCURACY; break;
        case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY: metric = SEQRT_METRIC_CATEGORICAL_ACCURACY; break;
        case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: metric = SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY; break;
        default:
            diag_error(src, v->loc, "'%s' needs a classification loss; with %s use \"mae\" or \"mse\"",
                       name, m->loss >= 0 ? seqrt_loss_name(m->loss) : "no loss");
            return -1;
        }
    }
    if (m->nmetrics == COUNT_OF(m->metric)) {
        diag_error(src, v->loc, "at most %d metrics", COUNT_OF(m->metric));
        return -1;
    }
    for (int i = 0; i < m->nmetrics; i++)
        if (m->metric[i] == metric)
            return 0;   /* Keras reports a repeated metric once too */
    /* Keras reports a metric under the name it was given ("accuracy"); a
     * class form (BinaryAccuracy()) under its canonical name. */
    m->metric_label[m->nmetrics] = v->kind == VAL_CALL || name[0] < 'a' ? seqrt_metric_name(metric) : name;
    m->metric[m->nmetrics++] = metric;
    return 0;
}

static int lower_compile(Model *m, const Value *call, int *seen)
{
    if ((*seen)++) {
        diag_error(src, name_loc(call), "compile() appears twice in model '%s'", m->name);
        return -1;
    }
    Value *vals[MAX_ARGS];
    if (bind(call, &spec_compile, vals) < 0)
        return -1;
    int err = 0;
    Value *opt = ARG(&spec_compile, vals, "optimizer");
    Value *loss = ARG(&spec_compile, vals, "loss");
    Value *metrics = ARG(&spec_compile, vals, "metrics");
    if (opt)
        err |= lower_optimizer(m, opt);
    if (!loss) {
        diag_error(src, call->loc, "compile() needs a loss, e.g. compile(optimizer=\"adam\", loss=\"mse\")");
        return -1;
    }
    err |= lower_loss(m, loss);
    if (err)
        return err;
    if (metrics && metrics->kind == VAL_LIST) {
        for (const Value *e = metrics->items; e; e = e->next)
            err |= resolve_metric(m, e);
    } else if (metrics && metrics->kind != VAL_NONE) {
        err |= resolve_metric(m, metrics);
    }
    return err;
}

/* ---------------------------------------------------------------- fit */

static int lower_early_stopping(Model *m, const Value *v)
{
    EarlyStopping *es = &m->es;
    Value *vals[MAX_ARGS];
    if (bind(v, &spec_early_stopping, vals) < 0)
        return -1;
    if (es->enabled) {
        diag_error(src, v->loc, "EarlyStopping given twice");
        return -1;
    }
    es->enabled = 1;
    es->loc = ARG(&spec_early_stopping, vals, "monitor") ? ARG(&spec_early_stopping, vals, "monitor")->loc : v->loc;
    const CallSpec *s = &spec_early_stopping;
    int err = 0;
    int64_t patience, start;
    const char *mode;
    err |= get_str(ARG(s, vals, "monitor"), "monitor", "val_loss", &es->monitor);
    err |= get_float(ARG(s, vals, "min_delta"), "min_delta", 0, &es->min_delta);
    err |= get_int(ARG(s, vals, "patience"), "patience", 0, &patience);
    err |= get_str(ARG(s, vals, "mode"), "mode", "auto", &mode);
    err |= get_bool(ARG(s, vals, "restore_best_weights"), "restore_best_weights", 0, &es->restore_best_weights);
    err |= get_int(ARG(s, vals, "start_from_epoch"), "start_from_epoch", 0, &start);
    if (err)
        return err;
    if (patience < 0 || patience > INT32_MAX) {
        diag_error(src, ARG(s, vals, "patience")->loc, "patience must be 0 or more");
        return -1;
    }
    if (start < 0 || start > INT32_MAX) {
        diag_error(src, ARG(s, vals, "start_from_epoch")->loc, "start_from_epoch must be 0 or more");
        return -1;
    }
    es->patience = (int)patience;
    es->start_from_epoch = (int)start;
    es->min_delta = fabs(es->min_delta);   /* Keras takes abs() too */
    static const char *const modes[] = {"auto", "min", "max"};
    es->mode = lookup(mode, modes, 3);
    if (es->mode < 0) {
        error_unknown(ARG(s, vals, "mode")->loc, "mode", mode, modes, 3, " for EarlyStopping");
        return -1;
    }
    return 0;
}

/* The monitor names a quantity the training loop reports: loss, val_loss,
 * or a metric (as written, or its canonical name) with or without val_. */
static int check_monitor(Model *m)
{
    EarlyStopping *es = &m->es;
    if (!es->enabled)
        return 0;
    const char *mon = es->monitor;
    int val = !strncmp(mon, "val_", 4);
    const char *base = val ? mon + 4 : mon;
    if (!strcmp(base, "loss"))
        return 0;
    const char *known[2 + 2 * 8];
    int nk = 0;
    known[nk++] = "loss";
    known[nk++] = "val_loss";
    /* any spelling of a compiled metric: "mae", "mean_absolute_error",
     * "accuracy" for whichever accuracy the loss chose */
    int kind = -2;
    for (int k = 0; k < COUNT_OF(metric_names); k++)
        if (!strcmp(base, metric_names[k].name))
            kind = metric_names[k].metric;
    for (int i = 0; i < m->nmetrics; i++) {
        const char *mn = seqrt_metric_name(m->metric[i]);
        known[nk++] = mn;
        known[nk++] = arena_printf("val_%s", mn);
        int is_acc = m->metric[i] <= SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
        if (!strcmp(base, mn) || kind == m->metric[i] || (is_acc && kind == -1)) {
            es->monitor = arena_printf("%s%s", val ? "val_" : "", mn);
            return 0;
        }
    }
    error_unknown(es->loc, "monitor", mon, known, nk,
                  " for EarlyStopping (it must name the loss or a metric given to compile())");
    return -1;
}

static int lower_fit(Model *m, const Value *call, int *seen)
{
    if ((*seen)++) {
        diag_error(src, name_loc(call), "fit() appears twice in model '%s'", m->name);
        return -1;
    }
    const CallSpec *s = &spec_fit;
    Value *vals[MAX_ARGS];
    if (bind(call, s, vals) < 0)
        return -1;
    int err = 0;
    int64_t batch, epochs, seed;
    err |= get_int(ARG(s, vals, "batch_size"), "batch_size", 32, &batch);
    err |= get_int(ARG(s, vals, "epochs"), "epochs", 1, &epochs);
    err |= get_int(ARG(s, vals, "seed"), "seed", 0, &seed);
    err |= get_float(ARG(s, vals, "validation_split"), "validation_split", 0, &m->validation_split);
    err |= get_bool(ARG(s, vals, "shuffle"), "shuffle", 1, &m->shuffle);
    Value *verbose = ARG(s, vals, "verbose");
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
        diag_error(src, ARG(s, vals, "batch_size")->loc, "batch_size must be between 1 and 16777216");
        return -1;
    }
    if (epochs < 0 || epochs > INT32_MAX) {
        diag_error(src, ARG(s, vals, "epochs")->loc, "epochs must be 0 or more");
        return -1;
    }
    if (!(m->validation_split >= 0 && m->validation_split < 1)) {
        diag_error(src, ARG(s, vals, "validation_split")->loc, "validation_split must be in [0, 1)");
        return -1;
    }
    m->batch_size = (int)batch;
    m->epochs = (int)epochs;
    m->seed = seed;
    Value *cbs = ARG(s, vals, "callbacks");
    if (cbs && cbs->kind != VAL_NONE) {
        if (cbs->kind != VAL_LIST)
            return type_error(cbs, "callbacks", "a list such as [EarlyStopping(patience=5)]");
        for (const Value *c = cbs->items; c; c = c->next) {
            const char *name = c->kind == VAL_CALL ? strip_prefix(c->s) : NULL;
            if (c->kind != VAL_CALL)
                err |= type_error(c, "callbacks", "a list of calls such as EarlyStopping()");
            else if (!name || strcmp(name, "EarlyStopping")) {
                static const char *const cb[] = {"EarlyStopping"};
                error_unknown(name_loc(c), "callback", name ? name : c->s, cb, 1, " (seqc supports EarlyStopping)");
                err = -1;
            } else {
                err |= lower_early_stopping(m, c);
            }
        }
    }
    return err;
}

/* ---------------------------------------------------------------- model checks */

static int check_loss(Model *m)
{
    if (m->loss < 0)
        return 0;
    const Layer *last = &m->layer[m->nlayers - 1];
    int out_act = last->op == OP_DENSE || last->op == OP_ACTIVATION ? last->act : -1;
    if (out_act == SEQRT_ACT_SOFTMAX && m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY) {
        diag_error(src, m->loss_loc, "binary_crossentropy needs a sigmoid output, but the last layer is softmax");
        diag_note(src, last->loc, "the output layer is here; use sigmoid, or categorical_crossentropy");
        return -1;
    }
    if ((m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ||
         m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) && m->out < 2) {
        diag_error(src, m->loss_loc, "%s needs one output per class (at least 2), but the model has %d output",
                   seqrt_loss_name(m->loss), m->out);
        return -1;
    }
    if (ir_param_count(m, 1) == 0) {
        diag_error(src, m->loss_loc, "model '%s' has a loss but no trainable parameters: add a Dense layer", m->name);
        return -1;
    }
    if (m->loss_on_logits)
        return 0;
    if (m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && out_act != SEQRT_ACT_SIGMOID)
        diag_warning(src, m->loss_loc, "binary_crossentropy expects probabilities, but the output activation is "
                     "%s; use sigmoid, or BinaryCrossentropy(from_logits=True)",
                     out_act >= 0 ? seqrt_act_name(out_act) : "not sigmoid");
    if ((m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ||
         m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) && out_act != SEQRT_ACT_SOFTMAX)
        diag_warning(src, m->loss_loc, "%s expects probabilities, but the output activation is %s; use softmax, "
                     "or from_logits=True", seqrt_loss_name(m->loss),
                     out_act >= 0 ? seqrt_act_name(out_act) : "not softmax");
    /* The loss is computed from the logits when the last layer's activation
     * is the one the loss expects: stable, and its gradient is p - y. */
    if ((m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && out_act == SEQRT_ACT_SIGMOID) ||
        (m->loss != SEQRT_LOSS_BINARY_CROSSENTROPY && m->loss >= SEQRT_LOSS_CATEGORICAL_CROSSENTROPY &&
         out_act == SEQRT_ACT_SOFTMAX))
        m->loss_from_logits = 1;
    return 0;
}

static Model *lower_model(ModelAst *ma)
{
    Model *m = arena_alloc(sizeof *m);
    m->name = ma->name;
    m->loc = ma->name_loc;
    m->src = src;
    m->loss = -1;
    m->opt.kind = SEQRT_OPT_RMSPROP;   /* Keras compile()'s default */
    m->opt.lr = 0.001;
    m->opt.rho = 0.9;
    m->opt.epsilon = 1e-7;
    m->batch_size = 32;
    m->epochs = 1;
    m->shuffle = 1;
    m->verbose = 1;
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
        if (!name) {
            error_unknown(name_loc(call), "statement", call->s, statement_names, COUNT_OF(statement_names), "");
            err = -1;
            continue;
        }
        const CallSpec *spec = NULL;
        for (int i = 0; i < COUNT_OF(layer_specs); i++)
            if (!strcmp(name, layer_specs[i]->name))
                spec = layer_specs[i];
        if (spec) {
            err |= lower_layer(m, spec, call, index++);
        } else if (!strcmp(name, "Input") || !strcmp(name, "InputLayer")) {
            Value *vals[MAX_ARGS];
            if (bind(call, &spec_input, vals) < 0) {
                err = -1;
            } else if (m->nlayers > 0) {
                diag_error(src, call->loc, "Input must come before the first layer");
                err = -1;
            } else if (!ARG(&spec_input, vals, "shape")) {
                diag_error(src, call->loc, "Input needs a shape, e.g. Input(shape=[10])");
                err = -1;
            } else {
                err |= set_input(m, ARG(&spec_input, vals, "shape"), "shape");
            }
        } else if (!strcmp(name, "compile")) {
            err |= lower_compile(m, call, &ncompile);
        } else if (!strcmp(name, "fit")) {
            err |= lower_fit(m, call, &nfit);
        } else {
            for (int i = 0; i < COUNT_OF(torch_names); i++)
                if (!strcmp(name, torch_names[i][0])) {
                    diag_error(src, name_loc(call), "unknown layer '%s'; the Keras name is %s", name,
                               torch_names[i][1]);
                    goto next;
                }
            error_unknown(name_loc(call), "layer", name, statement_names, COUNT_OF(statement_names), "");
        next:
            err = -1;
        }
    }
    if (err)
        return NULL;
    if (m->nlayers == 0) {
        diag_error(src, ma->name_loc, "model '%s' has no layers", m->name);
        return NULL;
    }
    if (!m->in_rank) {
        diag_error(src, m->layer[0].loc, "the input shape is not given: add input_shape=[n] (or input_dim=n) "
                   "to the first layer, or an Input(shape=[n]) statement before it");
        return NULL;
    }
    if (ir_infer_shapes(m) < 0)
        return NULL;
    if (check_loss(m) < 0 || check_monitor(m) < 0)
        return NULL;
    return m;
}

Program *lower_program(const Source *source, ModelAst *models)
{
    src = source;
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
        Model *m = lower_model(ma);
        if (m)
            p->model[p->n++] = m;
    }
    return p;
}
