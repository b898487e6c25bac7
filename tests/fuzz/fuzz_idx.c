/*
 * fuzz_idx.c - the IDX reader (idx.c, array.c): the input after two
 * control bytes follows IDX's two zero bytes, so the fuzzer works on the
 * type byte, the axes and the data. Properties: fuzz_arrays.h.
 */
#include "fuzz_arrays.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_arrays((const uint8_t *)"\0\0", 2, data, size);
}
