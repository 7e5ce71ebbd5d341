// Fuzz target for the checkpoint loader: any bytes must either load or throw CheckpointError —
// never crash, read out of bounds, allocate absurdly or hang — and a rejected file leaves the model
// as it was, every parameter, buffer and counter (the target aborts otherwise). Built with clang's libFuzzer by
// scripts/fuzz.sh; without libFuzzer, driver_main.cpp replays files through the same function.
#include "model_state.hpp"

#include <neuronka/neuronka.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {
using Model = neuronka::Sequential<neuronka::Dense<float, 4, 8>, neuronka::Tanh, neuronka::Dense<float, 8, 3>>;
// A small CNN: convolution, pooling and dropout in a checkpoint (the corpus has cnn.nkpt).
using Cnn = neuronka::Sequential<neuronka::Conv2D<float, 1, 2, 3, 6, 6, 1, 1>, neuronka::ReLU,
                                 neuronka::MaxPool2D<float, 2, 6, 6, 2>, neuronka::Dropout<1, 2>,
                                 neuronka::Dense<float, 18, 3>>;
}  // namespace

// The input's size chooses one of four loads, so that each input is read once (the seeds reach their
// own: cnn-adamw.nkpt is 0 mod 4, model-sgd-rng 1, model 2, model-adamw-rng 3; a mutation that
// changes the size moves an input to another load).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Model model(1);
    static Cnn cnn(1);
    static std::vector<unsigned char> model_state = fuzz::state_of(model), cnn_state = fuzz::state_of(cnn);
    const std::vector<unsigned char> bytes(data, data + size);
    switch (size % 4) {
        case 0:
            fuzz::load_or_reject<neuronka::CheckpointError>(cnn, cnn_state, [&] {
                neuronka::AdamW<float> adamw;
                neuronka::load_bytes(bytes, "input", cnn, &adamw, static_cast<neuronka::Rng*>(nullptr));
            });
            break;
        case 1:
            fuzz::load_or_reject<neuronka::CheckpointError>(model, model_state, [&] {
                neuronka::SGD<float> sgd({.learning_rate = 0.1f, .momentum = 0.9f});
                neuronka::Rng rng;
                neuronka::load_bytes(bytes, "input", model, &sgd, &rng);
            });
            break;
        case 2:
            fuzz::load_or_reject<neuronka::CheckpointError>(model, model_state, [&] {
                neuronka::load_bytes(bytes, "input", model, static_cast<neuronka::detail::NoOptimizer*>(nullptr),
                                     nullptr, {.check_finite = size / 4 % 2 == 0});
            });
            break;
        default:
            fuzz::load_or_reject<neuronka::CheckpointError>(model, model_state, [&] {
                neuronka::AdamW<float> adamw;
                neuronka::Rng rng;
                neuronka::load_bytes(bytes, "input", model, &adamw, &rng);
            });
    }
    return 0;
}
