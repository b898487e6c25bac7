#!/bin/sh
# Builds seqc and runs the whole CTest suite twice: a normal (Release, BLAS)
# build, and an AddressSanitizer + UBSan build with the plain-C GEMM.
# Usage: scripts/test.sh [extra ctest args]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" "$@")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSEQC_SANITIZE=ON -DSEQC_BLAS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -j"$jobs" "$@")
