#!/usr/bin/env bash
# determinism.sh SEQC DIR... - seqc run twice on every *.nn in DIRs gives
# identical bytes: the IR, the generated C and the diagnostics.
set -u
seqc=$1; shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/determinism.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for dir in "$@"; do
  for nn in "$dir"/*.nn; do
    [ -f "$nn" ] || continue
    for run in 1 2; do
      mkdir -p "$tmp/$run"
      (cd "$dir" && "$seqc" --emit=ir "$(basename "$nn")") >"$tmp/$run/ir" 2>"$tmp/$run/ir.err"
      (cd "$dir" && "$seqc" -o "$tmp/$run" "$(basename "$nn")") 2>"$tmp/$run/c.err" >/dev/null
    done
    if ! diff -r "$tmp/1" "$tmp/2" >/dev/null; then
      echo "FAIL: two runs on $nn differ:"; diff -r "$tmp/1" "$tmp/2" | head -20; fail=1
    fi
    rm -rf "$tmp/1" "$tmp/2"
    n=$((n + 1))
  done
done
echo "$n inputs compiled twice"
[ "$n" -gt 0 ] && exit $fail
