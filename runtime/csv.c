/*
 * csv.c - loading training and prediction data from CSV files.
 *
 * Design: the whole file is read into one buffer and walked twice, never
 * past its end, by one field scanner (next_field) that both passes share.
 * The first pass decides whether line 1 is a header, finds the target
 * column (by name, else the last column), checks the column count against
 * the model and counts the data rows; the second pass converts every field.
 *
 * The rule (docs/data.md): no row or value is dropped, merged or changed
 * without the user being told. Each input is either read as a pandas user
 * would expect or refused as "file:line:col: message", where col is the
 * 1-based byte column of the field (or of the offending byte). Read: LF,
 * CRLF and CR line endings, a last line without a line ending, blank lines
 * at the end, a UTF-8 byte-order mark, spaces around a field, fields in
 * double quotes ("1.5", with "" for a quote inside; a quoted field may hold
 * delimiters and line breaks, so a row may span lines). Refused: a blank
 * line followed by more data, a NUL byte, UTF-16 text, a short or long row,
 * an empty field, anything but a plain decimal number (no hex, no "nan",
 * no thousands separators, no decimal comma), a value that overflows a
 * 32-bit float, a bad class index, a --target name that two columns share.
 *
 * The header. seqrt_csv_options.header says whether line 1 names the
 * columns (SEQRT_CSV_HEADER_PRESENT) or is data (SEQRT_CSV_HEADER_ABSENT).
 * Left at SEQRT_CSV_HEADER_AUTO, line 1 is the header when at least one of
 * its fields is text (neither a number nor empty); a first line of numbers
 * only is refused with a message naming --header and --no-header, because
 * either guess can lose or invent a row silently (pandas takes it as the
 * header and drops a sample; a DataFrame without column names is written
 * by pandas' to_csv with the header "0,1,2,..."). Without a header the
 * columns are named 0, 1, ... as pandas' header=None labels them, so
 * --target 4 names the fifth column.
 *
 * Each field is copied into a NUL-terminated scratch buffer, checked
 * against a strict decimal grammar and only then converted with strtod and
 * rounded to float (as numpy's astype(float32) does); if the C library runs
 * in a locale whose decimal point is not '.', the copy is adjusted first,
 * so "1.5" always means 1.5.
 *
 * The model decides the target encoding: categorical_crossentropy expands a
 * class index into a one-hot row of m->out values, the sparse loss keeps the
 * index (an integer in [0, m->out)), binary_crossentropy takes a value in
 * [0, 1] and the regression losses take any finite value; all but the
 * categorical loss need m->out == 1 per target column, except the sparse
 * one, whose m->out is the number of classes.
 */
#include "seqrt_driver.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CSV_QUOTE_MAX 40   /* bytes of a bad field quoted in a message */

typedef struct {
    const char *path;
    const char *buf;       /* the file, not NUL-terminated */
    size_t len;
    char delim;
    char *scratch;         /* len + 1 bytes: one field, NUL-terminated */
} csv_file;

/* Where the scanner is: the next byte, its line and that line's start. */
typedef struct {
    size_t pos;
    long line;             /* 1-based */
    size_t line_start;
} csv_cursor;

/* One field: its unquoted text is in the scratch buffer. */
typedef struct {
    size_t len;            /* bytes of text in scratch */
    long line, col;        /* where the field starts; col 1-based bytes */
    long end_line, end_col;  /* the byte that ended it (delimiter or EOL) */
} csv_field;

/* The first pass's findings. */
typedef struct {
    int header;            /* line 1 is a header */
    int first_text;        /* line 1 has a field that is text */
    int ncols, tcol;       /* fields per row; target column or -1 */
    csv_cursor data;       /* where the data rows start */
    long rows;
} csv_layout;

/* ---------------------------------------------------------------- reading */

static int read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return seqrt_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int err = !b ? ENOMEM : (ferror(f) ? EIO : 0);
    fclose(f);
    if (err) {
        free(b);
        return seqrt_fail("%s: cannot read: %s", path, strerror(err));
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Copies at most CSV_QUOTE_MAX bytes of s, control bytes as '?'. */
static const char *quoted(const char *s, char out[CSV_QUOTE_MAX + 4])
{
    size_t i = 0;
    for (; s[i] && i < CSV_QUOTE_MAX; i++)
        out[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
    if (s[i])
        out[i++] = '.', out[i++] = '.', out[i++] = '.';
    out[i] = '\0';
    return out;
}

static int fail_at(const csv_file *c, long line, long col, const char *what,
                   const char *field)
{
    char q[CSV_QUOTE_MAX + 4];
    if (field)
        return seqrt_fail("%s:%ld:%ld: %s: \"%s\"", c->path, line, col, what,
                          quoted(field, q));
    return seqrt_fail("%s:%ld:%ld: %s", c->path, line, col, what);
}

/* ---------------------------------------------------------------- scanning */

/* A line ends at "\n", "\r\n" or a lone "\r" (old Mac files, which pandas
 * reads too), or at the end of the file. */
static int at_eol(const csv_file *c, size_t p)
{
    return p >= c->len || c->buf[p] == '\n' || c->buf[p] == '\r';
}

/* Space around a field: a blank or tab that is not the delimiter. */
static int is_pad(const csv_file *c, size_t p)
{
    return p < c->len && (c->buf[p] == ' ' || c->buf[p] == '\t') &&
           c->buf[p] != c->delim;
}

/* Moves cur past the line ending at cur->pos, onto the next line. */
static void skip_eol(const csv_file *c, csv_cursor *cur)
{
    size_t p = cur->pos;
    if (p < c->len && c->buf[p] == '\r')
        p++;
    if (p < c->len && c->buf[p] == '\n')
        p++;
    cur->pos = p;
    cur->line++;
    cur->line_start = p;
}

/* The 1-based column of byte p on cur's line. */
static long col_of(const csv_cursor *cur, size_t p)
{
    return (long)(p - cur->line_start) + 1;
}

enum { REC_END, REC_BLANK, REC_DATA };

/* At the start of a record: REC_END at the end of the file, REC_BLANK for
 * a line of padding only (consumed), else REC_DATA (nothing consumed). */
static int record_start(const csv_file *c, csv_cursor *cur)
{
    if (cur->pos >= c->len)
        return REC_END;
    size_t p = cur->pos;
    while (is_pad(c, p))
        p++;
    if (!at_eol(c, p))
        return REC_DATA;
    cur->pos = p;
    skip_eol(c, cur);
    return REC_BLANK;
}

/* Reads the field at cur into c->scratch and moves cur past it and the
 * delimiter after it, or past the line ending that ends the record.
 * Returns 1 if another field follows, 0 at the end of the record, -1 on a
 * malformed quote. */
static int next_field(csv_file *c, csv_cursor *cur, csv_field *f)
{
    const char *b = c->buf;
    size_t q = cur->pos;
    f->line = cur->line;
    f->col = col_of(cur, q);
    f->len = 0;
    while (is_pad(c, q))
        q++;
    if (q < c->len && b[q] == '"') {
        long qline = cur->line, qcol = col_of(cur, q);
        for (q++;; q++) {
            if (q >= c->len)
                return fail_at(c, qline, qcol, "unterminated quoted field "
                               "(no closing quote before the end of the "
                               "file)", NULL);
            if (b[q] == '"') {
                if (q + 1 < c->len && b[q + 1] == '"')
                    q++;
                else
                    break;
            } else if (b[q] == '\n' ||
                       (b[q] == '\r' && (q + 1 >= c->len || b[q + 1] != '\n'))) {
                cur->line++;
                cur->line_start = q + 1;
            }
            c->scratch[f->len++] = b[q];
        }
        for (q++; is_pad(c, q); q++)
            ;
        if (!at_eol(c, q) && b[q] != c->delim)
            return fail_at(c, cur->line, col_of(cur, q),
                           "unexpected character after a closing quote",
                           NULL);
    } else {
        for (q = cur->pos; !at_eol(c, q) && b[q] != c->delim; q++)
            c->scratch[f->len++] = b[q];
    }
    c->scratch[f->len] = '\0';
    f->end_line = cur->line;
    f->end_col = col_of(cur, q);
    cur->pos = q;
    if (!at_eol(c, q)) {        /* at a delimiter */
        cur->pos = q + 1;
        return 1;
    }
    skip_eol(c, cur);
    return 0;
}

/* Trims spaces and tabs around the field in scratch; returns its start. */
static char *trimmed(csv_file *c, csv_field *f)
{
    char *s = c->scratch;
    size_t n = f->len;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    s[n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Refuses bytes that no text CSV holds: a NUL (binary data, or UTF-16
 * text without a byte-order mark), and UTF-16 byte-order marks. A NUL in a
 * field would otherwise end its text early: "1\0" "2" would read as 1. */
static int check_bytes(const csv_file *c, size_t start)
{
    if (c->len >= 2 && ((unsigned char)c->buf[0] == 0xFF ||
                        (unsigned char)c->buf[0] == 0xFE) &&
        (unsigned char)c->buf[1] == ((unsigned char)c->buf[0] ^ 1))
        return seqrt_fail("%s:1:1: the file is UTF-16 text (byte-order mark "
                          "%02X %02X); save it as UTF-8", c->path,
                          (unsigned char)c->buf[0], (unsigned char)c->buf[1]);
    const char *nul = memchr(c->buf + start, '\0', c->len - start);
    if (!nul)
        return 0;
    csv_cursor cur = {start, 1, start};
    size_t at = (size_t)(nul - c->buf);
    while (cur.pos < at) {
        if (at_eol(c, cur.pos))
            skip_eol(c, &cur);
        else
            cur.pos++;
    }
    return seqrt_fail("%s:%ld:%ld: NUL byte in the file (binary data, or "
                      "UTF-16 text?)", c->path, cur.line, col_of(&cur, at));
}

/* ---------------------------------------------------------------- numbers */

/* Strict decimal grammar: [+-] digits [. digits] [(e|E) [+-] digits]. */
static int is_decimal(const char *s)
{
    int digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; isdigit((unsigned char)*s); s++)
        digits++;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            digits++;
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

static int is_nonfinite_word(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    char w[10];
    size_t i = 0;
    for (; s[i] && i < sizeof w - 1; i++)
        w[i] = (char)tolower((unsigned char)s[i]);
    w[i] = '\0';
    if (s[i])
        return 0;
    return !strcmp(w, "nan") || !strcmp(w, "inf") || !strcmp(w, "infinity");
}

/* Would s be a decimal without its group separators (',', '\'', '_', ' ')
 * or with a decimal comma? Then the message says why it is refused. */
static int is_grouped_number(const char *s)
{
    char t[64];
    size_t n = 0, seps = 0;
    for (; *s && n < sizeof t - 1; s++) {
        if (*s == ',' || *s == '\'' || *s == '_' || *s == ' ')
            seps++;
        else
            t[n++] = *s;
    }
    t[n] = '\0';
    return !*s && seps && is_decimal(t);
}

/* Is s (trimmed) a number, as far as telling a header from data goes?
 * Numbers that are refused as values (nan, 1,5) count too: a line 1 of
 * them is data with an error, not a header. */
static int is_numberlike(const char *s)
{
    return is_decimal(s) || is_nonfinite_word(s) || is_grouped_number(s);
}

/* strtod in any locale: '.' becomes the locale's decimal point first. */
static double decimal_value(char *s)
{
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
        char *d = strchr(s, '.');
        if (d)
            *d = dp[0];
    }
    return strtod(s, NULL);
}

/* Parses the field in scratch as a finite float. */
static int field_number(csv_file *c, csv_field *f, double *v)
{
    char *s = trimmed(c, f);
    if (!*s)
        return fail_at(c, f->line, f->col, "empty field (missing value)",
                       NULL);
    if (is_nonfinite_word(s))
        return fail_at(c, f->line, f->col,
                       "NaN and infinite values are not allowed", s);
    if (is_grouped_number(s))
        return fail_at(c, f->line, f->col, "not a number (the decimal "
                       "point is '.'; decimal commas and thousands "
                       "separators are not read)", s);
    if (!is_decimal(s))
        return fail_at(c, f->line, f->col, "not a number", s);
    char text[CSV_QUOTE_MAX + 4];
    quoted(s, text);
    double d = decimal_value(s);
    if (!isfinite(d) || !isfinite((float)d))
        return fail_at(c, f->line, f->col,
                       "value out of range for a 32-bit float", text);
    *v = d;
    return 0;
}

/* ---------------------------------------------------------------- targets */

static int class_index(csv_file *c, const csv_field *f, double v, int classes,
                       int *k)
{
    char msg[96];
    if (v != floor(v))
        return fail_at(c, f->line, f->col, "class index is not an integer",
                       c->scratch);
    if (v < 0 || v >= classes) {
        snprintf(msg, sizeof msg,
                 "class index out of range [0, %d) (the model has %d outputs)",
                 classes, classes);
        return fail_at(c, f->line, f->col, msg, c->scratch);
    }
    *k = (int)v;
    return 0;
}

/* Stores target value v of row r into d->y by the model's loss: a class
 * index for the sparse loss; a class index, one-hot encoded, when the model
 * has several outputs (one target column can only name a class then); the
 * value itself for one output (in [0, 1] for binary cross-entropy). */
static int store_target(csv_file *c, const csv_field *f, const seqrt_model *m,
                        seqrt_data *d, long r, double v)
{
    int k = 0;
    switch ((seqrt_loss_kind)m->loss) {
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        if (class_index(c, f, v, m->out, &k))
            return -1;
        d->y[r] = (float)k;
        return 0;
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
        if (m->out == 1 && (v < 0 || v > 1))
            return fail_at(c, f->line, f->col,
                           "binary_crossentropy target not in [0, 1]",
                           c->scratch);
        break;
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:   /* always a class index */
        if (class_index(c, f, v, m->out, &k))
            return -1;
        d->y[(size_t)r * (size_t)m->out + (size_t)k] = 1.0f;
        return 0;
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_HUBER:
    case SEQRT_LOSS_MAPE:
    case SEQRT_LOSS_MSLE:
    case SEQRT_LOSS_LOG_COSH:
    case SEQRT_LOSS_KL_DIVERGENCE:
    case SEQRT_LOSS_POISSON:
    case SEQRT_LOSS_HINGE:
    case SEQRT_LOSS_SQUARED_HINGE:
    case SEQRT_LOSS_CATEGORICAL_HINGE:
    case SEQRT_LOSS_COSINE_SIMILARITY:
        break;
    default:
        return fail_at(c, f->line, f->col, "internal error: the model's loss "
                       "is not a seqrt_loss_kind", c->scratch);
    }
    if (m->out > 1) {
        if (class_index(c, f, v, m->out, &k))
            return -1;
        d->y[(size_t)r * (size_t)m->out + (size_t)k] = 1.0f;
        return 0;
    }
    d->y[r] = (float)v;
    return 0;
}

/* Target columns per row for the model's loss: 1 for the sparse loss,
 * else one per output (one-hot rows when there are several). */
static int target_width(const csv_file *c, const seqrt_model *m)
{
    (void)c;
    return m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : m->out;
}

/* ---------------------------------------------------------------- header */

/* Appends s to the bounded text t ("a, b, c"); a name that does not fit
 * ends the list with ", ...". */
static void append_name(char *t, size_t cap, const char *s, int first)
{
    size_t n = strlen(t);
    if (n >= 4 && !strcmp(t + n - 3, "..."))
        return;
    if (n + strlen(s) + 2 + 6 < cap)
        snprintf(t + n, cap - n, "%s%s", first ? "" : ", ", s);
    else
        snprintf(t + n, cap - n, "%s...", first ? "" : ", ");
}

/* The name of column j: its header text, or pandas' label j. */
static const char *column_name(csv_file *c, csv_field *f, int header, int j,
                               char label[16])
{
    if (header)
        return trimmed(c, f);
    snprintf(label, 16, "%d", j);
    return label;
}

/* Scans line 1: decides the header, counts the columns, finds the target
 * column (by name, else the last) and fills info's names. A missing named
 * column is an error unless may_lack (then tcol is -1). */
static int read_first_line(csv_file *c, csv_cursor start,
                           const seqrt_csv_options *o, int may_lack,
                           csv_layout *lay, seqrt_csv_info *info)
{
    csv_cursor cur = start;
    csv_field f;
    int n = 0, found = -1, twice = -1, text = 0, more;
    long twice_col = 0;
    char label[16], q[CSV_QUOTE_MAX + 4];
    char last[SEQRT_CSV_TEXT_MAX] = "", target[SEQRT_CSV_TEXT_MAX] = "";
    do {                        /* which fields are text? */
        more = next_field(c, &cur, &f);
        if (more < 0)
            return -1;
        const char *s = trimmed(c, &f);
        text |= *s && !is_numberlike(s);
    } while (more);
    if (o->header == SEQRT_CSV_HEADER_AUTO && !text)
        return seqrt_fail("%s:1:1: line 1 holds only numbers, so it may be "
                          "data rather than column names; pass --no-header "
                          "to read it as the first row of data, or --header "
                          "to use it as the header", c->path);
    lay->header = o->header == SEQRT_CSV_HEADER_PRESENT ||
                  (o->header == SEQRT_CSV_HEADER_AUTO && text);
    lay->first_text = text;
    info->header_text[0] = '\0';
    cur = start;
    do {
        more = next_field(c, &cur, &f);
        const char *name = column_name(c, &f, lay->header, n, label);
        if (o->target && !strcmp(name, o->target)) {
            if (found < 0) {
                found = n;
            } else if (twice < 0) {
                twice = n;
                twice_col = f.col;
            }
        }
        quoted(name, q);        /* names in messages: no control bytes */
        if (found == n)
            snprintf(target, sizeof target, "%s", q);
        snprintf(last, sizeof last, "%s", q);
        if (lay->header)
            append_name(info->header_text, sizeof info->header_text, q,
                        n == 0);
        n++;
    } while (more);
    if (twice >= 0)
        return seqrt_fail("%s:1:%ld: columns %d and %d are both named \"%s\"; "
                          "--target must name one column (rename one of "
                          "them)", c->path, twice_col, found + 1, twice + 1,
                          quoted(o->target, q));
    if (o->target && found < 0 && !may_lack) {
        if (!lay->header)
            return seqrt_fail("%s:1:1: no column named \"%s\": the file has "
                              "no header, so its columns are named 0 to %d "
                              "(as pandas' header=None names them)", c->path,
                              quoted(o->target, q), n - 1);
        return seqrt_fail("%s:1:1: no column named \"%s\" (columns: %s)",
                          c->path, quoted(o->target, q), info->header_text);
    }
    lay->ncols = n;
    lay->tcol = o->target ? found : n - 1;
    lay->data = lay->header ? cur : start;
    snprintf(info->target_name, sizeof info->target_name, "%s",
             o->target ? target : last);
    return 0;
}

/* Counts the data rows from lay->data; a blank line may only be followed by
 * blank lines. */
static int count_rows(csv_file *c, csv_layout *lay)
{
    csv_cursor cur = lay->data;
    csv_field f;
    long n = 0, blank = 0;
    for (;;) {
        long line = cur.line;
        int k = record_start(c, &cur);
        if (k == REC_END)
            break;
        if (k == REC_BLANK) {
            if (!blank)
                blank = line;
            continue;
        }
        if (blank)
            return seqrt_fail("%s:%ld:1: blank line inside the data "
                              "(only trailing blank lines are allowed)",
                              c->path, blank);
        int more;
        do
            if ((more = next_field(c, &cur, &f)) < 0)
                return -1;
        while (more);
        n++;
    }
    if (n == 0)
        return seqrt_fail("%s:%ld:1: no data rows after the header", c->path,
                          cur.line);
    lay->rows = n;
    return 0;
}

/* ---------------------------------------------------------------- rows */

/* Parses the data row at *cur into row r of d (target column lay->tcol, or
 * -1 for features only); *cur moves to the next record. One scan: each
 * field is converted as it is read, but a wrong field count is reported
 * before a bad value of the same row (a missing or extra delimiter is the
 * likelier cause of both). */
static int read_row(csv_file *c, csv_cursor *cur, const csv_layout *lay,
                    const seqrt_model *m, seqrt_data *d, long r)
{
    float *x = d->x + (size_t)r * (size_t)d->cols;
    csv_field f;
    int n = 0, k = 0, bad = 0, more;
    long at_line = 0, at_col = 0;
    char err[512];
    do {
        if ((more = next_field(c, cur, &f)) < 0)
            return -1;
        if (n == lay->ncols)    /* the first field too many */
            at_line = f.line, at_col = f.col;
        double v = 0;
        if (bad || n >= lay->ncols) {
            /* only counting from here */
        } else if (field_number(c, &f, &v) ||
                   (n == lay->tcol && d->y &&
                    store_target(c, &f, m, d, r, v))) {
            bad = 1;
            snprintf(err, sizeof err, "%s", seqrt_error());
        } else if (n != lay->tcol) {
            x[k++] = (float)v;
        }
        n++;
    } while (more);
    if (n != lay->ncols) {
        char msg[96];
        if (n < lay->ncols)
            at_line = f.end_line, at_col = f.end_col;
        snprintf(msg, sizeof msg, "expected %d fields (as in %s), got %d",
                 lay->ncols, lay->header ? "the header" : "line 1", n);
        return fail_at(c, at_line, at_col, msg, NULL);
    }
    return bad ? seqrt_fail("%s", err) : 0;
}

/* Under --no-header, a first line with text that does not parse may be a
 * header: the message says so. */
static int hint_header(const csv_layout *lay, long line)
{
    if (lay->header || !lay->first_text || line != 1)
        return -1;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", seqrt_error());
    return seqrt_fail("%s (line 1 is read as data because of --no-header; "
                      "if it names the columns, leave --no-header out)", msg);
}

/* Checks the column count: features + target (features_only: or without
 * one); sets lay->tcol to -1 when the file has no target column. */
static int check_columns(const csv_file *c, const seqrt_model *m,
                         csv_layout *lay, int features_only,
                         const char *target)
{
    char q[CSV_QUOTE_MAX + 4];
    int ncols = lay->ncols;
    if (ncols == m->in + 1 && lay->tcol >= 0)
        return 0;
    if (features_only && ncols == m->in) {
        lay->tcol = -1;
        return 0;
    }
    if (ncols == m->in + 1)    /* features_only, named column missing */
        return seqrt_fail("%s:1:1: no column named \"%s\" to drop from %d "
                          "columns (the model takes %d inputs)", c->path,
                          quoted(target, q), ncols, m->in);
    if (features_only)
        return seqrt_fail("%s:1:1: the file has %d columns; the model takes "
                          "%d inputs (expected %d feature columns, or %d "
                          "with the target)", c->path, ncols, m->in, m->in,
                          m->in + 1);
    return seqrt_fail("%s:1:1: the file has %d feature columns besides the "
                      "target; the model takes %d inputs", c->path,
                      ncols - 1, m->in);
}

/* The first pass: bytes, header, columns, rows. */
static int layout(csv_file *c, size_t start, const seqrt_model *m,
                  const seqrt_csv_options *o, int features_only,
                  csv_layout *lay, seqrt_csv_info *info)
{
    csv_cursor cur = {start, 1, start};
    if (check_bytes(c, start))
        return -1;
    int k = record_start(c, &cur);
    if (k == REC_END)
        return seqrt_fail("%s:1:1: empty file (expected %s)", c->path,
                          o->header == SEQRT_CSV_HEADER_ABSENT
                              ? "rows of data" : "a header row naming the "
                                                 "columns");
    if (k == REC_BLANK)
        return seqrt_fail("%s:1:1: line 1 is blank (expected %s)", c->path,
                          o->header == SEQRT_CSV_HEADER_ABSENT
                              ? "the first row of data" : "a header naming "
                                                          "the columns");
    return read_first_line(c, cur, o, features_only, lay, info) ||
           check_columns(c, m, lay, features_only, o->target) ||
           count_rows(c, lay);
}

static int load(seqrt_data *d, const char *path, const seqrt_model *m,
                const seqrt_csv_options *opt, int features_only,
                seqrt_csv_info *info)
{
    static const seqrt_csv_options defaults = {SEQRT_CSV_HEADER_AUTO, NULL, 0};
    const seqrt_csv_options *o = opt ? opt : &defaults;
    seqrt_csv_info local = {0};
    info = info ? info : &local;
    memset(d, 0, sizeof *d);
    memset(info, 0, sizeof *info);
    info->target_column = -1;
    csv_file c = {path, NULL, 0, o->delimiter ? o->delimiter : ',', NULL};
    csv_layout lay;
    memset(&lay, 0, sizeof lay);
    char *buf = NULL;
    if (o->header != SEQRT_CSV_HEADER_AUTO &&
        o->header != SEQRT_CSV_HEADER_PRESENT &&
        o->header != SEQRT_CSV_HEADER_ABSENT)
        return seqrt_fail("%s: internal error: header option %d", path,
                          (int)o->header);
    if (read_file(path, &buf, &c.len))
        return -1;
    c.buf = buf;
    size_t start = 0;
    if (c.len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        start = 3;
    int rc = -1, ycols = 0;
    c.scratch = malloc(c.len + 1);
    if (!c.scratch) {
        seqrt_fail("%s: out of memory", path);
        goto done;
    }
    if (layout(&c, start, m, o, features_only, &lay, info))
        goto done;
    if (!features_only && (ycols = target_width(&c, m)) < 0)
        goto done;
    d->rows = lay.rows;
    d->cols = m->in;
    d->ycols = ycols;
    d->x = malloc((size_t)lay.rows * (size_t)(m->in > 0 ? m->in : 1) *
                  sizeof(float));
    d->y = ycols ? calloc((size_t)lay.rows * (size_t)ycols, sizeof(float))
                 : NULL;
    if (!d->x || (ycols && !d->y)) {
        seqrt_fail("%s: out of memory for %ld rows", path, lay.rows);
        goto done;
    }
    csv_cursor cur = lay.data;
    for (long r = 0; r < lay.rows;) {
        long line = cur.line;
        int k = record_start(&c, &cur);
        if (k == REC_BLANK)
            continue;
        if (k == REC_END) {
            seqrt_fail("%s: internal error: %ld rows counted, %ld read", path,
                       lay.rows, r);
            goto done;
        }
        if (read_row(&c, &cur, &lay, m, d, r++)) {
            hint_header(&lay, line);
            goto done;
        }
    }
    info->rows = lay.rows;
    info->header = lay.header;
    info->columns = lay.ncols;
    info->target_column = lay.tcol;
    if (lay.tcol < 0)
        info->target_name[0] = '\0';
    rc = 0;
done:
    free(c.scratch);
    free(buf);
    if (rc) {
        seqrt_data_free(d);
        memset(info, 0, sizeof *info);
        info->target_column = -1;
    }
    return rc;
}

int seqrt_csv_load(seqrt_data *d, const char *path, const seqrt_model *m,
                   const seqrt_csv_options *opt, seqrt_csv_info *info)
{
    return load(d, path, m, opt, 0, info);
}

int seqrt_csv_load_features(seqrt_data *d, const char *path,
                            const seqrt_model *m,
                            const seqrt_csv_options *opt,
                            seqrt_csv_info *info)
{
    return load(d, path, m, opt, 1, info);
}

void seqrt_data_free(seqrt_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}
