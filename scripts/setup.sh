#!/bin/sh
# Installs what seqc needs on a Debian machine (run as root or with sudo):
# the build tools, flex, bison, OpenBLAS (CBLAS), zlib (gzip data files),
# Open MPI (data-parallel training, -DSEQC_MPI=ON), the Fashion-MNIST data
# set (examples/run.sh fashion_mnist_*, in /usr/share/datasets/fashion-mnist),
# python3-statsmodels (its co2 series: examples/co2_lstm.nn,
# examples/co2_windows.py), and for the test suite PyTorch (parity and
# --emit=pytorch tests), clang (fuzzing smoke run), valgrind, cppcheck,
# xmllint (SVG checks), and for tests/install pkgconf (pkg-config),
# groff-base and man-db (the manual page, groff -ww / man -l) and dpkg-dev
# (dpkg-shlibdeps, which cpack -G DEB runs for Depends). Skips apt entirely
# when everything is present.
set -eu
pkgs="cmake make gcc flex bison libopenblas-dev zlib1g-dev libopenmpi-dev openmpi-bin python3 python3-numpy python3-torch clang valgrind cppcheck libxml2-utils dataset-fashion-mnist python3-statsmodels pkgconf groff-base man-db dpkg-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "setup: installing$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
