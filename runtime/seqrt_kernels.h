/*
 * seqrt_kernels.h - the kernel half of the seqc runtime: what the code
 * seqc generates needs to run forward, backward and an optimizer step.
 *
 * Paired *_forward / *_backward functions over plain float arrays with
 * explicit sizes, in the style of llm.c; optimizers, losses, metrics,
 * initializers and the random generator. Nothing here allocates, does I/O
 * or includes <stdio.h>: an embedded application that calls only
 * NAME_forward / NAME_train_step links libseqrt_kernels and libm (and CBLAS
 * when the runtime was built with it) and nothing else. All matrices are
 * row-major. Unless a comment says otherwise, outputs and gradients are
 * overwritten, not accumulated.
 *
 * This header also defines the model descriptor (seqrt_model) that
 * generated code fills in: plain data, read by the driver (seqrt_driver.h:
 * checkpoints, CSV, fit/evaluate/predict, the command-line program).
 *
 * The choices a model makes (activation, loss, metric, optimizer,
 * initializer) are enums generated from one table each (seqrt_*.def),
 * which the compiler includes too, so the two cannot drift apart.
 */
#ifndef SEQRT_KERNELS_H
#define SEQRT_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEQRT_VERSION "0.1.0"

/* Most metrics a model reports; the largest rank of a tensor. */
#define SEQRT_MAX_METRICS 8
#define SEQRT_MAX_RANK 8

/* ---------------------------------------------------------------- enums */

typedef enum {
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) SEQRT_ACT_##id,
#define ACT_ROW(id, name, flags, FR, BR, desc) SEQRT_ACT_##id,
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
} seqrt_act;

typedef enum {
#define LOSS(id, name, cls, aliases) SEQRT_LOSS_##id,
#include "seqrt_losses.def"
#undef LOSS
} seqrt_loss_kind;

typedef enum {
#define METRIC(id, name, cls, aliases, mode, cname) SEQRT_METRIC_##id,
#include "seqrt_metrics.def"
#undef METRIC
} seqrt_metric_kind;

typedef enum {
#define OPT(id, name, cls) SEQRT_OPT_##id,
#include "seqrt_optimizers.def"
#undef OPT
} seqrt_opt_kind;

typedef enum {
#define INIT(id, name, cls, aliases) SEQRT_INIT_##id,
#include "seqrt_inits.def"
#undef INIT
} seqrt_init_kind;

typedef enum {
#define SCHEDULE(id, cls) SEQRT_SCHEDULE_##id,
#include "seqrt_schedules.def"
#undef SCHEDULE
} seqrt_schedule_kind;

/* How many of each: counted in an enum of their own, so that a switch over
 * one of the enums above lists only real cases and -Wswitch-enum reports
 * the one it misses. */
enum {
    SEQRT_ACT_COUNT = 0
#define ACT(id, name, np, pn, d0, d1, d2, flags, F, DF, desc) + 1
#define ACT_ROW(id, name, flags, FR, BR, desc) + 1
#include "seqrt_acts.def"
#undef ACT
#undef ACT_ROW
    ,
    SEQRT_LOSS_COUNT = 0
#define LOSS(id, name, cls, aliases) + 1
#include "seqrt_losses.def"
#undef LOSS
    ,
    SEQRT_METRIC_COUNT = 0
#define METRIC(id, name, cls, aliases, mode, cname) + 1
#include "seqrt_metrics.def"
#undef METRIC
    ,
    SEQRT_OPT_COUNT = 0
#define OPT(id, name, cls) + 1
#include "seqrt_optimizers.def"
#undef OPT
    ,
    SEQRT_INIT_COUNT = 0
#define INIT(id, name, cls, aliases) + 1
#include "seqrt_inits.def"
#undef INIT
    ,
    SEQRT_SCHEDULE_COUNT = 0
#define SCHEDULE(id, cls) + 1
#include "seqrt_schedules.def"
#undef SCHEDULE
};

/* An activation function with its parameters (seqrt_acts.def names them:
 * relu's negative_slope, max_value, threshold; elu's alpha; ...). Unused
 * parameters are 0; relu's max_value "None" is HUGE_VALF. */
typedef struct {
    seqrt_act kind;
    float p[3];
} seqrt_actfn;

/* The activation with Keras's default parameters. */
seqrt_actfn seqrt_act_default(seqrt_act kind);
/* How many parameters it takes (0 to 3). */
int seqrt_act_nparams(seqrt_act kind);
/* 1 for the activations computed over whole rows (softmax, log_softmax). */
int seqrt_act_is_rowwise(seqrt_act kind);

/* Names as the model language spells them ("relu", "mae", "adam", ...);
 * "unknown" for a value out of range (names.c). */
const char *seqrt_act_name(int act);
const char *seqrt_loss_name(int loss);
const char *seqrt_metric_name(int metric);
const char *seqrt_opt_name(int opt);
const char *seqrt_init_name(int init);
const char *seqrt_schedule_name(int schedule);
/* The name Keras gives a metric's class form (MeanAbsoluteError() reports
 * "mean_absolute_error"). */
const char *seqrt_metric_class_name(int metric);
/* The metric spelled s (its name, Keras class name or an alias; not
 * "accuracy", which the compiler resolves from the model); -1 if none. */
int seqrt_metric_lookup(const char *s);
/* 1 if a larger value of the metric is better (accuracy), 0 if smaller. */
int seqrt_metric_higher_is_better(int metric);
/* 1 if Keras knows the metric's direction (its _direction), so that a
 * monitor in mode "auto" can use it. */
int seqrt_metric_has_direction(int metric);

/* ---------------------------------------------------------------- rng.c */

/* xoshiro128+-style generator with a 64-bit seed; the same seed gives the
 * same stream on every platform. State: 4 x uint32 stored in 2 x uint64. */
typedef struct { uint64_t s[2]; } seqrt_rng;
void     seqrt_rng_seed(seqrt_rng *r, uint64_t seed);
uint64_t seqrt_rng_next(seqrt_rng *r);            /* 64 random bits */
uint32_t seqrt_rng_next32(seqrt_rng *r);          /* 32 random bits */
float    seqrt_rng_uniform(seqrt_rng *r);         /* [0, 1) */
float    seqrt_rng_normal(seqrt_rng *r);          /* N(0, 1) */
uint32_t seqrt_rng_below(seqrt_rng *r, uint32_t n); /* [0, n), unbiased */

/* ---------------------------------------------------------------- init.c */

/* Fills w (count elements) with a Keras initializer; fan_in/fan_out as Keras
 * computes them for a Dense kernel. */
void seqrt_init_fill(int init, float *w, long count, int fan_in, int fan_out,
                     seqrt_rng *r);

/* An initializer with the arguments of its Keras class form. */
typedef struct {
    int kind;            /* seqrt_init_kind */
    double a, b;         /* RandomNormal, TruncatedNormal: mean, stddev;
                            RandomUniform: minval, maxval; Constant: value;
                            VarianceScaling: scale; Orthogonal, Identity:
                            gain; unused otherwise */
    int mode;            /* VarianceScaling: 0 fan_in, 1 fan_out, 2 fan_avg */
    int distribution;    /* VarianceScaling: 0 truncated_normal,
                            1 untruncated_normal, 2 uniform */
} seqrt_init_args;
/* seqrt_init_fill with arguments. rows x cols is the tensor as Keras lays
 * it out for Orthogonal and Identity ((in, units) for a Dense kernel, which
 * seqc stores transposed: w is filled as (cols, rows)); for other kinds
 * only count matters. */
void seqrt_init_fill_args(const seqrt_init_args *a, float *w, long count,
                          int fan_in, int fan_out, int rows, int cols,
                          seqrt_rng *r);

/* ---------------------------------------------------------------- gemm.c */

/* C (m,n) = alpha * op(A) op(B) + beta * C, row-major; op(X) = X or X^T.
 * CBLAS (OpenBLAS) when built with SEQC_BLAS, a plain-C loop otherwise.
 * Uses gemv when m == 1 or n == 1. */
void seqrt_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc);
/* "cblas" or "plain C" */
const char *seqrt_gemm_backend(void);

/* ---------------------------------------------------------------- dense.c */

/* y (n,out) = act(x (n,in) . w^T + b); w (out,in) PyTorch layout; b (out)
 * or NULL. z (n,out) receives the pre-activation x w^T + b when backward
 * needs it; NULL when it is not kept (y then holds it until it is activated
 * in place). */
void seqrt_dense_forward(float *y, float *z, const float *x, const float *w,
                         const float *b, int n, int in, int out,
                         seqrt_actfn act);
/* dy (n,out): dL/dy on entry, overwritten with dz = act'(z) * dy.
 * dw (out,in) = dz^T x, db (out) = column sums of dz (if db != NULL),
 * dx (n,in) = dz w (if dx != NULL). z: the pre-activation kept by forward
 * (NULL for a linear or plain relu activation, which read only y). */
void seqrt_dense_backward(float *dx, float *dw, float *db, float *dy,
                          const float *x, const float *w, const float *z,
                          const float *y, int n, int in, int out,
                          seqrt_actfn act);

/* ---------------------------------------------------------------- act.c */

/* y (n,c) = act(x); row-wise activations (softmax) over each row of c.
 * y may equal x. */
void seqrt_act_forward(float *y, const float *x, int n, int c, seqrt_actfn act);
/* dx (n,c) = dL/dx from dy, the input x and the output y. dx may equal dy
 * (in place). x may be NULL for linear, plain relu and row-wise activations. */
void seqrt_act_backward(float *dx, const float *dy, const float *x,
                        const float *y, int n, int c, seqrt_actfn act);

/* PReLU: y = x for x > 0, alpha * x otherwise, with a learned alpha per
 * element of a sample broadcast over the axes where alpha_dims is 1 (Keras
 * shared_axes). x, y: (n, size), size = the product of dims[0..rank);
 * alpha: the product of alpha_dims. y may equal x. */
void seqrt_prelu_forward(float *y, const float *x, const float *alpha, int n,
                         int rank, const int *dims, const int *alpha_dims);
/* dx = dy * (x > 0 ? 1 : alpha) (dx may equal dy); dalpha (overwritten) =
 * the sum over the batch and the shared axes of dy * (x > 0 ? 0 : x). */
void seqrt_prelu_backward(float *dx, float *dalpha, const float *dy,
                          const float *x, const float *alpha, int n, int rank,
                          const int *dims, const int *alpha_dims);

/* ---------------------------------------------------------------- norm.c */

/* BatchNormalization over the batch (axis 0), followed by an activation
 * (SEQRT_ACT_LINEAR for a plain BatchNormalization layer).
 * training != 0: mean/var of the batch (biased variance) normalize x;
 *   xhat (n,c), mean (c), invstd (c) = 1/sqrt(var + eps) are saved for
 *   backward; running stats are updated the Keras way:
 *   run = run * momentum + batch * (1 - momentum).
 * training == 0: run_mean/run_var normalize x (xhat, mean, invstd unused,
 *   may be NULL).
 * h = gamma * xhat + beta (gamma/beta NULL: scale=False / center=False);
 * y (n,c) = act(h). */
void seqrt_batchnorm_forward(float *y, float *xhat, float *mean,
                             float *invstd, float *run_mean, float *run_var,
                             const float *x, const float *gamma,
                             const float *beta, int n, int c, float momentum,
                             float eps, seqrt_actfn act, int training);
/* Backward of a training-mode forward. dgamma/dbeta may be NULL. dx may
 * equal dy. */
void seqrt_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *xhat,
                              const float *invstd, const float *gamma,
                              const float *beta, const float *y, int n, int c,
                              seqrt_actfn act);

/* LayerNormalization over the features of each row, then an activation.
 * xhat (n,c), mean (n), invstd (n) saved for backward. */
void seqrt_layernorm_forward(float *y, float *xhat, float *mean,
                             float *invstd, const float *x, const float *gamma,
                             const float *beta, int n, int c, float eps,
                             seqrt_actfn act);
void seqrt_layernorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *xhat,
                              const float *invstd, const float *gamma,
                              const float *beta, const float *y, int n, int c,
                              seqrt_actfn act);

/* Keras Normalization: y = (x - mean) / max(sqrt(var), 1e-7). */
void seqrt_normalization_forward(float *y, const float *x, const float *mean,
                                 const float *var, int n, int c);
/* Mean and (biased) variance of each column of x (rows, c), computed in
 * double; used to adapt a Normalization layer to training data. */
void seqrt_normalization_adapt(float *mean, float *var, const float *x,
                               long rows, int c);

/* ---------------------------------------------------------------- dropout.c */

/* Inverted dropout. training: mask (n*c) = 0 with probability rate, else
 * 1/(1-rate); y = x * mask. Not training: y = x. y may equal x. */
void seqrt_dropout_forward(float *y, float *mask, const float *x, long count,
                           float rate, seqrt_rng *r, int training);
void seqrt_dropout_backward(float *dx, const float *dy, const float *mask,
                            long count);

/* Spatial dropout (SpatialDropout1D/2D): mask (n, c) drawn per sample and
 * channel, in that order; y (n, positions, c) = x * mask[sample, channel].
 * y may equal x. */
void seqrt_spatial_dropout_forward(float *y, float *mask, const float *x,
                                   int n, long positions, int c, float rate,
                                   seqrt_rng *r);
void seqrt_spatial_dropout_backward(float *dx, const float *dy,
                                    const float *mask, int n, long positions,
                                    int c);
/* The mask alone: mask (count) = 0 with probability rate, else
 * 1/(1-rate), from the lanes seeded by r (what seqrt_dropout_forward
 * draws). */
void seqrt_dropout_mask(float *mask, long count, float rate, seqrt_rng *r);

/* ---------------------------------------------------------------- conv.c, pool.c, spatial.c */

/* The geometry of a convolution or pooling window over a channels-last
 * batch (n, h, w, c) -> (n, oh, ow, oc). A 1-D layer is a 2-D one with
 * h = oh = kh = sh = dh = 1 and pt = 0. Padding: pt rows above and pl
 * columns to the left; the rest of the padding (Keras "same": the extra
 * one goes at the end) is implied by oh, ow. Pooling: oc == c, dh = dw = 1,
 * groups 1. */
typedef struct {
    int h, w, c;          /* input, one sample */
    int oh, ow, oc;       /* output */
    int kh, kw;           /* window */
    int sh, sw;           /* strides */
    int dh, dw;           /* dilation */
    int pt, pl;           /* padding before: top, left */
    int groups;           /* convolution: c and oc are split into groups */
} seqrt_window;

/* Convolution: y (n, oh, ow, oc) = act(conv(x (n, h, w, c), w) + b), w
 * (oc, c / groups, kh, kw) PyTorch's layout, b (oc) or NULL; z receives the
 * pre-activation when not NULL (as seqrt_dense_forward). scratch: the
 * caller's, of scratch_floats floats, at least 2 kh kw oc when
 * c / groups == 1 < groups (depthwise), else 2 oc K + K with K = kh kw c / groups
 * (1x1 stride-1 unpadded convolutions of one group need none); more
 * scratch makes the GEMMs taller (conv.c). */
void seqrt_conv_forward(float *y, float *z, const float *x, const float *w,
                        const float *b, int n, const seqrt_window *g,
                        seqrt_actfn act, float *scratch, long scratch_floats);
/* dy (n, oh, ow, oc): dL/dy on entry, dz = act'(z) dy on exit. dw
 * (overwritten) like w, db (oc) or NULL, dx (n, h, w, c) or NULL
 * (overwritten). z as in seqrt_dense_backward. */
void seqrt_conv_backward(float *dx, float *dw, float *db, float *dy,
                         const float *x, const float *w, const float *z,
                         const float *y, int n, const seqrt_window *g,
                         seqrt_actfn act, float *scratch,
                         long scratch_floats);

/* Pooling over the window g (padding positions take no part; an average
 * divides by the real elements of its window). y (n, oh, ow, c), x
 * (n, h, w, c). Max backward gives each output's gradient to the first
 * element of its window, in (ky, kx) order, equal to the output. dx is
 * overwritten. */
void seqrt_maxpool_forward(float *y, const float *x, int n,
                           const seqrt_window *g);
void seqrt_maxpool_backward(float *dx, const float *dy, const float *x,
                            const float *y, int n, const seqrt_window *g);
void seqrt_avgpool_forward(float *y, const float *x, int n,
                           const seqrt_window *g);
void seqrt_avgpool_backward(float *dx, const float *dy, int n,
                            const seqrt_window *g);

/* ZeroPadding / Cropping: y (n, oh, ow, c)[oy, ox] = x (n, h, w, c)[oy - top,
 * ox - left] where in range, else 0 (negative top/left crop). Backward:
 * dx = the opposite shift of dy (overwritten). */
void seqrt_shift_forward(float *y, const float *x, int n, int h, int w, int c,
                         int oh, int ow, int top, int left);
void seqrt_shift_backward(float *dx, const float *dy, int n, int h, int w,
                          int c, int oh, int ow, int top, int left);
/* UpSampling (nearest): y (n, h sh, w sw, c)[oy, ox] = x[oy / sh, ox / sw];
 * backward sums each block (dx overwritten). */
void seqrt_upsample_forward(float *y, const float *x, int n, int h, int w,
                            int c, int sh, int sw);
void seqrt_upsample_backward(float *dx, const float *dy, int n, int h, int w,
                             int c, int sh, int sw);
/* Rescaling: y = x scale + offset; dx = dy scale. In place allowed. */
void seqrt_scale_forward(float *y, const float *x, long count, float scale,
                         float offset);
void seqrt_scale_backward(float *dx, const float *dy, long count,
                          float scale);

/* ---------------------------------------------------------------- noise.c */

/* Keras's GaussianNoise (y = x + N(0, stddev^2)), GaussianDropout
 * (y = x * N(1, rate / (1 - rate)), the factor kept in mask) and
 * AlphaDropout (a dropped element becomes SELU's saturation value, then
 * y = a x' + b; mask: a for a kept element, 0 for a dropped one) in
 * training; y = x otherwise. y may equal x. */
void seqrt_gaussian_noise_forward(float *y, const float *x, long count,
                                  float stddev, seqrt_rng *r, int training);
void seqrt_gaussian_dropout_forward(float *y, float *mask, const float *x,
                                    long count, float rate, seqrt_rng *r,
                                    int training);
void seqrt_alpha_dropout_forward(float *y, float *mask, const float *x,
                                 long count, float rate, seqrt_rng *r,
                                 int training);
/* dx = dy * mask (mask NULL: dx = dy). dx may equal dy. */
void seqrt_noise_backward(float *dx, const float *dy, const float *mask,
                          long count);

/* ---------------------------------------------------------------- embedding.c */

/* v as an id of a table of `rows` rows: the integer v if it is one in
 * [0, rows), else -1. */
int seqrt_embedding_id(float v, int rows);
/* y (count, dim) = w (rows, dim)[ids (count)]; an invalid id gives zeros. */
void seqrt_embedding_forward(float *y, const float *ids, const float *w, long count, int rows, int dim);
/* dw (rows, dim) (overwritten) = sum of dy's rows per id. */
void seqrt_embedding_backward(float *dw, const float *dy, const float *ids, long count, int rows, int dim);

/* ---------------------------------------------------------------- rnn.c */

/* A recurrent layer over a batch of sequences x (n, T, F) -> y (n, T, H)
 * (return_sequences, in processing order) or y (n, H) (the last step). */
typedef struct {
    int T, F, H;              /* steps, input features, units */
    int return_sequences;
    int go_backwards;         /* steps from T - 1 down to 0 (Keras) */
    int reset_after;          /* GRU: the reset gate after the recurrent product */
    seqrt_actfn act;          /* the candidate / output activation (tanh) */
    seqrt_actfn rec_act;      /* the gates' activation (sigmoid); not SimpleRNN */
} seqrt_rnn;

/* Floats of scratch the recurrent kernels below need, G = gates x H. */
#define SEQRT_RNN_SCRATCH(n, G, H) ((long)(n) * ((G) + 2L * (H)) + 2L * (G) + 2L * (H))

/* Weights (PyTorch's layout): w_ih (G, F), w_hh (G, H), b_ih (G) and b_hh
 * (G) or NULL, G = gates x H. Per-step buffers are indexed by the input step
 * t each state consumed (also with go_backwards): h (n, T, H) the hidden
 * states; z (n, T, G) the gates' pre-activations, kept for backward (NULL at
 * inference: they are then activated in place in `a` or h); a (n, T, G) the
 * gate values. Backward overwrites z with d loss / d z; dw_* and db_* are
 * overwritten (db_* NULL: not trained); dx (n, T, F) overwritten, or NULL.
 * dy is like y. scratch: SEQRT_RNN_SCRATCH(n, G, H) floats. */

/* SimpleRNN (nn.RNN): h_t = act(x_t w_ih^T + b_ih + h_{t-1} w_hh^T + b_hh). */
void seqrt_simple_rnn_forward(float *y, float *z, float *h, const float *x, const float *w_ih, const float *w_hh,
                              const float *b_ih, const float *b_hh, int n, const seqrt_rnn *g);
void seqrt_simple_rnn_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, const float *dy,
                               float *z, const float *h, const float *x, const float *w_ih, const float *w_hh, int n,
                               const seqrt_rnn *g, float *scratch);
/* LSTM (nn.LSTM), gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o act(c_t),
 * i, f, o = rec_act(.), g = act(.); c (n, T, H) the cell states. */
void seqrt_lstm_forward(float *y, float *z, float *a, float *h, float *c, const float *x, const float *w_ih,
                        const float *w_hh, const float *b_ih, const float *b_hh, int n, const seqrt_rnn *g,
                        float *scratch);
void seqrt_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, const float *dy, float *z,
                         const float *a, const float *h, const float *c, const float *x, const float *w_ih,
                         const float *w_hh, int n, const seqrt_rnn *g, float *scratch);
/* GRU, gates r, z, n (nn.GRU's order): h_t = (1 - z) n + z h_{t-1}.
 * reset_after (nn.GRU, Keras's default): n = act(x w_in^T + b_in +
 * r (h w_hn^T + b_hn)); hn (n, T, H) keeps h w_hn^T + b_hn. Otherwise
 * (Keras's reset_after=False; b_hh unused): n = act(x w_in^T + b_in +
 * (r h) w_hn^T); hn keeps r h. Backward also overwrites a. */
void seqrt_gru_forward(float *y, float *z, float *a, float *h, float *hn, const float *x, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh, int n, const seqrt_rnn *g,
                       float *scratch);
void seqrt_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, const float *dy,
                        float *z, float *a, const float *h, const float *hn, const float *x, const float *w_ih,
                        const float *w_hh, int n, const seqrt_rnn *g, float *scratch);

/* Bidirectional's merge of the two directions' outputs yf, yb (n, S, H),
 * S = steps (1 for the last states): y (n, S, 2H) for concat (forward
 * first), else (n, S, H) the sum, product or average. flip: yb's steps in
 * reverse (the backward direction's sequence back in input order). */
typedef enum { SEQRT_MERGE_CONCAT, SEQRT_MERGE_SUM, SEQRT_MERGE_MUL, SEQRT_MERGE_AVE } seqrt_merge_mode;
void seqrt_merge_forward(float *y, const float *yf, const float *yb, int n, int S, int H, int mode, int flip);
/* From dy (like y): d yf written over yf and d yb over yb (mul reads their
 * values first). */
void seqrt_merge_backward(float *yf, float *yb, const float *dy, int n, int S, int H, int mode, int flip);
/* y (count) += x (count). */
void seqrt_add_to(float *y, const float *x, long count);

/* ---------------------------------------------------------------- loss.c */

/* A loss with its arguments. Every loss is Keras's per-sample function
 * over the last axis of a sample (a mean for the elementwise losses, a sum
 * for the categorical ones), averaged over the batch ("sum over batch
 * size"), optionally weighted per row by a class weight. */
typedef struct {
    int kind;                 /* seqrt_loss_kind */
    float delta;              /* Huber: 1 */
    float label_smoothing;    /* binary and categorical cross-entropy: 0 */
    int axis_len;             /* the size of the last axis of a sample
                                 (the per-sample functions reduce over
                                 it); 0: all c outputs */
    int nclass_weight;        /* fit(class_weight=...): the weight of class
                                 k < nclass_weight (1 beyond); the class of
                                 a row is its index (sparse), the argmax of
                                 a one-hot row, or the rounded target of
                                 one output */
    const float *class_weight;
} seqrt_lossfn;

/* The loss's mean over the batch, and its gradient.
 * y (n,c): the model's output. t: targets, (n,c), or (n) class indices as
 * floats for the sparse loss.
 * logits (n,c): when not NULL, y = sigmoid(logits) (binary cross-entropy) or
 *   softmax(logits) (categorical losses) and the loss is computed stably from
 *   the logits; dy then receives dL/dlogits (= (p - t) / n ...). When NULL,
 *   Keras's clipped formulas (epsilon 1e-7) are used on y and dy = dL/dy.
 * Returns the loss; dy may be NULL (evaluation only). */
float seqrt_loss_fn(const seqrt_lossfn *f, float *dy, const float *y,
                    const float *logits, const float *t, int n, int c);
/* seqrt_loss_fn with Keras's default arguments and no class weights. */
float seqrt_loss(int loss, float *dy, const float *y, const float *logits,
                 const float *t, int n, int c);

/* Regularization penalties (Keras's L1, L2, L1L2), added to the loss.
 * Weights: returns l1 sum|w| + l2 sum w^2 and adds its gradient
 * l1 sign(w) + 2 l2 w to dw (count elements); n is the rows of the batch
 * the call's backward sees: with a batch split over processes
 * (seqrt_batch_hook) it adds the share n / hook->rows of the gradient, so
 * that the processes' summed gradients hold it once.
 * Activity (a layer's output y, n rows of `size`): returns the penalty
 * divided by the batch's rows, as Keras 3 does, and adds its gradient to
 * dy when dy is not NULL (divided by the whole batch's rows when split). */
float seqrt_regularize(const float *w, float *dw, long count, float l1,
                       float l2, int n);
float seqrt_activity_regularize(const float *y, float *dy, int n, long size,
                                float l1, float l2);

/* The index of the largest of v[0..c) (the first maximum wins); metrics and
 * `predict --classes` agree through it. */
int seqrt_argmax(const float *v, int c);

/* ---------------------------------------------------------------- metric.c */

/* A metric's arguments (Keras's class arguments). */
typedef struct {
    int given;            /* 0: Keras's defaults for every field */
    float threshold;      /* binary_accuracy, precision, recall, the
                             confusion counts: 0.5 */
    int k;                /* the top-k accuracies: 5 */
    int num_thresholds;   /* AUC: 200 */
    int curve;            /* AUC: 0 ROC, 1 PR, 2 PRGAIN */
    int summation;        /* AUC: 0 interpolation, 1 minoring, 2 majoring */
    int class_id;         /* precision, recall, confusion counts: -1 every
                             output, else that column only */
    int from_logits;      /* AUC, cross-entropy metrics: y is logits */
    float label_smoothing;/* cross-entropy metrics */
    int aggregation;      /* R2Score: 0 uniform_average, 1
                             variance_weighted_average */
    int num_regressors;   /* R2Score: adjusted R2 when > 0 */
    int axis_len;         /* the output's last axis (0: all c outputs) */
} seqrt_metric_args;

/* Keras's defaults for metric kind `metric` (given = 1). */
seqrt_metric_args seqrt_metric_defaults(int metric);
/* Metrics are stateful over an epoch, as Keras's: a state of doubles
 * (sums and counts only, so that states of several batches, slices or
 * processes add up) that update accumulates and result turns into the
 * value. state_size: how many doubles (AUC: 6 * num_thresholds); a state
 * starts as zeros. */
long   seqrt_metric_state_size(int metric, const seqrt_metric_args *a, int c);
void   seqrt_metric_update(int metric, const seqrt_metric_args *a,
                           double *state, const float *y, const float *t,
                           int n, int c);
double seqrt_metric_result(int metric, const seqrt_metric_args *a,
                           const double *state, int c);

/* A mean metric (accuracies, mae, mse) summed over the batch: the number of
 * correct rows for accuracies, the sum of per-row means for MAE/MSE; divide
 * by the row count for the mean. */
double seqrt_metric_sum(int metric, const float *y, const float *t, int n,
                        int c);
/* Whether seqrt_metric_sum takes `metric` (a mean; the stateful ones, AUC,
 * precision, ..., and RMSE keep a state of their own). */
int    seqrt_metric_is_mean(int metric);

/* ---------------------------------------------------------------- optim.c */

/* Keras update rules. count: number of parameters; step: the 1-based index
 * of this step (Adam bias correction). */
void seqrt_sgd_update(float *w, const float *g, float *velocity, long count,
                      float lr, float momentum, int nesterov);
/* Adam and AdamW (weight_decay > 0: decoupled, w -= lr * wd * w first).
 * Keras form: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);
 * w -= lr_t * m / (sqrt(v) + eps). */
void seqrt_adam_update(float *w, const float *g, float *m, float *v,
                       long count, float lr, float beta1, float beta2,
                       float eps, float weight_decay, long long step);
/* Adam with amsgrad=True: vhat = max(vhat, v) takes v's place. */
void seqrt_amsgrad_update(float *w, const float *g, float *m, float *v,
                          float *vhat, long count, float lr, float beta1,
                          float beta2, float eps, float weight_decay,
                          long long step);
/* Keras 3 RMSprop: v = rho v + (1-rho) g^2; inc = lr g / sqrt(v + eps);
 * momentum > 0: mom = momentum mom + inc, w -= mom; else w -= inc.
 * avg (centered=True, else NULL): avg = rho avg + (1-rho) g, and the
 * root is of v - avg^2 + eps. */
void seqrt_rmsprop_update(float *w, const float *g, float *v, float *mom,
                          long count, float lr, float rho, float momentum,
                          float eps);
void seqrt_rmsprop_centered_update(float *w, const float *g, float *v,
                                   float *mom, float *avg, long count,
                                   float lr, float rho, float momentum,
                                   float eps);
/* Adagrad: acc += g^2; w -= lr g / sqrt(acc + eps) (acc starts at
 * initial_accumulator_value). */
void seqrt_adagrad_update(float *w, const float *g, float *acc, long count,
                          float lr, float eps);
/* Adadelta: ag = rho ag + (1-rho) g^2;
 * d = -sqrt(ad + eps) g / sqrt(ag + eps); ad = rho ad + (1-rho) d^2;
 * w += lr d. */
void seqrt_adadelta_update(float *w, const float *g, float *acc_grad,
                           float *acc_delta, long count, float lr, float rho,
                           float eps);
/* Adamax: m += (1-b1)(g - m); u = max(b2 u, |g|);
 * w -= lr m / ((1 - b1^t)(u + eps)). */
void seqrt_adamax_update(float *w, const float *g, float *m, float *u,
                         long count, float lr, float beta1, float beta2,
                         float eps, long long step);
/* Nadam (Keras 3): u_t = b1 (1 - 0.5 * 0.96^t), u_{t+1} likewise;
 * *u_product *= u_t (once per step, before the update);
 * m_hat = u_{t+1} m / (1 - u_product u_{t+1}) + (1 - u_t) g / (1 - u_product);
 * v_hat = v / (1 - b2^t); w -= lr m_hat / (sqrt(v_hat) + eps). */
void seqrt_nadam_update(float *w, const float *g, float *m, float *v,
                        float *u_product, long count, float lr, float beta1,
                        float beta2, float eps, long long step);
/* Lion: w -= lr sign(b1 m + (1-b1) g); m = b2 m + (1-b2) g. */
void seqrt_lion_update(float *w, const float *g, float *m, long count,
                       float lr, float beta1, float beta2);
/* Ftrl (Keras 3, learning_rate_power p <= 0):
 * g2 = g + 2 l2_shrinkage w; acc' = acc + g^2;
 * lin += g2 - (acc'^-p - acc^-p) / lr w;
 * w = (clip(lin, -l1, l1) - lin) / (acc'^-p / lr + 2 (l2 + beta / (2 lr)));
 * acc = acc'. */
void seqrt_ftrl_update(float *w, const float *g, float *acc, float *linear,
                       long count, float lr, float lr_power, float l1,
                       float l2, float l2_shrinkage, float beta);

/* Decoupled weight decay of every optimizer (weight_decay=...), before the
 * update: w -= w * wd * lr. */
void seqrt_weight_decay(float *w, long count, float lr, float wd);
/* Gradient clipping, before weight decay and the update (Keras's
 * _clip_gradients): clipnorm scales each weight's gradient to an L2 norm
 * of at most clipnorm; global_clipnorm scales all of them together (the
 * whole gradient block); clipvalue clips every element to +-clipvalue. */
void seqrt_clip_by_norm(float *g, long count, float clipnorm);
void seqrt_clip_by_global_norm(float *g, long count, float clipnorm);
void seqrt_clip_by_value(float *g, long count, float clipvalue);

/* Weight constraints, applied after every update (Keras's constraints).
 * w is viewed as a row-major tensor of ndim axes, dims[0] x ... x
 * dims[ndim - 1]; bit a of `reduce` set: the norm sums over axis a of that
 * view, so there is one norm for each index of the other axes (Keras's
 * `axis`, translated by the compiler from Keras's layout of the weight to
 * seqc's: a Dense kernel, Keras (in, units), is stored (units, in), so
 * Keras's axis=0 is reduce = 0x2 here). NonNeg ignores dims and reduce
 * beyond the element count. */
typedef enum {
    SEQRT_CONSTRAINT_MAX_NORM,     /* w * clip(norm, 0, max) / (eps + norm) */
    SEQRT_CONSTRAINT_NON_NEG,      /* max(w, 0) */
    SEQRT_CONSTRAINT_UNIT_NORM,    /* w / (eps + norm) */
    SEQRT_CONSTRAINT_MIN_MAX_NORM  /* w * (rate clip(norm, min, max)
                                      + (1 - rate) norm) / (eps + norm) */
} seqrt_constraint_kind;
void seqrt_constrain(int kind, float *w, int ndim, const int *dims, unsigned reduce,
                     float min_value, float max_value, float rate);

/* A learning-rate schedule (Keras 3's keras.optimizers.schedules), as the
 * generated update evaluates it at each step. */
typedef struct {
    int kind;                       /* seqrt_schedule_kind */
    double initial_learning_rate;
    double decay_steps;             /* CosineDecayRestarts: first_decay_steps */
    double decay_rate;              /* ExponentialDecay, InverseTimeDecay */
    int staircase;
    double end_learning_rate, power; /* PolynomialDecay */
    int cycle;
    double alpha;                   /* CosineDecay(Restarts) */
    int warmup;                     /* CosineDecay: warmup_target given */
    double warmup_target, warmup_steps;
    double t_mul, m_mul;            /* CosineDecayRestarts */
    int nvalues;                    /* PiecewiseConstantDecay */
    const double *boundaries;       /* nvalues - 1 */
    const double *values;           /* nvalues */
} seqrt_lr_schedule;
/* The learning rate at optimizer step `step` (0 for the first update, as
 * Keras evaluates the schedule at its iteration count before the step). */
float seqrt_lr_at(const seqrt_lr_schedule *s, int64_t step);

/* ---------------------------------------------------------------- batch.c */

/* A batch split over processes (data-parallel training: seqrt_mpi.h). Two
 * kernels depend on the whole batch rather than on the rows one call sees:
 * BatchNormalization in training (the batch's mean and variance; in
 * backward the column sums of dh and dh * xhat) and the losses (the
 * gradient of a mean over the batch is divided by its rows). A driver that
 * splits a batch installs a hook; while one is installed:
 *   - seqrt_batchnorm_forward (training) and seqrt_batchnorm_backward call
 *     hook->sum once per block of up to 256 columns, with v[0] = the rows
 *     of this call (n) followed by this call's column sums; the hook
 *     replaces v in place by the sums over every process of the batch (each
 *     process must receive the same values) and the kernel normalizes with
 *     them, as PyTorch's SyncBatchNorm does. Forward sums x - K and
 *     (x - K)^2 with K = the running mean (the same on every process);
 *     dgamma/dbeta stay this call's own sums (the driver sums the gradient
 *     block afterwards);
 *   - seqrt_loss divides its gradient by hook->rows (the rows of the whole
 *     batch) instead of n, so that summing the processes' gradients gives
 *     the gradient of the whole batch's mean loss; the loss it returns is
 *     still the mean over its own n rows.
 * Every process must make the same sequence of these calls (they do: they
 * run the same generated code). With no hook (the default) every kernel
 * works on its call's rows alone. The hook is one process-wide setting, a
 * plain global (no thread-local storage, for small devices): one split
 * batch at a time per process. */
typedef struct seqrt_batch_hook seqrt_batch_hook;
struct seqrt_batch_hook {
    void (*sum)(seqrt_batch_hook *h, double *v, long count);
    long rows;               /* rows of the whole batch, over all processes */
    void *ctx;               /* the driver's */
};
/* Installs h (NULL: removes the hook). */
void seqrt_batch_hook_set(seqrt_batch_hook *h);
seqrt_batch_hook *seqrt_batch_hook_get(void);

/* ---------------------------------------------------------------- the model descriptor */

/* What a tensor of a model's state is, for checkpoints. */
typedef enum {
    SEQRT_T_PARAM,     /* trainable parameter ("3.weight") */
    SEQRT_T_BUFFER,    /* non-trainable state ("1.running_mean") */
    SEQRT_T_OPTIM,     /* optimizer slot ("optimizer.3.weight.m") */
    SEQRT_T_STATE,     /* training counters and RNG state, int64:
                          "train.step", "train.epoch", "train.rng" */
    SEQRT_T_GRAD       /* gradient (never saved; for tests and tools) */
} seqrt_tensor_kind;

typedef enum { SEQRT_F32, SEQRT_I64 } seqrt_dtype;

/* One tensor of a model's state. offset: bytes from the start of the state.
 * Shapes are row-major; ndim 0 is a scalar. */
typedef struct {
    const char *name;
    int kind;          /* seqrt_tensor_kind */
    int dtype;         /* seqrt_dtype */
    size_t offset;
    int ndim;          /* 0 to SEQRT_MAX_RANK */
    int shape[SEQRT_MAX_RANK];
} seqrt_tensor;

/* Checkpoint kinds masks. */
#define SEQRT_SAVE_WEIGHTS ((1u << SEQRT_T_PARAM) | (1u << SEQRT_T_BUFFER))
#define SEQRT_SAVE_ALL (SEQRT_SAVE_WEIGHTS | (1u << SEQRT_T_OPTIM) | (1u << SEQRT_T_STATE))

/* EarlyStopping, Keras semantics. */
typedef struct {
    int enabled;
    const char *monitor;     /* "val_loss", "loss", "val_accuracy", ... */
    float min_delta;
    int patience;
    int mode;                /* 0 auto, 1 min, 2 max */
    int restore_best_weights;
    int start_from_epoch;
} seqrt_early_stopping;

/* The other callbacks of fit(callbacks=[...]), Keras 3 semantics; at the
 * end of an epoch they act in the order of the list (`order`). */
typedef enum {
    SEQRT_CB_REDUCE_LR_ON_PLATEAU,
    SEQRT_CB_MODEL_CHECKPOINT,
    SEQRT_CB_CSV_LOGGER,
    SEQRT_CB_TERMINATE_ON_NAN
} seqrt_callback_kind;

typedef struct {
    int kind;                /* seqrt_callback_kind */
    int order;               /* its place in fit(callbacks=[...]) */
    const char *monitor;     /* ReduceLROnPlateau, ModelCheckpoint */
    int mode;                /* 0 auto, 1 min, 2 max */
    float min_delta;
    int patience, cooldown, verbose;
    float factor, min_lr;    /* ReduceLROnPlateau */
    const char *path;        /* ModelCheckpoint: filepath (Python format
                                fields {epoch}, {val_loss:.2f} ...);
                                CSVLogger: filename */
    int save_best_only, save_weights_only;
    int has_initial_value;   /* ModelCheckpoint(initial_value_threshold=) */
    float initial_value;
    char separator;          /* CSVLogger */
    int append;
    int raise_error;         /* TerminateOnNaN */
} seqrt_callback;

#define SEQRT_MAX_CALLBACKS 8

/* fit() arguments as the model file gives them (defaults from Keras). */
typedef struct {
    int batch_size;
    int epochs;
    int shuffle;
    float validation_split;
    uint64_t seed;
    int verbose;             /* 0 silent, 1 progress bar, 2 one line per epoch */
    const char *checkpoint;  /* if set: save the best weights here (all state) */
    seqrt_early_stopping early_stopping;
    int early_stopping_order;     /* its place in fit(callbacks=[...]) */
    int early_stopping_has_baseline;
    float early_stopping_baseline;  /* EarlyStopping(baseline=...) */
    int initial_epoch;       /* a fresh model's first epoch (Keras's initial_epoch) */
    int ncallbacks;
    seqrt_callback callbacks[SEQRT_MAX_CALLBACKS];
} seqrt_fit_config;

typedef struct seqrt_model {
    const char *name;
    int in, out;             /* floats per row (the product of the shape) */
    int in_rank, out_rank;   /* the shapes of one row, batch excluded */
    int in_shape[SEQRT_MAX_RANK], out_shape[SEQRT_MAX_RANK];
    int max_batch;           /* rows the static buffers hold */
    size_t state_bytes;      /* sizeof the generated state struct */
    int loss;                /* seqrt_loss_kind; -1: no loss (inference only) */
    int output_is_logits;    /* loss given with from_logits=True */
    int nmetrics;
    int metrics[SEQRT_MAX_METRICS];          /* seqrt_metric_kind */
    const seqrt_tensor *tensors;
    int ntensors;
    /* Parameters and buffers lie in one contiguous range of the state: what
     * restore_best_weights copies. */
    size_t weights_offset, weights_bytes;
    size_t param_offset, grad_offset;   /* bytes */
    long param_count;
    /* Normalization layer as the first layer (adapted before fit), else
     * norm_mean_offset == 0. Offsets of its mean and variance, bytes. */
    size_t norm_mean_offset, norm_var_offset;
    int norm_features;       /* the size of its last axis (0: in) */
    /* int64 counters in the state: optimizer steps taken, epochs completed
     * (fit keeps the latter so that a resumed run continues exactly). */
    size_t step_offset, epoch_offset;
    seqrt_fit_config fit;
    void  (*init)(void *net, uint64_t seed);
    void  (*forward)(void *net, const float *x, float *y, int n, int training);
    float (*backward)(void *net, const float *target, int n);
    void  (*update)(void *net);
    float (*train_step)(void *net, const float *x, const float *target, int n);
    /* Metric names as the model file wrote them ("accuracy"), for progress
     * lines, history and plots; NULL entries fall back to seqrt_metric_name. */
    const char *metric_labels[SEQRT_MAX_METRICS];
    /* Metric arguments (AUC(num_thresholds=...), Precision(thresholds=...));
     * an entry with given == 0 takes Keras's defaults. */
    seqrt_metric_args metric_args[SEQRT_MAX_METRICS];
    /* The loss's arguments (NULL: Keras's defaults): Huber's delta, label
     * smoothing, the class weights of training. */
    const seqrt_lossfn *loss_fn;
    /* The regularization penalties on the state as the last forward left
     * it (weights, and activities of its n rows), added to every reported
     * loss as Keras does; NULL when the model has none. */
    float (*penalty)(void *net, int n);
    /* A settable learning rate (float, bytes from the start of the state),
     * for ReduceLROnPlateau; 0 when the model has none. */
    size_t lr_offset;
    /* Per tensor of `tensors`: the value every element of a fresh
     * optimizer tensor holds (Adagrad's accumulator starts at 0.1, Nadam's
     * u_product at 1), which a weights-only load puts back; NULL: zeros. */
    const float *tensor_fill;
    /* > 0: the input is integer ids below this (an Embedding first): the
     * driver checks every value of the data it reads. */
    int input_ids;
} seqrt_model;

/* The name a model's metric i is reported under. */
const char *seqrt_model_metric_name(const seqrt_model *m, int i);

/* Model-level checkpoints, used by the generated NAME_save / NAME_load.
 * They live in the driver library (safetensors.c): an application that
 * never calls NAME_save or NAME_load need not link it. */
int seqrt_model_save(const seqrt_model *m, const void *state, const char *path);
int seqrt_model_load(const seqrt_model *m, void *state, const char *path);

#ifdef __cplusplus
}
#endif
#endif
