#!/bin/sh
# compare.sh DIR DISPATCHED ISA=PROGRAM...: runs the dispatched program and
# each per-ISA build of dispatch_check.c, and requires byte-identical
# outputs. A per-ISA build the CPU cannot run is skipped (exit 77 from it);
# the test fails if any comparison differs.
set -u
dir=$1 dispatched=$2
shift 2
"$dispatched" "$dir/dispatched.bin" || exit 1
status=0
for spec in "$@"; do
  isa=${spec%%=*} prog=${spec#*=}
  "$prog" "$dir/$isa.bin" "$isa"
  rc=$?
  if [ $rc = 77 ]; then
    continue
  elif [ $rc != 0 ]; then
    echo "compare.sh: $isa build failed (exit $rc)"; status=1; continue
  fi
  if cmp "$dir/dispatched.bin" "$dir/$isa.bin"; then
    echo "compare.sh: $isa build: the same $(wc -c < "$dir/$isa.bin") bytes as the dispatched kernels"
  else
    echo "compare.sh: $isa build differs from the dispatched kernels"; status=1
  fi
done
exit $status
