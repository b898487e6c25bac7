#!/bin/sh
# analyze.sh - static analysis and a Valgrind run.
#
#   scripts/analyze.sh cppcheck
#       cppcheck (warning, portability, performance and the default error
#       checks) over compiler/ and runtime/; must report nothing beyond the
#       suppressions of scripts/analyze.supp (each justified there).
#   scripts/analyze.sh valgrind SEQC [WORKDIR]
#       Compiles examples/wine.nn with `SEQC --main`, builds it with the
#       runtime's plain-C GEMM (no BLAS) and without MPI, and runs train (3 epochs),
#       evaluate and predict on examples/data/wine_*.csv under Valgrind
#       memcheck: no error and no leak (--error-exitcode=1).
#   scripts/analyze.sh [SEQC]   both.
# Exits 77 (CTest: skipped) when the tool is missing.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)

run_cppcheck() {
    command -v cppcheck >/dev/null 2>&1 || { echo "analyze.sh: no cppcheck" >&2; return 77; }
    gen=$(mktemp -d)
    grep -v '^#' "$root/scripts/analyze.supp" | grep -v '^ *$' > "$gen/supp"
    # only the hand-written sources: the flex/bison outputs are not checked
    cd "$root" && cppcheck -q --std=c99 --enable=warning,portability,performance \
        --inline-suppr --suppressions-list="$gen/supp" --error-exitcode=1 \
        -I compiler -I runtime -D__GNUC__ -DSEQC_VERSION=\"0\" -DSEQC_BLAS=0 \
        --suppress=missingIncludeSystem compiler runtime
    rc=$?
    rm -rf "$gen"
    [ $rc -eq 0 ] && echo "cppcheck: no findings"
    return $rc
}

run_valgrind() {
    seqc=$1 work=${2:-}
    command -v valgrind >/dev/null 2>&1 || { echo "analyze.sh: no valgrind" >&2; return 77; }
    if [ -z "$work" ]; then work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
    mkdir -p "$work/gen"
    "$seqc" --main -o "$work/gen" "$root/examples/wine.nn" || return 1
    ${CC:-cc} -std=c99 -O1 -g -D_POSIX_C_SOURCE=200809L -I"$root/runtime" -I"$work/gen" \
        "$work/gen/wine.c" "$work/gen/wine_main.c" $(ls "$root"/runtime/*.c | grep -v '/dist_mpi\.c$') \
        -lz -lm -o "$work/wine" || return 1
    vg="valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all"
    d=$root/examples/data
    $vg "$work/wine" train "$d/wine_train.csv" --epochs 3 --verbose 0 --out "$work/w.safetensors" \
        --history "$work/h.csv" --plot "$work/h.svg" >/dev/null || { echo "valgrind: train failed"; return 1; }
    $vg "$work/wine" evaluate "$work/w.safetensors" "$d/wine_test.csv" >/dev/null || { echo "valgrind: evaluate failed"; return 1; }
    $vg "$work/wine" predict "$work/w.safetensors" "$d/wine_test.csv" --classes --output "$work/p.csv" ||
        { echo "valgrind: predict failed"; return 1; }
    # an error path too: a missing file
    $vg "$work/wine" evaluate "$work/w.safetensors" "$work/missing.csv" 2>/dev/null
    [ $? -eq 1 ] || { echo "valgrind: error path failed"; return 1; }
    echo "valgrind: train, evaluate, predict: no errors, no leaks"
}

case "${1:-}" in
cppcheck) run_cppcheck ;;
valgrind) shift; run_valgrind "$@" ;;
-h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
*)
    run_cppcheck; a=$?
    b=77
    [ -n "${1:-}" ] && { run_valgrind "$1"; b=$?; }
    [ $a -eq 1 ] || [ $b -eq 1 ] && exit 1
    [ $a -eq 0 ] || [ $b -eq 0 ] && exit 0
    exit 77 ;;
esac
