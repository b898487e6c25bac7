#!/bin/sh
# fuzz.sh - runs the libFuzzer harnesses of tests/fuzz.
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#       Fuzzes TARGET (front, safetensors, csv, cli, npy, idx) for SECONDS, one job,
#       starting from the committed corpus tests/fuzz/corpus/TARGET (read
#       only) and writing new inputs to build-fuzz/corpus/TARGET. Crashes,
#       leaks and timeouts land in build-fuzz/artifacts/TARGET/; the last
#       lines of the log (build-fuzz/TARGET.log) show execs and coverage.
#   scripts/fuzz.sh --minimize TARGET
#       Merges build-fuzz/corpus/TARGET into a minimal corpus and replaces
#       tests/fuzz/corpus/TARGET with it (keeps regress-* inputs).
#   scripts/fuzz.sh --smoke [BUILD_DIR]
#       CTest's fuzz.smoke: builds into BUILD_DIR (default build-fuzz) and
#       runs every target for $FUZZ_SMOKE_SECONDS (default 8) seconds: the
#       harnesses build, the corpus replays under the sanitizers and a few
#       seconds of mutation find nothing. Exits 77 (skipped) without clang.
#
# The build: clang, everything instrumented with
# -fsanitize=fuzzer-no-link,address,undefined (UBSan aborts on the first
# report), the plain-C GEMM, no examples; the harnesses link
# -fsanitize=fuzzer. Only the fuzzers and what they link are built (and
# seqc, which generates the model behind fuzz_cli). Environment:
# FUZZ_BUILD (build dir, default build-fuzz), FUZZ_BUILD_TYPE (CMake build
# type of a new build dir, default RelWithDebInfo), FUZZ_NICE (default 10).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
targets="front safetensors csv cli npy idx"

configure() {
    command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: clang not found" >&2; exit 77; }
    flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -Wno-typedef-redefinition"
    if [ ! -f "$build/CMakeCache.txt" ]; then
        CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${FUZZ_BUILD_TYPE:-RelWithDebInfo}" \
            -DCMAKE_C_FLAGS="$flags" -DSEQC_FUZZ=ON -DSEQC_BLAS=OFF \
            -DSEQC_EXAMPLES=OFF >/dev/null
    fi
    nice -n "${FUZZ_NICE:-10}" cmake --build "$build" -j1 --target seqc \
        $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >/dev/null
}

run() { # target seconds [options]
    t=$1 secs=$2
    shift 2
    mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
    dict=
    [ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
    # libFuzzer's own stdout/stderr stay; the harness silences what it runs
    rc=0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n "${FUZZ_NICE:-10}" "$build/tests/fuzz/fuzz_$t" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 $dict \
        -artifact_prefix="$build/artifacts/$t/" "$@" \
        "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" 2>"$build/$t.log" || rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|DONE|cov:' "$build/$t.log" | tail -3
    return $rc
}

case "${1:-}" in
--smoke)
    [ $# -ge 2 ] && build=$2
    configure
    status=0
    for t in $targets; do
        echo "== $t"
        run "$t" "${FUZZ_SMOKE_SECONDS:-8}" || status=1
    done
    exit $status ;;
--minimize)
    t=$2
    configure
    out=$(mktemp -d)
    "$build/tests/fuzz/fuzz_$t" -merge=1 -max_len=8192 "$out" \
        "$root/tests/fuzz/corpus/$t" "$build/corpus/$t" 2>/dev/null
    mkdir -p "$out/keep"
    cp "$root/tests/fuzz/corpus/$t"/regress-* "$out/keep/" 2>/dev/null || true
    # only libFuzzer's own (SHA-1 named) inputs are replaced
    find "$root/tests/fuzz/corpus/$t" -type f -regex '.*/[0-9a-f]\{40\}' -delete
    cp "$out"/* "$root/tests/fuzz/corpus/$t/" 2>/dev/null || true
    cp "$out/keep"/* "$root/tests/fuzz/corpus/$t/" 2>/dev/null || true
    rm -rf "$out"
    du -sh "$root/tests/fuzz/corpus/$t" ;;
''|-h|--help)
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
*)
    [ $# -ge 2 ] || { echo "usage: scripts/fuzz.sh TARGET SECONDS" >&2; exit 2; }
    t=$1 secs=$2
    shift 2
    case " $targets " in *" $t "*) ;; *) echo "fuzz.sh: unknown target '$t' ($targets)" >&2; exit 2 ;; esac
    configure
    run "$t" "$secs" "$@" ;;
esac
