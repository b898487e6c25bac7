# cmake -DSUBSET=... -DDATA=DIR -DTRAIN_ROWS=n -DTEST_ROWS=n -DPROGRAM=...
#       -DBAR=... -DEXTRA=... -P check_fashion.cmake
#
# The short version of a Fashion-MNIST example: the first TRAIN_ROWS
# training and TEST_ROWS test images of the IDX files in DATA, written as
# .npy files by SUBSET (subset.c), then check_example.cmake on them.
foreach(v SUBSET DATA TRAIN_ROWS TEST_ROWS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_fashion.cmake: -D${v}=... is required")
  endif()
endforeach()
foreach(part train:TRAIN_ROWS t10k:TEST_ROWS)
  string(REPLACE ":" ";" part ${part})
  list(GET part 0 prefix)
  list(GET part 1 rows)
  execute_process(COMMAND ${SUBSET} ${DATA}/${prefix}-images-idx3-ubyte.gz ${DATA}/${prefix}-labels-idx1-ubyte.gz
                          ${${rows}} ${prefix}_x.npy ${prefix}_y.npy
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "subset failed (${rc}): ${err}")
  endif()
endforeach()
set(TRAIN train_x.npy,train_y.npy)
set(TEST t10k_x.npy,t10k_y.npy)
include(${CMAKE_CURRENT_LIST_DIR}/check_example.cmake)
