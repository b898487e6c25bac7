/*
 * test_safetensors.c - checkpoint save/load.
 *
 * A small model state (two parameters, a buffer, a gradient, two optimizer
 * slots and two int64 training counters) is saved and reloaded:
 *   - round trip: save, load into a second state, save again: the two files
 *     are byte-identical and the header is the expected deterministic JSON;
 *   - truncation at every byte offset is rejected with the state unchanged;
 *   - corrupted files (bad JSON in many ways, wrong dtype, wrong shape,
 *     overlapping/gapped offsets, header length beyond the file, unknown,
 *     missing and duplicate tensors, partial optimizer state, gradients) are
 *     rejected with a message naming the tensor where there is one, and the
 *     state unchanged;
 *   - weights-only files load and zero the optimizer/training state;
 *     __metadata__ and string escapes are accepted;
 *   - a failed save (target is a directory, missing directory) leaves no
 *     temporary file and the old target untouched.
 * Files are written in the current directory (the test's build folder).
 */
#include "seqrt.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    float w[3][4];
    float b[3];
    float rm[3];
    float gw[3][4];
    float mw[3][4];
    float mb[3];
    int64_t step;
    int64_t rng[2];
} st_state;

#define T(name, kind, dtype, field, nd, s0, s1)                               \
    { name, kind, dtype, offsetof(st_state, field), nd, { s0, s1 } }

static const seqrt_tensor table[] = {
    T("0.weight", SEQRT_T_PARAM, SEQRT_F32, w, 2, 3, 4),
    T("0.bias", SEQRT_T_PARAM, SEQRT_F32, b, 1, 3, 0),
    T("1.running_mean", SEQRT_T_BUFFER, SEQRT_F32, rm, 1, 3, 0),
    T("0.weight.grad", SEQRT_T_GRAD, SEQRT_F32, gw, 2, 3, 4),
    T("optimizer.0.weight.m", SEQRT_T_OPTIM, SEQRT_F32, mw, 2, 3, 4),
    T("optimizer.0.bias.m", SEQRT_T_OPTIM, SEQRT_F32, mb, 1, 3, 0),
    T("train.step", SEQRT_T_STATE, SEQRT_I64, step, 0, 0, 0),
    T("train.rng", SEQRT_T_STATE, SEQRT_I64, rng, 1, 2, 0),
};
#define NT ((int)(sizeof table / sizeof table[0]))

static int failures, checks;
static char f1[64], f2[64], fx[64];

#define FAIL(...)                                                             \
    do {                                                                      \
        printf("FAIL line %d: ", __LINE__);                                   \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
        failures++;                                                           \
    } while (0)

static void randomize(st_state *s, unsigned seed)
{
    seqrt_rng r;
    seqrt_rng_seed(&r, seed);
    float *f = (float *)s;
    for (size_t i = 0; i < offsetof(st_state, step) / sizeof(float); i++)
        f[i] = seqrt_rng_normal(&r);
    s->step = (int64_t)seqrt_rng_next(&r);
    s->rng[0] = (int64_t)seqrt_rng_next(&r);
    s->rng[1] = -7;
}

static long read_all(const char *path, unsigned char *buf, long cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long n = (long)fread(buf, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

static void write_raw(const char *path, const void *bytes, long n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, (size_t)n, f) != (size_t)n) {
        printf("cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

/* A file made of a header length, header text and data. */
static void write_st(const char *path, unsigned long long hlen,
                     const char *header, const unsigned char *data, long dlen)
{
    static unsigned char buf[1 << 16];
    long n = 0;
    for (int i = 0; i < 8; i++)
        buf[n++] = (unsigned char)(hlen >> (8 * i));
    size_t h = strlen(header);
    memcpy(buf + n, header, h);
    n += (long)h;
    memcpy(buf + n, data, (size_t)dlen);
    n += dlen;
    write_raw(path, buf, n);
}

/* Loads path into a random state and expects failure, the state unchanged
 * and every needle in the message. */
static void expect_fail(const char *what, const char *path,
                        const char *needle1, const char *needle2)
{
    st_state s, snap;
    randomize(&s, 77);
    snap = s;
    checks++;
    int rc = seqrt_st_load(path, table, NT, &s);
    const char *msg = seqrt_error();
    if (getenv("ST_VERBOSE"))
        printf("%-28s -> %s\n", what, rc ? msg : "(loaded)");
    if (rc == 0) {
        FAIL("%s: loaded", what);
        return;
    }
    if (memcmp(&s, &snap, sizeof s) != 0)
        FAIL("%s: state modified by a failed load", what);
    if ((needle1 && !strstr(msg, needle1)) ||
        (needle2 && !strstr(msg, needle2)))
        FAIL("%s: message \"%s\" lacks \"%s\"%s%s", what, msg, needle1,
             needle2 ? " / " : "", needle2 ? needle2 : "");
}

static int same_saved(const st_state *a, const st_state *b, int with_optim)
{
    int same = !memcmp(a->w, b->w, sizeof a->w) &&
               !memcmp(a->b, b->b, sizeof a->b) &&
               !memcmp(a->rm, b->rm, sizeof a->rm);
    if (with_optim)
        same = same && !memcmp(a->mw, b->mw, sizeof a->mw) &&
               !memcmp(a->mb, b->mb, sizeof a->mb) && a->step == b->step &&
               a->rng[0] == b->rng[0] && a->rng[1] == b->rng[1];
    return same;
}

/* The pieces of the reference file f1. */
static unsigned char ref[1 << 16];
static long ref_len;
static char ref_header[1 << 12];
static unsigned long long ref_hlen;
static const unsigned char *ref_data;
static long ref_dlen;

/* Writes fx = the reference file with the first `from` in the header
 * replaced by `to` (header length adjusted). */
static void variant(const char *from, const char *to)
{
    char h[1 << 12];
    const char *p = strstr(ref_header, from);
    if (!p) {
        printf("test bug: '%s' not in the reference header\n", from);
        exit(2);
    }
    snprintf(h, sizeof h, "%.*s%s%s", (int)(p - ref_header), ref_header, to,
             p + strlen(from));
    write_st(fx, strlen(h), h, ref_data, ref_dlen);
}

static void test_round_trip(void)
{
    st_state a, b;
    unsigned char x[4096], y[4096];
    randomize(&a, 1);
    randomize(&b, 2);
    checks++;
    if (seqrt_st_save(f1, table, NT, &a, SEQRT_SAVE_ALL) != 0)
        FAIL("save: %s", seqrt_error());
    if (seqrt_st_load(f1, table, NT, &b) != 0)
        FAIL("load: %s", seqrt_error());
    if (!same_saved(&a, &b, 1))
        FAIL("round trip: loaded state differs");
    st_state b2;
    randomize(&b2, 2);
    if (memcmp(b.gw, b2.gw, sizeof b.gw))
        FAIL("round trip: the gradient (never saved) was written");
    if (seqrt_st_save(f2, table, NT, &b, SEQRT_SAVE_ALL) != 0)
        FAIL("save 2: %s", seqrt_error());
    long n1 = read_all(f1, x, sizeof x), n2 = read_all(f2, y, sizeof y);
    if (n1 <= 0 || n1 != n2 || memcmp(x, y, (size_t)n1))
        FAIL("round trip: files differ (%ld vs %ld bytes)", n1, n2);
    /* the expected header */
    ref_len = read_all(f1, ref, sizeof ref);
    ref_hlen = 0;
    for (int i = 7; i >= 0; i--)
        ref_hlen = (ref_hlen << 8) | ref[i];
    const char *want =
        "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":"
        "[0,48]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\""
        ":[48,60]},\"1.running_mean\":{\"dtype\":\"F32\",\"shape\":[3],"
        "\"data_offsets\":[60,72]},\"optimizer.0.weight.m\":{\"dtype\":"
        "\"F32\",\"shape\":[3,4],\"data_offsets\":[72,120]},"
        "\"optimizer.0.bias.m\":{\"dtype\":\"F32\",\"shape\":[3],"
        "\"data_offsets\":[120,132]},\"train.step\":{\"dtype\":\"I64\","
        "\"shape\":[],\"data_offsets\":[132,140]},\"train.rng\":{\"dtype\":"
        "\"I64\",\"shape\":[2],\"data_offsets\":[140,156]}}";
    size_t wl = strlen(want);
    if (ref_hlen % 8 != 0 || ref_hlen < wl || ref_hlen >= wl + 8 ||
        memcmp(ref + 8, want, wl) != 0 ||
        (long)(8 + ref_hlen + 156) != ref_len)
        FAIL("header not as expected: %.*s", (int)ref_hlen, ref + 8);
    for (unsigned long long i = wl; i < ref_hlen; i++)
        if (ref[8 + i] != ' ')
            FAIL("header padding is not spaces");
    memcpy(ref_header, ref + 8, (size_t)ref_hlen);
    ref_header[ref_hlen] = 0;
    ref_data = ref + 8 + ref_hlen;
    ref_dlen = ref_len - 8 - (long)ref_hlen;
    /* data: little-endian raw values in table order */
    if (memcmp(ref_data, a.w, 48) || memcmp(ref_data + 132, &a.step, 8))
        FAIL("data area not as expected");
}

static void test_truncation(void)
{
    int bad = 0;
    for (long n = 0; n < ref_len; n++) {
        write_raw(fx, ref, n);
        st_state s, snap;
        randomize(&s, 5);
        snap = s;
        if (seqrt_st_load(fx, table, NT, &s) == 0 ||
            memcmp(&s, &snap, sizeof s) != 0) {
            if (bad++ < 5)
                FAIL("truncated at %ld of %ld bytes: accepted or state "
                     "modified", n, ref_len);
        }
    }
    checks++;
    /* one extra byte at the end is rejected too */
    unsigned char more[8192];
    memcpy(more, ref, (size_t)ref_len);
    more[ref_len] = 0;
    write_raw(fx, more, ref_len + 1);
    expect_fail("trailing byte", fx, "data area", NULL);
}

static void test_corrupt(void)
{
    /* JSON syntax */
    static const char *const bad_json[][2] = {
        {"{\"0.weight\"", "{\"0.weight\",,"},
        {"{\"0.weight\"", "{\"0.weight"},
        {"{\"0.weight\"", "[\"0.weight\""},
        {"{\"0.weight\"", "{'0.weight'"},
        {"\"dtype\"", "dtype"},
        {"[3,4]", "[3,4,]"},
        {"[3,4]", "[3.0,4]"},
        {"[3,4]", "[-3,4]"},
        {"[3,4]", "[03,4]"},
        {"[3,4]", "[3 4]"},
        {"[3,4]", "\"3,4\""},
        {"[0,48]", "[0,48,96]"},
        {"[0,48]", "[0]"},
        {"[0,48]", "[0,99999999999999999999]"},
        {"\"F32\"", "\"F\\q32\""},
        {"\"F32\"", "\"F\\u00g2\""},
        {"\"F32\"", "\"F\\ud800\""},
        {"\"F32\"", "\"F\\u0000\""},
        {"\"F32\"", "\"F\t32\""},
        {"\"F32\"", "32"},
        {"\"F32\"", "\"F32\",\"extra\":1"},
        {"\"F32\"", "\"F32\",\"dtype\":\"F32\""},
        {"{\"dtype\"", "{\"dtype\":\"F32\"}"},
        {"}}", "}} x"},
        {"}}", "}},"},
        {"}}", "}"},
        {"{\"0.weight\"", "{\"__metadata__\":{\"a\":1},\"0.weight\""},
        {"{\"0.weight\"", "{\"__metadata__\":[],\"0.weight\""},
        {"{\"0.weight\"", "{\"__metadata__\":{\"a\":\"b\"},\"__metadata__\""
                          ":{},\"0.weight\""},
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        char what[160];
        snprintf(what, sizeof what, "bad JSON %zu (%s)", i, bad_json[i][1]);
        variant(bad_json[i][0], bad_json[i][1]);
        expect_fail(what, fx, "", NULL);
    }
    /* a missing key */
    variant(",\"shape\":[3],\"data_offsets\":[48,60]", ",\"data_offsets\":[48,60]");
    expect_fail("no shape", fx, "0.bias", "shape");
    /* wrong dtype, shape, offsets */
    variant("\"0.bias\":{\"dtype\":\"F32\"", "\"0.bias\":{\"dtype\":\"F16\"");
    expect_fail("wrong dtype", fx, "'0.bias'", "F16");
    variant("\"train.step\":{\"dtype\":\"I64\"", "\"train.step\":{\"dtype\":\"F64\"");
    expect_fail("wrong dtype I64", fx, "'train.step'", "I64");
    variant("[3,4],\"data_offsets\":[0,48]", "[4,3],\"data_offsets\":[0,48]");
    expect_fail("wrong shape", fx, "tensor '0.weight' has shape [4, 3], the "
                "model expects [3, 4]", NULL);
    variant("\"shape\":[3],\"data_offsets\":[48,60]", "\"shape\":[3,1],\"data_offsets\":[48,60]");
    expect_fail("wrong rank", fx, "'0.bias'", "[3, 1]");
    variant("\"shape\":[],\"data_offsets\":[132,140]", "\"shape\":[1],\"data_offsets\":[132,140]");
    expect_fail("scalar as vector", fx, "'train.step'", "[]");
    variant("[48,60]", "[44,56]");
    expect_fail("overlap", fx, "overlap", "0.bias");
    variant("[48,60]", "[52,64]");
    expect_fail("gap", fx, "0.bias", NULL);
    variant("[48,60]", "[48,64]");
    expect_fail("size mismatch", fx, "0.bias", NULL);
    variant("[48,60]", "[60,48]");
    expect_fail("reversed offsets", fx, "0.bias", NULL);
    variant("[140,156]", "[140,164]");
    expect_fail("past the end", fx, "train.rng", NULL);
    variant("\"1.running_mean\"", "\"1.running_meen\"");
    expect_fail("unknown tensor", fx, "'1.running_meen'", NULL);
    variant("\"0.bias\"", "\"0.weight\"");
    expect_fail("duplicate tensor", fx, "'0.weight'", NULL);
    variant("\"optimizer.0.bias.m\"", "\"0.weight.grad\"");
    expect_fail("gradient in file", fx, "'0.weight.grad'", NULL);
    /* header length */
    write_st(fx, (unsigned long long)ref_len, ref_header, ref_data, ref_dlen);
    expect_fail("header length > file", fx, "header length", NULL);
    write_st(fx, 1ull << 62, ref_header, ref_data, ref_dlen);
    expect_fail("header length huge", fx, "header length", NULL);
    write_st(fx, 0, "", ref, 0);
    expect_fail("header length 0", fx, "", NULL);
    expect_fail("no such file", "st_no_such_file.safetensors",
                "st_no_such_file.safetensors", NULL);
}

/* Tables that differ from `table` make files the model must reject. */
static void test_table_mismatch(void)
{
    st_state a;
    randomize(&a, 3);
    seqrt_tensor t2[NT + 1];
    /* missing parameter / buffer: save without it */
    for (int drop = 0; drop < 3; drop++) {
        int n = 0;
        for (int i = 0; i < NT; i++)
            if (i != drop)
                t2[n++] = table[i];
        seqrt_st_save(fx, t2, n, &a, SEQRT_SAVE_ALL);
        char needle[64];
        snprintf(needle, sizeof needle, "missing tensor '%s'", table[drop].name);
        expect_fail("missing tensor", fx, needle, NULL);
    }
    /* partial optimizer state */
    for (int drop = 4; drop < NT; drop++) {
        int n = 0;
        for (int i = 0; i < NT; i++)
            if (i != drop)
                t2[n++] = table[i];
        seqrt_st_save(fx, t2, n, &a, SEQRT_SAVE_ALL);
        char needle[64];
        snprintf(needle, sizeof needle, "'%s'", table[drop].name);
        expect_fail("partial optimizer state", fx, needle, NULL);
    }
    /* an extra tensor the model lacks */
    memcpy(t2, table, sizeof table);
    t2[NT] = table[0];
    t2[NT].name = "2.weight";
    seqrt_st_save(fx, t2, NT + 1, &a, SEQRT_SAVE_ALL);
    expect_fail("extra tensor", fx, "unknown tensor '2.weight'", NULL);
    /* different shape and dtype through the table */
    memcpy(t2, table, sizeof table);
    t2[0].shape[1] = 3; /* file says [3,3] */
    seqrt_st_save(fx, t2, NT, &a, SEQRT_SAVE_ALL);
    expect_fail("shape via table", fx,
                ": tensor '0.weight' has shape [3, 3], the model expects "
                "[3, 4]", NULL);
    memcpy(t2, table, sizeof table);
    t2[6].dtype = SEQRT_F32;
    seqrt_st_save(fx, t2, NT, &a, SEQRT_SAVE_ALL);
    expect_fail("dtype via table", fx,
                "tensor 'train.step' has dtype F32, the model expects I64",
                NULL);
}

static void test_weights_only_and_metadata(void)
{
    st_state a, c;
    randomize(&a, 8);
    randomize(&c, 9);
    checks++;
    if (seqrt_st_save(fx, table, NT, &a, SEQRT_SAVE_WEIGHTS) != 0)
        FAIL("weights save: %s", seqrt_error());
    st_state c0 = c;
    if (seqrt_st_load(fx, table, NT, &c) != 0)
        FAIL("weights-only load: %s", seqrt_error());
    /* fresh optimizer: slots and step zeroed; the RNG keeps its seeding */
    int zero = c.step == 0 && c.rng[0] == c0.rng[0] && c.rng[1] == c0.rng[1];
    for (int i = 0; i < 3; i++) {
        zero = zero && c.mb[i] == 0.0f;
        for (int j = 0; j < 4; j++)
            zero = zero && c.mw[i][j] == 0.0f;
    }
    if (!same_saved(&a, &c, 0) || !zero ||
        memcmp(c.gw, c0.gw, sizeof c.gw))
        FAIL("weights-only load: params not loaded or optimizer not zeroed");
    /* __metadata__, escapes and whitespace */
    checks++;
    variant("{\"0.weight\"",
            " {\n\t\"__metadata__\" : {\"format\": \"pt\", \"note\": "
            "\"a \\\"q\\\" \\\\ \\/ \\u00e9 \\ud83d\\ude00\"} ,\r\n"
            "\"\\u0030.weight\"");
    randomize(&c, 10);
    if (seqrt_st_load(fx, table, NT, &c) != 0)
        FAIL("metadata file: %s", seqrt_error());
    randomize(&a, 1);
    if (!same_saved(&a, &c, 1))
        FAIL("metadata file: values differ");
    variant("{\"0.weight\"", "{\"__metadata__\":{},\"0.weight\"");
    if (seqrt_st_load(fx, table, NT, &c) != 0)
        FAIL("empty metadata: %s", seqrt_error());
    /* keys out of table order are fine too */
    variant("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}",
            "\"0.weight\":{\"data_offsets\":[0,48],\"shape\":[3,4],\"dtype\":\"F32\"}");
    if (seqrt_st_load(fx, table, NT, &c) != 0)
        FAIL("key order: %s", seqrt_error());
}

static int tmp_files_left(void)
{
    DIR *d = opendir(".");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, "st_test_") && strstr(e->d_name, ".tmp."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_failed_save(void)
{
    st_state a;
    randomize(&a, 4);
    char dir[64], bad[96];
    snprintf(dir, sizeof dir, "st_test_%ld_dir", (long)getpid());
    mkdir(dir, 0755);
    checks++;
    if (seqrt_st_save(dir, table, NT, &a, SEQRT_SAVE_ALL) == 0)
        FAIL("saving over a directory succeeded");
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        FAIL("the directory was replaced");
    snprintf(bad, sizeof bad, "st_test_%ld_nodir/x.safetensors", (long)getpid());
    if (seqrt_st_save(bad, table, NT, &a, SEQRT_SAVE_ALL) == 0)
        FAIL("saving into a missing directory succeeded");
    if (tmp_files_left())
        FAIL("temporary files left behind");
    /* overwriting an existing checkpoint replaces it */
    unsigned char x[4096];
    seqrt_st_save(f2, table, NT, &a, SEQRT_SAVE_WEIGHTS);
    long n = read_all(f2, x, sizeof x);
    if (n <= 0 || n >= ref_len)
        FAIL("overwrite: %ld bytes", n);
    rmdir(dir);
}

int main(void)
{
    long pid = (long)getpid();
    snprintf(f1, sizeof f1, "st_test_%ld_a.safetensors", pid);
    snprintf(f2, sizeof f2, "st_test_%ld_b.safetensors", pid);
    snprintf(fx, sizeof fx, "st_test_%ld_x.safetensors", pid);
    test_round_trip();
    test_truncation();
    test_corrupt();
    test_table_mismatch();
    test_weights_only_and_metadata();
    test_failed_save();
    remove(f1);
    remove(f2);
    remove(fx);
    printf("test_safetensors: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
