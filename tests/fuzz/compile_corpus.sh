#!/bin/sh
# compile_corpus.sh SEQC CORPUS_DIR RUNTIME_DIR [LIMIT]
# Runs seqc on the first LIMIT files of CORPUS_DIR; for every model file it
# accepts, the generated C must pass
#   cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only.
# seqc must exit 0 or 1 (never crash) on every input.
set -u
seqc=$1 corpus=$2 runtime=$3 limit=${4:-200}
cc=${CC:-cc}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0 accepted=0 fail=0
# the seeds (examples, golden files) first, then the fuzzer-found inputs
for f in "$corpus"/seed-* "$corpus"/regress-* "$corpus"/[0-9a-f]*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    [ "$n" -gt "$limit" ] && break
    out="$tmp/out"
    rm -rf "$out"; mkdir "$out"
    "$seqc" -o "$out" -- "$f" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        echo "FAIL: seqc exited with $rc on $f"; head -5 "$tmp/err"; fail=1; continue
    fi
    [ "$rc" -eq 0 ] || continue
    accepted=$((accepted + 1))
    for c in "$out"/*.c; do
        [ -f "$c" ] || continue
        if ! "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only \
                -I"$runtime" -I"$out" "$c" 2>"$tmp/ccerr"; then
            echo "FAIL: generated C of $f does not compile:"; head -20 "$tmp/ccerr"; fail=1
        fi
    done
done
echo "$n inputs, $accepted accepted and compiled"
exit $fail
