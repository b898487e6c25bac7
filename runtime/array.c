/*
 * array.c - loading data sets from binary array files: NumPy .npy (npy.c)
 * and IDX (idx.c, the MNIST format), either of them gzip-compressed.
 *
 * The format is told by the first bytes, not the name: "\x93NUMPY" is
 * .npy, two zero bytes are IDX (no CSV file starts with a NUL byte), and
 * the gzip magic 1f 8b means the same after decompressing (zlib). The file
 * is read whole and decompressed in memory, its header parsed, and every
 * element converted to float with the rules of docs/data.md:
 *
 *   - uint8 and the other integer types become the same value as a float
 *     (pixels stay 0..255: a model scales them with Rescaling); an integer
 *     beyond 2^24, which float cannot hold exactly, is refused;
 *   - float32 is taken as it is, float64 rounded to the nearest float (as
 *     the CSV reader rounds what strtod reads); NaN, infinities and values
 *     beyond the float range are refused;
 *   - features: the file is (n, ...) with the model's input shape, that
 *     shape without its trailing axes of 1 (MNIST's (n, 28, 28) for a
 *     [28, 28, 1] model), the flat (n, inputs), or any shape of the right
 *     size for a flat model; anything else is refused with both shapes;
 *   - targets: (n,) or (n, k), encoded as seqrt_csv_load encodes them for
 *     the model's loss: a class index for the sparse loss (an integer in
 *     [0, outputs)), one-hot rows for categorical cross-entropy (from class
 *     indices, or (n, outputs) rows of values in [0, 1]), values in [0, 1]
 *     for binary cross-entropy, finite values otherwise;
 *   - features and targets from two files must have the same number of
 *     samples.
 *
 * Every refusal names the file and what is wrong, with the sample, the
 * element and the byte offset for a value; on failure nothing is kept.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "array.h"

const char *array_type_name(array_type t)
{
    static const char *const names[] = {"uint8", "int8", "int16", "int32", "int64", "float32", "float64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

long array_count(array_file *a)
{
    long long n = 1;
    const long long limit = (1LL << 40) / 8;
    for (int d = 0; d < a->ndim; d++) {
        /* checked before the product, which could overflow: n stays at
         * most limit */
        if (a->dim[d] > 0 && n > limit / a->dim[d]) {
            seqrt_fail("%s: the header declares %s elements than seqc can load", a->path, "more");
            return -1;
        }
        n *= a->dim[d];
    }
    a->count = (long)n;
    return a->count;
}

const char *array_where(const array_file *a)
{
    return a->gzip ? " of the decompressed data" : "";
}

/* ---------------------------------------------------------------- reading and decompressing */

static int read_whole(const char *path, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return seqrt_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    for (;;) {
        if (!b) {
            fclose(f);
            return seqrt_fail("%s: out of memory", path);
        }
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *nb = cap > ((size_t)1 << 40) ? NULL : realloc(b, cap * 2);
        if (!nb)
            free(b);
        b = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(b);
        return seqrt_fail("%s: cannot read: %s", path, strerror(errno ? errno : EIO));
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Decompresses a gzip file (one or more members) in memory. */
static int gunzip(const char *path, unsigned char **buf, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return seqrt_fail("%s: cannot start zlib", path);
    size_t cap = *len * 4 + 1024, n = 0;
    unsigned char *out = malloc(cap);
    if (!out) {
        inflateEnd(&z);
        return seqrt_fail("%s: out of memory decompressing", path);
    }
    z.next_in = *buf;
    z.avail_in = (uInt)(*len > UINT32_MAX ? UINT32_MAX : *len);
    int rc = Z_OK;
    const char *why = NULL;
    for (;;) {
        if (n == cap) {
            unsigned char *no = cap > ((size_t)1 << 40) ? NULL : realloc(out, cap * 2);
            if (!no) {
                free(out);
                out = NULL;
                break;
            }
            out = no;
            cap *= 2;
        }
        z.next_out = out + n;
        z.avail_out = (uInt)(cap - n > UINT32_MAX ? UINT32_MAX : cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = (size_t)(z.next_out - out);
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0)
                break;
            if (inflateReset(&z) != Z_OK) {   /* another gzip member follows */
                why = "cannot restart zlib";
                break;
            }
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            why = "the gzip data is truncated (it ends before its end-of-stream marker)";
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            why = z.msg ? z.msg : "corrupt gzip data";
            break;
        }
    }
    size_t consumed = (size_t)(z.next_in - *buf);
    inflateEnd(&z);
    if (!out)
        return seqrt_fail("%s: out of memory decompressing", path);
    if (why) {
        free(out);
        return seqrt_fail("%s: %s (at byte %zu of the compressed file)", path, why, consumed);
    }
    free(*buf);
    *buf = out;
    *len = n;
    return 0;
}

static int has_magic(const unsigned char *b, size_t len, const char *magic, size_t n)
{
    return len >= n && !memcmp(b, magic, n);
}

int seqrt_data_is_binary(const char *path)
{
    unsigned char b[6];
    FILE *f = fopen(path, "rb");
    if (!f)
        return seqrt_fail("%s: cannot open: %s", path, strerror(errno));
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    return has_magic(b, n, "\x93NUMPY", 6) || has_magic(b, n, "\0\0", 2) || has_magic(b, n, "\x1f\x8b", 2);
}

static void array_free(array_file *a)
{
    free(a->buf);
    memset(a, 0, sizeof *a);
}

/* Reads and parses path; on failure a is empty. */
static int array_open(array_file *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->path = path;
    if (read_whole(path, &a->buf, &a->len))
        return -1;
    if (has_magic(a->buf, a->len, "\x1f\x8b", 2)) {
        a->gzip = 1;
        if (gunzip(path, &a->buf, &a->len)) {
            array_free(a);
            return -1;
        }
    }
    int rc;
    if (has_magic(a->buf, a->len, "\x93NUMPY", 6)) {
        rc = npy_parse(a);
    } else if (has_magic(a->buf, a->len, "\0\0", 2)) {
        rc = idx_parse(a);
    } else {
        char first[40] = "";
        int n = 0;
        for (size_t i = 0; i < 4 && i < a->len; i++)
            n += snprintf(first + n, sizeof first - (size_t)n, "%s%02x", i ? " " : "", a->buf[i]);
        rc = seqrt_fail("%s: %sneither a NumPy .npy file nor an IDX file (it starts with bytes %s); seqc reads "
                        ".npy (np.save), IDX (MNIST) and CSV files%s", path, a->gzip ? "decompressed, " : "",
                        a->len ? first : "nothing: the file is empty",
                        a->gzip ? " (a CSV file must be uncompressed)" : "");
    }
    if (rc) {
        path = a->path;
        array_free(a);
        a->path = path;
    }
    return rc;
}

/* ---------------------------------------------------------------- elements */

static double element(const array_file *a, long i)
{
    const unsigned char *p = a->buf + a->data + (size_t)i * (size_t)a->size;
    uint64_t u = 0;
    for (int k = 0; k < a->size; k++)
        u |= (uint64_t)p[a->big_endian ? a->size - 1 - k : k] << (8 * k);
    uint32_t u32 = (uint32_t)u;
    float f;
    double d;
    switch (a->type) {
    case ARR_U8:
        return (double)(uint8_t)u;
    case ARR_I8:
        return (double)(int8_t)(uint8_t)u;
    case ARR_I16:
        return (double)(int16_t)(uint16_t)u;
    case ARR_I32:
        return (double)(int32_t)u32;
    case ARR_I64:
        return (double)(int64_t)u;
    case ARR_F32:
        memcpy(&f, &u32, 4);
        return f;
    case ARR_F64:
        memcpy(&d, &u, 8);
        return d;
    }
    return NAN;
}

static int is_integer_type(array_type t)
{
    return t == ARR_U8 || t == ARR_I8 || t == ARR_I16 || t == ARR_I32 || t == ARR_I64;
}

/* "sample 3, element (14, 2) at byte offset 1234" */
static const char *where(const array_file *a, long i, char *buf, size_t cap)
{
    long per = a->count / (a->dim[0] ? a->dim[0] : 1), rest = i % (per ? per : 1);
    int n = snprintf(buf, cap, "sample %ld", i / (per ? per : 1));
    if (a->ndim > 1) {
        long idx[ARRAY_MAX_DIMS];
        for (int d = a->ndim - 1; d >= 1; d--) {
            idx[d] = rest % a->dim[d];
            rest /= a->dim[d];
        }
        n += snprintf(buf + n, cap - (size_t)n, ", element (");
        for (int d = 1; d < a->ndim && (size_t)n < cap; d++)
            n += snprintf(buf + n, cap - (size_t)n, "%s%ld", d > 1 ? ", " : "", idx[d]);
        n += snprintf(buf + n, cap - (size_t)n, ")");
    }
    if ((size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " at byte offset %zu%s", a->data + (size_t)i * (size_t)a->size,
                 array_where(a));
    return buf;
}

/* Element i as a float, exactly or by the documented rounding; -1 with a
 * message otherwise. */
static int to_float(const array_file *a, long i, float *out, double *value)
{
    double v = element(a, i);
    char buf[200];
    *value = v;
    if (isnan(v) || isinf(v))
        return seqrt_fail("%s: %s at %s: NaN and infinite values are not allowed", a->path,
                          isnan(v) ? "NaN" : "an infinite value", where(a, i, buf, sizeof buf));
    if (is_integer_type(a->type) && fabs(v) > 16777216.0)
        return seqrt_fail("%s: %s value %.0f at %s is not exactly a 32-bit float (integers up to 2^24 are)",
                          a->path, array_type_name(a->type), v, where(a, i, buf, sizeof buf));
    if (a->type == ARR_F64 && fabs(v) > FLT_MAX && isinf((float)v))
        return seqrt_fail("%s: value %g at %s is out of range for a 32-bit float", a->path, v,
                          where(a, i, buf, sizeof buf));
    *out = (float)v;
    return 0;
}

/* ---------------------------------------------------------------- shapes */

static const char *shape_text(const long *dim, int ndim, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "(");
    for (int d = 0; d < ndim && (size_t)n < cap; d++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%ld", d ? ", " : "", dim[d]);
    if ((size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, "%s)", ndim == 1 ? "," : "");
    return buf;
}

static const char *model_shape(const int *dim, int rank, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "[");
    for (int d = 0; d < rank && (size_t)n < cap; d++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%d", d ? ", " : "", dim[d]);
    if ((size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, "]");
    return buf;
}

/* The sample shape (dims 1..) against the model's input shape. */
static int check_features(const array_file *a, const seqrt_model *m)
{
    char s1[200], s2[200];
    if (a->dim[0] == 0)
        return seqrt_fail("%s: the file holds no samples (shape %s)", a->path, shape_text(a->dim, a->ndim, s1,
                                                                                           sizeof s1));
    long per = a->count / a->dim[0];
    const long *sd = a->dim + 1;
    int sr = a->ndim - 1;
    if (per == m->in) {
        if (sr <= 1 || m->in_rank <= 1)
            return 0;   /* one of the two is flat: row-major order */
        int mr = m->in_rank;
        while (mr > 1 && m->in_shape[mr - 1] == 1)
            mr--;   /* [28, 28, 1] also takes (28, 28) */
        int r = sr;
        while (r > 1 && sd[r - 1] == 1)
            r--;
        int same = r == mr;
        for (int d = 0; same && d < r; d++)
            same = sd[d] == m->in_shape[d];
        if (same)
            return 0;
    }
    return seqrt_fail("%s: samples of shape %s (%ld values), but the model's input is %s (%d values)", a->path,
                      shape_text(sd, sr, s1, sizeof s1), per, model_shape(m->in_shape, m->in_rank, s2, sizeof s2),
                      m->in);
}

/* ---------------------------------------------------------------- loading */

static void fill_info(seqrt_array_info *info, const array_file *a)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    snprintf(info->format, sizeof info->format, "%s", a->format);
    snprintf(info->dtype, sizeof info->dtype, "%s", array_type_name(a->type));
    info->gzip = a->gzip;
    info->ndim = a->ndim < SEQRT_MAX_RANK + 1 ? a->ndim : SEQRT_MAX_RANK + 1;
    for (int d = 0; d < info->ndim; d++)
        info->shape[d] = a->dim[d];
}

static int load_features(seqrt_data *d, const array_file *a, const seqrt_model *m)
{
    if (check_features(a, m))
        return -1;
    d->rows = a->dim[0];
    d->cols = m->in;
    d->x = malloc(sizeof(float) * (size_t)a->count);
    if (!d->x)
        return seqrt_fail("%s: out of memory for %ld samples", a->path, d->rows);
    for (long i = 0; i < a->count; i++) {
        double v;
        if (to_float(a, i, &d->x[i], &v))
            return -1;
    }
    return 0;
}

static int load_targets(seqrt_data *d, const array_file *a, const seqrt_model *m, const char *xpath)
{
    char s1[200], buf[200];
    if (a->dim[0] != d->rows)
        return seqrt_fail("%s: %ld targets, but %s has %ld samples (the two files must have the same number "
                          "of rows)", a->path, a->dim[0], xpath, d->rows);
    long per = a->dim[0] ? a->count / a->dim[0] : 0;
    int sparse = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    int cce = m->loss == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY;
    int classes = sparse || (cce && per == 1);   /* one class index per sample */
    if (a->ndim > 2 && per != m->out)
        return seqrt_fail("%s: targets of shape %s; seqc reads (n,) or (n, k)", a->path,
                          shape_text(a->dim, a->ndim, s1, sizeof s1));
    if (!classes && per != m->out)
        return seqrt_fail("%s: %ld target%s per sample (shape %s), but the model has %d output%s%s", a->path, per,
                          per == 1 ? "" : "s", shape_text(a->dim, a->ndim, s1, sizeof s1), m->out,
                          m->out == 1 ? "" : "s", cce ? " (give one class index per sample, or one value per "
                                                        "output)" : "");
    if (sparse && per != 1)
        return seqrt_fail("%s: %ld targets per sample (shape %s); sparse_categorical_crossentropy takes one class "
                          "index per sample, shape (n,)", a->path, per, shape_text(a->dim, a->ndim, s1,
                                                                                     sizeof s1));
    d->ycols = cce ? m->out : sparse ? 1 : m->out;
    d->y = calloc((size_t)d->rows * (size_t)d->ycols, sizeof(float));
    if (!d->y)
        return seqrt_fail("%s: out of memory for %ld targets", a->path, d->rows);
    for (long i = 0; i < a->count; i++) {
        float f = 0.0f;
        double v = 0.0;
        if (to_float(a, i, &f, &v))
            return -1;
        if (classes) {
            if (v != floor(v) || v < 0 || v >= m->out)
                return seqrt_fail("%s: label %g at %s is not a class of the model's %d outputs (an integer in "
                                  "[0, %d))", a->path, v, where(a, i, buf, sizeof buf), m->out, m->out);
            if (cce)
                d->y[i * (long)m->out + (long)v] = 1.0f;
            else
                d->y[i] = (float)v;
        } else {
            if ((cce || m->loss == SEQRT_LOSS_BINARY_CROSSENTROPY) && !(v >= 0 && v <= 1))
                return seqrt_fail("%s: target %g at %s is outside [0, 1] (%s takes probabilities)", a->path, v,
                                  where(a, i, buf, sizeof buf), seqrt_loss_name(m->loss));
            d->y[i] = f;
        }
    }
    return 0;
}

static int load(seqrt_data *d, const char *xpath, const char *ypath, const seqrt_model *m,
                seqrt_array_info *xi, seqrt_array_info *yi)
{
    array_file a;
    memset(d, 0, sizeof *d);
    int rc = array_open(&a, xpath);
    if (!rc) {
        fill_info(xi, &a);
        rc = load_features(d, &a, m);
        array_free(&a);
    }
    if (!rc && ypath) {
        rc = array_open(&a, ypath);
        if (!rc) {
            fill_info(yi, &a);
            rc = load_targets(d, &a, m, xpath);
            array_free(&a);
        }
    }
    if (rc)
        seqrt_data_free(d);
    return rc;
}

int seqrt_array_load(seqrt_data *d, const char *xpath, const char *ypath, const seqrt_model *m,
                     seqrt_array_info *xi, seqrt_array_info *yi)
{
    return load(d, xpath, ypath, m, xi, yi);
}

int seqrt_array_load_features(seqrt_data *d, const char *xpath, const seqrt_model *m, seqrt_array_info *xi)
{
    return load(d, xpath, NULL, m, xi, NULL);
}
