/*
 * fuzz_front.c - the model-file front end: scanner, parser, lowering, every
 * pass with ir_verify after it, and C emission into memory.
 *
 * Properties checked beyond "no crash, no leak, no sanitizer report":
 *   - every diagnostic line "...: error: ..." / "warning" / "note" has the
 *     form "fuzz.nn:LINE:COL: " with LINE and COL in range for the input
 *     (or is a "seqc: error:" line not tied to a place);
 *   - an input with errors produces at least one error message, and an
 *     input without errors produces no error message;
 *   - ir_verify accepts the IR after lowering and after every pass (an
 *     internal error is a bug);
 *   - emitting an accepted model twice gives byte-identical .h and .c,
 *     and, from the IR as lowered, byte-identical NAME.py (--emit=pytorch).
 * The diagnostics go to an in-memory stream; the arena and the error count
 * are reset for every input.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

#define FAIL(...) (fprintf(stderr, "fuzz_front: " __VA_ARGS__), fputc('\n', stderr), abort())

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* The source line and caret lines under a message: blanks, a line number
 * (%5d) or nothing, then " | ". */
static int is_excerpt(const char *line)
{
    const char *p = line;
    while (*p == ' ')
        p++;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > line && p[-1] == ' ' ? !strncmp(p, "| ", 2) : !strncmp(p, " | ", 3);
}

/* Checks one diagnostic line; msg is NUL-terminated, without '\n'. */
static void check_line(const char *line, const Source *src)
{
    static const char *const kinds[] = {": error: ", ": warning: ", ": note: "};
    const char *prefix = "fuzz.nn:";
    if (!strncmp(line, "seqc: error: ", 13))
        return;
    if (is_excerpt(line))
        return;
    if (strncmp(line, prefix, strlen(prefix)))
        FAIL("diagnostic line without a file:line:col prefix: '%.200s'", line);
    const char *p = line + strlen(prefix);
    char *end;
    long ln = strtol(p, &end, 10);
    if (end == p || *end != ':' || ln < 1 || ln > src->nlines)
        FAIL("bad line number in '%.200s' (%d lines)", line, src->nlines);
    p = end + 1;
    long col = strtol(p, &end, 10);
    if (end == p || col < 1)
        FAIL("bad column in '%.200s'", line);
    int ok = 0;
    for (int k = 0; k < 3; k++)
        ok |= !strncmp(end, kinds[k], strlen(kinds[k]));
    if (!ok)
        FAIL("no ': error: / warning: / note: ' after file:line:col in '%.200s'", line);
    /* the column lies within the line (one past its end for EOF) */
    long start = src->line_start[ln - 1];
    long stop = ln < src->nlines ? src->line_start[ln] : src->len + 1;
    if (start + col - 1 > stop)
        FAIL("column %ld past the end of line %ld in '%.200s'", col, ln, line);
}

static void check_diagnostics(char *text, size_t len, const Source *src, int errors)
{
    int nerr = 0;
    for (size_t b = 0; b < len;) {
        char *nl = memchr(text + b, '\n', len - b);
        size_t e = nl ? (size_t)(nl - text) : len;
        text[e] = 0;
        check_line(text + b, src);
        if (strstr(text + b, ": error: ") && !is_excerpt(text + b))
            nerr++;
        b = e + 1;
    }
    if (errors && !nerr)
        FAIL("%d errors counted but no error message printed", errors);
    if (!errors && nerr)
        FAIL("an error message was printed but the error count is 0");
}

static void emit_twice(const Model *m)
{
    Buf h1 = {0}, c1 = {0}, h2 = {0}, c2 = {0};
    emit_model_buffers(m, &h1, &c1);
    emit_model_buffers(m, &h2, &c2);
    if (h1.len != h2.len || c1.len != c2.len ||
        (h1.len && memcmp(h1.data, h2.data, h1.len)) ||
        (c1.len && memcmp(c1.data, c2.data, c1.len)))
        FAIL("two emissions of model '%s' differ", m->name);
    free(h1.data);
    free(c1.data);
    free(h2.data);
    free(c2.data);
}

static void emit_pytorch_twice(const Model *m)
{
    Buf a = {0}, b = {0};
    emit_pytorch_buffer(m, &a);
    emit_pytorch_buffer(m, &b);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
        FAIL("two PyTorch emissions of model '%s' differ", m->name);
    free(a.data);
    free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *dbuf = NULL;
    size_t dlen = 0;
    FILE *diag = open_memstream(&dbuf, &dlen);
    if (!diag)
        abort();
    diag_set_stream(diag);
    diag_reset();
    char *text = arena_strndup((const char *)data, size);
    const Source *src = diag_source_from_text("fuzz.nn", text, (int)size);
    ModelAst *ast = parse_source(src);
    Program *prog = lower_program(src, ast);
    int errors = diag_error_count();
    if (!errors) {
        for (int i = 0; i < prog->n; i++) {
            Model *m = prog->model[i];
            if (ir_verify(m, "lower") < 0)
                FAIL("ir_verify failed after lowering");
            emit_pytorch_twice(m);
            for (int k = 0; k < npasses; k++) {
                passes[k].fn(m, 2);
                if (ir_verify(m, passes[k].name) < 0)
                    FAIL("ir_verify failed after %s", passes[k].name);
            }
            emit_twice(m);
        }
        errors = diag_error_count();
    }
    fflush(diag);
    check_diagnostics(dbuf, dlen, src, errors);
    diag_set_stream(NULL);
    fclose(diag);
    free(dbuf);
    arena_reset();
    return 0;
}
