// neuronka's compiled part (the library neuronka::compiled): the kernels that do not depend on a
// layer's sizes, instantiated once for float and double. A program that defines NEURONKA_COMPILED
// (CMake: links neuronka::compiled) declares them extern and links them from here instead of
// compiling them in each of its translation units. Header-only use needs none of this.
#ifndef NEURONKA_COMPILED
#error "src/compiled.cpp is built with NEURONKA_COMPILED defined (CMake target neuronka::compiled)"
#endif

#include <neuronka/detail/gemm.hpp>
#include <neuronka/layers/attention.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/sgd.hpp>

namespace neuronka::detail {
// Programs built with NEURONKA_COMPILED refer to this symbol (core/config.hpp): a program whose
// Eigen SIMD alignment differs from this library's fails to link instead of mixing the two.
extern const int NEURONKA_DETAIL_COMPILED_ABI;
const int NEURONKA_DETAIL_COMPILED_ABI = EIGEN_MAX_ALIGN_BYTES;
}  // namespace neuronka::detail

NEURONKA_DETAIL_INSTANTIATE_GEMM(, float)
NEURONKA_DETAIL_INSTANTIATE_GEMM(, double)
NEURONKA_DETAIL_INSTANTIATE_ATTENTION(, float)
NEURONKA_DETAIL_INSTANTIATE_ATTENTION(, double)
NEURONKA_DETAIL_INSTANTIATE_SGD(, float)
NEURONKA_DETAIL_INSTANTIATE_SGD(, double)
NEURONKA_DETAIL_INSTANTIATE_ADAMW(, float)
NEURONKA_DETAIL_INSTANTIATE_ADAMW(, double)
