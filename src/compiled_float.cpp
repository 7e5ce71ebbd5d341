// The compiled part's float kernels (see compiled.hpp), and the symbol that checks a program's
// Eigen SIMD alignment against the library's.
#include "compiled.hpp"

namespace neuronka::detail {
// Programs built with NEURONKA_COMPILED refer to this symbol (core/config.hpp): a program whose
// Eigen SIMD alignment differs from this library's fails to link instead of mixing the two.
extern const int NEURONKA_DETAIL_COMPILED_ABI;
const int NEURONKA_DETAIL_COMPILED_ABI = EIGEN_MAX_ALIGN_BYTES;
}  // namespace neuronka::detail

NEURONKA_DETAIL_INSTANTIATE_ALL(float)
