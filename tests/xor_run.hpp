// One run of the XOR experiment (tests/test_experiment.cpp in one process, tests/sweep across
// processes): XOR's four points, a model from `seed`, 60 steps of SGD with momentum on the mean
// squared error; the result is the final loss.
#pragma once

#include <neuronka/train/loss.hpp>
#include <neuronka/train/sgd.hpp>

#include <cstdint>

template <class Model>
double xor_loss(std::uint64_t seed) {
    using namespace neuronka;
    Batch<double, 2> x(2, 4);
    x << 0, 0, 1, 1,  //
        0, 1, 0, 1;
    Batch<double, 1> t(1, 4);
    t << 0, 1, 1, 0;
    Model model(seed);
    MeanSquaredError<double, 1> mse;
    SGD<double> opt({.learning_rate = 0.1, .momentum = 0.9});
    for (int step = 0; step < 60; ++step) {
        model.zero_grad();
        mse.forward(model.forward(x), t);
        model.backward(x, mse.backward());
        opt.step(model);
    }
    return mse.forward(model.forward(x), t);
}
