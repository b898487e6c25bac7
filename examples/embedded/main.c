/*
 * main.c - classify wine samples with a baked seqc model: no runtime, no
 * BLAS, no malloc; only the C library's stdio and libm.
 *
 *   classify < wine_test.csv
 *
 * Reads CSV rows (a header line is skipped) of WINE_INFER_IN features,
 * optionally followed by the true class, prints the predicted cultivar and
 * its probability for each row and, when labels are present, the accuracy.
 * wine_infer.h / wine_infer.c come from
 *   seqc --inference --weights wine.safetensors -o . examples/wine.nn
 */
#include <stdio.h>
#include <stdlib.h>

#include "wine_infer.h"

int main(void)
{
    char line[4096];
    long rows = 0, labelled = 0, correct = 0;
    while (fgets(line, sizeof line, stdin)) {
        float x[WINE_INFER_IN], p[WINE_INFER_OUT];
        char *s = line, *end;
        int n = 0;
        double label = -1.0;
        for (;;) {
            double v = strtod(s, &end);
            if (end == s)
                break; /* not a number: a header, or the end of the line */
            if (n < WINE_INFER_IN)
                x[n] = (float)v;
            else
                label = v;
            n++;
            s = end;
            if (*s != ',')
                break;
            s++;
        }
        if (n < WINE_INFER_IN)
            continue; /* header or blank line */
        wine_predict(x, p, 1);
        int best = 0;
        for (int k = 1; k < WINE_INFER_OUT; k++)
            if (p[k] > p[best])
                best = k;
        rows++;
        printf("row %ld: class %d (p = %.3f)", rows, best, p[best]);
        if (n > WINE_INFER_IN) {
            labelled++;
            correct += best == (int)label;
            printf("  true %d%s", (int)label, best == (int)label ? "" : "  <- wrong");
        }
        printf("\n");
    }
    if (labelled)
        printf("accuracy: %ld / %ld = %.3f\n", correct, labelled, (double)correct / labelled);
    return 0;
}
