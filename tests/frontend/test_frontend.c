/*
 * test_frontend.c - unit tests of the front end: parse, lower, passes.
 *
 * Each test compiles model text held in a string through the same calls
 * as main.c (diag_source_from_text, parse_source, lower_program, the passes
 * of an -O level with ir_verify after each) and checks the IR: shape
 * inference and parameter names, what -O0 and -O2 leave of each layer, the
 * Keras spellings the language accepts, and the Keras defaults. Diagnostics
 * go to a memory stream, so a test can also check what was reported.
 * Exit status 0 when every check passes; each failure prints one line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

static int failures, checks;

#define CHECK(cond)                                                            \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                      \
    } while (0)
#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        checks++;                                                              \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || strcmp(a_, b_)) {                                           \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: '%s' is \"%s\", not \"%s\"\n", __FILE__, __LINE__, #a, \
                    a_ ? a_ : "(null)", b_);                                   \
        }                                                                      \
    } while (0)
#define CHECK_NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) <= 1e-12 * fabs((double)(b)))

typedef struct {
    Program *prog;
    int errors;
    char *diags;      /* everything reported, as printed */
} Result;

/* Compiles `text` (as file "t.nn") at -O`level`. */
static Result compile(const char *text, int level)
{
    Result r = {0};
    size_t len = 0;
    FILE *f = open_memstream(&r.diags, &len);
    diag_set_stream(f);
    int before = diag_error_count();
    const Source *src = diag_source_from_text("t.nn", arena_strdup(text), (int)strlen(text));
    r.prog = lower_program(src, parse_source(src));
    for (int i = 0; i < r.prog->n; i++) {
        Model *m = r.prog->model[i];
        CHECK(ir_verify(m, "lower") == 0);
        for (int k = 0; k < npasses; k++)
            if (passes[k].min_level <= level) {
                passes[k].fn(m, level);
                CHECK(ir_verify(m, passes[k].name) == 0);
            }
    }
    r.errors = diag_error_count() - before;
    fclose(f);
    diag_set_stream(NULL);
    return r;
}

/* Compiles text that must give exactly one model and no diagnostic. */
static Model *one_model(const char *text, int level)
{
    Result r = compile(text, level);
    checks++;
    if (r.errors || r.prog->n != 1 || r.diags[0]) {
        failures++;
        fprintf(stderr, "unexpected diagnostics or model count %d for:\n%s\n%s", r.prog->n, text, r.diags);
        free(r.diags);
        return NULL;
    }
    free(r.diags);
    return r.prog->model[0];
}

static const Param *param(const Model *m, const char *name)
{
    for (int i = 0; i < m->nlayers; i++)
        for (int k = 0; k < ir_nparams(&m->layer[i]); k++)
            if (!strcmp(ir_param_at(&m->layer[i], k)->name, name))
                return ir_param_at(&m->layer[i], k);
    return NULL;
}

/* The IR text of m (malloc'd). Attributes are the kinds' own: tests read
 * them from the one text form. */
static char *ir_text(const Model *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ir_print(f, m);
    fclose(f);
    return text;
}

/* The line of layer statement `index` in m's IR text contains `want`. */
#define CHECK_ATTR(m, index, want)                                             \
    do {                                                                       \
        char *t_ = ir_text(m), key_[16];                                       \
        snprintf(key_, sizeof key_, "  L%d ", (index));                        \
        char *l_ = strstr(t_, key_), *e_ = l_ ? strchr(l_, '\n') : NULL;       \
        if (e_)                                                                \
            *e_ = 0;                                                           \
        checks++;                                                              \
        if (!l_ || !strstr(l_, (want))) {                                      \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: layer %d has no '%s' in: %s\n", __FILE__, __LINE__, (index), (want), \
                    l_ ? l_ : "(no such layer)");                              \
        }                                                                      \
        free(t_);                                                              \
    } while (0)

static int dims_are(const Shape *s, int rank, int d0, int d1, int d2)
{
    int d[3] = {d0, d1, d2};
    if (s->rank != rank)
        return 0;
    for (int i = 0; i < rank && i < 3; i++)
        if (s->dim[i] != d[i])
            return 0;
    return 1;
}

static void test_shapes(void)
{
    const char *text =
        "model s {\n"
        "  Flatten(input_shape=[8, 8, 1])\n"
        "  Dense(16, activation=\"relu\")\n"
        "  BatchNormalization()\n"
        "  Dense(10, use_bias=False)\n"
        "  LayerNormalization()\n"
        "  Dropout(0.5)\n"
        "  Dense(3, activation=\"softmax\")\n"
        "}\n";
    Model *m = one_model(text, 0);
    if (!m)
        return;
    CHECK(dims_are(&m->in_shape, 3, 8, 8, 1));
    CHECK(m->in == 64 && m->out == 3);
    CHECK(m->nlayers == 7);
    static const int in[] = {64, 64, 16, 16, 10, 10, 10}, out[] = {64, 16, 16, 10, 10, 10, 3};
    for (int i = 0; i < 7 && i < m->nlayers; i++) {
        CHECK(m->layer[i].index == i);
        CHECK(shape_size(&m->layer[i].in) == in[i] && shape_size(&m->layer[i].out) == out[i]);
    }
    CHECK(dims_are(&m->layer[0].in, 3, 8, 8, 1) && dims_are(&m->layer[0].out, 1, 64, 0, 0));
    const Param *p = param(m, "1.weight");
    CHECK(p && dims_are(&p->shape, 2, 16, 64, 0) && p->trainable && !strcmp(p->role, "kernel"));
    if (p)
        CHECK_STR(p->cname, "l1_weight");
    p = param(m, "1.bias");
    CHECK(p && dims_are(&p->shape, 1, 16, 0, 0) && !strcmp(p->role, "bias"));
    p = param(m, "2.weight");
    CHECK(p && dims_are(&p->shape, 1, 16, 0, 0) && !strcmp(p->role, "gamma") && p->trainable);
    p = param(m, "2.running_mean");
    CHECK(p && dims_are(&p->shape, 1, 16, 0, 0) && !strcmp(p->role, "running_mean") && !p->trainable);
    p = param(m, "2.running_var");
    CHECK(p && !strcmp(p->role, "running_var") && !p->trainable && p->init == SEQRT_INIT_ONES);
    CHECK(param(m, "3.weight") && !param(m, "3.bias"));
    CHECK(param(m, "4.weight") && param(m, "4.bias") && !param(m, "4.running_mean"));
    CHECK(m->layer[0].nparam == 0 && m->layer[5].nparam == 0);
    /* 64*16+16 + 2*16 + 16*10 + 2*10 + 10*3+3 trainable, 2*16 moving */
    CHECK(ir_param_count(m, 1) == 1040 + 32 + 160 + 20 + 33);
    CHECK(ir_param_count(m, 0) == 32);

    m = one_model("model n { Normalization(input_shape=[5]), Dense(2) }\n", 2);
    if (m) {
        p = param(m, "0.mean");
        CHECK(p && dims_are(&p->shape, 1, 5, 0, 0) && !p->trainable && !strcmp(p->role, "mean"));
        p = param(m, "0.variance");
        CHECK(p && dims_are(&p->shape, 1, 5, 0, 0) && !p->trainable && !strcmp(p->role, "variance"));
    }

    /* Dense on a rank-3 input applies to the last axis, as Keras */
    m = one_model("model r { Dense(128, input_shape=[28, 28]), LayerNormalization(), Flatten(), Dense(3) }\n", 2);
    if (m) {
        CHECK(dims_are(&m->layer[0].out, 2, 28, 128, 0));
        p = param(m, "0.weight");
        CHECK(p && dims_are(&p->shape, 2, 128, 28, 0));
        CHECK(dims_are(&m->layer[1].out, 1, 28 * 128, 0, 0));
        CHECK(dims_are(&m->out_shape, 1, 3, 0, 0));
    }
}

/* What each -O level leaves: -O0 one IR layer per statement; -O1 splits
 * activations off and drops no-ops; -O2 fuses dense+norm+activation. */
static void test_levels(void)
{
    const char *text =
        "model f {\n"
        "  Dense(8, input_shape=[4])\n"
        "  BatchNormalization()\n"
        "  Activation(\"relu\")\n"
        "  Dense(8, activation=\"tanh\")\n"
        "  LayerNormalization()\n"
        "  Flatten()\n"
        "  Dropout(0)\n"
        "  Dense(2)\n"
        "  Activation(\"relu\")\n"
        "}\n";
    Model *m0 = one_model(text, 0), *m1 = one_model(text, 1), *m2 = one_model(text, 2), *m;
    if (!m0 || !m1 || !m2)
        return;
    CHECK(m0->nlayers == 9);
    CHECK(m0->layer[3].kind == &kind_dense && m0->layer[3].act.kind == SEQRT_ACT_TANH);
    /* -O1: dense, bn, relu, dense, tanh, ln, flatten (a view), dense, relu */
    CHECK(m1->nlayers == 9);
    for (int i = 0; i < m1->nlayers; i++)
        CHECK(m1->layer[i].kind != &kind_dropout);
    /* -O2: dense+bn+relu, dense+tanh, ln, flatten, dense+relu */
    CHECK(m2->nlayers == 5);
    CHECK(m2->layer[0].kind == &kind_dense && m2->layer[0].norm && m2->layer[0].norm->kind == &kind_batchnorm &&
          m2->layer[0].act.kind == SEQRT_ACT_RELU);
    CHECK(ir_nparams(&m2->layer[0]) == 6 && m2->layer[0].norm->index == 1 && m2->layer[0].act_index == 2);
    CHECK(m2->layer[1].kind == &kind_dense && !m2->layer[1].norm && m2->layer[1].act.kind == SEQRT_ACT_TANH);
    CHECK(m2->layer[2].kind == &kind_layernorm);
    CHECK(m2->layer[3].kind == &kind_flatten);
    CHECK(m2->layer[4].kind == &kind_dense && m2->layer[4].act.kind == SEQRT_ACT_RELU);
    /* fusing keeps the parameters and their names */
    CHECK(ir_param_count(m0, 1) == ir_param_count(m2, 1) && ir_param_count(m0, 0) == ir_param_count(m2, 0));
    CHECK(param(m2, "1.running_var") && param(m2, "4.weight"));

    /* -O1 folds relu after relu */
    m = one_model("model r { Dense(3, input_shape=[4]), Activation(\"relu\"), ReLU() }\n", 1);
    if (m)
        CHECK(m->nlayers == 2 && m->layer[1].kind == &kind_activation && m->layer[1].act.kind == SEQRT_ACT_RELU);

    /* the final softmax stays a layer after a fused norm when the loss
     * reads the logits */
    m = one_model("model g { Dense(3, input_shape=[4]), BatchNormalization(), Activation(\"softmax\"),\n"
                         "  compile(loss=\"categorical_crossentropy\") }\n", 2);
    if (m) {
        CHECK(m->nlayers == 2 && m->layer[0].norm && m->layer[1].act.kind == SEQRT_ACT_SOFTMAX);
        CHECK(m->loss_from_logits);
    }
}

static void test_keras_forms(void)
{
    /* a Keras list pasted as is */
    const char *pasted =
        "model p {\n"
        "    layers.Dense(64, activation=\"relu\", input_shape=(None, 20)),\n"
        "    layers.Dropout(0.5),\n"
        "    keras.layers.Dense(\n"
        "        64,\n"
        "        activation='relu',\n"
        "    ),\n"
        "    tf.keras.layers.Dense(1, activation=keras.activations.sigmoid),\n"
        "}\n";
    Model *m = one_model(pasted, 0);
    if (m) {
        CHECK(m->in == 20 && m->nlayers == 4 && m->out == 1);
        CHECK(m->layer[2].act.kind == SEQRT_ACT_RELU && m->layer[3].act.kind == SEQRT_ACT_SIGMOID);
    }
    /* the same model in every spelling gives the same IR */
    static const char *const forms[] = {
        "model q { Dense(4, activation=\"relu\", use_bias=True, input_shape=[3]), Dense(1) }\n",
        "model q { Dense(4, activation='relu', use_bias=true, input_shape=(3,)), Dense(1) }\n",
        "model q {\n  Dense(4, activation=relu, input_dim=3,)\n\n  Dense(1,)\n}\n",
        "model q {\n  layers.Dense(units=4, activation=\"relu\", input_shape=[3]), layers.Dense(1),\n}\n",
        "model q {\n  model.add(keras.Input(shape=(3,)))\n  model.add(keras.layers.Dense(4, \"relu\"))\n"
        "  model.add(layers.Dense(1))\n}\n",
        "model q {\n  Input(shape=[3])\n  Dense(4, activation=\"relu\")  # a comment\n  Dense(1)\n}\n",
        "# comment\nmodel q { InputLayer(shape=3), Dense(4, activation=keras.activations.relu), \\\n Dense(1) }",
    };
    char *first = NULL;
    for (int i = 0; i < COUNT_OF(forms); i++) {
        Model *q = one_model(forms[i], 2);
        if (!q)
            continue;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ir_print(f, q);
        fclose(f);
        if (!first) {
            first = text;
            continue;
        }
        checks++;
        if (strcmp(first, text)) {
            failures++;
            fprintf(stderr, "form %d gives a different IR:\n%s\nthan form 0:\n%s", i, text, first);
        }
        free(text);
    }
    free(first);
    /* model.compile / model.fit; names of losses and metrics as classes */
    m = one_model("model r {\n  Dense(2, input_dim=3)\n  model.compile(optimizer=keras.optimizers.SGD(), "
                  "loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=[CategoricalAccuracy()])\n"
                  "  model.fit(epochs=3)\n}\n", 2);
    if (m) {
        CHECK(m->opt.kind == SEQRT_OPT_SGD && m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY && m->loss_on_logits);
        CHECK(m->nmetrics == 1 && m->metric[0] == SEQRT_METRIC_CATEGORICAL_ACCURACY && m->epochs == 3);
    }
    /* "accuracy" resolves from the loss */
    m = one_model("model a { Dense(1, input_dim=2, activation='sigmoid'), compile(loss='binary_crossentropy', "
                  "metrics=['accuracy']) }\n", 2);
    if (m)
        CHECK(m->nmetrics == 1 && m->metric[0] == SEQRT_METRIC_BINARY_ACCURACY && m->loss_from_logits);
}

static void test_defaults(void)
{
    Model *m = one_model("model d {\n  Dense(4, input_shape=[3])\n  BatchNormalization()\n  LayerNormalization()\n"
                         "  Dropout(0.5)\n  Dense(1)\n  compile(optimizer=\"adam\", loss=\"mse\")\n}\n", 0);
    if (!m)
        return;
    CHECK_ATTR(m, 0, "use_bias=true");
    CHECK(m->layer[0].act.kind == SEQRT_ACT_LINEAR);
    CHECK(param(m, "0.weight")->init == SEQRT_INIT_GLOROT_UNIFORM && param(m, "0.bias")->init == SEQRT_INIT_ZEROS);
    CHECK_ATTR(m, 1, "momentum=0.99 epsilon=0.001 center=true scale=true");
    CHECK_ATTR(m, 2, "epsilon=0.001 center=true scale=true");
    CHECK_ATTR(m, 3, "rate=0.5");
    {
        char *t = ir_text(m), *dl = strstr(t, "  L3 dropout"), *e = dl ? strchr(dl, '\n') : NULL;
        if (e)
            *e = 0;
        CHECK(dl && !strstr(dl, "seed="));   /* no seed given: the model's stream */
        free(t);
    }
    CHECK(m->opt.kind == SEQRT_OPT_ADAM);
    CHECK_NEAR(m->opt.lr, 1e-3);
    CHECK_NEAR(m->opt.beta1, 0.9);
    CHECK_NEAR(m->opt.beta2, 0.999);
    CHECK_NEAR(m->opt.epsilon, 1e-7);
    CHECK(m->batch_size == 32 && m->epochs == 1 && m->shuffle == 1 && m->verbose == 1);
    CHECK(m->validation_split == 0 && m->seed == 0 && !m->es.enabled);
    CHECK(m->nmetrics == 0 && m->loss == SEQRT_LOSS_MSE);

    m = one_model("model s { Dense(1, input_dim=2), compile(optimizer=SGD(), loss='mse') }\n", 2);
    if (m) {
        CHECK(m->opt.kind == SEQRT_OPT_SGD && m->opt.momentum == 0 && !m->opt.nesterov);
        CHECK_NEAR(m->opt.lr, 0.01);
    }
    m = one_model("model s { Dense(1, input_dim=2), compile(optimizer='adamw', loss='mse') }\n", 2);
    if (m) {
        CHECK_NEAR(m->opt.lr, 1e-3);
        CHECK_NEAR(m->opt.weight_decay, 0.004);
    }
    /* compile() without an optimizer: Keras's rmsprop */
    m = one_model("model s { Dense(1, input_dim=2), compile(loss='mse') }\n", 2);
    if (m) {
        CHECK(m->opt.kind == SEQRT_OPT_RMSPROP);
        CHECK_NEAR(m->opt.lr, 1e-3);
        CHECK_NEAR(m->opt.rho, 0.9);
        CHECK_NEAR(m->opt.epsilon, 1e-7);
    }
    /* no compile(): no loss */
    m = one_model("model s { Dense(1, input_dim=2) }\n", 2);
    if (m)
        CHECK(!m->has_loss && m->batch_size == 32 && m->epochs == 1);
    m = one_model("model e { Dense(1, input_dim=2), compile(loss='mse'), fit(callbacks=[EarlyStopping()]) }\n", 2);
    if (m) {
        CHECK(m->es.enabled && m->es.patience == 0 && m->es.mode == 0 && !m->es.restore_best_weights);
        CHECK_STR(m->es.monitor, "val_loss");
        CHECK(m->es.min_delta == 0 && m->es.start_from_epoch == 0);
    }
}

static void test_diagnostics(void)
{
    Result r = compile("model m {\n  Dens(4, input_shape=[3])\n}\n", 2);
    CHECK(r.errors == 1 && r.prog->n == 0);
    CHECK_STR(r.diags, "t.nn:2:3: error: unknown layer 'Dens'; did you mean 'Dense'?\n"
                       "    2 |   Dens(4, input_shape=[3])\n"
                       "      |   ^~~~\n");
    free(r.diags);
    /* a model with errors is dropped, the other one kept */
    r = compile("model a { Dense(4, input_shape=[3]) }\nmodel b { Dense(4, unit=3) }\n", 2);
    CHECK(r.errors == 1 && r.prog->n == 1 && !strcmp(r.prog->model[0]->name, "a"));
    CHECK(strstr(r.diags, "t.nn:2:20: error: unknown argument 'unit' to Dense; did you mean 'units'?") == r.diags);
    free(r.diags);
    /* three mistakes, three messages, no cascade */
    r = compile("model m {\n  Dense(4 input_shape=[3])\n  Dens(4)\n  Dropout(rate=1.5)\n}\n", 2);
    CHECK(r.errors == 3);
    free(r.diags);
    /* a warning is no error */
    r = compile("model w { Dense(1, input_dim=2), compile(loss='binary_crossentropy') }\n", 2);
    CHECK(r.errors == 0 && r.prog->n == 1 && strstr(r.diags, "warning: binary_crossentropy expects"));
    free(r.diags);
    static const char *const names[] = {"Dense", "Dropout", "Flatten"};
    CHECK_STR(diag_suggest("Dens", names, 3), "Dense");
    CHECK_STR(diag_suggest("dropot", names, 3), "Dropout");
    CHECK(diag_suggest("Conv2D", names, 3) == NULL);
}

/* --emit=pytorch: every kind of layers.def has its pytorch hook, and a kind
 * without one is refused at its statement (the hook is optional in
 * LayerKind: a kind added without it must fail this way, not crash). */
static void test_pytorch_hooks(void)
{
    for (int i = 0; i < nlayer_kinds; i++) {
        checks++;
        if (!layer_kinds[i]->pytorch) {
            failures++;
            fprintf(stderr, "layer kind '%s' has no pytorch hook\n", layer_kinds[i]->name);
        }
    }
    Model *m = one_model("model p {\n  Dense(4, input_shape=[3])\n  Dense(1)\n}\n", 0);
    if (!m)
        return;
    CHECK(pytorch_check(m) == 0);
    LayerKind bare = *m->layer[1].kind;
    bare.pytorch = NULL;
    m->layer[1].kind = &bare;
    char *diags = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&diags, &len);
    diag_set_stream(f);
    int before = diag_error_count();
    CHECK(pytorch_check(m) < 0);
    CHECK(diag_error_count() == before + 1);
    fclose(f);
    diag_set_stream(NULL);
    CHECK(strstr(diags, "t.nn:3:3: error: --emit=pytorch: layer kind 'dense' has no PyTorch translation yet") != NULL);
    free(diags);
}

int main(void)
{
    test_shapes();
    test_levels();
    test_keras_forms();
    test_defaults();
    test_diagnostics();
    test_pytorch_hooks();
    printf("%d checks, %d failed\n", checks, failures);
    return failures != 0;
}
