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

/* The argument table of each optimizer, indexed by seqrt_opt_kind. */
static const CallSpec *const optimizer_specs[SEQRT_OPT_COUNT] = {
    [SEQRT_OPT_SGD] = &spec_sgd,
    [SEQRT_OPT_ADAM] = &spec_adam,
    [SEQRT_OPT_ADAMW] = &spec_adamw,
    [SEQRT_OPT_RMSPROP] = &spec_rmsprop,
};

/* Names a user coming from PyTorch may write, with the Keras name. */
static const char *const torch_names[][2] = {
    {"Linear", "Dense"}, {"BatchNorm1d", "BatchNormalization"},
    {"LayerNorm", "LayerNormalization"}, {"Sigmoid", "Activation(\"sigmoid\")"},
    {"Tanh", "Activation(\"tanh\")"},
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
        names_row(&t, -1, "accuracy", "acc", "");
#define METRIC(id, name, cls, aliases, mode) names_row(&t, SEQRT_METRIC_##id, name, cls, aliases);
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

static const Names *init_names(void)
{
    static Names t;
    if (!t.n) {
        t = names_new(SEQRT_INIT_COUNT);
#define INIT(id, name, cls, aliases) names_row(&t, SEQRT_INIT_##id, name, cls, aliases);
#include "seqrt_inits.def"
#undef INIT
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

/* Binds a call's arguments to its spec: out[i] is the value of spec arg i
 * or NULL. Returns 0, or -1 after reporting errors. */
static int bind(const Lower *lw, const Value *call, const CallSpec *spec, Value **out)
{
    const Source *src = lw->src;
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
            error_unknown(lw, a->key_loc, "argument", a->key, names, nspec, arena_printf(" to %s", spec->name));
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

/* A Lower for the call `call` bound to `spec`. */
static int bind_call(Lower *lw, const Value *call, const CallSpec *spec, Value **vals)
{
    lw->spec = spec;
    lw->vals = vals;
    lw->call = call;
    return bind(lw, call, spec, vals);
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
    diag_error(lw->src, v->loc, "argument '%s' must be %s, not %s", name, want, ast_kind_name(v->kind));
    return -1;
}

static int get_int(const Lower *lw, const Value *v, const char *name, int64_t def, int64_t *out)
{
    *out = def;
    if (!v)
        return 0;
    if (v->kind != VAL_INT)
        return type_error(lw, v, name, "an integer");
    *out = v->i;
    return 0;
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

static int get_init(const Lower *lw, const Value *v, const char *argname, seqrt_init_kind def,
                    seqrt_init_kind *out)
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
        return type_error(lw, v, argname, "an initializer name");
    if (!s)
        s = v->s;
    const Names *t = init_names();
    int k = names_find(t, s, 0);
    if (k < 0) {
        error_unknown(lw, v->loc, "initializer", s, t->spelling, t->n, "");
        return -1;
    }
    *out = (seqrt_init_kind)k;
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
    return get_init(lw, lower_arg(lw, name), name, def, out);
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

static int set_input(Lower *lw, const Value *shape, const char *argname)
{
    Model *m = lw->m;
    if (m->in_shape.rank) {
        diag_error(lw->src, shape->loc, "the input shape is given twice");
        return -1;
    }
    return get_shape(lw, shape, argname, &m->in_shape);
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

static int lower_layer(Lower *lw, const LayerKind *kind, const Syntax *syn, const Value *call, int index)
{
    Value *vals[MAX_ARGS];
    if (bind_call(lw, call, syn->spec, vals) < 0)
        return -1;
    if (layer_input(lw) < 0)
        return -1;
    Layer *l = ir_add_layer(lw->m, kind, index, call->loc);
    return syn->lower(lw, l);
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
        error_unknown(lw, v->kind == VAL_CALL ? name_loc(lw, v) : v->loc, "optimizer", name, t->spelling, t->n, "");
        return -1;
    }
    const CallSpec *spec = optimizer_specs[k];
    Value *vals[MAX_ARGS] = {0};
    lw->spec = spec;
    lw->vals = vals;
    lw->call = v;
    if (v->kind == VAL_CALL && bind(lw, v, spec, vals) < 0)
        return -1;
    o->kind = (seqrt_opt_kind)k;
    int err = 0;
    double lr_def = o->kind == SEQRT_OPT_SGD ? 0.01 : 0.001;
    err |= lower_float(lw, "learning_rate", lr_def, &o->lr);
    if (!err && !(o->lr > 0 && isfinite(o->lr))) {
        diag_error(src, lower_loc(lw, "learning_rate"), "learning_rate must be positive");
        err = -1;
    }
    int flag;
    if ((unsigned)o->kind >= SEQRT_OPT_COUNT)
        ir_internal_error("an optimizer that is not a seqrt_opt_kind");
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        err |= lower_float(lw, "momentum", 0, &o->momentum);
        err |= lower_bool(lw, "nesterov", 0, &o->nesterov);
        if (!err && !(o->momentum >= 0 && o->momentum <= 1)) {
            diag_error(src, lower_loc(lw, "momentum"), "momentum must be in [0, 1]");
            err = -1;
        }
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        err |= lower_float(lw, "beta_1", 0.9, &o->beta1);
        err |= lower_float(lw, "beta_2", 0.999, &o->beta2);
        err |= lower_float(lw, "epsilon", 1e-7, &o->epsilon);
        if (o->kind == SEQRT_OPT_ADAMW)
            err |= lower_float(lw, "weight_decay", 0.004, &o->weight_decay);
        err |= lower_bool(lw, "amsgrad", 0, &flag);
        if (!err && flag) {
            diag_error(src, lower_loc(lw, "amsgrad"), "amsgrad=True is not supported");
            err = -1;
        }
        if (!err && !(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1)) {
            diag_error(src, v->loc, "beta_1 and beta_2 must be in [0, 1)");
            err = -1;
        }
        break;
    case SEQRT_OPT_RMSPROP:
        err |= lower_float(lw, "rho", 0.9, &o->rho);
        err |= lower_float(lw, "momentum", 0, &o->momentum);
        err |= lower_float(lw, "epsilon", 1e-7, &o->epsilon);
        if (!err && !(o->rho >= 0 && o->rho < 1)) {
            diag_error(src, lower_loc(lw, "rho"), "rho must be in [0, 1)");
            err = -1;
        }
        if (!err && !(o->momentum >= 0 && o->momentum <= 1)) {
            diag_error(src, lower_loc(lw, "momentum"), "momentum must be in [0, 1]");
            err = -1;
        }
        err |= lower_bool(lw, "centered", 0, &flag);
        if (!err && flag) {
            diag_error(src, lower_loc(lw, "centered"), "centered=True is not supported");
            err = -1;
        }
        break;
    }
    if (!err && o->kind != SEQRT_OPT_SGD && !(o->epsilon > 0 && isfinite(o->epsilon))) {
        diag_error(src, lower_arg(lw, "epsilon") ? lower_loc(lw, "epsilon") : v->loc, "epsilon must be positive");
        err = -1;
    }
    if (!err && !(o->weight_decay >= 0 && isfinite(o->weight_decay))) {
        diag_error(src, lower_arg(lw, "weight_decay") ? lower_loc(lw, "weight_decay") : v->loc,
                   "weight_decay must be 0 or more");
        err = -1;
    }
    return err;
}

static int lower_loss(Lower *lw, const Value *v)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    const char *name = spelled_name(v);
    if (!name)
        return type_error(lw, v, "loss", "a loss name such as \"mse\"");
    const Names *t = loss_names();
    int k = names_find(t, name, 0);
    if (k < 0) {
        error_unknown(lw, v->kind == VAL_CALL ? name_loc(lw, v) : v->loc, "loss", name, t->spelling, t->n, "");
        return -1;
    }
    m->has_loss = 1;
    m->loss = (seqrt_loss_kind)k;
    m->loss_loc = v->loc;
    if (v->kind != VAL_CALL)
        return 0;
    Value *vals[MAX_ARGS];
    if (bind_call(lw, v, &spec_loss_call, vals) < 0)
        return -1;
    int err = lower_bool(lw, "from_logits", 0, &m->loss_on_logits);
    double delta;
    err |= lower_float(lw, "delta", 1.0, &delta);
    if (!err && lower_arg(lw, "delta") && (m->loss != SEQRT_LOSS_HUBER || delta != 1.0)) {
        diag_error(src, lower_loc(lw, "delta"), "only Huber(delta=1.0) is supported");
        err = -1;
    }
    if (!err && m->loss_on_logits && m->loss != SEQRT_LOSS_BINARY_CROSSENTROPY &&
        m->loss != SEQRT_LOSS_CATEGORICAL_CROSSENTROPY && m->loss != SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
        diag_error(src, v->loc, "from_logits applies only to cross-entropy losses");
        err = -1;
    }
    return err;
}

static int is_accuracy(seqrt_metric_kind k)
{
    return k == SEQRT_METRIC_BINARY_ACCURACY || k == SEQRT_METRIC_CATEGORICAL_ACCURACY ||
           k == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
}

static int resolve_metric(Lower *lw, const Value *v)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    const char *name = spelled_name(v);
    if (!name)
        return type_error(lw, v, "metrics", "a list of metric names");
    const Names *t = metric_names();
    int k = names_find(t, name, 0);
    if (k == -2) {
        error_unknown(lw, v->kind == VAL_CALL ? name_loc(lw, v) : v->loc, "metric", name, t->spelling, t->n, "");
        return -1;
    }
    if (v->kind == VAL_CALL) {
        Value *vals[MAX_ARGS];
        if (bind_call(lw, v, &spec_metric_call, vals) < 0)
            return -1;
        double thr;
        if (lower_float(lw, "threshold", 0.5, &thr))
            return -1;
        if (lower_arg(lw, "threshold") && thr != 0.5) {
            diag_error(src, lower_loc(lw, "threshold"), "only threshold=0.5 is supported");
            return -1;
        }
    }
    seqrt_metric_kind metric;
    if (k >= 0) {
        metric = (seqrt_metric_kind)k;
    } else if (m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY) {
        metric = SEQRT_METRIC_BINARY_ACCURACY;
    } else if (m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY) {
        metric = SEQRT_METRIC_CATEGORICAL_ACCURACY;
    } else if (m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
        metric = SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    } else {
        diag_error(src, v->loc, "'%s' needs a classification loss; with %s use \"mae\" or \"mse\"", name,
                   m->has_loss ? seqrt_loss_name(m->loss) : "no loss");
        return -1;
    }
    if (m->nmetrics == SEQRT_MAX_METRICS) {
        diag_error(src, v->loc, "at most %d metrics", SEQRT_MAX_METRICS);
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
    } else if (metrics && metrics->kind != VAL_NONE) {
        err |= resolve_metric(lw, metrics);
    }
    return err;
}

/* ---------------------------------------------------------------- fit */

static int lower_early_stopping(Lower *lw, const Value *v)
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
    es->loc = lower_loc(lw, "monitor");
    int err = 0;
    int64_t patience, start;
    const char *mode;
    err |= lower_str(lw, "monitor", "val_loss", &es->monitor);
    err |= lower_float(lw, "min_delta", 0, &es->min_delta);
    err |= lower_int(lw, "patience", 0, &patience);
    err |= lower_str(lw, "mode", "auto", &mode);
    err |= lower_bool(lw, "restore_best_weights", 0, &es->restore_best_weights);
    err |= lower_int(lw, "start_from_epoch", 0, &start);
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

/* The monitor names a quantity the training loop reports: loss, val_loss,
 * or a metric (as written, or any spelling of its kind) with or without
 * val_. It is rewritten to the canonical name. */
static int check_monitor(Lower *lw)
{
    Model *m = lw->m;
    EarlyStopping *es = &m->es;
    if (!es->enabled)
        return 0;
    const char *mon = es->monitor;
    int val = !strncmp(mon, "val_", 4);
    const char *base = val ? mon + 4 : mon;
    if (!strcmp(base, "loss"))
        return 0;
    const char *known[2 + 2 * SEQRT_MAX_METRICS];
    int nk = 0;
    known[nk++] = "loss";
    known[nk++] = "val_loss";
    int kind = names_find(metric_names(), base, 0);
    for (int i = 0; i < m->nmetrics; i++) {
        const char *mn = seqrt_metric_name(m->metric[i]);
        known[nk++] = mn;
        known[nk++] = arena_printf("val_%s", mn);
        if (!strcmp(base, mn) || kind == (int)m->metric[i] || (is_accuracy(m->metric[i]) && kind == -1)) {
            es->monitor = arena_printf("%s%s", val ? "val_" : "", mn);
            return 0;
        }
    }
    error_unknown(lw, es->loc, "monitor", mon, known, nk,
                  " for EarlyStopping (it must name the loss or a metric given to compile())");
    return -1;
}

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
    int64_t batch, epochs, seed;
    err |= lower_int(lw, "batch_size", 32, &batch);
    err |= lower_int(lw, "epochs", 1, &epochs);
    err |= lower_int(lw, "seed", 0, &seed);
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
    if (!(m->validation_split >= 0 && m->validation_split < 1)) {
        diag_error(src, lower_loc(lw, "validation_split"), "validation_split must be in [0, 1)");
        return -1;
    }
    m->batch_size = (int)batch;
    m->epochs = (int)epochs;
    m->seed = seed;
    Value *cbs = lower_arg(lw, "callbacks");
    if (cbs && cbs->kind != VAL_NONE) {
        if (cbs->kind != VAL_LIST)
            return type_error(lw, cbs, "callbacks", "a list such as [EarlyStopping(patience=5)]");
        for (const Value *c = cbs->items; c; c = c->next) {
            const char *name = c->kind == VAL_CALL ? strip_prefix(c->s) : NULL;
            if (c->kind != VAL_CALL) {
                err |= type_error(lw, c, "callbacks", "a list of calls such as EarlyStopping()");
            } else if (!name || strcmp(name, "EarlyStopping")) {
                static const char *const cb[] = {"EarlyStopping"};
                error_unknown(lw, name_loc(lw, c), "callback", name ? name : c->s, cb, 1,
                              " (seqc supports EarlyStopping)");
                err = -1;
            } else {
                err |= lower_early_stopping(lw, c);
            }
        }
    }
    return err;
}

/* ---------------------------------------------------------------- model checks */

static int check_loss(Lower *lw)
{
    Model *m = lw->m;
    const Source *src = lw->src;
    if (!m->has_loss)
        return 0;
    const Layer *last = &m->layer[m->nlayers - 1];
    int out_act = -1;
    if (has_prop(last, LK_TAKES_ACT) || has_prop(last, LK_ACTIVATION))
        out_act = last->act.kind;
    if (out_act == SEQRT_ACT_SOFTMAX && m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY) {
        diag_error(src, m->loss_loc, "binary_crossentropy needs a sigmoid output, but the last layer is softmax");
        diag_note(src, last->loc, "the output layer is here; use sigmoid, or categorical_crossentropy");
        return -1;
    }
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
    if (categorical && out_act != SEQRT_ACT_SOFTMAX)
        diag_warning(src, m->loss_loc, "%s expects probabilities, but the output activation is %s; use softmax, "
                     "or from_logits=True", seqrt_loss_name(m->loss),
                     out_act >= 0 ? seqrt_act_name(out_act) : "not softmax");
    /* The loss is computed from the logits when the last layer's activation
     * is the one the loss expects: stable, and its gradient is p - y. */
    if ((m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY && out_act == SEQRT_ACT_SIGMOID) ||
        (categorical && out_act == SEQRT_ACT_SOFTMAX))
        m->loss_from_logits = 1;
    return 0;
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
            Value *vals[MAX_ARGS];
            if (bind_call(lw, call, &spec_input, vals) < 0) {
                err = -1;
            } else if (m->nlayers > 0) {
                diag_error(src, call->loc, "Input must come before the first layer");
                err = -1;
            } else if (!lower_arg(lw, "shape")) {
                diag_error(src, call->loc, "Input needs a shape, e.g. Input(shape=[10])");
                err = -1;
            } else {
                err |= set_input(lw, lower_arg(lw, "shape"), "shape");
            }
        } else if (!strcmp(name, "compile")) {
            err |= lower_compile(lw, call, &ncompile);
        } else if (!strcmp(name, "fit")) {
            err |= lower_fit(lw, call, &nfit);
        } else {
            int torch = -1;
            for (int i = 0; i < COUNT_OF(torch_names); i++)
                if (!strcmp(name, torch_names[i][0]))
                    torch = i;
            if (torch >= 0)
                diag_error(src, name_loc(lw, call), "unknown layer '%s'; the Keras name is %s", name,
                           torch_names[torch][1]);
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
    if (!m->in_shape.rank) {
        diag_error(src, m->layer[0].loc, "the input shape is not given: add input_shape=[n] (or input_dim=n) "
                   "to the first layer, or an Input(shape=[n]) statement before it");
        return NULL;
    }
    if (ir_infer_shapes(m) < 0)
        return NULL;
    if (check_loss(lw) < 0 || check_monitor(lw) < 0)
        return NULL;
    return m;
}

Program *lower_program(const Source *src, ModelAst *models)
{
    ir_check_kinds();
    Lower lw = {.src = src};
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
