// The safetensors fuzz target's body, shared by the libFuzzer build (fuzz_safetensors.cpp) and the
// replay of the corpus in tests/test_safetensors.cpp: any bytes must either load or throw
// SafetensorsError, and a rejected file must leave the model as it was.
#pragma once

#include <neuronka/io/safetensors.hpp>
#include <neuronka/neuronka.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace fuzz {
// The models of the seed corpus (tests/fuzz/corpus-safetensors: the PyTorch fixtures), and a double one.
using Mlp = neuronka::Sequential<neuronka::Dense<float, 6, 16>, neuronka::ReLU, neuronka::Dense<float, 16, 4>>;
using Cnn = neuronka::Sequential<neuronka::Conv2D<float, 2, 3, 3, 6, 6, 1, 1>, neuronka::BatchNorm2D<float, 3, 6, 6>,
                                 neuronka::ReLU, neuronka::MaxPool2D<float, 3, 6, 6, 2>, neuronka::Flatten,
                                 neuronka::Dense<float, 27, 4>>;
using MlpDouble = neuronka::Sequential<neuronka::Dense<double, 6, 16>, neuronka::ReLU, neuronka::Dense<double, 16, 4>>;

template <class Model>
void load_or_reject(Model& model, const std::vector<unsigned char>& bytes, bool check_finite) {
    const std::vector<unsigned char> before = neuronka::safetensors_bytes(model);
    try {
        neuronka::load_safetensors_bytes(model, bytes, "input", {.check_finite = check_finite});
    } catch (const neuronka::SafetensorsError&) {
        if (neuronka::safetensors_bytes(model) != before) std::abort();  // a rejected file changed the model
    }
}

inline void load_any_safetensors(const std::uint8_t* data, std::size_t size) {
    static Mlp mlp(1);
    static Cnn cnn(1);
    static MlpDouble wide(1);
    const std::vector<unsigned char> bytes(data, data + size);
    load_or_reject(mlp, bytes, size % 2 == 0);
    load_or_reject(cnn, bytes, size % 2 == 1);
    load_or_reject(wide, bytes, false);
}
}  // namespace fuzz
