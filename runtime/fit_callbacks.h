/*
 * fit_callbacks.h - between fit.c and callbacks.c: the callbacks' state
 * during one seqrt_fit. Private to the driver library.
 */
#ifndef SEQRT_FIT_CALLBACKS_H
#define SEQRT_FIT_CALLBACKS_H

#include "seqrt_driver.h"

typedef struct {
    int enabled;
    const char *monitor;
    int maximize;
    double min_delta;
    int wait, have_best, best_epoch, stopped_epoch, warned;
    double best;
} seqrt_cb_es;

typedef struct {
    const seqrt_callback *c;
    int maximize, have_best, warned;
    double best;
    int wait, cooldown;                    /* ReduceLROnPlateau */
    char *prior;                           /* CSVLogger: the file before training (append) */
    size_t prior_len;
    char *rows;                            /* CSVLogger: the rows written so far */
    size_t rows_len;
    int header;                            /* CSVLogger: write the header line */
    const char *keys[4 * SEQRT_MAX_METRICS + 8];
    int nkeys;
    const char *val_names[SEQRT_MAX_METRICS];
    char val_store[SEQRT_MAX_METRICS][80];
} seqrt_cb_state;

typedef struct {
    const seqrt_model *m;
    const seqrt_fit_config *cfg;
    void *net;
    int has_val;
    int quiet;                             /* no messages (verbose 0, or not rank 0) */
    int writer;                            /* writes files (rank 0) */
    unsigned char *best_w;                 /* EarlyStopping's best weights */
    seqrt_cb_es es;
    seqrt_cb_state s[SEQRT_MAX_CALLBACKS];
    int n;
} seqrt_cb_run;

int  seqrt_callbacks_begin(seqrt_cb_run *c);
/* The end of 0-based epoch e: every callback in the list's order; *stop
 * set when one asks training to stop. 0, or -1 (a file could not be
 * written). */
int  seqrt_callbacks_epoch_end(seqrt_cb_run *c, int e, seqrt_epoch_log *log, int *stop);
void seqrt_callbacks_free(seqrt_cb_run *c);
/* The value of log quantity `name` (loss, val_loss, a metric's name or
 * spelling, learning_rate); 0 when the log lacks it. *metric: its index or -1. */
int  seqrt_cb_value(const seqrt_cb_run *c, const char *name, const seqrt_epoch_log *e, double *v, int *metric);
int  seqrt_cb_metric_matches(const seqrt_model *m, int i, const char *name);
int  seqrt_cb_format_path(const seqrt_cb_run *c, const char *tmpl, int epoch, const seqrt_epoch_log *log,
                          char *out, size_t n);

#endif
