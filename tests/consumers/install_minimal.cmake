# README's install recipe on a machine with only a C++20 compiler, CMake and Eigen: every other package
# neuronka can use is hidden from CMake, the three switches turn tests, examples and benchmarks off,
# and the library is configured, built (the compiled part) and installed. Run by CTest
# (test install_minimal) with SOURCE, BINARY, PREFIX, GENERATOR and CXX defined.
file(REMOVE_RECURSE ${BINARY} ${PREFIX})
set(hidden)
foreach(package ZLIB nlohmann_json Catch2 CLI11)
  list(APPEND hidden -DCMAKE_DISABLE_FIND_PACKAGE_${package}=ON)
endforeach()
foreach(step
        "${CMAKE_COMMAND};-S;${SOURCE};-B;${BINARY};-G;${GENERATOR};-DCMAKE_CXX_COMPILER=${CXX};-DNEURONKA_BUILD_TESTS=OFF;-DNEURONKA_BUILD_EXAMPLES=OFF;-DNEURONKA_BUILD_BENCH=OFF;${hidden}"
        "${CMAKE_COMMAND};--build;${BINARY};-j2"
        "${CMAKE_COMMAND};--install;${BINARY};--prefix;${PREFIX}")
  execute_process(COMMAND ${step} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "install_minimal: '${step}' failed:\n${out}${err}")
  endif()
endforeach()
foreach(file include/neuronka/neuronka.hpp share/cmake/neuronka/neuronkaConfig.cmake)
  if(NOT EXISTS ${PREFIX}/${file})
    message(FATAL_ERROR "install_minimal: ${PREFIX}/${file} was not installed")
  endif()
endforeach()
message(STATUS "install_minimal: configured, built and installed with only a compiler, CMake and Eigen")
