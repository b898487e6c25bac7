# SeqcInstall.cmake - what `cmake --install BUILD --prefix P` puts into P,
# and the Debian package that `cpack -G DEB` makes of the same files
# (cmake/SeqcPackage.cmake). Included by CMakeLists.txt when SEQC_INSTALL
# is ON (the default when seqc is the top-level project).
#
#   bin/seqc                                  the compiler
#   lib/libseqrt_kernels.a, lib/libseqrt.a    the runtime, static
#   lib/libseqrt_kernels.so.1, libseqrt.so.1  the runtime, shared (SONAME
#                                             .so.SEQRT_ABI_VERSION; the
#                                             .so and .so.0.2.0 names too)
#   include/seqrt/                            the runtime's public headers:
#                                             every runtime/seqrt*.h and
#                                             runtime/seqrt_*.def
#   lib/cmake/seqc/                           find_package(seqc): targets
#                                             seqc::seqc, seqc::seqrt, ...,
#                                             and seqc_add_model()
#   lib/pkgconfig/seqrt.pc, seqrt_kernels.pc  pkg-config
#   share/man/man1/seqc.1                     the manual page
#   share/doc/seqc/                           README.md, LICENSE, copyright,
#                                             the language reference and the
#                                             other docs, examples/ (a CMake
#                                             project over the installed seqc)
#
# New runtime sources need nothing here (the libraries are installed as
# targets); a new public header is installed when its name starts with
# "seqrt" (runtime/act_inline.h, rng_inline.h and act_math.h are private).
include(CMakePackageConfigHelpers)

set(SEQC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/seqc)
set(SEQC_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/seqrt)

# ---------------------------------------------------------------- programs and libraries
install(TARGETS seqc EXPORT seqcTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${SEQRT_LIBRARIES} EXPORT seqcTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB SEQRT_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/runtime/seqrt*.h ${PROJECT_SOURCE_DIR}/runtime/seqrt_*.def)
if(NOT SEQC_MPI)   # its functions exist in a SEQC_MPI runtime only
  list(FILTER SEQRT_PUBLIC_HEADERS EXCLUDE REGEX "/seqrt_mpi\\.h$")
endif()
install(FILES ${SEQRT_PUBLIC_HEADERS} DESTINATION ${SEQC_INSTALL_INCLUDEDIR})

# ---------------------------------------------------------------- CMake package
# The static kernel library needs CBLAS at the user's link: the package
# config looks for the library this build used, by its name and, when no
# development symlink is installed (only libblas3 or libopenblas0), by its
# SONAME. The shared library records it itself (DT_NEEDED).
set(SEQC_CBLAS_NAME "")
set(SEQC_CBLAS_SONAME "")
if(SEQC_BLAS)
  get_filename_component(blas_file ${CBLAS_LIBRARY} NAME_WE)
  string(REGEX REPLACE "^lib" "" SEQC_CBLAS_NAME ${blas_file})
  get_filename_component(blas_real ${CBLAS_LIBRARY} REALPATH)
  if(CMAKE_OBJDUMP)
    execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${blas_real} OUTPUT_VARIABLE blas_dump ERROR_QUIET)
    string(REGEX MATCH "SONAME +([^\n ]+)" _ "${blas_dump}")
    set(SEQC_CBLAS_SONAME ${CMAKE_MATCH_1})
  endif()
endif()
set(SEQC_BLAS_ON 0)
if(SEQC_BLAS)
  set(SEQC_BLAS_ON 1)
endif()
# MPI (SEQC_MPI builds): the config finds it with FindMPI, or, without the
# MPI development files, the static driver's libmpi by this SONAME.
set(SEQC_MPI_ON 0)
set(SEQC_MPI_SONAMES "")
set(SEQC_PC_MPI_LIBS "")
if(SEQC_MPI)
  set(SEQC_MPI_ON 1)
  foreach(mpi_lib ${MPI_C_LIBRARIES})
    get_filename_component(mpi_real ${mpi_lib} REALPATH)
    if(CMAKE_OBJDUMP)
      execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${mpi_real} OUTPUT_VARIABLE mpi_dump ERROR_QUIET)
      if(mpi_dump MATCHES "SONAME +([^\n ]+)")
        list(APPEND SEQC_MPI_SONAMES ${CMAKE_MATCH_1})
      endif()
    endif()
    string(APPEND SEQC_PC_MPI_LIBS " ${mpi_lib}")
  endforeach()
endif()
install(EXPORT seqcTargets NAMESPACE seqc:: DESTINATION ${SEQC_INSTALL_CMAKEDIR} FILE seqcTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seqcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/seqcConfig.cmake
  INSTALL_DESTINATION ${SEQC_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the language and the runtime ABI, so
# find_package(seqc 0.2) accepts 0.2.* only; from 1.0 on, SameMajorVersion.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/seqcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/seqcConfig.cmake
              ${PROJECT_BINARY_DIR}/package/seqcConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/SeqcModel.cmake
        DESTINATION ${SEQC_INSTALL_CMAKEDIR})

# ---------------------------------------------------------------- pkg-config
# The prefix is the one of the installation (cmake --install --prefix P,
# or /usr in the Debian package), so the files are written at install time.
set(SEQC_PC_DRIVER_LIBS_PRIVATE "-lz${SEQC_PC_MPI_LIBS}")
set(SEQC_PC_LIBS_PRIVATE "-lm")
if(SEQC_BLAS)
  set(SEQC_PC_LIBS_PRIVATE "-l${SEQC_CBLAS_NAME} -lm")
endif()
set(SEQC_PC_PREFIX "@SEQC_PC_PREFIX@")   # left for the install step
foreach(pc seqrt seqrt_kernels)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/package/${pc}.pc.in @ONLY)
  install(CODE "set(SEQC_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/package/${pc}.pc.in\" \"${PROJECT_BINARY_DIR}/package/${pc}.pc\" @ONLY)")
  install(FILES ${PROJECT_BINARY_DIR}/package/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# ---------------------------------------------------------------- manual and documents
install(FILES ${PROJECT_SOURCE_DIR}/docs/seqc.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE
              ${PROJECT_SOURCE_DIR}/docs/language.md ${PROJECT_SOURCE_DIR}/docs/data.md
              ${PROJECT_SOURCE_DIR}/docs/internals.md ${PROJECT_SOURCE_DIR}/docs/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The examples, as a project over the installed seqc (examples/installed.cmake.in).
file(GLOB seqc_example_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/*.nn)
set(SEQC_INSTALLED_EXAMPLES "")
foreach(f ${seqc_example_files})
  get_filename_component(stem ${f} NAME_WE)
  string(APPEND SEQC_INSTALLED_EXAMPLES " ${stem}")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/examples/installed.cmake.in ${PROJECT_BINARY_DIR}/package/examples/CMakeLists.txt @ONLY)
install(FILES ${seqc_example_files} ${PROJECT_SOURCE_DIR}/examples/README.md
              ${PROJECT_BINARY_DIR}/package/examples/CMakeLists.txt
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/data DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.csv" PATTERN "README.md")

include(${PROJECT_SOURCE_DIR}/cmake/SeqcPackage.cmake)
