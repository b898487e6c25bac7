# run_baked.cmake - one baked-inference test (cmake -P), given
#   SEQC, GEN (gen_ref of the model), MODEL, MODEL_UPPER, MODEL_FILE, WORK,
#   SRC (this folder), CC, NM, EPOCHS, DATA (";"-list: --csv TRAIN TEST or
#   --random NTRAIN NTEST), BIN (0/1), SANITIZE (0/1).
# Steps: gen_ref trains/saves/writes the runtime's predictions; seqc
# --inference bakes the checkpoint; the baked C is compiled with
# -std=c99 -Wall -Wextra -Werror -pedantic; its undefined symbols must all be
# libm functions (plus stdio for the .bin loader): no seqrt_, no cblas_, no
# malloc; check_baked links with -nodefaultlibs -lm -lc (nothing else) and
# compares against the runtime.
cmake_minimum_required(VERSION 3.18)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("$ ${ARGN}\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED (exit ${rc}): ${ARGN}")
  endif()
endfunction()

string(REPLACE "," ";" DATA "${DATA}")
run(${GEN} ${WORK}/${MODEL}.safetensors ${WORK}/${MODEL}_ref.bin ${EPOCHS} ${DATA})
run(${SEQC} --inference --weights ${WORK}/${MODEL}.safetensors -o ${WORK} ${MODEL_FILE})

set(strict -std=c99 -Wall -Wextra -Werror -pedantic -O2)
run(${CC} ${strict} -c ${WORK}/${MODEL}_infer.c -o ${WORK}/${MODEL}_infer.o)

# Only libm (and, for the .bin loader, the stdio/string calls it makes).
execute_process(COMMAND ${NM} -u ${WORK}/${MODEL}_infer.o OUTPUT_VARIABLE undef RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${MODEL}_infer.o")
endif()
set(allowed expf expm1f erff erfcf tanhf log1pf logf fabsf sqrt sqrtf exp fminf fmaxf hypotf)
# The compiler may turn a copy or fill loop (cropping, padding, upsampling)
# into memcpy/memmove/memset: GCC and Clang require those of every C
# environment, freestanding ones included; the generated code calls none.
list(APPEND allowed memcpy memmove memset)
if(BIN)
  list(APPEND allowed fopen fread fclose fgetc memcmp)
endif()
string(REGEX MATCHALL "[A-Za-z_][A-Za-z0-9_@.]*" syms "${undef}")
list(REMOVE_ITEM syms U)
foreach(s ${syms})
  string(REGEX REPLACE "@.*" "" base ${s})
  if(NOT base IN_LIST allowed)
    message(FATAL_ERROR "${MODEL}_infer.o needs '${s}', which is not a libm function (undefined: ${syms})")
  endif()
endforeach()
message("undefined symbols of ${MODEL}_infer.o: ${syms} (all allowed)")

set(defs -DMODEL=${MODEL} -DMODEL_UPPER=${MODEL_UPPER} "-DINFER_HEADER=\"${MODEL}_infer.h\"")
if(BIN)
  list(APPEND defs -DBIN)
endif()
# The proof that nothing but libm (and libc for the test's own I/O) is needed.
run(${CC} ${strict} ${defs} -I${WORK} ${SRC}/check_baked.c ${WORK}/${MODEL}_infer.o
    -o ${WORK}/check_nodefault -nodefaultlibs -lm -lc)
set(exe ${WORK}/check_nodefault)
if(SANITIZE)
  run(${CC} ${strict} -g -fsanitize=address,undefined -fno-sanitize-recover=all ${defs} -I${WORK}
      ${SRC}/check_baked.c ${WORK}/${MODEL}_infer.c -o ${WORK}/check_san -lm)
  set(exe ${WORK}/check_san)
endif()
if(BIN)
  if(NOT EXISTS ${WORK}/${MODEL}_infer.bin)
    message(FATAL_ERROR "no ${MODEL}_infer.bin was written")
  endif()
  run(${exe} ${WORK}/${MODEL}_ref.bin ${WORK}/${MODEL}_infer.bin)
else()
  if(EXISTS ${WORK}/${MODEL}_infer.bin)
    message(FATAL_ERROR "${MODEL}_infer.bin was written for a small model")
  endif()
  run(${exe} ${WORK}/${MODEL}_ref.bin)
endif()
