#!/bin/sh
# pybatch_result.sh RESULTS NAME BATCH: one model's result of a batch run
# by tests/pybatch.py (the CTest test BATCH, this test's fixture): prints
# RESULTS/NAME.log and exits with RESULTS/NAME.rc (77: skipped). The result
# is consumed (renamed NAME.last.log/.rc): a second run without the batch
# fails rather than report an old result.
d=$1 name=$2 batch=$3
if [ ! -f "$d/$name.rc" ]; then
    echo "FAIL: no result for $name: its batch, CTest test $batch, did not run it (see that test's output)"
    exit 1
fi
rc=$(cat "$d/$name.rc")
cat "$d/$name.log"
mv -f "$d/$name.log" "$d/$name.last.log"
mv -f "$d/$name.rc" "$d/$name.last.rc"
case $rc in
''|*[!0-9]*) echo "FAIL: bad status '$rc' in $d/$name.rc"; exit 1 ;;
esac
exit "$rc"
