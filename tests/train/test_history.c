/*
 * test_history.c - the history CSV (header, columns with and without
 * validation, values that read back exactly) and the SVG plot (well-formed
 * XML checked by xmllint or Python, one epoch, NaN values, constant series,
 * escaping, deterministic bytes).
 */
#include "check.h"
#include "toy_model.h"

#include <math.h>

static seqrt_history make_history(int n, int val)
{
    seqrt_history h = {calloc((size_t)n, sizeof(seqrt_epoch_log)), n, 0, 0,
                       0};
    for (int i = 0; i < n; i++) {
        seqrt_epoch_log *e = &h.epochs[i];
        e->epoch = i + 1;
        e->loss = 1.0 / (i + 1) + 0.123456789;
        e->metric[0] = 0.5 + 0.01 * i;
        e->val_loss = val ? 1.2 / (i + 1) : NAN;
        e->val_metric[0] = val ? 0.4 + 0.02 * i : NAN;
        e->seconds = 0.25;
    }
    h.best_epoch = n;
    return h;
}

static void test_csv(void)
{
    seqrt_model m;
    toy_defaults();
    toy.nmetrics = 1;
    toy.metrics[0] = SEQRT_METRIC_MAE;
    toy_model(&m);
    seqrt_history h = make_history(3, 1);
    CHECK(seqrt_history_write_csv(&m, &h, "h.csv") == 0);
    char *t = read_text("h.csv");
    CHECK(t != NULL);
    if (t) {
        CHECK(!strncmp(t, "epoch,loss,mae,val_loss,val_mae,seconds\n", 40));
        char *row2 = strchr(strchr(t, '\n') + 1, '\n') + 1;
        int ep;
        double loss, mae, vl, vm, sec;
        CHECK(sscanf(row2, "%d,%lf,%lf,%lf,%lf,%lf", &ep, &loss, &mae, &vl,
                     &vm, &sec) == 6);
        CHECK(ep == 2 && loss == h.epochs[1].loss && vl == h.epochs[1].val_loss);
        CHECK(fabs(vm - 0.42) < 1e-12 && sec == 0.25);
        int lines = 0;
        for (char *p = t; *p; p++)
            lines += *p == '\n';
        CHECK(lines == 4);
    }
    free(t);
    seqrt_history_free(&h);
    h = make_history(2, 0);
    CHECK(seqrt_history_write_csv(&m, &h, "h2.csv") == 0);
    t = read_text("h2.csv");
    CHECK(t && !strncmp(t, "epoch,loss,mae,seconds\n1,", 25));
    free(t);
    seqrt_history_free(&h);
    CHECK(seqrt_history_write_csv(&m, &h, "no-such-dir/h.csv") == -1);
}

/* Well-formed XML, by xmllint or else Python's parser. */
static int xml_ok(const char *path)
{
    char cmd[512];
    if (SEQC_XMLLINT[0])
        snprintf(cmd, sizeof cmd, "'%s' --noout '%s'", SEQC_XMLLINT, path);
    else if (SEQC_PYTHON[0])
        snprintf(cmd, sizeof cmd, "'%s' -c 'import xml.dom.minidom,sys; "
                 "xml.dom.minidom.parse(sys.argv[1])' '%s'", SEQC_PYTHON,
                 path);
    else {
        fprintf(stderr, "no xmllint or python3: XML check skipped\n");
        char *t = read_text(path);
        int ok = t && strstr(t, "</svg>") != NULL;
        free(t);
        return ok;
    }
    return system(cmd) == 0;
}

static void test_svg(void)
{
    seqrt_model m;
    toy_defaults();
    toy.nmetrics = 1;
    toy.metrics[0] = SEQRT_METRIC_MSE;
    toy_model(&m);
    m.name = "toy<&>\"'";
    seqrt_history h = make_history(12, 1);
    h.best_epoch = 7;
    h.epochs[4].val_loss = NAN;          /* a gap in val_loss */
    h.epochs[5].loss = INFINITY;
    CHECK(seqrt_history_write_svg(&m, &h, "h.svg") == 0);
    CHECK(xml_ok("h.svg"));
    char *t = read_text("h.svg");
    CHECK_CONTAINS(t, "best epoch 7");
    CHECK_CONTAINS(t, "toy&lt;&amp;&gt;&quot;&apos;");
    CHECK_CONTAINS(t, ">val_loss<");
    CHECK_CONTAINS(t, ">val_mse<");
    CHECK(t && !strstr(t, "nan") && !strstr(t, "inf"));
    /* deterministic */
    CHECK(seqrt_history_write_svg(&m, &h, "h_again.svg") == 0);
    char *t2 = read_text("h_again.svg");
    CHECK(t && t2 && !strcmp(t, t2));
    free(t);
    free(t2);
    seqrt_history_free(&h);
    /* one epoch, no validation, no metric */
    toy.nmetrics = 0;
    toy_model(&m);
    h = make_history(1, 0);
    CHECK(seqrt_history_write_svg(&m, &h, "one.svg") == 0);
    CHECK(xml_ok("one.svg"));
    t = read_text("one.svg");
    CHECK_CONTAINS(t, "<circle");
    CHECK(t && !strstr(t, "nan") && !strstr(t, "inf") && !strstr(t, ">val_"));
    free(t);
    seqrt_history_free(&h);
    /* constant series and all-NaN validation */
    h = make_history(5, 0);
    for (int i = 0; i < 5; i++)
        h.epochs[i].loss = 0.0;
    CHECK(seqrt_history_write_svg(&m, &h, "flat.svg") == 0);
    CHECK(xml_ok("flat.svg"));
    t = read_text("flat.svg");
    CHECK(t && !strstr(t, "nan") && !strstr(t, "inf"));
    free(t);
    seqrt_history_free(&h);
}

int main(void)
{
    test_csv();
    test_svg();
    return check_report("test_history");
}
