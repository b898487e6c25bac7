#!/bin/sh
# A checkpoint written by seqc 0.1.0 (before the layer-kinds redesign)
# still loads: the breast_cancer example program of this build evaluates and
# predicts with it, and gets what the 0.1.0 program printed, byte for byte.
# usage: check.sh PROGRAM DATA.csv WORK_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prog=$1 data=$2 work=$3
mkdir -p "$work"
ckpt=$here/breast_cancer_v0.1.0.safetensors
"$prog" evaluate "$ckpt" "$data" > "$work/evaluate" 2>"$work/evaluate.err"
"$prog" predict "$ckpt" "$data" --output "$work/predict.csv" 2>"$work/predict.err"
diff -u "$here/breast_cancer_v0.1.0.evaluate" "$work/evaluate"
diff -u "$here/breast_cancer_v0.1.0.predict.csv" "$work/predict.csv"
echo "compat: the 0.1.0 checkpoint gives the same scores and $(($(wc -l < "$work/predict.csv") - 1)) predictions"
