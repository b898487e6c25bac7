# run_opt.cmake - -O0 against -O2 for the runtime-weights code of bc_opt.
#  1. forward: both load the checkpoint trained by the -O2 build and predict
#     the test rows: relative infinity norm <= 1e-5.
#  2. training: both train 3 epochs from init(seed 1) on the same rows in
#     the same order; per-step losses, final parameters and predictions are
#     compared (relative infinity norm) with the tolerance TRAJ_TOL below.
cmake_minimum_required(VERSION 3.18)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAILED (exit ${rc}): ${ARGN}")
  endif()
endfunction()
# Tolerance for 3 epochs of training: see README.md.
set(TRAJ_TOL 1e-4)
run(${O2} traj ${WORK}/o2 ${TRAIN} ${TEST})
run(${O0} traj ${WORK}/o0 ${TRAIN} ${TEST})
run(${O2} fwd ${WORK}/o2.safetensors ${TEST} ${WORK}/fwd_o2.bin)
run(${O0} fwd ${WORK}/o2.safetensors ${TEST} ${WORK}/fwd_o0.bin)
run(${CMP} ${WORK}/fwd_o0.bin ${WORK}/fwd_o2.bin 1e-5 "forward, same checkpoint")
run(${CMP} ${WORK}/o0_loss.bin ${WORK}/o2_loss.bin ${TRAJ_TOL} "per-step training loss")
run(${CMP} ${WORK}/o0_param.bin ${WORK}/o2_param.bin ${TRAJ_TOL} "parameters after 3 epochs")
run(${CMP} ${WORK}/o0_pred.bin ${WORK}/o2_pred.bin ${TRAJ_TOL} "predictions after 3 epochs")
