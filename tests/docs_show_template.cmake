# docs/experiments.md walks through the experiment template: each of the template's files must
# appear in it word for word, so the walk-through and the template cannot drift apart.
file(READ ${DOC} doc)
foreach(name CMakeLists.txt experiment.hpp test_gelu_vs_relu.cpp)
  file(READ ${DIR}/${name} code)
  string(FIND "${doc}" "${code}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "docs/experiments.md does not show examples/experiment/${name} as it is: update the one or the other")
  endif()
endforeach()
message(STATUS "docs/experiments.md shows the template's three files as they are")
