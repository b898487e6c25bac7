/*
 * csv.c - loading training and prediction data from CSV files.
 *
 * Design: the whole file is read into one buffer and walked twice, never
 * past its end. The first pass splits the header, finds the target column
 * (by name, else the last column), checks the column count against the
 * model and counts the data rows; the second pass converts every field.
 * Nothing is dropped silently: a short or long row, an empty field, a blank
 * line followed by more data, a non-numeric or non-finite value and a bad
 * class index are all errors, reported as "file:line:col: message" where
 * col is the 1-based byte column of the field. Accepted: CRLF line endings,
 * blank trailing lines, a UTF-8 byte-order mark, spaces around a field and
 * fields in double quotes ("1.5", with "" for a quote inside).
 *
 * Each field is copied into a NUL-terminated scratch buffer, checked
 * against a strict decimal grammar (no hex, no "nan"/"inf") and only then
 * converted with strtod; if the C library runs in a locale whose decimal
 * point is not '.', the copy is adjusted first, so "1.5" always means 1.5.
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

/* A line: [begin, end) without the line ending; next: the next line. */
typedef struct {
    size_t begin, end, next;
    long number;           /* 1-based */
} csv_line;

/* One field of a line: its unquoted text is in the scratch buffer. */
typedef struct {
    size_t pos;            /* first byte of the raw field */
    size_t len;            /* bytes of text in scratch */
    int col;               /* 1-based byte column of the field */
} csv_field;

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

/* Sets *l to the line starting at byte `at`; returns 0 at end of file. */
static int line_at(const csv_file *c, size_t at, long number, csv_line *l)
{
    if (at >= c->len)
        return 0;
    const char *nl = memchr(c->buf + at, '\n', c->len - at);
    size_t end = nl ? (size_t)(nl - c->buf) : c->len;
    l->begin = at;
    l->next = nl ? end + 1 : c->len;
    if (end > at && c->buf[end - 1] == '\r')
        end--;
    l->end = end;
    l->number = number;
    return 1;
}

static int line_blank(const csv_file *c, const csv_line *l)
{
    for (size_t i = l->begin; i < l->end; i++)
        if (c->buf[i] != ' ' && c->buf[i] != '\t')
            return 0;
    return 1;
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

static int fail_at(const csv_file *c, long line, int col, const char *what,
                   const char *field)
{
    char q[CSV_QUOTE_MAX + 4];
    if (field)
        return seqrt_fail("%s:%ld:%d: %s: \"%s\"", c->path, line, col, what,
                          quoted(field, q));
    return seqrt_fail("%s:%ld:%d: %s", c->path, line, col, what);
}

/* Reads the field at *pos of line l into c->scratch; *pos moves past the
 * delimiter. Returns 1 if more fields follow, 0 at the end of the line, -1
 * on a malformed quote. */
static int next_field(csv_file *c, const csv_line *l, size_t *pos,
                      csv_field *f)
{
    size_t p = *pos;
    f->pos = p;
    f->col = (int)(p - l->begin) + 1;
    f->len = 0;
    size_t q = p;
    while (q < l->end && (c->buf[q] == ' ' || c->buf[q] == '\t'))
        q++;
    if (q < l->end && c->buf[q] == '"') {
        for (q++;; q++) {
            if (q >= l->end)
                return fail_at(c, l->number, f->col,
                               "unterminated quoted field", NULL);
            if (c->buf[q] == '"') {
                if (q + 1 < l->end && c->buf[q + 1] == '"')
                    q++;
                else
                    break;
            }
            c->scratch[f->len++] = c->buf[q];
        }
        for (q++; q < l->end && (c->buf[q] == ' ' || c->buf[q] == '\t'); q++)
            ;
        if (q < l->end && c->buf[q] != c->delim)
            return fail_at(c, l->number, (int)(q - l->begin) + 1,
                           "unexpected character after a closing quote",
                           NULL);
    } else {
        for (q = p; q < l->end && c->buf[q] != c->delim; q++)
            c->scratch[f->len++] = c->buf[q];
    }
    c->scratch[f->len] = '\0';
    if (q < l->end) {           /* at a delimiter */
        *pos = q + 1;
        return 1;
    }
    *pos = l->end;
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

/* Counts the fields of l; *past_col: column where field ncols+1 starts or
 * the column just past the line. Returns the count or -1. */
static int count_fields(csv_file *c, const csv_line *l, int ncols,
                        int *extra_col)
{
    size_t pos = l->begin;
    csv_field f;
    int n = 0, more;
    do {
        more = next_field(c, l, &pos, &f);
        if (more < 0)
            return -1;
        if (++n == ncols + 1)
            *extra_col = f.col;
    } while (more);
    if (n <= ncols)
        *extra_col = (int)(l->end - l->begin) + 1;
    return n;
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
static int field_number(csv_file *c, const csv_line *l, csv_field *f,
                        double *v)
{
    char *s = trimmed(c, f);
    if (!*s)
        return fail_at(c, l->number, f->col, "empty field (missing value)",
                       NULL);
    if (is_nonfinite_word(s))
        return fail_at(c, l->number, f->col,
                       "NaN and infinite values are not allowed", s);
    if (!is_decimal(s))
        return fail_at(c, l->number, f->col, "not a number", s);
    char text[CSV_QUOTE_MAX + 4];
    quoted(s, text);
    double d = decimal_value(s);
    if (!isfinite(d) || !isfinite((float)d))
        return fail_at(c, l->number, f->col,
                       "value out of range for a 32-bit float", text);
    *v = d;
    return 0;
}

/* ---------------------------------------------------------------- targets */

static int class_index(csv_file *c, const csv_line *l, const csv_field *f,
                       double v, int classes, int *k)
{
    char msg[96];
    if (v != floor(v))
        return fail_at(c, l->number, f->col, "class index is not an integer",
                       c->scratch);
    if (v < 0 || v >= classes) {
        snprintf(msg, sizeof msg,
                 "class index out of range [0, %d) (the model has %d outputs)",
                 classes, classes);
        return fail_at(c, l->number, f->col, msg, c->scratch);
    }
    *k = (int)v;
    return 0;
}

/* Stores target value v of row r into d->y by the model's loss. */
static int store_target(csv_file *c, const csv_line *l, const csv_field *f,
                        const seqrt_model *m, seqrt_data *d, long r, double v)
{
    int k = 0;
    switch ((seqrt_loss_kind)m->loss) {
    case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY:
        if (class_index(c, l, f, v, m->out, &k))
            return -1;
        d->y[(size_t)r * (size_t)m->out + (size_t)k] = 1.0f;
        return 0;
    case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        if (class_index(c, l, f, v, m->out, &k))
            return -1;
        d->y[r] = (float)k;
        return 0;
    case SEQRT_LOSS_BINARY_CROSSENTROPY:
        if (v < 0 || v > 1)
            return fail_at(c, l->number, f->col,
                           "binary_crossentropy target not in [0, 1]",
                           c->scratch);
        d->y[r] = (float)v;
        return 0;
    case SEQRT_LOSS_MAE:
    case SEQRT_LOSS_MSE:
    case SEQRT_LOSS_HUBER:
        d->y[r] = (float)v;
        return 0;
    }
    return fail_at(c, l->number, f->col, "internal error: the model's loss is not a seqrt_loss_kind", c->scratch);
}

/* Target columns per row for the model's loss, or -1 (with a message) when
 * the model's outputs cannot come from one target column. */
static int target_width(const csv_file *c, const seqrt_model *m)
{
    if (m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY)
        return m->out;
    if (m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY || m->out == 1)
        return 1;
    return seqrt_fail("%s: the model has %d outputs but a CSV file has one "
                      "target column; only categorical losses map one "
                      "column to several outputs", c->path, m->out);
}

/* ---------------------------------------------------------------- header */

/* Splits the header: *ncols columns; *tcol the target column (by name, else
 * the last). A missing named column is an error unless may_lack (then *tcol
 * is -1). */
static int read_header(csv_file *c, const csv_line *l, const char *target,
                       int may_lack, int *ncols, int *tcol)
{
    size_t pos = l->begin;
    csv_field f;
    int n = 0, found = -1, more;
    char names[200] = "";
    do {
        more = next_field(c, l, &pos, &f);
        if (more < 0)
            return -1;
        const char *name = trimmed(c, &f);
        if (target && found < 0 && !strcmp(name, target))
            found = n;
        if (strlen(names) + strlen(name) + 8 < sizeof names)
            snprintf(names + strlen(names), sizeof names - strlen(names),
                     "%s%s", n ? ", " : "", name);
        n++;
    } while (more);
    if (target && found < 0 && !may_lack) {
        char q[CSV_QUOTE_MAX + 4];
        return seqrt_fail("%s:%ld:1: no column named \"%s\" (columns: %s)",
                          c->path, l->number, quoted(target, q), names);
    }
    *ncols = n;
    *tcol = target ? found : n - 1;
    return 0;
}

/* Counts the data rows after the header line; a blank line may only be
 * followed by blank lines. */
static int count_rows(const csv_file *c, size_t at, long number, long *rows)
{
    csv_line l;
    long n = 0, blank = 0;
    for (; line_at(c, at, number, &l); at = l.next, number++) {
        if (line_blank(c, &l)) {
            if (!blank)
                blank = l.number;
            continue;
        }
        if (blank)
            return seqrt_fail("%s:%ld:1: blank line inside the data "
                              "(only trailing blank lines are allowed)",
                              c->path, blank);
        n++;
    }
    if (n == 0)
        return seqrt_fail("%s:%ld:1: no data rows after the header", c->path,
                          number);
    *rows = n;
    return 0;
}

/* ---------------------------------------------------------------- rows */

/* Parses one data row r into d; tcol: target column or -1 (features only). */
static int read_row(csv_file *c, const csv_line *l, int ncols, int tcol,
                    const seqrt_model *m, seqrt_data *d, long r)
{
    int extra_col = 1;
    int n = count_fields(c, l, ncols, &extra_col);
    if (n < 0)
        return -1;
    if (n != ncols) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected %d fields (as in the header), "
                 "got %d", ncols, n);
        return fail_at(c, l->number, extra_col, msg, NULL);
    }
    size_t pos = l->begin;
    csv_field f;
    float *x = d->x + (size_t)r * (size_t)d->cols;
    for (int j = 0, k = 0; j < ncols; j++) {
        double v = 0;
        next_field(c, l, &pos, &f);
        if (field_number(c, l, &f, &v))
            return -1;
        if (j == tcol) {
            if (d->y && store_target(c, l, &f, m, d, r, v))
                return -1;
        } else {
            x[k++] = (float)v;
        }
    }
    return 0;
}

/* Checks the column count: features + target (features_only: or without
 * one); sets *tcol to -1 when the file has no target column. */
static int check_columns(const csv_file *c, const seqrt_model *m, int ncols,
                         int *tcol, int features_only, const char *target)
{
    char q[CSV_QUOTE_MAX + 4];
    if (ncols == m->in + 1 && *tcol >= 0)
        return 0;
    if (features_only && ncols == m->in) {
        *tcol = -1;
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

static int load(seqrt_data *d, const char *path, const seqrt_model *m,
                const char *target, char delimiter, int features_only)
{
    memset(d, 0, sizeof *d);
    csv_file c = {path, NULL, 0, delimiter ? delimiter : ',', NULL};
    char *buf = NULL;
    if (read_file(path, &buf, &c.len))
        return -1;
    c.buf = buf;
    size_t at = 0;
    if (c.len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        at = 3;
    int rc = -1, ncols = 0, tcol = -1, ycols = 0;
    long rows = 0;
    csv_line l;
    c.scratch = malloc(c.len + 1);
    if (!c.scratch) {
        seqrt_fail("%s: out of memory", path);
        goto done;
    }
    if (!line_at(&c, at, 1, &l)) {
        seqrt_fail("%s:1:1: empty file (expected a header row naming the "
                   "columns)", path);
        goto done;
    }
    if (line_blank(&c, &l)) {
        seqrt_fail("%s:1:1: the first line must be a header naming the "
                   "columns", path);
        goto done;
    }
    if (read_header(&c, &l, target, features_only, &ncols, &tcol) ||
        check_columns(&c, m, ncols, &tcol, features_only, target) ||
        count_rows(&c, l.next, 2, &rows))
        goto done;
    if (!features_only && (ycols = target_width(&c, m)) < 0)
        goto done;
    d->rows = rows;
    d->cols = m->in;
    d->ycols = ycols;
    d->x = malloc((size_t)rows * (size_t)(m->in > 0 ? m->in : 1) *
                  sizeof(float));
    d->y = ycols ? calloc((size_t)rows * (size_t)ycols, sizeof(float)) : NULL;
    if (!d->x || (ycols && !d->y)) {
        seqrt_fail("%s: out of memory for %ld rows", path, rows);
        goto done;
    }
    long r = 0, number = 2;
    for (at = l.next; r < rows && line_at(&c, at, number, &l);
         at = l.next, number++) {
        if (line_blank(&c, &l))
            continue;
        if (read_row(&c, &l, ncols, tcol, m, d, r++))
            goto done;
    }
    rc = 0;
done:
    free(c.scratch);
    free(buf);
    if (rc)
        seqrt_data_free(d);
    return rc;
}

int seqrt_csv_load(seqrt_data *d, const char *path, const seqrt_model *m,
                   const char *target, char delimiter)
{
    return load(d, path, m, target, delimiter, 0);
}

int seqrt_csv_load_features(seqrt_data *d, const char *path,
                            const seqrt_model *m, const char *target,
                            char delimiter)
{
    return load(d, path, m, target, delimiter, 1);
}

void seqrt_data_free(seqrt_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}
