/*
 * npy.c - NumPy's .npy format (what np.save writes): reading the header,
 * and writing predictions.
 *
 * A .npy file is the magic "\x93NUMPY", a version (1.0: a 2-byte header
 * length; 2.0 and 3.0: 4 bytes), the header - a Python dict literal such
 * as {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
 * padded with spaces and a newline - then the elements in C order. seqc
 * reads the dtypes a data set is saved in: little-endian ('<' or '|')
 * uint8, int8, int16, int32, int64, float32 and float64. Everything else
 * is refused with what to do instead: a big-endian dtype, Fortran order,
 * another dtype (bool, float16, unsigned 16-64, complex, object,
 * structured), a header that is not the dict np.save writes (an unknown or
 * missing key, a malformed value), and a file whose data is not exactly
 * what the shape and dtype declare (docs/data.md's rule).
 *
 * Writing: seqrt_npy_write, version 1.0 with the header padded to a
 * multiple of 64 bytes as numpy does, little-endian whatever the host,
 * atomically (seqrt_atomic_open).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

typedef struct {
    const char *s, *end;
    const array_file *a;
} hdr;

static void skip_space(hdr *h)
{
    while (h->s < h->end && (*h->s == ' ' || *h->s == '\t' || *h->s == '\n' || *h->s == '\r'))
        h->s++;
}

static int bad_header(const hdr *h, size_t start, const char *what)
{
    return seqrt_fail("%s: malformed .npy header at byte %ld: %s (np.save writes {'descr': '<f4', "
                      "'fortran_order': False, 'shape': (n, ...), })",
                      h->a->path, (long)start, what);
}

/* A quoted Python string ('...' or "...") into out (at most cap - 1
 * characters); 0 or -1. */
static int str_token(hdr *h, char *out, size_t cap)
{
    skip_space(h);
    if (h->s >= h->end || (*h->s != '\'' && *h->s != '"'))
        return -1;
    char q = *h->s++;
    size_t n = 0;
    while (h->s < h->end && *h->s != q) {
        if (n + 1 >= cap || *h->s == '\\')
            return -1;
        out[n++] = *h->s++;
    }
    if (h->s >= h->end)
        return -1;
    h->s++;
    out[n] = '\0';
    return 0;
}

static int punct(hdr *h, char c)
{
    skip_space(h);
    if (h->s < h->end && *h->s == c) {
        h->s++;
        return 0;
    }
    return -1;
}

/* (a, b, ...) of non-negative integers: a tuple, a one-tuple "(a,)" or
 * "()"; a python long suffix "L" (numpy 1.x under Python 2) is accepted. */
static int shape_token(hdr *h, array_file *a)
{
    if (punct(h, '('))
        return -1;
    a->ndim = 0;
    for (;;) {
        skip_space(h);
        if (h->s < h->end && *h->s == ')') {
            h->s++;
            return 0;
        }
        if (h->s >= h->end || *h->s < '0' || *h->s > '9')
            return -1;
        long v = 0;
        while (h->s < h->end && *h->s >= '0' && *h->s <= '9') {
            if (v > (INT32_MAX - (*h->s - '0')) / 10)
                return -2;
            v = v * 10 + (*h->s++ - '0');
        }
        if (h->s < h->end && *h->s == 'L')
            h->s++;
        if (a->ndim == ARRAY_MAX_DIMS)
            return -3;
        a->dim[a->ndim++] = v;
        skip_space(h);
        if (h->s < h->end && *h->s == ',')
            h->s++;
        else if (!(h->s < h->end && *h->s == ')'))
            return -1;
    }
}

static int dtype_of(array_file *a, const char *descr)
{
    static const struct {
        const char *name;
        array_type type;
        int size;
    } types[] = {
        {"|u1", ARR_U8, 1}, {"<u1", ARR_U8, 1}, {"|i1", ARR_I8, 1}, {"<i1", ARR_I8, 1},
        {"<i2", ARR_I16, 2}, {"<i4", ARR_I32, 4}, {"<i8", ARR_I64, 8}, {"<f4", ARR_F32, 4},
        {"<f8", ARR_F64, 8},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(descr, types[i].name)) {
            a->type = types[i].type;
            a->size = types[i].size;
            return 0;
        }
    if (descr[0] == '>' && strlen(descr) == 3 && strchr("uif", descr[1]))
        return seqrt_fail("%s: dtype '%s' is big-endian; seqc reads little-endian data: save it with "
                          "np.save(path, x.astype(x.dtype.newbyteorder('<')))", a->path, descr);
    return seqrt_fail("%s: dtype '%s' is not read; seqc reads uint8, int8, int16, int32, int64, float32 and "
                      "float64 (x.astype(np.float32) converts)", a->path, descr);
}

int npy_parse(array_file *a)
{
    const unsigned char *b = a->buf;
    a->format = "npy";
    if (a->len < 10)
        return seqrt_fail("%s: the file ends inside the .npy preamble (%zu bytes)", a->path, a->len);
    int major = b[6], minor = b[7];
    size_t start, hlen;
    if (major == 1) {
        start = 10;
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if (major == 2 || major == 3) {
        if (a->len < 12)
            return seqrt_fail("%s: the file ends inside the .npy preamble (%zu bytes)", a->path, a->len);
        start = 12;
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        return seqrt_fail("%s: .npy format version %d.%d is not read (seqc reads 1.0, 2.0 and 3.0)", a->path,
                          major, minor);
    }
    if (hlen > a->len - start)
        return seqrt_fail("%s: the .npy preamble declares a %zu-byte header, but only %zu bytes follow it",
                          a->path, hlen, a->len - start);
    hdr h = {(const char *)b + start, (const char *)b + start + hlen, a};
    char key[32], descr[32] = "";
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (memchr(h.s, '\0', hlen))
        return bad_header(&h, start + (size_t)((const char *)memchr(h.s, '\0', hlen) - h.s), "a NUL byte");
    if (punct(&h, '{'))
        return bad_header(&h, start, "it does not start with '{'");
    for (;;) {
        size_t pos = start + (size_t)(h.s - ((const char *)b + start));
        if (!punct(&h, '}'))
            break;
        if (str_token(&h, key, sizeof key) || punct(&h, ':'))
            return bad_header(&h, pos, "expected a quoted key and ':'");
        if (!strcmp(key, "descr")) {
            if (str_token(&h, descr, sizeof descr))
                return bad_header(&h, pos, "'descr' is not a quoted dtype such as '<f4'");
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            skip_space(&h);
            if ((size_t)(h.end - h.s) >= 4 && !memcmp(h.s, "True", 4)) {
                return seqrt_fail("%s: fortran_order is True (a column-major array); seqc reads C order: save "
                                  "np.ascontiguousarray(x)", a->path);
            } else if ((size_t)(h.end - h.s) >= 5 && !memcmp(h.s, "False", 5)) {
                h.s += 5;
            } else {
                return bad_header(&h, pos, "'fortran_order' is neither True nor False");
            }
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            int rc = shape_token(&h, a);
            if (rc == -2)
                return seqrt_fail("%s: the .npy header declares an axis of 2^31 or more elements", a->path);
            if (rc == -3)
                return seqrt_fail("%s: the .npy header declares more than %d axes", a->path, ARRAY_MAX_DIMS);
            if (rc)
                return bad_header(&h, pos, "'shape' is not a tuple of integers");
            have_shape = 1;
        } else {
            char what[64];
            snprintf(what, sizeof what, "an unknown key '%s'", key);
            return bad_header(&h, pos, what);
        }
        if (punct(&h, ',')) {
            if (punct(&h, '}'))
                return bad_header(&h, pos, "expected ',' or '}' after a value");
            break;
        }
    }
    skip_space(&h);
    if (h.s != h.end)
        return bad_header(&h, start + (size_t)(h.s - ((const char *)b + start)), "text after the closing '}'");
    if (!have_descr || !have_order || !have_shape)
        return seqrt_fail("%s: the .npy header lacks '%s'", a->path,
                          !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    if (dtype_of(a, descr))
        return -1;
    if (a->ndim == 0)
        return seqrt_fail("%s: the array is a scalar (shape ()); seqc reads arrays of samples, shape (n, ...)",
                          a->path);
    a->data = start + hlen;
    if (array_count(a) < 0)
        return -1;
    size_t want = (size_t)a->count * (size_t)a->size, have = a->len - a->data;
    if (have != want) {
        char shape[256];
        int n = snprintf(shape, sizeof shape, "(");
        for (int d = 0; d < a->ndim && n < 200; d++)
            n += snprintf(shape + n, sizeof shape - (size_t)n, "%s%ld", d ? ", " : "", a->dim[d]);
        snprintf(shape + n, sizeof shape - (size_t)n, "%s)", a->ndim == 1 ? "," : "");
        return seqrt_fail("%s: the header declares shape %s of %s: %zu bytes of data after the %zu-byte header, "
                          "but the file has %zu%s", a->path, shape, array_type_name(a->type), want, a->data, have,
                          have < want ? " (truncated)" : " (extra bytes at the end)");
    }
    return 0;
}

/* ---------------------------------------------------------------- writing */

int seqrt_npy_write(const char *path, const char *descr, const void *data, int ndim, const long *shape)
{
    int size = !strcmp(descr, "<f4") ? 4 : !strcmp(descr, "<i8") ? 8 : 0;
    if (!size || ndim < 1 || ndim > ARRAY_MAX_DIMS)
        return seqrt_fail("%s: internal error: npy write of %s, %d axes", path, descr, ndim);
    char head[512];
    int n = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        n += snprintf(head + n, sizeof head - (size_t)n, "%s%ld", d ? ", " : "", shape[d]);
        count *= (size_t)shape[d];
    }
    n += snprintf(head + n, sizeof head - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    /* pad with spaces and a newline so that data starts at a multiple of 64 */
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    if (n + pad + 1 >= (int)sizeof head)
        return seqrt_fail("%s: internal error: npy header too long", path);
    memset(head + n, ' ', (size_t)pad);
    head[n + pad] = '\n';
    int hlen = n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    seqrt_atomic_file f;
    if (seqrt_atomic_open(&f, path))
        return -1;
    int ok = fwrite(pre, 1, 10, f.f) == 10 && fwrite(head, 1, (size_t)hlen, f.f) == (size_t)hlen;
    const unsigned char *p = data;
    for (size_t i = 0; ok && i < count; i++) {
        unsigned char le[8];
        if (size == 4) {
            uint32_t u;
            memcpy(&u, p + 4 * i, 4);
            for (int k = 0; k < 4; k++)
                le[k] = (unsigned char)(u >> (8 * k));
        } else {
            uint64_t u;
            memcpy(&u, p + 8 * i, 8);
            for (int k = 0; k < 8; k++)
                le[k] = (unsigned char)(u >> (8 * k));
        }
        ok = fwrite(le, 1, (size_t)size, f.f) == (size_t)size;
    }
    if (!ok) {
        int e = errno;
        seqrt_atomic_abort(&f);
        return seqrt_fail("%s: cannot write: %s", path, strerror(e ? e : EIO));
    }
    return seqrt_atomic_commit(&f);
}
