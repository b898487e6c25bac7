#!/bin/sh
# A row of seqrt_acts.def without its derivative (or formula, or
# description) must not build: every consumer of the table defines ACT with
# all eleven arguments. This copies the runtime's kernel sources into a
# scratch folder, drops one argument from one row, and expects the compiler
# to refuse, naming the macro; then checks that the untouched copy builds
# (so the failure is the missing argument, nothing else).
# usage: row_without_formula.sh CC RUNTIME_DIR WORK_DIR
set -eu
cc=$1 runtime=$2 work=$3
rm -rf "$work"
mkdir -p "$work/good" "$work/bad"
for d in good bad; do
    cp "$runtime"/*.h "$runtime"/*.def "$runtime/act.c" "$runtime/names.c" "$work/$d/"
done
# the MISH row loses its derivative: three lines, the middle one deleted
awk '/^ACT\(MISH,/ { print; getline; print; getline; next } { print }' \
    "$runtime/seqrt_acts.def" > "$work/bad/seqrt_acts.def"
if cmp -s "$work/bad/seqrt_acts.def" "$runtime/seqrt_acts.def"; then
    echo "row_without_formula: could not edit the MISH row" >&2
    exit 1
fi
for d in good bad; do
    if (cd "$work/$d" && "$cc" -std=c99 -Wall -Wextra -Werror -c act.c names.c) >"$work/$d.log" 2>&1; then
        echo "$d: built"
    else
        echo "$d: refused"
    fi
done > "$work/result"
cat "$work/result"
grep -q '^good: built$' "$work/result" || { cat "$work/good.log" >&2; exit 1; }
grep -q '^bad: refused$' "$work/result" || { echo "a row without its derivative built" >&2; exit 1; }
grep -q 'macro "ACT"' "$work/bad.log" || { cat "$work/bad.log" >&2; exit 1; }
grep 'macro "ACT"' "$work/bad.log" | head -1
