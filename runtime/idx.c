/*
 * idx.c - the IDX format of MNIST and Fashion-MNIST: two zero bytes, a
 * type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
 * 0x0E float64), the number of axes, each axis's size as a big-endian
 * 32-bit integer, then the elements, big-endian, in C order
 * (http://yann.lecun.com/exdb/mnist/: "the IDX file format").
 *
 * A file whose size is not exactly the header plus what it declares is
 * refused with both counts (docs/data.md), as is an unknown type byte or
 * an axis count of 0.
 */
#include "array.h"

int idx_parse(array_file *a)
{
    const unsigned char *b = a->buf;
    a->format = "IDX";
    a->big_endian = 1;
    if (a->len < 4)
        return seqrt_fail("%s: the file ends inside the 4-byte IDX magic number (%zu bytes)", a->path, a->len);
    static const struct {
        int code;
        array_type type;
        int size;
    } types[] = {{0x08, ARR_U8, 1}, {0x09, ARR_I8, 1}, {0x0B, ARR_I16, 2},
                 {0x0C, ARR_I32, 4}, {0x0D, ARR_F32, 4}, {0x0E, ARR_F64, 8}};
    int found = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (b[2] == types[i].code) {
            a->type = types[i].type;
            a->size = types[i].size;
            found = 1;
        }
    if (!found)
        return seqrt_fail("%s: IDX type byte 0x%02x (byte 2) is not one of 0x08 (uint8), 0x09 (int8), 0x0B "
                          "(int16), 0x0C (int32), 0x0D (float32), 0x0E (float64)", a->path, b[2]);
    a->ndim = b[3];
    if (a->ndim == 0)
        return seqrt_fail("%s: the IDX header declares 0 axes (byte 3)", a->path);
    if (a->ndim > ARRAY_MAX_DIMS)
        return seqrt_fail("%s: the IDX header declares %d axes (byte 3); seqc reads at most %d", a->path,
                          a->ndim, ARRAY_MAX_DIMS);
    a->data = 4 + 4 * (size_t)a->ndim;
    if (a->len < a->data)
        return seqrt_fail("%s: the file ends inside the IDX header (%zu bytes; %d axes need %zu)", a->path, a->len,
                          a->ndim, a->data);
    for (int d = 0; d < a->ndim; d++) {
        const unsigned char *p = b + 4 + 4 * d;
        unsigned long v = (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
        if (v > 0x7fffffffUL)
            return seqrt_fail("%s: axis %d of the IDX header (byte %d) declares %lu elements, more than 2^31-1",
                              a->path, d, 4 + 4 * d, v);
        a->dim[d] = (long)v;
    }
    if (array_count(a) < 0)
        return -1;
    size_t want = (size_t)a->count * (size_t)a->size, have = a->len - a->data;
    if (have != want) {
        char shape[256];
        int n = 0;
        shape[0] = '\0';
        for (int d = 0; d < a->ndim && n < 200; d++)
            n += snprintf(shape + n, sizeof shape - (size_t)n, "%s%ld", d ? "x" : "", a->dim[d]);
        return seqrt_fail("%s: the IDX header declares %s %s (%zu bytes with the %zu-byte header), the file%s has "
                          "%zu%s", a->path, shape, array_type_name(a->type), want + a->data, a->data,
                          a->gzip ? " (decompressed)" : "", a->len, have < want ? " (truncated)"
                                                                               : " (extra bytes at the end)");
    }
    return 0;
}
