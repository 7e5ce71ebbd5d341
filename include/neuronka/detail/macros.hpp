/// @file detail/macros.hpp
/// @brief neuronka's macros: the internal assertion NEURONKA_ASSERT, NEURONKA_COLD, and the link-time
/// check of the compiled part (NEURONKA_COMPILED). Included by core/config.hpp and by the kernels
/// below it (detail/gemm.hpp), so that no header of detail/ includes one of core/.
#pragma once

#include <Eigen/Core>

/// Internal invariant check. Define NEURONKA_ASSERT(cond, msg) before including neuronka to
/// route it elsewhere (for example to throw in a fuzzer). User input is never checked with
/// this macro: bad input always throws, whatever NEURONKA_ASSERT does.
#ifndef NEURONKA_ASSERT
#include <cassert>
#define NEURONKA_ASSERT(cond, msg) assert((cond) && (msg))
#endif

/// Marks an error path: kept out of line and away from the hot code that calls it.
#if defined(__GNUC__)
#define NEURONKA_COLD [[gnu::cold, gnu::noinline]]
#else
#define NEURONKA_COLD
#endif

/// NEURONKA_COMPILED: this program links neuronka's compiled part (the library neuronka::compiled,
/// src/compiled_*.cpp) instead of compiling its kernels in every translation unit. The kernels that
/// do not depend on a layer's sizes (matrix products, attention's per-head products, optimiser
/// updates, weight initialisers, finite scans) are then declared `extern template` for float and double
/// (docs/performance.md, "Compile time"). The library must be built with the program's architecture flags: each program
/// refers to a symbol named after Eigen's SIMD alignment, which only a library built with the same
/// alignment defines, so a mismatch fails at link time, naming that symbol, instead of at run time.
#ifdef NEURONKA_COMPILED
#define NEURONKA_DETAIL_CAT2(a, b) a##b
#define NEURONKA_DETAIL_CAT(a, b) NEURONKA_DETAIL_CAT2(a, b)
#define NEURONKA_DETAIL_COMPILED_ABI \
    NEURONKA_DETAIL_CAT(compiled_part_built_with_EIGEN_MAX_ALIGN_BYTES_, EIGEN_MAX_ALIGN_BYTES)
namespace neuronka::detail {
extern const int NEURONKA_DETAIL_COMPILED_ABI;  // defined by src/compiled_*.cpp
[[gnu::used]] static const int* const compiled_part_abi_check = &NEURONKA_DETAIL_COMPILED_ABI;
}  // namespace neuronka::detail
#endif
