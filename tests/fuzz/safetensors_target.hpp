// The safetensors fuzz target's body, shared by the libFuzzer build (fuzz_safetensors.cpp) and the
// replay of the corpus in tests/test_safetensors.cpp: any bytes must either load or throw
// SafetensorsError, and a rejected file must leave the model as it was.
#pragma once

#include "model_state.hpp"

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

// Loads `bytes` into `model`, or checks that the rejection left it as `state` (fuzz::load_or_reject).
template <class Model>
void load_or_reject(Model& model, std::vector<unsigned char>& state, const std::vector<unsigned char>& bytes,
                    bool check_finite) {
    fuzz::load_or_reject<neuronka::SafetensorsError>(
        model, state, [&] { neuronka::load_safetensors_bytes(model, bytes, "input", {.check_finite = check_finite}); });
}

// The input's size chooses the model and whether values must be finite, so that each input is read
// once (the seeds, the MLP's 1016 bytes and the CNN's 1372, reach their own models; a mutation that
// changes the size moves an input to another model).
inline void load_any_safetensors(const std::uint8_t* data, std::size_t size) {
    static Mlp mlp(1);
    static Cnn cnn(1);
    static MlpDouble wide(1);
    static std::vector<unsigned char> mlp_state = state_of(mlp), cnn_state = state_of(cnn), wide_state = state_of(wide);
    const std::vector<unsigned char> bytes(data, data + size);
    const bool check_finite = size / 3 % 2 == 0;
    switch (size % 3) {
        case 0:
            load_or_reject(wide, wide_state, bytes, check_finite);
            break;
        case 1:
            load_or_reject(cnn, cnn_state, bytes, check_finite);
            break;
        default:
            load_or_reject(mlp, mlp_state, bytes, check_finite);
            break;
    }
}
}  // namespace fuzz
