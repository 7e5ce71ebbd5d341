// One training step of a transformer language model on a batch of token windows (TokenWindows),
// shared by the examples that train one (language_models, tiny_gpt).
#pragma once

#include <neuronka/neuronka.hpp>

#include <algorithm>
#include <vector>

namespace examples::lm {

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
