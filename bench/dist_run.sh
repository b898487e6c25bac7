#!/bin/sh
# bench/dist_run.sh - data-parallel scaling on this machine: one process
# against two MPI ranks, for the three benchmark models, through seqrt_fit
# (dist_bench.c). Needs Open MPI (scripts/setup.sh), OpenBLAS, cc.
#
#   bench/dist_run.sh            (ROUNDS=5 by default)
#
# Every round runs, for each model, interleaved:
#   1p1t    one process, OPENBLAS_NUM_THREADS=1, on core 0   batch B
#   1p2t    one process, OPENBLAS_NUM_THREADS=2 (all cores)  batch B
#   2r      mpirun -np 2, one OpenBLAS thread per rank       B per rank (global 2B)
#   2r_half mpirun -np 2, one OpenBLAS thread per rank       B/2 per rank (global B)
#   2r_def  mpirun -np 2, OpenBLAS threads unset (nproc per rank)   B per rank
#   pair    two independent 1p1t processes at once, one per core: their
#           summed throughput is what this machine's second core can add at
#           all (the ceiling for 2 ranks)
# with B = the model's batch (256, 256, 64). Single-core runs are pinned to a
# core (taskset), as mpirun binds each of 2 ranks to one. Throughput is samples per
# second of the whole job; "speedup" is the median over rounds of the
# per-round ratio to 1p1t, "efficiency" speedup / ranks. dist_bench also
# times one step's compute alone and one all-reduce of the gradient block
# and of a BatchNorm-sized buffer: the inputs of docs/distributed.md's cost
# model.
#
# The machine is shared with other jobs, and synchronous data parallelism is
# what suffers most from that: a step waits for the slowest rank, so a rank
# that loses its core for a scheduler time slice stalls them all. Every
# configuration therefore runs at real-time priority (SCHED_FIFO through
# `chrt -f 10`, as root), so that it gets the cores it asks for, as on a
# dedicated node; the kernel's real-time throttling still leaves 5% of every
# second to the rest. CHRT= bench/dist_run.sh measures without it (then the
# numbers mostly measure the other jobs' load). The load average is printed
# with the table.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench-mpi}
GEN=$BUILD/dist_gen
OUT=$GEN/results
ROUNDS=${ROUNDS:-5}
DIGITS=$ROOT/examples/data/digits_train.csv
rows_a=200000 rows_b=10240 rows_c=64000
batch_a=256 batch_b=256 batch_c=64
MPIRUN="mpirun --oversubscribe"
# real-time priority if allowed (see above); CHRT= to run without
CHRT=${CHRT-chrt -f 10}
if [ -n "$CHRT" ] && ! $CHRT true 2>/dev/null; then
  echo "== $CHRT is not allowed here: measuring at normal priority" >&2
  CHRT=""
fi
# as root (containers, CI) Open MPI wants these
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "== building (Release, SEQC_NATIVE, SEQC_MPI) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSEQC_NATIVE=ON -DSEQC_MPI=ON \
      -DSEQC_TESTS=OFF -DSEQC_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" --target seqc seqrt -j"$(nproc)" >/dev/null
rm -rf "$GEN" && mkdir -p "$GEN" "$OUT"
for m in a b c; do
  "$BUILD/seqc" -o "$GEN" "$ROOT/bench/models/bench_$m.nn"
  mpicc -O2 -march=native -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
        -I"$GEN" -I"$ROOT/runtime" -DMODEL=bench_$m "-DMODEL_HEADER=\"bench_$m.h\"" \
        "$ROOT/bench/dist_bench.c" "$GEN/bench_$m.c" "$BUILD/libseqrt.a" "$BUILD/libseqrt_kernels.a" \
        -lopenblas -lm -o "$GEN/dist_bench_$m"
done

{ uptime; echo "priority: ${CHRT:-normal}"; } > "$OUT/load_start"
for r in $(seq 1 "$ROUNDS"); do
  for m in a b c; do
    eval rows=\$rows_$m b=\$batch_$m
    extra=""; [ $m = c ] && extra=$DIGITS
    f="$OUT/r${r}_$m"
    echo "== round $r, model $m"
    OPENBLAS_NUM_THREADS=1 $CHRT taskset -c 0 "$GEN/dist_bench_$m" $rows $b $extra > "$f.1p1t"
    OPENBLAS_NUM_THREADS=2 $CHRT "$GEN/dist_bench_$m" $rows $b $extra > "$f.1p2t"
    $CHRT $MPIRUN -n 2 -x OPENBLAS_NUM_THREADS=1 "$GEN/dist_bench_$m" $rows $b $extra > "$f.2r"
    $CHRT $MPIRUN -n 2 -x OPENBLAS_NUM_THREADS=1 "$GEN/dist_bench_$m" $rows $((b / 2)) $extra > "$f.2r_half"
    env -u OPENBLAS_NUM_THREADS $CHRT $MPIRUN -n 2 "$GEN/dist_bench_$m" $rows $b $extra > "$f.2r_def"
    OPENBLAS_NUM_THREADS=1 $CHRT taskset -c 0 "$GEN/dist_bench_$m" $rows $b $extra > "$f.pair0" &
    OPENBLAS_NUM_THREADS=1 $CHRT taskset -c 1 "$GEN/dist_bench_$m" $rows $b $extra > "$f.pair1"
    wait
  done
done
uptime > "$OUT/load_end"
echo
/usr/bin/python3 "$ROOT/bench/dist_report.py" "$OUT" "$ROUNDS"
echo
/usr/bin/python3 "$ROOT/bench/dist_model.py" "$OUT" "$ROUNDS"
