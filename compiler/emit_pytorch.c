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
 * and saver, Keras's loss (computed from the logits where seqc does) and
 * Keras's optimizer update rules expressed through torch.optim.
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

static void emit_init(Buf *b, const PyEmit *e, int *uses_uniform, int *uses_normal)
{
    Buf body = {0};
    for (int i = 0; i < e->nten; i++) {
        const Param *p = e->ten[i].p;
        const char *t = arena_printf("%s[\"%s\"]", p->trainable ? "p" : "b", e->ten[i].key);
        const char *fi = fan(p->fan_in), *fo = fan(p->fan_out);
        if ((unsigned)p->init >= SEQRT_INIT_COUNT)
            ir_internal_error("an initializer that is not a seqrt_init_kind");
        const char *line = NULL;
        switch (p->init) {
        case SEQRT_INIT_ZEROS:
            line = arena_printf("%s.zero_()", t);
            break;
        case SEQRT_INIT_ONES:
            line = arena_printf("%s.fill_(1.0)", t);
            break;
        case SEQRT_INIT_GLOROT_UNIFORM:
            line = arena_printf("_uniform(%s, math.sqrt(6 / (%s + %s)))", t, fi, fo);
            break;
        case SEQRT_INIT_GLOROT_NORMAL:
            line = arena_printf("_truncated_normal(%s, math.sqrt(2 / (%s + %s)) / TRUNCATION)", t, fi, fo);
            break;
        case SEQRT_INIT_HE_UNIFORM:
            line = arena_printf("_uniform(%s, math.sqrt(6 / %s))", t, fi);
            break;
        case SEQRT_INIT_HE_NORMAL:
            line = arena_printf("_truncated_normal(%s, math.sqrt(2 / %s) / TRUNCATION)", t, fi);
            break;
        case SEQRT_INIT_LECUN_UNIFORM:
            line = arena_printf("_uniform(%s, math.sqrt(3 / %s))", t, fi);
            break;
        case SEQRT_INIT_LECUN_NORMAL:
            line = arena_printf("_truncated_normal(%s, math.sqrt(1 / %s) / TRUNCATION)", t, fi);
            break;
        case SEQRT_INIT_RANDOM_UNIFORM:
            line = arena_printf("_uniform(%s, 0.05)", t);
            break;
        case SEQRT_INIT_RANDOM_NORMAL:
            line = arena_printf("%s.normal_(0.0, 0.05)", t);
            break;
        }
        *uses_uniform |= strstr(line, "_uniform(") != NULL;
        *uses_normal |= strstr(line, "_truncated_normal(") != NULL;
        buf_printf(&body, "        %-64s # %s\n", line, seqrt_init_name(p->init));
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

/* Keras's loss, as seqc computes it (runtime/loss.c). */
static void emit_loss(Buf *b, const PyEmit *e)
{
    const Model *m = e->m;
    int logits = m->loss_on_logits || m->loss_from_logits;
    buf_printf(b, "\n\ndef loss(model, x, target):\n");
    Buf doc = {0};
    buf_printf(&doc, "The model file's loss, %s: the mean over the batch, computed %s.", seqrt_loss_name(m->loss),
               loss_comment(m));
    wrap(b, "    \"\"\"", "    ", doc.data);
    free(doc.data);
    buf_printf(b, "    target: %s.\"\"\"\n",
               m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY ? "(n, classes) one-hot or probability rows"
               : m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? "(n,) class indices"
                                                                       : "(n, outputs)");
    if (m->loss_from_logits && !m->loss_on_logits)
        buf_printf(b, "    z = model[:-1](x)   # the logits: all but the final %s\n",
                   m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY ? "sigmoid" : "softmax");
    else
        buf_printf(b, "    %s = model(x)\n", logits ? "z" : "y");
    const char *v = logits ? "z" : "y";
    buf_printf(b, "    %s = %s.reshape(len(%s), -1)\n", v, v, v);
    if ((unsigned)m->loss >= SEQRT_LOSS_COUNT)
        ir_internal_error("a loss that is not a seqrt_loss_kind");
    switch (m->loss) {
    case SEQRT_LOSS_MAE:
        buf_printf(b, "    return (y - target).abs().mean()\n");
        break;
    case SEQRT_LOSS_MSE:
        buf_printf(b, "    return ((y - target) ** 2).mean()\n");
        break;
    case SEQRT_LOSS_HUBER:
        buf_printf(b, "    return F.huber_loss(y, target, delta=1.0)   # Keras Huber(delta=1.0)\n");
        break;
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
        if (logits)
            buf_printf(b, "    return F.binary_cross_entropy_with_logits(z, target)\n");
        else
            buf_printf(b, "    # Keras clips the probabilities to [1e-7, 1 - 1e-7]\n"
                          "    p = torch.clamp(y, 1e-7, 1 - 1e-7)\n"
                          "    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()\n");
        break;
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
        if (logits)
            buf_printf(b, "    return -(target * F.log_softmax(z, dim=-1)).sum(-1).mean()\n");
        else
            buf_printf(b, "    # Keras rescales each row to sum 1, then clips to [1e-7, 1 - 1e-7]\n"
                          "    p = torch.clamp(y / y.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)\n"
                          "    return -(target * torch.log(p)).sum(-1).mean()\n");
        break;
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        if (logits)
            buf_printf(b, "    return F.cross_entropy(z, target.long())\n");
        else
            buf_printf(b, "    # Keras rescales each row to sum 1, then clips to [1e-7, 1 - 1e-7]\n"
                          "    p = torch.clamp(y / y.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)\n"
                          "    return F.nll_loss(torch.log(p), target.long())\n");
        break;
    }
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

/* Keras's optimizer, and the loader of its slots from a checkpoint. */
static void emit_optimizer(Buf *b, const PyEmit *e)
{
    const Optimizer *o = &e->m->opt;
    if ((unsigned)o->kind >= SEQRT_OPT_COUNT)
        ir_internal_error("an optimizer that is not a seqrt_opt_kind");
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        buf_printf(b, "%s", py_keras_epsilon);
        buf_printf(b, "\n\nclass Keras%s(KerasEpsilon, torch.optim.%s):\n    pass\n",
                   o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW", o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW");
        break;
    case SEQRT_OPT_RMSPROP:
        buf_printf(b, "%s", py_keras_rmsprop);
        break;
    }
    buf_printf(b, "\n\ndef optimizer(model):\n");
    const char *slots = "";
    switch (o->kind) {
    case SEQRT_OPT_SGD:
        buf_printf(b, "    \"\"\"SGD(learning_rate=%s, momentum=%s, nesterov=%s). Keras keeps the velocity\n"
                      "    v = momentum v - lr g and adds it (nesterov: momentum v - lr g); torch keeps\n"
                      "    buf = momentum buf + g and subtracts lr buf: the same steps, v = -lr buf.\"\"\"\n",
                   py_float(o->lr), py_float(o->momentum), o->nesterov ? "True" : "False");
        if (o->momentum > 0)
            buf_printf(b, "    return torch.optim.SGD(model.parameters(), lr=%s, momentum=%s, dampening=0, nesterov=%s)\n",
                       py_float(o->lr), py_float(o->momentum), o->nesterov ? "True" : "False");
        else
            buf_printf(b, "    return torch.optim.SGD(model.parameters(), lr=%s)\n", py_float(o->lr));
        if (o->momentum > 0)
            slots = "        opt.state[p][\"momentum_buffer\"] = -slot(name, \"momentum\", p, to_torch) / group[\"lr\"]   # v = -lr buf\n";
        break;
    case SEQRT_OPT_ADAM:
    case SEQRT_OPT_ADAMW:
        buf_printf(b, "    \"\"\"%s(learning_rate=%s, beta_1=%s, beta_2=%s, epsilon=%s%s)\n"
                      "    with Keras's epsilon (KerasEpsilon).%s\"\"\"\n",
                   o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW", py_float(o->lr), py_float(o->beta1),
                   py_float(o->beta2), py_float(o->epsilon),
                   o->kind == SEQRT_OPT_ADAMW ? arena_printf(", weight_decay=%s", py_float(o->weight_decay)) : "",
                   o->kind == SEQRT_OPT_ADAMW ? " The decay is decoupled, w -= lr * weight_decay * w\n"
                                                "    before the step, in both." : "");
        buf_printf(b, "    return Keras%s(model.parameters(), lr=%s, betas=(%s, %s), eps=%s%s)\n",
                   o->kind == SEQRT_OPT_ADAM ? "Adam" : "AdamW", py_float(o->lr), py_float(o->beta1),
                   py_float(o->beta2), py_float(o->epsilon),
                   o->kind == SEQRT_OPT_ADAMW ? arena_printf(", weight_decay=%s", py_float(o->weight_decay)) : "");
        slots = "        opt.state[p][\"step\"] = torch.tensor(float(step))\n"
                "        opt.state[p][\"exp_avg\"] = slot(name, \"m\", p, to_torch)\n"
                "        opt.state[p][\"exp_avg_sq\"] = slot(name, \"v\", p, to_torch)\n"
                "        group[\"keras_step\"] = step\n";
        break;
    case SEQRT_OPT_RMSPROP:
        buf_printf(b, "    \"\"\"RMSprop(learning_rate=%s, rho=%s, momentum=%s, epsilon=%s), Keras 3's.\"\"\"\n",
                   py_float(o->lr), py_float(o->rho), py_float(o->momentum), py_float(o->epsilon));
        buf_printf(b, "    return KerasRMSprop(model.parameters(), lr=%s, rho=%s, momentum=%s, epsilon=%s)\n",
                   py_float(o->lr), py_float(o->rho), py_float(o->momentum), py_float(o->epsilon));
        slots = o->momentum > 0 ? "        opt.state[p][\"velocity\"] = slot(name, \"velocity\", p, to_torch)\n"
                                  "        opt.state[p][\"momentum\"] = slot(name, \"momentum\", p, to_torch)\n"
                                : "        opt.state[p][\"velocity\"] = slot(name, \"velocity\", p, to_torch)\n";
        break;
    }
    buf_printf(b, "\n\ndef _load_optimizer(opt, model, tensors, path):\n"
                  "    \"\"\"The optimizer slots of a seqc checkpoint (optimizer.NAME.SLOT) into\n"
                  "    opt's state; nothing when the file has none (a weights-only file).\"\"\"\n"
                  "    if not any(k.startswith(\"optimizer.\") for k in tensors):\n"
                  "        return\n"
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
               strstr(slots, "step") ? "    step = int(tensors[\"train.step\"]) if \"train.step\" in tensors else 0\n" : "",
               strstr(slots, "group[") ? "    group = opt.param_groups[0]\n" : "", *slots ? slots : "        pass\n");
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
