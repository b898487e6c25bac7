/*
 * main.c - the seqc command line; the pipeline reads top to bottom:
 *
 *     source = diag_open_source(path)       read the model file
 *     ast    = parse_source(source)         tokens -> syntax tree
 *     prog   = lower_program(source, ast)   syntax tree -> checked IR
 *     passes[i].fn(model, level), ir_verify  optimize and plan, check after each pass
 *     emit_model(model, ...)                IR -> NAME.h, NAME.c [NAME_main.c]
 *
 * --emit=pytorch takes the IR as lowered (one layer per statement, no pass)
 * to emit_pytorch: NAME.py.
 *
 * Exit status: 0 on success, 1 when an input has errors (nothing is
 * written for any model then), 2 on a usage error.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "seqc.h"

static const char usage[] =
    "usage: seqc [options] FILE.nn...\n";

static const char help[] =
    "Compile Keras-style Sequential models to standalone C.\n"
    "\n"
    "For every `model NAME { ... }` in the input files, seqc writes NAME.h and\n"
    "NAME.c (forward, backward, train step, init, save/load) that link against\n"
    "the seqrt runtime.\n"
    "\n"
    "Options:\n"
    "  -o DIR              write generated files into DIR (default: .)\n"
    "  --emit=c            emit C (the default)\n"
    "  --emit=ir           print the optimized IR to standard output, write nothing\n"
    "  --emit=pytorch      write NAME.py: the model as a PyTorch nn.Sequential with\n"
    "                      Keras's defaults, loss and optimizer, and functions that\n"
    "                      load and save seqc checkpoints (needs only torch)\n"
    "  --main              also emit NAME_main.c: a train/evaluate/predict program\n"
    "  --inference         emit prediction-only C with the weights compiled in\n"
    "                      (needs --weights); it needs only libm\n"
    "  --weights FILE      safetensors checkpoint for --inference\n"
    "  --summary           print each model's Keras summary table (layers,\n"
    "                      output shapes, parameter counts) and write nothing;\n"
    "                      a model that calls summary() prints it when compiled\n"
    "  --input-shape=N[,N...]  the input shape of a model that gives none\n"
    "                      (Keras builds such a model from its first batch):\n"
    "                      --input-shape=11, --input-shape=28,28,1\n"
    "  -O0, -O1, -O2       optimization level (default -O2); -O0 runs no\n"
    "                      optimization pass, only the buffer plan\n"
    "  --dump-after=PASS   print the IR after PASS (or 'all' passes, or 'lower')\n"
    "                      to standard output\n"
    "  --version           print the version and exit\n"
    "  -h, --help          print this help and exit\n"
    "\n"
    "Passes, in order:";

static void print_help(void)
{
    fputs(usage, stdout);
    fputs(help, stdout);
    for (int i = 0; i < npasses; i++)
        printf(" %s (-O%d)", passes[i].name, passes[i].min_level);
    printf("\n\nExit status: 0 success, 1 errors in the input, 2 usage error.\n"
           "The language is described in docs/language.md (installed in\n"
           "share/doc/seqc) and the command in the manual page, seqc(1).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "seqc: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%sTry 'seqc --help' for more information.\n", usage);
    return 2;
}

typedef struct {
    const char **files;
    int nfiles;
    const char *outdir;
    const char *dump_after;
    const char *weights;
    int emit_ir, emit_pytorch, main_program, inference, opt_level, summary;
    Shape input_shape;     /* --input-shape, rank 0 when not given */
} Options;

/* "11" or "28,28,1" (a leading "None," is dropped, as in input_shape). */
static int parse_shape(const char *s, Shape *out)
{
    out->rank = 0;
    if (!strncmp(s, "None,", 5))
        s += 5;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 2147483647L || out->rank == MAX_RANK || (*end && *end != ','))
            return -1;
        out->dim[out->rank++] = (int)v;
        s = *end ? end + 1 : end;
        if (*end && !*s)
            return -1;
    }
    if (!out->rank)
        return -1;
    long long n = 1;
    for (int i = 0; i < out->rank; i++)
        n *= out->dim[i];
    return n > 2147483647LL ? -1 : 0;
}

/* The terminal's width as Python's shutil.get_terminal_size finds it:
 * $COLUMNS, else the terminal on standard output, else 80. */
static int terminal_columns(void)
{
    const char *env = getenv("COLUMNS");
    if (env && atoi(env) > 0)
        return atoi(env);
    struct winsize w;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0)
        return w.ws_col;
    return 80;
}

static int parse_args(int argc, char **argv, Options *o)
{
    o->files = arena_alloc(sizeof(char *) * (size_t)argc);
    o->outdir = ".";
    o->opt_level = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help();
            exit(0);
        } else if (!strcmp(a, "--version")) {
            printf("seqc %s (runtime %s, ABI %d.%d)\n", SEQC_VERSION, SEQRT_VERSION, SEQRT_ABI_VERSION,
                   SEQRT_ABI_REVISION);
            exit(0);
        } else if (!strcmp(a, "-o")) {
            if (++i == argc)
                return usage_error("%s needs a directory", a);
            o->outdir = argv[i];
        } else if (!strncmp(a, "-o", 2) && a[2] != 0 && a[2] != '-' && a[1] == 'o') {
            o->outdir = a + 2;
        } else if (!strcmp(a, "--emit=ir")) {
            o->emit_ir = 1, o->emit_pytorch = 0;
        } else if (!strcmp(a, "--emit=c")) {
            o->emit_ir = 0, o->emit_pytorch = 0;
        } else if (!strcmp(a, "--emit=pytorch")) {
            o->emit_ir = 0, o->emit_pytorch = 1;
        } else if (!strncmp(a, "--emit=", 7)) {
            return usage_error("unknown --emit kind '%s' (use c, ir or pytorch)", a + 7);
        } else if (!strcmp(a, "--main")) {
            o->main_program = 1;
        } else if (!strcmp(a, "--inference")) {
            o->inference = 1;
        } else if (!strcmp(a, "--weights")) {
            if (++i == argc)
                return usage_error("%s needs a checkpoint file", a);
            o->weights = argv[i];
        } else if (!strncmp(a, "--weights=", 10)) {
            o->weights = a + 10;
        } else if (!strcmp(a, "--summary")) {
            o->summary = 1;
        } else if (!strncmp(a, "--input-shape=", 14) || !strcmp(a, "--input-shape")) {
            const char *v = a[13] == '=' ? a + 14 : (++i < argc ? argv[i] : NULL);
            if (!v)
                return usage_error("%s needs a shape, e.g. --input-shape=28,28,1", a);
            if (parse_shape(v, &o->input_shape))
                return usage_error("--input-shape: '%s' is not a shape such as 11 or 28,28,1 (positive sizes, "
                                   "at most 8 axes)", v);
        } else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2")) {
            o->opt_level = a[2] - '0';
        } else if (!strncmp(a, "-O", 2)) {
            return usage_error("unknown optimization level '%s' (use -O0, -O1 or -O2)", a);
        } else if (!strncmp(a, "--dump-after=", 13)) {
            const char *p = a + 13;
            int ok = !strcmp(p, "all") || !strcmp(p, "lower");
            for (int k = 0; k < npasses; k++)
                ok |= !strcmp(p, passes[k].name);
            if (!ok)
                return usage_error("unknown pass '%s' for --dump-after (see seqc --help)", p);
            o->dump_after = p;
        } else if (!strcmp(a, "--")) {
            while (++i < argc)
                o->files[o->nfiles++] = argv[i];
        } else if (a[0] == '-' && a[1] != 0) {
            return usage_error("unknown option '%s'", a);
        } else {
            o->files[o->nfiles++] = a;
        }
    }
    if (o->nfiles == 0)
        return usage_error("%s", "no input files");
    if (o->inference && !o->weights)
        return usage_error("%s", "--inference needs --weights FILE.safetensors");
    if (o->weights && !o->inference)
        return usage_error("%s", "--weights is only used with --inference");
    if (o->inference && o->main_program)
        return usage_error("%s", "--main and --inference do not go together");
    if (o->emit_pytorch && (o->inference || o->main_program))
        return usage_error("%s", "--emit=pytorch writes NAME.py only: it does not go with --main or --inference");
    return 0;
}

static void dump(const Options *o, const Model *m, const char *after)
{
    if (o->dump_after && (!strcmp(o->dump_after, "all") || !strcmp(o->dump_after, after))) {
        printf("; IR of model '%s' after %s\n", m->name, after);
        ir_print(stdout, m);
    }
}

/* Runs the passes of the -O level over m, verifying after each. */
static int optimize(const Options *o, Model *m)
{
    dump(o, m, "lower");
    if (ir_verify(m, "lower") < 0)
        return -1;
    for (int i = 0; i < npasses; i++) {
        if (o->opt_level < passes[i].min_level)
            continue;
        passes[i].fn(m, o->opt_level);
        if (ir_verify(m, passes[i].name) < 0)
            return -1;
        dump(o, m, passes[i].name);
    }
    return 0;
}

int main(int argc, char **argv)
{
    Options o = {0};
    /* stderr is unbuffered: one write per line, not per character, for
     * the thousands of diagnostics a broken file can produce */
    setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;

    /* Front end for every file first: nothing is written unless every
     * input is free of errors. */
    Program **progs = arena_alloc(sizeof(Program *) * (size_t)o.nfiles);
    for (int f = 0; f < o.nfiles; f++) {
        const Source *src = diag_open_source(o.files[f]);
        if (!src)
            continue;
        ModelAst *ast = parse_source(src);
        progs[f] = lower_program_with(src, ast, &o.input_shape);
    }
    if (diag_error_count())
        return 1;
    for (int f = 0; f < o.nfiles; f++)
        for (int i = 0; i < progs[f]->n; i++)
            for (int g = 0; g <= f; g++)
                for (int j = 0; j < (g == f ? i : progs[g]->n); j++)
                    if (!strcmp(progs[f]->model[i]->name, progs[g]->model[j]->name)) {
                        const Model *m = progs[f]->model[i];
                        diag_error(m->src, m->loc, "model '%s' is also defined in %s", m->name,
                                   progs[g]->model[j]->src->path);
                    }
    if (diag_error_count())
        return 1;
    /* Keras's summary tables: every model's with --summary (and nothing
     * else), or those whose file calls summary() */
    for (int f = 0; f < o.nfiles; f++)
        for (int i = 0; i < progs[f]->n; i++) {
            const Model *m = progs[f]->model[i];
            if (o.summary || (m->summary && !o.emit_ir && !o.dump_after))
                summary_print(stdout, m, terminal_columns(), m->summary ? &m->summary_opts : NULL);
        }
    if (o.summary)
        return 0;
    if (o.nfiles > 0 && !o.emit_ir && !o.dump_after) {
        int total = 0;
        for (int f = 0; f < o.nfiles; f++)
            total += progs[f]->n;
        if (total == 0) {
            diag_fatal("no model in the input; a model file holds `model NAME { ... }` blocks");
            return 1;
        }
    }

    /* Errors that depend on the options, before anything is written. */
    for (int f = 0; f < o.nfiles; f++)
        for (int i = 0; i < progs[f]->n; i++)
            if (o.main_program && !progs[f]->model[i]->has_loss)
                diag_error(progs[f]->model[i]->src, progs[f]->model[i]->loc,
                           "--main needs a model with compile(loss=...)");
    if (diag_error_count())
        return 1;

    if (o.emit_pytorch) {
        /* The model as written: the IR before the passes. */
        for (int f = 0; f < o.nfiles; f++)
            for (int i = 0; i < progs[f]->n; i++) {
                dump(&o, progs[f]->model[i], "lower");
                if (ir_verify(progs[f]->model[i], "lower") < 0)
                    return 3;
                pytorch_check(progs[f]->model[i]);
            }
        if (diag_error_count())
            return 1;
        if (o.dump_after)
            return 0;
        if (make_dirs(o.outdir) < 0)
            return 1;
        EmitOptions eo = {o.outdir, 0, NULL};
        for (int f = 0; f < o.nfiles; f++)
            for (int i = 0; i < progs[f]->n; i++)
                if (emit_pytorch(progs[f]->model[i], &eo) < 0)
                    return 1;
        return 0;
    }

    for (int f = 0; f < o.nfiles; f++)
        for (int i = 0; i < progs[f]->n; i++)
            if (optimize(&o, progs[f]->model[i]) < 0)
                return 3;

    if (o.emit_ir) {
        for (int f = 0; f < o.nfiles; f++)
            for (int i = 0; i < progs[f]->n; i++)
                ir_print(stdout, progs[f]->model[i]);
        return 0;
    }
    if (o.dump_after)
        return 0;
    if (make_dirs(o.outdir) < 0)
        return 1;
    EmitOptions eo = {o.outdir, o.main_program, o.weights};
    for (int f = 0; f < o.nfiles; f++)
        for (int i = 0; i < progs[f]->n; i++) {
            const Model *m = progs[f]->model[i];
            if (o.inference ? emit_baked(m, &eo) < 0 : emit_model(m, &eo) < 0)
                return 1;
        }
    return 0;
}
