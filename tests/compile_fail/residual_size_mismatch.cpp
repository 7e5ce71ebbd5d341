// Must not compile: the inner layers map 8 features to 4, so x + f(x) has no meaning. Its twin
// (NEURONKA_COMPILE_FAIL_TWIN) maps 8 to 8 and must compile.
#include <neuronka/compose/residual.hpp>
#include <neuronka/layers/dense.hpp>

int main() {
#ifdef NEURONKA_COMPILE_FAIL_TWIN
    neuronka::Residual<neuronka::Dense<float, 8, 16>, neuronka::ReLU, neuronka::Dense<float, 16, 8>> block;
#else
    neuronka::Residual<neuronka::Dense<float, 8, 16>, neuronka::ReLU, neuronka::Dense<float, 16, 4>> block;
#endif
    (void)block;
}
