// Fuzz target for the checkpoint loader: any bytes must either load or throw CheckpointError —
// never crash, read out of bounds, allocate absurdly or hang. Built with clang's libFuzzer by
// scripts/fuzz.sh; without libFuzzer, driver_main.cpp replays files through the same function.
#include <neuronka/neuronka.hpp>

#include <cstdint>
#include <vector>

namespace {
using Model = neuronka::Sequential<neuronka::Dense<float, 4, 8>, neuronka::Tanh, neuronka::Dense<float, 8, 3>>;
// A small CNN: convolution, pooling and dropout in a checkpoint (the corpus has cnn.nkpt).
using Cnn = neuronka::Sequential<neuronka::Conv2D<float, 1, 2, 3, 6, 6, 1, 1>, neuronka::ReLU,
                                 neuronka::MaxPool2D<float, 2, 6, 6, 2>, neuronka::Dropout<1, 2>,
                                 neuronka::Dense<float, 18, 3>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Model model(1);
    const std::vector<unsigned char> bytes(data, data + size);
    try {
        neuronka::load_bytes(bytes, "input", model, static_cast<neuronka::detail::NoOptimizer*>(nullptr), nullptr,
                             {.check_finite = size % 2 == 0});
    } catch (const neuronka::CheckpointError&) {
    }
    try {
        neuronka::SGD<float> sgd({.learning_rate = 0.1f, .momentum = 0.9f});
        neuronka::Rng rng;
        neuronka::load_bytes(bytes, "input", model, &sgd, &rng);
    } catch (const neuronka::CheckpointError&) {
    }
    try {
        neuronka::AdamW<float> adamw;
        neuronka::Rng rng;
        neuronka::load_bytes(bytes, "input", model, &adamw, &rng);
    } catch (const neuronka::CheckpointError&) {
    }
    try {
        static Cnn cnn(1);
        neuronka::AdamW<float> adamw;
        neuronka::load_bytes(bytes, "input", cnn, &adamw, static_cast<neuronka::Rng*>(nullptr));
    } catch (const neuronka::CheckpointError&) {
    }
    return 0;
}
