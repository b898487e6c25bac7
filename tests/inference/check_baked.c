/*
 * check_baked.c - the prediction-only side of the inference tests.
 *
 * Compiled (by run_baked.cmake, at test time) together with NAME_infer.c
 * only, with -std=c99 -Wall -Wextra -Werror -pedantic and linked with -lm:
 * no runtime, no BLAS. Reads the reference file of gen_ref (x and the
 * runtime-weights NAME_forward(training = 0) outputs y), predicts x with the
 * baked model and compares:
 *
 *   rel = max |y_baked - y_ref| / max |y_ref|     (relative infinity norm)
 *
 * over the whole (rows, out) matrix, which must be <= 1e-5. On failure the
 * worst element is printed. Predictions are made twice, for all rows at
 * once and row by row, which must agree exactly (rows are independent).
 *
 *   check_baked REF [WEIGHTS.bin]      (WEIGHTS.bin: models built with BIN,
 *                                        whose short/long copies must be refused)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include INFER_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(s) CAT(MODEL, s)

#ifdef BIN
static FN(_weights) weights; /* 4 MiB+: static, not on the stack */
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: check_baked REF [WEIGHTS.bin]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    int32_t head[3];
    if (!f || fread(head, sizeof head, 1, f) != 1) {
        fprintf(stderr, "check_baked: cannot read %s\n", argv[1]);
        return 1;
    }
    long rows = head[0];
    int in = head[1], out = head[2];
    float *x = malloc(sizeof(float) * (size_t)(rows * in + 1));
    float *ref = malloc(sizeof(float) * (size_t)(rows * out + 1));
    float *y = malloc(sizeof(float) * (size_t)(rows * out + 1));
    float *y1 = malloc(sizeof(float) * (size_t)(rows * out + 1));
    if (in != CAT(MODEL_UPPER, _INFER_IN) || out != CAT(MODEL_UPPER, _INFER_OUT) ||
        fread(x, sizeof(float), (size_t)(rows * in), f) != (size_t)(rows * in) ||
        fread(ref, sizeof(float), (size_t)(rows * out), f) != (size_t)(rows * out)) {
        fprintf(stderr, "check_baked: %s does not fit the model\n", argv[1]);
        return 1;
    }
    fclose(f);
#ifdef BIN
    if (argc < 3) {
        fprintf(stderr, "check_baked: needs the weights file\n");
        return 2;
    }
    if (FN(_weights_load)(&weights, argv[2]) != 0) {
        fprintf(stderr, "check_baked: cannot load %s\n", argv[2]);
        return 1;
    }
    FN(_predict_with)(&weights, x, y, rows);
    for (long r = 0; r < rows; r++)
        FN(_predict_with)(&weights, x + r * in, y1 + r * out, 1);
    /* A copy one float short, and one a byte too long, must be refused. */
    for (int variant = 0; variant < 2; variant++) {
        char bad[4096];
        snprintf(bad, sizeof bad, "%s.bad", argv[2]);
        FILE *src = fopen(argv[2], "rb"), *dst = fopen(bad, "wb");
        if (!src || !dst)
            return 1;
        fseek(src, 0, SEEK_END);
        long size = ftell(src);
        rewind(src);
        long keep = variant == 0 ? size - 4 : size;
        for (long k = 0; k < keep; k++)
            fputc(fgetc(src), dst);
        if (variant == 1)
            fputc(0, dst);
        fclose(src);
        fclose(dst);
        if (FN(_weights_load)(&weights, bad) == 0) {
            fprintf(stderr, "check_baked: a %s weights file was accepted\n", variant ? "long" : "short");
            return 1;
        }
        remove(bad);
    }
    printf("check_baked: short and long weight files are refused\n");
#else
    FN(_predict)(x, y, rows);
    for (long r = 0; r < rows; r++)
        FN(_predict)(x + r * in, y1 + r * out, 1);
#endif
    double maxref = 0.0, maxerr = 0.0;
    long worst = 0;
    for (long i = 0; i < rows * out; i++) {
        if (fabs(ref[i]) > maxref)
            maxref = fabs(ref[i]);
        double e = fabs((double)y[i] - ref[i]);
        if (!(e <= maxerr)) { /* NaN counts as the worst */
            maxerr = e;
            worst = i;
        }
    }
    if (memcmp(y, y1, sizeof(float) * (size_t)(rows * out)) != 0) {
        fprintf(stderr, "check_baked: batch and row-by-row predictions differ\n");
        return 1;
    }
    double rel = maxerr / (maxref > 0.0 ? maxref : 1.0);
    printf("check_baked: %ld rows x %d outputs, max|ref| %.6g, max abs err %.3g, rel (inf-norm) %.3g\n", rows, out,
           maxref, maxerr, rel);
    if (!(rel <= 1e-5)) {
        printf("FAIL: worst element row %ld col %ld: baked %.9g, runtime %.9g\n", worst / out, worst % out,
               (double)y[worst], (double)ref[worst]);
        return 1;
    }
    free(x);
    free(ref);
    free(y);
    free(y1);
    return 0;
}
