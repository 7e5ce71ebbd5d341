// The neural bigram: one layer whose logits for the next token are a column of W chosen by the
// previous token (an Embedding<V, V> is exactly a Dense layer on one-hot input), trained by SGD with
// momentum on random minibatches of (previous, next) pairs of a token stream.
#pragma once

#include <neuronka/neuronka.hpp>

#include <vector>

namespace examples::bigram {

template <int V>
void train(neuronka::Embedding<float, V, V>& model, const std::vector<int>& stream, int steps, neuronka::Rng& rng) {
    neuronka::SoftmaxCrossEntropy<float, V> ce;
    neuronka::SGD<float> opt({.learning_rate = 20.0f, .momentum = 0.9f});
    std::vector<int> prev(8192), next(8192);
    for (int s = 0; s < steps; ++s) {
        for (std::size_t k = 0; k < prev.size(); ++k) {
            const std::size_t i = rng.below(stream.size() - 1);
            prev[k] = stream[i], next[k] = stream[i + 1];
        }
        model.zero_grad();
        ce.forward(model.forward(prev), next);
        model.backward(prev, ce.backward());
        opt.step(model);
    }
}

}  // namespace examples::bigram
