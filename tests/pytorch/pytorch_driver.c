/*
 * pytorch_driver.c - the C side of the --emit=pytorch tests (check.py):
 * runs a generated model on rows written by check.py and leaves what it
 * computes in files, for comparison with the emitted PyTorch module.
 *
 *     pytorch_driver MODEL N X.f32 T.f32 DIR
 *         init(7) -> DIR/init.safetensors (Keras's initial weights, drawn
 *         by seqc); adapt a leading Normalization to x; 3 training steps on
 *         (x, t), so that running statistics, optimizer slots and the step
 *         counter are not their initial values; then
 *           DIR/before.safetensors   the state (NAME_save: a real checkpoint)
 *           DIR/y_infer.f32          forward(x, training=0)
 *           DIR/y_train.f32          forward(x, training=1)
 *         the state is reloaded from before.safetensors (the training
 *         forward moved the BatchNorm statistics) and one train_step(x, t)
 *         follows:
 *           DIR/loss.f32             its loss
 *           DIR/after.safetensors    the state after it
 *         An inference-only model stops after y_infer.
 *     pytorch_driver MODEL N X.f32 --predict CKPT OUT.f32
 *         init(7), load CKPT (a weights-only file that the module's
 *         save_checkpoint wrote), forward(x, training=0) -> OUT.f32.
 *
 * X.f32 is N rows of the model's inputs and T.f32 N rows of targets (one
 * float per output, or per row for the sparse loss), raw little-endian
 * float32. MODEL is looked up among the parity test models (-O2) and the
 * examples and their dropout-free variants (pytorch_models.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_models.h"

extern const seqrt_model *const pytorch_models[];

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "pytorch_driver: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static float *read_floats(const char *path, long count)
{
    float *v = malloc(sizeof(float) * (size_t)count);
    FILE *f = fopen(path, "rb");
    if (!v || !f || fread(v, sizeof(float), (size_t)count, f) != (size_t)count)
        die("cannot read the floats of", path);
    fclose(f);
    return v;
}

static void write_floats(const char *dir, const char *name, const float *v, long count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof(float), (size_t)count, f) != (size_t)count || fclose(f) != 0)
        die("cannot write", path);
}

static const char *in_dir(const char *dir, const char *name)
{
    static char path[2][4096];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static const seqrt_model *find(const char *name)
{
    const seqrt_model *m = seqc_test_model_find(name);
    for (int i = 0; !m && pytorch_models[i]; i++)
        if (!strcmp(pytorch_models[i]->name, name))
            m = pytorch_models[i];
    if (!m)
        die("no such model", name);
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7)
        die("usage: pytorch_driver MODEL N X.f32 (T.f32 DIR | --predict CKPT OUT.f32)", NULL);
    const seqrt_model *m = find(argv[1]);
    int n = atoi(argv[2]);
    if (n < 1 || n > m->max_batch)
        die("N must be between 1 and the model's batch size", argv[2]);
    float *x = read_floats(argv[3], (long)n * m->in);
    float *y = malloc(sizeof(float) * (size_t)n * (size_t)m->out);
    void *net = calloc(1, m->state_bytes);
    if (!y || !net)
        die("out of memory", NULL);
    m->init(net, 7);

    if (!strcmp(argv[4], "--predict")) {
        if (argc != 7)
            die("usage: pytorch_driver MODEL N X.f32 --predict CKPT OUT.f32", NULL);
        if (seqrt_model_load(m, net, argv[5]) != 0)
            die(seqrt_error(), NULL);
        m->forward(net, x, y, n, 0);
        write_floats(NULL, argv[6], y, (long)n * m->out);
        return 0;
    }
    if (argc != 6)
        die("usage: pytorch_driver MODEL N X.f32 T.f32 DIR", NULL);
    const char *dir = argv[5];
    int tcols = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : m->out;
    float *t = m->loss >= 0 ? read_floats(argv[4], (long)n * tcols) : NULL;
    if (seqrt_model_save(m, net, in_dir(dir, "init.safetensors")) != 0)
        die(seqrt_error(), NULL);
    seqrt_data d = {x, t, n, m->in, tcols};
    if (seqrt_adapt(m, net, &d) != 0)
        die(seqrt_error(), NULL);
    for (int step = 0; step < 3 && m->loss >= 0; step++)
        m->train_step(net, x, t, n);
    if (seqrt_model_save(m, net, in_dir(dir, "before.safetensors")) != 0)
        die(seqrt_error(), NULL);
    m->forward(net, x, y, n, 0);
    write_floats(dir, "y_infer.f32", y, (long)n * m->out);
    if (m->loss < 0)
        return 0;
    m->forward(net, x, y, n, 1);
    write_floats(dir, "y_train.f32", y, (long)n * m->out);
    if (seqrt_model_load(m, net, in_dir(dir, "before.safetensors")) != 0)
        die(seqrt_error(), NULL);
    float loss = m->train_step(net, x, t, n);
    write_floats(dir, "loss.f32", &loss, 1);
    if (seqrt_model_save(m, net, in_dir(dir, "after.safetensors")) != 0)
        die(seqrt_error(), NULL);
    free(net);
    free(y);
    free(x);
    free(t);
    return 0;
}
