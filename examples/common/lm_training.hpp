// One training step of a transformer language model on random windows of a token stream, shared by
// the examples that train one (language_models, tiny_gpt).
#pragma once

#include <neuronka/neuronka.hpp>

#include <algorithm>
#include <vector>

namespace examples::lm {

/// B windows of C tokens starting at random positions of stream[0, end), and the tokens that follow
/// each position (the next-token targets). Sequence b is ids[b·C, (b+1)·C).
inline void random_windows(const std::vector<int>& stream, std::size_t end, int B, int C, neuronka::Rng& rng,
                           std::vector<int>& ids, std::vector<int>& targets) {
    ids.resize(std::size_t(B * C)), targets.resize(ids.size());
    for (int b = 0; b < B; ++b) {
        const std::size_t start = rng.below(end - std::size_t(C) - 1);
        std::copy_n(stream.begin() + long(start), C, ids.begin() + b * C);
        std::copy_n(stream.begin() + long(start) + 1, C, targets.begin() + b * C);
    }
}

/// zero_grad, forward, cross-entropy, backward, clipping to norm 1, AdamW at `learning_rate`; the loss.
template <class Model, class Loss>
float step(Model& model, Loss& ce, neuronka::AdamW<float>& opt, double learning_rate, const std::vector<int>& ids,
           const std::vector<int>& targets, int C) {
    model.zero_grad();
    const float loss = ce.forward(model.forward(ids, C), targets);
    model.backward(ids, ce.backward());
    neuronka::clip_gradient_norm(model, 1.0);
    opt.set_learning_rate(float(learning_rate));
    opt.step(model);
    return loss;
}

}  // namespace examples::lm
