// The safetensors export of examples/fashion_mnist.cpp, in a file of its own: the JSON library that
// io/safetensors.hpp needs takes seconds to compile, and the training program need not wait for it.
#include "fashion_mnist.hpp"

#include <neuronka/io/safetensors.hpp>

namespace examples::fashion_mnist {
void export_safetensors(Mlp& model, const std::string& path) {
    save_safetensors(model, path);
}
void export_safetensors(Cnn& model, const std::string& path) {
    save_safetensors(model, path);
}
}  // namespace examples::fashion_mnist
