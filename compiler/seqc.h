/*
 * seqc.h - the compiler's one internal header, sectioned by file.
 *
 * The pipeline (see main.c) is: source text -> tokens (grammar/model.l) ->
 * syntax tree (grammar/model.y, ast.c) -> IR (lower.c: Keras names and
 * defaults resolved, shapes inferred, every error reported with its
 * location) -> passes (passes.def, pass_*.c, each checked by ir_verify) ->
 * C (emit_c.c: NAME.h, NAME.c, NAME_main.c; bake_plan.c and bake_write.c:
 * the baked NAME_infer.c).
 *
 * A layer kind (Dense, BatchNormalization, ...) is described in one file,
 * layer_NAME.c, by one LayerKind: its Keras statements and arguments, shape
 * rule, parameters, the buffers it keeps, its forward and backward C and
 * its baked stages. layers.def lists the kinds; the generic code (lowering,
 * shape inference, verification, printing, planning, emission, the tensor
 * table) iterates over them and asks their properties. docs/internals.md
 * says what a new layer kind or activation takes.
 *
 * Memory: the compiler is a short-lived process. Everything it builds lives
 * in one arena (arena_alloc) freed at exit; nothing is freed piecemeal.
 */
#ifndef SEQC_H
#define SEQC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "seqrt.h"

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- arena.c */

void *arena_alloc(size_t size);           /* zeroed; exits on out-of-memory */
char *arena_strdup(const char *s);
char *arena_strndup(const char *s, size_t n);
char *arena_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
char *arena_vprintf(const char *fmt, va_list ap);
/* Frees every block: all arena pointers become invalid (for the fuzz
 * harness, which runs the front end many times in one process). */
void arena_reset(void);

/* ---------------------------------------------------------------- diag.c */

/* A span of source text as byte offsets [start, end); converted to
 * line:column only when printed. */
typedef struct {
    int start, end;
} Loc;

typedef struct {
    const char *path;     /* as given on the command line */
    const char *text;     /* NUL-terminated contents */
    int len;
    int *line_start;      /* byte offset of each line's first byte */
    int nlines;
} Source;

Source *diag_open_source(const char *path);  /* NULL + message on failure */
Source *diag_source_from_text(const char *path, const char *text, int len);
void diag_error(const Source *src, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning(const Source *src, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(const Source *src, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error not tied to a place in a source file ("seqc: error: ..."). */
void diag_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int diag_error_count(void);
/* The 0-based line of byte offset off. */
int diag_line_of(const Source *s, int off);
void diag_reset(void);                    /* error count back to 0 */
void diag_set_stream(FILE *f);            /* default stderr */
/* The closest of `names` to `s` by edit distance, or NULL if none is close. */
const char *diag_suggest(const char *s, const char *const *names, int n);

/* ---------------------------------------------------------------- ast.c */

typedef enum {
    VAL_INT,      /* 64 */
    VAL_FLOAT,    /* 1e-3 */
    VAL_STRING,   /* "relu" or 'relu' */
    VAL_NAME,     /* relu (a bare name) */
    VAL_BOOL,     /* True, False, true, false */
    VAL_NONE,     /* None */
    VAL_LIST,     /* [a, b] or (a, b) */
    VAL_CALL,     /* Dense(64, activation="relu") */
    VAL_DICT,     /* {0: 1.0, 1: 5.0}: items are the keys, each key's dval its value */
    VAL_ERROR,    /* an expression that could not be folded (already reported) */
    VAL_SYMBOLIC  /* a Python expression seqc cannot evaluate (X.shape[1], n * 2):
                     s holds its text */
} ValKind;

typedef struct Value Value;
typedef struct Arg Arg;

struct Arg {
    const char *key;      /* NULL for a positional argument */
    Loc key_loc;
    Value *val;
    Arg *next;
    Arg *last;            /* the head of a list: its last node (ast_arg_append) */
};

struct Value {
    ValKind kind;
    Loc loc;
    int64_t i;            /* VAL_INT, VAL_BOOL */
    double f;             /* VAL_INT, VAL_FLOAT (as a number) */
    const char *s;        /* VAL_STRING, VAL_NAME; VAL_CALL: the name without
                             a layers./keras.layers. prefix */
    Value *items;         /* VAL_LIST: the first item */
    Arg *args;            /* VAL_CALL */
    Value *dval;          /* VAL_DICT: the value of this key */
    int truediv;          /* a float made by '/' (true division): error hints suggest '//' */
    int paren;            /* written in parentheses */
    Value *next;          /* next item of a list or statement of a model */
    Value *last;          /* the head of a list: its last node, kept by
                             ast_append so that appending is O(1) */
};

typedef struct ModelAst {
    const char *name;
    Loc loc, name_loc;
    Value *stmts;         /* calls, in order */
    struct ModelAst *next;
} ModelAst;

Value *ast_int(const char *text, Loc loc);
Value *ast_float(const char *text, Loc loc);
Value *ast_string(const char *text, Loc loc);  /* text with its quotes */
Value *ast_name(const char *text, Loc loc);
Value *ast_bool(int b, Loc loc);
Value *ast_none(Loc loc);
Value *ast_list(Value *items, Loc loc);
Value *ast_call(Value *callee, Arg *args, Loc loc);    /* callee: VAL_NAME */
Value *ast_dotted(Value *left, const char *right, Loc loc);
/* Constant expressions, folded with Python's semantics as they are built
 * (int and float, / true division, // floor division, % with the sign of
 * the divisor, ** with a float result for a negative exponent); a
 * division by zero, an overflow or an operand that is not a number is a
 * located error and gives VAL_ERROR. op: '+', '-', '*', '/', '%',
 * AST_FLOORDIV, AST_POW; ast_unary: '-' or '+'. */
enum { AST_FLOORDIV = 256, AST_POW };
Value *ast_binop(const Source *src, int op, Value *a, Value *b, Loc op_loc, Loc loc);
Value *ast_unary(const Source *src, int op, Value *a, Loc loc);
Value *ast_paren(Value *v, Loc loc);
/* A Python expression seqc cannot evaluate: the source text at loc. */
Value *ast_symbolic(const Source *src, Loc loc);
Value *ast_dict(Value *entries, Loc loc);
Value *ast_entry(Value *key, Value *val);
Value *ast_append(Value *list, Value *item);           /* linked via next */
Value *ast_prepend(Value *item, Value *list);
Arg *ast_arg(const char *key, Loc key_loc, Value *val);
Arg *ast_arg_append(Arg *list, Arg *arg);
ModelAst *ast_model(const char *name, Loc name_loc, Value *stmts, Loc loc);
ModelAst *ast_model_append(ModelAst *list, ModelAst *m);
const char *ast_kind_name(ValKind k);

/* ---------------------------------------------------------------- parse.c */

/* Parses a whole model file; syntax errors are reported through diag and
 * recovered from. Returns the models parsed (possibly partial). */
ModelAst *parse_source(const Source *src);

/* ---------------------------------------------------------------- ir.c */

#define MAX_RANK SEQRT_MAX_RANK

/* The shape of one sample (the batch axis excluded), row-major. */
typedef struct {
    int rank;
    int dim[MAX_RANK];
} Shape;

long shape_size(const Shape *s);          /* the product of the dims */
int shape_last(const Shape *s);           /* the size of the last axis */
long shape_lead(const Shape *s);          /* the product of all axes but the last */
int shape_eq(const Shape *a, const Shape *b);
Shape shape_1d(int n);
const char *shape_str(const Shape *s);    /* "[28, 28, 1]" (arena) */

typedef struct LayerKind LayerKind;
typedef struct Layer Layer;

/* An axis argument: -1 or a number (the batch is 0), where it was written. */
typedef struct {
    int axis;
    Loc loc;
} Axis;

/* An activation function with its parameters (seqrt_acts.def names them). */
typedef struct {
    seqrt_act kind;
    double p[3];
} Act;

Act act_default(seqrt_act kind);          /* with Keras's default parameters */
int act_is(Act a, seqrt_act kind);        /* kind, any parameters */
int act_is_linear(Act a);
int act_rowwise(Act a);                   /* softmax, log_softmax */
int act_idempotent(Act a);                /* act(act(x)) == act(x) */
/* Only y is read by the derivative (linear, plain relu, row-wise): the
 * pre-activation need not be kept for backward. */
int act_backward_needs_y_only(Act a);
const char *act_str(Act a);               /* "relu", "leaky_relu(negative_slope=0.3)" */

/* A weight's initializer as the model file gives it: a kind, with the
 * arguments of its class form (RandomNormal(stddev=0.01)) and a seed. */
typedef struct {
    seqrt_init_kind kind;
    int given;            /* written in the model file (the IR shows it) */
    int has_args;         /* args holds the class form's arguments */
    seqrt_init_args args;
    int has_seed;         /* initializer(seed=...): a stream of its own */
    int64_t seed;
    Loc loc;              /* where it is written (given) */
} InitSpec;

/* A weight regularizer (Keras's L1, L2, L1L2): l1 sum|w| + l2 sum w^2
 * added to the loss. */
typedef struct {
    int on;
    double l1, l2;
} Regularizer;

/* A weight constraint, applied after every optimizer step. */
typedef struct {
    int on;
    seqrt_constraint_kind kind;
    double min_value, max_value, rate;
    /* Keras's axis as written (default 0): an int or a list of them, each
     * possibly negative; all_axes for axis=None. Checked against the
     * weight's Keras rank once the shapes are known (ir_infer_shapes). */
    int all_axes;
    int naxes;
    int axes[MAX_RANK];
    Loc loc;              /* where the axis is written (else the constraint) */
} Constraint;

/* What a layer's argument triple NAME_initializer, NAME_regularizer,
 * NAME_constraint says about one of its weights (lower_weight). */
typedef struct {
    InitSpec init;
    Regularizer reg;
    Constraint con;
} WeightOpts;

/* One parameter tensor of a layer. */
typedef struct {
    const char *name;     /* checkpoint name, a PyTorch state_dict key: "3.weight" */
    const char *cname;    /* C member name: "l3_weight" */
    const char *role;     /* the kind's name for it: "kernel", "bias", "gamma", ... */
    int trainable;
    Shape shape;
    seqrt_init_kind init;
    int fan_in, fan_out;  /* for the Keras initializers */
    /* set by the kind from its WeightOpts (ir_param_opts); zero: a plain
     * initializer, no regularizer, no constraint */
    InitSpec ispec;       /* ispec.has_args or has_seed: use it over init */
    Regularizer reg;
    Constraint con;
    int transposed;       /* stored transposed to Keras's layout (a Dense
                             kernel: Keras (in, units), seqc (units, in)) */
    /* Keras's layout of a weight seqc stores otherwise (a convolution
     * kernel: Keras (kh, kw, in, filters), seqc (filters, in, kh, kw)):
     * the storage viewed as kview (the same elements, row-major), and
     * Keras's axis a is kview's axis kaxis[a]. kview.rank 0: the storage
     * itself is Keras's layout (transposed: its two axes swapped).
     * ir_keras_layout reads it; constraints' axes go through it. */
    Shape kview;
    int kaxis[MAX_RANK];
    int torch_only;       /* a buffer PyTorch's module has and Keras's layer
                             does not (LSTM's bias_hh_l0): not in the summary */
} Param;

#define MAX_PARAMS 8
#define MAX_KEEP 16

/* A buffer of the generated state that the plan (pass_plan) allocates. */
typedef enum {
    BUF_INPUT,            /* copy of the model's input, for backward */
    BUF_VALUE,            /* a layer's output or intermediate value */
    BUF_KEEP,             /* kept by forward for backward only (xhat, a mask) */
    BUF_GRAD,             /* d loss / d value, in backward */
    BUF_SCRATCH           /* the kernels' working memory, shared by every layer */
} BufRole;

typedef struct {
    const char *name;     /* member of the state: "l3_y", "grad_a" */
    BufRole role;
    Shape shape;          /* of one row of the batch if per_row, else of all of it */
    long floats;          /* shape_size(&shape) */
    int per_row;
    const char *what;     /* the comment in the generated struct */
} Buffer;

/* What the layer keeps, by the kind's role name ("z", "xhat", "mask"). */
typedef struct {
    const char *role;
    int buf;              /* index into Model.buf */
} Keep;

struct Layer {
    const LayerKind *kind;
    int index;            /* the statement it came from: names follow it */
    const char *keras_class;   /* the Keras class it was written as ("Dense") */
    const char *keras_name;    /* name=..., or Keras's automatic name ("dense_1") */
    Loc loc;
    Shape in, out;        /* one sample each */
    void *attr;           /* the kind's own attributes (layer_NAME.c) */
    Act act;              /* the activation it applies (fused, or an Activation layer's) */
    int act_index;        /* statement of a fused or split-off activation, -1 */
    Layer *norm;          /* a normalization fused into it (pass_fuse), or NULL */
    Param param[MAX_PARAMS];
    int nparam;
    /* The buffer plan (pass_plan); -1 where there is none. */
    int out_buf;          /* forward output; a view's is its input's */
    int mid_buf;          /* fused norm: the value between the layer and its norm */
    int dy_buf;           /* backward: holds d loss / d output */
    int dx_buf;           /* backward: receives d loss / d input */
    Keep keep[MAX_KEEP];
    int nkeep;
    long scratch;         /* floats of the model's scratch its kernels use (plan_scratch) */
};

typedef enum {
    MONITOR_AUTO = 0,
    MONITOR_MIN = 1,
    MONITOR_MAX = 2
} MonitorMode;

typedef struct {
    int enabled;
    Loc loc;
    const char *monitor;
    double min_delta;
    int patience;
    MonitorMode mode;
    int restore_best_weights;
    int start_from_epoch;
    int order;            /* its place in fit(callbacks=[...]) */
    int verbose;
    int has_baseline;
    double baseline;
} EarlyStopping;

typedef struct {
    seqrt_opt_kind kind;
    Loc loc;
    double lr, momentum, beta1, beta2, epsilon, rho, weight_decay;
    int nesterov;
    int amsgrad, centered;            /* Adam, RMSprop */
    double initial_accumulator_value; /* Adagrad, Ftrl */
    double lr_power, l1, l2, l2_shrinkage, beta;   /* Ftrl */
    int decoupled_wd;                 /* weight_decay given to an optimizer
                                         other than AdamW/Adam's own path */
    double clipnorm, clipvalue, global_clipnorm;   /* 0: none */
    int has_schedule;                 /* learning_rate=ExponentialDecay(...) */
    seqrt_lr_schedule sched;          /* its boundaries/values live in the arena */
    int settable_lr;                  /* ReduceLROnPlateau changes it: in the state */
} Optimizer;

/* model.summary(...)'s arguments (summary.c). */
typedef struct {
    int line_length;      /* 0: Keras's default */
    int npositions;       /* 3: positions given */
    double positions[4];
    int show_trainable;
} SummaryOptions;

/* A callback of fit() other than EarlyStopping, as the runtime takes it. */
typedef struct {
    seqrt_callback cb;
    Loc loc;
} Callback;

typedef struct Model {
    const char *name;
    Loc loc;
    const Source *src;
    Shape in_shape, out_shape;
    int in, out;          /* floats per sample */
    Layer *layer;
    int nlayers, cap;
    int has_loss;         /* compile(loss=...) given: the model trains */
    seqrt_loss_kind loss;
    Loc loss_loc;
    Optimizer opt;
    seqrt_metric_kind metric[SEQRT_MAX_METRICS];
    int nmetrics;
    const char *metric_label[SEQRT_MAX_METRICS];   /* as written: "accuracy" */
    Loc metric_loc[SEQRT_MAX_METRICS];             /* where each is written */
    seqrt_metric_args metric_args[SEQRT_MAX_METRICS];   /* given == 0: defaults */
    /* the loss's arguments */
    double loss_delta, label_smoothing;   /* Huber's delta (1), label smoothing (0) */
    float *class_weight;                  /* fit(class_weight=...): classes 0..n-1 */
    int nclass_weight;
    Loc class_weight_loc;
    int initial_epoch;                    /* fit(initial_epoch=...) */
    Callback cb[SEQRT_MAX_CALLBACKS];     /* fit(callbacks=...) but EarlyStopping */
    int ncb;
    int summary;                          /* the model file calls summary() */
    SummaryOptions summary_opts;
    /* fit() */
    int batch_size, epochs, shuffle, verbose;
    double validation_split;
    int64_t seed;
    EarlyStopping es;
    /* set by lowering: the last layer's activation is folded into the loss
     * (sigmoid + binary cross-entropy, softmax + categorical losses) */
    int loss_from_logits;
    /* the loss was given with from_logits=True: the output is logits */
    int loss_on_logits;
    /* the buffer plan (pass_plan): every buffer of the generated state */
    int planned;
    Buffer *buf;
    int nbuf, bufcap;
    int grad_start;       /* backward runs from this layer ... */
    int grad_end;         /* ... down to this one (the first with trainable parameters) */
    int skip_last_act;    /* grad_start's activation is folded into the loss */
    int input_buf;        /* the input copy (training), or -1 */
    int scratch_buf;      /* the scratch (the largest any layer asks for), or -1 */
} Model;

typedef struct {
    Model **model;
    int n;
} Program;

Layer *ir_add_layer(Model *m, const LayerKind *kind, int index, Loc loc);
void ir_insert_layer(Model *m, int at, const Layer *l);
void ir_remove_layer(Model *m, int at);
/* Declares a parameter of l (from a kind's params hook), named
 * "<index>.<suffix>" after l's statement. */
Param *ir_add_param(Layer *l, const char *suffix, const char *role, int trainable, Shape shape,
                    seqrt_init_kind init, int fan_in, int fan_out);
const Param *ir_param(const Layer *l, const char *role);   /* NULL if absent */
/* A kind's params hook: p's storage viewed as `view` is Keras's weight
 * with its axis a at view axis kaxis[a] (Param.kview). */
void ir_param_keras_layout(Param *p, Shape view, const int *kaxis);
/* p's Keras layout: the view of its storage and the view axis of each
 * Keras axis; returns the Keras rank (the view's). */
int ir_keras_layout(const Param *p, Shape *view, int *kaxis);
/* "(3, 3, 2, 8)": p's shape in Keras's layout (arena). */
const char *ir_keras_shape(const Param *p);
/* The view axes (of ir_keras_layout's view) p's norm constraint sums
 * over, as a bit mask, and the Keras axes as one (kmask); -1 when an axis
 * is outside p's Keras rank or repeated (no message). */
int ir_constraint_axes(const Param *p, unsigned *reduce, unsigned *kmask);
/* For the emitters, once the shapes are checked: p's Keras view and the
 * masks of ir_constraint_axes (an internal error when they are invalid). */
void ir_constraint_view(const Param *p, Shape *view, unsigned *reduce, unsigned *kmask);
/* Every parameter of a layer, its fused norm's included, in order. */
int ir_nparams(const Layer *l);
const Param *ir_param_at(const Layer *l, int k);
/* (Re)computes every layer's shapes from the model's input and each kind's
 * shape rule, and declares the parameters; returns 0 or reports errors. */
int ir_infer_shapes(Model *m);
/* Checks the IR's invariants (shapes, kinds, parameters, the plan);
 * prints "seqc: internal error" and returns -1 on the first violation.
 * Run after lowering and after every pass. */
int ir_verify(const Model *m, const char *after);
long ir_param_count(const Model *m, int trainable);
/* axis (-1, or by Keras number with the batch as 0) must be the last axis
 * of l's input; 0, or -1 after an error at l->loc. */
int ir_check_last_axis(const Source *src, const Layer *l, Axis axis, const char *what);
/* "l3" for a layer of statement 3; "l3_act" for the activation split out
 * of Dense statement 3 by canonicalize: the prefix of its C names. */
const char *ir_tag(const Layer *l);
/* Checks that every kind of layers.def describes itself completely (the
 * hooks the generic code calls unconditionally); an internal error if not. */
void ir_check_kinds(void);
/* Stops the compiler: a state the IR's invariants rule out. */
void ir_internal_error(const char *what) __attribute__((noreturn));

/* ---------------------------------------------------------------- ir_print.c */

/* The one text form of the IR; prints the plan too once pass_plan ran. */
void ir_print(FILE *out, const Model *m);
/* "true"/"false" and "%.9g" for the kinds' print hooks. */
const char *ir_bool(int b);

/* ---------------------------------------------------------------- lower.c */

/* Argument types of the Keras argument tables. */
typedef enum {
    T_INT,       /* integer */
    T_FLOAT,     /* integer or float */
    T_BOOL,
    T_STR,       /* string or bare name */
    T_ACT,       /* activation name or None */
    T_INIT,      /* initializer name (or class call without arguments) */
    T_SHAPE,     /* list of positive integers, or one integer */
    T_NONE,      /* a Keras argument seqc does not support: only None */
    T_REG,       /* a regularizer: "l2", L2(0.01), None (lower_weight, lower_layer) */
    T_CON,       /* a constraint: MaxNorm(2), "non_neg", None (lower_weight) */
    T_IGNORED,   /* accepted and ignored (name=, dtype=) */
    T_ANY        /* checked by the lowering function */
} ArgType;

typedef struct {
    const char *name;
    ArgType type;
} ArgSpec;

#define MAX_ARGS 32

/* A Keras call: its name and its arguments in Keras's positional order. */
typedef struct {
    const char *name;
    int npositional;          /* how many leading args may be positional */
    ArgSpec args[MAX_ARGS];
} CallSpec;

/* Arguments every Keras layer accepts through **kwargs (Keras 3's Layer:
 * activity_regularizer becomes an activity_regularization layer after it;
 * name names it in the summary). */
#define LAYER_KWARGS                                                     \
    {"input_shape", T_SHAPE}, {"input_dim", T_INT}, {"name", T_STR},     \
    {"dtype", T_IGNORED}, {"trainable", T_BOOL}, {"autocast", T_IGNORED}, \
    {"activity_regularizer", T_REG}

/* The lowering of one model: what the layer kinds' lower hooks see. */
typedef struct {
    const Source *src;
    Model *m;
    const CallSpec *spec;     /* of the call being lowered */
    Value **vals;             /* its bound arguments, in spec order */
    const Value *call;
    const Shape *default_input;   /* seqc --input-shape, or NULL */
} Lower;

/* The bound value of argument `name` of the call (NULL if not given);
 * stops with an internal error for a name not in the spec. */
Value *lower_arg(const Lower *lw, const char *name);
/* Read an argument with its Keras default when absent; 0, or -1 after a
 * located error. */
int lower_int(const Lower *lw, const char *name, int64_t def, int64_t *out);
int lower_float(const Lower *lw, const char *name, double def, double *out);
int lower_bool(const Lower *lw, const char *name, int def, int *out);
int lower_str(const Lower *lw, const char *name, const char *def, const char **out);
int lower_act(const Lower *lw, const char *name, Act *out);
int lower_init(const Lower *lw, const char *name, seqrt_init_kind def, seqrt_init_kind *out);
/* The location of argument `name`, or of the call when it is absent. */
Loc lower_loc(const Lower *lw, const char *name);
/* A weight's NAME_initializer (default def), NAME_regularizer and
 * NAME_constraint, for the kinds' lower hooks (lower_weight(lw, "kernel",
 * SEQRT_INIT_GLOROT_UNIFORM, &a->kernel)); an argument the spec lacks is
 * left at its default. 0, or -1 after a located error. */
int lower_weight(const Lower *lw, const char *weight, seqrt_init_kind def, WeightOpts *out);
/* Copies o into p (from a kind's params hook, after ir_add_param). */
void ir_param_opts(Param *p, const WeightOpts *o);
/* Reads `axis` (default -1); an axis below -1 or 0 (the batch) is an error
 * here, and ir_check_last_axis checks the rest against the input's rank:
 * seqc's normalizations and softmax work over the last axis. */
int lower_axis(const Lower *lw, Axis *axis);

/* Lowers a layer given as an argument (Bidirectional's layer): binds
 * `call` to the statement it names and runs that statement's lower hook on
 * l (which receives l->attr); returns the kind it makes, or NULL after an
 * error. lw is left as it was. */
typedef struct Syntax Syntax;
const LayerKind *lower_nested_layer(Lower *lw, const Value *call, Layer *l);

/* A Keras statement that makes a layer of some kind: Dense(...),
 * ReLU(...). lower fills l->attr (and l->act) from the bound arguments
 * with Keras's defaults; 0, or -1 after reporting. */
struct Syntax {
    const CallSpec *spec;
    int (*lower)(Lower *lw, Layer *l);
};

/* Lowers each model of the syntax tree, reporting semantic errors. Models
 * with errors are left out. default_input (may be NULL or rank 0): the
 * input shape of a model that gives none (seqc --input-shape). */
Program *lower_program(const Source *src, ModelAst *models);
Program *lower_program_with(const Source *src, ModelAst *models, const Shape *default_input);

/* lower.c's helpers, for lower_keras.c. */
int lower_bind(Lower *lw, const Value *call, const CallSpec *spec, Value **vals);
int lower_type_error(const Lower *lw, const Value *v, const char *name, const char *want);
int lower_get_int(const Lower *lw, const Value *v, const char *name, int64_t def, int64_t *out);
int lower_get_float(const Lower *lw, const Value *v, const char *name, double def, double *out);
int lower_get_bool(const Lower *lw, const Value *v, const char *name, int def, int *out);
int lower_get_str(const Lower *lw, const Value *v, const char *name, const char *def, const char **out);
/* The name a string, bare name or call spells, Keras module prefixes
 * stripped; NULL for other values. */
const char *lower_spelled_name(const Value *v);
/* "keras.layers.Dense" -> "Dense"; NULL if a prefix is not a Keras module. */
const char *lower_strip_prefix(const char *name);
Loc lower_name_loc(const Lower *lw, const Value *call);
void lower_error_unknown(const Lower *lw, Loc loc, const char *what, const char *name,
                         const char *const *names, int n, const char *where);
int lower_is_optimizer_spec(const CallSpec *spec);
int lower_is_layer_spec(const CallSpec *spec);

/* ---------------------------------------------------------------- lower_keras.c */

/* An unknown keyword argument `a` of a call to `spec` that is a Keras 1/2
 * spelling (lr=, decay=, nb_epoch=, init=, output_dim=, ...): reported with
 * what Keras 3 does with it and its Keras 3 spelling. 1: a warning (Keras 3
 * ignores it too, and so does seqc); -1: an error; 0: not one of them. */
int lower_legacy_arg(const Lower *lw, const Value *call, const CallSpec *spec, const Arg *a);
/* A name Keras 3 has in category `what` ("layer", "loss", "metric",
 * "optimizer", "initializer", "regularizer", "constraint", "callback",
 * "schedule") that seqc does not build: 1, else 0. */
int keras_not_built(const char *what, const char *name);
/* A Keras 2 name of a loss or metric (`what`) that Keras 3 rejects: the
 * Keras 3 name to write instead; NULL if it is not one. */
const char *keras2_name(const char *what, const char *name);
/* kernel_initializer=...: a name, a class form with Keras's arguments
 * (RandomNormal(stddev=0.01), Constant(0.1), VarianceScaling(...)), or None
 * (Keras's add_weight default, glorot_uniform). */
int lower_init_spec(const Lower *lw, const Value *v, const char *argname, seqrt_init_kind def, InitSpec *out);
int lower_regularizer(const Lower *lw, const Value *v, const char *argname, Regularizer *out);
int lower_constraint(const Lower *lw, const Value *v, const char *argname, Constraint *out);
/* learning_rate=ExponentialDecay(...): fills o->sched. */
int lower_schedule(Lower *lw, const Value *v, Optimizer *o);
/* A callback of fit(callbacks=[...]) other than EarlyStopping, at place
 * `order` of the list. */
int lower_callback(Lower *lw, const Value *call, const char *name, int order);
/* fit(class_weight={0: 1.0, 1: 5.0}). */
int lower_class_weight(Lower *lw, const Value *v);
/* After compile() and fit(): the callbacks' monitors name a reported
 * quantity, rewritten to its canonical name. */
int lower_check_callbacks(Lower *lw);
/* Does monitor `mon` (a name the training loop reports) resolve, and in
 * which direction does mode "auto" improve it? 0 ok (*max set), -1 after an
 * error at loc. */
int lower_monitor(Lower *lw, const char **mon, int mode, Loc loc, const char *who, int *max);

/* ---------------------------------------------------------------- window.c */

/* Keras's padding modes of a sliding window. */
typedef enum { PAD_VALID, PAD_SAME, PAD_CAUSAL } PadMode;

/* The sliding window of a convolution or pooling layer, per spatial axis
 * (rank 1: steps; rank 2: height, width). */
typedef struct {
    int rank;
    int is_pool;              /* messages say pool_size, not kernel_size */
    int k[2], s[2], d[2];     /* window, strides, dilation */
    PadMode pad;
    /* window_infer: input and output sizes, padding before and after */
    int in[2], out[2], before[2], after[2];
} Window;

/* `name` as an int or a list of `rank` ints, each >= min (default def);
 * 0, or -1 after a located error. */
int lower_tuple(const Lower *lw, const char *name, int rank, int def, int min, int *out);
/* padding="valid" | "same" (| "causal"), case-insensitive as Keras. */
int lower_padding(const Lower *lw, int allow_causal, PadMode *out);
/* data_format: None or "channels_last"; "channels_first" is an error that
 * says how to convert. */
int lower_data_format(const Lower *lw);
/* l's input must be [steps, channels] (rank 1) or [height, width,
 * channels] (rank 2); the error suggests a Reshape. */
int window_input_rank(const Source *src, const Layer *l, int rank, const char *what);
/* The output size and padding of each spatial axis from l->in (Keras's
 * rule, TensorFlow's "same" padding); an error with the would-be output
 * shape (out_channels last) when a valid window does not fit. */
int window_infer(const Source *src, const Layer *l, Window *w, const char *what, int out_channels);
/* A seqrt_window initializer ({.h = ...}) for the runtime's kernels. */
const char *window_seqrt(const Window *w, int c, int oc, int groups);
/* " kernel=3,3 strides=1,1 [dilation=1,1] padding=same pads=1,1,1,1" */
void window_print(FILE *f, const Window *w, int dilation);

/* ---------------------------------------------------------------- layer kinds */

/* What a kind is, for the passes and the generic emitter. */
typedef enum {
    LK_TAKES_ACT = 1 << 0,    /* a following activation fuses into it (Dense) */
    LK_TAKES_NORM = 1 << 1,   /* a following normalization fuses into it */
    LK_NORM = 1 << 2,         /* a normalization that LK_TAKES_NORM kinds absorb */
    LK_VIEW = 1 << 3,         /* its output is its input's memory, reshaped (Flatten) */
    LK_TRAIN_ONLY = 1 << 4,   /* the identity at inference (Dropout) */
    LK_ACTIVATION = 1 << 5,   /* computes l->act and nothing else (Activation) */
    LK_GRAD_IN_PLACE = 1 << 6, /* backward may write d input over d output */
    LK_DX_OPTIONAL = 1 << 7   /* backward takes NULL for d input (the first layer skips it) */
} LayerProps;

typedef struct Plan Plan;
typedef struct Emit Emit;
typedef struct Site Site;
typedef struct Bake Bake;
typedef struct PyEmit PyEmit;

struct LayerKind {
    const char *name;         /* in the IR: "dense" */
    unsigned props;           /* LayerProps */
    const Syntax *const *syntax;   /* its Keras statements, NULL-terminated */
    /* l->out from l->in and the attributes; 0, or -1 after an error at l->loc */
    int (*infer)(const Source *src, Layer *l);
    /* declares the parameters (ir_add_param), once the shapes are known */
    void (*params)(Layer *l);
    /* the attributes in the IR text (after the shapes); NULL: none */
    void (*print)(FILE *f, const Layer *l);
    /* canonicalize drops the layer when this says it computes nothing */
    int (*noop)(const Layer *l);
    /* the buffers it keeps for backward (plan_keep), in a training model */
    void (*plan)(Plan *p, Layer *l);
    /* C statements: forward, and backward (NULL: no backward, the first
     * layers of a model that nothing trains before) */
    void (*forward)(Emit *e, const Site *s);
    void (*backward)(Emit *e, const Site *s);
    /* statements of NAME_init after its parameters are drawn (LSTM's
     * unit_forget_bias); NULL: none */
    void (*init)(Emit *e, const Layer *l);
    /* the baked build: the stages that compute it (bake_*) */
    void (*bake)(Bake *b, const Layer *l);
    /* a random stream of its own, seeded with this (Dropout(seed=...)); -1
     * or NULL: it draws from the model's stream */
    int64_t (*seed)(const Layer *l);
    /* --emit=pytorch (emit_pytorch.c): the torch module(s) that compute the
     * layer (py_module, py_activation), where each of its checkpoint tensors
     * goes in their state_dict (py_tensor: every Param must be mapped), and
     * what torch cannot reproduce (py_note). NULL: --emit=pytorch reports
     * that the kind has no PyTorch translation. */
    void (*pytorch)(PyEmit *e, const Layer *l);
};

/* The role under which a kind that LK_TAKES_ACT keeps its pre-activation:
 * the loss reads it as the logits when the output activation is folded
 * into the loss (Plan.keep_logits asks for it). */
#define KEEP_PREACT "z"

/* What Bidirectional uses of the recurrent kinds (layer_rnn.c); attr is a
 * recurrent layer's attributes, suffix "" or "_reverse" names one
 * direction's parameters and buffers. */
int rnn_is_recurrent(const LayerKind *k);
int rnn_units(const void *attr, int *return_sequences, int *go_backwards);
int rnn_check_input(const Source *src, const Layer *l, const char *what);
void rnn_params(Layer *l, const void *attr, const char *suffix);
void rnn_print(FILE *f, const void *attr);
void rnn_plan(Plan *p, Layer *l, const void *attr, const char *suffix, int batch);
void rnn_emit_forward(Emit *e, const Layer *l, const void *attr, const char *suffix, const char *x, const char *y,
                      int go_backwards, int return_sequences);
void rnn_emit_backward(Emit *e, const Layer *l, const void *attr, const char *suffix, const char *x,
                       const char *dy, const char *dx, int go_backwards, int return_sequences);
void rnn_emit_init(Emit *e, const Layer *l, const void *attr, const char *suffix);
int64_t rnn_seed(const void *attr);
/* --emit=pytorch of a recurrent layer (merge NULL) or Bidirectional (its merge_mode name) */
void rnn_pytorch(PyEmit *e, const Layer *l, const void *attr, const char *merge);
void rnn_bake(Bake *b, const Layer *l, const void *attr, int bidir, int merge, const char *what);   /* its own random stream (seed=, with dropout), or -1 */

/* What BatchNormalization and LayerNormalization share (layer_batchnorm.c). */
typedef struct {
    Axis axis;
    double momentum;      /* BatchNormalization only */
    double epsilon;
    int center, scale;
    WeightOpts beta, gamma;   /* initializers, regularizers, constraints */
    WeightOpts moving_mean, moving_variance;   /* initializers (BatchNormalization) */
} NormAttr;
int lower_norm_attr(Lower *lw, NormAttr *a);
/* Their gamma and beta in torch's module ("weight", "bias"), or frozen at
 * 1 and 0 when Keras's layer has none (scale=False, center=False). */
void pytorch_norm_affine(PyEmit *e, const Layer *l, const NormAttr *a);

/* A convolution kernel's Keras layout (layer_conv.c): (kh, kw, in / groups,
 * filters), or a depthwise kernel's (kh, kw, c, depth_multiplier) when
 * depth_multiplier > 0, over seqc's (filters, in / groups, kh, kw). */
void conv_keras_layout(Param *k, int depth_multiplier);

#define LAYER(name) extern const LayerKind kind_##name;
#include "layers.def"
#undef LAYER

/* Every kind, in layers.def order. */
extern const LayerKind *const layer_kinds[];
extern const int nlayer_kinds;

static inline int has_prop(const Layer *l, LayerProps p) { return (l->kind->props & p) != 0; }

/* ---------------------------------------------------------------- passes */

typedef int (*PassFn)(Model *m, int level);   /* returns 1 if it changed the model */
typedef struct {
    const char *name;
    PassFn fn;
    int min_level;        /* the -O level from which the pass runs */
} Pass;
extern const Pass passes[];
extern const int npasses;
#define PASS(name, min_level) int pass_##name(Model *m, int level);
#include "passes.def"
#undef PASS

/* ---------------------------------------------------------------- pass_plan.c */

struct Plan {
    Model *m;
    int training;         /* the model has a loss: backward exists */
    int keep_logits;      /* the layer being planned must keep KEEP_PREACT for the loss */
    long scratch;         /* the largest plan_scratch request so far */
};
/* From a kind's plan hook: l keeps `role` for backward, of `shape` per row
 * of the batch. Nothing is kept in a model that does not train. */
void plan_keep(Plan *p, Layer *l, const char *role, Shape shape, const char *what);
/* The same for a buffer of a fixed size (not per row): BatchNorm's mean. */
void plan_keep_fixed(Plan *p, Layer *l, const char *role, Shape shape, const char *what);
/* l's kernels need `floats` of working memory (forward and backward, not
 * kept between them). The model has one scratch buffer, as large as the
 * largest request, shared by every layer: planned in every model, trained
 * or not. */
void plan_scratch(Plan *p, Layer *l, long floats);
/* l's own intermediate value (SeparableConv's depthwise output): a buffer
 * of `shape` per row that forward writes and the next step reads, in every
 * model (unlike plan_keep); emit_keep finds it by role. */
void plan_value(Plan *p, Layer *l, const char *role, Shape shape, const char *what);

/* ---------------------------------------------------------------- tensors.c */

/* One checkpoint tensor of a model: name, kind, dtype, shape, and the
 * member of the generated state struct that holds it. */
typedef struct {
    const char *name;
    seqrt_tensor_kind kind;
    seqrt_dtype dtype;
    const char *member;   /* "param.l3_weight", "step", "rng" */
    const Param *param;   /* NULL for counters */
    int ndim, shape[MAX_RANK];
    double fill;          /* an optimizer tensor's fresh value (Adagrad's 0.1) */
} TensorRow;

int ir_tensors(const Model *m, TensorRow **rows);

/* The optimizer's state: up to three slots shaped like the parameters
 * (the state's opt_m, opt_v, opt_w), each with its checkpoint name
 * ("optimizer.<param>.<name>"), a comment and the value a fresh one holds;
 * Nadam's u_product scalar. */
typedef struct {
    const char *name[3];  /* NULL: the slot is not used */
    const char *what[3];
    double fill[3];
    int u_product;
} OptSlots;
/* Fills s; returns whether the model trains (has a loss). */
int ir_opt_slots(const Model *m, OptSlots *s);

/* ---------------------------------------------------------------- summary.c */

/* Keras's model.summary() table of a lowered model (before any pass), for
 * a terminal `columns` wide (Keras's line length is at most columns - 4);
 * o may be NULL (Keras's defaults). */
void summary_print(FILE *f, const Model *m, int columns, const SummaryOptions *o);

/* ---------------------------------------------------------------- emit_util.c */

/* Output buffer: generated files are built in memory, then written. */
typedef struct {
    char *data;
    size_t len, cap;
} Buf;
void buf_printf(Buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_bytes(Buf *b, const void *data, size_t n);
const char *float_literal(double v);      /* "0.001f": shortest exact; HUGE_VALF */
const char *upper_name(const char *s);    /* "iris" -> "IRIS" */
const char *base_name(const char *path);
int write_file_atomic(const char *path, const Buf *b);
/* Several files, all written before any is renamed into place. */
int write_files_atomic(const char *const *paths, const Buf *const *bufs, int n);
int make_dirs(const char *path);          /* mkdir -p; 0 or -1 (message printed) */

/* ---------------------------------------------------------------- emit_c.c */

typedef struct {
    const char *outdir;
    int main_program;     /* also NAME_main.c */
    const char *weights;  /* --inference: the checkpoint to compile in */
} EmitOptions;

/* Writes NAME.h and NAME.c (and NAME_main.c) for m into opt->outdir; each
 * file is written to a temporary name and renamed, so a failure leaves no
 * partial file. Returns 0 or -1 (message printed). */
int emit_model(const Model *m, const EmitOptions *opt);
/* Builds NAME.h and NAME.c in memory only (what emit_model writes); the
 * caller frees h->data and c->data. */
void emit_model_buffers(const Model *m, Buf *h, Buf *c);

/* One piece of computation in forward or backward: a layer, or the fused
 * norm of a layer. The kinds' forward/backward hooks read it. */
struct Site {
    const Layer *l;       /* the layer (for a fused norm: the norm itself) */
    const Layer *owner;   /* the IR layer it belongs to */
    const char *x, *y;    /* forward: input and output pointers */
    const char *rows;     /* the rows of the last axis: "n" or "n * 28" */
    Act act;              /* the activation it applies */
    /* backward */
    const char *dy;       /* d loss / d y (the kinds may overwrite it) */
    const char *dx;       /* where d loss / d x goes: "NULL" when not needed */
};

/* For the kinds' hooks: C text. */
void emit_line(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "net->param.l3_weight" (or buffer/grad block), or "NULL" when absent. */
const char *emit_param(const Emit *e, const Layer *l, const char *role);
const char *emit_grad(const Emit *e, const Layer *l, const char *role);
/* "net->l3_z" for a buffer the layer keeps, or "NULL" when the plan keeps
 * none (an inference-only model). */
const char *emit_keep(const Emit *e, const Layer *l, const char *role);
/* The activation as a C expression of type seqrt_actfn: a file-scope
 * constant of the generated code ("act_relu"). */
const char *emit_act(Emit *e, Act a);
/* The RNG state a layer draws from ("net->rng", "net->rng_l4"). */
const char *emit_rng(const Emit *e, const Layer *l);
/* Shape dims as a C99 compound literal: "(const int[]){28, 28, 1}". */
const char *emit_dims(const Shape *s);
/* "net->scratch": the model's scratch (l->scratch floats of it are l's). */
const char *emit_scratch(const Emit *e, const Layer *l);
/* Declares a file-scope constant of the generated source, once per name
 * (forward and backward may both ask): `static const TYPE NAME = INIT;`
 * before the functions. Returns the name. */
const char *emit_static(Emit *e, const char *type, const char *name, const char *init);
int emit_training(const Emit *e);   /* the model trains: backward exists */

/* ---------------------------------------------------------------- emit_pytorch.c */

/* Checks that every model can be emitted as PyTorch (a pytorch hook for
 * each kind, a model name Python can import); errors through diag. */
int pytorch_check(const Model *m);
/* Writes NAME.py: the model as a torch nn.Sequential, the checkpoint
 * mapping, Keras's initializers, loss and optimizer. 0 or -1. */
int emit_pytorch(const Model *m, const EmitOptions *opt);
/* Builds NAME.py in memory only; the caller frees out->data. */
void emit_pytorch_buffer(const Model *m, Buf *out);

/* Channels: seqc's tensors are channels-last, torch's convolution-like
 * modules channels-first. A hook first says which layout its modules take
 * (before its py_module calls); without a call, channels-last. The
 * generated model permutes only where the layout changes (Permute modules
 * "3_channels_first", "3_channels_last"), and its input and output are
 * channels-last, as seqc's. Samples of rank 1 have no channels axis. */
typedef enum {
    PY_CHANNELS_LAST,    /* Dense, Flatten, LayerNormalization, ... */
    PY_CHANNELS_FIRST,   /* nn.Conv2d, nn.MaxPool2d, ... */
    PY_ANY_LAYOUT        /* elementwise: Dropout, Rescaling */
} PyLayout;
void py_layout(PyEmit *e, const Layer *l, PyLayout want);
/* The running tensor is channels-first (a PY_ANY_LAYOUT hook that picks
 * its module by layout: BatchNormalization). */
int py_channels_first_now(const PyEmit *e);

/* For the kinds' pytorch hooks. The modules of a model form one
 * nn.Sequential whose children are named after the statements, so that
 * state_dict keys are the checkpoint's names: "3" for the module of
 * statement 3, "3_SUFFIX" for more modules of the same statement (suffix
 * NULL: "3"). ctor is a Python expression that builds the module, e.g.
 * "nn.Linear(30, 64, bias=True)". */
void py_module(PyEmit *e, const Layer *l, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The activation a as a module named "3_SUFFIX" (nothing for linear); the
 * module list remembers it, so the loss can skip a final sigmoid or
 * softmax to read the logits. */
void py_activation(PyEmit *e, const Layer *l, const char *suffix, Act a);
/* l's parameter `role` is the state_dict entry ATTR of module "3[_SUFFIX]"
 * (e.g. "weight"). to_torch and from_torch are Python expressions of a
 * tensor t converting the checkpoint's layout to torch's and back
 * ("t.permute(3, 2, 0, 1)"), NULL when the layouts agree. */
void py_tensor(PyEmit *e, const Layer *l, const char *role, const char *suffix, const char *attr,
               const char *to_torch, const char *from_torch);
/* A Python statement run on the built model, `model` in scope (e.g. to
 * freeze a parameter torch's module has and Keras's layer does not). */
void py_setup(PyEmit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A class or function the module expressions use, defined once (by name)
 * before the model, in the order first asked for. */
void py_helper(PyEmit *e, const char *name, const char *text);
/* A line of the docstring's "What PyTorch does not reproduce exactly",
 * about layer l. */
void py_note(PyEmit *e, const Layer *l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "3" (rank 1) or "(3, 3)" (rank 2): a window's sizes for torch's modules. */
const char *py_ints(const int *v, int rank);
/* A window's padding (w->before, w->after): "" when it has none; the
 * argument ", padding=P" of torch's module when symmetric; otherwise a
 * module "3_pad", nn.ConstantPadNd with `value` ("0.0", "-math.inf"),
 * before the window's module, and "". Channels-first. */
const char *py_window_padding(PyEmit *e, const Layer *l, const Window *w, const char *value);
/* A float as Python writes it: the shortest text that reads back as v. */
const char *py_float(double v);
/* A shape as a Python tuple: "(30,)", "(28, 28)". */
const char *py_shape(const Shape *s);
/* layer_activation.c: activation a as a torch module expression
 * ("nn.ReLU()", "nn.ELU(alpha=1.0)"), asking for the helpers it needs. */
const char *py_act(PyEmit *e, Act a);

/* ---------------------------------------------------------------- bake_plan.c, bake_write.c */

/* Writes prediction-only NAME_infer.h/.c (and .bin) with the weights of
 * opt->weights compiled in. */
int emit_baked(const Model *m, const EmitOptions *opt);

/* A stage of the baked build: one loop nest over a sample. */
typedef enum {
    ST_AFFINE,            /* y (r, out) = x (r, in) w^T + b, over r rows of the last axis */
    ST_SCALE,             /* y = x * s + t, per channel of the last axis */
    ST_ACT,               /* an elementwise or row-wise activation */
    ST_LAYERNORM,         /* normalize each row of the last axis, then * s + t */
    ST_PRELU,             /* x > 0 ? x : alpha x, alpha broadcast over shared axes */
    ST_CONV,              /* a (grouped) convolution over win, + b, then act */
    ST_POOL,              /* max or average pooling over win, then act */
    ST_SHIFT,             /* zero padding (top, left > 0) or cropping (< 0) */
    ST_UPSAMPLE,          /* nearest upsampling by (top, left) */
    ST_EMBED,             /* rows of the table w (top = rows, left = dim) by id */
    ST_RNN                /* a recurrent layer over [steps, features], one or two directions */
} StageKind;

typedef struct {
    StageKind kind;
    Shape in, out;        /* one sample */
    double *w, *b;        /* AFFINE: w (out, in), b (out); CONV: w (oc, c / groups, kh, kw), b (oc) */
    double *s, *t;        /* SCALE: y = x * s + t; LAYERNORM: gamma, beta; PRELU: s = alpha */
    Shape adims;          /* PRELU: alpha's dims */
    double eps;           /* LAYERNORM */
    Act act;              /* ACT; CONV and POOL: applied to the output (folded in) */
    Window win;           /* CONV, POOL */
    int groups;           /* CONV */
    int pool_max;         /* POOL: max (1) or average (0) */
    int top, left;        /* SHIFT: offsets; UPSAMPLE: factors */
    /* RNN: cell 0 SimpleRNN, 1 LSTM, 2 GRU; units; gates; reset_after;
     * return_sequences; go_backwards (of the first direction); bidir: two
     * directions merged by merge (seqrt_merge_mode); act is the cell's
     * activation and rec_act the gates'. rw: w_ih (G, F), w_hh (G, H), b_ih
     * (G), b_hh (G) (zeros where the layer has none), then the reverse
     * direction's. */
    int cell, units, gates, reset_after, rseq, gback, bidir, merge;
    Act rec_act;
    double *rw[8];
    long scratch;         /* floats of the arena it works in besides its input and output */
    const char *what;     /* the layers it computes, for comments */
} Stage;

/* From a kind's bake hook. */
Stage *bake_stage(Bake *b, StageKind kind, const Layer *l, const char *what);
/* The values of l's parameter `role` from the checkpoint (count doubles),
 * or `def` everywhere when l has no such parameter. */
double *bake_param(Bake *b, const Layer *l, const char *role, long count, double def);
double *bake_alloc(long n);
/* Folds BatchNorm's running statistics into a scale (s, t) per channel. */
void bake_norm_scale(Bake *b, const Layer *bn, double epsilon, double **s, double **t);

#endif
