/*
 * summary.c - Keras's model.summary() table for a lowered model.
 *
 * What Keras 3 prints for a Sequential model (keras/src/utils/
 * summary_utils.py, rendered by rich without colour): the model's name,
 * a table of the layers with their names, classes, output shapes (None
 * for the batch) and parameter counts, then the total, trainable and
 * non-trainable counts with their memory in Keras's units. The layout is
 * rich's: line_length (default 88, at most the terminal's width - 4),
 * columns at positions 0.45, 0.80, 1.0 of it, padded by one space, reduced
 * together (rich's ratio_reduce) to fit the line, box-drawing borders with a
 * heavy head and lines between rows. Cells wrap at spaces when too long.
 *
 * The layers are the statements as written, before any pass: names are
 * name=... or Keras's automatic ones (lower.c), layers that
 * activity_regularizer= adds are not listed (Keras adds none). Counts
 * follow Keras's weights: a layer's parameters, plus the int64 `count` of
 * a Normalization layer, which Keras 3 keeps as a non-trainable weight
 * (8 bytes: TensorFlow's "int"), less the PyTorch-only buffers (LSTM's and
 * SimpleRNN's bias_hh_l0, which Keras's one-bias cells lack). The summary describes the model before
 * it is trained, so, as Keras before fit, it shows no optimizer weights.
 */
#include <string.h>

#include "seqc.h"

/* ---------------------------------------------------------------- text */

static void put_n(FILE *f, const char *s, int n)
{
    for (int i = 0; i < n; i++)
        fputs(s, f);
}

/* "1,234,567" */
static const char *grouped(long v)
{
    char digits[32], out[48];
    snprintf(digits, sizeof digits, "%ld", v);
    int n = (int)strlen(digits), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    return arena_strdup(out);
}

/* Keras's readable_memory_size. */
static const char *memory(double bytes)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    for (int i = 0; i < 6; i++) {
        if (bytes / 1024 < 1)
            return arena_printf("%.2f %s", bytes, units[i]);
        bytes /= 1024;
    }
    return arena_printf("%.2f %s", bytes, units[5]);
}

/* Up to `width` characters of s from *pos, broken at a space when it can
 * be (rich's word wrap; a word longer than the cell is folded). */
static const char *next_line(const char *s, int *pos, int width)
{
    const char *p = s + *pos;
    int len = (int)strlen(p);
    if (len <= width) {
        *pos += len;
        return p;
    }
    int cut = width;
    for (int i = width; i > 0; i--)
        if (p[i] == ' ') {
            cut = i;
            break;
        }
    const char *line = arena_strndup(p, (size_t)cut);
    *pos += cut;
    while (s[*pos] == ' ')
        (*pos)++;
    return line;
}

typedef struct {
    int ncol;
    int width[4];        /* content width of each column */
    char align[4];       /* 'l', 'r', 'c' */
} Layout;

static void row(FILE *f, const Layout *t, const char *const *cells, const char *bar)
{
    int pos[4] = {0, 0, 0, 0};
    for (;;) {
        fputs(bar, f);
        for (int c = 0; c < t->ncol; c++) {
            const char *line = next_line(cells[c], &pos[c], t->width[c]);
            int n = (int)strlen(line), pad = t->width[c] - n;
            int left = t->align[c] == 'r' ? pad : t->align[c] == 'c' ? pad / 2 : 0;
            fprintf(f, " %*s%s%*s ", left, "", line, pad - left, "");
            fputs(bar, f);
        }
        fputc('\n', f);
        int more = 0;
        for (int c = 0; c < t->ncol; c++)
            more |= cells[c][pos[c]] != 0;
        if (!more)
            return;
    }
}

static void rule(FILE *f, const Layout *t, const char *left, const char *fill, const char *mid, const char *right)
{
    fputs(left, f);
    for (int c = 0; c < t->ncol; c++) {
        put_n(f, fill, t->width[c] + 2);
        fputs(c + 1 < t->ncol ? mid : right, f);
    }
    fputc('\n', f);
}

/* rich's ratio_reduce with equal ratios, Python's round (half to even). */
static void ratio_reduce(int total, int *values, int n)
{
    int remaining = total, ratio = n;
    for (int i = 0; i < n && ratio > 0; i++) {
        double share = (double)remaining / ratio;
        double fl = (double)(long)share;
        long r = share - fl > 0.5 || (share - fl == 0.5 && ((long)fl % 2)) ? (long)fl + 1 : (long)fl;
        int d = (int)(r < values[i] ? r : values[i]);
        values[i] -= d;
        remaining -= d;
        ratio--;
    }
}

/* ---------------------------------------------------------------- the summary */

static const char *output_shape(const Shape *s)
{
    const char *t = "(None";
    for (int i = 0; i < s->rank; i++)
        t = arena_printf("%s, %d", t, s->dim[i]);
    return arena_printf("%s)", t);
}

void summary_print(FILE *f, const Model *m, int columns, const SummaryOptions *o)
{
    int trainable_col = o && o->show_trainable;
    int line = o && o->line_length > 0 ? o->line_length : (trainable_col ? 100 : 88);
    if (!(o && o->line_length > 0) && columns - 4 < line)
        line = columns - 4;
    double pos[4] = {0.45, 0.80, 1.0, 1.0};
    int ncol = 3;
    if (o && o->npositions == 3)
        for (int i = 0; i < 3; i++)
            pos[i] = o->positions[i];
    if (trainable_col) {
        for (int i = 0; i < 3; i++)
            pos[i] *= 0.90;
        pos[3] = 1.0;
        ncol = 4;
    }
    Layout t = {ncol, {0}, {'l', 'l', 'r', 'c'}};
    int cur = 0, sum = 0;
    for (int c = 0; c < ncol; c++) {
        int w = (int)(pos[c] * line) - cur;
        cur += w;
        t.width[c] = (w < 4 ? 4 : w) + 2;   /* with rich's padding */
        sum += t.width[c];
    }
    int avail = line - (ncol + 1);        /* rich's table width less its borders */
    if (sum > avail)
        ratio_reduce(sum - avail, t.width, ncol);
    for (int c = 0; c < ncol; c++)
        t.width[c] = t.width[c] > 2 ? t.width[c] - 2 : 1;

    fprintf(f, "Model: \"%s\"\n", m->name);
    rule(f, &t, "┏", "━", "┳", "┓");
    const char *head[4] = {"Layer (type)", "Output Shape", "Param #", "Trainable"};
    row(f, &t, head, "┃");
    rule(f, &t, "┡", "━", "╇", "┩");
    long total[2] = {0, 0};       /* non-trainable, trainable */
    double bytes[2] = {0, 0};
    int first = 1;
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layer[i];
        if (!l->keras_class)
            continue;   /* added by activity_regularizer= */
        long count = 0;
        for (int k = 0; k < ir_nparams(l); k++) {
            const Param *p = ir_param_at(l, k);
            if (p->torch_only)
                continue;   /* LSTM's, SimpleRNN's second bias: no Keras weight */
            long n = shape_size(&p->shape);
            count += n;
            total[p->trainable] += n;
            bytes[p->trainable] += 4.0 * (double)n;
        }
        if (l->kind == &kind_normalization) {   /* Keras 3's int64 `count` weight */
            count++;
            total[0]++;
            bytes[0] += 8;
        }
        if (!first)
            rule(f, &t, "├", "─", "┼", "┤");
        first = 0;
        const char *cells[4] = {arena_printf("%s (%s)", l->keras_name, l->keras_class), output_shape(&l->out),
                                grouped(count), count ? "Y" : "-"};
        row(f, &t, cells, "│");
    }
    rule(f, &t, "└", "─", "┴", "┘");
    fprintf(f, " Total params: %s (%s)\n", grouped(total[0] + total[1]), memory(bytes[0] + bytes[1]));
    fprintf(f, " Trainable params: %s (%s)\n", grouped(total[1]), memory(bytes[1]));
    fprintf(f, " Non-trainable params: %s (%s)\n", grouped(total[0]), memory(bytes[0]));
}
