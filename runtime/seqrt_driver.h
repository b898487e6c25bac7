/*
 * seqrt_driver.h - the driver half of the seqc runtime: everything around
 * the kernels that does I/O or allocates.
 *
 *   - errors.c: the error channel (seqrt_error);
 *   - safetensors.c: checkpoints of the tensors a generated model describes
 *     in its tensor table;
 *   - csv.c, array.c (npy.c, idx.c), fit.c, history.c, plot_svg.c, cli.c:
 *     data loading (CSV; NumPy .npy and IDX files, gzip or not),
 *     fit/evaluate/predict, callbacks, history and plots, and the
 *     command-line program that `seqc --main` wraps around a model.
 *
 * It talks to generated code through the model descriptor, seqrt_model
 * (seqrt_kernels.h), which holds the model's sizes, its tensor table and
 * pointers to its generated functions (they take the state as `void *`).
 * Link libseqrt (which brings libseqrt_kernels along).
 *
 * Errors: functions that can fail return 0 on success and -1 on failure and
 * leave a message in seqrt_error().
 */
#ifndef SEQRT_DRIVER_H
#define SEQRT_DRIVER_H

#include <stdio.h>

#include "seqrt_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

/* The message of the last failure in this thread (never NULL). */
const char *seqrt_error(void);
/* Sets the message (printf-style); returns -1 so callers can `return
 * seqrt_fail(...)`. */
int seqrt_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* ---------------------------------------------------------------- safetensors.c */

/* Writes the tensors of `state` whose kind bit is set in kinds
 * (1 << SEQRT_T_PARAM | ...) to path as safetensors, atomically: a
 * temporary file in the same directory, fsync, rename. */
int seqrt_st_save(const char *path, const seqrt_tensor *t, int nt,
                  const void *state, unsigned kinds);
/* Reads a safetensors file into state. Every tensor of the file must be in
 * the table with the same dtype and shape; every table tensor of kind PARAM
 * or BUFFER must be in the file; optimizer tensors are all present or all
 * absent (absent: fresh optimizer state, zeros and step 0; the RNG states
 * "train.rng*" keep what init seeded). The file is
 * checked completely (header JSON, offsets, lengths) before anything is
 * written to state: on failure state is unchanged. */
int seqrt_st_load(const char *path, const seqrt_tensor *t, int nt,
                  void *state);
/* The same from the nbytes of a file already in memory; path only names it
 * in messages. */
int seqrt_st_load_mem(const char *path, const void *bytes, size_t nbytes,
                      const seqrt_tensor *t, int nt, void *state);
/* ---------------------------------------------------------------- csv.c */

/* A dense float matrix loaded from CSV. */
typedef struct {
    float *x;        /* rows x cols features */
    float *y;        /* rows x ycols targets (one-hot, class index or values) */
    long rows;
    int cols, ycols;
} seqrt_data;

/* Whether line 1 of a CSV file names the columns (docs/data.md). */
typedef enum {
    SEQRT_CSV_HEADER_AUTO = 0, /* a header if one of its fields is text;
                                  a line of numbers only is an error that
                                  names --header and --no-header */
    SEQRT_CSV_HEADER_PRESENT,  /* line 1 is the header (--header) */
    SEQRT_CSV_HEADER_ABSENT    /* line 1 is data (--no-header); the columns
                                  are named 0, 1, ... like pandas' labels */
} seqrt_csv_header;

/* How to read a CSV file; {0} (or a NULL pointer) is the default. */
typedef struct {
    seqrt_csv_header header;
    const char *target;  /* the target column's name (a number without a
                            header); NULL: the last column */
    char delimiter;      /* 0: ',' */
} seqrt_csv_options;

#define SEQRT_CSV_TEXT_MAX 96
/* What a load found, for the messages that say what was read. */
typedef struct {
    long rows;           /* data rows read (= d->rows) */
    int header;          /* 1: line 1 was read as the header; 0: as data */
    int columns;         /* fields per row */
    int target_column;   /* 0-based; -1 when the file has none (features) */
    char target_name[SEQRT_CSV_TEXT_MAX]; /* its header name, or its label
                                             ("4") without a header */
    char header_text[SEQRT_CSV_TEXT_MAX]; /* "a, b, ..." ("" without one) */
} seqrt_csv_info;

/* Loads path for training or evaluation: every row holds the model's
 * m->in features and one target column (opt->target by name, else the
 * last). The model decides the target encoding: loss
 * categorical_crossentropy -> one-hot (classes = model->out),
 * sparse -> class index, others -> the column value(s). Each row and value
 * is read exactly or refused with "file:line:col: message" (csv.c and
 * docs/data.md list the rules); on failure d is empty. opt may be NULL
 * (defaults), info may be NULL. */
int  seqrt_csv_load(seqrt_data *d, const char *path, const seqrt_model *m,
                    const seqrt_csv_options *opt, seqrt_csv_info *info);
void seqrt_data_free(seqrt_data *d);
/* Features for prediction: the file holds either m->in columns (all of them
 * features) or m->in + 1 columns, of which the target column (opt->target
 * by name, else the last) is dropped (info->target_column says which).
 * d->y is NULL and d->ycols 0. Same checks and messages as
 * seqrt_csv_load. */
int  seqrt_csv_load_features(seqrt_data *d, const char *path,
                             const seqrt_model *m,
                             const seqrt_csv_options *opt,
                             seqrt_csv_info *info);

/* ---------------------------------------------------------------- array.c, npy.c, idx.c */

/* Binary data files: NumPy .npy (np.save) and IDX (MNIST), either of them
 * gzip-compressed, told by their first bytes (docs/data.md). */

/* What a binary load read, for the messages that say so. */
typedef struct {
    char format[8];          /* "npy" or "IDX" */
    char dtype[12];          /* "uint8", "float32", ... */
    int gzip;                /* it was gzip-compressed */
    int ndim;
    long shape[SEQRT_MAX_RANK + 1];
} seqrt_array_info;

/* 1 if path starts like a .npy, IDX or gzip file, 0 if not (a CSV file),
 * -1 if it cannot be read (seqrt_error() says why). */
int seqrt_data_is_binary(const char *path);
/* Features from xpath and targets from ypath (the same number of samples),
 * the targets encoded as seqrt_csv_load encodes them for the model's loss.
 * Each value is read exactly or refused, as docs/data.md says (uint8 and
 * integers as the same float, float64 rounded to the nearest float; NaN,
 * infinities, integers beyond 2^24, a shape that does not fit the model, a
 * label out of range are refused with the file, sample, element and byte
 * offset). On failure d is empty. Either info may be NULL. */
int seqrt_array_load(seqrt_data *d, const char *xpath, const char *ypath,
                     const seqrt_model *m, seqrt_array_info *xi,
                     seqrt_array_info *yi);
/* Features only (predict): d->y is NULL, d->ycols 0. */
int seqrt_array_load_features(seqrt_data *d, const char *xpath,
                              const seqrt_model *m, seqrt_array_info *xi);
/* Writes a C-order little-endian .npy file (version 1.0), atomically:
 * descr "<f4" (float data) or "<i8" (int64 data), ndim axes of shape. */
int seqrt_npy_write(const char *path, const char *descr, const void *data,
                    int ndim, const long *shape);

/* ---------------------------------------------------------------- fit.c */

/* One epoch's numbers. */
typedef struct {
    int epoch;               /* 1-based */
    double loss, val_loss;   /* val_* are NAN without validation data */
    double metric[SEQRT_MAX_METRICS], val_metric[SEQRT_MAX_METRICS];
    double seconds;
    int has_lr;              /* ReduceLROnPlateau recorded the learning rate */
    double lr;               /* the rate during the epoch */
} seqrt_epoch_log;

typedef struct {
    seqrt_epoch_log *epochs;
    int nepochs;
    int best_epoch;          /* 1-based, 0 if none */
    int stopped_early;
    int stopped_nan;
} seqrt_history;

/* Trains net on train (and evaluates on val each epoch, if val != NULL and
 * val->rows > 0). cfg overrides m->fit. history may be NULL. Returns 0, or
 * -1 with seqrt_error() set (a NaN loss stops training with the last good
 * weights restored and returns -1). */
int  seqrt_fit(const seqrt_model *m, void *net, const seqrt_data *train,
               const seqrt_data *val, const seqrt_fit_config *cfg,
               seqrt_history *history);
void seqrt_history_free(seqrt_history *h);
/* Loss and metrics over a data set (inference mode), in batches. */
int  seqrt_evaluate(const seqrt_model *m, void *net, const seqrt_data *d,
                    double *loss, double *metrics);
/* Outputs (rows x m->out) for d->x, inference mode. */
int  seqrt_predict(const seqrt_model *m, void *net, const float *x, long rows,
                   float *y);
/* Adapts a model's leading Normalization layer (if any) to d's features:
 * mean and variance per column. */
int  seqrt_adapt(const seqrt_model *m, void *net, const seqrt_data *d);
/* Splits d into train (first part) and val (the last `fraction` of rows),
 * Keras's validation_split; the two views share d's memory. */
void seqrt_data_split(const seqrt_data *d, float fraction, seqrt_data *train,
                      seqrt_data *val);

/* Keras's number format for a reported value: "<sep><prefix><name>: 0.1234"
 * (%.4f, or %.4e below 1e-3). */
void seqrt_print_value(FILE *f, const char *sep, const char *prefix,
                       const char *name, double v);

/* ---------------------------------------------------------------- history.c, plot_svg.c */

int seqrt_history_write_csv(const seqrt_model *m, const seqrt_history *h,
                            const char *path);
/* Reads a history CSV this model wrote (seqrt_history_write_csv), keeping
 * the epochs up to upto_epoch: what a resumed run continues. 0, or -1 with
 * a message naming the file and line. */
int seqrt_history_read_csv(const seqrt_model *m, const char *path,
                           int upto_epoch, seqrt_history *h);
int seqrt_history_write_svg(const seqrt_model *m, const seqrt_history *h,
                            const char *path);

/* Atomic text output (history.c; used by the plot and the CLI too): open
 * writes to a temporary file in path's directory; commit flushes, fsyncs,
 * closes and renames it over path; abort closes and removes it. Both leave
 * a->f NULL. */
typedef struct {
    FILE *f;
    char *tmp;
    const char *path;
} seqrt_atomic_file;
int  seqrt_atomic_open(seqrt_atomic_file *a, const char *path);
int  seqrt_atomic_commit(seqrt_atomic_file *a);
void seqrt_atomic_abort(seqrt_atomic_file *a);

/* ---------------------------------------------------------------- pyfmt.c */

/* v as Python's repr(float) writes it ("0.1", "1e-05", "123.0", "nan"),
 * into buf; returns buf. 32 bytes are always enough. */
const char *seqrt_pyfloat(char *buf, size_t size, double v);

/* ---------------------------------------------------------------- cli.c */

/* The command-line program that `seqc --main` emits around a model:
 * NAME train|evaluate|predict ... (see cli.c). Returns the exit status. */
int seqrt_main(const seqrt_model *m, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
