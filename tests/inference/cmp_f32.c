/*
 * cmp_f32.c - compares two files of raw floats:
 *
 *   cmp_f32 A B TOL LABEL
 *
 * passes when max|a - b| / max|b| <= TOL (the relative infinity norm over
 * the whole file; NaN fails) and the files have the same length. Prints
 * the norm, and the worst element on failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    long cap = 1024, len = 0;
    float *v = malloc(sizeof(float) * (size_t)cap);
    size_t got;
    while ((got = fread(v + len, sizeof(float), (size_t)(cap - len), f)) > 0) {
        len += (long)got;
        if (len == cap)
            v = realloc(v, sizeof(float) * (size_t)(cap *= 2));
    }
    fclose(f);
    *n = len;
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: cmp_f32 A B TOL LABEL\n");
        return 2;
    }
    long na, nb;
    float *a = slurp(argv[1], &na), *b = slurp(argv[2], &nb);
    double tol = atof(argv[3]);
    if (!a || !b || na != nb || na == 0) {
        fprintf(stderr, "cmp_f32: %s: cannot read or lengths differ (%s, %s)\n", argv[4], argv[1], argv[2]);
        return 1;
    }
    double maxb = 0.0, maxerr = 0.0;
    long worst = 0, ndiff = 0;
    for (long i = 0; i < na; i++) {
        if (fabs(b[i]) > maxb)
            maxb = fabs(b[i]);
        double e = fabs((double)a[i] - b[i]);
        ndiff += a[i] != b[i];
        if (!(e <= maxerr)) {
            maxerr = e;
            worst = i;
        }
    }
    double rel = maxerr / (maxb > 0.0 ? maxb : 1.0);
    printf("cmp_f32: %s: %ld values, %ld differ, max abs diff %.3g, rel (inf-norm) %.3g, tolerance %.3g\n", argv[4],
           na, ndiff, maxerr, rel, tol);
    if (!(rel <= tol)) {
        printf("FAIL: %s: worst element %ld: %.9g vs %.9g\n", argv[4], worst, (double)a[worst], (double)b[worst]);
        return 1;
    }
    free(a);
    free(b);
    return 0;
}
