/*
 * cli.c - the command-line program that `seqc --main` wraps around a model.
 *
 *   NAME train DATA [--val VAL] [--validation-split F] [--epochs N]
 *        [--batch-size N] [--seed N] [--shuffle|--no-shuffle] [--patience N]
 *        [--out CKPT.safetensors] [--resume CKPT] [--history H.csv]
 *        [--plot H.svg] [--verbose 0|1|2] [CSV options]
 *   NAME evaluate CKPT DATA [CSV options]
 *   NAME predict CKPT X [--classes] [--output OUT.csv|OUT.npy] [CSV options]
 *   DATA: one CSV file (features and target), or two binary files, X and
 *   y (NumPy .npy or IDX, gzip or not: array.c); VAL likewise, with
 *   --val-labels for the second file.
 *   CSV options: [--target NAME] [--delimiter C] [--header|--no-header]
 *   NAME --help | -h | --version
 *
 * Design: parsing and running are separate. parse_args turns argv into a
 * cli_args (defaults from the model's own fit(...) call, m->fit), checking
 * every option against a table of which command takes it and every number
 * strictly ("12abc", "-3", "" are rejected); an argument error prints a
 * message naming the argument and the usage line and exits with status 2.
 * The commands then load data and checkpoints; their errors (bad CSV,
 * missing file, NaN loss) print seqrt_error() and exit with status 1.
 * Options take "--opt VALUE" or "--opt=VALUE"; "--" ends the options.
 *
 * train allocates the state once (calloc of m->state_bytes), runs m->init
 * with the seed, then either loads --resume (and continues from its epoch
 * counter up to --epochs in total) or adapts a leading Normalization layer
 * to the training part of the data. A resumed run continues its --history
 * file (and so its --plot): the epochs the checkpoint reached are read back
 * and the new ones follow them. Validation data is --val, else the
 * last validation_split of DATA.csv (Keras's split). It saves the final
 * weights (the best ones under restore_best_weights) to --out, the history
 * to --history/--plot, and prints the held-out score on stdout.
 *
 * Every command says on stderr what it read and used: one line per data
 * file (rows, header or not, the target column) and Keras's count line
 * ("Train on 456 samples, validate on 113 samples", "Evaluate on 114
 * samples", "Predicted 114 samples: ..."); train prints them unless
 * --verbose 0. stdout carries only the scores or the predictions.
 *
 * Under mpirun (a SEQC_MPI build; seqrt_dist.h) train is data-parallel:
 * every rank parses the same arguments, loads the data and --resume, and
 * agrees on failure (one message, from rank 0, naming the lowest failing
 * rank; every rank exits 1); seqrt_fit splits each global batch of
 * ranks x --batch-size rows; rank 0 alone prints and writes --out,
 * --history and --plot. evaluate and predict run on rank 0 alone.
 */
#include "seqrt_driver.h"
#include "seqrt_dist.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { CMD_TRAIN = 1, CMD_EVALUATE = 2, CMD_PREDICT = 4, CMD_ALL = 7 };

typedef struct {
    int cmd;
    const char *pos[3];          /* positional arguments */
    int npos;
    const char *val, *val_labels, *out, *resume, *history, *plot, *target, *output;
    int csv_options;             /* a CSV-only option was given */
    char delimiter;
    seqrt_csv_header header;       /* --header / --no-header */
    int classes, have_split;
    seqrt_fit_config fit;
} cli_args;

typedef struct {
    const char *name;
    int has_value;
    int cmds;
} opt_spec;

static const opt_spec OPTIONS[] = {
    {"--val", 1, CMD_TRAIN},        {"--val-labels", 1, CMD_TRAIN},
    {"--validation-split", 1, CMD_TRAIN},
    {"--epochs", 1, CMD_TRAIN},     {"--batch-size", 1, CMD_TRAIN},
    {"--seed", 1, CMD_TRAIN},       {"--shuffle", 0, CMD_TRAIN},
    {"--no-shuffle", 0, CMD_TRAIN}, {"--patience", 1, CMD_TRAIN},
    {"--out", 1, CMD_TRAIN},        {"--resume", 1, CMD_TRAIN},
    {"--history", 1, CMD_TRAIN},    {"--plot", 1, CMD_TRAIN},
    {"--verbose", 1, CMD_TRAIN},    {"--target", 1, CMD_ALL},
    {"--delimiter", 1, CMD_ALL},    {"--classes", 0, CMD_PREDICT},
    {"--output", 1, CMD_PREDICT},   {"--header", 0, CMD_ALL},
    {"--no-header", 0, CMD_ALL},
};

/* ---------------------------------------------------------------- messages */

/* Under mpirun only rank 0 prints (every rank has the same arguments and,
 * after seqrt_dist_agree, the same error). */
static int quiet(void)
{
    return seqrt_dist_rank() != 0;
}

static void usage_line(const seqrt_model *m, FILE *f)
{
    fprintf(f, "usage: %s train DATA.csv|X Y [options] | %s evaluate CKPT "
            "DATA.csv|X Y | %s predict CKPT DATA.csv|X [--classes] "
            "[--output OUT.csv|OUT.npy] | %s --help\n", m->name, m->name,
            m->name, m->name);
}

static void print_help(const seqrt_model *m)
{
    const seqrt_fit_config *c = &m->fit;
    printf("%s: train, evaluate and run the model `%s` (%d inputs, %d "
           "outputs, loss %s).\n\n", m->name, m->name, m->in, m->out,
           seqrt_loss_name(m->loss));
    printf("  %s train DATA.csv [options], or %s train X Y [options]\n"
           "    X Y                     features and targets in binary files: "
           "NumPy .npy\n"
           "                            or IDX (MNIST), gzip-compressed or "
           "not\n"
           "    --val VAL.csv           validation data (else "
           "--validation-split);\n"
           "    --val VALX --val-labels VALY   binary validation data\n"
           "    --validation-split F    last fraction of DATA.csv for "
           "validation (default %g)\n"
           "    --epochs N              total epochs (default %d)\n"
           "    --batch-size N          1..%d (default %d); under mpirun "
           "the batch\n"
           "                            of each process (global batch: "
           "processes x N)\n"
           "    --seed N                weights and shuffling (default %llu)\n"
           "    --shuffle, --no-shuffle shuffle every epoch (default %s)\n"
           "    --patience N            early stopping on %s\n"
           "    --out CKPT.safetensors  where to save (default "
           "%s.safetensors)\n"
           "    --resume CKPT           continue from a checkpoint\n"
           "    --history H.csv, --plot H.svg   training history\n"
           "    --verbose 0|1|2         (default %d)\n",
           m->name, m->name, (double)c->validation_split, c->epochs, m->max_batch,
           c->batch_size, (unsigned long long)c->seed,
           c->shuffle ? "on" : "off",
           c->early_stopping.monitor ? c->early_stopping.monitor
                                     : "val_loss",
           m->name, c->verbose);
    printf("  %s evaluate CKPT DATA.csv | X Y\n"
           "  %s predict CKPT DATA.csv | X [--classes] [--output OUT.csv|"
           "OUT.npy]\n"
           "    writes a header line, then one line per row of DATA.csv, in "
           "order;\n"
           "    OUT.npy: a float32 array (int64 with --classes), one row per "
           "sample\n"
           "  all commands (the CSV options apply to CSV files only):\n"
           "    --target NAME           the target column (default: the "
           "last)\n"
           "    --delimiter C           ',' (default), ';', tab, ...\n"
           "    --header, --no-header   line 1 names the columns, or is "
           "data\n"
           "                            (then the columns are named 0, 1, "
           "...);\n"
           "                            by default line 1 is the header "
           "when a field\n"
           "                            of it is text, and a line 1 of "
           "numbers only\n"
           "                            is an error asking for one of "
           "the two\n"
           "  %s --version\n", m->name, m->name, m->name);
}

static int arg_error(const seqrt_model *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int arg_error(const seqrt_model *m, const char *fmt, ...)
{
    va_list ap;
    if (quiet())
        return 2;
    fprintf(stderr, "%s: ", m->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage_line(m, stderr);
    return 2;
}

static int run_error(const seqrt_model *m)
{
    if (!quiet())
        fprintf(stderr, "%s: error: %s\n", m->name, seqrt_error());
    return 1;
}

/* ---------------------------------------------------------------- numbers */

/* A base-10 integer in [lo, hi] and nothing else. */
static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *end;
    if (!*s || !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
        return -1;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!(*s >= '0' && *s <= '9'))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *v = (uint64_t)x;
    return 0;
}

static int parse_fraction(const char *s, float *v)
{
    char *end;
    if (!*s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -1;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || *end || !(x >= 0 && x < 1))
        return -1;
    *v = (float)x;
    return 0;
}

static int parse_delimiter(const char *s, char *d)
{
    if (!strcmp(s, "\\t") || !strcmp(s, "tab")) {
        *d = '\t';
        return 0;
    }
    if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
        return -1;
    *d = s[0];
    return 0;
}

/* ---------------------------------------------------------------- options */

static int set_batch_size(const seqrt_model *m, cli_args *a, const char *v)
{
    long n;
    if (parse_long(v, LONG_MIN, LONG_MAX, &n) || n < 1)
        return arg_error(m, "--batch-size: expected a positive integer, got "
                         "'%s'", v);
    if (n > m->max_batch)
        return arg_error(m, "--batch-size %ld is larger than the maximum %d: "
                         "the batch buffers are fixed at compile time by "
                         "fit(batch_size=...) in the model file", n,
                         m->max_batch);
    a->fit.batch_size = (int)n;
    return 0;
}

static int set_count(const seqrt_model *m, const char *opt, const char *v,
                     long lo, int *out)
{
    long n;
    if (parse_long(v, lo, 1000000000L, &n))
        return arg_error(m, "%s: expected an integer >= %ld, got '%s'", opt,
                         lo, v);
    *out = (int)n;
    return 0;
}

/* Applies option `o` with value v (NULL for flags). */
static int apply_option(const seqrt_model *m, cli_args *a, const char *o,
                        const char *v)
{
    seqrt_fit_config *f = &a->fit;
    if (!strcmp(o, "--val")) a->val = v;
    else if (!strcmp(o, "--val-labels")) a->val_labels = v;
    else if (!strcmp(o, "--out")) a->out = v;
    else if (!strcmp(o, "--resume")) a->resume = v;
    else if (!strcmp(o, "--history")) a->history = v;
    else if (!strcmp(o, "--plot")) a->plot = v;
    else if (!strcmp(o, "--target")) a->target = v, a->csv_options = 1;
    else if (!strcmp(o, "--output")) a->output = v;
    else if (!strcmp(o, "--classes")) a->classes = 1;
    else if (!strcmp(o, "--header") || !strcmp(o, "--no-header")) {
        seqrt_csv_header h = !strcmp(o, "--header") ? SEQRT_CSV_HEADER_PRESENT
                                                    : SEQRT_CSV_HEADER_ABSENT;
        if (a->header != SEQRT_CSV_HEADER_AUTO && a->header != h)
            return arg_error(m, "--header and --no-header exclude each "
                             "other");
        a->header = h;
        a->csv_options = 1;
    }
    else if (!strcmp(o, "--shuffle")) f->shuffle = 1;
    else if (!strcmp(o, "--no-shuffle")) f->shuffle = 0;
    else if (!strcmp(o, "--epochs"))
        return set_count(m, o, v, 1, &f->epochs);
    else if (!strcmp(o, "--batch-size"))
        return set_batch_size(m, a, v);
    else if (!strcmp(o, "--verbose")) {
        long n;
        if (parse_long(v, 0, 2, &n))
            return arg_error(m, "--verbose: expected 0, 1 or 2, got '%s'",
                             v);
        f->verbose = (int)n;
    }
    else if (!strcmp(o, "--patience")) {
        f->early_stopping.enabled = 1;
        return set_count(m, o, v, 0, &f->early_stopping.patience);
    } else if (!strcmp(o, "--seed")) {
        if (parse_u64(v, &f->seed))
            return arg_error(m, "--seed: expected a non-negative integer, "
                             "got '%s'", v);
    } else if (!strcmp(o, "--validation-split")) {
        a->have_split = 1;
        if (parse_fraction(v, &f->validation_split))
            return arg_error(m, "--validation-split: expected a number in "
                             "[0, 1), got '%s'", v);
    } else if (!strcmp(o, "--delimiter")) {
        a->csv_options = 1;
        if (parse_delimiter(v, &a->delimiter))
            return arg_error(m, "--delimiter: expected one character (or "
                             "'tab'), got '%s'", v);
    }
    return 0;
}

static const opt_spec *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof OPTIONS / sizeof *OPTIONS; i++)
        if (strlen(OPTIONS[i].name) == len &&
            !strncmp(OPTIONS[i].name, name, len))
            return &OPTIONS[i];
    return NULL;
}

static const char *command_name(int cmd)
{
    return cmd == CMD_TRAIN ? "train" : cmd == CMD_EVALUATE ? "evaluate"
                                                            : "predict";
}

/* Handles argv[*i], an option; may consume the next argument. */
static int parse_option(const seqrt_model *m, cli_args *a, int argc,
                        char **argv, int *i)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const opt_spec *o = find_option(arg, len);
    if (!o)
        return arg_error(m, "unknown option '%.*s'", (int)len, arg);
    if (!(o->cmds & a->cmd))
        return arg_error(m, "option %s does not apply to '%s'", o->name,
                         command_name(a->cmd));
    const char *v = NULL;
    if (o->has_value) {
        if (eq)
            v = eq + 1;
        else if (*i + 1 < argc)
            v = argv[++*i];
        else
            return arg_error(m, "option %s needs a value", o->name);
    } else if (eq) {
        return arg_error(m, "option %s takes no value", o->name);
    }
    return apply_option(m, a, o->name, v);
}

static int parse_command(const seqrt_model *m, const char *s, int *cmd)
{
    if (!strcmp(s, "train")) *cmd = CMD_TRAIN;
    else if (!strcmp(s, "evaluate")) *cmd = CMD_EVALUATE;
    else if (!strcmp(s, "predict")) *cmd = CMD_PREDICT;
    else
        return arg_error(m, "unknown command '%s' (expected train, evaluate "
                         "or predict)", s);
    return 0;
}

static int parse_args(const seqrt_model *m, int argc, char **argv,
                      cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->fit = m->fit;
    if (parse_command(m, argv[1], &a->cmd))
        return 2;
    /* train and evaluate take one more positional for the targets of a
     * binary data file (checked when the file is opened) */
    int want = a->cmd == CMD_TRAIN ? 1 : 2, options = 1;
    int most = want + (a->cmd != CMD_PREDICT);
    for (int i = 2; i < argc; i++) {
        if (options && !strcmp(argv[i], "--")) {
            options = 0;
        } else if (options && argv[i][0] == '-' && argv[i][1]) {
            if (parse_option(m, a, argc, argv, &i))
                return 2;
        } else if (a->npos < most) {
            a->pos[a->npos++] = argv[i];
        } else {
            return arg_error(m, "unexpected argument '%s'", argv[i]);
        }
    }
    if (a->npos < want)
        return arg_error(m, "%s needs %s", command_name(a->cmd),
                         want == 1 ? "DATA.csv (or X and Y)"
                                   : a->cmd == CMD_PREDICT
                                         ? "CKPT and DATA.csv (or X)"
                                         : "CKPT and DATA.csv (or X and Y)");
    if (a->val && a->have_split)
        return arg_error(m, "--val and --validation-split exclude each "
                         "other");
    if (a->val_labels && !a->val)
        return arg_error(m, "--val-labels needs --val (the features of the "
                         "validation data)");
    if (a->fit.batch_size < 1 || a->fit.batch_size > m->max_batch)
        return arg_error(m, "batch size %d is out of range 1..%d",
                         a->fit.batch_size, m->max_batch);
    return 0;
}

/* ---------------------------------------------------------------- shared */

/* "name: value" in Keras's format (see print_value in fit.c). */
static void print_scores(const seqrt_model *m, const char *prefix,
                         double loss, const double *metrics)
{
    seqrt_print_value(stdout, "", prefix, "loss", loss);
    for (int i = 0; i < m->nmetrics; i++)
        seqrt_print_value(stdout, " - ", prefix,
                          seqrt_model_metric_name(m, i), metrics[i]);
    putchar('\n');
}

/* The CSV options of the command line. */
static seqrt_csv_options csv_options(const cli_args *a)
{
    seqrt_csv_options o;
    memset(&o, 0, sizeof o);
    o.header = a->header;
    o.target = a->target;
    o.delimiter = a->delimiter;
    return o;
}

/* Says what a load read, on stderr:
 *   train.csv: 569 rows after the header on line 1 (a, b, ...); target
 *   "y", column 31 of 31
 * (features: the target is "left out", or there is "no target column"). */
static void print_data_read(const char *path, const seqrt_csv_info *i,
                            int features)
{
    fprintf(stderr, "%s: %ld row%s", path, i->rows, i->rows == 1 ? "" : "s");
    if (i->header)
        fprintf(stderr, " after the header on line 1 (%s)", i->header_text);
    else
        fprintf(stderr, ", no header (line 1 is data; columns named 0 to "
                "%d)", i->columns - 1);
    if (i->target_column < 0)
        fprintf(stderr, "; no target column\n");
    else
        fprintf(stderr, "; target %s%s%s, column %d of %d%s\n",
                i->header ? "\"" : "", i->target_name, i->header ? "\"" : "",
                i->target_column + 1, i->columns,
                features ? ", left out" : "");
}

/* Says what a binary load read, on stderr:
 *   X.npy: 60000 samples of shape (28, 28), uint8 (npy, gzip) */
static void print_array_read(const char *path, const seqrt_array_info *i,
                             int targets)
{
    fprintf(stderr, "%s: %ld %s", path, i->shape[0],
            targets ? "targets" : "samples");
    if (i->ndim > 1) {
        fprintf(stderr, " of shape (");
        for (int d = 1; d < i->ndim; d++)
            fprintf(stderr, "%s%ld", d > 1 ? ", " : "", i->shape[d]);
        fprintf(stderr, "%s)", i->ndim == 2 ? "," : "");
    }
    fprintf(stderr, ", %s (%s%s)\n", i->dtype, i->format,
            i->gzip ? ", gzip" : "");
}

/* A model whose first layer is an Embedding reads integer ids: every
 * feature value must be one in [0, m->input_ids), or the command stops
 * with the file and the position of the first that is not. */
static int check_ids(const seqrt_model *m, const seqrt_data *d, const char *path, int binary)
{
    if (m->input_ids <= 0)
        return 0;
    for (long r = 0; r < d->rows; r++)
        for (int c = 0; c < m->in; c++) {
            float v = d->x[r * m->in + c];
            if (seqrt_embedding_id(v, m->input_ids) >= 0)
                continue;
            if (binary)
                return seqrt_fail("%s: element [%ld, %d] (sample %ld, position %d) is %.9g, not an id of the "
                                  "Embedding layer: an integer in [0, %d)", path, r, c, r, c, (double)v,
                                  m->input_ids);
            return seqrt_fail("%s: data row %ld, feature column %d is %.9g, not an id of the Embedding layer: "
                              "an integer in [0, %d)", path, r + 1, c + 1, (double)v, m->input_ids);
        }
    return 0;
}

/* Loads the data of a command: DATA.csv (features and target), or the
 * binary X and Y (Y NULL: features only; features = 1: predict). Prints
 * what it read if `say`. */
static int load_data(const cli_args *a, const seqrt_model *m, const char *path,
                     const char *ypath, int features, int say, seqrt_data *d)
{
    int binary = seqrt_data_is_binary(path);
    memset(d, 0, sizeof *d);
    if (binary < 0)
        return -1;
    if (!binary) {
        if (ypath)
            return seqrt_fail("%s is a CSV file, which holds its targets: "
                              "'%s' is one file too many", path, ypath);
        seqrt_csv_options o = csv_options(a);
        seqrt_csv_info info;
        if (features ? seqrt_csv_load_features(d, path, m, &o, &info)
                     : seqrt_csv_load(d, path, m, &o, &info))
            return -1;
        if (check_ids(m, d, path, 0)) {
            seqrt_data_free(d);
            return -1;
        }
        if (say)
            print_data_read(path, &info, features);
        return 0;
    }
    if (a->csv_options)
        return seqrt_fail("%s is a binary data file: --target, --delimiter, "
                          "--header and --no-header apply to CSV files",
                          path);
    if (!features && !ypath)
        return seqrt_fail("%s is a binary data file without targets: give "
                          "the file of its targets after it (%s %s X Y)",
                          path, m->name, a->cmd == CMD_TRAIN ? "train"
                                                              : "evaluate "
                                                                "CKPT");
    seqrt_array_info xi, yi;
    if (features ? seqrt_array_load_features(d, path, m, &xi)
                 : seqrt_array_load(d, path, ypath, m, &xi, &yi))
        return -1;
    if (check_ids(m, d, path, 1)) {
        seqrt_data_free(d);
        return -1;
    }
    if (say) {
        print_array_read(path, &xi, 0);
        if (!features)
            print_array_read(ypath, &yi, 1);
    }
    return 0;
}

/* A fresh state with checkpoint `path` loaded, or NULL. */
static void *load_net(const seqrt_model *m, const char *path, uint64_t seed)
{
    void *net = calloc(1, m->state_bytes);
    if (!net) {
        seqrt_fail("out of memory for the model state");
        return NULL;
    }
    m->init(net, seed);
    if (path && seqrt_model_load(m, net, path)) {
        free(net);
        return NULL;
    }
    return net;
}

/* ---------------------------------------------------------------- train */

typedef struct {
    seqrt_data all, valfile, train, val;
    seqrt_history hist;
    seqrt_history prev;      /* --resume: the history before the checkpoint */
    void *net;
} train_run;

/* --resume with a --history that exists: its epochs up to the checkpoint's. */
static int read_prev_history(const seqrt_model *m, const cli_args *a, train_run *t)
{
    if (!a->resume || !a->history)
        return 0;
    FILE *f = fopen(a->history, "r");
    if (!f)
        return 0;   /* nothing to continue */
    fclose(f);
    int64_t done = *(int64_t *)((char *)t->net + m->epoch_offset);
    return seqrt_history_read_csv(m, a->history, (int)done, &t->prev);
}

/* hist = prev followed by hist. */
static int join_history(train_run *t)
{
    if (!t->prev.nepochs)
        return 0;
    int n = t->prev.nepochs + t->hist.nepochs;
    seqrt_epoch_log *all = calloc((size_t)n, sizeof *all);
    if (!all)
        return seqrt_fail("out of memory for the history");
    memcpy(all, t->prev.epochs, sizeof *all * (size_t)t->prev.nepochs);
    if (t->hist.nepochs)
        memcpy(all + t->prev.nepochs, t->hist.epochs, sizeof *all * (size_t)t->hist.nepochs);
    free(t->hist.epochs);
    t->hist.epochs = all;
    t->hist.nepochs = n;
    seqrt_history_free(&t->prev);
    return 0;
}

static int train_data(const seqrt_model *m, const cli_args *a, train_run *t)
{
    int say = a->fit.verbose > 0 && !quiet();
    if (load_data(a, m, a->pos[0], a->pos[1], 0, say, &t->all))
        return -1;
    if (a->val) {
        if (load_data(a, m, a->val, a->val_labels, 0, say, &t->valfile))
            return -1;
        t->train = t->all;
        t->val = t->valfile;
    } else {
        seqrt_data_split(&t->all, a->fit.validation_split, &t->train,
                         &t->val);
    }
    if (t->train.rows <= 0)
        return seqrt_fail("%s: no training rows left after "
                          "validation_split %g", a->pos[0],
                          (double)a->fit.validation_split);
    if (say && t->val.rows > 0)
        fprintf(stderr, "Train on %ld samples, validate on %ld samples\n",
                t->train.rows, t->val.rows);
    else if (say)
        fprintf(stderr, "Train on %ld samples, no validation\n",
                t->train.rows);
    return 0;
}

static int write_outputs(const seqrt_model *m, const cli_args *a,
                         train_run *t, const char *out)
{
    if (join_history(t))
        return -1;
    if (seqrt_model_save(m, t->net, out))
        return -1;
    if (a->fit.verbose > 0)
        fprintf(stderr, "saved %s\n", out);
    if (a->history && seqrt_history_write_csv(m, &t->hist, a->history))
        return -1;
    if (a->plot && seqrt_history_write_svg(m, &t->hist, a->plot))
        return -1;
    return 0;
}

/* Rank 0 writes; a failure is every rank's. */
static int train_outputs(const seqrt_model *m, const cli_args *a,
                         train_run *t, const char *out)
{
    return seqrt_dist_agree(quiet() ? 0 : write_outputs(m, a, t, out));
}

static int train_held_out(const seqrt_model *m, train_run *t)
{
    double loss, metrics[SEQRT_MAX_METRICS];
    int val = t->val.rows > 0;
    if (seqrt_evaluate(m, t->net, val ? &t->val : &t->train, &loss, metrics))
        return -1;
    print_scores(m, val ? "val_" : "", loss, metrics);
    return 0;
}

static int train_fit(const seqrt_model *m, const cli_args *a, train_run *t)
{
    int64_t done = *(int64_t *)((char *)t->net + m->epoch_offset);
    int ranks = seqrt_dist_size();
    if (quiet())
        ;
    else if (a->resume && a->fit.verbose > 0)
        fprintf(stderr, "resuming from %s after epoch %lld\n", a->resume,
                (long long)done);
    if (ranks > 1 && a->fit.verbose > 0 && !quiet())
        fprintf(stderr, "Data-parallel on %d ranks: batch %d per rank, "
                "global batch %ld\n", ranks, a->fit.batch_size,
                (long)ranks * a->fit.batch_size);
    if (done >= a->fit.epochs && !quiet())
        fprintf(stderr, "%s: the model has already been trained for %lld "
                "epochs (--epochs %d); nothing to do\n", m->name,
                (long long)done, a->fit.epochs);
    return seqrt_fit(m, t->net, &t->train, t->val.rows > 0 ? &t->val : NULL,
                     &a->fit, &t->hist);
}

static int cmd_train(const seqrt_model *m, const cli_args *a)
{
    train_run t;
    char defout[512];
    memset(&t, 0, sizeof t);
    snprintf(defout, sizeof defout, "%s.safetensors", m->name);
    const char *out = a->out ? a->out : defout;
    int status = 1;
    int bad = train_data(m, a, &t) ||
              !(t.net = load_net(m, a->resume, a->fit.seed)) ||
              (!a->resume && seqrt_adapt(m, t.net, &t.train)) ||
              read_prev_history(m, a, &t);
    if (seqrt_dist_agree(bad ? -1 : 0)) {
        status = run_error(m);
    } else if (train_fit(m, a, &t)) {
        status = run_error(m);
        if (t.hist.stopped_nan && train_outputs(m, a, &t, out) == 0 &&
            !quiet())
            fprintf(stderr, "%s: the weights of the last good epoch were "
                    "saved to %s\n", m->name, out);
    } else if (train_outputs(m, a, &t, out) ||
               (!quiet() && train_held_out(m, &t))) {
        status = run_error(m);
    } else {
        status = 0;
    }
    seqrt_history_free(&t.hist);
    seqrt_history_free(&t.prev);
    free(t.net);
    seqrt_data_free(&t.all);
    seqrt_data_free(&t.valfile);
    return status;
}

/* ---------------------------------------------------------------- evaluate, predict */

static int cmd_evaluate(const seqrt_model *m, const cli_args *a)
{
    seqrt_data d;
    double loss, metrics[SEQRT_MAX_METRICS];
    void *net = load_net(m, a->pos[0], m->fit.seed);
    if (!net)
        return run_error(m);
    int rc = load_data(a, m, a->pos[1], a->pos[2], 0, 1, &d) ||
             seqrt_evaluate(m, net, &d, &loss, metrics);
    if (!rc) {
        fprintf(stderr, "Evaluate on %ld samples\n", d.rows);
        print_scores(m, "", loss, metrics);
    }
    else
        run_error(m);
    seqrt_data_free(&d);
    free(net);
    return rc ? 1 : 0;
}

static void write_predictions(FILE *f, const seqrt_model *m, const float *y,
                              long rows, int classes)
{
    /* Binary cross-entropy outputs are independent probabilities (or
     * logits, cut at 0): one 0/1 label per output; otherwise the argmax. */
    int binary = m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY || m->out == 1;
    float cut = m->output_is_logits ? 0.0f : 0.5f;
    if (classes && binary && m->out > 1)
        for (int j = 0; j < m->out; j++)
            fprintf(f, "class_%d%c", j, j + 1 < m->out ? ',' : '\n');
    else if (classes)
        fputs("class\n", f);
    else if (m->out == 1)
        fputs("output\n", f);
    else
        for (int j = 0; j < m->out; j++)
            fprintf(f, "output_%d%c", j, j + 1 < m->out ? ',' : '\n');
    for (long r = 0; r < rows; r++) {
        const float *row = y + (size_t)r * (size_t)m->out;
        if (classes && binary)
            for (int j = 0; j < m->out; j++)
                fprintf(f, "%d%c", row[j] > cut, j + 1 < m->out ? ',' : '\n');
        else if (classes)
            fprintf(f, "%d\n", seqrt_argmax(row, m->out));
        else
            for (int j = 0; j < m->out; j++)
                fprintf(f, "%.9g%c", row[j], j + 1 < m->out ? ',' : '\n');
    }
}

static int is_npy_path(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".npy");
}

/* --output OUT.npy: the outputs as float32, shape (rows, *output shape),
 * or with --classes the classes as int64: (rows,) of argmax indices, or
 * (rows, outputs) of 0/1 labels for binary cross-entropy with several
 * outputs (the same rule as the CSV output). */
static int write_npy_predictions(const seqrt_model *m, const cli_args *a,
                                 const float *y, long rows)
{
    long shape[SEQRT_MAX_RANK + 1];
    shape[0] = rows;
    if (!a->classes) {
        int rank = m->out_rank > 0 ? m->out_rank : 1;
        for (int d = 0; d < rank; d++)
            shape[1 + d] = m->out_rank > 0 ? m->out_shape[d] : m->out;
        return seqrt_npy_write(a->output, "<f4", y, 1 + rank, shape);
    }
    int binary = m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY || m->out == 1;
    int per = binary && m->out > 1 ? m->out : 1;
    float cut = m->output_is_logits ? 0.0f : 0.5f;
    long long *c = malloc(sizeof *c * (size_t)(rows > 0 ? rows : 1) * (size_t)per);
    if (!c)
        return seqrt_fail("out of memory for %ld classes", rows);
    for (long r = 0; r < rows; r++) {
        const float *row = y + (size_t)r * (size_t)m->out;
        for (int j = 0; j < per; j++)
            c[r * per + j] = binary ? row[j] > cut : seqrt_argmax(row, m->out);
    }
    shape[1] = per;
    int rc = seqrt_npy_write(a->output, "<i8", c, per > 1 ? 2 : 1, shape);
    free(c);
    return rc;
}

static int emit_predictions(const seqrt_model *m, const cli_args *a,
                            const float *y, long rows)
{
    if (!a->output) {
        errno = 0;
        write_predictions(stdout, m, y, rows, a->classes);
        return fflush(stdout) || ferror(stdout)
                   ? seqrt_fail("stdout: cannot write the predictions: %s",
                                strerror(errno ? errno : EIO))
                   : 0;
    }
    if (is_npy_path(a->output))
        return write_npy_predictions(m, a, y, rows);
    seqrt_atomic_file f;
    if (seqrt_atomic_open(&f, a->output))
        return -1;
    write_predictions(f.f, m, y, rows, a->classes);
    return seqrt_atomic_commit(&f);
}

static int cmd_predict(const seqrt_model *m, const cli_args *a)
{
    seqrt_data d;
    float *y = NULL;
    memset(&d, 0, sizeof d);
    void *net = load_net(m, a->pos[0], m->fit.seed);
    int rc = !net;
    if (!rc)
        rc = load_data(a, m, a->pos[1], NULL, 1, 1, &d);
    if (!rc && !(y = malloc((size_t)d.rows * (size_t)m->out * sizeof *y)))
        rc = seqrt_fail("out of memory for %ld predictions", d.rows);
    if (!rc)
        rc = seqrt_predict(m, net, d.x, d.rows, y) ||
             emit_predictions(m, a, y, d.rows);
    if (!rc && a->output && is_npy_path(a->output))
        fprintf(stderr, "Predicted %ld samples: wrote %ld row%s, in input "
                "order, to %s\n", d.rows, d.rows, d.rows == 1 ? "" : "s",
                a->output);
    else if (!rc)
        fprintf(stderr, "Predicted %ld samples: wrote a header line and %ld "
                "row%s, in input order, to %s\n", d.rows, d.rows,
                d.rows == 1 ? "" : "s", a->output ? a->output : "stdout");
    if (rc)
        run_error(m);
    free(y);
    seqrt_data_free(&d);
    free(net);
    return rc ? 1 : 0;
}

/* ---------------------------------------------------------------- main */

static int run_main(const seqrt_model *m, int argc, char **argv)
{
    cli_args a;
    if (argc < 2)
        return arg_error(m, "missing command");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (!quiet())
            print_help(m);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        if (!quiet())
            printf("%s (seqc runtime %s)\n", m->name, SEQRT_VERSION);
        return 0;
    }
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (!quiet())
                print_help(m);
            return 0;
        }
    if (parse_args(m, argc, argv, &a))
        return 2;
    if (a.cmd == CMD_TRAIN)
        return cmd_train(m, &a);
    /* evaluate and predict: rank 0's work, rank 0's status */
    int status = 0;
    if (!quiet())
        status = a.cmd == CMD_EVALUATE ? cmd_evaluate(m, &a)
                                       : cmd_predict(m, &a);
    return seqrt_dist_bcast_status(status);
}

int seqrt_main(const seqrt_model *m, int argc, char **argv)
{
    if (seqrt_dist_start(m->name, &argc, &argv)) {
        fprintf(stderr, "%s: error: %s\n", m->name, seqrt_error());
        return 1;
    }
    return seqrt_dist_finish(run_main(m, argc, argv));
}
