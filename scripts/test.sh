#!/bin/sh
# Builds seqc and runs the whole CTest suite twice: a normal (Release, BLAS)
# build, and an AddressSanitizer + UBSan build with the plain-C GEMM. Both
# build the runtime with MPI (-DSEQC_MPI=ON) when Open MPI is installed
# (scripts/setup.sh); without it the MPI tests are reported as skipped.
# Usage: scripts/test.sh [extra ctest args]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
mpi=OFF
command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1 && mpi=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSEQC_MPI=$mpi >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" "$@")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSEQC_SANITIZE=ON -DSEQC_BLAS=OFF -DSEQC_MPI=$mpi >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -j"$jobs" "$@")
