// The two models of examples/fashion_mnist.cpp, shared with fashion_mnist_safetensors.cpp, which
// exports their weights for PyTorch.
#pragma once

#include <neuronka/neuronka.hpp>

#include <string>

namespace examples::fashion_mnist {
using neuronka::Conv2D, neuronka::Dense, neuronka::Dropout, neuronka::Flatten, neuronka::MaxPool2D, neuronka::ReLU,
    neuronka::Sequential;
/// 784-256-128-10, ReLU.
using Mlp = Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>>;
/// 28x28 -> conv 5x5 (16) -> pool -> 14x14 -> conv 5x5 (32) -> pool -> 7x7x32 -> dense 128 -> dropout -> 10
/// (Flatten changes nothing but keeps the indices, and so the tensor names, those of PyTorch's nn.Sequential).
using Cnn = Sequential<Conv2D<float, 1, 16, 5, 28, 28, 1, 2>, ReLU, MaxPool2D<float, 16, 28, 28, 2>,
                       Conv2D<float, 16, 32, 5, 14, 14, 1, 2>, ReLU, MaxPool2D<float, 32, 14, 14, 2>, Flatten,
                       Dense<float, 32 * 7 * 7, 128>, ReLU, Dropout<1, 2>, Dense<float, 128, 10>>;

/// Writes the model's weights to `path` as safetensors, with PyTorch's tensor names.
void export_safetensors(Mlp& model, const std::string& path);
/// The same for the CNN.
void export_safetensors(Cnn& model, const std::string& path);
}  // namespace examples::fashion_mnist
