/*
 * test_csv.c - seqrt_csv_load and seqrt_csv_load_features: accepted inputs
 * (CRLF, quotes, spaces, trailing blank lines, BOM, named target, other
 * delimiters), the target encodings of each loss, and every error with its
 * exact "file:line:col: message".
 */
#include "check.h"
#include "toy_model.h"

static seqrt_model model(int in, int out, int loss)
{
    seqrt_model m;
    toy_defaults();
    toy.in = in;
    toy.out = out;
    toy.loss = loss;
    toy_model(&m);
    return m;
}

/* Loads text as a CSV for m; expects success. */
static int load_ok(seqrt_data *d, const char *text, const seqrt_model *m,
                   const char *target, char delim)
{
    write_text("ok.csv", text);
    int rc = seqrt_csv_load(d, "ok.csv", m, target, delim);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", seqrt_error());
    return rc == 0;
}

/* Loads text and expects an error containing `message`. */
static void load_bad(const char *text, const seqrt_model *m,
                     const char *target, const char *message)
{
    seqrt_data d;
    write_text("bad.csv", text);
    CHECK(seqrt_csv_load(&d, "bad.csv", m, target, 0) == -1);
    CHECK_CONTAINS(seqrt_error(), message);
    CHECK(d.x == NULL && d.y == NULL && d.rows == 0);
}

static void test_basic(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    seqrt_data d;
    CHECK(load_ok(&d, "a,b,y\n1,2,3\n4,5e-1,-6\n", &m, NULL, 0));
    CHECK(d.rows == 2 && d.cols == 2 && d.ycols == 1);
    CHECK(d.x[0] == 1 && d.x[1] == 2 && d.x[2] == 4 && d.x[3] == 0.5f);
    CHECK(d.y[0] == 3 && d.y[1] == -6);
    seqrt_data_free(&d);
}

static void test_crlf_quotes_blank(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    seqrt_data d;
    CHECK(load_ok(&d, "\xEF\xBB\xBF\"a\",\"b\",y\r\n\"1.5\", 2 ,3\r\n"
                  "4,\"5\",6\r\n\r\n\n", &m, NULL, 0));
    CHECK(d.rows == 2);
    CHECK(d.x[0] == 1.5f && d.x[1] == 2 && d.x[3] == 5 && d.y[1] == 6);
    seqrt_data_free(&d);
    /* no final newline */
    CHECK(load_ok(&d, "a,b,y\n1,2,3", &m, NULL, 0));
    CHECK(d.rows == 1 && d.y[0] == 3);
    seqrt_data_free(&d);
}

static void test_named_target_and_delimiter(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MAE);
    seqrt_data d;
    CHECK(load_ok(&d, "a;label;b\n1;9;2\n3;8;4\n", &m, "label", ';'));
    CHECK(d.rows == 2 && d.x[0] == 1 && d.x[1] == 2 && d.x[3] == 4);
    CHECK(d.y[0] == 9 && d.y[1] == 8);
    seqrt_data_free(&d);
}

static void test_encodings(void)
{
    seqrt_model m = model(1, 3, SEQRT_LOSS_CATEGORICAL_CROSSENTROPY);
    seqrt_data d;
    CHECK(load_ok(&d, "x,c\n0.5,2\n1,0.0\n", &m, NULL, 0));
    CHECK(d.ycols == 3);
    CHECK(d.y[0] == 0 && d.y[1] == 0 && d.y[2] == 1);
    CHECK(d.y[3] == 1 && d.y[4] == 0 && d.y[5] == 0);
    seqrt_data_free(&d);
    m = model(1, 3, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    CHECK(load_ok(&d, "x,c\n0.5,2\n1,1\n", &m, NULL, 0));
    CHECK(d.ycols == 1 && d.y[0] == 2 && d.y[1] == 1);
    seqrt_data_free(&d);
    m = model(1, 1, SEQRT_LOSS_BINARY_CROSSENTROPY);
    CHECK(load_ok(&d, "x,c\n0.5,1\n1,0.25\n", &m, NULL, 0));
    CHECK(d.ycols == 1 && d.y[0] == 1 && d.y[1] == 0.25f);
    seqrt_data_free(&d);
}

static void test_errors(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    load_bad("a,b,y\n1,abc,3\n", &m, NULL,
             "bad.csv:2:3: not a number: \"abc\"");
    load_bad("a,b,y\n1,2\n", &m, NULL,
             "bad.csv:2:4: expected 3 fields (as in the header), got 2");
    load_bad("a,b,y\n1,2,3\n1,2,3,4\n", &m, NULL,
             "bad.csv:3:7: expected 3 fields (as in the header), got 4");
    load_bad("", &m, NULL, "bad.csv:1:1: empty file");
    load_bad("a,b,y\n", &m, NULL, "bad.csv:2:1: no data rows after the header");
    load_bad("a,b,y\r\n\r\n", &m, NULL, "no data rows after the header");
    load_bad("a,b,y\n1,2,3\n", &m, "zz", "bad.csv:1:1: no column named \"zz\"");
    load_bad("a,b,y\n1,2,3\nnan,2,3\n", &m, NULL,
             "bad.csv:3:1: NaN and infinite values are not allowed: \"nan\"");
    load_bad("a,b,y\n1,-inf,3\n", &m, NULL,
             "bad.csv:2:3: NaN and infinite values are not allowed");
    load_bad("a,b,y\n1,2,1e999\n", &m, NULL,
             "bad.csv:2:5: value out of range for a 32-bit float");
    load_bad("a,b,y\n1,0x10,3\n", &m, NULL, "bad.csv:2:3: not a number");
    load_bad("a,b,y\n1,,3\n", &m, NULL, "bad.csv:2:3: empty field");
    load_bad("a,b,y\n1,2,3\n\n4,5,6\n", &m, NULL,
             "bad.csv:3:1: blank line inside the data");
    load_bad("a,b,y\n1,\"2,3\n", &m, NULL,
             "bad.csv:2:3: unterminated quoted field");
    load_bad("a,b,c,y\n1,2,3,4\n", &m, NULL,
             "bad.csv:1:1: the file has 3 feature columns besides the "
             "target; the model takes 2 inputs");
    load_bad("a,y\n1,4\n", &m, NULL,
             "the file has 1 feature columns besides the target; the model "
             "takes 2 inputs");
    m = model(1, 3, SEQRT_LOSS_CATEGORICAL_CROSSENTROPY);
    load_bad("x,c\n1,3\n", &m, NULL,
             "bad.csv:2:3: class index out of range [0, 3)");
    load_bad("x,c\n1,-1\n", &m, NULL, "class index out of range");
    load_bad("x,c\n1,1.5\n", &m, NULL,
             "bad.csv:2:3: class index is not an integer: \"1.5\"");
    m = model(1, 3, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    load_bad("x,c\n1,0\n2,7\n", &m, NULL, "bad.csv:3:3: class index out of range");
    m = model(1, 1, SEQRT_LOSS_BINARY_CROSSENTROPY);
    load_bad("x,c\n1,2\n", &m, NULL,
             "bad.csv:2:3: binary_crossentropy target not in [0, 1]");
    m = model(1, 2, SEQRT_LOSS_MSE);
    load_bad("x,c\n1,2\n", &m, NULL, "the model has 2 outputs");
    seqrt_data d;
    CHECK(seqrt_csv_load(&d, "no-such-file.csv", &m, NULL, 0) == -1);
    CHECK_CONTAINS(seqrt_error(), "no-such-file.csv: cannot open");
}

static void test_features(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    seqrt_data d;
    write_text("feat.csv", "a,b\n1,2\n3,4\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, 0) == 0);
    CHECK(d.rows == 2 && d.y == NULL && d.x[3] == 4);
    seqrt_data_free(&d);
    write_text("feat.csv", "a,b,y\n1,2,9\n3,4,9\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, 0) == 0);
    CHECK(d.rows == 2 && d.cols == 2 && d.x[2] == 3 && d.x[3] == 4);
    seqrt_data_free(&d);
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, "a", 0) == 0);
    CHECK(d.x[0] == 2 && d.x[1] == 9);
    seqrt_data_free(&d);
    write_text("feat.csv", "a\n1\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, 0) == -1);
    CHECK_CONTAINS(seqrt_error(), "feat.csv:1:1: the file has 1 columns; the "
                   "model takes 2 inputs");
}

int main(void)
{
    test_basic();
    test_crlf_quotes_blank();
    test_named_target_and_delimiter();
    test_encodings();
    test_errors();
    test_features();
    return check_report("test_csv");
}
