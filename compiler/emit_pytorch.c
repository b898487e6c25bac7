/*
 * emit_pytorch.c - IR -> NAME.py (--emit=pytorch): the model as a PyTorch
 * module, for users who want to fine-tune, inspect or export (ONNX) a
 * model they received as a seqc model file and checkpoint.
 *
 * The model is one nn.Sequential whose children are named after the
 * statements of the model file ("3", and "3_act" for the activation a
 * Dense applies), so its state_dict has the checkpoint's tensor names and a
 * seqc checkpoint loads by name. Each layer kind writes its own modules
 * and tensor mapping (its pytorch hook, with py_module, py_activation,
 * py_tensor, py_setup, py_helper, py_note); this file writes what is
 * around them: the docstring with what torch cannot reproduce, Keras's
 * initializers (from each Param's initializer and fans), the safetensors
 * reader and writer, the checkpoint loader (weights and optimizer slots)
 * and saver, Keras's loss (computed from the logits where seqc does; label
 * smoothing, class weights, and the penalties of the weight and activity
 * regularizers added as Keras adds them) and Keras's optimizer. An update
 * rule torch.optim has exactly (SGD, Adam/AdamW with amsgrad through
 * KerasEpsilon, Adadelta) is torch's with Keras's constants; the others
 * (Keras 3's RMSprop, Adagrad, Adamax, Nadam, Lion, Ftrl, SGD momentum
 * under a changing learning rate) are small KerasRule classes written
 * after Keras's formulas (runtime/optim.c has the same). Keras's apply()
 * around the rule (clipping, the learning-rate schedule as a Python
 * function, decoupled weight decay, the weights' constraints) is the
 * KerasApply mixin, emitted only when the model uses one of them.
 *
 * It works on the IR as lowered, before the passes: one layer per
 * statement, nothing fused. The output is deterministic and imports only
 * the Python standard library and torch.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

typedef struct {
    const Layer *l;
    const char *name;      /* "3", "3_act" */
    const char *ctor;      /* "nn.Linear(30, 64, bias=True)" */
    int is_act;            /* made by py_activation */
} PyModule;

typedef struct {
    const Param *p;
    const char *key;       /* state_dict key: "3.weight" */
    const char *to_torch, *from_torch;
} PyTensor;

typedef struct {
    const char **v;
    int n, cap;
} StrList;

struct PyEmit {
    const Model *m;
    PyModule *mod;
    int nmod, capmod;
    PyTensor *ten;
    int nten, capten;
    StrList helper_names, helpers, setup, notes;
    /* Channels: the running tensor is channels-first (torch's layout) after
     * the modules so far; seqc's, the model's input and its output are
     * channels-last. want: the layout the current layer's modules take
     * (py_layout; channels-last unless the hook says otherwise). */
    int channels_first;
    int rank;              /* the running tensor's sample rank */
    PyLayout want;
    int permutes;          /* Permute modules added */
};

static void *grow(void *v, int n, int *cap, size_t size)
{
    if (n < *cap)
        return v;
    int ncap = *cap ? 2 * *cap : 16;
    void *p = arena_alloc(size * (size_t)ncap);
    if (n)
        memcpy(p, v, size * (size_t)n);
    *cap = ncap;
    return p;
}

static void str_push(StrList *s, const char *text)
{
    s->v = grow(s->v, s->n, &s->cap, sizeof *s->v);
    s->v[s->n++] = text;
}

/* ---------------------------------------------------------------- the source text */

/* The statement of layer l as written, on one line, for a comment. */
static const char *statement_text(const Model *m, const Layer *l)
{
    const char *t = m->src->text + l->loc.start;
    int len = l->loc.end - l->loc.start;
    char *out = arena_alloc((size_t)len + 8);
    int n = 0, space = 0;
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\\') {
            space = n > 0;
            continue;
        }
        if (space && out[n - 1] != '(' && out[n - 1] != '[' && c != ')' && c != ']')
            out[n++] = ' ';
        space = 0;
        out[n++] = (char)c;
        if (n >= 90) {
            strcpy(out + n, " ...");
            return out;
        }
    }
    out[n] = 0;
    return out;
}

/* The Keras name of l's statement ("Dense"), from the source text. */
static const char *keras_name(const Model *m, const Layer *l)
{
    const char *t = m->src->text + l->loc.start, *end = m->src->text + l->loc.end;
    const char *open = memchr(t, '(', (size_t)(end - t));
    const char *start = t;
    for (const char *c = t; c < (open ? open : end); c++)
        if (*c == '.')
            start = c + 1;
    return arena_strndup(start, (size_t)((open ? open : end) - start));
}

/* ---------------------------------------------------------------- for the kinds */

static const char *module_name(const Layer *l, const char *suffix)
{
    return suffix ? arena_printf("%d_%s", l->index, suffix) : arena_printf("%d", l->index);
}

static void push_module(PyEmit *e, const Layer *l, const char *suffix, const char *ctor, int is_act)
{
    const char *name = module_name(l, suffix);
    for (int i = 0; i < e->nmod; i++)
        if (!strcmp(e->mod[i].name, name))
            ir_internal_error("a pytorch hook names two modules alike");
    e->mod = grow(e->mod, e->nmod, &e->capmod, sizeof *e->mod);
    e->mod[e->nmod++] = (PyModule){l, name, ctor, is_act};
}

static const char *const py_permute =
    "class Permute(nn.Module):\n"
    "    \"\"\"x.permute(*dims): between Keras's channels-last tensors, (n, height,\n"
    "    width, channels) or (n, steps, channels), and torch's channels-first\n"
    "    modules, (n, channels, height, width) or (n, channels, steps).\"\"\"\n"
    "\n"
    "    def __init__(self, *dims):\n"
    "        super().__init__()\n"
    "        self.dims = dims\n"
    "\n"
    "    def forward(self, x):\n"
    "        return x.permute(*self.dims)\n"
    "\n"
    "    def extra_repr(self):\n"
    "        return f\"dims={self.dims}\"\n";

/* A Permute module before l's next module (suffix "channels_first" or
 * "channels_last") that moves the channels of the running tensor to axis 1
 * (first) or back to the end. */
static void permute(PyEmit *e, const Layer *l, int to_first, const char *suffix)
{
    int r = e->rank;   /* the sample's; the batch is axis 0 */
    const char *dims = "0";
    for (int i = 1; i <= r; i++)
        dims = arena_printf("%s, %d", dims, to_first ? (i == 1 ? r : i - 1) : (i == r ? 1 : i + 1));
    py_helper(e, "Permute", py_permute);
    push_module(e, l, suffix, arena_printf("Permute(%s)", dims), 0);
    e->channels_first = to_first;
    e->permutes++;
}

/* Brings the running tensor into the layout l's next module takes. A
 * sample of rank 1 (features) has no channels axis to move. */
static void settle_layout(PyEmit *e, const Layer *l)
{
    if (e->rank < 2) {
        e->channels_first = 0;
        return;
    }
    if (e->want == PY_CHANNELS_FIRST && !e->channels_first)
        permute(e, l, 1, "channels_first");
    else if (e->want == PY_CHANNELS_LAST && e->channels_first)
        permute(e, l, 0, "channels_last");
}

static void add_module(PyEmit *e, const Layer *l, const char *suffix, const char *ctor, int is_act)
{
    settle_layout(e, l);
    push_module(e, l, suffix, ctor, is_act);
}

void py_layout(PyEmit *e, const Layer *l, PyLayout want)
{
    (void)l;
    e->want = want;
}

int py_channels_first_now(const PyEmit *e)
{
    return e->channels_first;
}

void py_module(PyEmit *e, const Layer *l, const char *suffix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *ctor = arena_vprintf(fmt, ap);
    va_end(ap);
    add_module(e, l, suffix, ctor, 0);
}

void py_activation(PyEmit *e, const Layer *l, const char *suffix, Act a)
{
    if (act_is_linear(a))
        return;
    /* Elementwise functions work in either layout; softmax and log_softmax
     * over the last axis, Keras's channels. The model's final activation
     * comes after the output's Permute, so that the loss can read the
     * logits by leaving out the last module. */
    if (act_rowwise(a) || l == &e->m->layer[e->m->nlayers - 1])
        e->want = PY_CHANNELS_LAST;
    e->rank = l->out.rank;   /* it applies to the layer's output */
    add_module(e, l, suffix, py_act(e, a), 1);
}

void py_tensor(PyEmit *e, const Layer *l, const char *role, const char *suffix, const char *attr,
               const char *to_torch, const char *from_torch)
{
    const Param *p = ir_param(l, role);
    if (!p)
        ir_internal_error("a pytorch hook maps a parameter the layer does not have");
    e->ten = grow(e->ten, e->nten, &e->capten, sizeof *e->ten);
    e->ten[e->nten++] = (PyTensor){p, arena_printf("%s.%s", module_name(l, suffix), attr), to_torch, from_torch};
}

void py_setup(PyEmit *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str_push(&e->setup, arena_vprintf(fmt, ap));
    va_end(ap);
}

void py_helper(PyEmit *e, const char *name, const char *text)
{
    for (int i = 0; i < e->helper_names.n; i++)
        if (!strcmp(e->helper_names.v[i], name))
            return;
    str_push(&e->helper_names, name);
    str_push(&e->helpers, text);
}

void py_note(PyEmit *e, const Layer *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *text = arena_vprintf(fmt, ap);
    va_end(ap);
    str_push(&e->notes, l ? arena_printf("%s (statement %d, line %d): %s", keras_name(e->m, l), l->index,
                                         diag_line_of(e->m->src, l->loc.start) + 1, text)
                          : text);
}

const char *py_float(double v)
{
    if (v >= 1e300)
        return "math.inf";
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* Python reads "1e-07" and "64" as numbers; keep floats floats. */
    if (!strpbrk(buf, ".en"))
        strcat(buf, ".0");
    return arena_strdup(buf);
}

/* ---------------------------------------------------------------- windows */

const char *py_ints(const int *v, int rank)
{
    return rank == 1 ? arena_printf("%d", v[0]) : arena_printf("(%d, %d)", v[0], v[1]);
}

/* (left, right[, top, bottom]): F.pad's order, the last axis first. */
static const char *pad_tuple(const Window *w)
{
    return w->rank == 1 ? arena_printf("(%d, %d)", w->before[0], w->after[0])
                        : arena_printf("(%d, %d, %d, %d)", w->before[1], w->after[1], w->before[0], w->after[0]);
}

const char *py_window_padding(PyEmit *e, const Layer *l, const Window *w, const char *value)
{
    int any = 0, symmetric = 1;
    for (int a = 0; a < w->rank; a++) {
        any |= w->before[a] || w->after[a];
        symmetric &= w->before[a] == w->after[a];
    }
    if (!any)
        return "";
    if (symmetric)
        return arena_printf(", padding=%s", py_ints(w->before, w->rank));
    py_module(e, l, "pad", "nn.ConstantPad%dd(%s, %s)  # %s", w->rank, pad_tuple(w), value,
              w->pad == PAD_CAUSAL ? "padding=\"causal\": all of it before"
                                   : "TensorFlow's \"same\": the odd one at the end");
    return "";
}

/* ---------------------------------------------------------------- checks */

/* Names a model cannot have here: Python's keywords (`import NAME` fails)
 * and the modules NAME.py imports (NAME.py would hide them from itself). */
static const char *const py_keywords[] = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield"};
static const char *const py_imported[] = {"array", "collections", "json", "math", "os", "struct", "sys", "torch"};

int pytorch_check(const Model *m)
{
    int err = 0;
    for (int i = 0; i < COUNT_OF(py_keywords); i++)
        if (!strcmp(m->name, py_keywords[i])) {
            diag_error(m->src, m->loc, "--emit=pytorch: a model named '%s' cannot be a Python module: the name is "
                       "a Python keyword; rename the model", m->name);
            err = -1;
        }
    for (int i = 0; i < COUNT_OF(py_imported); i++)
        if (!strcmp(m->name, py_imported[i])) {
            diag_error(m->src, m->loc, "--emit=pytorch: a model named '%s' cannot be a Python module: %s.py would "
                       "hide the module '%s' it imports; rename the model", m->name, m->name, m->name);
            err = -1;
        }
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (!l->kind->pytorch) {
            diag_error(m->src, l->loc, "--emit=pytorch: layer kind '%s' has no PyTorch translation yet",
                       l->kind->name);
            err = -1;
        }
    }
    return err;
}

/* ---------------------------------------------------------------- the file */

/* "30" or "28, 28": the dims of a sample, for "(n, %s)". */
static const char *shape_list(const Shape *s)
{
    const char *t = "";
    for (int i = 0; i < s->rank; i++)
        t = arena_printf("%s%s%d", t, i ? ", " : "", s->dim[i]);
    return t;
}

const char *py_shape(const Shape *s)
{
    const char *t = "(";
    for (int i = 0; i < s->rank; i++)
        t = arena_printf("%s%d%s", t, s->dim[i], s->rank == 1 ? "," : i + 1 < s->rank ? ", " : "");
    return arena_printf("%s)", t);
}

static const char *loss_comment(const Model *m)
{
    if (m->loss_on_logits)
        return "from the output logits (from_logits=True)";
    if (m->loss_from_logits)
        return "from the logits of the final activation, as Keras does (the model without its last module)";
    return "from the outputs";
}

/* text as lines of at most 76 columns: the first after `first`, the
 * others after `indent`. */
static void wrap(Buf *b, const char *first, const char *indent, const char *text)
{
    const char *lead = first;
    while (*text) {
        int room = 76 - (int)strlen(lead), len = (int)strlen(text), cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                for (cut = room; text[cut] && text[cut] != ' '; cut++)
                    ;
        }
        buf_printf(b, "%s%.*s\n", lead, cut, text);
        text += cut;
        while (*text == ' ')
            text++;
        lead = indent;
    }
}

static void emit_docstring(Buf *b, const PyEmit *e, const char *file)
{
    const Model *m = e->m;
    const char *n = m->name;
    buf_printf(b, "\"\"\"%s.py - model '%s' as a PyTorch module.\n\n", n, n);
    buf_printf(b, "Generated by seqc %s from %s (seqc --emit=pytorch). Do not edit.\n\n", SEQC_VERSION, file);
    buf_printf(b, "    import torch\n    import %s\n\n", n);
    buf_printf(b, "    model = %s.build()                     # Keras's initializers\n", n);
    buf_printf(b, "    %s.load_checkpoint(model, \"%s.safetensors\")   # a seqc checkpoint\n", n, n);
    buf_printf(b, "    model.eval()\n    y = model(x)                  # x: (n, %s) float32, y: (n, %s)\n",
               shape_list(&m->in_shape), shape_list(&m->out_shape));
    if (m->has_loss) {
        buf_printf(b, "    opt = %s.optimizer(model)            # as Keras updates the weights\n", n);
        buf_printf(b, "    %s.load_checkpoint(model, \"%s.safetensors\", opt)   # with its optimizer state\n", n, n);
        buf_printf(b, "    loss = %s.train_step(model, opt, x, target)\n", n);
    }
    buf_printf(b, "    %s.save_checkpoint(model, \"tuned.safetensors\")   # back to seqc\n", n);
    buf_printf(b, "    torch.onnx.export(model.eval(), torch.zeros(1, %s), \"%s.onnx\")\n\n",
               shape_list(&m->in_shape), n);
    buf_printf(b, "The children of the nn.Sequential are named after the statements of\n"
                  "%s (its layers counted from 0), as seqc names the checkpoint's\n"
                  "tensors, so model.state_dict() and the checkpoint share their names:\n"
                  "\"1.weight\" is the weight of statement 1. An activation that a layer\n"
                  "applies (Dense(activation=\"relu\")) is a module of its own, \"1_act\".\n"
                  "Hyper-parameters follow the model file with Keras's defaults.\n\n", file);
    if (e->permutes)
        buf_printf(b, "Channels: the model takes and returns Keras's channels-last tensors, as\n"
                      "seqc does; its convolution, pooling, padding and upsampling modules are\n"
                      "torch's channels-first ones, with Permute modules where the layout\n"
                      "changes (\"3_channels_first\", \"5_channels_last\"), so a Flatten sees\n"
                      "Keras's (height, width, channels) order. The checkpoint's kernels are\n"
                      "in torch's layout already: they load as they are.\n\n");
    buf_printf(b, "What PyTorch does not reproduce exactly:\n");
    for (int i = 0; i < e->notes.n; i++)
        wrap(b, "  - ", "    ", e->notes.v[i]);
    buf_printf(b, "  - Random numbers: build() draws Keras's initial distributions from\n"
                  "    torch's generator, not seqc's numbers; load a checkpoint to get the\n"
                  "    same weights.\n"
                  "  - Arithmetic: seqc computes in float32 with its own summation order, so\n"
                  "    outputs agree to float32 rounding (about 1e-6 relative), not bit for\n"
                  "    bit.\n");
    if (m->has_loss)
        buf_printf(b, "  - fit(): seqc's training loop (batching, validation split, shuffling,\n"
                      "    callbacks) is not translated; train_step() is one step of it.\n");
    buf_printf(b, "\"\"\"\n");
}

static const char *const py_imports =
    "import array\n"
    "import json\n"
    "import math\n"
    "import os\n"
    "import struct\n"
    "import sys\n"
    "from collections import OrderedDict\n"
    "\n"
    "import torch\n"
    "import torch.nn.functional as F\n"
    "from torch import nn\n";

static void emit_build(Buf *b, const PyEmit *e)
{
    const Model *m = e->m;
    buf_printf(b, "\n\ndef build():\n");
    buf_printf(b, "    \"\"\"Model '%s' as an nn.Sequential, with Keras's initial weights.\n", m->name);
    buf_printf(b, "    Input: (n, %s) float32; output: (n, %s).\"\"\"\n", shape_list(&m->in_shape),
               shape_list(&m->out_shape));
    buf_printf(b, "    model = nn.Sequential(OrderedDict([\n");
    const Layer *prev = NULL;
    for (int i = 0; i < e->nmod; i++) {
        const PyModule *pm = &e->mod[i];
        if (pm->l != prev)
            buf_printf(b, "        # line %d: %s\n", diag_line_of(m->src, pm->l->loc.start) + 1,
                       statement_text(m, pm->l));
        prev = pm->l;
        const char *comment = strstr(pm->ctor, "  # ");   /* "nn.X(...)  # why" */
        if (comment)
            buf_printf(b, "        (\"%s\", %.*s),%s\n", pm->name, (int)(comment - pm->ctor), pm->ctor, comment);
        else
            buf_printf(b, "        (\"%s\", %s),\n", pm->name, pm->ctor);
    }
    buf_printf(b, "    ]))\n");
    for (int i = 0; i < e->setup.n; i++)
        buf_printf(b, "    %s\n", e->setup.v[i]);
    buf_printf(b, "    init_weights(model)\n    return model\n");
}

static const char *fan(int f) { return arena_printf("%d", f > 0 ? f : 1); }

/* Keras's layout of p as rows x cols, for Identity (emit_c.c's
 * keras_layout): a transposed Dense kernel is (in, units), any other
 * tensor its leading axes by its last. */
static void keras_rows_cols(const Param *p, int *rows, int *cols)
{
    if (p->transposed) {
        *rows = p->shape.dim[1];
        *cols = p->shape.dim[0];
        return;
    }
    *cols = p->shape.rank ? p->shape.dim[p->shape.rank - 1] : 1;
    *rows = (int)(shape_size(&p->shape) / *cols);
}

/* The Python statement that draws p's initial value into tensor t: the
 * kind with the arguments of its class form (ispec), or Keras's defaults. */
static const char *init_line(const Param *p, const char *t)
{
    const InitSpec *s = &p->ispec;
    int args = s->has_args || s->has_seed;
    seqrt_init_kind kind = args ? s->kind : p->init;
    seqrt_init_args a = s->args;
    if (!s->has_args) {   /* Keras's defaults (emit_c.c's emit_init_args) */
        a.a = kind == SEQRT_INIT_RANDOM_UNIFORM ? -0.05 : kind == SEQRT_INIT_VARIANCE_SCALING ||
              kind == SEQRT_INIT_ORTHOGONAL || kind == SEQRT_INIT_IDENTITY ? 1.0 : 0.0;
        a.b = 0.05;
        a.mode = 0;
        a.distribution = 0;
    }
    const char *fi = fan(p->fan_in), *fo = fan(p->fan_out);
    if ((unsigned)kind >= SEQRT_INIT_COUNT)
        ir_internal_error("an initializer that is not a seqrt_init_kind");
    switch (kind) {
    case SEQRT_INIT_ZEROS:
        return arena_printf("%s.zero_()", t);
    case SEQRT_INIT_ONES:
        return arena_printf("%s.fill_(1.0)", t);
    case SEQRT_INIT_GLOROT_UNIFORM:
        return arena_printf("_uniform(%s, math.sqrt(6 / (%s + %s)))", t, fi, fo);
    case SEQRT_INIT_GLOROT_NORMAL:
        return arena_printf("_truncated_normal(%s, math.sqrt(2 / (%s + %s)) / TRUNCATION)", t, fi, fo);
    case SEQRT_INIT_HE_UNIFORM:
        return arena_printf("_uniform(%s, math.sqrt(6 / %s))", t, fi);
    case SEQRT_INIT_HE_NORMAL:
        return arena_printf("_truncated_normal(%s, math.sqrt(2 / %s) / TRUNCATION)", t, fi);
    case SEQRT_INIT_LECUN_UNIFORM:
        return arena_printf("_uniform(%s, math.sqrt(3 / %s))", t, fi);
    case SEQRT_INIT_LECUN_NORMAL:
        return arena_printf("_truncated_normal(%s, math.sqrt(1 / %s) / TRUNCATION)", t, fi);
    case SEQRT_INIT_RANDOM_UNIFORM:
        if (!s->has_args)
            return arena_printf("_uniform(%s, 0.05)", t);
        return arena_printf("%s.uniform_(%s, %s)", t, py_float(a.a), py_float(a.b));
    case SEQRT_INIT_RANDOM_NORMAL:
        return arena_printf("%s.normal_(%s, %s)", t, py_float(a.a), py_float(s->has_args ? a.b : 0.05));
    case SEQRT_INIT_CONSTANT:
        return arena_printf("%s.fill_(%s)", t, py_float(a.a));
    case SEQRT_INIT_TRUNCATED_NORMAL:
        return arena_printf("nn.init.trunc_normal_(%s, %s, %s, %s, %s)", t, py_float(a.a), py_float(a.b),
                            py_float(a.a - 2 * a.b), py_float(a.a + 2 * a.b));
    case SEQRT_INIT_VARIANCE_SCALING: {
        const char *n = a.mode == 0 ? fi : a.mode == 1 ? fo : arena_printf("((%s + %s) / 2)", fi, fo);
        const char *scale = arena_printf("%s / max(%s, 1)", py_float(a.a), n);
        if (a.distribution == 2)
            return arena_printf("_uniform(%s, math.sqrt(3 * %s))", t, scale);
        if (a.distribution == 1)
            return arena_printf("%s.normal_(0.0, math.sqrt(%s))", t, scale);
        return arena_printf("_truncated_normal(%s, math.sqrt(%s) / TRUNCATION)", t, scale);
    }
    case SEQRT_INIT_ORTHOGONAL:
        return arena_printf("_orthogonal(%s, %s)", t, py_float(a.a));
    case SEQRT_INIT_IDENTITY: {
        int rows, cols;
        keras_rows_cols(p, &rows, &cols);
        return arena_printf("_identity(%s, %d, %d, %s)", t, rows, cols, py_float(a.a));
    }
    }
    ir_internal_error("an initializer that is not a seqrt_init_kind");
}

static void emit_init(Buf *b, const PyEmit *e, int *uses_uniform, int *uses_normal)
{
    Buf body = {0};
    int uses_orthogonal = 0, uses_identity = 0;
    for (int i = 0; i < e->nten; i++) {
        const Param *p = e->ten[i].p;
        const char *t = arena_printf("%s[\"%s\"]", p->trainable ? "p" : "b", e->ten[i].key);
        const char *line = init_line(p, t);
        const InitSpec *s = &p->ispec;
        seqrt_init_kind kind = s->has_args || s->has_seed ? s->kind : p->init;
        *uses_uniform |= strstr(line, "_uniform(") != NULL;
        *uses_normal |= strstr(line, "_truncated_normal(") != NULL;
        uses_orthogonal |= strstr(line, "_orthogonal(") != NULL;
        uses_identity |= strstr(line, "_identity(") != NULL;
        const char *what = seqrt_init_name(kind);
        if (s->has_seed)
            what = arena_printf("%s(seed=%lld): torch's generator", what, (long long)s->seed);
        buf_printf(&body, "        %-64s # %s\n", line, what);
    }
    if (*uses_normal)
        buf_printf(b, "\n\n# Keras's truncated normals divide the standard deviation by this, the\n"
                      "# standard deviation of a unit normal truncated at +-2.\n"
                      "TRUNCATION = 0.87962566103423978\n");
    if (*uses_uniform)
        buf_printf(b, "\n\ndef _uniform(t, limit):\n    nn.init.uniform_(t, -limit, limit)\n");
    if (*uses_normal)
        buf_printf(b, "\n\ndef _truncated_normal(t, stddev):\n"
                      "    # redrawn beyond two standard deviations, as Keras's TruncatedNormal\n"
                      "    nn.init.trunc_normal_(t, 0.0, stddev, -2 * stddev, 2 * stddev)\n");
    if (uses_orthogonal)
        buf_printf(b, "\n\ndef _orthogonal(t, gain):\n"
                      "    # Keras's Orthogonal: orthonormal along the tensor's shorter side (a\n"
                      "    # vector: a unit vector), times gain\n"
                      "    nn.init.orthogonal_(t if t.dim() >= 2 else t.view(-1, 1), gain)\n");
    if (uses_identity)
        buf_printf(b, "\n\ndef _identity(t, rows, cols, gain):\n"
                      "    # Keras's Identity on its (rows, cols) layout of the tensor: gain on\n"
                      "    # the diagonal, the tensor being its transpose here as in seqc\n"
                      "    flat = t.view(-1)\n"
                      "    flat.zero_()\n"
                      "    for k in range(min(rows, cols)):\n"
                      "        flat[k * rows + k] = gain\n");
    buf_printf(b, "\n\ndef init_weights(model):\n");
    buf_printf(b, "    \"\"\"Keras's initializers (the model file's, or Keras's defaults), with\n"
                  "    Keras's fans, drawn from torch's generator.\"\"\"\n");
    buf_printf(b, "    p = dict(model.named_parameters())\n    b = dict(model.named_buffers())\n");
    buf_printf(b, "    with torch.no_grad():\n");
    if (body.len)
        buf_printf(b, "%.*s", (int)body.len, body.data);
    else
        buf_printf(b, "        pass\n");
    free(body.data);
}

static void emit_tensors(Buf *b, const PyEmit *e)
{
    buf_printf(b, "\n\n# The checkpoint's tensors: seqc's name, the state_dict key, trainable, and\n"
                  "# conversions of a tensor t to torch's layout and back (None: the same).\n");
    buf_printf(b, "TENSORS = [\n");
    for (int i = 0; i < e->nten; i++) {
        const PyTensor *t = &e->ten[i];
        buf_printf(b, "    (\"%s\", \"%s\", %s, %s, %s),\n", t->p->name, t->key, t->p->trainable ? "True" : "False",
                   t->to_torch ? arena_printf("lambda t: %s", t->to_torch) : "None",
                   t->from_torch ? arena_printf("lambda t: %s", t->from_torch) : "None");
    }
    buf_printf(b, "]\n");
}

static const char *const py_safetensors =
    "\n"
    "\n"
    "_DTYPES = {\"F32\": torch.float32, \"I64\": torch.int64}\n"
    "\n"
    "\n"
    "def read_safetensors(path):\n"
    "    \"\"\"The tensors of a safetensors file, such as a seqc checkpoint: {name: tensor}.\"\"\"\n"
    "    if sys.byteorder != \"little\":\n"
    "        raise RuntimeError(\"read_safetensors reads little-endian data on little-endian hosts only\")\n"
    "    with open(path, \"rb\") as f:\n"
    "        data = f.read()\n"
    "    if len(data) < 8:\n"
    "        raise ValueError(f\"{path}: not a safetensors file ({len(data)} bytes)\")\n"
    "    (n,) = struct.unpack(\"<Q\", data[:8])\n"
    "    if 8 + n > len(data):\n"
    "        raise ValueError(f\"{path}: not a safetensors file (a header of {n} bytes in {len(data)})\")\n"
    "    header = json.loads(data[8:8 + n])\n"
    "    body = memoryview(data)[8 + n:]\n"
    "    tensors = {}\n"
    "    for name, entry in header.items():\n"
    "        if name == \"__metadata__\":\n"
    "            continue\n"
    "        dtype = _DTYPES.get(entry[\"dtype\"])\n"
    "        if dtype is None:\n"
    "            raise ValueError(f\"{path}: tensor {name!r} is {entry['dtype']}; seqc writes F32 and I64\")\n"
    "        begin, end = entry[\"data_offsets\"]\n"
    "        shape = entry[\"shape\"]\n"
    "        size = math.prod(shape) * (4 if dtype == torch.float32 else 8)\n"
    "        if not 0 <= begin <= end <= len(body) or end - begin != size:\n"
    "            raise ValueError(f\"{path}: tensor {name!r}: offsets {begin}..{end} do not hold shape {shape}\")\n"
    "        if size:\n"
    "            tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype).reshape(shape)\n"
    "        else:\n"
    "            tensors[name] = torch.zeros(shape, dtype=dtype)\n"
    "    return tensors\n"
    "\n"
    "\n"
    "def write_safetensors(path, tensors):\n"
    "    \"\"\"Writes {name: float32 or int64 tensor} as safetensors, atomically (a\n"
    "    temporary file, then a rename).\"\"\"\n"
    "    header, blobs, offset = {}, [], 0\n"
    "    for name, t in tensors.items():\n"
    "        t = t.detach().cpu().contiguous()\n"
    "        code = \"f\" if t.dtype == torch.float32 else \"q\"\n"
    "        blob = array.array(code, t.flatten().tolist()).tobytes()\n"
    "        kind = \"F32\" if code == \"f\" else \"I64\"\n"
    "        header[name] = {\"dtype\": kind, \"shape\": list(t.shape), \"data_offsets\": [offset, offset + len(blob)]}\n"
    "        blobs.append(blob)\n"
    "        offset += len(blob)\n"
    "    text = json.dumps(header, separators=(\",\", \":\")).encode()\n"
    "    text += b\" \" * (-len(text) % 8)\n"
    "    tmp = f\"{path}.tmp{os.getpid()}\"\n"
    "    with open(tmp, \"wb\") as f:\n"
    "        f.write(struct.pack(\"<Q\", len(text)) + text)\n"
    "        for blob in blobs:\n"
    "            f.write(blob)\n"
    "        f.flush()\n"
    "        os.fsync(f.fileno())\n"
    "    os.replace(tmp, path)\n";

static void emit_load_save(Buf *b, const PyEmit *e)
{
    const char *n = e->m->name;
    const int training = e->m->has_loss;
    buf_printf(b, "\n\ndef load_checkpoint(model, path%s):\n", training ? ", optimizer=None" : "");
    Buf doc = {0};
    buf_printf(&doc, "Loads a seqc checkpoint of model '%s' (%s_save, `%s train --out`, or save_checkpoint() "
                     "below) into model%s. Every tensor of the model must be in the file, with its shape; the "
                     "optimizer's slots (optimizer.*) are all there or all absent, as seqc saves them; the "
                     "counters and random streams (train.*) are read only for the optimizer's step count.",
               n, n, n, training ? " and, when given, into the optimizer that optimizer(model) built" : "");
    wrap(b, "    \"\"\"", "    ", doc.data);
    free(doc.data);
    b->len--;   /* the docstring closes on its last line */
    buf_printf(b, "\"\"\"\n");
    buf_printf(b, "    tensors = read_safetensors(path)\n    state = model.state_dict()\n    with torch.no_grad():\n");
    buf_printf(b, "        for name, key, _, to_torch, _ in TENSORS:\n"
                  "            if name not in tensors:\n"
                  "                raise ValueError(f\"{path}: no tensor {name!r}: not a checkpoint of model '%s'\")\n"
                  "            t = tensors.pop(name)\n"
                  "            t = to_torch(t) if to_torch else t\n"
                  "            if tuple(t.shape) != tuple(state[key].shape):\n"
                  "                raise ValueError(f\"{path}: {name} has shape {list(t.shape)}, \"\n"
                  "                                 f\"model '%s' has {list(state[key].shape)}\")\n"
                  "            state[key].copy_(t)\n", n, n);
    if (training)
        buf_printf(b, "        if optimizer is not None:\n            _load_optimizer(optimizer, model, tensors, path)\n");
    buf_printf(b, "    unknown = sorted(k for k in tensors if not k.startswith((\"optimizer.\", \"train.\")))\n"
                  "    if unknown:\n"
                  "        raise ValueError(f\"{path}: tensors that model '%s' does not have: {', '.join(unknown)}\")\n",
               n);
    buf_printf(b, "\n\ndef save_checkpoint(model, path):\n"
                  "    \"\"\"Writes the model's weights as a seqc checkpoint (float32, seqc's names\n"
                  "    and layouts; no optimizer state, which seqc then starts afresh): %s_load,\n"
                  "    `%s evaluate` and `seqc --inference --weights` read it.\"\"\"\n"
                  "    state = model.state_dict()\n"
                  "    out = {}\n"
                  "    for name, key, _, _, from_torch in TENSORS:\n"
                  "        t = state[key].detach().to(torch.float32)\n"
                  "        out[name] = from_torch(t) if from_torch else t\n"
                  "    write_safetensors(path, out)\n",
               n, n);
}

static int has_activity(const PyEmit *e)
{
    for (int i = 0; i < e->m->nlayers; i++)
        if (e->m->layer[i].kind == &kind_activity_regularization)
            return 1;
    return 0;
}

/* Keras's penalties: the weights' regularizers and the activity
 * regularizers' values of the last forward. Returns whether there are any. */
static int emit_penalty(Buf *b, const PyEmit *e)
{
    Buf rows = {0};
    for (int i = 0; i < e->nten; i++) {
        const Param *p = e->ten[i].p;
        if (p->reg.on && p->trainable)
            buf_printf(&rows, "    (\"%s\", %s, %s),\n", e->ten[i].key, py_float(p->reg.l1), py_float(p->reg.l2));
    }
    int activity = has_activity(e);
    if (!rows.len && !activity)
        return 0;
    buf_printf(b, "\n\n# kernel_regularizer=, bias_regularizer=, ...: the state_dict key, l1, l2.\n"
                  "REGULARIZERS = [\n%s]\n", rows.len ? rows.data : "");
    free(rows.data);
    buf_printf(b, "\n\ndef penalty(model):\n"
                  "    \"\"\"What Keras adds to the loss: l1 sum|w| + l2 sum w^2 of every regularized\n"
                  "    weight, and the penalties the ActivityRegularization modules recorded in\n"
                  "    the last forward.\"\"\"\n"
                  "    params = dict(model.named_parameters())\n"
                  "    total = 0.0\n"
                  "    for key, l1, l2 in REGULARIZERS:\n"
                  "        w = params[key]\n"
                  "        total = total + l1 * w.abs().sum() + l2 * (w * w).sum()\n");
    if (activity)
        buf_printf(b, "    for m in model.modules():\n"
                      "        if isinstance(m, ActivityRegularization) and m.penalty is not None:\n"
                      "            total = total + m.penalty\n");
    buf_printf(b, "    return total\n");
    return 1;
}

/* x as the operand of a method call: in parentheses when it has an
 * operator outside them ("(y - target) ** 2"). */
static const char *operand(const char *x)
{
    int depth = 0;
    for (const char *c = x; *c; c++) {
        depth += *c == '(' || *c == '[';
        depth -= *c == ')' || *c == ']';
        if (depth == 0 && *c == ' ')
            return arena_printf("(%s)", x);
    }
    return x;
}

/* Keras's loss, as seqc computes it (runtime/loss.c). */
static void emit_loss(Buf *b, const PyEmit *e)
{
    const Model *m = e->m;
    int logits = m->loss_on_logits || m->loss_from_logits;
    int cw = m->class_weight != NULL;
    double ls = m->label_smoothing;
    if ((unsigned)m->loss >= SEQRT_LOSS_COUNT)
        ir_internal_error("a loss that is not a seqrt_loss_kind");
    if (cw) {
        buf_printf(b, "\n\n# fit(class_weight=...): each row's loss is multiplied by its class's weight\n"
                      "# (classes not listed: 1); the mean stays over the rows, as in Keras.\n"
                      "CLASS_WEIGHT = {");
        for (int k = 0; k < m->nclass_weight; k++)
            buf_printf(b, "%s%d: %s", k ? ", " : "", k, py_float(m->class_weight[k]));
        buf_printf(b, "}\n");
        buf_printf(b, "\n\ndef class_weights(target, outputs):\n"
                      "    \"\"\"The weight of each row: its class is the index (sparse targets), the\n"
                      "    argmax of a one-hot row, or the rounded target of one output (half to\n"
                      "    even, as numpy's round in Keras).\"\"\"\n"
                      "    n = len(target)\n");
        if (m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
            buf_printf(b, "    k = target.reshape(n).long()\n");
        else
            buf_printf(b, "    t = target.reshape(n, -1)\n"
                          "    k = t.argmax(-1) if outputs > 1 else torch.round(t[:, 0]).long()\n");
        buf_printf(b, "    return torch.tensor([CLASS_WEIGHT.get(int(c), 1.0) for c in k], dtype=target.dtype)\n");
    }
    int pen = emit_penalty(b, e);
    switch (m->loss) {
    case SEQRT_LOSS_MAPE:
    case SEQRT_LOSS_MSLE:
    case SEQRT_LOSS_POISSON:
    case SEQRT_LOSS_KL_DIVERGENCE:
    case SEQRT_LOSS_COSINE_SIMILARITY:
        buf_printf(b, "\n\nEPSILON = 1e-07   # Keras's epsilon (keras.config.epsilon())\n");
        break;
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_HUBER:
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
    case SEQRT_LOSS_LOG_COSH:
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE:
    case SEQRT_LOSS_CATEGORICAL_HINGE:
        break;
    }
    buf_printf(b, "\n\ndef loss(model, x, target):\n");
    Buf doc = {0};
    buf_printf(&doc, "The model file's loss, %s: the mean over the batch, computed %s.", seqrt_loss_name(m->loss),
               loss_comment(m));
    if (ls != 0)
        buf_printf(&doc, " label_smoothing=%s.", py_float(ls));
    if (cw)
        buf_printf(&doc, " Rows weighted by CLASS_WEIGHT.");
    if (pen)
        buf_printf(&doc, " Plus penalty(model), as Keras reports and differentiates it.");
    wrap(b, "    \"\"\"", "    ", doc.data);
    free(doc.data);
    int sparse = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    buf_printf(b, "    target: %s.\"\"\"\n",
               m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ? "(n, classes) one-hot or probability rows"
               : sparse ? "(n,) class indices" : "(n, outputs)");
    if (m->loss_from_logits && !m->loss_on_logits)
        buf_printf(b, "    z = model[:-1](x)   # the logits: all but the final %s\n",
                   m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY ? "sigmoid" : "softmax");
    else
        buf_printf(b, "    %s = model(x)\n", logits ? "z" : "y");
    const char *v = logits ? "z" : "y";
    buf_printf(b, "    %s = %s.reshape(len(%s), -1)\n", v, v, v);
    if (cw)
        buf_printf(b, "    w = class_weights(target, %s.shape[-1])\n", v);
    /* the loss as one of: E, elementwise (n, c); R, per row (n,); G, per
     * group of the last axis (n, groups) */
    const char *E = NULL, *R = NULL, *G = NULL, *whole = NULL;
    int L = m->out_shape.rank > 1 ? shape_last(&m->out_shape) : 0;
    switch (m->loss) {
    case SEQRT_LOSS_MAE:
        E = "(y - target).abs()";
        break;
    case SEQRT_LOSS_MSE:
        E = "(y - target) ** 2";
        break;
    case SEQRT_LOSS_HUBER:
        if (m->loss_delta == 1.0 && !cw)
            whole = "F.huber_loss(y, target, delta=1.0)   # Keras Huber(delta=1.0)";
        E = arena_printf("F.huber_loss(y, target, delta=%s, reduction=\"none\")", py_float(m->loss_delta));
        break;
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
        if (ls != 0)
            buf_printf(b, "    target = target * (1 - %s) + 0.5 * %s   # label_smoothing\n", py_float(ls), py_float(ls));
        if (logits) {
            whole = "F.binary_cross_entropy_with_logits(z, target)";
            E = "F.binary_cross_entropy_with_logits(z, target, reduction=\"none\")";
        } else {
            buf_printf(b, "    # Keras clips the probabilities to [1e-7, 1 - 1e-7]\n"
                          "    p = torch.clamp(y, 1e-7, 1 - 1e-7)\n");
            E = "-(target * torch.log(p) + (1 - target) * torch.log(1 - p))";
        }
        break;
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        if (ls == 0 && !cw) {
            if (logits)
                whole = "F.cross_entropy(z, target.long())";
            else {
                buf_printf(b, "    # Keras rescales each row to sum 1, then clips to [1e-7, 1 - 1e-7]\n"
                              "    p = torch.clamp(y / y.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)\n");
                whole = "F.nll_loss(torch.log(p), target.long())";
            }
            break;
        }
        buf_printf(b, "    target = F.one_hot(target.reshape(-1).long(), %s.shape[-1]).to(%s.dtype)\n", v, v);
        /* fall through: categorical cross-entropy of the one-hot rows */
        __attribute__((fallthrough));
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
        if (ls != 0)
            buf_printf(b, "    target = target * (1 - %s) + %s / target.shape[-1]   # label_smoothing\n", py_float(ls),
                       py_float(ls));
        if (logits) {
            R = "-(target * F.log_softmax(z, dim=-1)).sum(-1)";
        } else {
            buf_printf(b, "    # Keras rescales each row to sum 1, then clips to [1e-7, 1 - 1e-7]\n"
                          "    p = torch.clamp(y / y.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)\n");
            R = "-(target * torch.log(p)).sum(-1)";
        }
        break;
    case SEQRT_LOSS_MAPE:
        E = "100 * (y - target).abs() / torch.clamp(target.abs(), min=EPSILON)";
        break;
    case SEQRT_LOSS_MSLE:
        E = "(torch.log(torch.clamp(y, min=EPSILON) + 1) - torch.log(torch.clamp(target, min=EPSILON) + 1)) ** 2";
        break;
    case SEQRT_LOSS_LOG_COSH:
        buf_printf(b, "    a = (y - target).abs()   # log(cosh(e)) = |e| + log1p(exp(-2 |e|)) - log 2, without overflow\n");
        E = "a + torch.log1p(torch.exp(-2 * a)) - math.log(2.0)";
        break;
    case SEQRT_LOSS_POISSON:
        E = "y - target * torch.log(y + EPSILON)";
        break;
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE:
        buf_printf(b, "    # Keras turns targets that are all 0 or 1 into -1 and 1\n"
                      "    t = 2 * target - 1 if bool(((target == 0) | (target == 1)).all()) else target\n");
        E = m->loss == SEQRT_LOSS_HINGE ? "torch.clamp(1 - t * y, min=0)" : "torch.clamp(1 - t * y, min=0) ** 2";
        break;
    case SEQRT_LOSS_KL_DIVERGENCE:
    case SEQRT_LOSS_CATEGORICAL_HINGE:
    case SEQRT_LOSS_COSINE_SIMILARITY:
        if (L)
            buf_printf(b, "    # per group of the output's last axis (%d)\n"
                          "    y, target = y.reshape(len(y), -1, %d), target.reshape(len(y), -1, %d)\n", L, L, L);
        else
            buf_printf(b, "    y, target = y.unsqueeze(1), target.reshape(len(y), 1, -1)\n");
        if (m->loss == SEQRT_LOSS_KL_DIVERGENCE) {
            buf_printf(b, "    tc, yc = torch.clamp(target, EPSILON, 1), torch.clamp(y, EPSILON, 1)\n");
            G = "(tc * torch.log(tc / yc)).sum(-1)";
        } else if (m->loss == SEQRT_LOSS_CATEGORICAL_HINGE) {
            G = "torch.clamp(((1 - target) * y).amax(-1) - (target * y).sum(-1) + 1, min=0)";
        } else {
            G = "-(F.normalize(y, dim=-1, eps=EPSILON) * F.normalize(target, dim=-1, eps=EPSILON)).sum(-1)";
        }
        break;
    }
    const char *value;
    if (whole && !cw)
        value = whole;
    else if (E || G)
        value = cw ? arena_printf("(%s.mean(-1) * w).mean()", operand(E ? E : G)) : arena_printf("%s.mean()", operand(E ? E : G));
    else if (R)
        value = cw ? arena_printf("(%s * w).mean()", R) : arena_printf("%s.mean()", operand(R));
    else
        ir_internal_error("a loss without its PyTorch form");
    if (pen)
        buf_printf(b, "    value = %s\n    return value + penalty(model)\n", value);
    else
        buf_printf(b, "    return %s\n", value);
}

static const char *const py_keras_epsilon =
    "\n"
    "\n"
    "class KerasEpsilon:\n"
    "    \"\"\"Keras's epsilon for torch's Adam and AdamW. Keras (and seqc) update\n"
    "    w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon);\n"
    "    torch divides by sqrt(v / (1 - beta_2^t)) + eps instead. The two agree\n"
    "    when torch's eps is epsilon / sqrt(1 - beta_2^t), which step() sets\n"
    "    before each step (t counts steps, from the checkpoint's train.step).\"\"\"\n"
    "\n"
    "    def step(self, closure=None):\n"
    "        for group in self.param_groups:\n"
    "            group.setdefault(\"keras_epsilon\", group[\"eps\"])\n"
    "            group[\"keras_step\"] = group.get(\"keras_step\", 0) + 1\n"
    "            beta_2 = group[\"betas\"][1]\n"
    "            group[\"eps\"] = group[\"keras_epsilon\"] / math.sqrt(1 - beta_2 ** group[\"keras_step\"])\n"
    "        return super().step(closure)\n";

static const char *const py_keras_rmsprop =
    "\n"
    "\n"
    "class KerasRMSprop(torch.optim.Optimizer):\n"
    "    \"\"\"Keras 3's RMSprop, which torch.optim.RMSprop is not (torch adds eps\n"
    "    outside the square root, Keras inside): v = rho v + (1 - rho) g^2,\n"
    "    increment = lr g / sqrt(v + epsilon); with momentum, m = momentum m +\n"
    "    increment and w -= m, else w -= increment.\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-07):\n"
    "        super().__init__(params, dict(lr=lr, rho=rho, momentum=momentum, epsilon=epsilon))\n"
    "\n"
    "    @torch.no_grad()\n"
    "    def step(self, closure=None):\n"
    "        loss = None\n"
    "        if closure is not None:\n"
    "            with torch.enable_grad():\n"
    "                loss = closure()\n"
    "        for group in self.param_groups:\n"
    "            for p in group[\"params\"]:\n"
    "                if p.grad is None:\n"
    "                    continue\n"
    "                state = self.state[p]\n"
    "                if not state:\n"
    "                    state[\"velocity\"] = torch.zeros_like(p)\n"
    "                    if group[\"momentum\"] > 0:\n"
    "                        state[\"momentum\"] = torch.zeros_like(p)\n"
    "                v = state[\"velocity\"]\n"
    "                v.mul_(group[\"rho\"]).addcmul_(p.grad, p.grad, value=1 - group[\"rho\"])\n"
    "                increment = group[\"lr\"] * p.grad / torch.sqrt(v + group[\"epsilon\"])\n"
    "                if group[\"momentum\"] > 0:\n"
    "                    state[\"momentum\"].mul_(group[\"momentum\"]).add_(increment)\n"
    "                    p.sub_(state[\"momentum\"])\n"
    "                else:\n"
    "                    p.sub_(increment)\n"
    "        return loss\n";

static const char *const py_keras_apply =
    "\n"
    "\n"
    "class KerasApply:\n"
    "    \"\"\"Keras's BaseOptimizer.apply around the update rule of the optimizer\n"
    "    class it is mixed into, in Keras's order: clip the gradients (clipnorm:\n"
    "    each weight's to that L2 norm at most; global_clipnorm: all of them\n"
    "    together; clipvalue: every element), set the learning rate from the\n"
    "    schedule at the steps taken so far, decay the weights decoupled\n"
    "    (w -= w * weight_decay * lr, the optimizers other than Adam and AdamW,\n"
    "    whose torch classes do it), update, then apply the weights'\n"
    "    constraints. iterations counts the steps (Keras's optimizer.iterations;\n"
    "    load_checkpoint sets it from the checkpoint's train.step).\"\"\"\n"
    "\n"
    "    iterations = 0\n"
    "    schedule = None\n"
    "    clipnorm = global_clipnorm = clipvalue = 0.0\n"
    "    decoupled_weight_decay = 0.0\n"
    "    constraints = ()\n"
    "\n"
    "    def step(self, closure=None):\n"
    "        loss = None\n"
    "        if closure is not None:\n"
    "            with torch.enable_grad():\n"
    "                loss = closure()\n"
    "        params = [p for group in self.param_groups for p in group[\"params\"] if p.grad is not None]\n"
    "        with torch.no_grad():\n"
    "            if self.clipnorm > 0:\n"
    "                for p in params:\n"
    "                    p.grad.mul_(self.clipnorm / torch.clamp(p.grad.norm(), min=self.clipnorm))\n"
    "            elif self.global_clipnorm > 0:\n"
    "                norm = torch.sqrt(sum((p.grad * p.grad).sum() for p in params))\n"
    "                for p in params:\n"
    "                    p.grad.mul_(self.global_clipnorm / torch.clamp(norm, min=self.global_clipnorm))\n"
    "            elif self.clipvalue > 0:\n"
    "                for p in params:\n"
    "                    p.grad.clamp_(-self.clipvalue, self.clipvalue)\n"
    "            if self.schedule is not None:\n"
    "                for group in self.param_groups:\n"
    "                    group[\"lr\"] = self.schedule(self.iterations)\n"
    "            if self.decoupled_weight_decay > 0:\n"
    "                for group in self.param_groups:\n"
    "                    for p in group[\"params\"]:\n"
    "                        if p.grad is not None:\n"
    "                            p.sub_(p * self.decoupled_weight_decay * group[\"lr\"])\n"
    "        super().step()\n"
    "        self.iterations += 1\n"
    "        with torch.no_grad():\n"
    "            for p, constrain in self.constraints:\n"
    "                constrain(p)\n"
    "        return loss\n";

static const char *const py_constrain =
    "\n"
    "\n"
    "def _constrain(w, kind, dims, axes, min_value, max_value, rate):\n"
    "    \"\"\"Keras's weight constraint on w viewed as dims (seqc's storage in Keras's\n"
    "    axes): one norm over the view axes `axes` per index of the others.\"\"\"\n"
    "    w = w.view(dims)\n"
    "    if kind == \"non_neg\":\n"
    "        w.clamp_(min=0)\n"
    "        return\n"
    "    if axes:\n"
    "        norms = torch.sqrt((w * w).sum(dim=axes, keepdim=True))\n"
    "    else:\n"
    "        norms = torch.sqrt(w * w)\n"
    "    if kind == \"max_norm\":\n"
    "        desired = torch.clamp(norms, 0, max_value)\n"
    "    elif kind == \"unit_norm\":\n"
    "        desired = torch.ones_like(norms)\n"
    "    else:\n"
    "        desired = rate * torch.clamp(norms, min_value, max_value) + (1 - rate) * norms\n"
    "    w.mul_(desired / (1e-07 + norms))\n"
    "\n"
    "\n"
    "def constraints(model):\n"
    "    \"\"\"(parameter, function) pairs that apply CONSTRAINTS after a step.\"\"\"\n"
    "    params = dict(model.named_parameters())\n"
    "    return [(params[key], lambda w, c=tuple(c): _constrain(w, *c)) for key, *c in CONSTRAINTS if key in params]\n";

static const char *const py_keras_rule =
    "\n"
    "\n"
    "class KerasRule(torch.optim.Optimizer):\n"
    "    \"\"\"The update rules torch.optim has no exact match for, written out after\n"
    "    Keras 3's (keras/src/optimizers): step() counts the steps t from 1 (in\n"
    "    each group's \"keras_step\"; load_checkpoint sets it) and calls\n"
    "    update(group, p, g, state, t) for every parameter with a gradient.\"\"\"\n"
    "\n"
    "    @torch.no_grad()\n"
    "    def step(self, closure=None):\n"
    "        loss = None\n"
    "        if closure is not None:\n"
    "            with torch.enable_grad():\n"
    "                loss = closure()\n"
    "        for group in self.param_groups:\n"
    "            group[\"keras_step\"] = group.get(\"keras_step\", 0) + 1\n"
    "            t = group[\"keras_step\"]\n"
    "            self.begin(group, t)\n"
    "            for p in group[\"params\"]:\n"
    "                if p.grad is not None:\n"
    "                    self.update(group, p, p.grad, self.state[p], t)\n"
    "        return loss\n"
    "\n"
    "    def begin(self, group, t):\n"
    "        pass\n"
    "\n"
    "    def slot(self, state, name, p, fill=0.0):\n"
    "        if name not in state:\n"
    "            state[name] = torch.full_like(p, fill)\n"
    "        return state[name]\n";

static const char *const py_sgd =
    "\n"
    "\n"
    "class KerasSGD(KerasRule):\n"
    "    \"\"\"Keras's SGD: velocity = momentum * velocity - lr * g; w += velocity\n"
    "    (nesterov: w += momentum * velocity - lr * g). torch.optim.SGD keeps\n"
    "    lr out of its buffer, which is the same only while lr is constant.\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False):\n"
    "        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov))\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        lr, mom = group[\"lr\"], group[\"momentum\"]\n"
    "        if mom == 0:\n"
    "            p.sub_(lr * g)\n"
    "            return\n"
    "        v = self.slot(state, \"momentum\", p)\n"
    "        v.mul_(mom).sub_(lr * g)\n"
    "        p.add_(mom * v - lr * g if group[\"nesterov\"] else v)\n";

static const char *const py_centered_rmsprop =
    "\n"
    "\n"
    "class KerasCenteredRMSprop(KerasRule):\n"
    "    \"\"\"Keras 3's RMSprop(centered=True): v = rho v + (1 - rho) g^2,\n"
    "    a = rho a + (1 - rho) g, increment = lr g / sqrt(v - a^2 + epsilon);\n"
    "    with momentum, m = momentum m + increment and w -= m, else\n"
    "    w -= increment. (torch's centered RMSprop adds eps outside the root.)\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-07):\n"
    "        super().__init__(params, dict(lr=lr, rho=rho, momentum=momentum, epsilon=epsilon))\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        rho = group[\"rho\"]\n"
    "        v = self.slot(state, \"velocity\", p)\n"
    "        a = self.slot(state, \"average_gradient\", p)\n"
    "        v.mul_(rho).addcmul_(g, g, value=1 - rho)\n"
    "        a.mul_(rho).add_(g, alpha=1 - rho)\n"
    "        increment = group[\"lr\"] * g / torch.sqrt(v - a * a + group[\"epsilon\"])\n"
    "        if group[\"momentum\"] > 0:\n"
    "            m = self.slot(state, \"momentum\", p)\n"
    "            m.mul_(group[\"momentum\"]).add_(increment)\n"
    "            p.sub_(m)\n"
    "        else:\n"
    "            p.sub_(increment)\n";

static const char *const py_adagrad =
    "\n"
    "\n"
    "class KerasAdagrad(KerasRule):\n"
    "    \"\"\"Keras's Adagrad: accumulator += g^2 (from initial_accumulator_value);\n"
    "    w -= lr g / sqrt(accumulator + epsilon). torch.optim.Adagrad adds eps\n"
    "    outside the root.\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, initial_accumulator_value=0.1, epsilon=1e-07):\n"
    "        super().__init__(params, dict(lr=lr, initial_accumulator_value=initial_accumulator_value, epsilon=epsilon))\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        acc = self.slot(state, \"accumulator\", p, group[\"initial_accumulator_value\"])\n"
    "        acc.addcmul_(g, g)\n"
    "        p.sub_(group[\"lr\"] * g / torch.sqrt(acc + group[\"epsilon\"]))\n";

static const char *const py_adamax =
    "\n"
    "\n"
    "class KerasAdamax(KerasRule):\n"
    "    \"\"\"Keras's Adamax: m += (1 - beta_1)(g - m); u = max(beta_2 u, |g|);\n"
    "    w -= lr m / ((1 - beta_1^t)(u + epsilon)). torch.optim.Adamax puts eps\n"
    "    inside the max.\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):\n"
    "        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon))\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        b1, b2 = group[\"beta_1\"], group[\"beta_2\"]\n"
    "        m = self.slot(state, \"m\", p)\n"
    "        u = self.slot(state, \"norm\", p)\n"
    "        m.add_((g - m) * (1 - b1))\n"
    "        torch.maximum(b2 * u, g.abs(), out=u)\n"
    "        p.sub_(group[\"lr\"] * m / ((1 - b1 ** t) * (u + group[\"epsilon\"])))\n";

static const char *const py_nadam =
    "\n"
    "\n"
    "class KerasNadam(KerasRule):\n"
    "    \"\"\"Keras 3's Nadam: u_t = beta_1 (1 - 0.5 * 0.96^t), u_product *= u_t\n"
    "    (once per step, in the group: \"u_product\"); m += (1 - beta_1)(g - m),\n"
    "    v += (1 - beta_2)(g^2 - v); m_hat = u_{t+1} m / (1 - u_product u_{t+1})\n"
    "    + (1 - u_t) g / (1 - u_product); v_hat = v / (1 - beta_2^t);\n"
    "    w -= lr m_hat / (sqrt(v_hat) + epsilon). (torch.optim.NAdam with\n"
    "    momentum_decay=1 is the same formula from torch 2.0 on; 1.13's counts\n"
    "    u_t twice in the product.)\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07):\n"
    "        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon))\n"
    "\n"
    "    def begin(self, group, t):\n"
    "        b1 = group[\"beta_1\"]\n"
    "        group[\"u_t\"] = b1 * (1 - 0.5 * 0.96 ** t)\n"
    "        group[\"u_next\"] = b1 * (1 - 0.5 * 0.96 ** (t + 1))\n"
    "        group[\"u_product\"] = group.get(\"u_product\", 1.0) * group[\"u_t\"]\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        b2, u_t, u_next, u_product = group[\"beta_2\"], group[\"u_t\"], group[\"u_next\"], group[\"u_product\"]\n"
    "        m = self.slot(state, \"m\", p)\n"
    "        v = self.slot(state, \"v\", p)\n"
    "        m.add_((g - m) * (1 - group[\"beta_1\"]))\n"
    "        v.add_((g * g - v) * (1 - b2))\n"
    "        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)\n"
    "        v_hat = v / (1 - b2 ** t)\n"
    "        p.sub_(group[\"lr\"] * m_hat / (torch.sqrt(v_hat) + group[\"epsilon\"]))\n";

static const char *const py_lion =
    "\n"
    "\n"
    "class KerasLion(KerasRule):\n"
    "    \"\"\"Keras's Lion (torch has none): w -= lr sign(beta_1 m + (1 - beta_1) g);\n"
    "    m = beta_2 m + (1 - beta_2) g.\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.99):\n"
    "        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2))\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        b1, b2 = group[\"beta_1\"], group[\"beta_2\"]\n"
    "        m = self.slot(state, \"momentum\", p)\n"
    "        p.sub_(group[\"lr\"] * torch.sign(m * b1 + g * (1 - b1)))\n"
    "        m.mul_(b2).add_(g, alpha=1 - b2)\n";

static const char *const py_ftrl =
    "\n"
    "\n"
    "class KerasFtrl(KerasRule):\n"
    "    \"\"\"Keras 3's Ftrl (torch has none), p = -learning_rate_power:\n"
    "    g2 = g + 2 l2_shrinkage w; acc' = acc + g^2;\n"
    "    linear += g2 - (acc'^p - acc^p) / lr w;\n"
    "    w = (clip(linear, -l1, l1) - linear) / (acc'^p / lr + 2 (l2 + beta / (2 lr)));\n"
    "    acc = acc'.\"\"\"\n"
    "\n"
    "    def __init__(self, params, lr=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1, l1=0.0, l2=0.0,\n"
    "                 l2_shrinkage=0.0, beta=0.0):\n"
    "        super().__init__(params, dict(lr=lr, learning_rate_power=learning_rate_power,\n"
    "                                      initial_accumulator_value=initial_accumulator_value, l1=l1, l2=l2,\n"
    "                                      l2_shrinkage=l2_shrinkage, beta=beta))\n"
    "\n"
    "    def update(self, group, p, g, state, t):\n"
    "        lr, power, l1 = group[\"lr\"], -group[\"learning_rate_power\"], group[\"l1\"]\n"
    "        l2 = group[\"l2\"] + group[\"beta\"] / (2 * lr)\n"
    "        acc = self.slot(state, \"accumulator\", p, group[\"initial_accumulator_value\"])\n"
    "        linear = self.slot(state, \"linear\", p)\n"
    "        g2 = g + 2 * group[\"l2_shrinkage\"] * p\n"
    "        new_acc = acc + g * g\n"
    "        linear.add_(g2 - (new_acc ** power - acc ** power) / lr * p)\n"
    "        quadratic = new_acc ** power / lr + 2 * l2\n"
    "        p.copy_((torch.clamp(linear, -l1, l1) - linear) / quadratic)\n"
    "        acc.copy_(new_acc)\n";

/* learning_rate=Schedule(...): the schedule as a Python function of the
 * steps taken, Keras 3's formulas (runtime/optim.c's seqrt_lr_at). */
static void emit_schedule(Buf *b, const Optimizer *o)
{
    const seqrt_lr_schedule *s = &o->sched;
    if ((unsigned)s->kind >= SEQRT_SCHEDULE_COUNT)
        ir_internal_error("a schedule that is not a seqrt_schedule_kind");
    buf_printf(b, "\n\ndef learning_rate(step):\n"
                  "    \"\"\"learning_rate=%s(...) at optimizer step `step` (the steps taken\n"
                  "    before this one, 0 for the first), Keras 3's formula.\"\"\"\n",
               seqrt_schedule_name(s->kind));
    const char *lr0 = py_float(s->initial_learning_rate), *ds = py_float(s->decay_steps);
    switch ((seqrt_schedule_kind)s->kind) {
    case SEQRT_SCHEDULE_EXPONENTIAL_DECAY:
    case SEQRT_SCHEDULE_INVERSE_TIME_DECAY:
        buf_printf(b, "    p = %sstep / %s%s\n", s->staircase ? "math.floor(" : "", ds, s->staircase ? ")" : "");
        if (s->kind == SEQRT_SCHEDULE_EXPONENTIAL_DECAY)
            buf_printf(b, "    return %s * %s ** p\n", lr0, py_float(s->decay_rate));
        else
            buf_printf(b, "    return %s / (1 + %s * p)\n", lr0, py_float(s->decay_rate));
        return;
    case SEQRT_SCHEDULE_POLYNOMIAL_DECAY:
        if (s->cycle)
            buf_printf(b, "    decay_steps = %s * (1.0 if step == 0 else math.ceil(step / %s))   # cycle=True\n", ds, ds);
        else
            buf_printf(b, "    decay_steps = %s\n    step = min(step, decay_steps)\n", ds);
        buf_printf(b, "    return (%s - %s) * (1 - step / decay_steps) ** %s + %s\n", lr0, py_float(s->end_learning_rate),
                   py_float(s->power), py_float(s->end_learning_rate));
        return;
    case SEQRT_SCHEDULE_PIECEWISE_CONSTANT_DECAY: {
        const char *bounds = "", *values = "";
        for (int i = 0; i + 1 < s->nvalues; i++)
            bounds = arena_printf("%s%s%s", bounds, i ? ", " : "", py_float(s->boundaries[i]));
        for (int i = 0; i < s->nvalues; i++)
            values = arena_printf("%s%s%s", values, i ? ", " : "", py_float(s->values[i]));
        buf_printf(b, "    boundaries, values = [%s], [%s]\n"
                      "    for bound, value in zip(boundaries, values):\n"
                      "        if step <= bound:\n"
                      "            return value\n"
                      "    return values[-1]\n", bounds, values);
        return;
    }
    case SEQRT_SCHEDULE_COSINE_DECAY:
        if (s->warmup)
            buf_printf(b, "    warmup_steps, start = %s, %s\n"
                          "    step = min(step, %s + warmup_steps)\n"
                          "    if step < warmup_steps:\n"
                          "        return (start - %s) * (step / warmup_steps) + %s\n"
                          "    step -= warmup_steps\n",
                       py_float(s->warmup_steps), py_float(s->warmup_target), ds, lr0, lr0);
        else
            buf_printf(b, "    start = %s\n    step = min(step, %s)\n", lr0, ds);
        buf_printf(b, "    return start * ((1 - %s) * 0.5 * (1 + math.cos(math.pi * step / %s)) + %s)\n",
                   py_float(s->alpha), ds, py_float(s->alpha));
        return;
    case SEQRT_SCHEDULE_COSINE_DECAY_RESTARTS:
        buf_printf(b, "    f, t_mul, m_mul = step / %s, %s, %s\n", ds, py_float(s->t_mul), py_float(s->m_mul));
        if (s->t_mul == 1.0)
            buf_printf(b, "    restart = math.floor(f)\n    f -= restart\n");
        else
            buf_printf(b, "    restart = math.floor(math.log(1 - f * (1 - t_mul)) / math.log(t_mul))\n"
                          "    f = (f - (1 - t_mul ** restart) / (1 - t_mul)) / t_mul ** restart\n");
        buf_printf(b, "    return %s * ((1 - %s) * 0.5 * m_mul ** restart * (1 + math.cos(math.pi * f)) + %s)\n", lr0,
                   py_float(s->alpha), py_float(s->alpha));
        return;
    }
    ir_internal_error("a schedule that is not a seqrt_schedule_kind");
}

/* The weights' constraints (CONSTRAINTS); returns whether there are any. */
static int emit_constraints(Buf *b, const PyEmit *e)
{
    static const char *const kinds[] = {"max_norm", "non_neg", "unit_norm", "min_max_norm"};
    Buf rows = {0};
    for (int i = 0; i < e->nten; i++) {
        const Param *p = e->ten[i].p;
        if (!p->con.on || !p->trainable)
            continue;
        if (e->ten[i].to_torch)
            ir_internal_error("a constrained tensor whose torch layout is not seqc's");
        if ((unsigned)p->con.kind >= COUNT_OF(kinds))
            ir_internal_error("a constraint that is not a seqrt_constraint_kind");
        /* the norm's axes: Keras's, in seqc's layout of the weight (as emit_c.c) */
        Shape view;
        unsigned reduce, kmask;
        ir_constraint_view(p, &view, &reduce, &kmask);
        const char *dims = "(", *axes = "(";
        for (int a = 0; a < view.rank; a++) {
            dims = arena_printf("%s%d, ", dims, view.dim[a]);
            if (reduce >> a & 1u)
                axes = arena_printf("%s%d, ", axes, a);
        }
        buf_printf(&rows, "    (\"%s\", \"%s\", %s), %s), %s, %s, %s),   # Keras %s\n", e->ten[i].key,
                   kinds[p->con.kind], dims, axes, py_float(p->con.min_value), py_float(p->con.max_value),
                   py_float(p->con.rate), ir_keras_shape(p));
    }
    if (!rows.len)
        return 0;
    buf_printf(b, "\n\n# kernel_constraint=, bias_constraint=, ...: the state_dict key, the constraint,\n"
                  "# the tensor viewed with Keras's axes (seqc's storage order), the view axes\n"
                  "# its norms sum over (Keras's axis=), min_value, max_value, rate.\n"
                  "CONSTRAINTS = [\n%s]\n", rows.data);
    free(rows.data);
    buf_printf(b, "%s", py_constrain);
    return 1;
}

/* Keras's optimizer, and the loader of its slots from a checkpoint. */
static void emit_optimizer(Buf *b, const PyEmit *e)
{
    const Optimizer *o = &e->m->opt;
    if ((unsigned)o->kind >= SEQRT_OPT_COUNT)
        ir_internal_error("an optimizer that is not a seqrt_opt_kind");
    const char *lr = py_float(o->lr);
    /* around the update: Keras's apply (KerasApply) when needed */
    int apply = o->has_schedule || o->clipnorm > 0 || o->global_clipnorm > 0 || o->clipvalue > 0 ||
                o->decoupled_wd;
    int constrained = emit_constraints(b, e);
    apply |= constrained;
    if (o->has_schedule)
        emit_schedule(b, o);
    const char *cls = NULL, *ctor = NULL, *doc = NULL, *slots = "";
    int rule = 0;   /* a KerasRule: step counts in its groups */
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        doc = arena_printf("SGD(learning_rate=%s, momentum=%s, nesterov=%s).", lr, py_float(o->momentum),
                           o->nesterov ? "True" : "False");
        if (o->momentum > 0 && (o->has_schedule || o->settable_lr)) {
            /* torch's buffer leaves lr out: not Keras's velocity once lr changes */
            buf_printf(b, "%s%s", py_keras_rule, py_sgd);
            cls = "KerasSGD";
            ctor = arena_printf("lr=%s, momentum=%s, nesterov=%s", lr, py_float(o->momentum),
                                o->nesterov ? "True" : "False");
            slots = "        opt.state[p][\"momentum\"] = slot(name, \"momentum\", p, to_torch)\n";
            rule = 1;
            break;
        }
        doc = arena_printf("%s Keras keeps the velocity\n"
                           "    v = momentum v - lr g and adds it (nesterov: momentum v - lr g); torch keeps\n"
                           "    buf = momentum buf + g and subtracts lr buf: the same steps, v = -lr buf.", doc);
        cls = "torch.optim.SGD";
        if (o->momentum > 0) {
            ctor = arena_printf("lr=%s, momentum=%s, dampening=0, nesterov=%s", lr, py_float(o->momentum),
                                o->nesterov ? "True" : "False");
            slots = "        opt.state[p][\"momentum_buffer\"] = -slot(name, \"momentum\", p, to_torch) / group[\"lr\"]   # v = -lr buf\n";
        } else {
            ctor = arena_printf("lr=%s", lr);
        }
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW: {
        int wd = o->kind == SEQRT_OPT_ADAMW || o->weight_decay > 0;
        const char *name = wd ? "AdamW" : "Adam";
        buf_printf(b, "%s", py_keras_epsilon);
        buf_printf(b, "\n\nclass Keras%s(KerasEpsilon, torch.optim.%s):\n    pass\n", name, name);
        cls = arena_printf("Keras%s", name);
        doc = arena_printf("%s(learning_rate=%s, beta_1=%s, beta_2=%s, epsilon=%s%s%s)\n"
                           "    with Keras's epsilon (KerasEpsilon).%s",
                           o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW", lr, py_float(o->beta1), py_float(o->beta2),
                           py_float(o->epsilon), wd ? arena_printf(", weight_decay=%s", py_float(o->weight_decay)) : "",
                           o->amsgrad ? ", amsgrad=True" : "",
                           wd ? " The decay is decoupled, w -= lr * weight_decay * w\n    before the step, in both." : "");
        ctor = arena_printf("lr=%s, betas=(%s, %s), eps=%s%s%s", lr, py_float(o->beta1), py_float(o->beta2),
                            py_float(o->epsilon), wd ? arena_printf(", weight_decay=%s", py_float(o->weight_decay)) : "",
                            o->amsgrad ? ", amsgrad=True" : "");
        slots = o->amsgrad ? "        opt.state[p][\"step\"] = torch.tensor(float(step))\n"
                             "        opt.state[p][\"exp_avg\"] = slot(name, \"m\", p, to_torch)\n"
                             "        opt.state[p][\"exp_avg_sq\"] = slot(name, \"v\", p, to_torch)\n"
                             "        opt.state[p][\"max_exp_avg_sq\"] = slot(name, \"vhat\", p, to_torch)\n"
                             "        group[\"keras_step\"] = step\n"
                           : "        opt.state[p][\"step\"] = torch.tensor(float(step))\n"
                             "        opt.state[p][\"exp_avg\"] = slot(name, \"m\", p, to_torch)\n"
                             "        opt.state[p][\"exp_avg_sq\"] = slot(name, \"v\", p, to_torch)\n"
                             "        group[\"keras_step\"] = step\n";
        break;
    }
    case SEQRT_OPT_RMSPROP:
        doc = arena_printf("RMSprop(learning_rate=%s, rho=%s, momentum=%s, epsilon=%s%s), Keras 3's.", lr,
                           py_float(o->rho), py_float(o->momentum), py_float(o->epsilon),
                           o->centered ? ", centered=True" : "");
        ctor = arena_printf("lr=%s, rho=%s, momentum=%s, epsilon=%s", lr, py_float(o->rho), py_float(o->momentum),
                            py_float(o->epsilon));
        if (o->centered) {
            buf_printf(b, "%s%s", py_keras_rule, py_centered_rmsprop);
            cls = "KerasCenteredRMSprop";
            rule = 1;
            slots = o->momentum > 0 ? "        opt.state[p][\"velocity\"] = slot(name, \"velocity\", p, to_torch)\n"
                                      "        opt.state[p][\"average_gradient\"] = slot(name, \"average_gradient\", p, to_torch)\n"
                                      "        opt.state[p][\"momentum\"] = slot(name, \"momentum\", p, to_torch)\n"
                                    : "        opt.state[p][\"velocity\"] = slot(name, \"velocity\", p, to_torch)\n"
                                      "        opt.state[p][\"average_gradient\"] = slot(name, \"average_gradient\", p, to_torch)\n";
        } else {
            buf_printf(b, "%s", py_keras_rmsprop);
            cls = "KerasRMSprop";
            slots = o->momentum > 0 ? "        opt.state[p][\"velocity\"] = slot(name, \"velocity\", p, to_torch)\n"
                                      "        opt.state[p][\"momentum\"] = slot(name, \"momentum\", p, to_torch)\n"
                                    : "        opt.state[p][\"velocity\"] = slot(name, \"velocity\", p, to_torch)\n";
        }
        break;
    case SEQRT_OPT_ADAGRAD:
        buf_printf(b, "%s%s", py_keras_rule, py_adagrad);
        cls = "KerasAdagrad";
        rule = 1;
        doc = arena_printf("Adagrad(learning_rate=%s, initial_accumulator_value=%s, epsilon=%s).", lr,
                           py_float(o->initial_accumulator_value), py_float(o->epsilon));
        ctor = arena_printf("lr=%s, initial_accumulator_value=%s, epsilon=%s", lr,
                            py_float(o->initial_accumulator_value), py_float(o->epsilon));
        slots = "        opt.state[p][\"accumulator\"] = slot(name, \"accumulator\", p, to_torch)\n";
        break;
    case SEQRT_OPT_ADADELTA:
        cls = "torch.optim.Adadelta";
        doc = arena_printf("Adadelta(learning_rate=%s, rho=%s, epsilon=%s): torch's is Keras's\n"
                           "    (epsilon inside both roots); Keras's accumulated_grad is torch's\n"
                           "    square_avg, accumulated_delta_var its acc_delta.", lr, py_float(o->rho),
                           py_float(o->epsilon));
        ctor = arena_printf("lr=%s, rho=%s, eps=%s", lr, py_float(o->rho), py_float(o->epsilon));
        slots = "        opt.state[p][\"step\"] = torch.tensor(float(step))\n"
                "        opt.state[p][\"square_avg\"] = slot(name, \"accumulated_grad\", p, to_torch)\n"
                "        opt.state[p][\"acc_delta\"] = slot(name, \"accumulated_delta_var\", p, to_torch)\n";
        break;
    case SEQRT_OPT_ADAMAX:
        buf_printf(b, "%s%s", py_keras_rule, py_adamax);
        cls = "KerasAdamax";
        rule = 1;
        doc = arena_printf("Adamax(learning_rate=%s, beta_1=%s, beta_2=%s, epsilon=%s).", lr, py_float(o->beta1),
                           py_float(o->beta2), py_float(o->epsilon));
        ctor = arena_printf("lr=%s, beta_1=%s, beta_2=%s, epsilon=%s", lr, py_float(o->beta1), py_float(o->beta2),
                            py_float(o->epsilon));
        slots = "        opt.state[p][\"m\"] = slot(name, \"m\", p, to_torch)\n"
                "        opt.state[p][\"norm\"] = slot(name, \"norm\", p, to_torch)\n";
        break;
    case SEQRT_OPT_NADAM:
        buf_printf(b, "%s%s", py_keras_rule, py_nadam);
        cls = "KerasNadam";
        rule = 1;
        doc = arena_printf("Nadam(learning_rate=%s, beta_1=%s, beta_2=%s, epsilon=%s).", lr, py_float(o->beta1),
                           py_float(o->beta2), py_float(o->epsilon));
        ctor = arena_printf("lr=%s, beta_1=%s, beta_2=%s, epsilon=%s", lr, py_float(o->beta1), py_float(o->beta2),
                            py_float(o->epsilon));
        slots = "        opt.state[p][\"m\"] = slot(name, \"m\", p, to_torch)\n"
                "        opt.state[p][\"v\"] = slot(name, \"v\", p, to_torch)\n";
        break;
    case SEQRT_OPT_LION:
        buf_printf(b, "%s%s", py_keras_rule, py_lion);
        cls = "KerasLion";
        rule = 1;
        doc = arena_printf("Lion(learning_rate=%s, beta_1=%s, beta_2=%s).", lr, py_float(o->beta1), py_float(o->beta2));
        ctor = arena_printf("lr=%s, beta_1=%s, beta_2=%s", lr, py_float(o->beta1), py_float(o->beta2));
        slots = "        opt.state[p][\"momentum\"] = slot(name, \"momentum\", p, to_torch)\n";
        break;
    case SEQRT_OPT_FTRL:
        buf_printf(b, "%s%s", py_keras_rule, py_ftrl);
        cls = "KerasFtrl";
        rule = 1;
        doc = arena_printf("Ftrl(learning_rate=%s, learning_rate_power=%s,\n"
                           "    initial_accumulator_value=%s, l1_regularization_strength=%s,\n"
                           "    l2_regularization_strength=%s, l2_shrinkage_regularization_strength=%s,\n"
                           "    beta=%s).", lr, py_float(o->lr_power), py_float(o->initial_accumulator_value),
                           py_float(o->l1), py_float(o->l2), py_float(o->l2_shrinkage), py_float(o->beta));
        ctor = arena_printf("lr=%s, learning_rate_power=%s, initial_accumulator_value=%s, l1=%s, l2=%s,\n"
                            "                     l2_shrinkage=%s, beta=%s", lr, py_float(o->lr_power),
                            py_float(o->initial_accumulator_value), py_float(o->l1), py_float(o->l2),
                            py_float(o->l2_shrinkage), py_float(o->beta));
        slots = "        opt.state[p][\"linear\"] = slot(name, \"linear\", p, to_torch)\n"
                "        opt.state[p][\"accumulator\"] = slot(name, \"accumulator\", p, to_torch)\n";
        break;
    }
    if (apply) {
        buf_printf(b, "%s", py_keras_apply);
        buf_printf(b, "\n\nclass KerasStep(KerasApply, %s):\n    pass\n", cls);
    }
    buf_printf(b, "\n\ndef optimizer(model):\n    \"\"\"%s", doc);
    if (o->has_schedule)
        buf_printf(b, "\n    learning_rate=%s(...): learning_rate(step).", seqrt_schedule_name(o->sched.kind));
    if (o->clipnorm > 0)
        buf_printf(b, "\n    clipnorm=%s.", py_float(o->clipnorm));
    if (o->global_clipnorm > 0)
        buf_printf(b, "\n    global_clipnorm=%s.", py_float(o->global_clipnorm));
    if (o->clipvalue > 0)
        buf_printf(b, "\n    clipvalue=%s.", py_float(o->clipvalue));
    if (o->decoupled_wd)
        buf_printf(b, "\n    weight_decay=%s: w -= w * weight_decay * lr before the update.", py_float(o->weight_decay));
    if (constrained)
        buf_printf(b, "\n    The weights' constraints (CONSTRAINTS) after each step.");
    buf_printf(b, "\"\"\"\n");
    if (!apply) {
        buf_printf(b, "    return %s(model.parameters(), %s)\n", cls, ctor);
    } else {
        buf_printf(b, "    opt = KerasStep(model.parameters(), %s)\n", ctor);
        if (o->has_schedule)
            buf_printf(b, "    opt.schedule = learning_rate\n");
        if (o->clipnorm > 0)
            buf_printf(b, "    opt.clipnorm = %s\n", py_float(o->clipnorm));
        if (o->global_clipnorm > 0)
            buf_printf(b, "    opt.global_clipnorm = %s\n", py_float(o->global_clipnorm));
        if (o->clipvalue > 0)
            buf_printf(b, "    opt.clipvalue = %s\n", py_float(o->clipvalue));
        if (o->decoupled_wd)
            buf_printf(b, "    opt.decoupled_weight_decay = %s\n", py_float(o->weight_decay));
        if (constrained)
            buf_printf(b, "    opt.constraints = constraints(model)\n");
        buf_printf(b, "    return opt\n");
    }
    OptSlots os;
    ir_opt_slots(e->m, &os);
    Buf pre = {0};
    const char *step_line = "    step = int(tensors[\"train.step\"]) if \"train.step\" in tensors else 0\n";
    if (apply || rule) {   /* the step count, also from a file without slots */
        buf_printf(&pre, "%s", step_line);
        if (apply)
            buf_printf(&pre, "    opt.iterations = step\n");
        if (rule)
            buf_printf(&pre, "    for group in opt.param_groups:\n        group[\"keras_step\"] = step\n");
    }
    buf_printf(&pre, "    if not any(k.startswith(\"optimizer.\") for k in tensors):\n        return\n");
    if (!apply && !rule && strstr(slots, "step"))
        buf_printf(&pre, "%s", step_line);
    if (os.u_product)
        buf_printf(&pre, "    u_product = tensors.pop(\"optimizer.u_product\", None)\n"
                         "    if u_product is None:\n"
                         "        raise ValueError(f\"{path}: no tensor optimizer.u_product\")\n"
                         "    for group in opt.param_groups:\n"
                         "        group[\"u_product\"] = float(u_product)\n");
    if (o->settable_lr)
        buf_printf(&pre, "    if \"optimizer.learning_rate\" in tensors:   # as ReduceLROnPlateau left it\n"
                         "        for group in opt.param_groups:\n"
                         "            group[\"lr\"] = float(tensors.pop(\"optimizer.learning_rate\"))\n");
    buf_printf(b, "\n\ndef _load_optimizer(opt, model, tensors, path):\n"
                  "    \"\"\"The optimizer slots of a seqc checkpoint (optimizer.NAME.SLOT) into\n"
                  "    opt's state; nothing when the file has none (a weights-only file).\"\"\"\n"
                  "%s"
                  "    params = dict(model.named_parameters())\n"
                  "%s"
                  "\n"
                  "    def slot(name, kind, p, to_torch):\n"
                  "        t = tensors.pop(f\"optimizer.{name}.{kind}\", None)\n"
                  "        if t is None:\n"
                  "            raise ValueError(f\"{path}: no tensor optimizer.{name}.{kind}\")\n"
                  "        t = to_torch(t) if to_torch else t\n"
                  "        return t.to(p.dtype).reshape(p.shape).clone()\n"
                  "\n"
                  "    for name, key, trainable, to_torch, _ in TENSORS:\n"
                  "        if not trainable:\n"
                  "            continue\n"
                  "        p = params[key]\n"
                  "%s"
                  "    unused = sorted(k for k in tensors if k.startswith(\"optimizer.\"))\n"
                  "    if unused:\n"
                  "        raise ValueError(f\"{path}: optimizer tensors that this optimizer does not have: {unused}\")\n",
               pre.data, strstr(slots, "group[") ? "    group = opt.param_groups[0]\n" : "", *slots ? slots : "        pass\n");
    free(pre.data);
    buf_printf(b, "\n\ndef train_step(model, opt, x, target):\n"
                  "    \"\"\"One training step, as seqc's NAME_train_step: forward in training\n"
                  "    mode, the loss, its gradients and one optimizer step. Returns the loss.\"\"\"\n"
                  "    model.train()\n"
                  "    opt.zero_grad()\n"
                  "    value = loss(model, x, target)\n"
                  "    value.backward()\n"
                  "    opt.step()\n"
                  "    return value.item()\n");
}

static void collect(PyEmit *e, const Model *m)
{
    memset(e, 0, sizeof *e);
    e->m = m;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (l->norm)
            ir_internal_error("--emit=pytorch runs on the IR before the passes: no fused layers");
        e->want = PY_CHANNELS_LAST;
        e->rank = l->in.rank;
        if (!l->kind->pytorch)
            ir_internal_error("--emit=pytorch of a layer kind without a pytorch hook (pytorch_check refuses it)");
        l->kind->pytorch(e, l);
        e->rank = l->out.rank;
        if (e->rank < 2)
            e->channels_first = 0;
        for (int k = 0; k < ir_nparams(l); k++) {
            const Param *p = ir_param_at(l, k);
            int mapped = 0;
            for (int t = 0; t < e->nten; t++)
                mapped |= e->ten[t].p == p;
            if (!mapped)
                ir_internal_error("a pytorch hook left a parameter without its state_dict entry");
        }
    }
    if (e->channels_first)   /* the output, channels-last as seqc's */
        permute(e, &m->layer[m->nlayers - 1], 0, "output_channels_last");
    if (m->loss_from_logits && !m->loss_on_logits &&
        (e->nmod == 0 || !e->mod[e->nmod - 1].is_act || e->mod[e->nmod - 1].l != &m->layer[m->nlayers - 1]))
        ir_internal_error("the loss reads the logits, but the last module is not the output activation");
}

void emit_pytorch_buffer(const Model *m, Buf *out)
{
    PyEmit e;
    collect(&e, m);
    const char *file = base_name(m->src->path);
    Buf b = {0};
    emit_docstring(&b, &e, file);
    buf_printf(&b, "%s", py_imports);
    buf_printf(&b, "\nINPUT_SHAPE = %s    # one sample; the batch comes first\n", py_shape(&m->in_shape));
    buf_printf(&b, "OUTPUT_SHAPE = %s\n", py_shape(&m->out_shape));
    buf_printf(&b, "BATCH_SIZE = %d      # fit(batch_size=...): the rows seqc's buffers hold\n", m->batch_size);
    if (m->has_loss)
        buf_printf(&b, "LOSS = \"%s\"%s\n", seqrt_loss_name(m->loss), m->loss_on_logits ? "   # from_logits=True" : "");
    else
        buf_printf(&b, "LOSS = None    # no compile(loss=...): inference only\n");
    for (int i = 0; i < e.helpers.n; i++)
        buf_printf(&b, "\n\n%s", e.helpers.v[i]);
    emit_build(&b, &e);
    int uses_uniform = 0, uses_normal = 0;
    emit_init(&b, &e, &uses_uniform, &uses_normal);
    emit_tensors(&b, &e);
    buf_printf(&b, "%s", py_safetensors);
    emit_load_save(&b, &e);
    if (m->has_loss) {
        emit_loss(&b, &e);
        emit_optimizer(&b, &e);
    }
    *out = b;
}

int emit_pytorch(const Model *m, const EmitOptions *opt)
{
    Buf b = {0};
    emit_pytorch_buffer(m, &b);
    const char *path = arena_printf("%s/%s.py", opt->outdir, m->name);
    int rc = write_file_atomic(path, &b);
    free(b.data);
    return rc;
}
