# SeqcPackage.cmake - the Debian package: `cpack -G DEB` in a build folder
# (after `cmake --build`) packs what cmake/SeqcInstall.cmake installs, under
# /usr, into seqc_VERSION_ARCH.deb.
#
# Depends is computed by dpkg-shlibdeps (Debian's dpkg-dev) from the ELF
# files: seqc needs libc6; the shared runtime needs libc6, zlib1g (the
# driver reads gzip-compressed data files), the BLAS library this build
# linked and, built with SEQC_MPI, the MPI library (libopenmpi3). The build links the generic libblas.so.3 when
# it has CBLAS (CMakeLists.txt), which Debian's shlibs turn into
# "libblas3 | libblas.so.3": the reference BLAS or OpenBLAS (whose
# libopenblas0-* packages provide libblas.so.3), whichever is installed.
# A build that linked libopenblas.so.0 directly depends on libopenblas0.
# Recommends/Suggests name what using seqc takes beyond its own files: a C
# compiler to compile the generated code, CMake or pkg-config to find the
# runtime, PyTorch for the modules of --emit=pytorch.
set(SEQC_PACKAGE_MAINTAINER "The seqc developers <seqc@invalid>" CACHE STRING
    "The Maintainer field of the Debian package: set it to a real address before publishing one")

set(CPACK_PACKAGE_NAME seqc)
set(CPACK_PACKAGE_VENDOR "The seqc developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
"seqc compiles a Keras-style Sequential model, described in a small language
(a pasted keras.Sequential body compiles), to standalone, readable C:
forward, backward and train functions over one plain struct, with Keras's
names and defaults, exact memory sizes known at compile time and no hidden
allocations. The generated code links the seqrt runtime (GEMM through
BLAS), which this package installs as static and shared libraries with its
headers, a CMake package (find_package(seqc), seqc_add_model()) and
pkg-config files. seqc also emits prediction-only C with the weights
compiled in (libm only), and the model as a PyTorch module.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_PACKAGE_CONTACT "${SEQC_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SEQC_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# a shlibs file for the runtime's SONAMEs, and the ldconfig trigger
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gcc | c-compiler")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake (>= 3.18), pkgconf | pkg-config, python3-torch")
if(SEQC_MPI)   # Depends has the MPI library (dpkg-shlibdeps); mpirun and mpi.h
  string(APPEND CPACK_DEBIAN_PACKAGE_SUGGESTS ", openmpi-bin, libopenmpi-dev")
endif()

include(CPack)
