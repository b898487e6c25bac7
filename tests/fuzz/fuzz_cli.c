/*
 * fuzz_cli.c - seqrt_main's argument parsing (and the commands it runs) for
 * a small generated model (cli_model.nn, 2 features, 2 classes).
 *
 * The input is argv[1..], split on NUL bytes (argv[0] is "fz"). The
 * commands run for real in a private temporary directory holding a tiny
 * training CSV (train.csv), a features-only CSV (x.csv) and a checkpoint of
 * the model (ckpt.safetensors), restored before every input. To keep each
 * run short and inside that directory, inputs with an argument that
 * contains '/' or an --epochs above 4 are skipped.
 *
 * Properties: the exit status is 0, 1 (a run error) or 2 (a usage error);
 * stdout and stderr go to /dev/null.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqrt.h"
#include "fz.h"

#define FAIL(...) (fprintf(stderr, "fuzz_cli: " __VA_ARGS__), fputc('\n', stderr), abort())

static char dir[256], home[4096];
static FILE *devnull;
static unsigned char *ckpt;
static size_t ckpt_len;

static const char train_csv[] =
    "a,b,y\n0.1,0.2,0\n0.9,0.8,1\n0.2,0.1,0\n0.8,0.9,1\n0.3,0.3,0\n0.7,0.6,1\n0.1,0.4,0\n0.6,0.9,1\n";
static const char x_csv[] = "a,b\n0.1,0.2\n0.9,0.8\n";

static void put(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(name, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f))
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_cli.XXXXXX", base);
    if (!mkdtemp(dir) || !getcwd(home, sizeof home) || chdir(dir))
        abort();
    devnull = fopen("/dev/null", "w");
    fz *net = calloc(1, sizeof *net);
    fz_model.init(net, 1);
    if (!devnull || !net || fz_save(net, "ckpt.safetensors"))
        abort();
    free(net);
    FILE *f = fopen("ckpt.safetensors", "rb");
    fseek(f, 0, SEEK_END);
    ckpt_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    ckpt = malloc(ckpt_len);
    if (fread(ckpt, 1, ckpt_len, f) != ckpt_len)
        abort();
    fclose(f);
    if (chdir(home))
        abort();
    return 0;
}

/* Leaves the directory with exactly the three fixed files. */
static void reset_dir(void)
{
    DIR *d = opendir(".");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            remove(e->d_name);
    if (d)
        closedir(d);
    put("train.csv", train_csv, sizeof train_csv - 1);
    put("x.csv", x_csv, sizeof x_csv - 1);
    put("ckpt.safetensors", ckpt, ckpt_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    int argc = 1;
    for (size_t i = 0; i < size; i++)
        argc += buf[i] == 0;
    argc += 1;
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    argv[0] = (char *)"fz";
    int n = 1;
    for (size_t i = 0; i <= size; i++) {
        argv[n++] = buf + i;
        i += strlen(buf + i);
    }
    argc = n;
    int skip = 0;
    for (int i = 1; i < argc; i++) {
        if (strchr(argv[i], '/'))
            skip = 1;
        const char *v = !strncmp(argv[i], "--epochs=", 9) ? argv[i] + 9
                        : (!strcmp(argv[i], "--epochs") && i + 1 < argc) ? argv[i + 1]
                                                                         : NULL;
        if (v && strtol(v, NULL, 10) > 4)
            skip = 1;
    }
    if (!skip) {
        if (chdir(dir))
            abort();
        reset_dir();
        FILE *out = stdout, *err = stderr;
        stdout = devnull;
        stderr = devnull;
        int rc = seqrt_main(&fz_model, argc, argv);
        stdout = out;
        stderr = err;
        if (rc < 0 || rc > 2)
            FAIL("exit status %d", rc);
        if (chdir(home))
            abort();
    }
    free(argv);
    free(buf);
    return 0;
}
