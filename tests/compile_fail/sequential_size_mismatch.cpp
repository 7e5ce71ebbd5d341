// Must not compile: Dense<2,16> gives 16 features, the next Dense expects 8.
#include <neuronka/neuronka.hpp>

int main() {
    neuronka::Sequential<neuronka::Dense<float, 2, 16>, neuronka::Tanh, neuronka::Dense<float, 8, 1>> model;
    (void)model;
}
