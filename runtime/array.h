/*
 * array.h - what the binary data readers share (array.c, npy.c, idx.c):
 * one array file in memory (decompressed when it was gzip), its element
 * type, shape and where its elements start. Internal to the driver.
 */
#ifndef SEQRT_ARRAY_H
#define SEQRT_ARRAY_H

#include <stddef.h>

#include "seqrt_driver.h"

/* Element types of .npy and IDX files. */
typedef enum { ARR_U8, ARR_I8, ARR_I16, ARR_I32, ARR_I64, ARR_F32, ARR_F64 } array_type;

#define ARRAY_MAX_DIMS 16

typedef struct {
    const char *path;
    unsigned char *buf;       /* the whole file, decompressed */
    size_t len;
    int gzip;                 /* it was gzip-compressed */
    const char *format;       /* "npy" or "IDX" */
    array_type type;
    int size;                 /* bytes per element */
    int big_endian;           /* IDX stores its elements big-endian */
    int ndim;
    long dim[ARRAY_MAX_DIMS];
    long count;               /* elements: the product of dim */
    size_t data;              /* offset of the first element */
} array_file;

/* Each parses the header of a.buf (whose first bytes are its magic),
 * sets everything after `format` and checks that the file holds exactly
 * the elements the header declares; 0, or -1 with seqrt_error() set
 * ("path: ..."). */
int npy_parse(array_file *a);
int idx_parse(array_file *a);

/* "float32", "uint8", ... */
const char *array_type_name(array_type t);
/* The element count of the header's shape, or -1 (with an error) when it
 * overflows or has more than ARRAY_MAX_DIMS axes. */
long array_count(array_file *a);
/* " of the decompressed data" for a gzip file, "" otherwise: byte offsets
 * in messages are in the data seqc parsed. */
const char *array_where(const array_file *a);

#endif
