// The neural bigram: one layer whose logits for the next token are a column of W chosen by the
// previous token (an Embedding<V, V> is exactly a Dense layer on one-hot input), trained by SGD with
// momentum on random minibatches of (previous, next) pairs of a token stream: fit() on windows of
// one token.
#pragma once

#include <neuronka/neuronka.hpp>
#include <neuronka/train/fit.hpp>

#include <cstdint>
#include <vector>

namespace examples::bigram {

template <int V>
void train(neuronka::Embedding<float, V, V>& model, const std::vector<int>& stream, int steps, std::uint64_t seed) {
    neuronka::SoftmaxCrossEntropy<float, V> ce;
    neuronka::SGD<float> opt({.learning_rate = 20.0f, .momentum = 0.9f});
    neuronka::fit(model, ce, opt, neuronka::TokenWindows(stream, 1),
                  {.epochs = 1, .batch_size = 8192, .seed = seed, .steps_per_epoch = std::size_t(steps)});
}

}  // namespace examples::bigram
