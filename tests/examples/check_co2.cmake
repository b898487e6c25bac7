# cmake -DPYTHON=... -DWINDOWS=co2_windows.py -DCO2=co2.csv -DPROGRAM=... -DBAR=loss<=x
#       -P check_co2.cmake
#
# Makes the co2 windows in the working directory, then trains and scores
# PROGRAM as check_example.cmake does (the bar: PyTorch's), and also
# checks that the test MSE is below the persistence baseline's that
# co2_windows.py prints.
execute_process(COMMAND ${PYTHON} ${WINDOWS} --csv ${CO2} .
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "co2_windows.py failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "${out}")
if(NOT out MATCHES "persistence on the test rows: mse ([0-9.]+)")
  message(FATAL_ERROR "no persistence score in: ${out}")
endif()
set(persistence ${CMAKE_MATCH_1})
set(TRAIN co2_train.csv)
set(TEST co2_test.csv)
include(${CMAKE_CURRENT_LIST_DIR}/check_example.cmake)
if(NOT score LESS persistence)
  message(FATAL_ERROR "test mse ${score} does not beat persistence (${persistence})")
endif()
message(STATUS "test mse ${score} < persistence ${persistence}: ok")
