/*
 * layer_rnn.c - SimpleRNN, LSTM and GRU over a fixed-length sequence
 * [steps, features] -> [units] (or [steps, units] with return_sequences).
 *
 * Keras 3's arguments and defaults (keras/src/layers/rnn/simple_rnn.py,
 * lstm.py, gru.py): units, activation="tanh", recurrent_activation=
 * "sigmoid" (LSTM, GRU), use_bias=True, kernel_initializer=
 * "glorot_uniform", recurrent_initializer="orthogonal",
 * bias_initializer="zeros", unit_forget_bias=True (LSTM: the forget gate's
 * bias starts at 1), reset_after=True (GRU), return_sequences=False,
 * go_backwards=False (the steps are read from last to first and a returned
 * sequence is in that order, as Keras returns it). Keras's formulas: LSTM
 * i, f, o = rec_act(.), g = act(.), c = f c + i g, h = o act(c); GRU
 * z, r = rec_act(.), n = act(x W_n + r (h U_n + b_n)) (reset_after; before:
 * act(x W_n + (r h) U_n)), h = z h + (1 - z) n; SimpleRNN h = act(x W + h U
 * + b). dropout=: Keras 3's (implementation 2): the inputs times one
 * mask per sample and feature, drawn once per batch and used at every step
 * (seqrt_spatial_dropout_* over [steps, features]), from the model's random
 * stream or the layer's own with seed=. recurrent_dropout=: Keras 3 then
 * switches the cell to its implementation 1, with one mask per gate block
 * (SimpleRNN: one) on the previous state, (sample, unit), and the input
 * dropout becomes one mask per gate block too, (sample, feature); all
 * drawn once per batch and used at every step (the kernels' xmask and
 * hmask, runtime/rnn.c). Not supported, with an error that says so:
 * return_state, stateful, unroll, masking.
 *
 * Checkpoint: PyTorch's nn.RNN / nn.LSTM / nn.GRU (batch_first=True)
 * names and layouts, "k.weight_ih_l0" (G, F), "k.weight_hh_l0" (G, H),
 * "k.bias_ih_l0" (G), "k.bias_hh_l0" (G), G = gates x units, gates in
 * PyTorch's order. Keras's kernel (F, G) is weight_ih transposed; LSTM's
 * gate order (i, f, c, o) is PyTorch's; GRU's Keras order z, r, h becomes
 * PyTorch's r, z, n (the first two blocks swap). Keras's LSTM and
 * SimpleRNN have one bias: it is bias_ih_l0, and bias_hh_l0 is a
 * non-trainable buffer of zeros (saved, so that the torch module loads the
 * checkpoint strictly; a nonzero one from torch is added, never trained).
 * GRU(reset_after=True)'s bias (2, 3 units) is bias_ih_l0 (row 0) and
 * bias_hh_l0 (row 1), both trained; GRU(reset_after=False) has bias_ih_l0
 * only (no PyTorch module computes that variant). Keras's fans: kernel
 * fan_in F, fan_out G; recurrent kernel fan_in H, fan_out G.
 *
 * Baked: one ST_RNN stage (rnn_bake; bake_write.c loops over the steps
 * with h, c and a step's gate products in the arena).
 *
 * Buffers (per row, planned): h [T, H] the hidden states and, per cell,
 * a [T, G] gate values, c [T, H] LSTM's cell states, hn [T, H] GRU's
 * recurrent candidate term; z [T, G] the pre-activations, kept for backward
 * in a model that trains; scratch SEQRT_RNN_SCRATCH(batch, G, H).
 */
#include <string.h>

#include "seqc.h"

typedef enum { CELL_SIMPLE, CELL_LSTM, CELL_GRU } Cell;

typedef struct {
    const char *what;     /* the Keras name: "LSTM" */
    Cell cell;
    int units, gates;
    Act act, rec_act;
    int use_bias, unit_forget_bias, reset_after;
    int return_sequences, go_backwards;
    WeightOpts kernel, recurrent, bias;   /* initializers, regularizers, constraints */
    double dropout;       /* of the inputs, one mask per sample and feature for all steps */
    double rec_dropout;   /* of the previous state, one mask per gate block, sample and unit */
    int64_t seed;         /* -1: the model's random stream */
} RnnAttr;

#define RNN_COMMON                                                                                  \
    {"kernel_regularizer", T_REG}, {"recurrent_regularizer", T_REG}, {"bias_regularizer", T_REG},  \
        {"kernel_constraint", T_CON}, {"recurrent_constraint", T_CON}, {"bias_constraint", T_CON}, \
        {"dropout", T_FLOAT}, {"recurrent_dropout", T_FLOAT}

#define RNN_TAIL                                                                                      \
    {"seed", T_INT}, {"return_sequences", T_BOOL}, {"return_state", T_BOOL}, {"go_backwards", T_BOOL}, \
        {"stateful", T_BOOL}, {"unroll", T_BOOL}

static const CallSpec spec_simple = {"SimpleRNN", 1, {
    {"units", T_INT}, {"activation", T_ACT}, {"use_bias", T_BOOL}, {"kernel_initializer", T_INIT},
    {"recurrent_initializer", T_INIT}, {"bias_initializer", T_INIT}, RNN_COMMON, RNN_TAIL, LAYER_KWARGS}};

static const CallSpec spec_lstm = {"LSTM", 1, {
    {"units", T_INT}, {"activation", T_ACT}, {"recurrent_activation", T_ACT}, {"use_bias", T_BOOL},
    {"kernel_initializer", T_INIT}, {"recurrent_initializer", T_INIT}, {"bias_initializer", T_INIT},
    {"unit_forget_bias", T_BOOL}, RNN_COMMON, RNN_TAIL, {"use_cudnn", T_IGNORED}, LAYER_KWARGS}};

static const CallSpec spec_gru = {"GRU", 1, {
    {"units", T_INT}, {"activation", T_ACT}, {"recurrent_activation", T_ACT}, {"use_bias", T_BOOL},
    {"kernel_initializer", T_INIT}, {"recurrent_initializer", T_INIT}, {"bias_initializer", T_INIT},
    RNN_COMMON, RNN_TAIL, {"reset_after", T_BOOL}, {"use_cudnn", T_IGNORED}, LAYER_KWARGS}};

/* An activation argument with a default other than linear; row-wise ones
 * (softmax) are refused: a gate is elementwise. */
static int lower_rnn_act(Lower *lw, const char *name, seqrt_act def, Act *out)
{
    if (!lower_arg(lw, name)) {
        *out = act_default(def);
        return 0;
    }
    if (lower_act(lw, name, out))
        return -1;
    if (act_rowwise(*out)) {
        diag_error(lw->src, lower_loc(lw, name), "%s=\"%s\" is computed over a whole row; a recurrent layer "
                   "needs an elementwise activation", name, act_str(*out));
        return -1;
    }
    return 0;
}

/* An argument seqc does not support unless it has Keras's default. */
static int refuse_bool(Lower *lw, const char *name, const char *why)
{
    int v;
    if (lower_bool(lw, name, 0, &v))
        return -1;
    if (v) {
        diag_error(lw->src, lower_loc(lw, name), "%s=True is not supported by seqc: %s", name, why);
        return -1;
    }
    return 0;
}

static int lower_rate(Lower *lw, const char *name, double *v)
{
    if (lower_float(lw, name, 0, v))
        return -1;
    if (!(*v >= 0 && *v < 1)) {
        diag_error(lw->src, lower_loc(lw, name), "%s must be in [0, 1), not %g", name, *v);
        return -1;
    }
    return 0;
}

static int lower_rnn(Lower *lw, Layer *l)
{
    RnnAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    a->what = lw->spec->name;
    a->cell = lw->spec == &spec_lstm ? CELL_LSTM : lw->spec == &spec_gru ? CELL_GRU : CELL_SIMPLE;
    a->gates = a->cell == CELL_LSTM ? 4 : a->cell == CELL_GRU ? 3 : 1;
    Value *u = lower_arg(lw, "units");
    if (!u) {
        diag_error(lw->src, lw->call->loc, "%s needs the number of units, e.g. %s(32)", a->what, a->what);
        return -1;
    }
    int64_t units, seed;
    int err = lower_int(lw, "units", 0, &units);
    if (!err && (units <= 0 || units > 65536)) {
        diag_error(lw->src, u->loc, "%s needs a positive number of units up to 65536, not %lld", a->what,
                   (long long)units);
        err = -1;
    }
    a->units = (int)units;
    err |= lower_rnn_act(lw, "activation", SEQRT_ACT_TANH, &a->act);
    if (a->cell != CELL_SIMPLE)
        err |= lower_rnn_act(lw, "recurrent_activation", SEQRT_ACT_SIGMOID, &a->rec_act);
    else
        a->rec_act = act_default(SEQRT_ACT_SIGMOID);
    err |= lower_bool(lw, "use_bias", 1, &a->use_bias);
    err |= lower_weight(lw, "kernel", SEQRT_INIT_GLOROT_UNIFORM, &a->kernel);
    err |= lower_weight(lw, "recurrent", SEQRT_INIT_ORTHOGONAL, &a->recurrent);
    err |= lower_weight(lw, "bias", SEQRT_INIT_ZEROS, &a->bias);
    if (a->cell == CELL_LSTM)
        err |= lower_bool(lw, "unit_forget_bias", 1, &a->unit_forget_bias);
    if (a->cell == CELL_GRU)
        err |= lower_bool(lw, "reset_after", 1, &a->reset_after);
    if (a->cell == CELL_GRU && a->reset_after && a->bias.con.on && a->bias.con.kind != SEQRT_CONSTRAINT_NON_NEG) {
        /* Keras's bias is then one (2, 3 units) tensor, seqc's two
         * (bias_ih_l0, bias_hh_l0): a norm over it is not built */
        diag_error(lw->src, lower_loc(lw, "bias_constraint"), "a norm constraint on the bias of GRU(reset_after="
                   "True) is not built by seqc (Keras's bias is one (2, 3 * units) tensor there, seqc keeps two); "
                   "NonNeg works, or reset_after=False");
        err = -1;
    }
    err |= lower_bool(lw, "return_sequences", 0, &a->return_sequences);
    err |= lower_bool(lw, "go_backwards", 0, &a->go_backwards);
    err |= lower_int(lw, "seed", -1, &seed);
    a->seed = seed < 0 ? -1 : seed;
    err |= lower_rate(lw, "dropout", &a->dropout);
    err |= lower_rate(lw, "recurrent_dropout", &a->rec_dropout);
    err |= refuse_bool(lw, "return_state", "a Sequential model passes one value from layer to layer");
    err |= refuse_bool(lw, "stateful", "every batch starts from a zero state");
    err |= refuse_bool(lw, "unroll", "the time loop is always a loop");
    return err;
}

static const Syntax syntax_simple = {&spec_simple, lower_rnn}, syntax_lstm = {&spec_lstm, lower_rnn},
                    syntax_gru = {&spec_gru, lower_rnn};

int rnn_is_recurrent(const LayerKind *k)
{
    return k == &kind_simple_rnn || k == &kind_lstm || k == &kind_gru;
}

int rnn_units(const void *attr, int *return_sequences, int *go_backwards)
{
    const RnnAttr *a = attr;
    *return_sequences = a->return_sequences;
    *go_backwards = a->go_backwards;
    return a->units;
}

/* Checks the input [steps, features]; shared with Bidirectional. */
int rnn_check_input(const Source *src, const Layer *l, const char *what)
{
    if (l->in.rank == 2)
        return 0;
    if (l->in.rank == 1)
        diag_error(src, l->loc, "%s expects a sequence [steps, features], but its input is %s (a recurrent layer "
                   "without return_sequences=True gives one vector per sample); use return_sequences=True on "
                   "the recurrent layer before, or Reshape((%d, 1)) for %d steps of one feature", what,
                   shape_str(&l->in), l->in.dim[0], l->in.dim[0]);
    else
        diag_error(src, l->loc, "%s expects a sequence [steps, features], but its input is %s; Reshape it to "
                   "[steps, features] first", what, shape_str(&l->in));
    return -1;
}

static int infer(const Source *src, Layer *l)
{
    const RnnAttr *a = l->attr;
    if (rnn_check_input(src, l, a->what) < 0)
        return -1;
    long G = (long)a->gates * a->units;
    if (G * (shape_last(&l->in) + a->units) > 2147483647L || (long)l->in.dim[0] * G > 2147483647L) {
        diag_error(src, l->loc, "%s(%d) on %s is too large (more than 2^31-1 weights or gate values per sample)",
                   a->what, a->units, shape_str(&l->in));
        return -1;
    }
    if (a->return_sequences) {
        l->out.rank = 2;
        l->out.dim[0] = l->in.dim[0];
        l->out.dim[1] = a->units;
    } else {
        l->out = shape_1d(a->units);
    }
    return 0;
}

/* The parameters of one direction; suffix "" or "_reverse" (Bidirectional). */
void rnn_params(Layer *l, const void *attr, const char *suffix)
{
    const RnnAttr *a = attr;
    int F = shape_last(&l->in), H = a->units, G = a->gates * H;
    Shape wi = {2, {G, F}}, wh = {2, {G, H}};
    /* Keras's kernels are (F, G) and (H, G): stored transposed, so that
     * the initializers' layouts and the constraints' axes are Keras's */
    Param *p = ir_add_param(l, arena_printf("weight_ih_l0%s", suffix), arena_printf("kernel%s", suffix), 1, wi,
                            a->kernel.init.kind, F, G);
    ir_param_opts(p, &a->kernel);
    p->transposed = 1;
    p = ir_add_param(l, arena_printf("weight_hh_l0%s", suffix), arena_printf("recurrent_kernel%s", suffix), 1, wh,
                     a->recurrent.init.kind, H, G);
    ir_param_opts(p, &a->recurrent);
    p->transposed = 1;
    if (!a->use_bias)
        return;
    ir_param_opts(ir_add_param(l, arena_printf("bias_ih_l0%s", suffix), arena_printf("bias%s", suffix), 1,
                               shape_1d(G), a->bias.init.kind, G, G), &a->bias);
    if (a->cell == CELL_GRU && a->reset_after) {
        /* Keras's bias (2, G): row 1; its regularizer and NonNeg apply to both rows */
        ir_param_opts(ir_add_param(l, arena_printf("bias_hh_l0%s", suffix), arena_printf("recurrent_bias%s", suffix),
                                   1, shape_1d(G), a->bias.init.kind, G, G), &a->bias);
    } else if (a->cell != CELL_GRU) {
        p = ir_add_param(l, arena_printf("bias_hh_l0%s", suffix), arena_printf("recurrent_bias%s", suffix), 0,
                         shape_1d(G), SEQRT_INIT_ZEROS, G, G);
        p->torch_only = 1;   /* PyTorch's second bias: no Keras weight */
    }
}

static void params(Layer *l)
{
    rnn_params(l, l->attr, "");
}

void rnn_print(FILE *f, const void *attr)
{
    const RnnAttr *a = attr;
    fprintf(f, " units=%d activation=%s", a->units, act_str(a->act));
    if (a->cell != CELL_SIMPLE)
        fprintf(f, " recurrent_activation=%s", act_str(a->rec_act));
    fprintf(f, " use_bias=%s", ir_bool(a->use_bias));
    if (a->cell == CELL_LSTM)
        fprintf(f, " unit_forget_bias=%s", ir_bool(a->unit_forget_bias));
    if (a->cell == CELL_GRU)
        fprintf(f, " reset_after=%s", ir_bool(a->reset_after));
    fprintf(f, " return_sequences=%s go_backwards=%s", ir_bool(a->return_sequences), ir_bool(a->go_backwards));
    if (a->dropout > 0)
        fprintf(f, " dropout=%.9g", a->dropout);
    if (a->rec_dropout > 0)
        fprintf(f, " recurrent_dropout=%.9g", a->rec_dropout);
    if ((a->dropout > 0 || a->rec_dropout > 0) && a->seed >= 0)
        fprintf(f, " seed=%lld", (long long)a->seed);
}

int64_t rnn_seed(const void *attr)
{
    const RnnAttr *a = attr;
    return a->dropout > 0 || a->rec_dropout > 0 ? a->seed : -1;
}

static void print(FILE *f, const Layer *l)
{
    rnn_print(f, l->attr);
}

/* The per-row buffers of one direction; roles get the suffix. */
void rnn_plan(Plan *p, Layer *l, const void *attr, const char *suffix, int batch)
{
    const RnnAttr *a = attr;
    int T = l->in.dim[0], H = a->units, G = a->gates * H;
    Shape tg = {2, {T, G}}, th = {2, {T, H}};
    plan_keep(p, l, arena_printf("z%s", suffix), tg, "gate pre-activations per step, for backward");
    if (a->cell != CELL_SIMPLE)
        plan_value(p, l, arena_printf("a%s", suffix), tg, "gate values per step");
    plan_value(p, l, arena_printf("h%s", suffix), th, "hidden state after each input step");
    if (a->cell == CELL_LSTM)
        plan_value(p, l, arena_printf("c%s", suffix), th, "cell state after each input step");
    if (a->cell == CELL_GRU)
        plan_value(p, l, arena_printf("hn%s", suffix), th,
                   a->reset_after ? "h w_hn^T + b_hn per step" : "r * h_prev per step");
    int F = shape_last(&l->in);
    if (a->rec_dropout > 0) {
        plan_keep_fixed(p, l, arena_printf("hmask%s", suffix), shape_1d(batch * a->gates * H),
                        "recurrent dropout (batch, gate blocks, units): 0 or 1 / (1 - rate)");
        if (a->dropout > 0)
            plan_keep_fixed(p, l, arena_printf("xmask%s", suffix), shape_1d(batch * a->gates * F),
                            "input dropout (batch, gate blocks, features): 0 or 1 / (1 - rate)");
    } else if (a->dropout > 0) {
        plan_keep_fixed(p, l, arena_printf("mask%s", suffix), shape_1d(batch * F),
                        "input dropout, per sample and feature: 0 or 1 / (1 - rate)");
        plan_keep(p, l, arena_printf("xm%s", suffix), l->in, "the input after dropout");
    }
    long need = SEQRT_RNN_SCRATCH(batch, G, H) + (a->rec_dropout > 0 ? SEQRT_RNN_MASK_SCRATCH(batch, G, F, H) : 0);
    if (need > l->scratch)
        plan_scratch(p, l, need);
}

static void plan(Plan *p, Layer *l)
{
    rnn_plan(p, l, l->attr, "", p->m->batch_size);
}

static const char *const act_enum[] = {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) "SEQRT_ACT_" #id,
#define ACT_ROW(id, name, flags, FR, BR, desc) "SEQRT_ACT_" #id,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
};

static const char *actfn_literal(Act a)
{
    return arena_printf("{%s, {%s, %s, %s}}", act_enum[a.kind], float_literal(a.p[0]), float_literal(a.p[1]),
                        float_literal(a.p[2]));
}

/* The seqrt_rnn constant of one direction (go_backwards as given). */
const char *rnn_geometry(Emit *e, const Layer *l, const void *attr, const char *suffix, int go_backwards,
                         int return_sequences)
{
    const RnnAttr *a = attr;
    const char *init = arena_printf("{.T = %d, .F = %d, .H = %d, .return_sequences = %d, .go_backwards = %d, "
                                    ".reset_after = %d,\n    .act = %s, .rec_act = %s}",
                                    l->in.dim[0], shape_last(&l->in), a->units, return_sequences, go_backwards,
                                    a->reset_after, actfn_literal(a->act), actfn_literal(a->rec_act));
    return emit_static(e, "seqrt_rnn", arena_printf("%s_rnn%s", ir_tag(l), suffix), init);
}

static const char *role(const char *r, const char *suffix)
{
    return arena_printf("%s%s", r, suffix);
}

/* Forward of one direction into y. */
void rnn_emit_forward(Emit *e, const Layer *l, const void *attr, const char *suffix, const char *x, const char *y,
                      int go_backwards, int return_sequences)
{
    const RnnAttr *a = attr;
    const char *g = rnn_geometry(e, l, attr, suffix, go_backwards, return_sequences);
    const char *wi = emit_param(e, l, role("kernel", suffix)), *wh = emit_param(e, l, role("recurrent_kernel", suffix));
    const char *bi = emit_param(e, l, role("bias", suffix)), *bh = emit_param(e, l, role("recurrent_bias", suffix));
    const char *z = emit_keep(e, l, role("z", suffix)), *h = emit_keep(e, l, role("h", suffix));
    const char *xmask = "NULL", *hmask = "NULL", *scratch = emit_scratch(e, l);
    if (a->rec_dropout > 0 && emit_training(e)) {
        /* Keras's implementation 1: masks per gate block, the same at every step */
        int F = shape_last(&l->in), R = a->gates;
        hmask = arena_printf("%s_hmask%s", ir_tag(l), suffix);
        emit_line(e, "const float *%s = NULL;", hmask);
        if (a->dropout > 0) {
            xmask = arena_printf("%s_xmask%s", ir_tag(l), suffix);
            emit_line(e, "const float *%s = NULL;", xmask);
        }
        const char *hbuf = emit_keep(e, l, role("hmask", suffix));
        emit_line(e, "if (training) {");
        if (a->dropout > 0) {
            const char *xbuf = emit_keep(e, l, role("xmask", suffix));
            emit_line(e, "    seqrt_dropout_mask(%s, (long)n * %d, %s, %s);", xbuf, R * F, float_literal(a->dropout),
                      emit_rng(e, l));
            emit_line(e, "    %s = %s;", xmask, xbuf);
        }
        emit_line(e, "    seqrt_dropout_mask(%s, (long)n * %d, %s, %s);", hbuf, R * a->units,
                  float_literal(a->rec_dropout), emit_rng(e, l));
        emit_line(e, "    %s = %s;", hmask, hbuf);
        emit_line(e, "}");
    } else if (a->dropout > 0 && emit_training(e)) {
        /* Keras: one mask per sample and feature, the same at every step */
        const char *xv = arena_printf("%s_x%s", ir_tag(l), suffix);
        emit_line(e, "const float *%s = %s;", xv, x);
        emit_line(e, "if (training) {");
        emit_line(e, "    seqrt_spatial_dropout_forward(%s, %s, %s, n, %d, %d, %s, %s);", emit_keep(e, l, role("xm", suffix)),
                  emit_keep(e, l, role("mask", suffix)), x, l->in.dim[0], shape_last(&l->in),
                  float_literal(a->dropout), emit_rng(e, l));
        emit_line(e, "    %s = %s;", xv, emit_keep(e, l, role("xm", suffix)));
        emit_line(e, "}");
        x = xv;
    }
    switch (a->cell) {
    case CELL_SIMPLE:
        emit_line(e, "seqrt_simple_rnn_forward(%s, %s, %s, %s,\n    %s, %s, %s, %s, %s, %s, n, &%s, %s);", y, z, h,
                  x, wi, wh, bi, bh, xmask, hmask, g, scratch);
        return;
    case CELL_LSTM:
        emit_line(e, "seqrt_lstm_forward(%s, %s, %s, %s, %s, %s,\n    %s, %s, %s, %s, %s, %s, n, &%s, %s);", y, z,
                  emit_keep(e, l, role("a", suffix)), h, emit_keep(e, l, role("c", suffix)), x, wi, wh, bi, bh, xmask,
                  hmask, g, scratch);
        return;
    case CELL_GRU:
        emit_line(e, "seqrt_gru_forward(%s, %s, %s, %s, %s, %s,\n    %s, %s, %s, %s, %s, %s, n, &%s, %s);", y, z,
                  emit_keep(e, l, role("a", suffix)), h, emit_keep(e, l, role("hn", suffix)), x, wi, wh, bi, bh, xmask,
                  hmask, g, scratch);
        return;
    }
    ir_internal_error("not a recurrent cell");
}

static void rnn_emit_cell_backward(Emit *e, const Layer *l, const RnnAttr *a, const char *suffix, const char *x,
                                   const char *dy, const char *dx, const char *g, const char *wi, const char *wh,
                                   const char *dwi, const char *dwh, const char *dbi, const char *dbh,
                                   const char *z, const char *h, const char *xmask, const char *hmask);

/* Backward of one direction from dy (overwritten) into dx (or NULL). */
void rnn_emit_backward(Emit *e, const Layer *l, const void *attr, const char *suffix, const char *x,
                       const char *dy, const char *dx, int go_backwards, int return_sequences)
{
    const RnnAttr *a = attr;
    const char *g = rnn_geometry(e, l, attr, suffix, go_backwards, return_sequences);
    const char *wi = emit_param(e, l, role("kernel", suffix)), *wh = emit_param(e, l, role("recurrent_kernel", suffix));
    const char *dwi = emit_grad(e, l, role("kernel", suffix)), *dwh = emit_grad(e, l, role("recurrent_kernel", suffix));
    const char *dbi = emit_grad(e, l, role("bias", suffix)), *dbh = emit_grad(e, l, role("recurrent_bias", suffix));
    const char *z = emit_keep(e, l, role("z", suffix)), *h = emit_keep(e, l, role("h", suffix));
    const char *xmask = a->rec_dropout > 0 && a->dropout > 0 ? emit_keep(e, l, role("xmask", suffix)) : "NULL";
    const char *hmask = a->rec_dropout > 0 ? emit_keep(e, l, role("hmask", suffix)) : "NULL";
    int spatial = a->dropout > 0 && a->rec_dropout == 0;   /* one input mask for every gate */
    if (spatial)
        x = emit_keep(e, l, role("xm", suffix));   /* what the weights saw */
    rnn_emit_cell_backward(e, l, a, suffix, x, dy, dx, g, wi, wh, dwi, dwh, dbi, dbh, z, h, xmask, hmask);
    if (spatial && strcmp(dx, "NULL"))
        emit_line(e, "seqrt_spatial_dropout_backward(%s, %s, %s, n, %d, %d); /* in place */", dx, dx,
                  emit_keep(e, l, role("mask", suffix)), l->in.dim[0], shape_last(&l->in));
}

static void rnn_emit_cell_backward(Emit *e, const Layer *l, const RnnAttr *a, const char *suffix, const char *x,
                                   const char *dy, const char *dx, const char *g, const char *wi, const char *wh,
                                   const char *dwi, const char *dwh, const char *dbi, const char *dbh,
                                   const char *z, const char *h, const char *xmask, const char *hmask)
{
    switch (a->cell) {
    case CELL_SIMPLE:
        emit_line(e, "seqrt_simple_rnn_backward(%s, %s, %s, %s, %s, %s,\n    %s, %s, %s, %s, %s, %s, %s, n, &%s, %s);",
                  dx, dwi, dwh, dbi, dbh, dy, z, h, x, wi, wh, xmask, hmask, g, emit_scratch(e, l));
        return;
    case CELL_LSTM:
        emit_line(e, "seqrt_lstm_backward(%s, %s, %s, %s, %s,\n    %s, %s, %s, %s, %s, %s, %s, %s, %s, n, &%s, %s);",
                  dx, dwi, dwh, dbi, dy, z, emit_keep(e, l, role("a", suffix)), h, emit_keep(e, l, role("c", suffix)),
                  x, wi, wh, xmask, hmask, g, emit_scratch(e, l));
        return;
    case CELL_GRU:
        emit_line(e, "seqrt_gru_backward(%s, %s, %s, %s, %s, %s,\n    %s, %s, %s, %s, %s, %s, %s, %s, %s, n, &%s, %s);",
                  dx, dwi, dwh, dbi, dbh, dy, z, emit_keep(e, l, role("a", suffix)), h,
                  emit_keep(e, l, role("hn", suffix)), x, wi, wh, xmask, hmask, g, emit_scratch(e, l));
        return;
    }
    ir_internal_error("not a recurrent cell");
}

/* unit_forget_bias: the forget gate's block of bias_ih starts at 1. A
 * GRU kernel drawn by Identity (the one initializer whose values depend on
 * the column): Keras's columns z, r, h are rows r, z, n here, so its first
 * two blocks swap. */
void rnn_emit_init(Emit *e, const Layer *l, const void *attr, const char *suffix)
{
    const RnnAttr *a = attr;
    for (int k = 0; a->cell == CELL_GRU && k < 2; k++) {
        const WeightOpts *o = k ? &a->recurrent : &a->kernel;
        if (o->init.kind != SEQRT_INIT_IDENTITY)
            continue;
        int cols = k ? a->units : shape_last(&l->in);
        emit_line(e, "for (long j = 0; j < %ld; j++) { /* Identity: Keras's gate order z, r, h -> r, z, n */",
                  (long)a->units * cols);
        emit_line(e, "    float *w = %s, t = w[j];", emit_param(e, l, role(k ? "recurrent_kernel" : "kernel", suffix)));
        emit_line(e, "    w[j] = w[%ld + j];", (long)a->units * cols);
        emit_line(e, "    w[%ld + j] = t;", (long)a->units * cols);
        emit_line(e, "}");
    }
    if (a->cell != CELL_LSTM || !a->unit_forget_bias || !a->use_bias)
        return;
    emit_line(e, "for (int j = 0; j < %d; j++) /* unit_forget_bias: the forget gate's bias is 1 */", a->units);
    emit_line(e, "    %s[%d + j] = 1.0f;", emit_param(e, l, role("bias", suffix)), a->units);
}

static void forward(Emit *e, const Site *s)
{
    const RnnAttr *a = s->l->attr;
    rnn_emit_forward(e, s->l, a, "", s->x, s->y, a->go_backwards, a->return_sequences);
}

static void backward(Emit *e, const Site *s)
{
    const RnnAttr *a = s->l->attr;
    rnn_emit_backward(e, s->l, a, "", s->x, s->dy, s->dx, a->go_backwards, a->return_sequences);
}

static void init(Emit *e, const Layer *l)
{
    rnn_emit_init(e, l, l->attr, "");
}

static int64_t seed(const Layer *l)
{
    return rnn_seed(l->attr);
}

/* The baked stage of one layer, one direction or both (Bidirectional). */
void rnn_bake(Bake *b, const Layer *l, const void *attr, int bidir, int merge, const char *what)
{
    const RnnAttr *a = attr;
    Stage *st = bake_stage(b, ST_RNN, l, what);
    int F = shape_last(&l->in), H = a->units, G = a->gates * H;
    st->cell = a->cell;
    st->units = H;
    st->gates = a->gates;
    st->reset_after = a->reset_after;
    st->rseq = a->return_sequences;
    st->gback = a->go_backwards;
    st->bidir = bidir;
    st->merge = merge;
    st->act = a->act;
    st->rec_act = a->rec_act;
    for (int d = 0; d <= bidir; d++) {
        const char *sfx = d ? "_reverse" : "";
        st->rw[4 * d] = bake_param(b, l, role("kernel", sfx), (long)G * F, 0.0);
        st->rw[4 * d + 1] = bake_param(b, l, role("recurrent_kernel", sfx), (long)G * H, 0.0);
        st->rw[4 * d + 2] = bake_param(b, l, role("bias", sfx), G, 0.0);
        st->rw[4 * d + 3] = bake_param(b, l, role("recurrent_bias", sfx), G, 0.0);
    }
    st->scratch = 2L * H + 2L * G;   /* h, c, the input and recurrent products of a step */
}

static void bake(Bake *b, const Layer *l)
{
    const RnnAttr *a = l->attr;
    rnn_bake(b, l, a, 0, 0, arena_printf("%d: %s", l->index, a->what));
}

static const char py_KerasRecurrent[] =
    "class KerasRecurrent(nn.Module):\n"
    "    \"\"\"Keras's SimpleRNN / LSTM / GRU (cell \"rnn\", \"lstm\", \"gru\") over\n"
    "    [batch, steps, features], one direction or both (merge: Bidirectional's\n"
    "    merge_mode), zero initial states. Its tensors have nn.RNN / nn.LSTM /\n"
    "    nn.GRU's (batch_first=True) names and gate layouts (weight_ih_l0 (G, F),\n"
    "    weight_hh_l0 (G, H), bias_ih_l0, bias_hh_l0; \"_reverse\" for the backward\n"
    "    direction), so its state_dict loads into those modules. It is written\n"
    "    out step by step because Keras's variants are not all torch's modules:\n"
    "    LSTM's and SimpleRNN's one bias (bias_hh_l0 is a zero buffer here, not\n"
    "    trained), GRU(reset_after=False), activations other than tanh/sigmoid,\n"
    "    go_backwards (the steps read last to first; a returned sequence is in\n"
    "    that order, as Keras returns it). recurrent_dropout: Keras's\n"
    "    implementation 1 in training: one mask per gate block on the previous\n"
    "    state (sample, unit) and, with dropout, on the input (sample,\n"
    "    feature), drawn per call and used at every step.\"\"\"\n"
    "\n"
    "    def __init__(self, cell, features, units, act, rec_act, use_bias, reset_after,\n"
    "                 return_sequences, go_backwards, merge=None, dropout=0.0, recurrent_dropout=0.0):\n"
    "        super().__init__()\n"
    "        self.cell, self.units, self.act, self.rec_act = cell, units, act, rec_act\n"
    "        self.reset_after, self.return_sequences = reset_after, return_sequences\n"
    "        self.go_backwards, self.merge = go_backwards, merge\n"
    "        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout\n"
    "        self.blocks = {\"rnn\": 1, \"lstm\": 4, \"gru\": 3}[cell]\n"
    "        g = self.blocks * units\n"
    "        for s in [\"\"] if merge is None else [\"\", \"_reverse\"]:\n"
    "            self.register_parameter(\"weight_ih_l0\" + s, nn.Parameter(torch.empty(g, features)))\n"
    "            self.register_parameter(\"weight_hh_l0\" + s, nn.Parameter(torch.empty(g, units)))\n"
    "            if not use_bias:\n"
    "                continue\n"
    "            self.register_parameter(\"bias_ih_l0\" + s, nn.Parameter(torch.zeros(g)))\n"
    "            if cell != \"gru\":\n"
    "                self.register_buffer(\"bias_hh_l0\" + s, torch.zeros(g))\n"
    "            elif reset_after:\n"
    "                self.register_parameter(\"bias_hh_l0\" + s, nn.Parameter(torch.zeros(g)))\n"
    "\n"
    "    def _run(self, x, s):\n"
    "        w_hh, h_n, k = getattr(self, \"weight_hh_l0\" + s), self.units, self.blocks\n"
    "        w_ih = getattr(self, \"weight_ih_l0\" + s)\n"
    "        b_ih, b_hh = getattr(self, \"bias_ih_l0\" + s, None), getattr(self, \"bias_hh_l0\" + s, None)\n"
    "        n_ = x.shape[0]\n"
    "        mh = None\n"
    "        if self.training and self.recurrent_dropout > 0:   # per gate block, fixed over the steps\n"
    "            mx = F.dropout(x.new_ones(n_, k, x.shape[-1]), self.dropout, True)\n"
    "            mh = F.dropout(x.new_ones(n_, k, h_n), self.recurrent_dropout, True)\n"
    "            gx = torch.einsum(\"btf,bkf,khf->btkh\", x, mx, w_ih.view(k, h_n, -1)).flatten(2)\n"
    "        else:\n"
    "            gx = x @ w_ih.t()\n"
    "        if b_ih is not None:\n"
    "            gx = gx + b_ih\n"
    "        h = c = x.new_zeros(n_, h_n)\n"
    "        ys = []\n"
    "        for t in range(x.shape[1]):\n"
    "            if mh is None:\n"
    "                gh = h @ w_hh.t()\n"
    "            else:\n"
    "                hm = h.unsqueeze(1) * mh   # (n, blocks, units)\n"
    "                gh = torch.einsum(\"bkj,khj->bkh\", hm, w_hh.view(k, h_n, h_n)).flatten(1)\n"
    "            if b_hh is not None:\n"
    "                gh = gh + b_hh\n"
    "            g = gx[:, t]\n"
    "            if self.cell == \"gru\":   # gates r, z, n (torch's order)\n"
    "                r = self.rec_act(g[:, :h_n] + gh[:, :h_n])\n"
    "                z = self.rec_act(g[:, h_n:2 * h_n] + gh[:, h_n:2 * h_n])\n"
    "                if self.reset_after:\n"
    "                    n = self.act(g[:, 2 * h_n:] + r * gh[:, 2 * h_n:])\n"
    "                else:\n"
    "                    hn = h if mh is None else hm[:, 2]\n"
    "                    n = self.act(g[:, 2 * h_n:] + (r * hn) @ w_hh[2 * h_n:].t())\n"
    "                h = z * h + (1 - z) * n\n"
    "            elif self.cell == \"lstm\":   # gates i, f, g, o\n"
    "                g = g + gh\n"
    "                i, f = self.rec_act(g[:, :h_n]), self.rec_act(g[:, h_n:2 * h_n])\n"
    "                o = self.rec_act(g[:, 3 * h_n:])\n"
    "                c = f * c + i * self.act(g[:, 2 * h_n:3 * h_n])\n"
    "                h = o * self.act(c)\n"
    "            else:\n"
    "                h = self.act(g + gh)\n"
    "            ys.append(h)\n"
    "        return torch.stack(ys, 1)\n"
    "\n"
    "    def _direction(self, x, s, backwards, restore):\n"
    "        y = self._run(x.flip(1) if backwards else x, s)\n"
    "        if not self.return_sequences:\n"
    "            return y[:, -1]\n"
    "        return y.flip(1) if restore else y\n"
    "\n"
    "    def forward(self, x):\n"
    "        y = self._direction(x, \"\", self.go_backwards, False)\n"
    "        if self.merge is None:\n"
    "            return y\n"
    "        # Keras's backward layer: go_backwards flipped, its sequence put back in input order\n"
    "        yb = self._direction(x, \"_reverse\", not self.go_backwards, True)\n"
    "        if self.merge == \"concat\":\n"
    "            return torch.cat([y, yb], -1)\n"
    "        if self.merge == \"sum\":\n"
    "            return y + yb\n"
    "        if self.merge == \"mul\":\n"
    "            return y * yb\n"
    "        return (y + yb) / 2\n";

static const char py_SequenceDropout[] =
    "class SequenceDropout(nn.Dropout):\n"
    "    \"\"\"A recurrent layer's dropout= on its inputs [batch, steps, features]:\n"
    "    one mask per sample and feature, used at every step (Keras 3).\"\"\"\n"
    "\n"
    "    def forward(self, x):\n"
    "        if not self.training or self.p == 0:\n"
    "            return x\n"
    "        return x * F.dropout(torch.ones_like(x[:, :1]), self.p, True)\n";

/* --emit=pytorch (docs/internals.md): the layer as KerasRecurrent, a
 * module written out step by step with nn.RNN/nn.LSTM/nn.GRU's tensor names
 * and layouts (the checkpoint's), since torch's modules train bias_hh_l0
 * (Keras's LSTM and SimpleRNN have one bias: a zero buffer here) and have
 * no GRU(reset_after=False) nor other activations. merge: Bidirectional's
 * merge_mode name (both directions in one module), NULL for one direction.
 * dropout= is a SequenceDropout module "k_dropout" before it. */
void rnn_pytorch(PyEmit *e, const Layer *l, const void *attr, const char *merge)
{
    static const char *const cells[] = {"rnn", "lstm", "gru"};
    const RnnAttr *a = attr;
    py_helper(e, "KerasRecurrent", py_KerasRecurrent);
    if (a->dropout > 0 && a->rec_dropout == 0) {
        py_helper(e, "SequenceDropout", py_SequenceDropout);
        py_module(e, l, "dropout", "SequenceDropout(p=%s)", py_float(a->dropout));
        py_note(e, l, "dropout=: torch draws its own masks (one per sample and feature, for all steps%s); "
                      "seqc's come from its xoshiro128** streams, which torch cannot reproduce, so a training "
                      "step differs from seqc's by the masks; inference is the same.",
                merge ? "; one mask for both directions" : "");
    }
    const char *drops = "";
    if (a->rec_dropout > 0) {
        drops = arena_printf(", dropout=%s, recurrent_dropout=%s", py_float(a->dropout), py_float(a->rec_dropout));
        py_note(e, l, "recurrent_dropout=: KerasRecurrent draws torch's masks (one per gate block, sample and "
                      "unit, and per gate block, sample and feature for dropout=, for all steps%s); seqc's come "
                      "from its xoshiro128** streams, so a training step differs from seqc's by the masks; "
                      "inference is the same.", merge ? "; each direction its own" : "");
    }
    py_module(e, l, NULL, "KerasRecurrent(\"%s\", %d, %d, %s, %s, use_bias=%s, reset_after=%s, "
              "return_sequences=%s, go_backwards=%s%s%s)", cells[a->cell], shape_last(&l->in), a->units,
              py_act(e, a->act), a->cell == CELL_SIMPLE ? "None" : py_act(e, a->rec_act),
              a->use_bias ? "True" : "False", a->reset_after ? "True" : "False",
              a->return_sequences ? "True" : "False", a->go_backwards ? "True" : "False",
              merge ? arena_printf(", merge=\"%s\"", merge) : "", drops);
    for (int d = 0; d < (merge ? 2 : 1); d++) {
        const char *s = d ? "_reverse" : "";
        py_tensor(e, l, arena_printf("kernel%s", s), NULL, arena_printf("weight_ih_l0%s", s), NULL, NULL);
        py_tensor(e, l, arena_printf("recurrent_kernel%s", s), NULL, arena_printf("weight_hh_l0%s", s), NULL, NULL);
        if (!a->use_bias)
            continue;
        py_tensor(e, l, arena_printf("bias%s", s), NULL, arena_printf("bias_ih_l0%s", s), NULL, NULL);
        if (a->cell != CELL_GRU || a->reset_after)
            py_tensor(e, l, arena_printf("recurrent_bias%s", s), NULL, arena_printf("bias_hh_l0%s", s), NULL, NULL);
    }
}

static void pytorch(PyEmit *e, const Layer *l)
{
    rnn_pytorch(e, l, l->attr, NULL);
}

#define RNN_KIND(NAME, SYNTAX)                                                     \
    const LayerKind kind_##NAME = {                                                \
        .name = #NAME,                                                             \
        .props = LK_DX_OPTIONAL,                                                   \
        .syntax = (const Syntax *const[]){&SYNTAX, NULL},                          \
        .infer = infer,                                                            \
        .params = params,                                                          \
        .print = print,                                                            \
        .plan = plan,                                                              \
        .forward = forward,                                                        \
        .backward = backward,                                                      \
        .init = init,                                                              \
        .bake = bake,                                                              \
        .seed = seed,                                                              \
        .pytorch = pytorch,                                                        \
    };

RNN_KIND(simple_rnn, syntax_simple)
RNN_KIND(lstm, syntax_lstm)
RNN_KIND(gru, syntax_gru)
