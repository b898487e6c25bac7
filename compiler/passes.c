/*
 * passes.c - the table of passes, built from passes.def.
 */
#include "seqc.h"

const Pass passes[] = {
#define PASS(name, level) {#name, pass_##name, level},
#include "passes.def"
#undef PASS
};

const int npasses = COUNT_OF(passes);
