#!/bin/sh
# bench/run.sh - builds and runs the seqc benchmark; prints a table of
# ratios measured in this run, on this machine, at the same thread count.
#
#   bench/run.sh                 (ROUNDS=3 by default; ROUNDS=5 bench/run.sh)
#   MODELS="d" bench/run.sh      (only the CNN; default MODELS="a b c d e f";
#                                 MODELS="e f": the recurrent rows)
#
# Two builds of seqc: native (SEQC_NATIVE=ON: -march=native everywhere) and
# portable (the default: x86-64 baseline, hot kernels dispatched at run time
# to AVX-512/AVX2, runtime/dispatch.h; generated code without -march).
# Every round runs, for each model and thread count (1, then all cores):
# seqc training + runtime inference (native, portable, and native with
# OPENBLAS_CORETYPE unset), the baked build (native and portable flags) at
# batch 1, 8, 64, 256, PyTorch (eager and TorchScript), and the
# cblas_sgemm floors (a training step's GEMMs; the forward GEMMs at each
# batch). Measurements that are compared are interleaved round by round;
# the tables show medians over rounds (ratios: the median of the per-round
# ratios), and a summary says for each target of issue 14 whether it is met.
# Needs: cmake, cc, OpenBLAS, /usr/bin/python3 with torch; FANN optional.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
PBUILD=${PBUILD:-$ROOT/build-bench-portable}
GEN=$BUILD/bench_gen
OUT=$GEN/results
ROUNDS=${ROUNDS:-3}
MODELS=${MODELS:-"a b c d e f"}
ALL=$(nproc)
PY=/usr/bin/python3
DIGITS=$ROOT/examples/data/digits_train.csv
ROWS_a=200000
ROWS_b=10240
ROWS_c=64000
ROWS_d=6400
ROWS_e=3200
ROWS_f=3200

echo "== building (Release): native in $BUILD, portable in $PBUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSEQC_NATIVE=ON -DSEQC_TESTS=OFF -DSEQC_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" --target seqc seqrt -j"$ALL" >/dev/null
cmake -S "$ROOT" -B "$PBUILD" -DCMAKE_BUILD_TYPE=Release -DSEQC_NATIVE=OFF -DSEQC_TESTS=OFF -DSEQC_EXAMPLES=OFF >/dev/null
cmake --build "$PBUILD" --target seqrt -j"$ALL" >/dev/null
rm -rf "$GEN" && mkdir -p "$GEN" "$OUT"
MARCH="-march=native"
CFLAGS="-O2 $MARCH -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror"
PCFLAGS="-O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror"
for m in $MODELS; do
  "$BUILD/seqc" -o "$GEN" "$ROOT/bench/models/bench_$m.nn"
  cc $CFLAGS -I"$GEN" -I"$ROOT/runtime" -DMODEL=bench_$m -DMODEL_UPPER=BENCH_$(echo $m | tr a-z A-Z) \
     "-DMODEL_HEADER=\"bench_$m.h\"" "$ROOT/bench/seqc_bench.c" "$GEN/bench_$m.c" "$BUILD/libseqrt.a" "$BUILD/libseqrt_kernels.a" \
     -lopenblas -lz -lm -o "$GEN/seqc_bench_$m"
  cc $PCFLAGS -I"$GEN" -I"$ROOT/runtime" -DMODEL=bench_$m -DMODEL_UPPER=BENCH_$(echo $m | tr a-z A-Z) \
     "-DMODEL_HEADER=\"bench_$m.h\"" "$ROOT/bench/seqc_bench.c" "$GEN/bench_$m.c" "$PBUILD/libseqrt.a" \
     "$PBUILD/libseqrt_kernels.a" -lopenblas -lz -lm -o "$GEN/seqc_bench_portable_$m"
done
cc $CFLAGS -I/usr/include/openblas "$ROOT/bench/gemm_floor.c" -lopenblas -o "$GEN/gemm_floor"
HAVE_FANN=0
if [ -f /usr/include/floatfann.h ] && cc $CFLAGS "$ROOT/bench/fann_bench.c" -lfloatfann -lm -o "$GEN/fann_bench" 2>/dev/null; then
  HAVE_FANN=1
fi

dims_a="10 64 1"; dims_b="11 1024 512 1024 1024 1"; dims_c="64 128 64 10"
batch_a=256; batch_b=256; batch_c=64; batch_d=64; batch_e=32; batch_f=32
# (d)'s GEMMs as TA,TB,M,N,K, im2col at batch 64 (whole, not chunked):
# conv1 26x26x32 from 3x3x1 patches (forward, dW; no dx for the first
# layer), conv2 11x11x64 from 3x3x32 patches (forward, dW, dcols), then the
# two Dense layers 1600->128->10 (forward, dW, dx)
# (e), (f): a recurrent layer at batch 32 over T = 50 steps of F = 8, G =
# 4 x 64 (LSTM) or 3 x 64 (GRU) gate rows: the input products of all steps
# (one GEMM), the recurrent product of each step after the first, in
# backward d h_prev per step, d W_ih (one GEMM; no d x for the first layer),
# d W_hh one GEMM per sample over its 49 steps; then Dense 64 -> 1.
rnn_shapes() { # G
  s="0,1,1600,$1,8"
  for i in $(seq 1 49); do s="$s 0,1,32,$1,64 0,0,32,64,$1"; done
  s="$s 1,0,$1,8,1600"
  for i in $(seq 1 32); do s="$s 1,0,$1,64,49"; done
  echo "$s 0,1,32,1,64 1,0,1,64,32 0,0,32,64,1"
}
shapes_e=$(rnn_shapes 256)
shapes_f=$(rnn_shapes 192)
shapes_d="0,1,43264,32,9 1,0,32,9,43264 0,1,7744,64,288 1,0,64,288,7744 0,0,7744,288,64 0,1,64,128,1600 1,0,128,1600,64 0,0,64,1600,128 0,1,64,10,128 1,0,10,128,64 0,0,64,128,10"

baked_built=0
for r in $(seq 1 "$ROUNDS"); do
  for t in 1 "$ALL"; do
    for m in $MODELS; do
      eval rows=\$ROWS_$m batch=\$batch_$m
      case $m in
        d|e|f) eval floor_args=\"--shapes \$shapes_$m\" ;;
        *) eval floor_args=\"$batch \$dims_$m\" ;;
      esac
      extra=""; [ $m = c ] && extra=$DIGITS
      f="$OUT/r${r}_t${t}_$m"
      echo "== round $r, threads $t, model $m"
      OPENBLAS_NUM_THREADS=$t "$GEN/seqc_bench_$m" $rows "$GEN/bench_$m.safetensors" $extra > "$f.seqc"
      OPENBLAS_NUM_THREADS=$t "$GEN/seqc_bench_portable_$m" $rows "$GEN/bench_${m}_p.safetensors" $extra > "$f.portable"
      if [ $baked_built = 0 ] || [ ! -x "$GEN/baked_bench_$m" ]; then
        mkdir -p "$GEN/baked_$m"
        "$BUILD/seqc" --inference --weights "$GEN/bench_$m.safetensors" -o "$GEN/baked_$m" "$ROOT/bench/models/bench_$m.nn"
        for v in "" _portable; do
          flags="-O2 $MARCH"; [ -n "$v" ] && flags="-O2"
          cc $flags -std=c99 -D_POSIX_C_SOURCE=200809L -I"$GEN/baked_$m" -DMODEL=bench_$m \
             -DMODEL_UPPER=BENCH_$(echo $m | tr a-z A-Z) "-DINFER_HEADER=\"bench_${m}_infer.h\"" \
             "$ROOT/bench/baked_bench.c" "$GEN/baked_$m/bench_${m}_infer.c" -lm -o "$GEN/baked_bench${v}_$m"
        done
      fi
      "$GEN/baked_bench_$m" "$GEN/baked_$m/bench_${m}_infer.bin" > "$f.baked"
      "$GEN/baked_bench_portable_$m" "$GEN/baked_$m/bench_${m}_infer.bin" > "$f.baked_portable"
      OMP_NUM_THREADS=$t $PY "$ROOT/bench/torch_bench.py" $m $rows $t $extra > "$f.torch"
      env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=$t "$GEN/seqc_bench_$m" $rows "$GEN/bench_${m}_u.safetensors" $extra > "$f.seqc_unset"
      # shellcheck disable=SC2086
      OPENBLAS_NUM_THREADS=$t "$GEN/gemm_floor" $floor_args > "$f.floor"
      if [ $m != d ]; then   # the forward GEMMs of a Dense stack (the baked build's floor)
        eval dims=\$dims_$m
        # shellcheck disable=SC2086
        OPENBLAS_NUM_THREADS=$t "$GEN/gemm_floor" --forward $dims > "$f.fwd_floor"
      fi
    done
    if [ $HAVE_FANN = 1 ] && case " $MODELS " in *" a "*) true ;; *) false ;; esac; then
      "$GEN/fann_bench" $ROWS_a > "$OUT/r${r}_t${t}_fann"
    fi
  done
  baked_built=1
done
OPENBLAS_NUM_THREADS=1 "$GEN/gemm_floor" --gemv > "$OUT/gemv_check"
env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 "$GEN/gemm_floor" --gemv > "$OUT/gemv_check_unset"
echo
$PY "$ROOT/bench/report.py" "$OUT" "$ROUNDS" "$ALL" "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" "$MODELS"
