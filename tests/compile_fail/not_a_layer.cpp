// Must not compile: SGD is not a layer. Its twin (NEURONKA_COMPILE_FAIL_TWIN) puts a layer there and must compile.
#include <neuronka/compose/sequential.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/train/sgd.hpp>

int main() {
#ifdef NEURONKA_COMPILE_FAIL_TWIN
    neuronka::Sequential<neuronka::Dense<float, 2, 4>, neuronka::Tanh, neuronka::Dense<float, 4, 1>> model;
#else
    neuronka::Sequential<neuronka::Dense<float, 2, 4>, neuronka::SGD<float>, neuronka::Dense<float, 4, 1>> model;
#endif
    (void)model;
}
