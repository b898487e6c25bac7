/*
 * seqrt.h - the whole seqc runtime: the kernels (seqrt_kernels.h) and the
 * driver (seqrt_driver.h). Code that needs only forward, backward and the
 * optimizer step includes seqrt_kernels.h and links libseqrt_kernels alone.
 */
#ifndef SEQRT_H
#define SEQRT_H

#include "seqrt_kernels.h"
#include "seqrt_driver.h"

#endif
