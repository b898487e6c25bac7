#!/bin/sh
# run.sh SEQC_SOURCE_DIR: configures, builds and runs tests/cmake_user/project
# in a fresh build folder; then edits the model and checks that the build
# regenerates the C (seqc_add_model's dependency on the model file).
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$(dirname "$0")/project" "$work/project"
cmake -S "$work/project" -B "$work/build" -DSEQC_SOURCE_DIR="$src" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j2 >/dev/null
"$work/build/app"
"$work/build/clf" --help >/dev/null
sleep 1
sed 's/Dense(8,/Dense(12,/' "$work/project/clf.nn" > "$work/project/clf.nn.new"
mv "$work/project/clf.nn.new" "$work/project/clf.nn"
cmake --build "$work/build" -j2 >/dev/null
grep -q "float l0_weight\[12 \* 4\]" "$work/build/clf_gen/clf.h" || { echo "editing the model did not regenerate clf.h"; exit 1; }
"$work/build/app"
echo "user project: built, ran, regenerated after an edit"
