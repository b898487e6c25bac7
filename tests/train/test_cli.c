/*
 * test_cli.c - seqrt_main, called in-process with stdout and stderr caught
 * in files: argument errors (exit 2, a message naming the argument, the
 * usage line), data errors (exit 1), --help/--version, a whole
 * train / resume / evaluate / predict round trip on the toy model, and what
 * the commands say they read: header-less files (refused without
 * --header/--no-header, every row used with --no-header), the row counts
 * on stderr, predictions one line per input row in order, and outputs
 * that a failed command leaves alone.
 */
#include "check.h"
#include "toy_model.h"

#include <stdarg.h>
#include <unistd.h>

static char out_text[1 << 16], err_text[1 << 16];
static const char *stdout_path = "cli.out";   /* where run() sends stdout */

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
    FILE *o = freopen(stdout_path, "w", stdout);
    FILE *e = freopen("cli.err", "w", stderr);
    int rc = (o && e) ? seqrt_main(m, argc, argv) : -1;
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    if (!strcmp(stdout_path, "cli.out"))
        slurp("cli.out", out_text, sizeof out_text);
    else
        out_text[0] = '\0';
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
                       run(m, "train", "x.npy", "y.npy", "extra.csv", NULL));
    expect_usage_error("predict needs CKPT and DATA.csv",
                       run(m, "predict", "c", NULL));
    expect_usage_error("--val and --validation-split exclude each other",
                       run(m, "train", "d.csv", "--val", "v.csv",
                           "--validation-split", "0.2", NULL));
    expect_usage_error("--header and --no-header exclude each other",
                       run(m, "predict", "c", "d.csv", "--header",
                           "--no-header", NULL));
    expect_usage_error("option --header takes no value",
                       run(m, "evaluate", "c", "d.csv", "--header=1", NULL));
}

static void test_help_version(const seqrt_model *m)
{
    CHECK(run(m, "--help", NULL) == 0);
    CHECK_CONTAINS(out_text, "toy train DATA.csv");
    CHECK_CONTAINS(out_text, "1..16");
    CHECK_CONTAINS(out_text, "--header, --no-header");
    CHECK_CONTAINS(out_text, "a line 1 of numbers only");
    CHECK_CONTAINS(out_text, "one line per row of DATA.csv, in order");
    CHECK(run(m, "train", "-h", NULL) == 0);
    CHECK(run(m, "--version", NULL) == 0);
    CHECK_CONTAINS(out_text, SEQRT_VERSION);
}

static void write_data_header(const char *path, int rows, int with_target,
                              int header)
{
    FILE *f = fopen(path, "w");
    if (header)
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

static void write_data(const char *path, int rows, int with_target)
{
    write_data_header(path, rows, with_target, 1);
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

/* Each line of the predictions file after its header equals seqrt_predict
 * on the corresponding row of `features`, in order. */
static void check_predictions(const seqrt_model *m, const char *ckpt,
                              const char *features, const char *pred,
                              long rows, int header)
{
    void *net = calloc(1, m->state_bytes);
    seqrt_data d;
    seqrt_csv_options o = {header ? SEQRT_CSV_HEADER_PRESENT
                                  : SEQRT_CSV_HEADER_ABSENT, NULL, 0};
    CHECK(net && seqrt_model_load(m, net, ckpt) == 0);
    CHECK(seqrt_csv_load_features(&d, features, m, &o, NULL) == 0);
    CHECK(d.rows == rows);
    float *y = calloc((size_t)rows, sizeof *y);
    CHECK(seqrt_predict(m, net, d.x, d.rows, y) == 0);
    char *t = read_text(pred), *p = t;
    CHECK(t && !strncmp(t, "output\n", 7));
    p = t ? strchr(t, '\n') + 1 : NULL;
    long r = 0;
    for (; p && *p; r++) {
        char *end;
        float v = strtof(p, &end);
        if (r < rows && (end == p || *end != '\n' || v != y[r])) {
            fprintf(stderr, "prediction %ld: '%.20s', expected %.9g\n", r, p,
                    (double)y[r]);
            check_failures++;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    CHECK(r == rows);
    free(t);
    free(y);
    free(net);
    seqrt_data_free(&d);
}

/* A file without a header: refused by every command until the user says
 * --no-header (or --header), then every row is read, used and predicted. */
static void test_headerless(const seqrt_model *m)
{
    write_data_header("nohdr.csv", 40, 1, 0);
    write_data_header("nohdr_x.csv", 7, 0, 0);
    remove("nohdr.safetensors");
    const char *want = "nohdr.csv:1:1: line 1 holds only numbers, so it may "
                       "be data rather than column names; pass --no-header";
    CHECK(run(m, "train", "nohdr.csv", "--out", "nohdr.safetensors", NULL) ==
          1);
    CHECK_CONTAINS(err_text, want);
    CHECK_CONTAINS(err_text, "or --header to use it as the header");
    CHECK(access("nohdr.safetensors", F_OK) != 0);
    CHECK(run(m, "train", "nohdr.csv", "--no-header", "--epochs", "2",
              "--validation-split", "0.25", "--verbose", "2", "--out",
              "nohdr.safetensors", NULL) == 0);
    CHECK_CONTAINS(err_text, "nohdr.csv: 40 rows, no header (line 1 is data; "
                   "columns named 0 to 2); target 2, column 3 of 3\n");
    CHECK_CONTAINS(err_text, "Train on 30 samples, validate on 10 samples\n");
    /* the same with --header: line 1 is the header, 39 rows */
    CHECK(run(m, "train", "nohdr.csv", "--header", "--epochs", "1",
              "--out", "hdr.safetensors", "--verbose", "1", NULL) == 0);
    CHECK_CONTAINS(err_text, "nohdr.csv: 39 rows after the header on line 1");
    CHECK_CONTAINS(err_text, "Train on 39 samples, no validation\n");

    CHECK(run(m, "evaluate", "nohdr.safetensors", "nohdr.csv", NULL) == 1);
    CHECK_CONTAINS(err_text, want);
    CHECK(run(m, "evaluate", "nohdr.safetensors", "nohdr.csv", "--no-header",
              NULL) == 0);
    CHECK_CONTAINS(err_text, "Evaluate on 40 samples\n");
    CHECK(!strncmp(out_text, "loss: ", 6));

    write_text("keep.csv", "an earlier file\n");
    CHECK(run(m, "predict", "nohdr.safetensors", "nohdr_x.csv", "--output",
              "keep.csv", NULL) == 1);
    CHECK_CONTAINS(err_text, "nohdr_x.csv:1:1: line 1 holds only numbers");
    char *t = read_text("keep.csv");
    CHECK(t && !strcmp(t, "an earlier file\n"));
    free(t);
    CHECK(run(m, "predict", "nohdr.safetensors", "nohdr_x.csv", "--no-header",
              "--output", "keep.csv", NULL) == 0);
    CHECK_CONTAINS(err_text, "nohdr_x.csv: 7 rows, no header");
    CHECK_CONTAINS(err_text, "; no target column\n");
    CHECK_CONTAINS(err_text, "Predicted 7 samples: wrote a header line and 7 "
                   "rows, in input order, to keep.csv\n");
    CHECK(count_lines("keep.csv") == 8);
    check_predictions(m, "nohdr.safetensors", "nohdr_x.csv", "keep.csv", 7, 0);
    /* to stdout, from a file with the target column: 40 rows, 41 lines */
    CHECK(run(m, "predict", "nohdr.safetensors", "nohdr.csv", "--no-header",
              NULL) == 0);
    CHECK_CONTAINS(err_text, "target 2, column 3 of 3, left out\n");
    int lines = 0;
    for (char *p = out_text; *p; p++)
        lines += *p == '\n';
    CHECK(lines == 41);
}

/* What train, evaluate and predict say about a file with a header. */
static void test_counts(const seqrt_model *m)
{
    write_data("c.csv", 50, 1);
    write_data("c_val.csv", 12, 1);
    CHECK(run(m, "train", "c.csv", "--val", "c_val.csv", "--epochs", "1",
              "--out", "c.safetensors", "--verbose", "1", NULL) == 0);
    CHECK_CONTAINS(err_text, "c.csv: 50 rows after the header on line 1 (a, b, "
                   "y); target \"y\", column 3 of 3\n");
    CHECK_CONTAINS(err_text, "c_val.csv: 12 rows after the header on line 1");
    CHECK_CONTAINS(err_text, "Train on 50 samples, validate on 12 samples\n");
    /* --verbose 0 is silent */
    CHECK(run(m, "train", "c.csv", "--epochs", "1", "--out", "c.safetensors",
              "--verbose", "0", NULL) == 0);
    CHECK(err_text[0] == '\0');
    CHECK(run(m, "evaluate", "c.safetensors", "c_val.csv", "--target", "a",
              NULL) == 0);
    CHECK_CONTAINS(err_text, "c_val.csv: 12 rows after the header on line 1 "
                   "(a, b, y); target \"a\", column 1 of 3\nEvaluate on 12 "
                   "samples\n");
    CHECK(run(m, "predict", "c.safetensors", "c.csv", "--target", "a",
              "--output", "c_pred.csv", NULL) == 0);
    CHECK_CONTAINS(err_text, "target \"a\", column 1 of 3, left out\n");
    CHECK(count_lines("c_pred.csv") == 51);
    /* a failed write to stdout is an error, not lost predictions */
    if (access("/dev/full", W_OK) == 0) {
        stdout_path = "/dev/full";
        CHECK(run(m, "predict", "c.safetensors", "c.csv", NULL) == 1);
        stdout_path = "cli.out";
        CHECK_CONTAINS(err_text, "stdout: cannot write the predictions");
    }
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
    test_headerless(&m);
    test_counts(&m);
    test_nan(&m);
    return check_report("test_cli");
}
