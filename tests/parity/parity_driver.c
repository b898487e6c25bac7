/*
 * parity_driver.c - runs a test model on inputs written by parity.py and
 * writes everything it computes, for comparison with PyTorch.
 *
 *     parity_driver MODEL IN.safetensors OUT.safetensors
 *
 * Generic over the seqrt_model descriptor: one executable per -O level holds
 * every test model (test_models.h) and MODEL picks one.
 *
 * IN holds, by name:
 *   every tensor of the model's table of kind PARAM or BUFFER (required),
 *   and of kind STATE ("train.rng", "train.rng.K": the Dropout generators,
 *   so that parity.py can replay the masks; optional);
 *   "x" (n, IN) and "t" (n, OUT) or (n) for the sparse loss: the batch of
 *   the gradient comparison;
 *   "steps.x.K", "steps.t.K" for K = 0, 1, ...: the training batches.
 * The driver does, in this order (parity.py replays the same sequence):
 *   1. init(1), then the tensors of IN are copied into the state;
 *   2. forward(x, training=1) -> "y_train"; backward(t) -> "loss" and
 *      "grad.NAME" for every SEQRT_T_GRAD tensor; the buffers after this
 *      forward (BatchNorm running statistics moved once) -> "fwd.NAME";
 *   3. forward(x, training=0) -> "y_infer";
 *   4. train_step on each training batch -> "steps.loss" (one per step);
 *   5. every PARAM, BUFFER, OPTIM and STATE tensor -> "final.NAME".
 * OUT is written with float32 (F32) and int64 (I64) tensors.
 *
 * The safetensors reading here is deliberately independent of the
 * runtime's checkpoint code (which rejects tensors that are not in the
 * table): a small parser for the JSON header that Python's json.dumps
 * writes, with every offset checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_models.h"

#define MAX_T 512

/* ---------------------------------------------------------------- reading */

typedef struct {
    char name[192];
    int f32;            /* 1 F32, 0 I64 */
    int ndim;
    long shape[SEQRT_MAX_RANK];
    unsigned char *data;
    long bytes;
} tensor;

static tensor in_t[MAX_T];
static int n_in;
static unsigned char *in_buf; /* the input file; in_t[].data point into it */

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "parity_driver: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *expect(const char *p, char c)
{
    p = skip_ws(p);
    if (*p != c) {
        char m[2] = {c, 0};
        die("malformed header, expected", m);
    }
    return p + 1;
}

static const char *parse_string(const char *p, char *out, size_t cap)
{
    p = expect(p, '"');
    size_t n = 0;
    while (*p && *p != '"') {
        if (*p == '\\')
            die("escapes are not expected in names", NULL);
        if (n + 1 >= cap)
            die("name too long", NULL);
        out[n++] = *p++;
    }
    if (*p != '"')
        die("unterminated string", NULL);
    out[n] = 0;
    return p + 1;
}

static const char *parse_ints(const char *p, long *v, int cap, int *count)
{
    p = expect(p, '[');
    *count = 0;
    p = skip_ws(p);
    if (*p == ']')
        return p + 1;
    for (;;) {
        char *end;
        long x = strtol(skip_ws(p), &end, 10);
        if (end == skip_ws(p) || x < 0 || *count >= cap)
            die("bad integer list", NULL);
        v[(*count)++] = x;
        p = skip_ws(end);
        if (*p == ']')
            return p + 1;
        p = expect(p, ',');
    }
}

/* Skips a JSON value made of strings and objects (the metadata). */
static const char *skip_value(const char *p)
{
    p = skip_ws(p);
    if (*p == '"') {
        char tmp[4096];
        return parse_string(p, tmp, sizeof tmp);
    }
    p = expect(p, '{');
    p = skip_ws(p);
    if (*p == '}')
        return p + 1;
    for (;;) {
        char key[4096];
        p = parse_string(p, key, sizeof key);
        p = expect(p, ':');
        p = skip_value(p);
        p = skip_ws(p);
        if (*p == '}')
            return p + 1;
        p = expect(p, ',');
    }
}

static void read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
        die("cannot read", path);
    fclose(f);
    if (size < 8)
        die("too short", path);
    unsigned long long hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | buf[i];
    if (hlen > (unsigned long long)size - 8)
        die("bad header length", path);
    char *h = malloc(hlen + 1);
    memcpy(h, buf + 8, hlen);
    h[hlen] = 0;
    unsigned char *data = buf + 8 + hlen;
    long data_len = size - 8 - (long)hlen;
    const char *p = expect(h, '{');
    p = skip_ws(p);
    while (*p != '}') {
        char name[128];
        p = parse_string(p, name, sizeof name);
        p = expect(p, ':');
        if (!strcmp(name, "__metadata__")) {
            p = skip_value(p);
        } else {
            if (n_in >= MAX_T)
                die("too many tensors", path);
            tensor *t = &in_t[n_in++];
            memset(t, 0, sizeof *t);
            strcpy(t->name, name);
            long off[2] = {-1, -1};
            int noff = 0, have_dtype = 0, have_shape = 0;
            p = expect(p, '{');
            for (;;) {
                char key[64];
                p = parse_string(p, key, sizeof key);
                p = expect(p, ':');
                if (!strcmp(key, "dtype")) {
                    char dt[16];
                    p = parse_string(p, dt, sizeof dt);
                    if (!strcmp(dt, "F32"))
                        t->f32 = 1;
                    else if (strcmp(dt, "I64"))
                        die("unsupported dtype", dt);
                    have_dtype = 1;
                } else if (!strcmp(key, "shape")) {
                    p = parse_ints(p, t->shape, SEQRT_MAX_RANK, &t->ndim);
                    have_shape = 1;
                } else if (!strcmp(key, "data_offsets")) {
                    p = parse_ints(p, off, 2, &noff);
                } else {
                    die("unexpected key", key);
                }
                p = skip_ws(p);
                if (*p == '}') {
                    p++;
                    break;
                }
                p = expect(p, ',');
            }
            if (!have_dtype || !have_shape || noff != 2 || off[0] > off[1] || off[1] > data_len)
                die("bad tensor entry", name);
            long count = 1;
            for (int d = 0; d < t->ndim; d++)
                count *= t->shape[d];
            t->bytes = off[1] - off[0];
            if (t->bytes != count * (t->f32 ? 4 : 8))
                die("tensor size does not match its shape", name);
            t->data = data + off[0];
        }
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p != '}')
            die("malformed header", path);
    }
    free(h);
    in_buf = buf;
}

static const tensor *get(const char *name, int required)
{
    for (int i = 0; i < n_in; i++)
        if (!strcmp(in_t[i].name, name))
            return &in_t[i];
    if (required)
        die("missing tensor in the input", name);
    return NULL;
}

/* ---------------------------------------------------------------- writing */

static tensor out_t[MAX_T];
static int n_out;

static void put_shape(const char *name, int f32, int ndim, const long *shape, const void *data)
{
    if (n_out >= MAX_T)
        die("too many output tensors", name);
    tensor *t = &out_t[n_out++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->f32 = f32;
    t->ndim = ndim;
    long count = 1;
    for (int d = 0; d < ndim; d++)
        count *= t->shape[d] = shape[d];
    t->bytes = count * (f32 ? 4 : 8);
    t->data = malloc((size_t)t->bytes + 1);
    memcpy(t->data, data, (size_t)t->bytes);
}

static void put(const char *name, int f32, int ndim, long d0, long d1, const void *data)
{
    long shape[2] = {d0, d1};
    put_shape(name, f32, ndim, shape, data);
}

static void write_file(const char *path)
{
    size_t cap = 1 << 20, len = 0;
    char *h = malloc(cap);
    long off = 0;
    len += (size_t)snprintf(h + len, cap - len, "{");
    for (int i = 0; i < n_out; i++) {
        tensor *t = &out_t[i];
        len += (size_t)snprintf(h + len, cap - len, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", t->name,
                                t->f32 ? "F32" : "I64");
        for (int d = 0; d < t->ndim; d++)
            len += (size_t)snprintf(h + len, cap - len, "%s%ld", d ? "," : "", t->shape[d]);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%ld,%ld]}", off, off + t->bytes);
        off += t->bytes;
        if (len + 4096 > cap)
            die("header too long", path);
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8)
        h[len++] = ' ';
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot write", path);
    unsigned char hl[8];
    for (int i = 0; i < 8; i++)
        hl[i] = (unsigned char)((unsigned long long)len >> (8 * i));
    fwrite(hl, 1, 8, f);
    fwrite(h, 1, len, f);
    for (int i = 0; i < n_out; i++)
        fwrite(out_t[i].data, 1, (size_t)out_t[i].bytes, f);
    if (fclose(f))
        die("write error", path);
    free(h);
}

/* ---------------------------------------------------------------- main */

static long table_count(const seqrt_tensor *t)
{
    long c = 1;
    for (int d = 0; d < t->ndim; d++)
        c *= t->shape[d];
    return c;
}

static void put_table(const seqrt_tensor *t, const char *prefix, const unsigned char *state)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s", prefix, t->name);
    long shape[SEQRT_MAX_RANK];
    for (int d = 0; d < t->ndim; d++)
        shape[d] = t->shape[d];
    put_shape(name, t->dtype == SEQRT_F32, t->ndim, shape, state + t->offset);
}

/* The rows of a batch tensor, checked against the model's widths. */
static int batch_rows(const seqrt_model *m, const tensor *x, const tensor *t)
{
    int sparse = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    if (!x->f32 || !t->f32 || x->ndim != 2 || x->shape[1] != m->in || t->shape[0] != x->shape[0] ||
        (sparse ? t->ndim != 1 : (t->ndim != 2 || t->shape[1] != m->out)))
        die("batch shapes do not match the model", x->name);
    if (x->shape[0] < 1 || x->shape[0] > m->max_batch)
        die("batch size out of range", x->name);
    return (int)x->shape[0];
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: parity_driver MODEL IN.safetensors OUT.safetensors\n");
        return 2;
    }
    const seqrt_model *m = seqc_test_model_find(argv[1]);
    if (!m)
        die("no such model in this build", argv[1]);
    unsigned char *state = calloc(1, m->state_bytes);
    if (!state)
        die("out of memory", NULL);
    m->init(state, 1);
    read_file(argv[2]);

    /* 1. the state from the file */
    for (int i = 0; i < m->ntensors; i++) {
        const seqrt_tensor *t = &m->tensors[i];
        if (t->kind != SEQRT_T_PARAM && t->kind != SEQRT_T_BUFFER && t->kind != SEQRT_T_STATE)
            continue;
        const tensor *f = get(t->name, t->kind != SEQRT_T_STATE);
        if (!f)
            continue;
        if (f->f32 != (t->dtype == SEQRT_F32) || f->bytes != table_count(t) * (f->f32 ? 4 : 8))
            die("tensor does not match the model's table", t->name);
        memcpy(state + t->offset, f->data, (size_t)f->bytes);
    }

    /* 2. training forward, loss, gradients */
    const tensor *x = get("x", 1), *tg = get("t", 1);
    int n = batch_rows(m, x, tg);
    float *y = malloc(sizeof(float) * (size_t)n * m->out);
    m->forward(state, (const float *)(void *)x->data, y, n, 1);
    put("y_train", 1, 2, n, m->out, y);
    float loss = m->backward(state, (const float *)(void *)tg->data, n);
    put("loss", 1, 1, 1, 0, &loss);
    for (int i = 0; i < m->ntensors; i++) {
        const seqrt_tensor *t = &m->tensors[i];
        if (t->kind == SEQRT_T_GRAD)
            put_table(t, "", state);
        else if (t->kind == SEQRT_T_BUFFER)
            put_table(t, "fwd.", state);
    }

    /* 3. inference forward */
    m->forward(state, (const float *)(void *)x->data, y, n, 0);
    put("y_infer", 1, 2, n, m->out, y);

    /* 4. training steps */
    float losses[1000];
    int steps = 0;
    for (; steps < 1000; steps++) {
        char xn[64], tn[64];
        snprintf(xn, sizeof xn, "steps.x.%d", steps);
        snprintf(tn, sizeof tn, "steps.t.%d", steps);
        const tensor *sx = get(xn, 0), *st = get(tn, 0);
        if (!sx || !st)
            break;
        int k = batch_rows(m, sx, st);
        losses[steps] = m->train_step(state, (const float *)(void *)sx->data, (const float *)(void *)st->data, k);
    }
    if (steps)
        put("steps.loss", 1, 1, steps, 0, losses);

    /* 5. the final state */
    for (int i = 0; i < m->ntensors; i++) {
        const seqrt_tensor *t = &m->tensors[i];
        if (t->kind != SEQRT_T_GRAD)
            put_table(t, "final.", state);
    }
    write_file(argv[3]);
    for (int i = 0; i < n_out; i++)
        free(out_t[i].data);
    free(in_buf);
    free(y);
    free(state);
    return 0;
}
