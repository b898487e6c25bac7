/*
 * toy_model.h - a hand-written stand-in for a seqc-generated model, to drive
 * the training driver (fit, evaluate, predict, the CLI) in tests.
 *
 * One linear layer y = x W^T + b (optionally behind a Normalization layer)
 * with the loss and metrics the test configures, trained by SGD with
 * momentum in plain loops. Its state has the same shape as generated code:
 * parameters and buffers in one contiguous range, optimizer slots, grads,
 * int64 step and epoch counters and a tensor table for checkpoints.
 *
 * The configuration is a global (one toy model per process at a time),
 * together with test hooks: scripted inference outputs per epoch (to give
 * early stopping a constructed val_loss sequence), a NaN loss at a chosen
 * epoch and batch, and counters of the rows that backward sees.
 */
#ifndef TOY_MODEL_H
#define TOY_MODEL_H

#include "seqrt.h"

#define TOY_IN_MAX 8
#define TOY_OUT_MAX 4
#define TOY_MAX_BATCH 16

typedef struct {
    /* weights range: parameters, then buffers */
    float w[TOY_OUT_MAX * TOY_IN_MAX]; /* (out, in) */
    float b[TOY_OUT_MAX];
    float norm_mean[TOY_IN_MAX], norm_var[TOY_IN_MAX];
    /* optimizer slots, grads */
    float vw[TOY_OUT_MAX * TOY_IN_MAX], vb[TOY_OUT_MAX];
    float gw[TOY_OUT_MAX * TOY_IN_MAX], gb[TOY_OUT_MAX];
    int64_t step, epoch;
    /* activations of the last forward */
    float x[TOY_MAX_BATCH * TOY_IN_MAX], xn[TOY_MAX_BATCH * TOY_IN_MAX];
    float y[TOY_MAX_BATCH * TOY_OUT_MAX], dy[TOY_MAX_BATCH * TOY_OUT_MAX];
    int n;
    /* NaN hook bookkeeping */
    int64_t batch_epoch;
    int batch_in_epoch;
} toy_state;

typedef struct {
    int in, out, loss, nmetrics, metrics[8];
    int use_norm;
    float lr, momentum;
    seqrt_fit_config fit;
    /* hooks */
    const double *val_script;   /* inference output^2 per 0-based epoch */
    int nscript;
    int nan_epoch, nan_batch;   /* 1-based; 0: off */
    long rows_seen;             /* rows through backward */
    long *row_hits;             /* hits per row id (feature 0 = id) */
    long nrow_hits;
} toy_config;

extern toy_config toy;

/* Resets toy to defaults: in 2, out 1, mse, no metrics, lr 0.05, momentum
 * 0.9, fit(batch_size=8, epochs=5, shuffle, seed 1, verbose 0). */
void toy_defaults(void);
/* Fills the descriptor (and its tensor table) from the toy config. */
void toy_model(seqrt_model *m);

#endif
