// The checks every language model's test makes (Transformer, Gpt2, Llama): the whole model's
// parameter gradients of the cross-entropy against finite differences, and the whole model against
// a fixture written by an independent PyTorch implementation (logits, loss, every gradient).
#pragma once

#include "fixture.hpp"
#include "test_util.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

/// Every parameter of `model` (vocabulary Vocab) gradient-checked through the cross-entropy of
/// B random sequences of T tokens; returns the result (require_small it).
template <int Vocab, class Model>
neuronka::GradcheckResult language_model_gradcheck(Model& model, int T, int B) {
    const std::vector<int> ids = random_ids(T * B, Vocab, 18), targets = random_ids(T * B, Vocab, 19);
    neuronka::SoftmaxCrossEntropy<double, Vocab> ce;
    return neuronka::gradcheck_parameters(
        model, [&] { return ce.forward(model.forward(ids, T), targets); },
        [&] {
            model.zero_grad();
            ce.forward(model.forward(ids, T), targets);
            model.backward(ids, ce.backward());
        });
}

/// `model` (vocabulary Vocab) loaded with the fixture's weights, run on its ids (sequences of T):
/// the loss within `loss_tolerance` relative, the logits and every gradient within `tolerance`.
template <int Vocab, class Model>
void check_against_fixture(Model& model, const Fixture& f, int T, double loss_tolerance, double tolerance) {
    std::vector<int> ids, targets;
    for (double v : f.get("ids")) ids.push_back(int(v));
    for (double v : f.get("targets")) targets.push_back(int(v));
    // the weights in visiting order; the fixture's order and sizes must agree with ours
    const std::vector<std::string> names = load_fixture_parameters(f, model);
    neuronka::SoftmaxCrossEntropy<double, Vocab> ce;
    model.zero_grad();
    const double loss = ce.forward(model.forward(ids, T), targets);
    model.backward(ids, ce.backward());
    CHECK(std::abs(loss - f.get("loss")[0]) / f.get("loss")[0] < loss_tolerance);
    CHECK(max_relative_difference(model.output().data(), f.get("logits")) < tolerance);
    std::size_t k = 0;
    model.visit_parameters([&](neuronka::ParamView<double> p) {
        const std::string& name = names.at(k++);
        INFO("gradient of " << name);
        CHECK(max_relative_difference(p.grad.data(), f.get("grad " + name)) < tolerance);
    });
}
