// The whole umbrella header compiles for WebAssembly (Emscripten 3.1.6 and its libc++), with a model
// in it: what docs/playground.md promises to users who build their own neuronka pages.
#include <neuronka/neuronka.hpp>

int main() {
    neuronka::Sequential<neuronka::Dense<float, 2, 8>, neuronka::Tanh, neuronka::Dense<float, 8, 1>> model(1);
    neuronka::Batch<float, 2> x = neuronka::Batch<float, 2>::Ones(2, 4);
    return model.forward(x).allFinite() ? 0 : 1;
}
