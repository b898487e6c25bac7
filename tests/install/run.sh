#!/bin/sh
# run.sh MODE BUILD SRC BLAS MPI: seqc as an installed tool, used by
# projects that never see the source tree (BLAS, MPI: ON or OFF, how the
# runtime was built).
#
#   run.sh install BUILD SRC BLAS MPI
#       cmake --install BUILD into a temporary prefix, then check_tree on it.
#   run.sh deb BUILD SRC BLAS MPI
#       cpack -G DEB in BUILD; checks the package's metadata (dpkg-deb
#       --info: Depends computed by dpkg-shlibdeps, with a BLAS when BLAS is
#       ON) and contents (dpkg-deb --contents); extracts it into a temporary
#       root (never into this machine) and runs check_tree on ROOT/usr, the
#       compiler and pkg-config seeing the tree through the root. When apt
#       has package lists, it also asks apt to simulate installing the
#       package on a system with nothing installed: every dependency must
#       resolve from the archive.
#
# check_tree ROOT PREFIX (the installation is ROOT/PREFIX; ROOT is empty
# for a plain install):
#   1. no installed text file names the source or the build folder;
#   2. find_package(seqc) honours version requests (0.2 and 0.2.0 EXACT
#      found; 0.1, 0.3 and 1.0 refused with CMake's version message);
#   3. a CMake project (tests/install/cmake_project, with the app and model
#      of tests/cmake_user) builds with seqc_add_model() against the static
#      and the shared runtime and runs, and its build files never name the
#      source tree; the shared one loads libseqrt_kernels.so.N from PREFIX;
#   4. a plain Makefile (tests/install/make_project) builds with
#      `pkg-config --cflags --libs seqrt`, and its programs run: the app
#      trains, the generated train/evaluate program trains on a CSV file;
#   5. the installed examples project (share/doc/seqc/examples) builds two
#      models (wine, and the convolutional digits_cnn) and trains and
#      evaluates them on the installed data.
set -eu
mode=$1
build=$(cd "$2" && pwd)
src=$(cd "$3" && pwd)
blas=$4
mpi=${5:-OFF}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "-- $*"; }

check_tree() {
    root=$1 prefix=$2
    inst=$root$prefix
    [ -x "$inst/bin/seqc" ] || fail "no $inst/bin/seqc"
    "$inst/bin/seqc" --version
    if [ "$mpi" = ON ]; then
        [ -f "$inst/include/seqrt/seqrt_mpi.h" ] || fail "an MPI runtime without include/seqrt/seqrt_mpi.h"
    elif [ -f "$inst/include/seqrt/seqrt_mpi.h" ]; then
        fail "seqrt_mpi.h installed with a runtime built without MPI"
    fi

    step "1. no installed text file names the source or build folder"
    if grep -rIl -e "$src" -e "$build" "$inst" >"$work/refs"; then
        cat "$work/refs"; fail "installed files name the source or build folder"
    fi

    step "2. find_package version requests"
    for req in "0.2:ok" "0.2.0 EXACT:ok" "0.1:no" "0.3:no" "1.0:no"; do
        spec=${req%%:*} want=${req##*:}
        rm -rf "$work/v" "$work/vb"; mkdir -p "$work/v"
        printf 'cmake_minimum_required(VERSION 3.18)\nproject(v NONE)\nfind_package(seqc %s REQUIRED)\nmessage(STATUS "found seqc ${seqc_VERSION}")\n' "$spec" >"$work/v/CMakeLists.txt"
        if cmake -S "$work/v" -B "$work/vb" -DCMAKE_PREFIX_PATH="$inst" >"$work/v.log" 2>&1; then
            [ "$want" = ok ] || { cat "$work/v.log"; fail "find_package(seqc $spec) accepted version $(cat "$work/v.log" | grep 'found seqc')"; }
        else
            [ "$want" = no ] || { cat "$work/v.log"; fail "find_package(seqc $spec) failed"; }
            grep -q "version" "$work/v.log" || { cat "$work/v.log"; fail "find_package(seqc $spec) failed without naming the version"; }
        fi
        echo "   find_package(seqc $spec): $want"
    done

    step "3. CMake project: find_package(seqc) + seqc_add_model()"
    mkdir -p "$work/cm"
    cp "$here/cmake_project/CMakeLists.txt" "$src/tests/cmake_user/project/app.c" \
       "$src/tests/cmake_user/project/clf.nn" "$work/cm/"
    cmake -S "$work/cm" -B "$work/cmb" -DCMAKE_PREFIX_PATH="$inst" -DCMAKE_BUILD_TYPE=Release >"$work/cm.log" 2>&1 \
        || { cat "$work/cm.log"; fail "configuring the CMake project"; }
    grep "seqc 0" "$work/cm.log"
    cmake --build "$work/cmb" -j2 >"$work/cmb.log" 2>&1 || { cat "$work/cmb.log"; fail "building the CMake project"; }
    "$work/cmb/app"
    "$work/cmb/app_shared"
    "$work/cmb/clf" --help >/dev/null
    ldd "$work/cmb/app_shared" | grep "libseqrt_kernels.so" >"$work/ldd" || fail "app_shared does not load libseqrt_kernels.so"
    grep -q "$inst/lib/libseqrt_kernels.so" "$work/ldd" || { cat "$work/ldd"; fail "app_shared loads the runtime from elsewhere"; }
    if grep -rl -e "$src/" -e "$build/" "$work/cmb" --include=*.make --include=*.txt --include=*.cmake >"$work/refs"; then
        cat "$work/refs"; fail "the CMake project's build names the seqc source or build folder"
    fi

    step "4. Makefile project: pkg-config --cflags --libs seqrt"
    mkdir -p "$work/mk"
    cp "$here/make_project/Makefile" "$src/tests/cmake_user/project/app.c" \
       "$src/tests/cmake_user/project/clf.nn" "$work/mk/"
    PKG_CONFIG_LIBDIR="$inst/lib/pkgconfig" PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR="$root" \
        make -C "$work/mk" SEQC="$inst/bin/seqc" >"$work/mk.log" 2>&1 || { cat "$work/mk.log"; fail "make"; }
    grep -- "-lseqrt -lseqrt_kernels" "$work/mk.log" >/dev/null || { cat "$work/mk.log"; fail "pkg-config --libs seqrt did not give -lseqrt -lseqrt_kernels"; }
    LD_LIBRARY_PATH="$inst/lib" "$work/mk/app"
    awk 'BEGIN { srand(3); print "a,b,c,d,target";
                 for (i = 0; i < 64; i++) { a = rand() - 0.5; printf "%.4f,%.4f,%.4f,%.4f,%d\n", a, rand(), rand(), rand(), (a > 0) } }' \
        >"$work/mk/data.csv"
    (cd "$work/mk" && LD_LIBRARY_PATH="$inst/lib" ./clf train data.csv --epochs 5 --verbose 0 --out clf.safetensors \
        && LD_LIBRARY_PATH="$inst/lib" ./clf evaluate clf.safetensors data.csv) >"$work/clf.log" 2>&1 \
        || { cat "$work/clf.log"; fail "the Makefile project's clf program"; }
    grep "loss" "$work/clf.log"

    step "5. the installed examples project"
    cmake -S "$inst/share/doc/seqc/examples" -B "$work/exb" -DCMAKE_PREFIX_PATH="$inst" >"$work/ex.log" 2>&1 \
        || { cat "$work/ex.log"; fail "configuring the installed examples"; }
    cmake --build "$work/exb" --target example_wine_wine >"$work/ex.log" 2>&1 || { cat "$work/ex.log"; fail "building the wine example"; }
    data="$inst/share/doc/seqc/examples/data"
    (cd "$work/exb" && ./wine train "$data/wine_train.csv" --epochs 3 --verbose 0 --out wine.safetensors \
        && ./wine evaluate wine.safetensors "$data/wine_test.csv") >"$work/wine.log" 2>&1 \
        || { cat "$work/wine.log"; fail "the installed wine example"; }
    grep "accuracy" "$work/wine.log"
    # a convolution model: the installed runtime's convolution and pooling kernels
    cmake --build "$work/exb" --target example_digits_cnn_digits_cnn >"$work/ex.log" 2>&1 \
        || { cat "$work/ex.log"; fail "building the digits_cnn example"; }
    (cd "$work/exb" && ./digits_cnn train "$data/digits_train.csv" --epochs 1 --verbose 0 --out cnn.safetensors \
        && ./digits_cnn evaluate cnn.safetensors "$data/digits_test.csv") >"$work/cnn.log" 2>&1 \
        || { cat "$work/cnn.log"; fail "the installed digits_cnn example"; }
    grep "accuracy" "$work/cnn.log"
}

case $mode in
install)
    step "cmake --install into a temporary prefix"
    cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "cmake --install"; }
    check_tree "" "$work/prefix"
    echo "installed tree: CMake and pkg-config projects built and ran"
    ;;
deb)
    command -v dpkg-deb >/dev/null || { echo "SKIPPED: no dpkg-deb"; exit 77; }
    command -v dpkg-shlibdeps >/dev/null || { echo "SKIPPED: no dpkg-shlibdeps (dpkg-dev)"; exit 77; }
    step "cpack -G DEB"
    (cd "$build" && cpack -G DEB -B "$work/pkg") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
    deb=$(ls "$work"/pkg/seqc_*.deb)
    info=$work/info
    dpkg-deb --info "$deb" >"$info"
    cat "$info"
    field() { dpkg-deb --field "$deb" "$1"; }
    version=$(sed -n 's/^project(seqc VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
    [ "$(field Package)" = seqc ] || fail "Package is not seqc"
    [ "$(field Version)" = "$version" ] || fail "Version $(field Version), expected $version"
    [ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture $(field Architecture)"
    [ "$(field Section)" = devel ] || fail "Section"
    field Maintainer | grep -q '<.*@.*>' || fail "Maintainer needs a name and an address"
    field Description | grep -q "Sequential models" || fail "Description"
    depends=$(field Depends)
    echo "$depends" | grep -q "libc6" || fail "Depends lacks libc6: $depends"
    echo "$depends" | grep -q "zlib1g" || fail "Depends lacks zlib1g (the driver reads .gz data files): $depends"
    if [ "$mpi" = ON ]; then
        echo "$depends" | grep -Eq "libopenmpi|libmpich" || fail "Depends lacks the MPI library of an MPI runtime: $depends"
    fi
    if [ "$blas" = ON ]; then
        echo "$depends" | grep -Eq "libblas3 \| libblas\.so\.3|libopenblas0" || fail "Depends lacks the BLAS: $depends"
    fi
    dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$work/ctrl"
    grep -q "shlibs" "$work/ctrl" || fail "no shlibs control file"
    dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./shlibs | grep -q "libseqrt 1 seqc" || fail "shlibs does not name libseqrt 1"
    dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst | grep -q ldconfig || fail "postinst does not run ldconfig"

    dpkg-deb --contents "$deb" >"$work/contents"
    for f in ./usr/bin/seqc ./usr/lib/libseqrt.a ./usr/lib/libseqrt_kernels.a \
             "./usr/lib/libseqrt.so.1 ->" "./usr/lib/libseqrt_kernels.so.1 ->" ./usr/lib/libseqrt.so.$version \
             ./usr/include/seqrt/seqrt_kernels.h ./usr/include/seqrt/seqrt_driver.h ./usr/include/seqrt/seqrt_acts.def \
             ./usr/lib/cmake/seqc/seqcConfig.cmake ./usr/lib/cmake/seqc/seqcConfigVersion.cmake \
             ./usr/lib/cmake/seqc/SeqcModel.cmake ./usr/lib/pkgconfig/seqrt.pc ./usr/lib/pkgconfig/seqrt_kernels.pc \
             ./usr/share/man/man1/seqc.1 ./usr/share/doc/seqc/copyright ./usr/share/doc/seqc/language.md \
             ./usr/share/doc/seqc/examples/CMakeLists.txt; do
        grep -qF -- " $f" "$work/contents" || { cat "$work/contents"; fail "the package lacks $f"; }
    done
    awk '{ print $6 }' "$work/contents" | grep -v '^\./usr/' | grep -v '^\./$' >"$work/outside" && \
        { cat "$work/outside"; fail "files outside /usr"; }
    echo "package metadata and contents: ok ($(wc -l <"$work/contents") entries)"

    step "extract into a temporary root"
    dpkg-deb -x "$deb" "$work/root"
    check_tree "$work/root" /usr

    if command -v apt-get >/dev/null && ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
        step "apt: simulate installing the package on a system with nothing installed"
        : >"$work/empty-status"
        if apt-get -s -o Dir::State::status="$work/empty-status" -o Debug::NoLocking=1 install "$deb" >"$work/apt.log" 2>&1; then
            grep -E "^Inst (seqc|libc6|zlib1g|libblas3|libopenblas)" "$work/apt.log" || true
            grep -q "^Inst seqc" "$work/apt.log" || { cat "$work/apt.log"; fail "apt would not install seqc"; }
        else
            cat "$work/apt.log"; fail "apt cannot resolve the package's dependencies on an empty system"
        fi
    else
        echo "-- (no apt package lists: the simulated install on an empty system is skipped)"
    fi
    echo "Debian package: metadata, contents, extracted tree: CMake and pkg-config projects built and ran"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
