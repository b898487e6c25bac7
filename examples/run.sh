#!/bin/sh
# examples/run.sh NAME [train options...]
#
# Builds the example model NAME with CMake, trains it, writes the
# checkpoint, the history CSV and the SVG plot, and scores the trained model
# on held-out data:
#   breast_cancer, wine, digits, diabetes, digits_cnn, digits_lstm:
#     examples/data/DATA_train.csv (early stopping on the last 20% of it),
#     scored on DATA_test.csv (digits_cnn reads the digits files as 8x8x1
#     images, digits_lstm as 8 steps of 8 features);
#   co2_lstm: windows of python3-statsmodels' weekly CO2 series made by
#     examples/co2_windows.py into $OUT_DIR (the first 80% of the series
#     trains, the last 20% is scored, with the persistence baseline);
#   fashion_mnist_cnn, fashion_mnist_mlp: the 60,000 training images of
#     Fashion-MNIST (IDX files, gzip, from Debian's dataset-fashion-mnist:
#     $FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist),
#     scored on its 10,000 test images.
#
#   examples/run.sh breast_cancer
#   examples/run.sh digits --seed 7 --epochs 20
#   NP=2 examples/run.sh digits --batch-size 16   (data-parallel, 2 ranks)
#   examples/run.sh fashion_mnist_cnn
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
    echo "usage: examples/run.sh breast_cancer|wine|digits|diabetes|digits_cnn|digits_lstm|co2_lstm|fashion_mnist_cnn|fashion_mnist_mlp [train options...]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
name=$1
shift
case $name in
    breast_cancer|wine|digits|diabetes|digits_cnn|digits_lstm|co2_lstm|fashion_mnist_cnn|fashion_mnist_mlp) ;;
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

case $name in
fashion_mnist_*)
    fm=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
    for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
        if [ ! -f "$fm/$f" ]; then
            echo "examples/run.sh: $fm/$f not found: install Debian's dataset-fashion-mnist (scripts/setup.sh does)" >&2
            exit 1
        fi
    done
    train="$fm/train-images-idx3-ubyte.gz $fm/train-labels-idx1-ubyte.gz"
    test="$fm/t10k-images-idx3-ubyte.gz $fm/t10k-labels-idx1-ubyte.gz"
    split=""
    what="the 60,000 training images"
    held="the 10,000 test images"
    ;;
co2_lstm)
    python3 "$root/examples/co2_windows.py" "$out" >&2
    train="$out/co2_train.csv"
    test="$out/co2_test.csv"
    what="last 20% of the training windows"
    held="the last 20% of the series"
    ;;
*)
    d=$name
    case $name in digits_cnn|digits_lstm) d=digits ;; esac
    train="$data/${d}_train.csv"
    test="$data/${d}_test.csv"
    what="last 20% of ${d}_train.csv"
    held="held out, ${d}_test.csv"
    ;;
esac

echo "== ${launch:+$launch }$name train $train" >&2
start=$(date +%s)
# shellcheck disable=SC2086
val=$($launch "$prog" train $train --verbose 2 \
    --out "$out/$name.safetensors" --history "$out/${name}_history.csv" \
    --plot "$out/${name}_history.svg" "$@")
echo "== wrote $out/$name.safetensors, ${name}_history.csv, ${name}_history.svg ($(( $(date +%s) - start )) s)" >&2
echo "== $name evaluate $name.safetensors $test" >&2
# shellcheck disable=SC2086
score=$("$prog" evaluate "$out/$name.safetensors" $test)
echo "training ($what): $val"
echo "test ($held): $score"
