// The optimisers: SGD (plain, momentum, Nesterov, weight decay) and AdamW against their update rules
// computed by hand, the fused step against backward + step + zero_grad, gradient clipping and the
// learning-rate schedules.
#include "test_util.hpp"

#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace neuronka;

namespace {
struct OneParameter {
    Eigen::ArrayXd p = Eigen::ArrayXd::LinSpaced(3, -1, 1), g = Eigen::ArrayXd::Constant(3, 0.5);
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("p", p, g));
    }
};
}  // namespace

TEST_CASE("SGD follows its update rule", "[sgd]") {
    // One parameter vector with a fixed gradient, stepped by hand and by SGD.
    const double lr = 0.1, mu = 0.9, wd = 0.01;
    OneParameter param;
    Eigen::ArrayXd p = param.p, v = Eigen::ArrayXd::Zero(3);
    const Eigen::ArrayXd g = param.g;

    SECTION("plain") {
        SGD<double> opt({.learning_rate = lr});
        for (int s = 0; s < 3; ++s) opt.step(param), p -= lr * g;
        CHECK((param.p - p).abs().maxCoeff() == 0);
        CHECK(opt.velocity().empty());
    }
    SECTION("classic momentum with decoupled weight decay") {
        SGD<double> opt({.learning_rate = lr, .momentum = mu, .weight_decay = wd});
        for (int s = 0; s < 3; ++s) {
            opt.step(param);
            p *= 1 - lr * wd;
            v = mu * v + g;
            p -= lr * v;
        }
        CHECK((param.p - p).abs().maxCoeff() < 1e-15);
    }
    SECTION("Nesterov momentum") {
        SGD<double> opt({.learning_rate = lr, .momentum = mu, .nesterov = true});
        for (int s = 0; s < 3; ++s) {
            opt.step(param);
            v = mu * v + g;
            p -= lr * (g + mu * v);
        }
        CHECK((param.p - p).abs().maxCoeff() < 1e-15);
        CHECK(opt.steps() == 3);
    }
}

TEST_CASE("a fused step equals backward, step and zero_grad", "[training][fused]") {
    using Mlp = Sequential<Dense<double, 3, 16>, Tanh, Dense<double, 16, 16>, ReLU, Dense<double, 16, 2>>;
    const Batch<double, 3> x = random_batch<3, double>(8, 51);
    const Batch<double, 2> dy = random_batch<2, double>(8, 52);
    auto params = [](Mlp& m) {
        std::vector<double> v;
        m.visit_parameters([&](ParamView<double> p) {
            for (double a : p.value) v.push_back(a);
        });
        return v;
    };
    const SGDOptions<double> settings[] = {
        {.learning_rate = 0.1},
        {.learning_rate = 0.1, .weight_decay = 0.01},
        {.learning_rate = 0.1, .momentum = 0.9},
        {.learning_rate = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01}};
    for (const auto& o : settings) {
        Mlp fused(7), plain(7);
        SGD<double> a(o), b(o);
        for (int step = 0; step < 3; ++step) {
            fused.forward(x), plain.forward(x);
            a.step(fused, x, dy);
            plain.backward_parameters(x, dy);
            b.step(plain);
            plain.zero_grad();
        }
        const auto p = params(fused), q = params(plain);
        REQUIRE(p.size() == q.size());
        for (std::size_t i = 0; i < p.size(); ++i) CHECK_THAT(p[i], Catch::Matchers::WithinAbs(q[i], 1e-12));
        CHECK(a.steps() == 3);
        for (double g : [&] {
                 std::vector<double> g;
                 fused.visit_parameters([&](ParamView<double> v) {
                     for (double e : v.grad) g.push_back(e);
                 });
                 return g;
             }())
            CHECK(g == 0);  // afterwards the gradients read as zero
    }
    SECTION("gradients accumulated before a fused step are part of it") {
        Mlp fused(7), plain(7);
        SGD<double> a({.learning_rate = 0.1}), b({.learning_rate = 0.1});
        fused.forward(x), plain.forward(x);
        fused.backward(x, dy), plain.backward(x, dy);  // a first batch, accumulated
        a.step(fused, x, dy);
        plain.backward(x, dy);
        b.step(plain);
        const auto p = params(fused), q = params(plain);
        for (std::size_t i = 0; i < p.size(); ++i) CHECK_THAT(p[i], Catch::Matchers::WithinAbs(q[i], 1e-12));
    }
    SECTION("the lecture's neuron") {
        Neuron<double, 2> fused(3), plain(3);
        SGD<double> a({.learning_rate = 0.05}), b({.learning_rate = 0.05});
        const Batch<double, 2> x2 = random_batch<2, double>(5, 53);
        const Batch<double, 1> dy1 = random_batch<1, double>(5, 54);
        fused.forward(x2), plain.forward(x2);
        a.step(fused, x2, dy1);
        plain.backward_parameters(x2, dy1);
        b.step(plain);
        CHECK_THAT(fused.w(0), Catch::Matchers::WithinAbs(plain.w(0), 1e-14));
        CHECK_THAT(fused.b(), Catch::Matchers::WithinAbs(plain.b(), 1e-14));
    }
}

namespace {
struct ChangingParameter {
    Eigen::ArrayXd p = Eigen::ArrayXd::LinSpaced(3, -1, 1), g = Eigen::ArrayXd::LinSpaced(3, 0.3, -0.2);
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("p", p, g));
    }
};
}  // namespace

TEST_CASE("AdamW follows its update rule", "[adamw]") {
    ChangingParameter param;
    AdamW<double> opt({.learning_rate = 0.1, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.05});
    Eigen::ArrayXd p = param.p, m = Eigen::ArrayXd::Zero(3), v = Eigen::ArrayXd::Zero(3);
    for (int t = 1; t <= 4; ++t) {
        param.g *= -1.1;  // a changing gradient
        opt.step(param);
        const Eigen::ArrayXd g = param.g;
        p *= 1 - 0.1 * 0.05;
        m = 0.8 * m + 0.2 * g;
        v = 0.95 * v + 0.05 * g.square();
        p -= 0.1 * (m / (1 - std::pow(0.8, t))) / ((v / (1 - std::pow(0.95, t))).sqrt() + 1e-8);
    }
    CHECK((param.p - p).abs().maxCoeff() < 1e-14);
    CHECK(opt.steps() == 4);
    CHECK_THROWS_WITH(AdamW<float>({.beta2 = 1}), Catch::Matchers::Contains("AdamW: beta2 is 1,"));
}

TEST_CASE("gradient clipping and learning-rate schedules", "[adamw]") {
    Sequential<Dense<double, 3, 4>, Dense<double, 4, 2>> mlp(1);
    mlp.forward(random_batch<3>(5, 1));
    mlp.backward(random_batch<3>(5, 1), random_batch<2>(5, 2, 5, 9));
    const double before = gradient_norm(mlp);
    REQUIRE(before > 1);
    CHECK(clip_gradient_norm(mlp, 1.0) == Approx(before));
    CHECK(gradient_norm(mlp) == Approx(1.0));
    CHECK(clip_gradient_norm(mlp, 10.0) == Approx(1.0));  // below the limit: unchanged
    CHECK(gradient_norm(mlp) == Approx(1.0));

    const auto s = LearningRateSchedule::warmup_cosine(1e-3, 10, 110, 1e-4);
    CHECK(s(0) == Approx(1e-4));
    CHECK(s(9) == Approx(1e-3));
    CHECK(s(60) == Approx(1e-4 + 0.9e-3 * 0.5));
    CHECK(s(110) == Approx(1e-4));
    CHECK(s(109) > s(110));
    CHECK(LearningRateSchedule::constant(0.5)(1000) == 0.5);
    CHECK_THROWS(LearningRateSchedule::warmup_cosine(1e-3, 10, 5));
}
