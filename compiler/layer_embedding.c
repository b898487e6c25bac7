/*
 * layer_embedding.c - Embedding: integer ids in, rows of a learned table
 * out ([steps] -> [steps, output_dim]; any input shape gains a last axis).
 *
 * Keras 3 (keras/src/layers/core/embedding.py): Embedding(input_dim,
 * output_dim, embeddings_initializer="uniform" (RandomUniform(-0.05,
 * 0.05)), mask_zero=False). The ids arrive as numbers in the data files;
 * the driver checks each is an integer in [0, input_dim) and names the file
 * and position of one that is not (seqrt_model.input_ids), and the kernel
 * never reads outside the table whatever it is given. Embedding is the
 * first layer (its input is ids, nothing computes them), and it has no
 * input gradient. mask_zero=True and the Masking layer (variable-length
 * sequences) are refused with an error that says so.
 *
 * Checkpoint: "k.weight" (input_dim, output_dim), nn.Embedding's name and
 * layout (Keras's "embeddings" has the same layout).
 */
#include "seqc.h"

typedef struct {
    int input_dim, output_dim;
    WeightOpts emb;       /* embeddings_initializer, _regularizer, _constraint */
} EmbeddingAttr;

static const CallSpec spec_embedding = {"Embedding", 2, {
    {"input_dim", T_INT}, {"output_dim", T_INT}, {"embeddings_initializer", T_INIT},
    {"embeddings_regularizer", T_REG}, {"embeddings_constraint", T_CON}, {"mask_zero", T_BOOL},
    {"weights", T_NONE}, {"lora_rank", T_NONE}, {"input_length", T_INT},
    /* LAYER_KWARGS but input_dim, which is the vocabulary here */
    {"input_shape", T_SHAPE}, {"name", T_STR}, {"dtype", T_IGNORED}, {"trainable", T_BOOL},
    {"autocast", T_IGNORED}, {"activity_regularizer", T_REG}}};

static int positive(Lower *lw, const char *name, int64_t *out)
{
    Value *v = lower_arg(lw, name);
    if (!v) {
        diag_error(lw->src, lw->call->loc, "Embedding needs %s, e.g. Embedding(1000, 64): 1000 ids, "
                   "vectors of 64", name);
        return -1;
    }
    if (lower_int(lw, name, 0, out))
        return -1;
    if (*out <= 0 || *out > INT32_MAX) {
        diag_error(lw->src, v->loc, "%s of Embedding must be a positive integer below 2^31, not %lld", name,
                   (long long)*out);
        return -1;
    }
    return 0;
}

static int lower_embedding(Lower *lw, Layer *l)
{
    EmbeddingAttr *a = arena_alloc(sizeof *a);
    l->attr = a;
    int64_t in, out, len;
    int mask;
    int err = positive(lw, "input_dim", &in);
    err |= positive(lw, "output_dim", &out);
    err |= lower_weight(lw, "embeddings", SEQRT_INIT_RANDOM_UNIFORM, &a->emb);
    err |= lower_bool(lw, "mask_zero", 0, &mask);
    err |= lower_int(lw, "input_length", 0, &len);
    if (!err && mask) {
        diag_error(lw->src, lower_loc(lw, "mask_zero"), "mask_zero=True is not supported by seqc: sequences "
                   "have the fixed length of the input shape (pad them, and the padding is read as id 0)");
        err = -1;
    }
    if (lw->m->nlayers > 1) {
        diag_error(lw->src, lw->call->loc, "Embedding must be the first layer of the model: its input is "
                   "integer ids, which no layer computes");
        err = -1;
    }
    if (!err && lower_arg(lw, "input_length") && !lower_arg(lw, "input_shape") && !lw->m->in_shape.rank) {
        /* Keras 2's Embedding(..., input_length=T): the input is [T] */
        if (len <= 0 || len > INT32_MAX) {
            diag_error(lw->src, lower_loc(lw, "input_length"), "input_length must be a positive integer");
            err = -1;
        } else {
            lw->m->in_shape = shape_1d((int)len);
        }
    }
    a->input_dim = (int)in;
    a->output_dim = (int)out;
    return err;
}

static const Syntax syntax_embedding = {&spec_embedding, lower_embedding};

/* Masking: variable-length sequences are not supported. */
static const CallSpec spec_masking = {"Masking", 1, {{"mask_value", T_FLOAT}, LAYER_KWARGS}};

static int lower_masking(Lower *lw, Layer *l)
{
    (void)l;
    diag_error(lw->src, lw->call->loc, "Masking is not supported by seqc: sequences have the fixed length of "
               "the input shape, and every step is computed (variable lengths are not supported yet)");
    return -1;
}

static const Syntax syntax_masking = {&spec_masking, lower_masking};

static int infer(const Source *src, Layer *l)
{
    const EmbeddingAttr *a = l->attr;
    if (l->in.rank >= MAX_RANK) {
        diag_error(src, l->loc, "Embedding of a rank-%d input gives more than %d axes", l->in.rank, MAX_RANK);
        return -1;
    }
    if (shape_size(&l->in) * a->output_dim > 2147483647L || (long)a->input_dim * a->output_dim > 2147483647L) {
        diag_error(src, l->loc, "Embedding(%d, %d) on %s is too large", a->input_dim, a->output_dim,
                   shape_str(&l->in));
        return -1;
    }
    l->out = l->in;
    l->out.dim[l->out.rank++] = a->output_dim;
    return 0;
}

static void params(Layer *l)
{
    const EmbeddingAttr *a = l->attr;
    Shape w = {2, {a->input_dim, a->output_dim}};
    ir_param_opts(ir_add_param(l, "weight", "embeddings", 1, w, a->emb.init.kind, a->input_dim, a->output_dim),
                  &a->emb);
}

static void print(FILE *f, const Layer *l)
{
    const EmbeddingAttr *a = l->attr;
    fprintf(f, " input_dim=%d output_dim=%d", a->input_dim, a->output_dim);
}

static void plan(Plan *p, Layer *l)
{
    (void)p, (void)l;
}

static void forward(Emit *e, const Site *s)
{
    const EmbeddingAttr *a = s->l->attr;
    emit_line(e, "seqrt_embedding_forward(%s, %s, %s, (long)n * %ld, %d, %d);", s->y, s->x,
              emit_param(e, s->l, "embeddings"), shape_size(&s->l->in), a->input_dim, a->output_dim);
}

static void backward(Emit *e, const Site *s)
{
    const EmbeddingAttr *a = s->l->attr;
    emit_line(e, "seqrt_embedding_backward(%s, %s, %s, (long)n * %ld, %d, %d);", emit_grad(e, s->l, "embeddings"),
              s->dy, s->x, shape_size(&s->l->in), a->input_dim, a->output_dim);
}

static void bake(Bake *b, const Layer *l)
{
    const EmbeddingAttr *a = l->attr;
    Stage *st = bake_stage(b, ST_EMBED, l, arena_printf("%d: embedding", l->index));
    st->top = a->input_dim;
    st->left = a->output_dim;
    st->w = bake_param(b, l, "embeddings", (long)a->input_dim * a->output_dim, 0.0);
}

static const char py_IdEmbedding[] =
    "class IdEmbedding(nn.Embedding):\n"
    "    \"\"\"nn.Embedding of ids that arrive as floating-point numbers.\"\"\"\n"
    "\n"
    "    def forward(self, x):\n"
    "        return super().forward(x.long())\n";

/* --emit=pytorch: nn.Embedding (the same tensor), of the ids as integers. */
static void pytorch(PyEmit *e, const Layer *l)
{
    const EmbeddingAttr *a = l->attr;
    py_helper(e, "IdEmbedding", py_IdEmbedding);
    py_module(e, l, NULL, "IdEmbedding(%d, %d)", a->input_dim, a->output_dim);
    py_tensor(e, l, "embeddings", NULL, "weight", NULL, NULL);
}

const LayerKind kind_embedding = {
    .name = "embedding",
    .props = LK_DX_OPTIONAL,
    .syntax = (const Syntax *const[]){&syntax_embedding, &syntax_masking, NULL},
    .infer = infer,
    .params = params,
    .print = print,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .bake = bake,
    .pytorch = pytorch,
};
