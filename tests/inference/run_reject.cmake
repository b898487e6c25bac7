# run_reject.cmake - seqc --inference with the checkpoint of another model
# (inf_softmax's, for inf_bn) must fail with exit status 1, say which
# tensor does not fit, and write no file. Also: a missing checkpoint.
cmake_minimum_required(VERSION 3.18)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/out)
execute_process(COMMAND ${GEN} ${WORK}/other.safetensors ${WORK}/other_ref.bin 0 --random 4 4 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gen_ref failed")
endif()
function(expect_reject ckpt pattern)
  execute_process(COMMAND ${SEQC} --inference --weights ${ckpt} -o ${WORK}/out ${MODEL_FILE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("seqc --weights ${ckpt}: exit ${rc}\n${err}")
  if(rc EQUAL 0)
    message(FATAL_ERROR "seqc accepted ${ckpt}")
  endif()
  if(NOT err MATCHES "${pattern}")
    message(FATAL_ERROR "the message does not match '${pattern}'")
  endif()
  file(GLOB written ${WORK}/out/*)
  if(written)
    message(FATAL_ERROR "files were written: ${written}")
  endif()
endfunction()

expect_reject(${WORK}/other.safetensors
  "error: .*other.safetensors: tensor '[0-9.a-z_]+' has shape \\[32, 13\\], the model expects \\[32, 30\\]")
expect_reject(${WORK}/missing.safetensors "error:.*missing.safetensors")
