#!/bin/sh
# compile_examples.sh SEQC CC -OLEVEL EXAMPLES_DIR RUNTIME_DIR
# Emits every example (with --main) and compiles each generated file with
# CC -std=c99 -Wall -Wextra -Werror -pedantic. Exit 77 (skipped) if CC is
# not installed.
set -eu
seqc=$1 cc=$2 level=$3 examples=$4 runtime=$5
command -v "$cc" >/dev/null 2>&1 || { echo "$cc not installed: skipped"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
for nn in "$examples"/*.nn; do
    "$seqc" "$level" --main -o "$out" "$nn"
done
for c in "$out"/*.c; do
    "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -I"$out" -I"$runtime" -c "$c" -o "$out/x.o"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no generated file"; exit 1; }
echo "$cc $level: $n generated files compile cleanly"
