/*
 * An app that trains and predicts in memory only: it calls NAME_init,
 * NAME_train_step and NAME_forward and nothing of the driver, so it links
 * libseqrt_kernels alone (no stdio, no malloc). It reports through its exit
 * status: 0 when the loss fell.
 */
#include "emb.h"

static emb net;

int main(void)
{
    float x[8 * EMB_IN], t[8], y[8 * EMB_OUT];
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < EMB_IN; j++)
            x[i * EMB_IN + j] = (float)((i * 7 + j * 3) % 11) / 11.0f - 0.5f;
        t[i] = x[i * EMB_IN] > 0.0f ? 1.0f : 0.0f;
    }
    emb_init(&net, 7);
    float first = emb_train_step(&net, x, t, 8), last = first;
    for (int step = 0; step < 200; step++)
        last = emb_train_step(&net, x, t, 8);
    emb_forward(&net, x, y, 8, 0);
    return last < first && y[0] == y[0] ? 0 : 1;
}
