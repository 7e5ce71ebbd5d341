// The experiment's tests: fast smoke tests that the pieces work, then the experiment itself, whose
// verdict this test requires: it fails on the day the claim stops being true. The claim, measured:
// in this budget neither activation wins, and they differ by less than 1.5 points of accuracy.
#include "experiment.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace neuronka;
using experiment::Setup;

namespace {
const experiment::Data& data() {
    static const experiment::Data d{Setup{}};  // read once, shared by every test
    return d;
}
}  // namespace

TEST_CASE("the data: 6000 training and 10000 test images of 784 pixels in [0, 1], 10 classes", "[smoke]") {
    REQUIRE(data().train.size() == 6000);
    REQUIRE(data().test.size() == 10000);
    CHECK(data().train.classes == 10);
    CHECK(data().train.x.minCoeff() >= 0);
    CHECK(data().train.x.maxCoeff() <= 1);
}

TEST_CASE("one run learns, and its seed reproduces it exactly", "[smoke]") {
    const Setup quick{.train_images = 6000, .epochs = 1};
    const double a = experiment::test_accuracy<ReLU>(1, data(), quick);
    CHECK(a > 0.5);  // far above chance (0.1) after one epoch
    CHECK(experiment::test_accuracy<ReLU>(1, data(), quick) == a);
    CHECK(experiment::test_accuracy<ReLU>(2, data(), quick) != a);
}

TEST_CASE("GELU against ReLU for the Fashion-MNIST MLP, over 5 seeds", "[experiment]") {
    const Setup setup;
    const std::vector<double> gelu =
        run_seeds(5, [&](std::uint64_t seed) { return experiment::test_accuracy<GELU>(seed, data(), setup); });
    const std::vector<double> relu =
        run_seeds(5, [&](std::uint64_t seed) { return experiment::test_accuracy<ReLU>(seed, data(), setup); });
    const Comparison c = compare(gelu, relu, Pairing::by_seed);
    std::printf("test accuracy, %zu training images, %d epochs:\n  GELU %s\n  ReLU %s\n  GELU - ReLU: %s\n",
                setup.train_images, setup.epochs, c.a.str().c_str(), c.b.str().c_str(), c.str().c_str());
    // Which wins, by how much: neither, and the 95 % interval of the difference lies within ±1.5 points.
    REQUIRE(c.verdict() == Verdict::no_difference);
    CHECK(c.ci_low > -0.015);
    CHECK(c.ci_high < 0.015);
    // Each run reproduces from its seed, so the experiment does too.
    CHECK(experiment::test_accuracy<GELU>(3, data(), setup) == gelu[2]);
}
