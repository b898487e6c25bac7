/*
 * fann_bench.c - FANN 2.2 (libfann-dev) training a 10 -> 64 -> 1 sigmoid
 * network on ROWS synthetic rows (the same rule as seqc_bench): the time of
 * one epoch (fann_train_epoch) with incremental training (per-sample SGD,
 * the closest to minibatch SGD) and with FANN's default, RPROP (one batch
 * update per epoch).
 *
 *   fann_bench ROWS
 */
#include <floatfann.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv)
{
    unsigned rows = argc > 1 ? (unsigned)atol(argv[1]) : 200000;
    struct fann_train_data *d = fann_create_train(rows, 10, 1);
    unsigned s = 42;
    for (unsigned i = 0; i < rows; i++) {
        float sum = 0.0f;
        for (int j = 0; j < 10; j++) {
            s = s * 1103515245u + 12345u;
            float v = (float)((s >> 8) & 0xffff) / 16384.0f - 2.0f;
            d->input[i][j] = v;
            sum += (j % 2 ? -0.5f : 1.0f) * v;
        }
        d->output[i][0] = sum > 0.0f;
    }
    const char *names[2] = {"incremental", "rprop"};
    enum fann_train_enum algo[2] = {FANN_TRAIN_INCREMENTAL, FANN_TRAIN_RPROP};
    for (int a = 0; a < 2; a++) {
        struct fann *net = fann_create_standard(3, 10, 64, 1);
        fann_set_activation_function_hidden(net, FANN_SIGMOID);
        fann_set_activation_function_output(net, FANN_SIGMOID);
        fann_set_training_algorithm(net, algo[a]);
        fann_set_learning_rate(net, 0.01f);
        fann_train_epoch(net, d); /* warm-up */
        double t0 = now();
        fann_train_epoch(net, d);
        double t = now() - t0;
        printf("fann_%s_epoch_s=%.4f\nfann_%s_sps=%.1f\n", names[a], t, names[a], rows / t);
        fann_destroy(net);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("fann_rss_kb=%ld\n", ru.ru_maxrss);
    fann_destroy_train(d);
    return 0;
}
