// Must not compile: a Dense layer with no inputs.
#include <neuronka/neuronka.hpp>

int main() {
    neuronka::Dense<float, 0, 4> layer;
    (void)layer;
}
