/* Trains the generated model on a separable toy problem and checks that
 * the loss falls: the user's app of the CMake integration test. */
#include <stdio.h>

#include "clf.h"

static clf net;

int main(void)
{
    float x[8 * CLF_IN], t[8];
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < CLF_IN; j++)
            x[i * CLF_IN + j] = (float)((i + j) % 5) / 5.0f - 0.4f;
        t[i] = x[i * CLF_IN] > 0.0f ? 1.0f : 0.0f;
    }
    clf_init(&net, 1);
    float first = clf_train_step(&net, x, t, 8), last = first;
    for (int s = 0; s < 200; s++)
        last = clf_train_step(&net, x, t, 8);
    printf("loss %g -> %g\n", first, last);
    return last < 0.5f * first ? 0 : 1;
}
