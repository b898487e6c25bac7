/*
 * seqc.h - the compiler's one internal header, sectioned by file.
 *
 * The pipeline (see main.c) is: source text -> tokens (grammar/model.l) ->
 * syntax tree (grammar/model.y, ast.c) -> IR (lower.c: Keras names and
 * defaults resolved, shapes inferred, every error reported with its
 * location) -> passes (passes.def, pass_*.c, each checked by ir_verify) ->
 * C (emit_c.c, emit_h.c, emit_main.c, emit_baked.c).
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
    VAL_CALL      /* Dense(64, activation="relu") */
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
Value *ast_negate(Value *number, Loc loc);
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

typedef enum {
#define OP(id, name) OP_##id,
#include "ops.def"
#undef OP
    OP_COUNT
} OpKind;

/* What a parameter tensor of a layer holds. */
typedef enum {
    P_KERNEL,        /* Dense weight (out, in), PyTorch layout: "k.weight" */
    P_BIAS,          /* Dense bias (out): "k.bias" */
    P_GAMMA,         /* norm scale (c): "k.weight" */
    P_BETA,          /* norm shift (c): "k.bias" */
    P_RUN_MEAN,      /* BatchNorm moving mean: "k.running_mean" */
    P_RUN_VAR,       /* BatchNorm moving variance: "k.running_var" */
    P_NORM_MEAN,     /* Normalization mean: "k.mean" */
    P_NORM_VAR       /* Normalization variance: "k.variance" */
} ParamRole;

typedef struct {
    const char *name;     /* safetensors name, "3.weight" */
    const char *cname;    /* C member name, "l3_weight" */
    ParamRole role;
    int trainable;
    int rows, cols;       /* cols == 0: a vector of `rows` */
    int init;             /* seqrt_init_kind */
} Param;

#define MAX_PARAMS 8

typedef struct Layer {
    OpKind op;
    int index;            /* position of the layer statement in the model */
    Loc loc;
    int in, out;          /* features per row */
    int act;              /* seqrt_act: DENSE's fused activation, ACTIVATION's */
    /* DENSE */
    int use_bias;
    int kernel_init, bias_init;
    /* BATCHNORM / LAYERNORM, or the norm fused into a DENSE (norm != OP_COUNT) */
    OpKind norm;
    int norm_index;       /* statement index of the fused norm layer */
    double momentum, epsilon;
    int center, scale;
    /* DROPOUT */
    double rate;
    int64_t seed;         /* -1: none given */
    /* fused activation's statement index (for printing), -1 if none */
    int act_index;
    Param param[MAX_PARAMS];
    int nparam;
} Layer;

typedef enum {
    MONITOR_MIN = 1,
    MONITOR_MAX = 2
} MonitorMode;

typedef struct {
    int enabled;
    Loc loc;
    const char *monitor;
    double min_delta;
    int patience;
    int mode;             /* 0 auto, MONITOR_MIN, MONITOR_MAX */
    int restore_best_weights;
    int start_from_epoch;
} EarlyStopping;

typedef struct {
    int kind;             /* seqrt_opt_kind */
    Loc loc;
    double lr, momentum, beta1, beta2, epsilon, rho, weight_decay;
    int nesterov;
} Optimizer;

typedef struct Model {
    const char *name;
    Loc loc;
    const Source *src;
    int in_shape[8], in_rank;
    int in, out;
    Layer *layer;
    int nlayers, cap;
    int loss;             /* seqrt_loss_kind, -1 before compile() */
    Loc loss_loc;
    Optimizer opt;
    int metric[8], nmetrics;
    const char *metric_label[8];   /* as the user wrote it: "accuracy" */
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
    /* set by pass_plan: gradient buffers are reused (ping-pong) */
    int planned;
} Model;

typedef struct {
    Model **model;
    int n;
} Program;

extern const char *const op_names[OP_COUNT];
Layer *ir_add_layer(Model *m, OpKind op, int index, Loc loc);
void ir_insert_layer(Model *m, int at, const Layer *l);
void ir_remove_layer(Model *m, int at);
/* (Re)computes every layer's in/out from the model's input and each layer's
 * attributes, and names its parameters; returns 0 or reports errors. */
int ir_infer_shapes(Model *m);
/* Checks the IR's invariants; prints "seqc: internal error" and returns -1
 * on the first violation. Run after lowering and after every pass. */
int ir_verify(const Model *m, const char *after);
long ir_param_count(const Model *m, int trainable);
/* The layer whose output is the model's output before the loss's logits
 * (for loss_from_logits). */
const char *ir_act_name(int act);

/* ---------------------------------------------------------------- ir_print.c */

void ir_print(FILE *out, const Model *m);

/* ---------------------------------------------------------------- lower.c */

/* Lowers each model of the syntax tree, reporting semantic errors. Models
 * with errors are left out. */
Program *lower_program(const Source *src, ModelAst *models);

/* ---------------------------------------------------------------- passes */

typedef int (*PassFn)(Model *m);   /* returns 1 if it changed the model */
typedef struct {
    const char *name;
    PassFn fn;
    int min_level;        /* the -O level from which the pass runs */
} Pass;
extern const Pass passes[];
extern const int npasses;
int pass_canonicalize(Model *m);
int pass_fuse(Model *m);
int pass_fold(Model *m);
int pass_plan(Model *m);

/* ---------------------------------------------------------------- tensors.c */

/* One checkpoint tensor of a model: name, kind, dtype, shape, and the
 * member of the generated state struct that holds it. */
typedef struct {
    const char *name;
    int kind, dtype;      /* seqrt_tensor_kind, seqrt_dtype */
    const char *member;   /* "param.l3_weight", "step", "rng" */
    const Param *param;   /* NULL for counters */
    int ndim, shape[2];
} TensorRow;

int ir_tensors(const Model *m, TensorRow **rows);
/* Optimizer slot names ("m", "v", "momentum", "velocity") or NULL; returns
 * whether the model trains (has a loss). */
int ir_opt_slots(const Model *m, const char **slot_m, const char **slot_v);

/* ---------------------------------------------------------------- emit */

typedef struct {
    const char *outdir;
    int main_program;     /* also NAME_main.c */
    const char *weights;  /* --inference: the checkpoint to compile in */
} EmitOptions;

/* Writes NAME.h and NAME.c (and NAME_main.c) for m into opt->outdir; each
 * file is written to a temporary name and renamed, so a failure leaves no
 * partial file. Returns 0 or -1 (message printed). */
int emit_model(const Model *m, const EmitOptions *opt);

/* Writes prediction-only NAME_infer.h/.c with the weights of opt->weights
 * compiled in (emit_baked.c). */
int emit_baked(const Model *m, const EmitOptions *opt);

/* Output buffer: generated files are built in memory, then written. */
typedef struct {
    char *data;
    size_t len, cap;
} Buf;
/* Builds NAME.h and NAME.c in memory only (what emit_model writes); the
 * caller frees h->data and c->data. Returns 1 for a model that trains,
 * 0 for an inference-only one, -1 on an error (message printed). */
int emit_model_buffers(const Model *m, Buf *h, Buf *c);
void buf_printf(Buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_bytes(Buf *b, const void *data, size_t n);
void buf_float(Buf *b, float f);          /* round-trip exact, C syntax */
const char *float_literal(double v);      /* "0.001f": shortest exact */
int write_file_atomic(const char *path, const Buf *b);
/* Several files, all written before any is renamed into place. */
int write_files_atomic(const char *const *paths, const Buf *const *bufs, int n);
int make_dirs(const char *path);          /* mkdir -p; 0 or -1 (message printed) */

#endif
