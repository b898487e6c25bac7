/*
 * fuzz_npy.c - the .npy reader (npy.c, array.c): the input after two
 * control bytes follows the magic "\x93NUMPY", so the fuzzer works on the
 * version, the header dict and the data. Properties: fuzz_arrays.h.
 */
#include "fuzz_arrays.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_arrays((const uint8_t *)"\x93NUMPY", 6, data, size);
}
