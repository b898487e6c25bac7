#!/bin/sh
# mpi_cli.sh CASE MPIEXEC FLAGS PLAIN DROPOUT EQUIV SHIM NAN
# The generated train/evaluate/predict program under mpirun (see
# CMakeLists.txt). PLAIN and DROPOUT are the programs of eq_adam_bn and
# eq_dropout (equiv.nn), EQUIV is mpi_equiv (its --compare mode), SHIM the
# preloadable fail_shim.so, NAN the program of nan.nn. FLAGS: extra mpirun flags ("" or
# "--oversubscribe"). Every mpirun runs under `timeout`: a hang fails the
# test instead of stalling the suite. Exit 0 pass, 1 fail.
#   equiv   1 process batch 12 = 2 ranks x 6 = 3 ranks x 4 through the CLI
#           (and mpirun -np 1 = no mpirun, bit for bit); rank 0 alone prints
#           and writes; --patience stops every rank at one process's epoch
#   resume  --resume on every rank; 2 + 2 epochs = 4 epochs, bit for bit;
#           the same N twice: the same bytes; another N resumes too
#   errors  bad or missing data, a missing checkpoint, ranks reading
#           different data, a bad argument: one message, every rank exits
#           non-zero, nothing written
#   faults  a rank killed with SIGKILL, a failing MPI_Allreduce: the job
#           ends within seconds, non-zero, no checkpoint written
#   nan     a row that overflows the loss on one rank: every rank stops at
#           the batch one process stops at, one message, the last good
#           epoch's weights saved once and finite
set -u
case=$1 mpiexec=$2 flags=$3 plain=$4 drop=$5 equiv=$6 shim=$7 nan=$8
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
status=0
fail() { echo "FAIL: $*"; status=1; }
ok() { echo "ok: $*"; }

# run SECONDS NP PROGRAM ARGS...: mpirun under a timeout; stdout in out,
# stderr in err; sets rc and secs
run() {
    run_limit=$1 run_np=$2
    shift 2
    t0=$(date +%s)
    # shellcheck disable=SC2086
    timeout -k 5 "$run_limit" "$mpiexec" $flags -n "$run_np" "$@" >out 2>err
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    # (mpirun itself exits 137 when a rank was killed by SIGKILL)
    if [ $rc -eq 124 ] || [ $secs -ge "$run_limit" ]; then
        fail "mpirun -n $run_np $*: still running after ${run_limit}s (a hang)"
        tail -5 err
    fi
}
# count PATTERN FILE: lines matching
count() { grep -c -- "$1" "$2"; }
# one_error DESC: the run failed (rc != 0) with exactly one line of ours
one_error() {
    n=$(count "^[a-z_]*: error:" err)
    if [ "$rc" -eq 0 ] || [ "$n" -ne 1 ]; then
        fail "$1: expected one error line and a non-zero exit, got rc $rc, $n lines:"
        head -20 err
        return 1
    fi
    ok "$1 (rc $rc, ${secs}s): $(grep -m1 '^[a-z_]*: error:' err | cut -c1-160)"
}

# 93 rows of 6 features, 3 classes. validation_split 0.2 leaves 74
# training rows: the last global batch of 12 has 2 rows (1,1 on 2 ranks;
# 1,1,0 on 3: a stand-in rank).
awk 'BEGIN {
    s = 12345; print "a,b,c,d,e,f,y"
    for (i = 0; i < 93; i++) {
        line = ""; t = 0; u = 0
        for (j = 0; j < 6; j++) {
            s = (s * 69069 + 1) % 4294967296
            v = (s / 4294967296 - 0.5) * 4 + (j == 0 ? 1 : 0)
            line = line sprintf("%.4f,", v)
            if (j < 2) t += v; if (j == 2) u = v
        }
        print line ((t > 1) + (u > 0.5))
    }
}' > d.csv
sed '5s/.*/1,2,x,4,5,6,0/' d.csv > bad.csv
awk 'NR == 1 || NR % 3' d.csv > other.csv
common="--validation-split 0.2 --seed 3 --verbose 2"

case $case in
equiv)
    "$plain" train d.csv $common --epochs 5 --batch-size 12 --out s.st >s.out 2>s.err ||
        fail "one process: rc $?: $(cat s.err)"
    # mpirun -np 1 is the same one process, bit for bit
    run 60 1 "$plain" train d.csv $common --epochs 5 --batch-size 12 --out one.st
    cmp -s s.st one.st || fail "mpirun -np 1 differs from one process without mpirun"
    ok "mpirun -np 1: the same checkpoint as without mpirun"
    for np in 2 3; do
        bs=$((12 / np))
        run 60 $np "$plain" train d.csv $common --epochs 5 --batch-size $bs \
            --out d$np.st --history h$np.csv --plot h$np.svg
        [ $rc -eq 0 ] || { fail "np $np: rc $rc"; head -20 err; continue; }
        "$equiv" --compare eq_adam_bn s.st d$np.st >cmp || fail "np $np: $(cat cmp)"
        ok "np $np, batch $bs: $(cat cmp)"
        # rank 0 alone prints: 5 epoch lines, one "saved", one score line
        [ "$(count '^Epoch [1-5]/5' err)" -eq 5 ] || fail "np $np: epoch lines: $(cat err)"
        [ "$(count '^saved d' err)" -eq 1 ] || fail "np $np: 'saved' lines: $(cat err)"
        [ "$(count 'val_loss' out)" -eq 1 ] || fail "np $np: score lines: $(cat out)"
        # the epoch lines equal one process's (4 decimals, except the time)
        sed 's/ - [0-9.]*s - / - /' s.err | grep '^Epoch' > s.lines
        sed 's/ - [0-9.]*s - / - /' err | grep '^Epoch' > d.lines
        cmp -s s.lines d.lines || { fail "np $np: epoch lines differ from one process's:"; diff s.lines d.lines; }
        [ "$(wc -l < h$np.csv)" -eq 6 ] || fail "np $np: history has $(wc -l < h$np.csv) lines"
        [ -s h$np.svg ] || fail "np $np: no plot"
    done
    # EarlyStopping decides the same on every rank, at the epoch one
    # process stops at (val_loss is summed over the ranks' slices; the
    # best epoch, 22, is clear of rounding); one message; the job ends
    "$plain" train d.csv $common --epochs 60 --batch-size 12 --patience 3 --out p.st >s.out 2>s.err
    stop=$(grep 'early stopping' s.err)
    [ -n "$stop" ] || fail "one process: no early stop in 60 epochs: $(tail -3 s.err)"
    for np in 2 3; do
        run 60 $np "$plain" train d.csv $common --epochs 60 --batch-size $((12 / np)) --patience 3 --out p$np.st
        [ $rc -eq 0 ] && [ "$(count 'early stopping' err)" -eq 1 ] && grep -qx "$stop" err ||
            fail "np $np: early stopping: rc $rc, one process: '$stop', here: $(grep -c '^Epoch' err) epochs, $(grep 'early' err)"
    done
    ok "--patience 3: one process and 2 and 3 ranks stop alike: $stop"
    # evaluate and predict under mpirun: rank 0 alone, once
    run 60 2 "$plain" evaluate d3.st d.csv
    [ $rc -eq 0 ] && [ "$(count 'loss' out)" -eq 1 ] || fail "evaluate under mpirun: rc $rc: $(cat out err)"
    run 60 2 "$plain" predict d3.st d.csv --classes
    [ $rc -eq 0 ] && [ "$(wc -l < out)" -eq 94 ] || fail "predict under mpirun: rc $rc, $(wc -l < out) lines"
    run 60 2 "$plain" --help
    [ "$(count 'batch-size' out)" -eq 1 ] && grep -q 'of each process' out ||
        fail "--help under mpirun: $(cat out)"
    ok "evaluate, predict, --help: once"
    ;;
resume)
    run 60 2 "$drop" train d.csv $common --epochs 4 --batch-size 6 --out a.st
    [ $rc -eq 0 ] || { fail "4 epochs: rc $rc"; cat err; }
    run 60 2 "$drop" train d.csv $common --epochs 4 --batch-size 6 --out a2.st
    cmp -s a.st a2.st || fail "two runs on 2 ranks, same seed: checkpoints differ"
    ok "2 ranks twice: identical checkpoints"
    run 60 2 "$drop" train d.csv $common --epochs 2 --batch-size 6 --out b.st
    run 60 2 "$drop" train d.csv $common --epochs 4 --batch-size 6 --resume b.st --out c.st
    [ $rc -eq 0 ] || { fail "resume: rc $rc"; cat err; }
    grep -q 'resuming from b.st after epoch 2' err || fail "resume: no 'resuming' line: $(cat err)"
    [ "$(count '^Epoch [34]/4' err)" -eq 2 ] || fail "resume: epoch lines: $(cat err)"
    cmp -s a.st c.st || fail "2 epochs + resume to 4 differs from 4 epochs"
    ok "2 ranks: 2 epochs + --resume to 4 = 4 epochs, bit for bit"
    run 60 3 "$drop" train d.csv $common --epochs 3 --batch-size 4 --resume b.st --out e.st
    [ $rc -eq 0 ] && [ -s e.st ] || { fail "resume on 3 ranks from 2: rc $rc"; cat err; }
    ok "a 2-rank checkpoint resumes on 3 ranks"
    ;;
errors)
    run 60 2 "$drop" train missing.csv $common --out x.st
    one_error "missing data file"
    run 60 2 "$drop" train bad.csv $common --out x.st
    one_error "bad data file" && grep -q 'bad.csv' err || fail "bad data: the file is not named"
    run 60 3 "$drop" train d.csv $common --resume nothing.st --out x.st
    one_error "missing checkpoint"
    # rank 1 reads another file
    run 60 2 sh -c 'f=d.csv; [ "${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" = 1 ] && f=other.csv; exec "$0" train "$f" "$@"' \
        "$drop" $common --out x.st
    one_error "ranks with different data" && grep -q 'different data' err || fail "different data: wrong message"
    run 60 2 "$drop" train d.csv --epochs x
    n=$(count "^eq_dropout: --epochs" err)
    [ $rc -ne 0 ] && [ "$n" -eq 1 ] || fail "bad argument: rc $rc, $n messages: $(cat err)"
    ok "bad argument: one message (rc $rc)"
    [ -e x.st ] && fail "a failed run wrote x.st"
    ls | grep -q '\.tmp' && fail "temporary files left: $(ls)"
    ;;
faults)
    # rank 1 is killed one second into a run that would go on for long
    run 60 2 sh -c '[ "${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" = 1 ] && { (sleep 1; kill -9 $$) & }; exec "$0" "$@"' \
        "$drop" train d.csv $common --epochs 1000000 --out k.st
    if [ $rc -eq 0 ] || [ $secs -gt 20 ]; then
        fail "killed rank: rc $rc after ${secs}s"; tail -5 err
    else
        ok "a rank killed: the job ended in ${secs}s, rc $rc"
    fi
    [ -e k.st ] && fail "killed rank: k.st was written"
    # the 40th MPI_Allreduce of rank 1 fails (during the first epoch)
    run 60 2 -x SEQC_FAIL_ALLREDUCE=1:40 -x LD_PRELOAD="$shim" \
        -x ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 \
        "$drop" train d.csv $common --epochs 50 --out f.st
    one_error "failing MPI_Allreduce" && grep -q 'rank 1 of 2: MPI_Allreduce.*failed' err ||
        fail "failing MPI_Allreduce: the message does not name the rank and call"
    [ $secs -le 20 ] || fail "failing MPI_Allreduce: ${secs}s"
    [ -e f.st ] && fail "failing MPI_Allreduce: f.st was written"
    ;;
nan)
    # row 40 of the file (in epoch 2's order somewhere) gets a feature of 1e30
    sed '41s/^[^,]*,/1e30,/' d.csv > inf.csv
    "$nan" train inf.csv --validation-split 0 --epochs 3 --out s.st >s.out 2>s.err
    [ $? -eq 1 ] || fail "one process: expected the NaN stop: $(cat s.err)"
    where=$(grep -o 'at epoch [0-9]* batch [0-9]*' s.err)
    [ -n "$where" ] || { fail "one process: no 'at epoch E batch B': $(cat s.err)"; }
    for np in 2 3; do
        run 60 $np "$nan" train inf.csv --validation-split 0 --epochs 3 --batch-size $((12 / np)) --out d$np.st
        one_error "non-finite loss on one rank, $np ranks"
        grep -q "$where" err || fail "np $np: stopped elsewhere than one process ($where): $(grep error err)"
        [ "$(count 'last good epoch were saved' err)" -eq 1 ] || fail "np $np: weights not saved once: $(cat err)"
        run 60 1 "$nan" evaluate d$np.st d.csv
        grep -qi nan out && fail "np $np: the kept weights evaluate to NaN"
        ok "np $np: stopped $where as one process does; kept weights: $(cat out)"
    done
    ;;
*)
    echo "mpi_cli.sh: unknown case $case"; exit 2 ;;
esac
exit $status
