/*
 * test_cli.c - seqrt_main, called in-process with stdout and stderr caught
 * in files: argument errors (exit 2, a message naming the argument, the
 * usage line), data errors (exit 1), --help/--version, and a whole
 * train / resume / evaluate / predict round trip on the toy model.
 */
#include "check.h"
#include "toy_model.h"

#include <stdarg.h>
#include <unistd.h>

static char out_text[1 << 16], err_text[1 << 16];

static void slurp(const char *path, char *buf, size_t cap)
{
    char *t = read_text(path);
    snprintf(buf, cap, "%s", t ? t : "");
    free(t);
}

/* Runs seqrt_main with the NULL-terminated arguments after the name. */
static int run(const seqrt_model *m, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    argv[argc++] = (char *)"toy";
    va_start(ap, m);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    FILE *o = freopen("cli.out", "w", stdout);
    FILE *e = freopen("cli.err", "w", stderr);
    int rc = (o && e) ? seqrt_main(m, argc, argv) : -1;
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    slurp("cli.out", out_text, sizeof out_text);
    slurp("cli.err", err_text, sizeof err_text);
    return rc;
}

static void expect_usage_error(const char *needle, int rc)
{
    CHECK(rc == 2);
    CHECK_CONTAINS(err_text, needle);
    CHECK_CONTAINS(err_text, "usage: toy train DATA.csv");
}

static void test_argument_errors(const seqrt_model *m)
{
    expect_usage_error("missing command", run(m, NULL));
    expect_usage_error("unknown command 'fly'", run(m, "fly", NULL));
    expect_usage_error("train needs DATA.csv", run(m, "train", NULL));
    expect_usage_error("--epochs: expected an integer >= 1, got '12abc'",
                       run(m, "train", "d.csv", "--epochs", "12abc", NULL));
    expect_usage_error("--epochs: expected an integer >= 1, got '-3'",
                       run(m, "train", "d.csv", "--epochs=-3", NULL));
    expect_usage_error("--batch-size: expected a positive integer, got "
                       "'0'", run(m, "train", "d.csv", "--batch-size", "0",
                                  NULL));
    expect_usage_error("--batch-size 17 is larger than the maximum 16",
                       run(m, "train", "d.csv", "--batch-size", "17", NULL));
    CHECK_CONTAINS(err_text, "fit(batch_size=...)");
    expect_usage_error("--verbose: expected 0, 1 or 2, got '3'",
                       run(m, "train", "d.csv", "--verbose", "3", NULL));
    expect_usage_error("--validation-split: expected a number in [0, 1), "
                       "got '1.5'", run(m, "train", "d.csv",
                                        "--validation-split", "1.5", NULL));
    expect_usage_error("--seed: expected a non-negative integer, got '-1'",
                       run(m, "train", "d.csv", "--seed", "-1", NULL));
    expect_usage_error("--patience: expected an integer >= 0",
                       run(m, "train", "d.csv", "--patience", "x", NULL));
    expect_usage_error("--delimiter: expected one character",
                       run(m, "train", "d.csv", "--delimiter", ";;", NULL));
    expect_usage_error("unknown option '--epoch'",
                       run(m, "train", "d.csv", "--epoch", "3", NULL));
    expect_usage_error("option --epochs needs a value",
                       run(m, "train", "d.csv", "--epochs", NULL));
    expect_usage_error("option --classes does not apply to 'train'",
                       run(m, "train", "d.csv", "--classes", NULL));
    expect_usage_error("option --epochs does not apply to 'evaluate'",
                       run(m, "evaluate", "c", "d.csv", "--epochs", "2",
                           NULL));
    expect_usage_error("unexpected argument 'extra.csv'",
                       run(m, "train", "d.csv", "extra.csv", NULL));
    expect_usage_error("predict needs CKPT and DATA.csv",
                       run(m, "predict", "c", NULL));
    expect_usage_error("--val and --validation-split exclude each other",
                       run(m, "train", "d.csv", "--val", "v.csv",
                           "--validation-split", "0.2", NULL));
}

static void test_help_version(const seqrt_model *m)
{
    CHECK(run(m, "--help", NULL) == 0);
    CHECK_CONTAINS(out_text, "toy train DATA.csv");
    CHECK_CONTAINS(out_text, "1..16");
    CHECK(run(m, "train", "-h", NULL) == 0);
    CHECK(run(m, "--version", NULL) == 0);
    CHECK_CONTAINS(out_text, SEQRT_VERSION);
}

static void write_data(const char *path, int rows, int with_target)
{
    FILE *f = fopen(path, "w");
    fputs(with_target ? "a,b,y\n" : "a,b\n", f);
    for (int r = 0; r < rows; r++) {
        double a = (r % 11) / 10.0, b = ((r * 7) % 13) / 13.0;
        if (with_target)
            fprintf(f, "%g,%g,%g\n", a, b, 0.5 * a - 0.25 * b + 0.1);
        else
            fprintf(f, "%g,%g\n", a, b);
    }
    fclose(f);
}

static int count_lines(const char *path)
{
    char *t = read_text(path);
    int n = 0;
    for (char *p = t; p && *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

static void test_data_errors(const seqrt_model *m)
{
    CHECK(run(m, "train", "missing.csv", NULL) == 1);
    CHECK_CONTAINS(err_text, "missing.csv: cannot open");
    write_text("bad.csv", "a,b,y\n1,x,2\n");
    CHECK(run(m, "train", "bad.csv", NULL) == 1);
    CHECK_CONTAINS(err_text, "bad.csv:2:3: not a number: \"x\"");
    CHECK(run(m, "evaluate", "missing.safetensors", "bad.csv", NULL) == 1);
}

static void test_round_trip(const seqrt_model *m)
{
    write_data("train.csv", 60, 1);
    write_data("features.csv", 9, 0);
    remove("toy_cli.safetensors");
    CHECK(run(m, "train", "train.csv", "--epochs", "4", "--batch-size", "8",
              "--validation-split", "0.25", "--out", "toy_cli.safetensors",
              "--history", "cli_h.csv", "--plot", "cli_h.svg", "--verbose",
              "2", NULL) == 0);
    CHECK_CONTAINS(err_text, "Epoch 4/4 - ");
    CHECK_CONTAINS(err_text, " - loss: ");
    CHECK_CONTAINS(err_text, " - val_loss: ");
    CHECK_CONTAINS(out_text, "val_loss: ");
    CHECK(count_lines("cli_h.csv") == 5);
    CHECK(access("toy_cli.safetensors", F_OK) == 0);
    CHECK(access("cli_h.svg", F_OK) == 0);
    /* resume to 6 epochs in total */
    CHECK(run(m, "train", "train.csv", "--epochs", "6", "--resume",
              "toy_cli.safetensors", "--out", "toy_cli6.safetensors",
              "--history", "cli_h6.csv", NULL) == 0);
    CHECK(count_lines("cli_h6.csv") == 3);
    CHECK(run(m, "evaluate", "toy_cli6.safetensors", "train.csv", NULL) == 0);
    CHECK(!strncmp(out_text, "loss: ", 6));
    CHECK(run(m, "predict", "toy_cli6.safetensors", "features.csv",
              "--output", "pred.csv", NULL) == 0);
    CHECK(count_lines("pred.csv") == 10);
    char *t = read_text("pred.csv");
    CHECK(t && !strncmp(t, "output\n", 7));
    free(t);
    CHECK(run(m, "predict", "toy_cli6.safetensors", "train.csv", "--classes",
              NULL) == 0);
    CHECK(!strncmp(out_text, "class\n", 6));
    int lines = 0;
    for (char *p = out_text; *p; p++)
        lines += *p == '\n';
    CHECK(lines == 61);
}

static void test_nan(seqrt_model *m)
{
    toy.nan_epoch = 2;
    toy.nan_batch = 1;
    remove("nan.safetensors");
    CHECK(run(m, "train", "train.csv", "--epochs", "4", "--out",
              "nan.safetensors", "--verbose", "0", NULL) == 1);
    CHECK_CONTAINS(err_text, "loss became NaN at epoch 2 batch 1; weights of "
                   "epoch 1 kept");
    CHECK(access("nan.safetensors", F_OK) == 0);
    toy.nan_epoch = 0;
}

int main(void)
{
    seqrt_model m;
    toy_defaults();
    toy.lr = 0.05f;
    toy.momentum = 0.5f;
    toy_model(&m);
    test_argument_errors(&m);
    test_help_version(&m);
    test_data_errors(&m);
    test_round_trip(&m);
    test_nan(&m);
    return check_report("test_cli");
}
