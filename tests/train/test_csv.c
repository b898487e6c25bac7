/*
 * test_csv.c - seqrt_csv_load and seqrt_csv_load_features.
 *
 * One table, one line per case (the cases of docs/data.md): each input is
 * either read exactly (the row count and every value checked bit for bit,
 * so -0 and denormals are seen) or refused with its exact
 * "file:line:col: message". Then the target encodings of each loss, the
 * info a load reports, and features-only loading.
 */
#include "check.h"
#include "toy_model.h"

#include <math.h>

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

enum { AUTO = SEQRT_CSV_HEADER_AUTO, HDR = SEQRT_CSV_HEADER_PRESENT,
       NOHDR = SEQRT_CSV_HEADER_ABSENT };

/* A case for a model with 2 inputs and one mse output: the file (len bytes,
 * or strlen(text) when len is 0), the options, and either the expected
 * rows (x: two features per row, y: the targets) or the expected message
 * (for the file "t.csv"). */
typedef struct {
    const char *what;
    int header;
    char delim;
    const char *target;
    const char *text;
    size_t len;
    const char *error;
    long rows;
    float x[8], y[4];
} csv_case;

#define NO_FINAL_NEWLINE "a,b,y\n1,2,3"
static const csv_case CASES[] = {
    /* the header */
    {"header row", AUTO, 0, NULL, "a,b,y\n1,2,3\n4,5e-1,-6\n", 0, NULL, 2, {1, 2, 4, 0.5f}, {3, -6}},
    {"no header: refused without an option", AUTO, 0, NULL, "5.1,3.5,0\n4.9,3.0,1\n", 0,
     "t.csv:1:1: line 1 holds only numbers, so it may be data rather than column names; pass "
     "--no-header to read it as the first row of data, or --header to use it as the header", 0, {0}, {0}},
    {"no header: --no-header", NOHDR, 0, NULL, "5.1,3.5,0\n4.9,3.0,1\n", 0, NULL, 2, {5.1f, 3.5f, 4.9f, 3.0f}, {0, 1}},
    {"no header: --header takes line 1", HDR, 0, NULL, "5.1,3.5,0\n4.9,3.0,1\n", 0, NULL, 1, {4.9f, 3.0f}, {1}},
    {"numbers and empty fields are no header", AUTO, 0, NULL, ",1,2\n4,5,6\n", 0, "t.csv:1:1: line 1 holds only numbers", 0, {0}, {0}},
    {"nan and inf are numbers, not names", AUTO, 0, NULL, "nan,1,-inf\n4,5,6\n", 0, "t.csv:1:1: line 1 holds only numbers", 0, {0}, {0}},
    {"decimal commas are numbers, not names", AUTO, ';', NULL, "1,5;2;3\n4;5;6\n", 0, "t.csv:1:1: line 1 holds only numbers", 0, {0}, {0}},
    {"one text field makes a header", AUTO, 0, NULL, "0,1,label\n4,5,6\n", 0, NULL, 1, {4, 5}, {6}},
    {"--no-header on a header", NOHDR, 0, NULL, "a,b,y\n1,2,3\n", 0,
     "t.csv:1:1: not a number: \"a\" (line 1 is read as data because of --no-header; if it names the "
     "columns, leave --no-header out)", 0, {0}, {0}},
    {"--no-header: short row", NOHDR, 0, NULL, "1,2,3\n4,5\n", 0, "t.csv:2:4: expected 3 fields (as in line 1), got 2", 0, {0}, {0}},
    {"--no-header: --target by pandas' label", NOHDR, 0, "1", "1,9,2\n3,8,4\n", 0, NULL, 2, {1, 2, 3, 4}, {9, 8}},
    {"--no-header: --target by name", NOHDR, 0, "y", "1,9,2\n", 0,
     "t.csv:1:1: no column named \"y\": the file has no header, so its columns are named 0 to 2", 0, {0}, {0}},
    {"BOM and --no-header", NOHDR, 0, NULL, "\xEF\xBB\xBF" "1,2,3\n", 0, NULL, 1, {1, 2}, {3}},
    {"BOM, numbers only", AUTO, 0, NULL, "\xEF\xBB\xBF" "1,2,3\n", 0, "t.csv:1:1: line 1 holds only numbers", 0, {0}, {0}},
    /* lines */
    {"blank lines at the end", AUTO, 0, NULL, "a,b,y\n1,2,3\n\n \t\n\n", 0, NULL, 1, {1, 2}, {3}},
    {"blank line inside", AUTO, 0, NULL, "a,b,y\n1,2,3\n\n4,5,6\n", 0,
     "t.csv:3:1: blank line inside the data (only trailing blank lines are allowed)", 0, {0}, {0}},
    {"blank line of spaces inside", AUTO, 0, NULL, "a,b,y\n1,2,3\n  \n4,5,6\n", 0, "t.csv:3:1: blank line inside the data", 0, {0}, {0}},
    {"blank line 1", AUTO, 0, NULL, "\na,b,y\n1,2,3\n", 0, "t.csv:1:1: line 1 is blank", 0, {0}, {0}},
    {"last line without a newline", AUTO, 0, NULL, NO_FINAL_NEWLINE, 0, NULL, 1, {1, 2}, {3}},
    {"--no-header, last line without a newline", NOHDR, 0, NULL, "1,2,3\n4,5,6", 0, NULL, 2, {1, 2, 4, 5}, {3, 6}},
    {"CRLF", AUTO, 0, NULL, "a,b,y\r\n1,2,3\r\n4,5,6\r\n\r\n", 0, NULL, 2, {1, 2, 4, 5}, {3, 6}},
    {"CR only (old Mac)", AUTO, 0, NULL, "a,b,y\r1,2,3\r4,5,6\r", 0, NULL, 2, {1, 2, 4, 5}, {3, 6}},
    {"CR only: line numbers", AUTO, 0, NULL, "a,b,y\r1,2,3\r4,x,6\r", 0, "t.csv:3:3: not a number: \"x\"", 0, {0}, {0}},
    {"UTF-8 byte-order mark", AUTO, 0, NULL, "\xEF\xBB\xBF" "a,b,y\n1,2,3\n", 0, NULL, 1, {1, 2}, {3}},
    {"byte-order mark inside", AUTO, 0, NULL, "a,b,y\n1,2,3\n\xEF\xBB\xBF" "4,5,6\n", 0, "t.csv:3:1: not a number", 0, {0}, {0}},
    {"UTF-16", AUTO, 0, NULL, "\xFF\xFE" "a\0,\0b\0", 8, "t.csv:1:1: the file is UTF-16 text (byte-order mark FF FE); save it as UTF-8", 0, {0}, {0}},
    {"NUL byte in a value", AUTO, 0, NULL, "a,b,y\n1\0" "2,3,4\n", 14, "t.csv:2:2: NUL byte in the file", 0, {0}, {0}},
    {"NUL byte in the header", AUTO, 0, NULL, "a,b\0,y\n1,2,3\n", 13, "t.csv:1:4: NUL byte in the file", 0, {0}, {0}},
    {"NUL byte at the end", AUTO, 0, NULL, "a,b,y\n1,2,3\n\0", 13, "t.csv:3:1: NUL byte in the file", 0, {0}, {0}},
    /* quotes */
    {"quoted fields, spaces", AUTO, 0, NULL, "\"a\",\"b\",y\n\"1.5\", 2 ,3\n4,\"5\",\"6\"\n", 0, NULL, 2, {1.5f, 2, 4, 5}, {3, 6}},
    {"quoted delimiter in a name", AUTO, 0, NULL, "\"a,1\",b,y\n1,2,3\n", 0, NULL, 1, {1, 2}, {3}},
    {"quoted newline in a name", AUTO, 0, NULL, "a,\"b\nB\",y\n1,2,3\n4,x,6\n", 0, "t.csv:4:3: not a number", 0, {0}, {0}},
    {"quoted newline in a name, rows", AUTO, 0, NULL, "a,\"b\r\nB\",y\r\n1,2,3\r\n", 0, NULL, 1, {1, 2}, {3}},
    {"quoted delimiter in a value", AUTO, 0, NULL, "a,b,y\n\"1,5\",2,3\n", 0,
     "t.csv:2:1: not a number (the decimal point is '.'; decimal commas and thousands separators are "
     "not read): \"1,5\"", 0, {0}, {0}},
    {"quoted newline in a value", AUTO, 0, NULL, "a,b,y\n1,\"2\n\",3\n", 0, "t.csv:2:3: not a number: \"2?\"", 0, {0}, {0}},
    {"unterminated quote", AUTO, 0, NULL, "a,b,y\n1,\"2,3\n4,5,6\n", 0,
     "t.csv:2:3: unterminated quoted field (no closing quote before the end of the file)", 0, {0}, {0}},
    {"text after a closing quote", AUTO, 0, NULL, "a,b,y\n1,\"2\"x,3\n", 0, "t.csv:2:6: unexpected character after a closing quote", 0, {0}, {0}},
    {"quote inside a value", AUTO, 0, NULL, "a,b,y\n1,2\"5,3\n", 0, "t.csv:2:3: not a number: \"2\"5\"", 0, {0}, {0}},
    /* columns */
    {"duplicate names, last column the target", AUTO, 0, NULL, "y,b,y\n1,2,3\n", 0, NULL, 1, {1, 2}, {3}},
    {"duplicate names with --target", AUTO, 0, "y", "y,b,y\n1,2,3\n", 0,
     "t.csv:1:5: columns 1 and 3 are both named \"y\"; --target must name one column (rename one of them)", 0, {0}, {0}},
    {"named target", AUTO, ';', "label", "a;label;b\n1;9;2\n3;8;4\n", 0, NULL, 2, {1, 2, 3, 4}, {9, 8}},
    {"missing named target", AUTO, 0, "zz", "a,b,y\n1,2,3\n", 0, "t.csv:1:1: no column named \"zz\" (columns: a, b, y)", 0, {0}, {0}},
    {"short row", AUTO, 0, NULL, "a,b,y\n1,2\n", 0, "t.csv:2:4: expected 3 fields (as in the header), got 2", 0, {0}, {0}},
    {"long row", AUTO, 0, NULL, "a,b,y\n1,2,3\n1,2,3,4\n", 0, "t.csv:3:7: expected 3 fields (as in the header), got 4", 0, {0}, {0}},
    {"count before value: long", AUTO, 0, NULL, "a,b,y\n1,x,3,4\n", 0, "t.csv:2:7: expected 3 fields (as in the header), got 4", 0, {0}, {0}},
    {"count before value: short", AUTO, 0, NULL, "a,b,y\n1,x\n", 0, "t.csv:2:4: expected 3 fields (as in the header), got 2", 0, {0}, {0}},
    {"value error after a good row", AUTO, 0, NULL, "a,b,y\n1,2,3\n4,5,z\n", 0, "t.csv:3:5: not a number: \"z\"", 0, {0}, {0}},
    {"space delimiter: two spaces", AUTO, ' ', NULL, "a b y\n1  \"2\" 3\n", 0, "t.csv:2:8: expected 3 fields (as in the header), got 4", 0, {0}, {0}},
    {"tab delimiter, padded", AUTO, '\t', NULL, "a\tb\ty\n 1\t2 \t3\n", 0, NULL, 1, {1, 2}, {3}},
    {"empty field", AUTO, 0, NULL, "a,b,y\n1,,3\n", 0, "t.csv:2:3: empty field (missing value)", 0, {0}, {0}},
    /* numbers */
    {"trailing garbage", AUTO, 0, NULL, "a,b,y\n1.5abc,2,3\n", 0, "t.csv:2:1: not a number: \"1.5abc\"", 0, {0}, {0}},
    {"hex", AUTO, 0, NULL, "a,b,y\n1,0x10,3\n", 0, "t.csv:2:3: not a number: \"0x10\"", 0, {0}, {0}},
    {"overflows float", AUTO, 0, NULL, "a,b,y\n1,2,1e39\n", 0, "t.csv:2:5: value out of range for a 32-bit float: \"1e39\"", 0, {0}, {0}},
    {"overflows float, negative", AUTO, 0, NULL, "a,b,y\n-1e39,2,3\n", 0, "t.csv:2:1: value out of range for a 32-bit float", 0, {0}, {0}},
    {"overflows double", AUTO, 0, NULL, "a,b,y\n1,2,1e999\n", 0, "t.csv:2:5: value out of range for a 32-bit float", 0, {0}, {0}},
    {"largest float", AUTO, 0, NULL, "a,b,y\n3.4028234e38,-3.4028234e38,0\n", 0, NULL, 1, {3.4028234e38f, -3.4028234e38f}, {0}},
    {"denormals; below them 0", AUTO, 0, NULL, "a,b,y\n1e-40,1e-50,1e-45\n", 0, NULL, 1, {1e-40f, 0.0f}, {1e-45f}},
    {"-0", AUTO, 0, NULL, "a,b,y\n-0,-0.0,-0e0\n", 0, NULL, 1, {-0.0f, -0.0f}, {-0.0f}},
    {"leading +", AUTO, 0, NULL, "a,b,y\n+1.5,+2e0,+3\n", 0, NULL, 1, {1.5f, 2}, {3}},
    {"forms of a decimal", AUTO, 0, NULL, "a,b,y\n.5,5.,1E+2\n", 0, NULL, 1, {0.5f, 5}, {100}},
    {"nan", AUTO, 0, NULL, "a,b,y\n1,2,3\nnan,2,3\n", 0, "t.csv:3:1: NaN and infinite values are not allowed: \"nan\"", 0, {0}, {0}},
    {"-inf", AUTO, 0, NULL, "a,b,y\n1,-inf,3\n", 0, "t.csv:2:3: NaN and infinite values are not allowed", 0, {0}, {0}},
    {"thousands separator, quoted", AUTO, 0, NULL, "a,b,y\n\"1,234\",2,3\n", 0, "t.csv:2:1: not a number (the decimal point is '.'", 0, {0}, {0}},
    {"thousands separator, space", AUTO, ';', NULL, "a;b;y\n1 234;2;3\n", 0, "t.csv:2:1: not a number (the decimal point is '.'", 0, {0}, {0}},
    {"thousands separator, apostrophe", AUTO, 0, NULL, "a,b,y\n1'234,2,3\n", 0, "t.csv:2:1: not a number (the decimal point is '.'", 0, {0}, {0}},
    {"decimal comma under ';'", AUTO, ';', NULL, "a;b;y\n1,5;2;3\n", 0,
     "t.csv:2:1: not a number (the decimal point is '.'; decimal commas and thousands separators are "
     "not read): \"1,5\"", 0, {0}, {0}},
    {"decimal point under ';'", AUTO, ';', NULL, "a;b;y\n1.5;2;3\n", 0, NULL, 1, {1.5f, 2}, {3}},
    /* files */
    {"empty file", AUTO, 0, NULL, "", 0, "t.csv:1:1: empty file (expected a header row naming the columns)", 0, {0}, {0}},
    {"empty file, --no-header", NOHDR, 0, NULL, "", 0, "t.csv:1:1: empty file (expected rows of data)", 0, {0}, {0}},
    {"header only", AUTO, 0, NULL, "a,b,y\n", 0, "t.csv:2:1: no data rows after the header", 0, {0}, {0}},
    {"header and blank lines", AUTO, 0, NULL, "a,b,y\r\n\r\n", 0, "t.csv:3:1: no data rows after the header", 0, {0}, {0}},
    {"too many columns", AUTO, 0, NULL, "a,b,c,y\n1,2,3,4\n", 0,
     "t.csv:1:1: the file has 3 feature columns besides the target; the model takes 2 inputs", 0, {0}, {0}},
    {"too few columns", AUTO, 0, NULL, "a,y\n1,4\n", 0,
     "t.csv:1:1: the file has 1 feature columns besides the target; the model takes 2 inputs", 0, {0}, {0}},
};

static int same_float(float a, float b)
{
    return !memcmp(&a, &b, sizeof a);
}

static void run_case(const csv_case *k, const seqrt_model *m)
{
    FILE *f = fopen("t.csv", "wb");
    size_t len = k->len ? k->len : strlen(k->text);
    if (!f || fwrite(k->text, 1, len, f) != len || fclose(f)) {
        perror("t.csv");
        exit(2);
    }
    seqrt_csv_options o = {(seqrt_csv_header)k->header, k->target, k->delim};
    seqrt_data d;
    seqrt_csv_info info;
    int rc = seqrt_csv_load(&d, "t.csv", m, &o, &info);
    if (k->error) {
        if (rc != -1 || !strstr(seqrt_error(), k->error)) {
            fprintf(stderr, "case \"%s\": expected the error \"%s\", got %s\n", k->what, k->error,
                    rc ? seqrt_error() : "success");
            check_failures++;
        }
        CHECK(d.x == NULL && d.y == NULL && d.rows == 0 && info.rows == 0);
        return;
    }
    if (rc) {
        fprintf(stderr, "case \"%s\": unexpected error: %s\n", k->what, seqrt_error());
        check_failures++;
        return;
    }
    int bad = d.rows != k->rows || info.rows != k->rows || d.cols != 2 || d.ycols != 1;
    for (long r = 0; !bad && r < k->rows && r < 4; r++) {
        bad |= !same_float(d.y[r], k->y[r]);
        for (int j = 0; j < 2 && r < 4; j++)
            bad |= !same_float(d.x[r * 2 + j], k->x[r * 2 + j]);
    }
    if (bad) {
        fprintf(stderr, "case \"%s\": got %ld rows:", k->what, d.rows);
        for (long r = 0; r < d.rows && r < 4; r++)
            fprintf(stderr, " [%.9g %.9g | %.9g]", d.x[r * 2], d.x[r * 2 + 1], d.y[r]);
        fputc('\n', stderr);
        check_failures++;
    }
    seqrt_data_free(&d);
}

static void test_cases(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        run_case(&CASES[i], &m);
    /* a NULL options pointer is the default (automatic header) */
    seqrt_data d;
    write_text("t.csv", "1,2,3\n");
    CHECK(seqrt_csv_load(&d, "t.csv", &m, NULL, NULL) == -1);
    CHECK_CONTAINS(seqrt_error(), "line 1 holds only numbers");
    write_text("t.csv", "a,b,y\n1,2,3\n");
    CHECK(seqrt_csv_load(&d, "t.csv", &m, NULL, NULL) == 0 && d.rows == 1);
    seqrt_data_free(&d);
    CHECK(seqrt_csv_load(&d, "no-such-file.csv", &m, NULL, NULL) == -1);
    CHECK_CONTAINS(seqrt_error(), "no-such-file.csv: cannot open");
}

/* Loads text with default options; expects success. */
static int load_ok(seqrt_data *d, const char *text, const seqrt_model *m)
{
    write_text("ok.csv", text);
    int rc = seqrt_csv_load(d, "ok.csv", m, NULL, NULL);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", seqrt_error());
    return rc == 0;
}

/* Loads text and expects an error containing `message`. */
static void load_bad(const char *text, const seqrt_model *m,
                     const char *message)
{
    seqrt_data d;
    write_text("bad.csv", text);
    CHECK(seqrt_csv_load(&d, "bad.csv", m, NULL, NULL) == -1);
    CHECK_CONTAINS(seqrt_error(), message);
    CHECK(d.x == NULL && d.y == NULL && d.rows == 0);
}

static void test_encodings(void)
{
    seqrt_model m = model(1, 3, SEQRT_LOSS_CATEGORICAL_CROSSENTROPY);
    seqrt_data d;
    CHECK(load_ok(&d, "x,c\n0.5,2\n1,0.0\n", &m));
    CHECK(d.ycols == 3);
    CHECK(d.y[0] == 0 && d.y[1] == 0 && d.y[2] == 1);
    CHECK(d.y[3] == 1 && d.y[4] == 0 && d.y[5] == 0);
    seqrt_data_free(&d);
    CHECK(load_ok(&d, "x,c\n0.5,-0\n", &m));     /* -0 is class 0 */
    CHECK(d.y[0] == 1 && d.y[1] == 0);
    seqrt_data_free(&d);
    m = model(1, 3, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    CHECK(load_ok(&d, "x,c\n0.5,2\n1,1\n", &m));
    CHECK(d.ycols == 1 && d.y[0] == 2 && d.y[1] == 1);
    seqrt_data_free(&d);
    m = model(1, 1, SEQRT_LOSS_BINARY_CROSSENTROPY);
    CHECK(load_ok(&d, "x,c\n0.5,1\n1,0.25\n", &m));
    CHECK(d.ycols == 1 && d.y[0] == 1 && d.y[1] == 0.25f);
    seqrt_data_free(&d);

    m = model(1, 3, SEQRT_LOSS_CATEGORICAL_CROSSENTROPY);
    load_bad("x,c\n1,3\n", &m, "bad.csv:2:3: class index out of range [0, 3)");
    load_bad("x,c\n1,-1\n", &m, "class index out of range");
    load_bad("x,c\n1,1.5\n", &m,
             "bad.csv:2:3: class index is not an integer: \"1.5\"");
    m = model(1, 3, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    load_bad("x,c\n1,0\n2,7\n", &m, "bad.csv:3:3: class index out of range");
    m = model(1, 1, SEQRT_LOSS_BINARY_CROSSENTROPY);
    load_bad("x,c\n1,2\n", &m,
             "bad.csv:2:3: binary_crossentropy target not in [0, 1]");
    m = model(1, 2, SEQRT_LOSS_MSE);
    load_bad("x,c\n1,2\n", &m, "the model has 2 outputs");
}

static void test_info(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    seqrt_data d;
    seqrt_csv_info i;
    seqrt_csv_options o = {SEQRT_CSV_HEADER_AUTO, "label", 0};
    write_text("i.csv", "a,label,b\n1,9,2\n3,8,4\n5,7,6\n");
    CHECK(seqrt_csv_load(&d, "i.csv", &m, &o, &i) == 0);
    CHECK(i.rows == 3 && i.header == 1 && i.columns == 3);
    CHECK(i.target_column == 1 && !strcmp(i.target_name, "label"));
    CHECK(!strcmp(i.header_text, "a, label, b"));
    seqrt_data_free(&d);
    o.header = SEQRT_CSV_HEADER_ABSENT;
    o.target = NULL;
    write_text("i.csv", "1,9,2\n3,8,4\n");
    CHECK(seqrt_csv_load(&d, "i.csv", &m, &o, &i) == 0);
    CHECK(i.rows == 2 && i.header == 0 && i.columns == 3);
    CHECK(i.target_column == 2 && !strcmp(i.target_name, "2"));
    CHECK(!strcmp(i.header_text, ""));
    seqrt_data_free(&d);
    /* a long header is cut with "..." */
    m = model(8, 1, SEQRT_LOSS_MSE);
    write_text("i.csv", "a_long_column_name_0,a_long_column_name_1,"
               "a_long_column_name_2,a_long_column_name_3,"
               "a_long_column_name_4,a_long_column_name_5,"
               "a_long_column_name_6,a_long_column_name_7,target\n"
               "1,2,3,4,5,6,7,8,9\n");
    CHECK(seqrt_csv_load(&d, "i.csv", &m, NULL, &i) == 0);
    CHECK(strlen(i.header_text) < SEQRT_CSV_TEXT_MAX);
    CHECK_CONTAINS(i.header_text, "a_long_column_name_0, ");
    CHECK_CONTAINS(i.header_text, ", ...");
    CHECK(!strcmp(i.target_name, "target") && i.target_column == 8);
    seqrt_data_free(&d);
    /* control bytes of a name (a quoted line break) are not printed */
    m = model(2, 1, SEQRT_LOSS_MSE);
    write_text("i.csv", "a,\"b\nB\",\"y\r\n\"\n1,2,3\n");
    CHECK(seqrt_csv_load(&d, "i.csv", &m, NULL, &i) == 0);
    CHECK(!strcmp(i.header_text, "a, b?B, y??") && !strcmp(i.target_name, "y??"));
    seqrt_data_free(&d);
    m = model(8, 1, SEQRT_LOSS_MSE);
    /* a failed load leaves the info empty */
    write_text("i.csv", "1,2\n");
    CHECK(seqrt_csv_load(&d, "i.csv", &m, NULL, &i) == -1);
    CHECK(i.rows == 0 && i.target_column == -1);
}

static void test_features(void)
{
    seqrt_model m = model(2, 1, SEQRT_LOSS_MSE);
    seqrt_data d;
    seqrt_csv_info i;
    write_text("feat.csv", "a,b\n1,2\n3,4\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, &i) == 0);
    CHECK(d.rows == 2 && d.y == NULL && d.x[3] == 4);
    CHECK(i.target_column == -1 && i.columns == 2);
    seqrt_data_free(&d);
    write_text("feat.csv", "a,b,y\n1,2,9\n3,4,9\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, &i) == 0);
    CHECK(d.rows == 2 && d.cols == 2 && d.x[2] == 3 && d.x[3] == 4);
    CHECK(i.target_column == 2 && !strcmp(i.target_name, "y"));
    seqrt_data_free(&d);
    seqrt_csv_options o = {SEQRT_CSV_HEADER_AUTO, "a", 0};
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, &o, NULL) == 0);
    CHECK(d.x[0] == 2 && d.x[1] == 9);
    seqrt_data_free(&d);
    /* header-less features: every row is predicted */
    write_text("feat.csv", "1,2\n3,4\n5,6\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, NULL) == -1);
    CHECK_CONTAINS(seqrt_error(), "feat.csv:1:1: line 1 holds only numbers");
    o.header = SEQRT_CSV_HEADER_ABSENT;
    o.target = NULL;
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, &o, &i) == 0);
    CHECK(d.rows == 3 && i.rows == 3 && d.x[0] == 1 && d.x[5] == 6);
    seqrt_data_free(&d);
    write_text("feat.csv", "a\n1\n");
    CHECK(seqrt_csv_load_features(&d, "feat.csv", &m, NULL, NULL) == -1);
    CHECK_CONTAINS(seqrt_error(), "feat.csv:1:1: the file has 1 columns; the "
                   "model takes 2 inputs");
}

int main(void)
{
    test_cases();
    test_encodings();
    test_info();
    test_features();
    return check_report("test_csv");
}
