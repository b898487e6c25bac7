/*
 * conv_kernels.c - CPU time of each runtime kernel of the Fashion-MNIST
 * CNN's two convolution blocks (examples/fashion_mnist_cnn.nn: Conv2D(32, 3)
 * - BatchNormalization + ReLU - MaxPooling2D - Conv2D(64, 3) - BN + ReLU -
 * MaxPooling2D) at batch 64, forward and backward, called as the generated
 * code calls them (the model's scratch size, the first convolution without
 * dx). Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that
 * a shared machine's other jobs weigh less than in wall time; the checksum
 * of dw tells whether two builds compute the same bits.
 *
 *   cc -O2 -Iruntime bench/conv_kernels.c build/libseqrt_kernels.a -lopenblas -lm -o conv_kernels
 *   OPENBLAS_NUM_THREADS=1 ./conv_kernels [steps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "seqrt_kernels.h"

#define BATCH 64
#define SCRATCH 251136L   /* the generated model's scratch, in floats */

static float scratch[SCRATCH];

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *floats(size_t count)
{
    float *p = malloc(sizeof(float) * count);
    if (!p) {
        perror("conv_kernels");
        exit(1);
    }
    return p;
}

enum { CONV1_F, BN1_F, POOL1_F, CONV2_F, BN2_F, POOL2_F, POOL2_B, BN2_B, CONV2_B, POOL1_B, BN1_B, CONV1_B, KERNELS };
static const char *names[KERNELS] = {"conv1 forward", "bn1 forward",   "pool1 forward",  "conv2 forward",
                                     "bn2 forward",   "pool2 forward", "pool2 backward", "bn2 backward",
                                     "conv2 backward", "pool1 backward", "bn1 backward", "conv1 backward"};

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 20, n = BATCH;
    if (steps < 1) {
        fprintf(stderr, "usage: conv_kernels [steps >= 1]\n");
        return 2;
    }
    /* h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, groups */
    seqrt_window c1 = {28, 28, 1, 26, 26, 32, 3, 3, 1, 1, 1, 1, 0, 0, 1};
    seqrt_window p1 = {26, 26, 32, 13, 13, 32, 2, 2, 2, 2, 1, 1, 0, 0, 1};
    seqrt_window c2 = {13, 13, 32, 11, 11, 64, 3, 3, 1, 1, 1, 1, 0, 0, 1};
    seqrt_window p2 = {11, 11, 64, 5, 5, 64, 2, 2, 2, 2, 1, 1, 0, 0, 1};
    size_t r1 = (size_t)n * 26 * 26, r2 = (size_t)n * 11 * 11;
    float *x = floats((size_t)n * 784);                     /* (n, 28, 28, 1) */
    float *z1 = floats(r1 * 32), *y1 = floats(r1 * 32);     /* (n, 26, 26, 32) */
    float *xh1 = floats(r1 * 32), *q1 = floats((size_t)n * 169 * 32);   /* q1: (n, 13, 13, 32) */
    float *z2 = floats(r2 * 64), *y2 = floats(r2 * 64);     /* (n, 11, 11, 64) */
    float *xh2 = floats(r2 * 64), *q2 = floats((size_t)n * 25 * 64);    /* q2: (n, 5, 5, 64) */
    float *ga = floats(r1 * 32), *gb = floats(r1 * 32);     /* gradients, as grad_a / grad_b */
    static float w1[32 * 9], w2[64 * 288], dw1[32 * 9], dw2[64 * 288];
    static float gamma[64], beta[64], mean[64], invstd[64], rmean[64], rvar[64], dgamma[64], dbeta[64];
    seqrt_rng r;
    seqrt_rng_seed(&r, 1);
    for (int i = 0; i < n * 784; i++)
        x[i] = seqrt_rng_uniform(&r);
    for (int i = 0; i < 32 * 9; i++)
        w1[i] = 0.3f * seqrt_rng_normal(&r);
    for (int i = 0; i < 64 * 288; i++)
        w2[i] = 0.06f * seqrt_rng_normal(&r);
    for (int j = 0; j < 64; j++)
        gamma[j] = 1.0f, beta[j] = 0.0f, rmean[j] = 0.0f, rvar[j] = 1.0f;
    seqrt_actfn linear = seqrt_act_default(SEQRT_ACT_LINEAR), relu = seqrt_act_default(SEQRT_ACT_RELU);
    double t[KERNELS] = {0}, checksum = 0.0;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n * 25 * 64; i++)
            ga[i] = 0.01f * seqrt_rng_normal(&r);   /* dL/dq2 */
        double a = cpu_now(), b;
#define LAP(k) (b = cpu_now(), t[k] += b - a, a = b)
        seqrt_conv_forward(z1, NULL, x, w1, NULL, n, &c1, linear, scratch, SCRATCH);
        LAP(CONV1_F);
        seqrt_batchnorm_forward(y1, xh1, mean, invstd, rmean, rvar, z1, gamma, beta, (int)r1, 32, 0.99f, 1e-3f,
                                relu, 1);
        LAP(BN1_F);
        seqrt_maxpool_forward(q1, y1, n, &p1);
        LAP(POOL1_F);
        seqrt_conv_forward(z2, NULL, q1, w2, NULL, n, &c2, linear, scratch, SCRATCH);
        LAP(CONV2_F);
        seqrt_batchnorm_forward(y2, xh2, mean, invstd, rmean, rvar, z2, gamma, beta, (int)r2, 64, 0.99f, 1e-3f,
                                relu, 1);
        LAP(BN2_F);
        seqrt_maxpool_forward(q2, y2, n, &p2);
        LAP(POOL2_F);
        seqrt_maxpool_backward(gb, ga, y2, q2, n, &p2);
        LAP(POOL2_B);
        seqrt_batchnorm_backward(gb, dgamma, dbeta, gb, xh2, invstd, gamma, beta, y2, (int)r2, 64, relu);
        LAP(BN2_B);
        seqrt_conv_backward(ga, dw2, NULL, gb, q1, w2, NULL, z2, n, &c2, linear, scratch, SCRATCH);
        LAP(CONV2_B);
        seqrt_maxpool_backward(gb, ga, y1, q1, n, &p1);
        LAP(POOL1_B);
        seqrt_batchnorm_backward(gb, dgamma, dbeta, gb, xh1, invstd, gamma, beta, y1, (int)r1, 32, relu);
        LAP(BN1_B);
        seqrt_conv_backward(NULL, dw1, NULL, gb, x, w1, NULL, z1, n, &c1, linear, scratch, SCRATCH);
        LAP(CONV1_B);
        for (int i = 0; i < 64 * 288; i++)
            checksum += dw2[i];
        for (int i = 0; i < 32 * 9; i++)
            checksum += dw1[i];
    }
    double total = 0.0;
    for (int k = 0; k < KERNELS; k++) {
        printf("%-15s %8.3f ms\n", names[k], 1e3 * t[k] / steps);
        total += t[k];
    }
    printf("%-15s %8.3f ms a step (CPU time, %d steps)\ndw checksum %.17g\n", "total", 1e3 * total / steps, steps,
           checksum);
    free(x), free(z1), free(y1), free(xh1), free(q1), free(z2), free(y2), free(xh2), free(q2), free(ga), free(gb);
    return 0;
}
