#!/bin/sh
# examples/run.sh NAME [train options...]
#
# Builds the example model NAME (breast_cancer, wine, digits or diabetes)
# with CMake, trains it on examples/data/NAME_train.csv (early stopping on
# the last 20% of that file), writes the checkpoint, the history CSV and the
# SVG plot, and scores the trained model on the held-out
# examples/data/NAME_test.csv.
#
#   examples/run.sh breast_cancer
#   examples/run.sh digits --seed 7 --epochs 20
#   NP=2 examples/run.sh digits --batch-size 16   (data-parallel, 2 ranks)
#
# Extra arguments go to `NAME train` (see `NAME --help`). Environment:
#   BUILD_DIR   the CMake build directory (default: build, at the top of the
#               repository); configured as a Release build if it is new.
#   OUT_DIR     where the checkpoint, history and plot go
#               (default: $BUILD_DIR/examples/out)
#   JOBS        parallel build jobs (default: the number of CPUs)
#   NP          train data-parallel on NP MPI ranks (mpirun -np NP; the
#               build is configured with -DSEQC_MPI=ON; --batch-size is
#               then per rank, docs/distributed.md)
set -eu

usage() {
    echo "usage: examples/run.sh breast_cancer|wine|digits|diabetes [train options...]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
name=$1
shift
case $name in
    breast_cancer|wine|digits|diabetes) ;;
    *) usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
out=${OUT_DIR:-$build/examples/out}
data=$root/examples/data

np=${NP:-}
launch=""
if [ -n "$np" ]; then
    command -v mpirun >/dev/null 2>&1 || { echo "examples/run.sh: NP=$np needs mpirun (scripts/setup.sh installs Open MPI)" >&2; exit 2; }
    # Open MPI refuses root without these (containers)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    launch="mpirun --oversubscribe -np $np"
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "== configuring $build" >&2
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [ -n "$np" ] && ! grep -q '^SEQC_MPI:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "== configuring $build with -DSEQC_MPI=ON" >&2
    cmake "$build" -DSEQC_MPI=ON >/dev/null
fi
echo "== building: seqc compiles examples/$name.nn to C, cc builds the program" >&2
cmake --build "$build" --target "example_${name}_${name}" -j "$jobs" >/dev/null
prog=$build/examples/$name
mkdir -p "$out"

echo "== ${launch:+$launch }$name train examples/data/${name}_train.csv" >&2
# shellcheck disable=SC2086
val=$($launch "$prog" train "$data/${name}_train.csv" --verbose 2 \
    --out "$out/$name.safetensors" --history "$out/${name}_history.csv" \
    --plot "$out/${name}_history.svg" "$@")
echo "== wrote $out/$name.safetensors, ${name}_history.csv, ${name}_history.svg" >&2
echo "== $name evaluate $name.safetensors examples/data/${name}_test.csv" >&2
test=$("$prog" evaluate "$out/$name.safetensors" "$data/${name}_test.csv")
echo "validation (last 20% of ${name}_train.csv): $val"
echo "test (held out, ${name}_test.csv):          $test"
