#!/usr/bin/env bash
# run.sh - runs one golden test; see README.md.
#
#   run.sh SEQC STAGE_DIR INPUT
#
# Runs SEQC from within STAGE_DIR on INPUT (a path relative to STAGE_DIR, so
# that file names in messages are stable) and compares, byte for byte, with
# the expected file(s) STAGE_DIR/X.err, X.ir, X.txt or X.c + X.h or X.py, where X is
# INPUT's name without .nn. Flags come from STAGE_DIR/seqc-flags and from
# `# seqc-flags: ...` lines in INPUT. With UPDATE_GOLDEN=1 in the
# environment the expected files are rewritten instead.
set -u
seqc=$1 dir=$2 input=$3
cd "$dir" || exit 2
x=$(basename "$input" .nn)
flags=$( { cat seqc-flags 2>/dev/null; sed -n 's/^# seqc-flags: *//p' "$input"; } | tr '\n' ' ')
if [ -f "$x.err" ]; then kind=err; elif [ -f "$x.ir" ]; then kind=ir
elif [ -f "$x.txt" ]; then kind=summary
elif [ -f "$x.c" ] || [ -f "$x.h" ] || [ -f "$x.py" ]; then kind=c
else case $(basename "$dir") in err*) kind=err ;; c*|pytorch*) kind=c ;; summary*) kind=summary ;; *) kind=ir ;; esac; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"
fail=0

# check EXPECTED GOT: compare, or rewrite EXPECTED under UPDATE_GOLDEN=1
check() {
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    cmp -s "$1" "$2" 2>/dev/null || { cp "$2" "$1"; echo "updated $dir/$1"; }
  elif [ ! -f "$1" ]; then
    echo "FAIL: $dir/$1 is missing (run with UPDATE_GOLDEN=1 to create it)"; fail=1
  elif ! cmp -s "$1" "$2"; then
    echo "FAIL: $dir/$1 differs:"; diff -u "$1" "$2" --label "expected $1" --label "got"; fail=1
  fi
}

# shellcheck disable=SC2086
case $kind in
err)
  "$seqc" $flags -o "$tmp/out" "$input" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  { cat "$tmp/stderr"; echo "exit status: $rc"; } >"$tmp/got"
  check "$x.err" "$tmp/got"
  if [ "$rc" != 0 ] && [ -n "$(ls -A "$tmp/out")" ]; then
    echo "FAIL: exit status $rc, but files were written:"; ls -A "$tmp/out"; fail=1
  fi
  if [ "$rc" != 0 ] && [ -s "$tmp/stdout" ]; then
    echo "FAIL: exit status $rc, but standard output is not empty:"; cat "$tmp/stdout"; fail=1
  fi ;;
ir)
  "$seqc" --emit=ir $flags "$input" >"$tmp/got" 2>"$tmp/stderr"
  rc=$?
  if [ "$rc" != 0 ] || [ -s "$tmp/stderr" ]; then
    echo "FAIL: seqc exited with $rc:"; cat "$tmp/stderr"; exit 1
  fi
  check "$x.ir" "$tmp/got" ;;
summary)
  "$seqc" --summary $flags "$input" >"$tmp/got" 2>"$tmp/stderr"
  rc=$?
  if [ "$rc" != 0 ] || [ -s "$tmp/stderr" ]; then
    echo "FAIL: seqc exited with $rc:"; cat "$tmp/stderr"; exit 1
  fi
  check "$x.txt" "$tmp/got" ;;
c)
  "$seqc" $flags -o "$tmp/out" "$input" 2>"$tmp/stderr"
  rc=$?
  if [ "$rc" != 0 ] || [ -s "$tmp/stderr" ]; then
    echo "FAIL: seqc exited with $rc:"; cat "$tmp/stderr"; exit 1
  fi
  for f in "$tmp"/out/*; do check "$(basename "$f")" "$f"; done
  for f in "$x".[ch] "$x"_*.[ch] "$x".py; do
    # digits_cnn.c is the golden of the model digits_cnn.nn, not a file of digits.nn
    [ "$f" != "$x.c" ] && [ "$f" != "$x.h" ] && [ -f "$(dirname "$input")/${f%.[ch]}.nn" ] && continue
    if [ -f "$f" ] && [ ! -f "$tmp/out/$f" ]; then echo "FAIL: $dir/$f was not generated"; fail=1; fi
  done ;;
esac
exit $fail
