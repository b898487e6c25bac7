/*
 * plot_svg.c - the training history as a standalone SVG (640 x 480).
 *
 * Design: plain SVG 1.1 elements only (rect, line, path, circle, text), no
 * scripts, no external references, all text XML-escaped, so any viewer or
 * XML parser accepts it. Panel 1 plots loss and val_loss against the epoch;
 * panel 2, when the model has a metric, plots the first metric and its val_
 * version. Each panel has a frame, "nice" ticks (1, 2, 5 x 10^k) with
 * labels, a legend and, when the history names a best epoch, a dashed
 * vertical line at it (labelled in panel 1). The legend and the label sit on
 * white boxes, each in whichever of two corners (top or bottom) the curves
 * cross less.
 *
 * Robustness: non-finite values are skipped (the line breaks there and an
 * isolated point is drawn as a dot); a single epoch or a constant series
 * gets a padded range instead of a zero-width scale. Coordinates are
 * printed with %.2f and nothing depends on time or addresses, so the same
 * history always gives the same bytes. The file is written atomically.
 */
#include "seqrt_driver.h"

#include <math.h>
#include <string.h>

#define SVG_W 640
#define SVG_H 480
#define PLOT_LEFT 70.0
#define PLOT_RIGHT 620.0
#define COLOR_TRAIN "#1f77b4"
#define COLOR_VAL "#ff7f0e"

/* Which numbers of an epoch a series plots: metric -1 is the loss. */
typedef struct {
    int val, metric;
} series;

/* A panel's data range and where it lies on the page. */
typedef struct {
    double x0, x1, y0, y1;         /* data range */
    double ystep, xstep;           /* tick steps */
    double top, bottom;            /* page y of the plot area */
} panel;

static double value_of(const seqrt_epoch_log *e, series s)
{
    if (s.metric < 0)
        return s.val ? e->val_loss : e->loss;
    return s.val ? e->val_metric[s.metric] : e->metric[s.metric];
}

static int has_points(const seqrt_history *h, series s)
{
    for (int i = 0; i < h->nepochs; i++)
        if (isfinite(value_of(&h->epochs[i], s)))
            return 1;
    return 0;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
        }
    }
}

/* ---------------------------------------------------------------- scales */

/* A step of 1, 2 or 5 x 10^k giving about `want` intervals over range. */
static double nice_step(double range, int want)
{
    double raw = range / want;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
    return step * mag;
}

static void y_range(panel *p, const seqrt_history *h, const series *s, int ns)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < h->nepochs; i++) {
            double v = value_of(&h->epochs[i], s[k]);
            if (isfinite(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo <= 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    p->ystep = nice_step(hi - lo, 5);
    p->y0 = floor(lo / p->ystep) * p->ystep;
    p->y1 = ceil(hi / p->ystep) * p->ystep;
    if (p->y1 <= p->y0)
        p->y1 = p->y0 + p->ystep;
}

static void x_range(panel *p, const seqrt_history *h)
{
    double first = h->nepochs ? h->epochs[0].epoch : 1;
    double last = h->nepochs ? h->epochs[h->nepochs - 1].epoch : 1;
    if (last <= first) {
        first -= 1;
        last += 1;
    }
    p->x0 = first;
    p->x1 = last;
    p->xstep = nice_step(last - first, 8);
    if (p->xstep < 1)
        p->xstep = 1;
}

static double px(const panel *p, double x)
{
    return PLOT_LEFT + (x - p->x0) / (p->x1 - p->x0) * (PLOT_RIGHT - PLOT_LEFT);
}

static double py(const panel *p, double y)
{
    return p->bottom - (y - p->y0) / (p->y1 - p->y0) * (p->bottom - p->top);
}

/* ---------------------------------------------------------------- drawing */

static void tick_label(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(buf, n, "%.6g", v);
}

static void draw_axes(FILE *f, const panel *p, const char *ylabel)
{
    char lab[32];
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"none\" stroke=\"#444\"/>\n", PLOT_LEFT, p->top,
            PLOT_RIGHT - PLOT_LEFT, p->bottom - p->top);
    for (double y = p->y0; y <= p->y1 + p->ystep * 1e-6; y += p->ystep) {
        tick_label(lab, sizeof lab, y, p->ystep);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke=\"#ddd\"/>\n", PLOT_LEFT, py(p, y), PLOT_RIGHT,
                py(p, y));
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s"
                "</text>\n", PLOT_LEFT - 6, py(p, y) + 4, lab);
    }
    double x = ceil(p->x0 / p->xstep) * p->xstep;
    for (; x <= p->x1 + 1e-9; x += p->xstep) {
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke=\"#444\"/>\n", px(p, x), p->bottom, px(p, x),
                p->bottom + 5);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%.0f"
                "</text>\n", px(p, x), p->bottom + 18, x);
    }
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">epoch"
            "</text>\n", (PLOT_LEFT + PLOT_RIGHT) / 2, p->bottom + 32);
    fprintf(f, "<text x=\"16\" y=\"%.2f\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 16 %.2f)\">",
            (p->top + p->bottom) / 2, (p->top + p->bottom) / 2);
    xml_text(f, ylabel);
    fputs("</text>\n", f);
}

static int finite_at(const seqrt_history *h, series s, int i)
{
    return i >= 0 && i < h->nepochs && isfinite(value_of(&h->epochs[i], s));
}

/* The series as a path broken at non-finite values; isolated points as
 * dots. */
static void draw_series(FILE *f, const panel *p, const seqrt_history *h,
                        series s, const char *color)
{
    int pen = 0;
    fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
            color);
    for (int i = 0; i < h->nepochs; i++) {
        if (!finite_at(h, s, i)) {
            pen = 0;
            continue;
        }
        const seqrt_epoch_log *e = &h->epochs[i];
        fprintf(f, "%s%c%.2f %.2f", i ? " " : "", pen ? 'L' : 'M',
                px(p, e->epoch), py(p, value_of(e, s)));
        pen = 1;
    }
    fputs("\"/>\n", f);
    for (int i = 0; i < h->nepochs; i++)
        if (finite_at(h, s, i) && !finite_at(h, s, i - 1) &&
            !finite_at(h, s, i + 1))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" "
                    "fill=\"%s\"/>\n", px(p, h->epochs[i].epoch),
                    py(p, value_of(&h->epochs[i], s)), color);
}

/* ---------------------------------------------------------------- placement */

/* Text width on the page, roughly: 11px sans-serif averages under 6.5px a
 * character. */
static double text_width(const char *s)
{
    return 6.5 * (double)strlen(s);
}

/* Page y of series s at page x (linear between epochs); 0 if the series has
 * no finite segment there. */
static int series_y_at(const panel *p, const seqrt_history *h, series s,
                       double x, double *y)
{
    for (int i = 0; i + 1 < h->nepochs; i++) {
        double xa = px(p, h->epochs[i].epoch);
        double xb = px(p, h->epochs[i + 1].epoch);
        if (x < xa || x > xb || !finite_at(h, s, i) ||
            !finite_at(h, s, i + 1))
            continue;
        double t = xb > xa ? (x - xa) / (xb - xa) : 0;
        *y = py(p, value_of(&h->epochs[i], s)) * (1 - t) +
             py(p, value_of(&h->epochs[i + 1], s)) * t;
        return 1;
    }
    return 0;
}

/* How much of the curves passes through the page box [x0,x1] x [y0,y1]:
 * the number of 2px-wide columns in which some series is inside it. Used
 * to put the legend and the best-epoch label where they hide the least. */
static int curve_hits(const panel *p, const seqrt_history *h,
                      const series *s, int ns, double x0, double y0,
                      double x1, double y1)
{
    int hits = 0;
    for (double x = x0; x <= x1; x += 2)
        for (int k = 0; k < ns; k++) {
            double y;
            if (series_y_at(p, h, s[k], x, &y) && y >= y0 && y <= y1) {
                hits++;
                break;
            }
        }
    return hits;
}

typedef struct {
    double x0, y0, x1, y1;
} box;

static int boxes_overlap(box a, box b)
{
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/* The legend: top right, or bottom right when the curves cross the top
 * right corner more; on a white, slightly transparent box. */
static box draw_legend(FILE *f, const panel *p, const seqrt_history *h,
                       const series *s, int ns, const char *const *names,
                       const char *const *colors)
{
    double w = 0;
    for (int k = 0; k < ns; k++)
        if (26 + text_width(names[k]) + 8 > w)
            w = 26 + text_width(names[k]) + 8;
    double hgt = 8 + 16 * ns;
    box top = {PLOT_RIGHT - 6 - w, p->top + 4, PLOT_RIGHT - 6,
               p->top + 4 + hgt};
    box bot = {top.x0, p->bottom - 4 - hgt, top.x1, p->bottom - 4};
    box b = curve_hits(p, h, s, ns, bot.x0, bot.y0, bot.x1, bot.y1) <
                    curve_hits(p, h, s, ns, top.x0, top.y0, top.x1, top.y1)
                ? bot : top;
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n", b.x0,
            b.y0, b.x1 - b.x0, b.y1 - b.y0);
    for (int k = 0; k < ns; k++) {
        double x = b.x0 + 6, y = b.y0 + 16 + 16 * k;
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke=\"%s\" stroke-width=\"2\"/>\n", x, y - 4, x + 20,
                y - 4, colors[k]);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", x + 26, y);
        xml_text(f, names[k]);
        fputs("</text>\n", f);
    }
    return b;
}

static void draw_best_line(FILE *f, const panel *p, int best)
{
    if (best <= 0 || best < p->x0 || best > p->x1)
        return;
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
            "stroke=\"#2ca02c\" stroke-dasharray=\"5,4\"/>\n", px(p, best),
            p->top, px(p, best), p->bottom);
}

/* "best epoch N" beside the line, on the side with more room: at the
 * bottom or the top of the panel, else the highest free spot in between,
 * whichever the curves cross least (never over the legend); on a white box
 * so that it stays readable. */
static void draw_best_label(FILE *f, const panel *p, const seqrt_history *h,
                            const series *s, int ns, box legend)
{
    int best = h->best_epoch;
    char text[48];
    if (best <= 0 || best < p->x0 || best > p->x1)
        return;
    snprintf(text, sizeof text, "best epoch %d", best);
    double w = text_width(text), x = px(p, best);
    int right = x < (PLOT_LEFT + PLOT_RIGHT) / 2;
    double x0 = right ? x + 2 : x - 2 - w - 4;
    box pick = {0, 0, 0, 0};
    int best_cost = -1;
    /* candidates: the bottom, the top, then downwards from the top */
    for (int c = 0;; c++) {
        double y0 = c == 0 ? p->bottom - 18 : p->top + 2 + 16 * (c - 1);
        if (c > 0 && y0 + 16 > p->bottom - 2)
            break;
        box b = {x0, y0, x0 + w + 4, y0 + 16};
        int cost = 2 * curve_hits(p, h, s, ns, b.x0, b.y0, b.x1, b.y1) +
                   (boxes_overlap(b, legend) ? 100000 : 0) + (c > 1 ? 3 : 0);
        if (best_cost < 0 || cost < best_cost) {
            best_cost = cost;
            pick = b;
        }
    }
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"white\" fill-opacity=\"0.85\"/>\n", pick.x0, pick.y0,
            pick.x1 - pick.x0, pick.y1 - pick.y0);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" fill=\"#2ca02c\">%s</text>\n",
            pick.x0 + 2, pick.y1 - 4, text);
}

/* One panel: series s[0] (train) and s[1] (val) named name, val_name. */
static void draw_panel(FILE *f, const seqrt_history *h, double top,
                       double bottom, const series *s, const char *name,
                       int best_label)
{
    char val_name[80];
    panel p;
    p.top = top;
    p.bottom = bottom;
    int ns = has_points(h, s[1]) ? 2 : 1;
    x_range(&p, h);
    y_range(&p, h, s, ns);
    snprintf(val_name, sizeof val_name, "val_%s", name);
    const char *names[2] = {name, val_name};
    const char *colors[2] = {COLOR_TRAIN, COLOR_VAL};
    draw_axes(f, &p, name);
    draw_best_line(f, &p, h->best_epoch);
    for (int k = 0; k < ns; k++)
        draw_series(f, &p, h, s[k], colors[k]);
    box legend = draw_legend(f, &p, h, s, ns, names, colors);
    if (best_label)
        draw_best_label(f, &p, h, s, ns, legend);
}

static void write_svg(FILE *f, const seqrt_model *m, const seqrt_history *h)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
            "font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fputs("<text x=\"320\" y=\"18\" text-anchor=\"middle\" "
          "font-size=\"14\">", f);
    xml_text(f, m->name ? m->name : "model");
    fprintf(f, " - training history (%d epoch%s)</text>\n", h->nepochs,
            h->nepochs == 1 ? "" : "s");
    series loss[2] = {{0, -1}, {1, -1}};
    if (m->nmetrics > 0) {
        series met[2] = {{0, 0}, {1, 0}};
        draw_panel(f, h, 32, 200, loss, "loss", 1);
        draw_panel(f, h, 262, 430, met, seqrt_model_metric_name(m, 0), 0);
    } else {
        draw_panel(f, h, 32, 430, loss, "loss", 1);
    }
    fputs("</svg>\n", f);
}

int seqrt_history_write_svg(const seqrt_model *m, const seqrt_history *h,
                            const char *path)
{
    seqrt_atomic_file a;
    if (seqrt_atomic_open(&a, path))
        return -1;
    write_svg(a.f, m, h);
    return seqrt_atomic_commit(&a);
}
