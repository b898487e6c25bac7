/*
 * fuzz_safetensors.c - the checkpoint reader, seqrt_st_load_mem, against a
 * fixed small tensor table (parameters, a buffer, optimizer slots and the
 * int64 training counters, as a generated model has them).
 *
 * Properties:
 *   - a rejected file leaves the state untouched (byte for byte) and sets
 *     a message;
 *   - an accepted file, saved again (seqrt_st_save) and reloaded, gives the
 *     same state, and a second save of that state is byte-identical to the
 *     first (saving is deterministic and load/save round-trips).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqrt.h"

#define FAIL(...) (fprintf(stderr, "fuzz_safetensors: " __VA_ARGS__), fputc('\n', stderr), abort())

typedef struct {
    float w0[3][2], b0[3];
    float rm[3], rv[3];
    float w1[1][3];
    float m_w0[3][2], m_b0[3], m_w1[1][3];
    int64_t step, epoch, rng[2];
} State;

#define T(name, kind, dtype, member, ndim, s0, s1) \
    {name, kind, dtype, offsetof(State, member), ndim, {s0, s1}}
static const seqrt_tensor table[] = {
    T("0.weight", SEQRT_T_PARAM, SEQRT_F32, w0, 2, 3, 2),
    T("0.bias", SEQRT_T_PARAM, SEQRT_F32, b0, 1, 3, 0),
    T("1.running_mean", SEQRT_T_BUFFER, SEQRT_F32, rm, 1, 3, 0),
    T("1.running_var", SEQRT_T_BUFFER, SEQRT_F32, rv, 1, 3, 0),
    T("2.weight", SEQRT_T_PARAM, SEQRT_F32, w1, 2, 1, 3),
    T("optimizer.0.weight.m", SEQRT_T_OPTIM, SEQRT_F32, m_w0, 2, 3, 2),
    T("optimizer.0.bias.m", SEQRT_T_OPTIM, SEQRT_F32, m_b0, 1, 3, 0),
    T("optimizer.2.weight.m", SEQRT_T_OPTIM, SEQRT_F32, m_w1, 2, 1, 3),
    T("train.step", SEQRT_T_STATE, SEQRT_I64, step, 0, 0, 0),
    T("train.epoch", SEQRT_T_STATE, SEQRT_I64, epoch, 0, 0, 0),
    T("train.rng", SEQRT_T_STATE, SEQRT_I64, rng, 1, 2, 0),
};
#define NT ((int)(sizeof table / sizeof table[0]))

static char dir[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_st.XXXXXX", base);
    if (!mkdtemp(dir))
        abort();
    return 0;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        FAIL("saved file %s is missing", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len)
        FAIL("cannot read %s back", path);
    fclose(f);
    *n = (size_t)len;
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    State s, before, s2;
    memset(&s, 0xA5, sizeof s);
    before = s;
    if (seqrt_st_load_mem("fuzz.safetensors", data, size, table, NT, &s)) {
        if (memcmp(&s, &before, sizeof s))
            FAIL("a rejected file changed the state");
        if (!*seqrt_error())
            FAIL("a rejected file left no message");
        return 0;
    }
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/a.safetensors", dir);
    snprintf(b, sizeof b, "%s/b.safetensors", dir);
    if (seqrt_st_save(a, table, NT, &s, SEQRT_SAVE_ALL))
        FAIL("saving a loaded state failed: %s", seqrt_error());
    size_t na, nb;
    unsigned char *ba = slurp(a, &na);
    memset(&s2, 0x5A, sizeof s2);
    if (seqrt_st_load_mem(a, ba, na, table, NT, &s2))
        FAIL("a saved checkpoint does not load: %s", seqrt_error());
    if (memcmp(&s, &s2, sizeof s))
        FAIL("load(save(state)) differs from state");
    if (seqrt_st_save(b, table, NT, &s2, SEQRT_SAVE_ALL))
        FAIL("second save failed: %s", seqrt_error());
    unsigned char *bb = slurp(b, &nb);
    if (na != nb || memcmp(ba, bb, na))
        FAIL("the second save is not byte-identical to the first");
    free(ba);
    free(bb);
    unlink(a);
    unlink(b);
    return 0;
}
