# Test models generated from runtime/seqrt_acts.def: every activation of the
# table, six to a model, each behind a Dense layer, and every other one
# behind a Dense + LayerNormalization (so that at -O2 each activation is
# computed both by the fused Dense kernel and by the fused normalization
# kernel, and at -O0 by the Activation layer). A new row of the table is
# tested without a line here changing: the models feed tests/gradcheck and
# tests/parity (models.cmake) and the baked-build agreement tests
# (tests/inference).
#
# Sets SEQC_ACT_MODEL_FILES (the generated .nn files) in the caller's scope.
set(act_def ${PROJECT_SOURCE_DIR}/runtime/seqrt_acts.def)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${act_def})
file(READ ${act_def} act_text)
string(REGEX MATCHALL "\nACT(_ROW)?\\([A-Z_0-9]+, \"[a-z_0-9]+\"" act_rows "${act_text}")
set(act_names)
foreach(row ${act_rows})
  string(REGEX REPLACE ".*\"([a-z_0-9]+)\"" "\\1" name "${row}")
  list(APPEND act_names ${name})
endforeach()
list(LENGTH act_names act_count)
if(act_count LESS 20)
  message(FATAL_ERROR "act_models.cmake found only ${act_count} activations in ${act_def}")
endif()

set(act_dir ${CMAKE_BINARY_DIR}/tests/act_models)
set(SEQC_ACT_MODEL_FILES)
set(group 0)
set(in_group 0)
set(body "")
set(k 0)
foreach(name ${act_names} "")
  if(in_group EQUAL 6 OR (name STREQUAL "" AND in_group GREATER 0))
    math(EXPR group "${group} + 1")
    set(file ${act_dir}/pa_acts_${group}.nn)
    set(text "# Generated from runtime/seqrt_acts.def by tests/parity/models/act_models.cmake.\nmodel pa_acts_${group} {\n  Input(shape=[5])\n${body}  Dense(3)\n  compile(optimizer=Adam(learning_rate=0.01), loss=\"mse\")\n  fit(batch_size=8)\n}\n")
    set(old "")
    if(EXISTS ${file})
      file(READ ${file} old)
    endif()
    if(NOT old STREQUAL text)
      file(WRITE ${file} "${text}")
    endif()
    list(APPEND SEQC_ACT_MODEL_FILES ${file})
    set(in_group 0)
    set(body "")
  endif()
  if(NOT name STREQUAL "")
    math(EXPR odd "${k} % 2")
    if(odd)
      string(APPEND body "  Dense(6)\n  LayerNormalization()\n  Activation(\"${name}\")\n")
    else()
      string(APPEND body "  Dense(6)\n  Activation(\"${name}\")\n")
    endif()
    math(EXPR in_group "${in_group} + 1")
    math(EXPR k "${k} + 1")
  endif()
endforeach()
