// Must not compile: a float layer followed by a double one. Its twin (NEURONKA_COMPILE_FAIL_TWIN) uses float
// throughout.
#include <neuronka/compose/sequential.hpp>
#include <neuronka/layers/dense.hpp>

int main() {
#ifdef NEURONKA_COMPILE_FAIL_TWIN
    neuronka::Sequential<neuronka::Dense<float, 2, 4>, neuronka::Dense<float, 4, 1>> model;
#else
    neuronka::Sequential<neuronka::Dense<float, 2, 4>, neuronka::Dense<double, 4, 1>> model;
#endif
    (void)model;
}
