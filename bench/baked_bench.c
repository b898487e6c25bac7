/*
 * baked_bench.c - latency of the prediction-only build (`seqc --inference`)
 * at batch 1, 8, 64 and 256. Compiled with NAME_infer.c and -lm only.
 *
 *   baked_bench [NAME_infer.bin]      (the .bin: models over 1 Mi weights)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#include INFER_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(s) CAT(MODEL, s)
#define IN CAT(MODEL_UPPER, _INFER_IN)
#define OUT CAT(MODEL_UPPER, _INFER_OUT)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#if CAT(MODEL_UPPER, _INFER_WEIGHT_COUNT) > 1048576
#define BIN 1
static FN(_weights) w;
#define PREDICT(x, y, n) FN(_predict_with)(&w, x, y, n)
#else
#define PREDICT(x, y, n) FN(_predict)(x, y, n)
#endif

static float x[256 * IN], y[256 * OUT];

static double latency(long rows)
{
    double t[7];
    int iters = 1;
    for (;;) {
        double t0 = now();
        for (int k = 0; k < iters; k++)
            PREDICT(x, y, rows);
        if (now() - t0 > 0.02 || iters > (1 << 24))
            break;
        iters *= 2;
    }
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        for (int k = 0; k < iters; k++)
            PREDICT(x, y, rows);
        t[r] = (now() - t0) / iters;
    }
    qsort(t, 7, sizeof(double), cmpd);
    return t[3];
}

int main(int argc, char **argv)
{
#ifdef BIN
    if (argc < 2 || FN(_weights_load)(&w, argv[1]) != 0) {
        fprintf(stderr, "baked_bench: cannot load the weights file\n");
        return 1;
    }
#else
    (void)argc;
    (void)argv;
#endif
    unsigned s = 1;
    for (long i = 0; i < 256L * IN; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    static const int batches[] = {1, 8, 64, 256};
    for (int i = 0; i < 4; i++)
        printf("baked_b%d_us=%.4f\n", batches[i], 1e6 * latency(batches[i]));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("baked_rss_kb=%ld\n", ru.ru_maxrss);
    return 0;
}
