# Builds TARGET in BUILD_DIR, expects the build to FAIL, and expects every ;-separated regular
# expression in EXPECT to appear in the compiler's output.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(out "${out}${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not")
endif()
foreach(expected IN LISTS EXPECT)
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "${TARGET} failed to compile, but the output lacks '${expected}':\n${out}")
  endif()
endforeach()
message(STATUS "${TARGET} failed to compile with the expected message")
