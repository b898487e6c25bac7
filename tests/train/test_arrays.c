/*
 * test_arrays.c - the binary data readers (array.c, npy.c, idx.c) and the
 * command line's use of them.
 *
 * Files are written here byte by byte (a .npy header as np.save writes
 * it, IDX headers big-endian, gzip through zlib), so each case states
 * exactly what is on disk. One table: each case is read exactly (every
 * value compared bit for bit with what a reader of the format must give)
 * or refused with a message that names the file and what is wrong (the
 * checked part of it is in the table). Then: the target encodings, the
 * .npy writer read back, format sniffing, and train/evaluate/predict with
 * binary files (the counts they print, --output OUT.npy, the errors for a
 * missing label file and CSV options on binary data).
 */
#include "check.h"
#include "toy_model.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <unistd.h>

#include <zlib.h>

/* ---------------------------------------------------------------- writing files */

typedef struct {
    unsigned char b[1 << 16];
    size_t n;
} bytes;

static void put(bytes *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_le(bytes *o, uint64_t v, int size)
{
    for (int k = 0; k < size; k++)
        o->b[o->n++] = (unsigned char)(k < 8 ? v >> (8 * k) : 0); /* wider than v: zero bytes */
}

static void put_be(bytes *o, uint64_t v, int size)
{
    for (int k = size - 1; k >= 0; k--)
        o->b[o->n++] = (unsigned char)(k < 8 ? v >> (8 * k) : 0);
}

/* A .npy file: version 1.0, the dict text as given (padded to 64 bytes
 * with spaces and a newline, as numpy does). */
static void npy_header(bytes *o, const char *dict)
{
    size_t n = strlen(dict), pad = (64 - (10 + n + 1) % 64) % 64;
    put(o, "\x93NUMPY\x01\x00", 8);
    put_le(o, n + pad + 1, 2);
    put(o, dict, n);
    memset(o->b + o->n, ' ', pad);
    o->n += pad;
    o->b[o->n++] = '\n';
}

static void put_f32(bytes *o, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_le(o, u, 4);
}

static void put_f64(bytes *o, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_le(o, u, 8);
}

static void save(const char *path, const bytes *o)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(o->b, 1, o->n, f) != o->n || fclose(f)) {
        perror(path);
        exit(2);
    }
}

static void save_gz(const char *path, const bytes *o)
{
    gzFile g = gzopen(path, "wb");
    if (!g || gzwrite(g, o->b, (unsigned)o->n) != (int)o->n || gzclose(g) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* ---------------------------------------------------------------- models */

static seqrt_model model(int in, int out, int loss, int rank, const int *shape)
{
    seqrt_model m;
    toy_defaults();
    toy.in = in;
    toy.out = out;
    toy.loss = loss;
    toy_model(&m);
    m.in_rank = rank;
    for (int d = 0; d < rank; d++)
        m.in_shape[d] = shape[d];
    return m;
}

/* ---------------------------------------------------------------- features: one table */

typedef struct {
    const char *what;
    void (*make)(bytes *o);
    int gzip;
    int rank, shape[3];           /* the model's input shape */
    const char *error;            /* NULL: read; else a part of the message */
    long rows;
    float x[8];
} feature_case;

static void f32_3x2(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }");
    float v[] = {1.5f, -0.0f, 2.0f, 1e-40f, -3.25f, 65504.0f};
    for (int i = 0; i < 6; i++)
        put_f32(o, v[i]);
}
static void f64_2x2(bytes *o)
{
    npy_header(o, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }");
    double v[] = {0.1, -1.0 / 3.0, 1e300 * 0 + 3.0, 2.5};
    for (int i = 0; i < 4; i++)
        put_f64(o, v[i]);
}
static void u8_2x2x1(bytes *o)
{
    npy_header(o, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 1), }");
    unsigned char v[] = {0, 255, 17, 128};
    put(o, v, 4);
}
static void i64_2x2(bytes *o)
{
    npy_header(o, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }");
    int64_t v[] = {-7, 16777216, 3, 0};
    for (int i = 0; i < 4; i++)
        put_le(o, (uint64_t)v[i], 8);
}
static void i32_big(bytes *o)
{
    npy_header(o, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }");
    put_le(o, 16777217, 4);
    put_le(o, 1, 4);
}
static void f32_nan(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }");
    put_f32(o, 1), put_f32(o, 2), put_f32(o, NAN), put_f32(o, 4);
}
static void f32_inf(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }");
    put_f32(o, 1), put_f32(o, -INFINITY), put_f32(o, 3), put_f32(o, 4);
}
static void f64_huge(bytes *o)
{
    npy_header(o, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }");
    put_f64(o, 1e39), put_f64(o, 1);
}
static void big_endian(bytes *o)
{
    npy_header(o, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }");
    put_be(o, 0, 8);
}
static void fortran(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }");
    put_le(o, 0, 16);
}
static void float16(bytes *o)
{
    npy_header(o, "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }");
    put_le(o, 0, 4);
}
static void truncated(bytes *o)
{
    f32_3x2(o);
    o->n -= 3;
}
static void extra(bytes *o)
{
    f32_3x2(o);
    o->b[o->n++] = 0;
}
static void bad_magic(bytes *o)
{
    put(o, "PK\x03\x04 not data", 13);
}
static void version4(bytes *o)
{
    f32_3x2(o);
    o->b[6] = 4;
}
static void header_short(bytes *o)
{
    put(o, "\x93NUMPY\x01\x00\xff\x00{'descr'", 17);
}
static void unknown_key(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), 'extra': 1, }");
    put_le(o, 0, 8);
}
static void scalar(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    put_le(o, 0, 4);
}
static void wrong_sample(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }");
    put_le(o, 0, 12);
}
static void transposed_image(bytes *o)
{
    npy_header(o, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 2, 2), }");
    put_le(o, 0, 4);
}
static void no_samples(bytes *o)
{
    npy_header(o, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }");
}
static void idx_images(bytes *o)
{
    put(o, "\0\0\x08\x03", 4);
    put_be(o, 2, 4), put_be(o, 2, 4), put_be(o, 2, 4);
    unsigned char v[] = {1, 2, 3, 4, 5, 6, 7, 255};
    put(o, v, 8);
}
static void idx_f32(bytes *o)
{
    put(o, "\0\0\x0d\x02", 4);
    put_be(o, 1, 4), put_be(o, 2, 4);
    float v[] = {-1.25f, 3.0f};
    for (int i = 0; i < 2; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_be(o, u, 4);
    }
}
static void idx_type(bytes *o)
{
    put(o, "\0\0\x07\x01", 4);
    put_be(o, 2, 4);
    put_le(o, 0, 2);
}
static void idx_truncated(bytes *o)
{
    idx_images(o);
    o->n -= 1;
}
static void idx_header_cut(bytes *o)
{
    put(o, "\0\0\x08\x03\0\0\0\x02", 8);
}
static void csv_text(bytes *o)
{
    put(o, "a,b,y\n1,2,3\n", 12);
}

static const feature_case CASES[] = {
    {"npy float32, -0 and a denormal kept", f32_3x2, 0, 1, {2}, NULL, 3, {1.5f, -0.0f, 2.0f, 1e-40f, -3.25f, 65504.0f}},
    {"npy float32 gzip", f32_3x2, 1, 1, {2}, NULL, 3, {1.5f, -0.0f, 2.0f, 1e-40f, -3.25f, 65504.0f}},
    {"npy float64 rounded to nearest", f64_2x2, 0, 1, {2}, NULL, 2, {0.1f, -1.0f / 3.0f, 3.0f, 2.5f}},
    {"npy uint8 as 0..255", u8_2x2x1, 0, 2, {2, 1}, NULL, 2, {0, 255, 17, 128}},
    {"npy uint8 (n, 2, 1) for a flat model", u8_2x2x1, 0, 1, {2}, NULL, 2, {0, 255, 17, 128}},
    {"npy int64, 2^24 exact", i64_2x2, 0, 1, {2}, NULL, 2, {-7, 16777216, 3, 0}},
    {"IDX uint8 (n, 2, 2) for a [2, 2, 1] model", idx_images, 0, 3, {2, 2, 1}, NULL, 2, {1, 2, 3, 4, 5, 6, 7, 255}},
    {"IDX uint8 gzip", idx_images, 1, 3, {2, 2, 1}, NULL, 2, {1, 2, 3, 4, 5, 6, 7, 255}},
    {"IDX float32 big-endian", idx_f32, 0, 1, {2}, NULL, 1, {-1.25f, 3.0f}},
    {"int32 beyond 2^24", i32_big, 0, 1, {2}, "x.bin: int32 value 16777217 at sample 0, element (0) at byte offset 128 is "
     "not exactly a 32-bit float", 0, {0}},
    {"NaN", f32_nan, 0, 1, {2}, "x.bin: NaN at sample 1, element (0) at byte offset 136: NaN and infinite values are "
     "not allowed", 0, {0}},
    {"NaN in gzip: offset in the decompressed data", f32_nan, 1, 1, {2}, "x.bin: NaN at sample 1, element (0) at "
     "byte offset 136 of the decompressed data", 0, {0}},
    {"infinity", f32_inf, 0, 1, {2}, "x.bin: an infinite value at sample 0, element (1) at byte offset 132", 0, {0}},
    {"float64 beyond float", f64_huge, 0, 1, {2}, "x.bin: value 1e+39 at sample 0, element (0) at byte offset 128 is "
     "out of range for a 32-bit float", 0, {0}},
    {"big-endian", big_endian, 0, 1, {2}, "x.bin: dtype '>f4' is big-endian", 0, {0}},
    {"Fortran order", fortran, 0, 1, {2}, "x.bin: fortran_order is True (a column-major array)", 0, {0}},
    {"float16", float16, 0, 1, {2}, "x.bin: dtype '<f2' is not read; seqc reads uint8, int8, int16, int32, int64, "
     "float32 and float64", 0, {0}},
    {"truncated data", truncated, 0, 1, {2}, "x.bin: the header declares shape (3, 2) of float32: 24 bytes of data "
     "after the 128-byte header, but the file has 21 (truncated)", 0, {0}},
    {"extra bytes", extra, 0, 1, {2}, "but the file has 25 (extra bytes at the end)", 0, {0}},
    {"neither format", bad_magic, 0, 1, {2}, "x.bin: neither a NumPy .npy file nor an IDX file (it starts with bytes "
     "50 4b 03 04)", 0, {0}},
    {"gzip CSV", csv_text, 1, 1, {2}, "x.bin: decompressed, neither a NumPy .npy file nor an IDX file (it starts with "
     "bytes 61 2c 62 2c); seqc reads .npy (np.save), IDX (MNIST) and CSV files (a CSV file must be uncompressed)", 0,
     {0}},
    {"npy version 4", version4, 0, 1, {2}, "x.bin: .npy format version 4.0 is not read", 0, {0}},
    {"header longer than the file", header_short, 0, 1, {2}, "x.bin: the .npy preamble declares a 255-byte header, "
     "but only 7 bytes follow it", 0, {0}},
    {"unknown key", unknown_key, 0, 1, {2}, "x.bin: malformed .npy header at byte 67: an unknown key 'extra'", 0, {0}},
    {"scalar", scalar, 0, 1, {2}, "x.bin: the array is a scalar (shape ())", 0, {0}},
    {"no samples", no_samples, 0, 1, {2}, "x.bin: the file holds no samples (shape (0, 2))", 0, {0}},
    {"sample size", wrong_sample, 0, 1, {2}, "x.bin: samples of shape (3,) (3 values), but the model's input is [2] "
     "(2 values)", 0, {0}},
    {"same size, other shape", transposed_image, 0, 3, {2, 2, 1}, "x.bin: samples of shape (1, 2, 2) (4 values), but "
     "the model's input is [2, 2, 1] (4 values)", 0, {0}},
    {"IDX type byte", idx_type, 0, 1, {2}, "x.bin: IDX type byte 0x07 (byte 2) is not one of", 0, {0}},
    {"IDX truncated", idx_truncated, 0, 3, {2, 2, 1}, "x.bin: the IDX header declares 2x2x2 uint8 (24 bytes with the "
     "16-byte header), the file has 23 (truncated)", 0, {0}},
    {"IDX truncated, gzip", idx_truncated, 1, 3, {2, 2, 1}, "the file (decompressed) has 23 (truncated)", 0, {0}},
    {"IDX header cut", idx_header_cut, 0, 3, {2, 2, 1}, "x.bin: the file ends inside the IDX header (8 bytes; 3 axes "
     "need 16)", 0, {0}},
};

static void test_features(void)
{
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        const feature_case *c = &CASES[k];
        static bytes o;
        o.n = 0;
        c->make(&o);
        if (c->gzip)
            save_gz("x.bin", &o);
        else
            save("x.bin", &o);
        long in = 1;
        for (int d = 0; d < c->rank; d++)
            in *= c->shape[d];
        seqrt_model m = model((int)in, 1, SEQRT_LOSS_MSE, c->rank, c->shape);
        seqrt_data d;
        int rc = seqrt_array_load_features(&d, "x.bin", &m, NULL);
        if (c->error) {
            if (rc == 0)
                fprintf(stderr, "case '%s': read, expected an error\n", c->what);
            CHECK(rc == -1);
            CHECK_CONTAINS(seqrt_error(), c->error);
            CHECK(d.x == NULL && d.y == NULL && d.rows == 0);
            continue;
        }
        if (rc) {
            fprintf(stderr, "case '%s': %s\n", c->what, seqrt_error());
            check_failures++;
            continue;
        }
        CHECK(d.rows == c->rows && d.cols == in && d.y == NULL);
        for (long i = 0; i < d.rows * in; i++)
            if (memcmp(&d.x[i], &c->x[i], 4)) {
                fprintf(stderr, "case '%s': x[%ld] is %.9g, expected %.9g\n", c->what, i, d.x[i], c->x[i]);
                check_failures++;
            }
        seqrt_data_free(&d);
    }
}

/* ---------------------------------------------------------------- targets */

static void labels_npy(const char *path, const char *descr, int ndim, long n, long k, const double *v)
{
    static bytes o;
    char dict[200];
    o.n = 0;
    if (ndim == 1)
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%ld,), }", descr, n);
    else
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%ld, %ld), }", descr, n, k);
    npy_header(&o, dict);
    for (long i = 0; i < n * (ndim == 1 ? 1 : k); i++) {
        if (!strcmp(descr, "<i8"))
            put_le(&o, (uint64_t)(int64_t)v[i], 8);
        else
            put_f32(&o, (float)v[i]);
    }
    save(path, &o);
}

static void features3(void)
{
    static bytes o;
    o.n = 0;
    f32_3x2(&o);
    save("x3.npy", &o);
}

static int load_targets(int loss, int out, const char *error, seqrt_data *d)
{
    seqrt_model m = model(2, out, loss, 1, (const int[]){2});
    int rc = seqrt_array_load(d, "x3.npy", "y.npy", &m, NULL, NULL);
    if (error) {
        CHECK(rc == -1);
        CHECK_CONTAINS(seqrt_error(), error);
        CHECK(d->x == NULL && d->y == NULL);
    } else if (rc) {
        fprintf(stderr, "targets: %s\n", seqrt_error());
        check_failures++;
    }
    return rc;
}

static void test_targets(void)
{
    seqrt_data d;
    features3();
    /* sparse: class indices, int64 or integral floats */
    labels_npy("y.npy", "<i8", 1, 3, 1, (const double[]){2, 0, 1});
    if (!load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3, NULL, &d)) {
        CHECK(d.ycols == 1 && d.y[0] == 2 && d.y[1] == 0 && d.y[2] == 1);
        seqrt_data_free(&d);
    }
    labels_npy("y.npy", "<f4", 2, 3, 1, (const double[]){2, 0, 1});
    if (!load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3, NULL, &d))
        seqrt_data_free(&d);
    labels_npy("y.npy", "<i8", 1, 3, 1, (const double[]){2, 3, 1});
    load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3,
                 "y.npy: label 3 at sample 1 at byte offset 136 is not a class of the model's 3 outputs", &d);
    labels_npy("y.npy", "<f4", 1, 3, 1, (const double[]){2, 0.5, 1});
    load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3, "y.npy: label 0.5 at sample 1", &d);
    labels_npy("y.npy", "<i8", 1, 3, 1, (const double[]){2, -1, 1});
    load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3, "y.npy: label -1 at sample 1", &d);
    labels_npy("y.npy", "<i8", 1, 2, 1, (const double[]){1, 0});
    load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3,
                 "y.npy: 2 targets, but x3.npy has 3 samples (the two files must have the same number of rows)", &d);
    labels_npy("y.npy", "<i8", 2, 3, 3, (const double[]){1, 0, 0, 0, 1, 0, 0, 0, 1});
    load_targets(SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 3, "sparse_categorical_crossentropy takes one class "
                 "index per sample", &d);
    /* categorical: class indices become one-hot rows; (n, classes) rows
     * of probabilities are taken as they are */
    labels_npy("y.npy", "<i8", 1, 3, 1, (const double[]){2, 0, 1});
    if (!load_targets(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 3, NULL, &d)) {
        float want[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
        CHECK(d.ycols == 3 && !memcmp(d.y, want, sizeof want));
        seqrt_data_free(&d);
    }
    labels_npy("y.npy", "<f4", 2, 3, 3, (const double[]){0.25, 0.75, 0, 1, 0, 0, 0, 0.5, 0.5});
    if (!load_targets(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 3, NULL, &d)) {
        CHECK(d.y[0] == 0.25f && d.y[1] == 0.75f && d.y[8] == 0.5f);
        seqrt_data_free(&d);
    }
    labels_npy("y.npy", "<f4", 2, 3, 3, (const double[]){0.25, 1.75, 0, 1, 0, 0, 0, 0.5, 0.5});
    load_targets(SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, 3, "y.npy: target 1.75 at sample 0, element (1)", &d);
    /* binary cross-entropy: [0, 1]; regression: any finite value */
    labels_npy("y.npy", "<f4", 1, 3, 1, (const double[]){1, 0, 2});
    load_targets(SEQRT_LOSS_BINARY_CROSSENTROPY, 1, "y.npy: target 2 at sample 2 at byte offset 136 is outside [0, 1] "
                 "(binary_crossentropy takes probabilities)", &d);
    labels_npy("y.npy", "<f4", 2, 3, 2, (const double[]){1, -2, 0.5, 7, -0.0, 3});
    if (!load_targets(SEQRT_LOSS_MSE, 2, NULL, &d)) {
        CHECK(d.ycols == 2 && d.y[1] == -2 && d.y[3] == 7 && d.y[5] == 3);
        seqrt_data_free(&d);
    }
    labels_npy("y.npy", "<f4", 1, 3, 1, (const double[]){1, 2, 3});
    load_targets(SEQRT_LOSS_MSE, 2, "y.npy: 1 target per sample (shape (3,)), but the model has 2 outputs", &d);
}

/* ---------------------------------------------------------------- writer, sniffing */

static void test_writer_and_sniffing(void)
{
    float v[6] = {1.5f, -2, 0.1f, 3e38f, -0.0f, 7};
    long shape[3] = {3, 2, 1};
    CHECK(seqrt_npy_write("w.npy", "<f4", v, 3, shape) == 0);
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE, 2, (const int[]){2, 1});
    seqrt_data d;
    seqrt_array_info info;
    CHECK(seqrt_array_load_features(&d, "w.npy", &m, &info) == 0);
    CHECK(d.rows == 3 && !memcmp(d.x, v, sizeof v));
    CHECK(!strcmp(info.format, "npy") && !strcmp(info.dtype, "float32") && info.ndim == 3 && info.shape[2] == 1);
    seqrt_data_free(&d);
    /* the header is padded to 64 bytes, as numpy's */
    char *text = read_text("w.npy");
    CHECK(text && ((unsigned char)text[8] + 10) % 64 == 0 && text[(unsigned char)text[8] + 9] == '\n');
    free(text);
    long long c[3] = {4, -1, 2};
    long s1[1] = {3};
    CHECK(seqrt_npy_write("c.npy", "<i8", c, 1, s1) == 0);
    seqrt_model m1 = model(1, 5, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, (const int[]){1});
    CHECK(seqrt_array_load_features(&d, "c.npy", &m1, NULL) == 0 && d.x[0] == 4 && d.x[1] == -1);
    seqrt_data_free(&d);
    write_text("t.csv", "a,b,y\n1,2,3\n");
    CHECK(seqrt_data_is_binary("t.csv") == 0);
    CHECK(seqrt_data_is_binary("w.npy") == 1);
    CHECK(seqrt_data_is_binary("missing.npy") == -1);
    CHECK_CONTAINS(seqrt_error(), "missing.npy: cannot open");
}

/* ---------------------------------------------------------------- the command line */

static char err_text[1 << 16], out_text[1 << 16];

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
    FILE *o = freopen("cli.out", "w", stdout);
    FILE *e = freopen("cli.err", "w", stderr);
    int rc = (o && e) ? seqrt_main(m, argc, argv) : -1;
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    char *t = read_text("cli.err");
    snprintf(err_text, sizeof err_text, "%s", t ? t : "");
    free(t);
    t = read_text("cli.out");
    snprintf(out_text, sizeof out_text, "%s", t ? t : "");
    free(t);
    return rc;
}

static void test_cli(void)
{
    /* 40 samples of 2 features, the target x0 - x1 */
    static bytes o;
    o.n = 0;
    npy_header(&o, "{'descr': '<f4', 'fortran_order': False, 'shape': (40, 2), }");
    float y[40];
    for (int i = 0; i < 40; i++) {
        float a = (float)((i * 7) % 11) / 11.0f, b = (float)((i * 5) % 13) / 13.0f;
        put_f32(&o, a), put_f32(&o, b);
        y[i] = a - b;
    }
    save_gz("tx.npy.gz", &o);
    o.n = 0;
    npy_header(&o, "{'descr': '<f4', 'fortran_order': False, 'shape': (40,), }");
    for (int i = 0; i < 40; i++)
        put_f32(&o, y[i]);
    save("ty.npy", &o);
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE, 1, (const int[]){2});
    m.out_rank = 1;
    m.out_shape[0] = 1;
    CHECK(run(&m, "train", "tx.npy.gz", "ty.npy", "--epochs", "2", "--verbose", "1", "--out", "t.safetensors",
              NULL) == 0);
    CHECK_CONTAINS(err_text, "tx.npy.gz: 40 samples of shape (2,), float32 (npy, gzip)");
    CHECK_CONTAINS(err_text, "ty.npy: 40 targets, float32 (npy)");
    CHECK_CONTAINS(err_text, "Train on 40 samples, no validation");
    CHECK(run(&m, "evaluate", "t.safetensors", "tx.npy.gz", "ty.npy", NULL) == 0);
    CHECK_CONTAINS(err_text, "Evaluate on 40 samples");
    CHECK_CONTAINS(out_text, "loss: ");
    CHECK(run(&m, "predict", "t.safetensors", "tx.npy.gz", "--output", "p.npy", NULL) == 0);
    CHECK_CONTAINS(err_text, "Predicted 40 samples: wrote 40 rows, in input order, to p.npy");
    seqrt_model m1 = model(1, 1, SEQRT_LOSS_MSE, 1, (const int[]){1});
    seqrt_data d;
    CHECK(seqrt_array_load_features(&d, "p.npy", &m1, NULL) == 0 && d.rows == 40);
    seqrt_data_free(&d);
    /* the errors */
    CHECK(run(&m, "train", "tx.npy.gz", NULL) == 1);
    CHECK_CONTAINS(err_text, "tx.npy.gz is a binary data file without targets: give the file of its targets after "
                   "it (toy train X Y)");
    CHECK(run(&m, "train", "tx.npy.gz", "ty.npy", "--no-header", NULL) == 1);
    CHECK_CONTAINS(err_text, "tx.npy.gz is a binary data file: --target, --delimiter, --header and --no-header apply "
                   "to CSV files");
    write_text("d.csv", "a,b,y\n1,2,3\n");
    CHECK(run(&m, "train", "d.csv", "ty.npy", NULL) == 1);
    CHECK_CONTAINS(err_text, "d.csv is a CSV file, which holds its targets: 'ty.npy' is one file too many");
    CHECK(run(&m, "train", "tx.npy.gz", "ty.npy", "--val-labels", "ty.npy", NULL) == 2);
    CHECK_CONTAINS(err_text, "--val-labels needs --val");
    /* a failed predict writes nothing */
    m = model(2, 1, SEQRT_LOSS_MSE, 1, (const int[]){2});
    remove("p2.npy");
    CHECK(run(&m, "predict", "t.safetensors", "ty.npy", "--output", "p2.npy", NULL) == 1);
    CHECK_CONTAINS(err_text, "ty.npy: samples of shape () (1 values), but the model's input is [2] (2 values)");
    CHECK(access("p2.npy", F_OK) != 0);
}

int main(void)
{
    test_features();
    test_targets();
    test_writer_and_sniffing();
    test_cli();
    return check_report("test_arrays");
}
