# seqc_add_model(TARGET <target> MODEL <file.nn> [MODELS <name>...] [MAIN]
#                [SHARED_RUNTIME] [OPTIONS <seqc option>...])
#
# Runs seqc on <file.nn> at build time and compiles the generated C into a
# static library <target> (linked to the seqrt runtime). MODELS lists the
# `model NAME { }` blocks of the file to build (default: the file's stem).
# MAIN also builds, for every model, an executable <target>_<name> from the
# generated <name>_main.c: the train/evaluate/predict program.
# SHARED_RUNTIME links the shared runtime (libseqrt.so) instead of the
# static one. Editing the model file (or rebuilding seqc) regenerates the
# sources.
#
# Works inside the seqc tree, from a user's project that did
# add_subdirectory(path/to/seqc), from an installed seqc found with
# find_package(seqc) (targets seqc::seqc, seqc::seqrt, ...), and from a
# project that include()d this file with SEQC_EXECUTABLE set to a seqc
# program (it then links a target named seqrt that the project provides).
function(seqc_add_model)
  cmake_parse_arguments(A "MAIN;SHARED_RUNTIME" "TARGET;MODEL" "MODELS;OPTIONS" ${ARGN})
  if(NOT A_TARGET OR NOT A_MODEL)
    message(FATAL_ERROR "seqc_add_model: TARGET and MODEL are required")
  endif()
  get_filename_component(model_abs ${A_MODEL} ABSOLUTE)
  if(NOT A_MODELS)
    get_filename_component(stem ${A_MODEL} NAME_WE)
    set(A_MODELS ${stem})
  endif()
  # The compiler and the runtime: the seqc tree's targets, or an installed
  # package's (find_package(seqc)).
  set(shared "")
  if(A_SHARED_RUNTIME)
    set(shared _shared)
  endif()
  if(TARGET seqc)
    set(seqc_cmd $<TARGET_FILE:seqc>)
    set(seqc_dep seqc)
    set(runtime seqrt${shared})
  elseif(TARGET seqc::seqc)
    set(seqc_cmd $<TARGET_FILE:seqc::seqc>)
    set(seqc_dep $<TARGET_FILE:seqc::seqc>)
    set(runtime seqc::seqrt${shared})
  elseif(SEQC_EXECUTABLE)
    set(seqc_cmd ${SEQC_EXECUTABLE})
    set(seqc_dep ${SEQC_EXECUTABLE})
    set(runtime seqrt${shared})
  else()
    message(FATAL_ERROR "seqc_add_model: no seqc target (add_subdirectory or find_package(seqc)) and SEQC_EXECUTABLE is not set")
  endif()
  set(outdir ${CMAKE_CURRENT_BINARY_DIR}/${A_TARGET}_gen)
  set(outputs)
  foreach(m ${A_MODELS})
    list(APPEND outputs ${outdir}/${m}.c ${outdir}/${m}.h)
    if(A_MAIN)
      list(APPEND outputs ${outdir}/${m}_main.c)
    endif()
  endforeach()
  set(main_flag)
  if(A_MAIN)
    set(main_flag --main)
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${outdir}
    COMMAND ${seqc_cmd} ${A_OPTIONS} ${main_flag} -o ${outdir} ${model_abs}
    DEPENDS ${model_abs} ${seqc_dep}
    COMMENT "seqc ${A_MODEL}"
    VERBATIM)
  set(lib_sources)
  foreach(m ${A_MODELS})
    list(APPEND lib_sources ${outdir}/${m}.c)
  endforeach()
  add_library(${A_TARGET} STATIC ${lib_sources})
  target_include_directories(${A_TARGET} PUBLIC ${outdir})
  target_link_libraries(${A_TARGET} PUBLIC ${runtime})
  target_compile_options(${A_TARGET} PRIVATE -Wall -Wextra -Werror -pedantic)
  if(A_MAIN)
    foreach(m ${A_MODELS})
      add_executable(${A_TARGET}_${m} ${outdir}/${m}_main.c)
      target_link_libraries(${A_TARGET}_${m} PRIVATE ${A_TARGET})
      target_compile_options(${A_TARGET}_${m} PRIVATE -Wall -Wextra -Werror -pedantic)
      set_target_properties(${A_TARGET}_${m} PROPERTIES OUTPUT_NAME ${m})
    endforeach()
  endif()
endfunction()
