#!/bin/sh
# A checkpoint written by seqc 0.1.0 (before the layer-kinds redesign)
# still loads: the breast_cancer example program of this build evaluates and
# predicts with it, and gets what the 0.1.0 program printed. The 0.1.0
# files come from an OpenBLAS build; a build with the plain-C GEMM sums in
# another order, so values agree to float rounding (relative 1e-5), not
# bit for bit. The header line and the row count must be the same.
# usage: check.sh PROGRAM DATA.csv WORK_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prog=$1 data=$2 work=$3
mkdir -p "$work"
ckpt=$here/breast_cancer_v0.1.0.safetensors
"$prog" evaluate "$ckpt" "$data" > "$work/evaluate" 2>"$work/evaluate.err"
"$prog" predict "$ckpt" "$data" --output "$work/predict.csv" 2>"$work/predict.err"
# every number of the two files, in order, within 1e-5 relative (the scores
# are printed with 4 decimals: within 1e-4 absolute)
compare() {
    tr -c '0-9.e+\n-' ' ' < "$1" | tr ' ' '\n' | grep -E '^[-+]?[0-9]' > "$work/want"
    tr -c '0-9.e+\n-' ' ' < "$2" | tr ' ' '\n' | grep -E '^[-+]?[0-9]' > "$work/got"
    paste "$work/want" "$work/got" | awk -v what="$3" -v tol="$4" '
        { n++; d = $1 - $2; if (d < 0) d = -d; s = $1 < 0 ? -$1 : $1;
          if (d > tol * (s > 1 ? s : 1)) { printf "%s: value %d is %s, 0.1.0 gave %s\n", what, n, $2, $1; bad++ } }
        END { if (n == 0) { print what ": no numbers"; exit 1 } exit bad > 0 }'
    [ "$(wc -l < "$work/want")" = "$(wc -l < "$work/got")" ] || { echo "$3: another count of numbers"; exit 1; }
}
compare "$here/breast_cancer_v0.1.0.evaluate" "$work/evaluate" evaluate 1e-4
compare "$here/breast_cancer_v0.1.0.predict.csv" "$work/predict.csv" predict 1e-5
[ "$(head -1 "$work/predict.csv")" = "$(head -1 "$here/breast_cancer_v0.1.0.predict.csv")" ]
echo "compat: the 0.1.0 checkpoint gives the same scores and $(($(wc -l < "$work/predict.csv") - 1)) predictions"
