/*
 * safetensors.c - checkpoints: a model's state as a safetensors file.
 *
 * Format: an 8-byte little-endian header length N, N bytes of JSON
 *   {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 *    "__metadata__": {"key": "value", ...}}            (metadata optional)
 * then the raw little-endian tensor data; offsets are relative to the start
 * of the data. The host must be little-endian (checked at compile time), so
 * tensors are written and read straight from/to the state struct.
 *
 * Saving writes the selected tensors (by kind) in table order, contiguous,
 * the JSON keys in table order and shapes as integers, the header padded
 * with spaces to a multiple of 8: the same state always gives the same
 * bytes. The header is produced by one emitter run twice (once to measure,
 * once to write), so nothing is allocated. The file appears atomically: it
 * is written to "<path>.tmp.<pid>" in the same directory, flushed and
 * fsync'ed, then renamed over path; any failure removes the temporary and
 * leaves an existing file untouched.
 *
 * Loading reads the whole file into memory and validates everything before
 * the state is touched: header length, a strict parser for exactly the JSON
 * subset above (objects, strings with escapes, arrays of non-negative
 * integers), each tensor's name, dtype, shape and offsets against the table,
 * that the tensors tile the data area exactly (no overlap, no gap, no
 * trailing bytes), that every parameter and buffer is present, and that the
 * optimizer/training tensors are all present or all absent. Only then are
 * the bytes copied; absent optimizer/training state is zeroed. The file
 * buffer, the decoded strings and the entry list are the only allocations.
 */
#include "seqrt_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "seqrt checkpoints assume a little-endian host"
#endif

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER (100u << 20) /* the safetensors reference limit */
#define ST_MAX_INT (1ull << 53)

static size_t dtype_size(int dtype) { return dtype == SEQRT_I64 ? 8 : 4; }
static const char *dtype_name(int dtype)
{
    return dtype == SEQRT_I64 ? "I64" : "F32";
}

static uint64_t table_bytes(const seqrt_tensor *t)
{
    uint64_t n = dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++)
        n *= (uint64_t)(t->shape[d] > 0 ? t->shape[d] : 0);
    return n;
}

static int kind_selected(int kind, unsigned kinds)
{
    return kind >= 0 && kind < 32 && ((kinds >> kind) & 1u);
}

/* ------------------------------------------------------------ save */

/* Header emitter: counts when f == NULL, writes otherwise. */
typedef struct {
    FILE *f;
    uint64_t len;
    int err;
} emitter;

static void emit_bytes(emitter *e, const char *s, size_t n)
{
    if (e->f && !e->err && fwrite(s, 1, n, e->f) != n)
        e->err = 1;
    e->len += n;
}

static void emit(emitter *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void emit(emitter *e, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        e->err = 1;
        return;
    }
    emit_bytes(e, buf, (size_t)n);
}

static void emit_json_string(emitter *e, const char *s)
{
    emit_bytes(e, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            emit_bytes(e, esc, 2);
        } else if (ch < 0x20) {
            emit(e, "\\u%04x", ch);
        } else {
            emit_bytes(e, s, 1);
        }
    }
    emit_bytes(e, "\"", 1);
}

static void emit_header(emitter *e, const seqrt_tensor *t, int nt,
                        unsigned kinds)
{
    uint64_t off = 0;
    int first = 1;
    emit_bytes(e, "{", 1);
    for (int i = 0; i < nt; i++) {
        if (!kind_selected(t[i].kind, kinds))
            continue;
        uint64_t nb = table_bytes(&t[i]);
        if (!first)
            emit_bytes(e, ",", 1);
        first = 0;
        emit_json_string(e, t[i].name);
        emit(e, ":{\"dtype\":\"%s\",\"shape\":[", dtype_name(t[i].dtype));
        for (int d = 0; d < t[i].ndim; d++)
            emit(e, d ? ",%d" : "%d", t[i].shape[d]);
        emit(e, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
             (unsigned long long)(off + nb));
        off += nb;
    }
    emit_bytes(e, "}", 1);
}

int seqrt_st_save(const char *path, const seqrt_tensor *t, int nt,
                  const void *state, unsigned kinds)
{
    /* t: (nt) tensor table; state: the model's state struct */
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return seqrt_fail("%s: path too long", path);

    emitter count = {NULL, 0, 0};
    emit_header(&count, t, nt, kinds);
    if (count.err)
        return seqrt_fail("%s: cannot format the checkpoint header", path);
    uint64_t hlen = (count.len + 7) / 8 * 8;

    FILE *f = fopen(tmp, "wb");
    if (!f)
        return seqrt_fail("%s: cannot create %s: %s", path, tmp,
                          strerror(errno));
    const char *what = "write";
    int saved_errno = 0;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)(hlen >> (8 * i));
    if (fwrite(len8, 1, 8, f) != 8)
        goto fail;
    emitter e = {f, 0, 0};
    emit_header(&e, t, nt, kinds);
    for (uint64_t i = e.len; i < hlen; i++)
        emit_bytes(&e, " ", 1);
    if (e.err || e.len != hlen)
        goto fail;
    for (int i = 0; i < nt; i++) {
        if (!kind_selected(t[i].kind, kinds))
            continue;
        size_t nb = (size_t)table_bytes(&t[i]);
        if (nb && fwrite((const char *)state + t[i].offset, 1, nb, f) != nb)
            goto fail;
    }
    what = "flush";
    if (fflush(f) != 0)
        goto fail;
    what = "fsync";
    if (fsync(fileno(f)) != 0)
        goto fail;
    what = "close";
    {
        FILE *g = f;
        f = NULL;
        if (fclose(g) != 0)
            goto fail;
    }
    what = "rename";
    if (rename(tmp, path) != 0)
        goto fail;
    {
        /* Make the rename durable: fsync the directory (best effort). */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        if (!slash)
            strcpy(dir, ".");
        else if (slash == path)
            strcpy(dir, "/");
        else
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        int fd = open(dir, O_RDONLY);
        if (fd >= 0) {
            (void)fsync(fd);
            close(fd);
        }
    }
    return 0;
fail:
    saved_errno = errno;
    if (f)
        fclose(f);
    remove(tmp);
    return seqrt_fail("%s: %s failed: %s", path, what,
                      saved_errno ? strerror(saved_errno) : "I/O error");
}

/* ------------------------------------------------------------ load: JSON */

typedef struct {
    const char *name;    /* decoded, NUL-terminated */
    const char *dtype;   /* decoded */
    int ndim;
    uint64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;
    int table;           /* index into the tensor table */
} st_entry;

typedef struct {
    const char *path;
    const char *start, *p, *end; /* the header bytes */
    char *sbuf;                  /* decoded strings */
    size_t sused, scap;
    st_entry *ents;
    int nent, cap;
    int have_meta;
} st_parser;

static int perr(st_parser *ps, const char *what)
{
    return seqrt_fail("%s: bad safetensors header: %s at byte %ld of the "
                      "header", ps->path, what, (long)(ps->p - ps->start));
}

static void skip_ws(st_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int expect(st_parser *ps, char ch)
{
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ch) {
        char msg[32];
        snprintf(msg, sizeof msg, "expected '%c'", ch);
        return perr(ps, msg);
    }
    ps->p++;
    return 0;
}

/* Peeks the next non-blank byte (0 at the end). */
static char peek(st_parser *ps)
{
    skip_ws(ps);
    return ps->p < ps->end ? *ps->p : 0;
}

static int hex4(st_parser *ps, unsigned *out)
{
    unsigned v = 0;
    if (ps->end - ps->p < 4)
        return perr(ps, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char ch = *ps->p++;
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return perr(ps, "bad hex digit in \\u escape");
    }
    *out = v;
    return 0;
}

static void sput(st_parser *ps, unsigned char ch)
{
    /* capacity is the header length + 1 per string: decoding never grows */
    ps->sbuf[ps->sused++] = (char)ch;
}

/* Parses a JSON string into the string buffer; *out points at it. */
static int parse_string(st_parser *ps, const char **out)
{
    if (expect(ps, '"'))
        return -1;
    char *s = ps->sbuf + ps->sused;
    for (;;) {
        if (ps->p >= ps->end)
            return perr(ps, "unterminated string");
        unsigned char ch = (unsigned char)*ps->p++;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return perr(ps, "control character in string");
        if (ch != '\\') {
            sput(ps, ch);
            continue;
        }
        if (ps->p >= ps->end)
            return perr(ps, "unterminated string");
        ch = (unsigned char)*ps->p++;
        switch (ch) {
        case '"': case '\\': case '/': sput(ps, ch); break;
        case 'b': sput(ps, '\b'); break;
        case 'f': sput(ps, '\f'); break;
        case 'n': sput(ps, '\n'); break;
        case 'r': sput(ps, '\r'); break;
        case 't': sput(ps, '\t'); break;
        case 'u': {
            unsigned cp;
            if (hex4(ps, &cp))
                return -1;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return perr(ps, "lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
                    return perr(ps, "lone high surrogate in \\u escape");
                ps->p += 2;
                if (hex4(ps, &lo))
                    return -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return perr(ps, "bad surrogate pair in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0)
                return perr(ps, "\\u0000 in string");
            /* UTF-8; at most 4 bytes, never more than the 6+ source bytes */
            if (cp < 0x80) {
                sput(ps, (unsigned char)cp);
            } else if (cp < 0x800) {
                sput(ps, (unsigned char)(0xC0 | (cp >> 6)));
                sput(ps, (unsigned char)(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
                sput(ps, (unsigned char)(0xE0 | (cp >> 12)));
                sput(ps, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
                sput(ps, (unsigned char)(0x80 | (cp & 0x3F)));
            } else {
                sput(ps, (unsigned char)(0xF0 | (cp >> 18)));
                sput(ps, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
                sput(ps, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
                sput(ps, (unsigned char)(0x80 | (cp & 0x3F)));
            }
            break;
        }
        default:
            return perr(ps, "bad escape in string");
        }
    }
    sput(ps, 0);
    *out = s;
    return 0;
}

static int parse_uint(st_parser *ps, uint64_t *out)
{
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return perr(ps, "expected a non-negative integer");
    if (*ps->p == '0' && ps->end - ps->p > 1 && ps->p[1] >= '0' &&
        ps->p[1] <= '9')
        return perr(ps, "leading zero in integer");
    uint64_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        v = v * 10 + (uint64_t)(*ps->p - '0');
        if (v > ST_MAX_INT)
            return perr(ps, "integer too large");
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
        return perr(ps, "expected an integer, not a fraction");
    *out = v;
    return 0;
}

/* [int, ...] with at most max elements. */
static int parse_uint_array(st_parser *ps, uint64_t *v, int max, int *count)
{
    int n = 0;
    if (expect(ps, '['))
        return -1;
    if (peek(ps) == ']') {
        ps->p++;
        *count = 0;
        return 0;
    }
    for (;;) {
        if (n == max)
            return perr(ps, "too many elements in array");
        if (parse_uint(ps, &v[n++]))
            return -1;
        char ch = peek(ps);
        if (ch == ',') {
            ps->p++;
        } else if (ch == ']') {
            ps->p++;
            break;
        } else {
            return perr(ps, "expected ',' or ']'");
        }
    }
    *count = n;
    return 0;
}

/* {"key": "value", ...} */
static int parse_metadata(st_parser *ps)
{
    if (expect(ps, '{'))
        return -1;
    if (peek(ps) == '}') {
        ps->p++;
        return 0;
    }
    for (;;) {
        const char *k, *v;
        if (parse_string(ps, &k) || expect(ps, ':'))
            return -1;
        if (peek(ps) != '"')
            return perr(ps, "__metadata__ values must be strings");
        if (parse_string(ps, &v))
            return -1;
        char ch = peek(ps);
        if (ch == ',') {
            ps->p++;
        } else if (ch == '}') {
            ps->p++;
            return 0;
        } else {
            return perr(ps, "expected ',' or '}'");
        }
    }
}

static int parse_tensor(st_parser *ps, st_entry *e)
{
    int have_dtype = 0, have_shape = 0, have_off = 0;
    if (expect(ps, '{'))
        return -1;
    if (peek(ps) != '}') {
        for (;;) {
            const char *key;
            if (parse_string(ps, &key) || expect(ps, ':'))
                return -1;
            if (strcmp(key, "dtype") == 0) {
                if (have_dtype++)
                    return perr(ps, "duplicate key \"dtype\"");
                if (peek(ps) != '"')
                    return perr(ps, "dtype must be a string");
                if (parse_string(ps, &e->dtype))
                    return -1;
            } else if (strcmp(key, "shape") == 0) {
                if (have_shape++)
                    return perr(ps, "duplicate key \"shape\"");
                if (parse_uint_array(ps, e->shape, ST_MAX_DIMS, &e->ndim))
                    return -1;
            } else if (strcmp(key, "data_offsets") == 0) {
                uint64_t off[2];
                int n = 0;
                if (have_off++)
                    return perr(ps, "duplicate key \"data_offsets\"");
                if (parse_uint_array(ps, off, 2, &n))
                    return -1;
                if (n != 2)
                    return perr(ps, "data_offsets must have two elements");
                e->begin = off[0];
                e->end = off[1];
            } else {
                return perr(ps, "unknown key in tensor entry");
            }
            char ch = peek(ps);
            if (ch == ',') {
                ps->p++;
            } else if (ch == '}') {
                break;
            } else {
                return perr(ps, "expected ',' or '}'");
            }
        }
    }
    ps->p++; /* '}' */
    if (!have_dtype || !have_shape || !have_off)
        return seqrt_fail("%s: bad safetensors header: tensor '%s' lacks "
                          "\"%s\"", ps->path, e->name,
                          !have_dtype ? "dtype"
                                      : (!have_shape ? "shape"
                                                     : "data_offsets"));
    return 0;
}

static int parse_header(st_parser *ps)
{
    if (expect(ps, '{'))
        return -1;
    if (peek(ps) == '}') {
        ps->p++;
    } else {
        for (;;) {
            const char *key;
            if (parse_string(ps, &key) || expect(ps, ':'))
                return -1;
            if (strcmp(key, "__metadata__") == 0) {
                if (ps->have_meta++)
                    return perr(ps, "duplicate __metadata__");
                if (parse_metadata(ps))
                    return -1;
            } else {
                for (int i = 0; i < ps->nent; i++)
                    if (strcmp(ps->ents[i].name, key) == 0)
                        return seqrt_fail("%s: bad safetensors header: "
                                          "tensor '%s' appears twice",
                                          ps->path, key);
                if (ps->nent == ps->cap)
                    return perr(ps, "too many tensors");
                st_entry *e = &ps->ents[ps->nent++];
                memset(e, 0, sizeof *e);
                e->name = key;
                e->table = -1;
                if (parse_tensor(ps, e))
                    return -1;
            }
            char ch = peek(ps);
            if (ch == ',') {
                ps->p++;
            } else if (ch == '}') {
                ps->p++;
                break;
            } else {
                return perr(ps, "expected ',' or '}'");
            }
        }
    }
    skip_ws(ps);
    if (ps->p != ps->end)
        return perr(ps, "trailing characters after the header object");
    return 0;
}

/* ------------------------------------------------------------ load: checks */

static void format_shape(char *buf, size_t cap, const uint64_t *dims,
                         int ndim)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && used < cap; d++)
        used += (size_t)snprintf(buf + used, cap - used, d ? ", %llu" : "%llu",
                                 (unsigned long long)dims[d]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* order (n): indices of ents sorted by (begin, end); insertion sort, which
 * is linear on the usual already-sorted files and needs no globals. */
static void sort_by_offset(int *order, const st_entry *ents, int n)
{
    for (int i = 0; i < n; i++) {
        int v = order[i], j = i;
        while (j > 0 && (ents[order[j - 1]].begin > ents[v].begin ||
                         (ents[order[j - 1]].begin == ents[v].begin &&
                          ents[order[j - 1]].end > ents[v].end))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

static int validate(st_parser *ps, const seqrt_tensor *t, int nt,
                    uint64_t data_len, int *tab2ent, int *order)
{
    const char *path = ps->path;
    for (int k = 0; k < nt; k++)
        tab2ent[k] = -1;
    for (int i = 0; i < ps->nent; i++) {
        st_entry *e = &ps->ents[i];
        int k = 0;
        while (k < nt && strcmp(t[k].name, e->name) != 0)
            k++;
        if (k == nt)
            return seqrt_fail("%s: unknown tensor '%s' (the model has no "
                              "such tensor)", path, e->name);
        if (t[k].kind == SEQRT_T_GRAD)
            return seqrt_fail("%s: tensor '%s' is a gradient; checkpoints "
                              "do not hold gradients", path, e->name);
        e->table = k;
        tab2ent[k] = i;
        if (strcmp(e->dtype, dtype_name(t[k].dtype)) != 0)
            return seqrt_fail("%s: tensor '%s' has dtype %s, the model "
                              "expects %s", path, e->name, e->dtype,
                              dtype_name(t[k].dtype));
        int same = e->ndim == t[k].ndim;
        uint64_t want[ST_MAX_DIMS] = {0};
        for (int d = 0; d < t[k].ndim; d++) {
            want[d] = (uint64_t)(t[k].shape[d] > 0 ? t[k].shape[d] : 0);
            if (same && e->shape[d] != want[d])
                same = 0;
        }
        if (!same) {
            char got[160], exp[64];
            format_shape(got, sizeof got, e->shape, e->ndim);
            format_shape(exp, sizeof exp, want, t[k].ndim);
            return seqrt_fail("%s: tensor '%s' has shape %s, the model "
                              "expects %s", path, e->name, got, exp);
        }
        uint64_t nb = table_bytes(&t[k]);
        if (e->end < e->begin)
            return seqrt_fail("%s: tensor '%s' has data_offsets [%llu, %llu] "
                              "that end before they begin", path, e->name,
                              (unsigned long long)e->begin,
                              (unsigned long long)e->end);
        if (e->end > data_len)
            return seqrt_fail("%s: tensor '%s' has data_offsets [%llu, %llu] "
                              "beyond the %llu bytes of data", path, e->name,
                              (unsigned long long)e->begin,
                              (unsigned long long)e->end,
                              (unsigned long long)data_len);
        if (e->end - e->begin != nb)
            return seqrt_fail("%s: tensor '%s' has %llu bytes of data, its "
                              "shape and dtype need %llu", path, e->name,
                              (unsigned long long)(e->end - e->begin),
                              (unsigned long long)nb);
    }
    /* The tensors must tile [0, data_len) exactly. */
    for (int i = 0; i < ps->nent; i++)
        order[i] = i;
    sort_by_offset(order, ps->ents, ps->nent);
    uint64_t cur = 0;
    for (int r = 0; r < ps->nent; r++) {
        const st_entry *e = &ps->ents[order[r]];
        if (e->begin < cur)
            return seqrt_fail("%s: tensors '%s' and '%s' overlap in the data "
                              "area", path, ps->ents[order[r - 1]].name,
                              e->name);
        if (e->begin > cur)
            return seqrt_fail("%s: %llu unused bytes in the data area before "
                              "tensor '%s'", path,
                              (unsigned long long)(e->begin - cur), e->name);
        cur = e->end;
    }
    if (cur != data_len)
        return seqrt_fail("%s: the data area has %llu bytes, the tensors "
                          "describe %llu", path, (unsigned long long)data_len,
                          (unsigned long long)cur);
    /* Completeness. */
    int opt_total = 0, opt_present = 0, first_missing = -1;
    for (int k = 0; k < nt; k++) {
        int kind = t[k].kind;
        if ((kind == SEQRT_T_PARAM || kind == SEQRT_T_BUFFER) &&
            tab2ent[k] < 0)
            return seqrt_fail("%s: missing tensor '%s'", path, t[k].name);
        if (kind == SEQRT_T_OPTIM || kind == SEQRT_T_STATE) {
            opt_total++;
            if (tab2ent[k] >= 0)
                opt_present++;
            else if (first_missing < 0)
                first_missing = k;
        }
    }
    if (opt_present > 0 && opt_present < opt_total)
        return seqrt_fail("%s: missing tensor '%s' (the file has optimizer "
                          "and training state, which must be complete)",
                          path, t[first_missing].name);
    return opt_present > 0 ? 1 : 0;
}

static int load_mem(const char *path, const void *bytes, size_t nbytes,
                    const seqrt_tensor *t, int nt, void *state, int *had_opt);

/* seqrt_st_load, telling whether the file had the optimizer's state. */
static int load_file(const char *path, const seqrt_tensor *t, int nt,
                     void *state, int *had_opt);

int seqrt_st_load(const char *path, const seqrt_tensor *t, int nt,
                  void *state)
{
    return load_file(path, t, nt, state, NULL);
}

static int load_file(const char *path, const seqrt_tensor *t, int nt,
                     void *state, int *had_opt)
{
    /* t: (nt) tensor table; state: the model's state struct */
    FILE *f = fopen(path, "rb");
    if (!f)
        return seqrt_fail("%s: cannot open: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return seqrt_fail("%s: cannot read: %s", path, strerror(errno));
    }
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf) {
        fclose(f);
        return seqrt_fail("%s: out of memory reading %ld bytes", path, size);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || got != (size_t)size) {
        free(buf);
        return seqrt_fail("%s: read error", path);
    }
    int rc = load_mem(path, buf, (size_t)size, t, nt, state, had_opt);
    free(buf);
    return rc;
}

int seqrt_st_load_mem(const char *path, const void *bytes, size_t nbytes,
                      const seqrt_tensor *t, int nt, void *state)
{
    return load_mem(path, bytes, nbytes, t, nt, state, NULL);
}

static int load_mem(const char *path, const void *bytes, size_t nbytes,
                    const seqrt_tensor *t, int nt, void *state, int *had_opt)
{
    const unsigned char *buf = bytes;
    long size = (long)nbytes;
    int rc = -1;
    st_parser ps;
    memset(&ps, 0, sizeof ps);
    int *tab2ent = NULL, *order = NULL;
    if (size < 8) {
        seqrt_fail("%s: %ld bytes is too short for a safetensors file", path,
                   size);
        goto out;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | buf[i];
    if (hlen > (uint64_t)size - 8) {
        seqrt_fail("%s: header length %llu exceeds the %ld bytes that follow "
                   "it: truncated or not a safetensors file", path,
                   (unsigned long long)hlen, size - 8);
        goto out;
    }
    if (hlen < 2 || hlen > ST_MAX_HEADER) {
        seqrt_fail("%s: implausible safetensors header length %llu", path,
                   (unsigned long long)hlen);
        goto out;
    }
    ps.path = path;
    ps.start = ps.p = (const char *)buf + 8;
    ps.end = ps.start + hlen;
    ps.scap = (size_t)hlen + 1;
    ps.sbuf = malloc(ps.scap);
    ps.cap = (int)(hlen / 16 + 1); /* an entry takes far more than 16 bytes */
    ps.ents = malloc((size_t)ps.cap * sizeof *ps.ents);
    tab2ent = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *tab2ent);
    order = malloc((size_t)ps.cap * sizeof *order);
    if (!ps.sbuf || !ps.ents || !tab2ent || !order) {
        seqrt_fail("%s: out of memory parsing the header", path);
        goto out;
    }
    if (parse_header(&ps))
        goto out;
    const unsigned char *data = buf + 8 + hlen;
    uint64_t data_len = (uint64_t)size - 8 - hlen;
    int has_opt = validate(&ps, t, nt, data_len, tab2ent, order);
    if (has_opt < 0)
        goto out;

    /* Everything checked: now, and only now, write the state. */
    for (int i = 0; i < ps.nent; i++) {
        const st_entry *e = &ps.ents[i];
        size_t nb = (size_t)(e->end - e->begin);
        if (nb)
            memcpy((char *)state + t[e->table].offset, data + e->begin, nb);
    }
    /* A weights-only file: fresh optimizer slots and counters. The RNG
     * states ("train.rng*") keep what init seeded, so that each seeded
     * Dropout keeps its own stream. */
    if (!has_opt)
        for (int k = 0; k < nt; k++)
            if ((t[k].kind == SEQRT_T_OPTIM || t[k].kind == SEQRT_T_STATE) &&
                strncmp(t[k].name, "train.rng", 9) != 0)
                memset((char *)state + t[k].offset, 0,
                       (size_t)table_bytes(&t[k]));
    if (had_opt)
        *had_opt = has_opt;
    rc = 0;
out:
    free(order);
    free(tab2ent);
    free(ps.ents);
    free(ps.sbuf);
    return rc;
}

int seqrt_model_save(const seqrt_model *m, const void *state, const char *path)
{
    return seqrt_st_save(path, m->tensors, m->ntensors, state, SEQRT_SAVE_ALL);
}

int seqrt_model_load(const seqrt_model *m, void *state, const char *path)
{
    int had_opt = 1;
    if (load_file(path, m->tensors, m->ntensors, state, &had_opt))
        return -1;
    /* a weights-only file: fresh optimizer tensors hold their first values
     * (Adagrad's accumulator, Nadam's u_product, the learning rate) */
    if (!had_opt && m->tensor_fill)
        for (int k = 0; k < m->ntensors; k++) {
            const seqrt_tensor *t = &m->tensors[k];
            if (t->kind != SEQRT_T_OPTIM || t->dtype != SEQRT_F32 || m->tensor_fill[k] == 0)
                continue;
            unsigned char *v = (unsigned char *)state + t->offset;
            long count = (long)(table_bytes(t) / 4);
            for (long i = 0; i < count; i++)
                memcpy(v + 4 * i, &m->tensor_fill[k], 4);
        }
    return 0;
}
