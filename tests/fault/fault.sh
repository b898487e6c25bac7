#!/bin/sh
# fault.sh CASE SEQC SMALL OTHER SHIM MAXRSS ROOT [EXPLODE]
# Fault and limit tests (see CMakeLists.txt). SMALL/OTHER/EXPLODE are the
# generated train/evaluate/predict programs of small.nn, other.nn and
# explode.nn; SHIM is fault_shim.so (LD_PRELOAD write faults); MAXRSS runs a
# command and reports its peak RSS. Exit 0 pass, 1 fail, 77 skipped.
set -u
case=$1 seqc=$2 small=$3 other=$4 shim=$5 maxrss=$6 root=$7 explode=${8:-}
here=$root/tests/fault
T=$(mktemp -d) || exit 1
mnt=
cleanup() {
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }
# A preloaded shim must not upset the sanitizers of a SEQC_SANITIZE build.
shim_env="ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 LD_PRELOAD=$shim"

# clean RC ERRFILE: no crash, no sanitizer report
clean() {
    if [ "$1" -ge 128 ] || grep -qE 'Sanitizer|runtime error:|Segmentation|Aborted|internal error' "$2"; then
        fail "crashed or sanitizer report (rc $1):"; head -20 "$2"; return 1
    fi
    return 0
}
# expect_error DESC RC ERRFILE: exit 1 with an error message
expect_error() {
    clean "$2" "$3" || return 1
    if [ "$2" -ne 1 ] || ! grep -q 'error' "$3"; then
        fail "$1: expected exit 1 and an error message, got rc $2:"; head -5 "$3"; return 1
    fi
    echo "ok: $1: $(grep -m1 error "$3" | cut -c1-150)"
}
no_tmp() { # DIR
    if ls "$1" | grep -q '\.tmp\.'; then fail "temporary files left in $1: $(ls "$1")"; fi
}
same_or() { # FILE OLD NEW DESC: FILE is byte-identical to OLD or NEW (or absent when OLD is)
    if [ ! -e "$1" ]; then
        [ -e "$2" ] && fail "$4: $1 vanished"
        return 0
    fi
    cmp -s "$1" "$2" 2>/dev/null && return 0
    cmp -s "$1" "$3" && return 0
    fail "$4: $(basename "$1") is neither the old nor the new file ($(wc -c <"$1") bytes)"
}

# A small data set for fsmall: 3 features, a class 0/1.
data() {
    echo "a,b,c,y"
    i=0
    while [ $i -lt 24 ]; do
        echo "0.$i,1.$((i % 5)),-0.$((i % 7)),$((i % 2))"
        i=$((i + 1))
    done
}
data > "$T/data.csv"
cp "$here/small.nn" "$T/small.nn"
sed 's/learning_rate=0.01/learning_rate=0.02/' "$here/small.nn" > "$T/small_old.nn"

case $case in
outdir)
    printf 'x' > "$T/afile"
    "$seqc" -o "$T/afile/sub" "$T/small.nn" 2>"$T/err"; expect_error "output dir under a file" $? "$T/err"
    "$seqc" -o "$T/afile" "$T/small.nn" 2>"$T/err"; expect_error "output dir is a file" $? "$T/err"
    # a missing directory: seqc creates it (mkdir -p), or fails creating nothing
    "$seqc" -o "$T/missing/dir" "$T/small.nn" 2>"$T/err"; rc=$?
    if [ $rc -eq 0 ]; then
        [ -s "$T/missing/dir/fsmall.c" ] && [ -s "$T/missing/dir/fsmall.h" ] || fail "missing dir: no output"
        echo "ok: missing output dir: created"
    else
        expect_error "missing output dir" $rc "$T/err"
        [ -e "$T/missing" ] && fail "seqc failed but created $T/missing"
    fi
    "$seqc" -o "$T/afile/sub/deeper" "$T/small.nn" 2>"$T/err"; expect_error "output dir two levels under a file" $? "$T/err"
    [ "$(cat "$T/afile")" = x ] || fail "the file was changed"
    mkdir -p "$T/o/fsmall.c"
    "$seqc" -o "$T/o" "$T/small.nn" 2>"$T/err"; expect_error "NAME.c is a directory" $? "$T/err"
    no_tmp "$T/o"
    mkdir -p "$T/o2/fsmall_main.c"
    "$seqc" --main -o "$T/o2" "$T/small.nn" 2>"$T/err"; expect_error "NAME_main.c is a directory" $? "$T/err"
    no_tmp "$T/o2"
    ;;
diskfull)
    mkdir "$T/new" "$T/old"
    "$seqc" --main -o "$T/new" "$T/small.nn" || fail "reference run"
    "$seqc" --main -o "$T/old" "$T/small_old.nn" || fail "old run"
    "$small" train "$T/data.csv" --epochs 1 --out "$T/old.safetensors" 2>/dev/null || fail "old checkpoint"
    # 1. a real full disk: a tiny tmpfs (needs root and mount; else skipped)
    mkdir "$T/mnt"
    if mount -t tmpfs -o size=64k tmpfs "$T/mnt" 2>/dev/null; then
        mnt=$T/mnt
        echo "an old history" > "$T/old_h.csv"; echo "old predictions" > "$T/old_p.csv"
        cp "$T/old"/* "$T/old.safetensors" "$mnt/"
        cp "$T/old_h.csv" "$mnt/h.csv"; cp "$T/old_p.csv" "$mnt/p.csv"
        dd if=/dev/zero of="$mnt/fill" bs=1024 count=1024 2>/dev/null
        "$seqc" --main -o "$mnt" "$T/small.nn" 2>"$T/err"; expect_error "seqc on a full tmpfs" $? "$T/err"
        for f in fsmall.h fsmall.c fsmall_main.c; do cmp -s "$mnt/$f" "$T/old/$f" || fail "full disk: $f changed"; done
        "$small" train "$T/data.csv" --out "$mnt/old.safetensors" 2>"$T/err"; expect_error "checkpoint on a full tmpfs" $? "$T/err"
        cmp -s "$mnt/old.safetensors" "$T/old.safetensors" || fail "full disk: the checkpoint changed"
        "$small" train "$T/data.csv" --out "$T/h.safetensors" --history "$mnt/h.csv" 2>"$T/err"
        expect_error "history on a full tmpfs" $? "$T/err"
        cmp -s "$mnt/h.csv" "$T/old_h.csv" || fail "full disk: the history changed"
        "$small" predict "$T/old.safetensors" "$T/data.csv" --output "$mnt/p.csv" 2>"$T/err"
        expect_error "predictions on a full tmpfs" $? "$T/err"
        cmp -s "$mnt/p.csv" "$T/old_p.csv" || fail "full disk: the predictions changed"
        no_tmp "$mnt"
        umount "$mnt"; mnt=
    else
        echo "note: cannot mount a tmpfs; the full disk is simulated by the shim only"
    fi
    # 2. ENOSPC after N bytes, and a failing fsync (the shim)
    for n in 0 1 100 1000 4096 10000 FSYNC; do
        rm -rf "$T/o"; cp -r "$T/old" "$T/o"; cp "$T/old.safetensors" "$T/o/"
        if [ $n = FSYNC ]; then e="$shim_env FAULT_FSYNC=fail"; else e="$shim_env FAULT_MODE=enospc FAULT_LIMIT=$n"; fi
        env $e "$seqc" --main -o "$T/o" "$T/small.nn" 2>"$T/err"; rc=$?
        if [ $n = FSYNC ] || [ $n -lt 10000 ]; then
            expect_error "seqc, write error after $n bytes" $rc "$T/err"
        else
            clean $rc "$T/err"
        fi
        for f in fsmall.h fsmall.c fsmall_main.c; do same_or "$T/o/$f" "$T/old/$f" "$T/new/$f" "enospc $n"; done
        if [ $rc -ne 0 ]; then
            for f in fsmall.h fsmall.c fsmall_main.c; do
                cmp -s "$T/o/$f" "$T/old/$f" || echo "note: seqc failed after writing a new $f (enospc $n)"
            done
        fi
        no_tmp "$T/o"
        env $e "$small" train "$T/data.csv" --out "$T/o/old.safetensors" 2>"$T/err"; rc=$?
        if [ $n = FSYNC ] || [ $n -lt 1000 ]; then
            expect_error "checkpoint, write error after $n bytes" $rc "$T/err"
            cmp -s "$T/o/old.safetensors" "$T/old.safetensors" || fail "enospc $n: the checkpoint changed"
        fi
        no_tmp "$T/o"
    done
    # 3. the predictions and the history: ENOSPC after N bytes of them
    "$small" train "$T/data.csv" --out "$T/ck.safetensors" 2>/dev/null || fail "checkpoint"
    ck=$(wc -c <"$T/ck.safetensors")
    echo "old predictions" > "$T/old_p.csv"; echo "an old history" > "$T/old_h.csv"
    for n in 0 1 10 100 FSYNC; do
        cp "$T/old_p.csv" "$T/p.csv"; cp "$T/old_h.csv" "$T/h.csv"
        if [ $n = FSYNC ]; then e="$shim_env FAULT_FSYNC=fail"; else e="$shim_env FAULT_MODE=enospc FAULT_LIMIT=$n"; fi
        env $e "$small" predict "$T/ck.safetensors" "$T/data.csv" --output "$T/p.csv" 2>"$T/err"
        expect_error "predictions, write error after $n bytes" $? "$T/err"
        cmp -s "$T/p.csv" "$T/old_p.csv" || fail "enospc $n: the predictions changed"
        [ $n = FSYNC ] || e="$shim_env FAULT_MODE=enospc FAULT_LIMIT=$((ck + n))"
        env $e "$small" train "$T/data.csv" --out "$T/ck2.safetensors" --history "$T/h.csv" 2>"$T/err"
        expect_error "history, write error after $n bytes" $? "$T/err"
        cmp -s "$T/h.csv" "$T/old_h.csv" || fail "enospc $n: the history changed"
        no_tmp "$T"
    done
    ;;
crash)
    mkdir "$T/new" "$T/old"
    "$seqc" --main -o "$T/new" "$T/small.nn" || fail "reference run"
    "$seqc" --main -o "$T/old" "$T/small_old.nn" || fail "old run"
    total=$(cat "$T/new"/* | wc -c)
    kills=0
    for n in 0 1 2 8 64 500 1000 2000 3000 5000 8000 12000 16000 20000 30000 40000 $((total - 1)); do
        [ $n -ge "$total" ] && continue
        rm -rf "$T/o"; cp -r "$T/old" "$T/o"
        env $shim_env FAULT_MODE=kill FAULT_LIMIT=$n "$seqc" --main -o "$T/o" "$T/small.nn" 2>/dev/null
        rc=$?
        [ $rc -eq 137 ] && kills=$((kills + 1))
        for f in fsmall.h fsmall.c fsmall_main.c; do same_or "$T/o/$f" "$T/old/$f" "$T/new/$f" "seqc killed after $n bytes"; done
    done
    echo "ok: seqc killed at $kills offsets (of $total bytes): every file old or new"
    # checkpoints: the old one, then a new one of a clean run with the same arguments
    "$small" train "$T/data.csv" --epochs 1 --out "$T/old.safetensors" 2>/dev/null || fail "old checkpoint"
    "$small" train "$T/data.csv" --out "$T/new.safetensors" 2>/dev/null || fail "new checkpoint"
    "$small" train "$T/data.csv" --out "$T/new2.safetensors" 2>/dev/null
    cmp -s "$T/new.safetensors" "$T/new2.safetensors" || fail "training is not deterministic"
    size=$(wc -c <"$T/new.safetensors")
    kills=0 n=0
    while [ $n -lt "$size" ]; do
        cp "$T/old.safetensors" "$T/ck.safetensors"
        env $shim_env FAULT_MODE=kill FAULT_LIMIT=$n "$small" train "$T/data.csv" --out "$T/ck.safetensors" >/dev/null 2>&1
        [ $? -eq 137 ] && kills=$((kills + 1))
        same_or "$T/ck.safetensors" "$T/old.safetensors" "$T/new.safetensors" "train killed after $n checkpoint bytes"
        n=$((n + 37))
    done
    echo "ok: m_save killed at $kills offsets (of $size bytes): the checkpoint is old or new"
    # predictions and history: old or new after a kill at any byte (the
    # history's seconds column differs between runs: a history that was not
    # killed must be whole, with the new one's lines)
    echo "old predictions" > "$T/old_p.csv"; echo "an old history" > "$T/old_h.csv"
    "$small" predict "$T/new.safetensors" "$T/data.csv" --output "$T/new_p.csv" 2>/dev/null || fail "predictions"
    "$small" train "$T/data.csv" --out "$T/ck.safetensors" --history "$T/new_h.csv" 2>/dev/null || fail "history"
    size_ck=$(wc -c <"$T/ck.safetensors")
    for what in p h; do
        size=$(wc -c <"$T/new_$what.csv")
        kills=0 n=0
        while [ $n -lt "$size" ]; do
            cp "$T/old_$what.csv" "$T/$what.csv"
            if [ $what = p ]; then
                env $shim_env FAULT_MODE=kill FAULT_LIMIT=$n "$small" predict "$T/new.safetensors" "$T/data.csv" \
                    --output "$T/p.csv" >/dev/null 2>&1
            else
                env $shim_env FAULT_MODE=kill FAULT_LIMIT=$((size_ck + n)) "$small" train "$T/data.csv" \
                    --out "$T/ck.safetensors" --history "$T/h.csv" >/dev/null 2>&1
            fi
            rc=$?
            [ $rc -eq 137 ] && kills=$((kills + 1))
            if [ $what = p ] || [ $rc -eq 137 ]; then
                same_or "$T/$what.csv" "$T/old_$what.csv" "$T/new_$what.csv" "killed after $n bytes of $what.csv"
            elif [ "$(wc -l <"$T/h.csv")" != "$(wc -l <"$T/new_h.csv")" ] ||
                 [ "$(head -1 "$T/h.csv")" != "$(head -1 "$T/new_h.csv")" ]; then
                fail "history not killed at $n bytes, yet not whole"
            fi
            n=$((n + 13))
        done
        [ $kills -gt 0 ] || fail "$what.csv: the kill never happened"
        echo "ok: killed at $kills offsets (of $size bytes) of $what.csv: old or new"
    done
    ;;
limits)
    run() { # DESC FILE...: exit 0, or 1 with an error message; never a crash; 20 s at most
        desc=$1; shift
        timeout 20 "$seqc" -o "$T/out" "$@" >/dev/null 2>"$T/err"; rc=$?
        [ $rc -eq 124 ] && { fail "$desc: timed out"; return; }
        clean $rc "$T/err" || return
        case $rc in
        0) echo "ok: $desc: accepted" ;;
        1) grep -q error "$T/err" && echo "ok: $desc: $(grep -m1 error "$T/err" | cut -c1-150)" ||
               fail "$desc: exit 1 without an error message" ;;
        *) fail "$desc: exit $rc"; head -5 "$T/err" ;;
        esac
    }
    mkdir "$T/out"
    m() { printf 'model %s {\n%s\n    compile(loss="mse")\n}\n' "$1" "$2"; }
    m huge '    Dense(2147483647, input_shape=[2147483647])' > "$T/huge1.nn"
    m huge '    Dense(100000000000, input_shape=[3])' > "$T/huge2.nn"
    m huge '    Dense(65536, input_shape=[65536])
    Dense(65536)' > "$T/huge3.nn"
    m huge '    Dense(4, input_shape=[65536, 65536, 65536])' > "$T/huge4.nn"
    m huge '    Dense(1, input_shape=[3])
    fit(batch_size=2147483647)' > "$T/huge5.nn"
    for i in 1 2 3 4 5; do
        timeout 60 "$seqc" -o "$T/out" "$T/huge$i.nn" >/dev/null 2>"$T/err"
        expect_error "huge sizes $i" $? "$T/err"
    done
    # 1000 layers: works, in bounded time
    { echo 'model deep {'; echo '    Dense(8, activation="relu", input_shape=[4])'
      i=0; while [ $i -lt 998 ]; do echo '    Dense(8, activation="relu")'; i=$((i + 1)); done
      echo '    Dense(1)'; echo '    compile(loss="mse")'; echo '}'; } > "$T/deep.nn"
    start=$(date +%s)
    timeout 60 "$seqc" -o "$T/out" "$T/deep.nn" 2>"$T/err"; rc=$?
    clean $rc "$T/err" && [ $rc -eq 0 ] || fail "1000 layers: rc $rc"
    echo "ok: 1000 layers in $(($(date +%s) - start)) s"
    cc -std=c99 -fsyntax-only -I"$root/runtime" -I"$T/out" "$T/out/deep.c" || fail "1000 layers: the C does not compile"
    # a 1 MB line, identifier, string
    python3 - "$T" <<'PY' || { echo "note: no python3"; }
import sys
t = sys.argv[1]
mb = 1 << 20
open(t + "/longcomment.nn", "w").write("# " + "x" * mb + "\nmodel lc { Dense(1, input_shape=[2]) }\n")
open(t + "/longname.nn", "w").write("model " + "n" * mb + " { Dense(1, input_shape=[2]) }\n")
open(t + "/longlayer.nn", "w").write("model ll { " + "D" * mb + "(1, input_shape=[2]) }\n")
open(t + "/longstring.nn", "w").write('model ls { Dense(1, input_shape=[2], activation="' + "r" * mb + '") }\n')
open(t + "/longline.nn", "w").write("model ln { " + "Dense(1, input_shape=[2]), " * 40000 + "}\n")
# 40000 syntax errors, one per line: the error path must stay linear
open(t + "/manyerrors.nn", "w").write("model me {\n" + "Dense(1,,)\n" * 40000 + "}\n")
open(t + "/nested.nn", "w").write("model ne { Dense(1, input_shape=" + "[" * 100000 + "2" + "]" * 100000 + ") }\n")
open(t + "/nested_open.nn", "w").write("model no { Dense(1, input_shape=" + "(" * 100000 + "\n")
open(t + "/nul.nn", "wb").write(b"model nu {\0 Dense(1, input_shape=[2]) }\n\0\0")
open(t + "/utf8.nn", "wb").write(b"model u\xc3\xa9 { Dense(1, input_shape=[2]) } # \xff\xfe\n\xed\xa0\x80\n")
open(t + "/bom.nn", "wb").write(b"\xef\xbb\xbfmodel bom { Dense(1, input_shape=[2]) }\n")
PY
    for f in longcomment longname longlayer longstring longline manyerrors nested nested_open nul utf8 bom; do
        [ -f "$T/$f.nn" ] && run "$f" "$T/$f.nn"
    done
    for f in nested nested_open; do
        "$seqc" -o "$T/out" "$T/$f.nn" 2>&1 | grep -q 'nested too deeply' || fail "$f: no 'nested too deeply' message"
    done
    : > "$T/empty.nn"
    run "empty file" "$T/empty.nn"
    run "a directory" "$T"
    run "/dev/null" /dev/null
    run "a nonexistent file" "$T/nonexistent.nn"
    for f in empty; do "$seqc" -o "$T/out" "$T/$f.nn" 2>/dev/null && fail "$f accepted"; done
    "$seqc" -o "$T/out" "$T" 2>/dev/null && fail "a directory accepted"
    ;;
memory)
    printf 'model big {\n    Dense(10000, input_shape=[10000])\n    Dense(1)\n    compile(loss="mse")\n}\n' > "$T/big.nn"
    printf 'model tiny {\n    Dense(1, input_shape=[1])\n    compile(loss="mse")\n}\n' > "$T/tiny.nn"
    mkdir "$T/out"
    "$maxrss" "$seqc" -o "$T/out" "$T/tiny.nn" 2>"$T/tiny.err" || fail "tiny model"
    "$maxrss" "$seqc" -o "$T/out" "$T/big.nn" 2>"$T/big.err" || fail "10^8-parameter model"
    tiny=$(awk '/^maxrss_kb/ {print $2}' "$T/tiny.err")
    big=$(awk '/^maxrss_kb/ {print $2}' "$T/big.err")
    echo "seqc peak RSS: tiny model $tiny KiB, 10^8 parameters $big KiB"
    [ $((big - tiny)) -lt 16384 ] || fail "seqc's memory grows with the parameter count"
    grep -q 'STATE_BYTES' "$T/out/big.h" || fail "no STATE_BYTES in big.h"
    ;;
training)
    # NaN / Inf / out-of-range data: a clear CSV error naming file:line:col
    for v in nan NaN inf -inf Infinity 1e39 1e400; do
        { echo "a,b,c,y"; echo "1,2,3,0"; echo "1,$v,3,1"; } > "$T/bad.csv"
        "$small" train "$T/bad.csv" 2>"$T/err"; rc=$?
        expect_error "CSV value $v" $rc "$T/err"
        grep -q "bad.csv:3:3" "$T/err" || fail "CSV value $v: no bad.csv:3:3 in the message"
    done
    # another model's checkpoint
    "$other" train "$T/data.csv" --out "$T/other.safetensors" 2>/dev/null || fail "other model"
    "$small" evaluate "$T/other.safetensors" "$T/data.csv" 2>"$T/err"; expect_error "another model's checkpoint" $? "$T/err"
    "$small" train "$T/data.csv" --resume "$T/other.safetensors" --out "$T/o.safetensors" 2>"$T/err"
    expect_error "resume from another model's checkpoint" $? "$T/err"
    [ -e "$T/o.safetensors" ] && fail "a failed resume wrote --out"
    "$small" evaluate "$T/data.csv" "$T/data.csv" 2>"$T/err"; expect_error "a CSV file as the checkpoint" $? "$T/err"
    # exploding loss: learning rate 1e30 -> NaN stop, last good weights kept
    if [ -n "$explode" ]; then
        "$explode" train "$T/data.csv" --out "$T/x.safetensors" 2>"$T/err"; rc=$?
        expect_error "exploding loss" $rc "$T/err"
        grep -qE 'loss became (NaN|Inf)' "$T/err" || fail "exploding loss: no NaN message"
        grep -q 'last good epoch were saved' "$T/err" || fail "exploding loss: weights not kept"
        "$explode" evaluate "$T/x.safetensors" "$T/data.csv" >"$T/out" 2>"$T/err" || fail "exploding loss: the kept weights do not load"
        grep -qi nan "$T/out" && fail "exploding loss: kept weights evaluate to NaN: $(cat "$T/out")"
        echo "ok: exploding loss: kept weights evaluate to $(cat "$T/out")"
    fi
    ;;
truncated)
    "$small" train "$T/data.csv" --out "$T/full.safetensors" 2>/dev/null || fail "training"
    "$small" train "$T/data.csv" --epochs 1 --out "$T/existing.safetensors" 2>/dev/null || fail "training"
    cp "$T/existing.safetensors" "$T/keep.safetensors"
    size=$(wc -c <"$T/full.safetensors")
    # The offsets: every one in the length prefix and the start of the
    # header, the last ones of the header and the first ones of the data
    # (the loader's two checks, header length against the file and the
    # tensors' data_offsets against the data, meet there), the end of the
    # file, and every 7th offset in between (each run is a process: every
    # offset of the 1.4 KB file took minutes under the sanitizers).
    hlen=$(od -An -tu1 -N8 "$T/full.safetensors" |
           awk '{ v = 0; for (i = NF; i >= 1; i--) v = v * 256 + $i; print v }')
    [ "$hlen" -gt 0 ] && [ $((8 + hlen)) -lt "$size" ] || fail "full checkpoint: header length $hlen of $size bytes"
    hend=$((8 + hlen))
    offsets=$( { seq 0 31; seq 32 7 "$size"; seq $((hend - 4)) $((hend + 4)); seq $((size - 4)) "$size"; } |
               awk -v size="$size" '$1 < size' | sort -n | uniq)
    tried=0
    for n in $offsets; do
        head -c $n "$T/full.safetensors" > "$T/cut.safetensors"
        "$small" train "$T/data.csv" --resume "$T/cut.safetensors" --out "$T/existing.safetensors" >/dev/null 2>"$T/err"
        rc=$?
        if [ $rc -ne 1 ]; then fail "cut at $n: rc $rc"; head -5 "$T/err"; fi
        grep -qE 'Sanitizer|runtime error' "$T/err" && { fail "cut at $n: sanitizer"; cat "$T/err"; }
        grep -q 'error' "$T/err" || fail "cut at $n: exit 1 without an error message"
        tried=$((tried + 1))
    done
    [ "$tried" -ge 150 ] || fail "only $tried offsets tried"
    cmp -s "$T/existing.safetensors" "$T/keep.safetensors" || fail "a truncated --resume overwrote --out"
    "$small" evaluate "$T/full.safetensors" "$T/data.csv" >/dev/null || fail "the full checkpoint does not load"
    echo "ok: a checkpoint cut at $tried of its $size offsets (header ends at $hend) is rejected; --out untouched"
    ;;
*)
    echo "fault.sh: unknown case $case"; exit 2 ;;
esac
exit $status
