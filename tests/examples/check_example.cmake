# cmake -DPROGRAM=... -DTRAIN=... -DTEST=... -DBAR=metric>=x|metric<=x
#       [-DEXTRA=--epochs,3] -P check_example.cmake
#
# Trains PROGRAM on TRAIN (the model's own fit settings, plus the train
# options of EXTRA), evaluates the saved checkpoint on TEST, and checks the
# test metric against BAR. TRAIN and TEST are one CSV file or two binary
# files (X,Y: comma-separated); EXTRA is comma-separated too. The metric is
# matched by suffix in the output of `PROGRAM evaluate`, e.g. "accuracy"
# matches "binary_accuracy: 0.9737".
foreach(v PROGRAM TRAIN TEST BAR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_example.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT BAR MATCHES "^([a-z_]+)(>=|<=)([0-9.]+)$")
  message(FATAL_ERROR "bad BAR '${BAR}'")
endif()
set(metric ${CMAKE_MATCH_1})
set(op ${CMAKE_MATCH_2})
set(bar ${CMAKE_MATCH_3})
string(REPLACE "," ";" TRAIN "${TRAIN}")
string(REPLACE "," ";" TEST "${TEST}")
string(REPLACE "," ";" EXTRA "${EXTRA}")

execute_process(COMMAND ${PROGRAM} train ${TRAIN} --out model.safetensors
                        --history history.csv --plot history.svg --verbose 0 ${EXTRA}
                RESULT_VARIABLE rc OUTPUT_VARIABLE train_out ERROR_VARIABLE err)
string(STRIP "${train_out}" train_out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "train failed (${rc}):\n${train_out}\n${err}")
endif()
execute_process(COMMAND ${PROGRAM} evaluate model.safetensors ${TEST}
                RESULT_VARIABLE rc OUTPUT_VARIABLE test_out ERROR_VARIABLE err)
string(STRIP "${test_out}" test_out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "evaluate failed (${rc}):\n${test_out}\n${err}")
endif()
file(STRINGS history.csv epochs)
list(LENGTH epochs n)
math(EXPR n "${n} - 1")
message(STATUS "trained ${n} epochs; validation: ${train_out}")
message(STATUS "test: ${test_out}")

if(NOT test_out MATCHES "${metric}: ([0-9.]+)")
  message(FATAL_ERROR "no '${metric}' in the output of evaluate: ${test_out}")
endif()
set(score ${CMAKE_MATCH_1})
if(op STREQUAL ">=")
  if(score LESS bar)
    message(FATAL_ERROR "test ${metric} ${score} is below the bar ${bar}")
  endif()
else()
  if(score GREATER bar)
    message(FATAL_ERROR "test ${metric} ${score} is above the bar ${bar}")
  endif()
endif()
message(STATUS "test ${metric} ${score} ${op} ${bar}: ok")
