/*
 * window.c - what the convolution, pooling and padding kinds share: their
 * Keras arguments (an int or a tuple per spatial axis, padding modes,
 * data_format) and the shape rule of a sliding window.
 *
 * The rule is Keras 3's compute_conv_output_shape / compute_pooling_output_
 * shape (keras/src/ops/operation_utils.py), per spatial axis, with window k,
 * stride s and dilation d (pooling: d = 1):
 *
 *   valid:        out = floor((in - d (k - 1) - 1) / s) + 1, which must be
 *                 at least 1 (a window larger than its input is an error);
 *   same, causal: out = floor((in - 1) / s) + 1.
 *
 * The padding "same" implies is TensorFlow's: total = max((out - 1) s +
 * d (k - 1) + 1 - in, 0), of which floor(total / 2) goes before and the
 * rest after (the extra one at the end); "causal" (Conv1D) puts d (k - 1)
 * before and none after. These are the pads the generated code and the
 * PyTorch reference of the parity tests use, so a model matches
 * TensorFlow's Keras exactly, including the asymmetric cases PyTorch's
 * padding="same" does not express.
 *
 * Keras is channels-last by default and seqc only: data_format="channels_
 * first" is an error that says how to convert.
 */
#include <string.h>
#include <strings.h>

#include "seqc.h"

static const char *axis_name(int rank, int a)
{
    return rank == 1 ? "steps" : a == 0 ? "height" : "width";
}

int lower_tuple(const Lower *lw, const char *name, int rank, int def, int min, int *out)
{
    const Value *v = lower_arg(lw, name);
    for (int a = 0; a < rank; a++)
        out[a] = def;
    if (!v)
        return 0;
    const char *want = rank == 1 ? "an integer (or a list of one)" : "an integer or a list of 2 integers";
    int n = 0;
    if (v->kind == VAL_INT) {
        for (int a = 0; a < rank; a++)
            out[a] = (int)(v->i > INT32_MAX ? INT32_MAX : v->i < INT32_MIN ? INT32_MIN : v->i);
        n = rank;
        if (v->i < min) {
            diag_error(lw->src, v->loc, "%s of %s must be %s, not %lld", name, lw->spec->name,
                       min > 0 ? "positive" : "0 or more", (long long)v->i);
            return -1;
        }
    } else if (v->kind == VAL_LIST) {
        for (const Value *e = v->items; e; e = e->next, n++) {
            if (e->kind != VAL_INT) {
                diag_error(lw->src, e->loc, "argument '%s' must be %s, not a list holding %s", name, want,
                           ast_kind_name(e->kind));
                return -1;
            }
            if (e->i < min || e->i > INT32_MAX) {
                diag_error(lw->src, e->loc, "every value of %s of %s must be %s, not %lld", name, lw->spec->name,
                           min > 0 ? "positive" : "0 or more", (long long)e->i);
                return -1;
            }
            if (n < rank)
                out[n] = (int)e->i;
        }
        if (n != rank) {
            diag_error(lw->src, v->loc, "%s of %s needs %d value%s (%s), not %d", name, lw->spec->name, rank,
                       rank == 1 ? "" : "s", rank == 1 ? "steps" : "height, width", n);
            return -1;
        }
    } else {
        diag_error(lw->src, v->loc, "argument '%s' must be %s, not %s", name, want, ast_kind_name(v->kind));
        return -1;
    }
    return 0;
}

int lower_padding(const Lower *lw, int allow_causal, PadMode *out)
{
    const char *s;
    *out = PAD_VALID;
    if (lower_str(lw, "padding", "valid", &s))
        return -1;
    if (!strcasecmp(s, "valid"))
        *out = PAD_VALID;
    else if (!strcasecmp(s, "same"))
        *out = PAD_SAME;
    else if (!strcasecmp(s, "causal") && allow_causal)
        *out = PAD_CAUSAL;
    else {
        diag_error(lw->src, lower_loc(lw, "padding"), "padding of %s must be \"valid\" or \"same\"%s, not \"%s\"",
                   lw->spec->name, allow_causal ? " or \"causal\"" : "", s);
        return -1;
    }
    return 0;
}

int lower_data_format(const Lower *lw)
{
    const Value *v = lower_arg(lw, "data_format");
    if (!v || v->kind == VAL_NONE)
        return 0;
    if (v->kind != VAL_STRING && v->kind != VAL_NAME) {
        diag_error(lw->src, v->loc, "argument 'data_format' must be a string, not %s", ast_kind_name(v->kind));
        return -1;
    }
    if (!strcmp(v->s, "channels_last"))
        return 0;
    if (!strcmp(v->s, "channels_first")) {
        diag_error(lw->src, v->loc, "seqc is channels_last (Keras's default): a sample is [height, width, "
                   "channels] (or [steps, channels]); leave data_format out and give the data channels last "
                   "(numpy: x.transpose(0, 2, 3, 1) for a (n, channels, height, width) array)");
        return -1;
    }
    diag_error(lw->src, v->loc, "data_format must be \"channels_last\" or \"channels_first\", not \"%s\"", v->s);
    return -1;
}

/* A Reshape target for an image layer on a flatter input: (h, w, 1) from
 * [h, w], (s, s, 1) from [s * s], else the names of the sizes. */
static const char *reshape_hint(const Layer *l)
{
    if (l->in.rank == 2)
        return arena_printf("(%d, %d, 1)", l->in.dim[0], l->in.dim[1]);
    long n = shape_size(&l->in), s = 1;
    while ((s + 1) * (s + 1) <= n)
        s++;
    if (s > 1 && s * s == n)
        return arena_printf("(%ld, %ld, 1)", s, s);
    return "(height, width, channels)";
}

int window_input_rank(const Source *src, const Layer *l, int rank, const char *what)
{
    if (l->in.rank == rank + 1)
        return 0;
    const char *want = rank == 1 ? "[steps, channels]" : "[height, width, channels]";
    long n = shape_size(&l->in);
    if (l->in.rank < rank + 1)
        diag_error(src, l->loc, "%s needs an input of shape %s, but its input has shape %s; add "
                   "Reshape(%s) before it", what, want, shape_str(&l->in),
                   rank == 1 ? arena_printf("(%ld, 1)", n) : reshape_hint(l));
    else
        diag_error(src, l->loc, "%s needs an input of shape %s, but its input has shape %s (%d axes); "
                   "seqc does not take extra leading axes", what, want, shape_str(&l->in), l->in.rank);
    return -1;
}

static long floor_div(long a, long b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int window_infer(const Source *src, const Layer *l, Window *w, const char *what, int out_channels)
{
    int rank = w->rank, bad = -1;
    long out[2];
    for (int a = 0; a < rank; a++) {
        long in = l->in.dim[a], k = w->k[a], s = w->s[a], d = w->d[a];
        long span = d * (k - 1) + 1;   /* the dilated window */
        w->in[a] = (int)in;
        if (w->pad == PAD_VALID) {
            out[a] = floor_div(in - span, s) + 1;
            w->before[a] = w->after[a] = 0;
            if (out[a] < 1 && bad < 0)
                bad = a;
        } else {
            out[a] = (in - 1) / s + 1;
            long total = (out[a] - 1) * s + span - in;
            if (total < 0)
                total = 0;
            w->before[a] = (int)(w->pad == PAD_CAUSAL ? span - 1 : total / 2);
            w->after[a] = (int)(w->pad == PAD_CAUSAL ? 0 : total - total / 2);
        }
        w->out[a] = (int)out[a];
    }
    if (bad < 0)
        return 0;
    char shape[96];
    int n = snprintf(shape, sizeof shape, "[");
    for (int a = 0; a < rank; a++)
        n += snprintf(shape + n, sizeof shape - (size_t)n, "%ld, ", out[a]);
    snprintf(shape + n, sizeof shape - (size_t)n, "%d]", out_channels);
    long span = (long)w->d[bad] * (w->k[bad] - 1) + 1;
    diag_error(src, l->loc, "%s: the window of %d along %s%s is larger than the input %s (padding=\"valid\"): "
               "the output would be %s; use padding=\"same\" or a smaller %s", what, w->k[bad],
               axis_name(rank, bad), w->d[bad] > 1 ? arena_printf(" (%ld with dilation_rate %d)", span, w->d[bad]) : "",
               shape_str(&l->in), shape, w->is_pool ? "pool_size" : "kernel_size");
    return -1;
}

const char *window_seqrt(const Window *w, int c, int oc, int groups)
{
    int r2 = w->rank == 2;
    return arena_printf("{.h = %d, .w = %d, .c = %d, .oh = %d, .ow = %d, .oc = %d,\n"
                        "    .kh = %d, .kw = %d, .sh = %d, .sw = %d, .dh = %d, .dw = %d, .pt = %d, .pl = %d,"
                        " .groups = %d}",
                        r2 ? w->in[0] : 1, w->in[r2], c, r2 ? w->out[0] : 1, w->out[r2], oc, r2 ? w->k[0] : 1,
                        w->k[r2], r2 ? w->s[0] : 1, w->s[r2], r2 ? w->d[0] : 1, w->d[r2], r2 ? w->before[0] : 0,
                        w->before[r2], groups);
}

static void print_ints(FILE *f, const char *name, const int *v, int n)
{
    fprintf(f, " %s=", name);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%d", i ? "," : "", v[i]);
}

void window_print(FILE *f, const Window *w, int dilation)
{
    print_ints(f, w->is_pool ? "pool" : "kernel", w->k, w->rank);
    print_ints(f, "strides", w->s, w->rank);
    if (dilation)
        print_ints(f, "dilation", w->d, w->rank);
    int pads[4];
    for (int a = 0; a < w->rank; a++) {
        pads[2 * a] = w->before[a];
        pads[2 * a + 1] = w->after[a];
    }
    static const char *const modes[] = {"valid", "same", "causal"};
    fprintf(f, " padding=%s", modes[w->pad]);
    print_ints(f, "pads", pads, 2 * w->rank);
}
