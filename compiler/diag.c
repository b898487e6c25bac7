/*
 * diag.c - source files, locations and diagnostics.
 *
 * Locations are byte offsets; a Source keeps the offset of every line start
 * so that an offset becomes line:column (both 1-based, column in bytes) by
 * a binary search, only when a message is printed. Messages follow GNU
 * style, as gcc prints them:
 *
 *     model.nn:3:9: error: unknown layer 'Dens'; did you mean 'Dense'?
 *         3 |   Dens(64)
 *           |   ^~~~
 *
 * Tabs and bytes that are not printable ASCII are shown as spaces and '?'
 * so that the caret stays under the token.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "seqc.h"

static int nerrors;
static FILE *stream;

void diag_set_stream(FILE *f) { stream = f; }
int diag_error_count(void) { return nerrors; }
void diag_reset(void) { nerrors = 0; }

static FILE *out(void) { return stream ? stream : stderr; }

Source *diag_source_from_text(const char *path, const char *text, int len)
{
    Source *s = arena_alloc(sizeof *s);
    s->path = path;
    s->text = text;
    s->len = len;
    int n = 1;
    for (int i = 0; i < len; i++)
        n += text[i] == '\n';
    s->line_start = arena_alloc(sizeof(int) * (size_t)n);
    s->line_start[0] = 0;
    s->nlines = 1;
    for (int i = 0; i < len; i++)
        if (text[i] == '\n')
            s->line_start[s->nlines++] = i + 1;
    return s;
}

/* Model files are small; anything past this is not a model file. */
#define MAX_SOURCE_BYTES (64L << 20)

Source *diag_open_source(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_fatal("cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        diag_fatal("'%s' is a directory, not a model file", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            diag_fatal("out of memory reading '%s'", path);
            return NULL;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (len > (size_t)MAX_SOURCE_BYTES) {
            free(buf);
            fclose(f);
            diag_fatal("'%s' is larger than %ld MiB; not a model file", path,
                       MAX_SOURCE_BYTES >> 20);
            return NULL;
        }
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        diag_fatal("cannot read '%s': %s", path, strerror(e));
        return NULL;
    }
    fclose(f);
    char *text = arena_strndup(buf, len);
    free(buf);
    return diag_source_from_text(path, text, (int)len);
}

int diag_line_of(const Source *s, int off)
{
    int lo = 0, hi = s->nlines - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (s->line_start[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static void show_line(const Source *s, Loc loc)
{
    int line = diag_line_of(s, loc.start);
    int b = s->line_start[line];
    /* A long line is shown as a window of 160 bytes around the location
     * ("..." marks a cut end), so that many errors on one huge line stay
     * cheap: nothing here reads more of the line than it prints. */
    int cut_b = loc.start - 60 > b;
    if (cut_b)
        b = loc.start - 60;
    int e = b;
    while (e < s->len && s->text[e] != '\n' && e - b < 160)
        e++;
    int cut_e = e < s->len && s->text[e] != '\n' &&
                !(s->text[e] == '\r' && (e + 1 == s->len || s->text[e + 1] == '\n'));
    if (e > b && s->text[e - 1] == '\r')
        e--;
    FILE *f = out();
    fprintf(f, "%5d | %s", line + 1, cut_b ? "..." : "");
    for (int i = b; i < e; i++) {
        unsigned char c = (unsigned char)s->text[i];
        fputc(c == '\t' ? ' ' : (c >= 0x20 && c < 0x7f) ? c : '?', f);
    }
    fprintf(f, "%s\n      | %s", cut_e ? "..." : "", cut_b ? "   " : "");
    for (int i = b; i < loc.start && i < e; i++)
        fputc(' ', f);
    fputc('^', f);
    int end = loc.end < e ? loc.end : e;
    for (int i = loc.start + 1; i < end; i++)
        fputc('~', f);
    fputc('\n', f);
}

static void report(const Source *s, Loc loc, const char *kind, const char *fmt, va_list ap)
{
    FILE *f = out();
    if (loc.start > s->len)
        loc.start = s->len;
    if (loc.end < loc.start)
        loc.end = loc.start;
    int line = diag_line_of(s, loc.start);
    int col = loc.start - s->line_start[line] + 1;
    fprintf(f, "%s:%d:%d: %s: ", s->path, line + 1, col, kind);
    /* The message quotes user text (a string's decoded escapes): control
     * bytes are printed escaped so that a message stays one line. */
    char *msg = arena_vprintf(fmt, ap);
    for (const char *p = msg; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('\n', f);
    show_line(s, loc);
}

void diag_error(const Source *s, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(s, loc, "error", fmt, ap);
    va_end(ap);
    nerrors++;
}

void diag_warning(const Source *s, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(s, loc, "warning", fmt, ap);
    va_end(ap);
}

void diag_note(const Source *s, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(s, loc, "note", fmt, ap);
    va_end(ap);
}

void diag_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(out(), "seqc: error: ");
    vfprintf(out(), fmt, ap);
    fputc('\n', out());
    va_end(ap);
    nerrors++;
}

/* Damerau-free Levenshtein distance, case-insensitive, capped for long
 * strings (names longer than 64 bytes get no suggestion). */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 64 || lb > 64)
        return 1 << 20;
    int d[65][65];
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
            int v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *diag_suggest(const char *s, const char *const *names, int n)
{
    const char *best = NULL;
    int bestd = 1 << 20;
    for (int i = 0; i < n; i++) {
        int dd = distance(s, names[i]);
        if (dd < bestd) {
            bestd = dd;
            best = names[i];
        }
    }
    int len = (int)strlen(s);
    int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    return bestd <= limit ? best : NULL;
}
