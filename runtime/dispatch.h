/*
 * dispatch.h - run-time dispatch of the hot kernels to the CPU's widest
 * vector unit.
 *
 * The default build targets plain x86-64 (SSE2), so its loops would leave
 * AVX2 and AVX-512 unused on the machines that have them. SEQRT_DISPATCH in
 * front of a kernel's definition asks GCC for three clones of it
 * (target_clones: AVX-512F, AVX2, the build's own baseline) and an ifunc
 * resolver that picks one when the program is loaded, as OpenBLAS and
 * PyTorch pick their kernels. Everything the kernel inlines (the helpers of
 * act_inline.h and rng_inline.h) is compiled into each clone.
 *
 * The clones compute the same bits: the runtime is compiled with
 * -ffp-contract=off (no a*b+c fused into an FMA, which would round once
 * instead of twice) and without -ffast-math, so vectorizing a loop never
 * reorders its arithmetic; the clones differ only in how many lanes one
 * instruction works on. tests/dispatch checks this by running the kernels
 * through the dispatched library and through a baseline-only one and
 * comparing every output bit. (Calls into libm, expf and friends, are
 * dispatched by glibc itself and are the same for every clone on one CPU.)
 *
 * CMake defines SEQC_DISPATCH when the compiler and C library support
 * target_clones (GCC or Clang on x86-64 with ifunc, checked at configure
 * time) and the build is neither -march=native (SEQC_NATIVE: already the
 * best for this CPU) nor the sanitizer build; otherwise the macro is empty
 * and each kernel is one plain function.
 */
#ifndef SEQRT_DISPATCH_H
#define SEQRT_DISPATCH_H

#ifdef SEQC_DISPATCH
#define SEQRT_DISPATCH __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SEQRT_DISPATCH
#endif

/* The static helpers a dispatched kernel calls (the row loops of
 * act_inline.h, norm.c's row passes) must be inlined into it to be
 * compiled for its clone's ISA: an out-of-line helper is compiled once, for
 * the baseline, and the clone's time would be spent there. */
#ifdef __GNUC__
#define SEQRT_INLINE static inline __attribute__((always_inline))
#else
#define SEQRT_INLINE static inline
#endif

#endif
