#!/bin/sh
# manpage.sh SEQC MANPAGE: seqc.1 renders without a warning (groff -ww, and
# man -l with MANROFFOPT=-ww), and names every option `seqc --help` lists.
set -eu
seqc=$1 page=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v groff >/dev/null || { echo "SKIPPED: no groff (Debian: groff-base)"; exit 77; }

groff -ww -man -Tutf8 -z "$page" 2>"$work/groff.err"
[ -s "$work/groff.err" ] && { cat "$work/groff.err"; fail "groff -ww warns"; }
echo "ok: groff -ww -man renders $page without a warning"
if command -v man >/dev/null; then
    MANROFFOPT=-ww MANWIDTH=80 man -l "$page" >"$work/page.txt" 2>"$work/man.err"
    [ -s "$work/man.err" ] && { cat "$work/man.err"; fail "man -l warns"; }
    echo "ok: man -l renders it without a warning ($(wc -l <"$work/page.txt") lines)"
else
    groff -man -Tutf8 "$page" >"$work/page.txt"
fi

# The options of --help: the lines that start with "  -" hold the options,
# separated by ", ", up to the first two spaces ("  -O0, -O1, -O2   ...");
# the argument ("DIR", "=PASS", "=N[,N...]") is left out.
"$seqc" --help | awk '/^  -/ { sub(/^  /, ""); split($0, col, /  +/); n = split(col[1], opt, /, /)
                               for (i = 1; i <= n; i++) { split(opt[i], w, / /); print w[1] } }' \
    | sed 's/=.*$//' >"$work/options"
[ "$(wc -l <"$work/options")" -ge 10 ] || { cat "$work/options"; fail "could not read the options of seqc --help"; }
# man renders - as a hyphen or a Unicode minus: compare in ASCII.
sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g' "$work/page.txt" >"$work/page.ascii"
missing=0
while read -r opt; do
    grep -qwF -- "$opt" "$work/page.ascii" || { echo "seqc.1 does not document $opt"; missing=1; }
done <"$work/options"
[ $missing = 0 ] || fail "options of seqc --help missing from seqc.1"
echo "ok: seqc.1 documents all $(wc -l <"$work/options") options of seqc --help"
