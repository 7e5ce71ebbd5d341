// The second experiment's test: augmentation against dropout for a small Fashion-MNIST CNN, over
// 5 seeds, paired by seed, 6000 training images and 3 epochs; its verdict, as measured, is what
// this test requires.
#include "augment_or_dropout.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace neuronka;
using experiment::Setup;

namespace {
const experiment::Data& data() {
    static const experiment::Data d{Setup{}};
    return d;
}
}  // namespace

TEST_CASE("a CNN run learns, with either regulariser, and reproduces from its seed", "[smoke]") {
    const Setup quick{.train_images = 2000, .epochs = 1};
    const double a = experiment::cnn_test_accuracy(true, 1, data(), quick);
    CHECK(a > 0.4);
    CHECK(experiment::cnn_test_accuracy(true, 1, data(), quick) == a);
    CHECK(experiment::cnn_test_accuracy(false, 1, data(), quick) > 0.4);
}

TEST_CASE("augmentation against dropout for the Fashion-MNIST CNN, over 5 seeds", "[experiment]") {
    const Setup setup{.epochs = 3};
    const std::vector<double> augmented =
        run_seeds(5, [&](std::uint64_t seed) { return experiment::cnn_test_accuracy(true, seed, data(), setup); });
    const std::vector<double> dropout =
        run_seeds(5, [&](std::uint64_t seed) { return experiment::cnn_test_accuracy(false, seed, data(), setup); });
    const Comparison c = compare(augmented, dropout, Pairing::by_seed);
    std::printf(
        "test accuracy, %zu training images, %d epochs:\n  augmentation %s\n  dropout      %s\n"
        "  augmentation - dropout: %s\n",
        setup.train_images, setup.epochs, c.a.str().c_str(), c.b.str().c_str(), c.str().c_str());
    // The answer, as measured: no. Dropout is ahead by about 2.4 points (augmentation − dropout: 95 %
    // interval −3.2 .. −1.5 points when this was written); the test fails on the day that changes.
    REQUIRE(c.verdict() == Verdict::second_higher);
    CHECK(c.ci_high < 0);
    CHECK(c.ci_low > -0.05);
}
