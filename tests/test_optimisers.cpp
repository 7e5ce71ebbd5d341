// The optimisers: SGD (plain, momentum, Nesterov, weight decay) and AdamW against their update rules
// computed by hand, RMSProp and Adagrad against PyTorch's over 50 steps (fixture), the training step opt.step(model, x,
// dy) against backward + step + zero_grad, the gradient sink's contract and gradient clipping (schedules:
// test_schedules.cpp).
#include "test_util.hpp"

#include "fixture.hpp"

#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/layer_norm.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/rmsprop.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
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

namespace {
template <class Model>
void check_same_values(Model& a, Model& b, double tolerance) {
    const auto p = flat(a), q = flat(b);
    REQUIRE(p.size() == q.size());
    for (std::size_t i = 0; i < p.size(); ++i) CHECK_THAT(p[i], Catch::Matchers::WithinAbs(q[i], tolerance));
}

// `steps` times: the training step on `stepped`, backward + step + zero_grad on `plain` (same x, dy).
template <class Model, class Opt, class X, class DY>
void train_both(Model& stepped, Opt& a, Model& plain, Opt& b, const X& x, const DY& dy, int steps) {
    for (int step = 0; step < steps; ++step) {
        stepped.forward(x), plain.forward(x);
        a.step(stepped, x, dy);
        plain.backward(x, dy);
        b.step(plain);
        plain.zero_grad();
    }
}

// A GradientTarget that records what a backward hands it: (index, name, size) per parameter.
struct Recorder final : GradientTarget<double> {
    struct Entry {
        std::size_t index;
        std::string name;
        Eigen::Index size;
        bool product;
        std::vector<double> grad;
    };
    std::vector<Entry> seen;
    void product(std::size_t i, ParamView<double>& p, bool pending, ProductRef<double> op) override {
        op(false, 1.0, pending);  // into the gradient, as accumulating does
        seen.push_back({i, p.name, p.value.size(), true, {p.grad.begin(), p.grad.end()}});
    }
    void gradient(std::size_t i, ParamView<double>& p) override {
        seen.push_back({i, p.name, p.value.size(), false, {p.grad.begin(), p.grad.end()}});
    }
};
}  // namespace

TEST_CASE("the training step opt.step(model, x, dy) equals backward, step and zero_grad", "[training][step]") {
    using Mlp = Sequential<Dense<double, 3, 16>, Tanh, Dense<double, 16, 16>, ReLU, Dense<double, 16, 2>>;
    const Batch<double, 3> x = random_batch<3, double>(8, 51);
    const Batch<double, 2> dy = random_batch<2, double>(8, 52);
    const SGDOptions<double> settings[] = {
        {.learning_rate = 0.1},
        {.learning_rate = 0.1, .weight_decay = 0.01},
        {.learning_rate = 0.1, .momentum = 0.9},
        {.learning_rate = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01}};
    for (const auto& o : settings) {
        Mlp stepped(7), plain(7);
        SGD<double> a(o), b(o);
        train_both(stepped, a, plain, b, x, dy, 3);
        check_same_values(stepped, plain, 1e-12);
        CHECK(flat(stepped) != flat(*std::make_unique<Mlp>(7)));  // it trained
        CHECK(a.steps() == 3);
        for (double g : flat(stepped, true)) CHECK(g == 0);  // afterwards the gradients read as zero
    }
    SECTION("AdamW") {
        Mlp stepped(7), plain(7);
        AdamW<double> a({.learning_rate = 0.01}), b({.learning_rate = 0.01});
        train_both(stepped, a, plain, b, x, dy, 3);
        check_same_values(stepped, plain, 1e-15);  // the same arithmetic, parameter by parameter
        CHECK(a.steps() == 3);
        for (double g : flat(stepped, true)) CHECK(g == 0);
    }
    SECTION("RMSProp and Adagrad") {
        Mlp stepped(7), plain(7);
        RMSProp<double> a({.learning_rate = 0.01, .momentum = 0.9, .centered = true}),
            b({.learning_rate = 0.01, .momentum = 0.9, .centered = true});
        train_both(stepped, a, plain, b, x, dy, 3);
        check_same_values(stepped, plain, 1e-15);
        CHECK(a.steps() == 3);
        for (double g : flat(stepped, true)) CHECK(g == 0);
        Mlp stepped2(7), plain2(7);
        Adagrad<double> c({.learning_rate = 0.1, .lr_decay = 0.1}), d({.learning_rate = 0.1, .lr_decay = 0.1});
        train_both(stepped2, c, plain2, d, x, dy, 3);
        check_same_values(stepped2, plain2, 1e-15);
        CHECK(flat(stepped2) != flat(*std::make_unique<Mlp>(7)));
    }
    SECTION("gradients accumulated before the step are part of it") {
        Mlp stepped(7), plain(7);
        SGD<double> a({.learning_rate = 0.1}), b({.learning_rate = 0.1});
        stepped.forward(x), plain.forward(x);
        stepped.backward(x, dy), plain.backward(x, dy);  // a first batch, accumulated
        a.step(stepped, x, dy);
        plain.backward(x, dy);
        b.step(plain);
        check_same_values(stepped, plain, 1e-12);
    }
    SECTION("the lecture's neuron") {
        Neuron<double, 2> stepped(3), plain(3);
        SGD<double> a({.learning_rate = 0.05}), b({.learning_rate = 0.05});
        const Batch<double, 2> x2 = random_batch<2, double>(5, 53);
        const Batch<double, 1> dy1 = random_batch<1, double>(5, 54);
        stepped.forward(x2), plain.forward(x2);
        a.step(stepped, x2, dy1);
        plain.backward(x2, dy1);
        b.step(plain);
        CHECK_THAT(stepped.w(0), Catch::Matchers::WithinAbs(plain.w(0), 1e-14));
        CHECK_THAT(stepped.b(), Catch::Matchers::WithinAbs(plain.b(), 1e-14));
    }
    SECTION("a layer without a sink of its own (LayerNorm) gets its update after its backward") {
        using Normed = Sequential<Dense<double, 3, 8>, LayerNorm<double, 8>, Tanh, Dense<double, 8, 2>>;
        Normed stepped(5), plain(5);
        AdamW<double> a({.learning_rate = 0.01}), b({.learning_rate = 0.01});
        train_both(stepped, a, plain, b, x, dy, 2);
        check_same_values(stepped, plain, 1e-15);
    }
}

TEST_CASE("a backward hands every parameter to its gradient sink once, last layer first", "[training][sink]") {
    using Model =
        Sequential<Dense<double, 3, 4>, LayerNorm<double, 4>, Residual<Dense<double, 4, 4>, Tanh>, Dense<double, 4, 2>>;
    Model model(3), twin(3);
    const Batch<double, 3> x = random_batch<3, double>(5, 61);
    const Batch<double, 2> dy = random_batch<2, double>(5, 62);
    Recorder recorder;
    model.forward(x), twin.forward(x);
    CHECK(model.backward(x, dy, GradientSink<double>(recorder, 0, false)) == nullptr);
    // the model's parameters in visiting order: 0.weight,
    // 0.bias, 1.weight, 1.bias, 2.0.weight, 2.0.bias, 3.weight, 3.bias
    std::vector<std::size_t> order;
    for (const auto& e : recorder.seen) order.push_back(e.index);
    CHECK(order == std::vector<std::size_t>{6, 7, 4, 5, 2, 3, 0, 1});
    CHECK(recorder.seen[0].name == "weight");
    CHECK(recorder.seen[0].size == 8);
    CHECK(recorder.seen[0].product);   // Dense's weight comes as a product
    CHECK(!recorder.seen[5].product);  // LayerNorm's bias as a gradient it computed
    CHECK(recorder.seen[4].size == 4);
    for (double g : flat(model, true)) CHECK(g == 0);  // the sink spent them
    // what reached the sink is the gradient backward accumulates, parameter by parameter
    twin.backward(x, dy);
    std::vector<std::vector<double>> expected;
    twin.visit_parameters([&](ParamView<double> p) { expected.emplace_back(p.grad.begin(), p.grad.end()); });
    for (const auto& e : recorder.seen) CHECK(e.grad == expected[e.index]);
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

namespace {
// Two parameter tensors (5 and 3 values) with the gradient of f(p) = Σ ½ a (p − c)² + 0.3 sin(3p),
// as tests/fixtures/make_optimisers_fixture.py defines them.
struct Bowl {
    Eigen::ArrayXd p1, g1, p2, g2, a, c;
    explicit Bowl(const Fixture& f)
        : a(Eigen::Map<const Eigen::ArrayXd>(f.get("a").data(), 8)),
          c(Eigen::Map<const Eigen::ArrayXd>(f.get("c").data(), 8)) {
        const Eigen::Map<const Eigen::ArrayXd> start(f.get("start").data(), 8);
        p1 = start.head(5), p2 = start.tail(3);
        g1 = Eigen::ArrayXd::Zero(5), g2 = Eigen::ArrayXd::Zero(3);
    }
    template <class F>
    void visit_parameters(F&& fn) {
        fn(parameter("first", p1, g1));
        fn(parameter("second", p2, g2));
    }
    // 50 steps of `opt`; the largest relative difference from the fixture's trajectory
    template <class Optimizer>
    double follow(Optimizer& opt, const std::vector<double>& expected) {
        double worst = 0;
        for (int s = 0; s < 50; ++s) {
            g1 = a.head(5) * (p1 - c.head(5)) + 0.9 * (3 * p1).cos();
            g2 = a.tail(3) * (p2 - c.tail(3)) + 0.9 * (3 * p2).cos();
            opt.step(*this);
            Eigen::ArrayXd p(8);
            p << p1, p2;
            const auto first = expected.begin() + 8 * s;
            worst = std::max(worst, max_relative_difference(p.data(), std::vector<double>(first, first + 8)));
        }
        return worst;
    }
};
}  // namespace

TEST_CASE("RMSProp and Adagrad follow PyTorch's trajectories for 50 steps", "[rmsprop][adagrad][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/optimisers_fixture.txt");
    SECTION("RMSProp") {
        Bowl bowl(f);
        RMSProp<double> opt({.learning_rate = 0.01});
        CHECK(bowl.follow(opt, f.get("rmsprop")) < 1e-12);
        CHECK(opt.steps() == 50);
    }
    SECTION("RMSProp, centred, with momentum and weight decay") {
        Bowl bowl(f);
        RMSProp<double> opt(
            {.learning_rate = 0.01, .alpha = 0.9, .momentum = 0.8, .centered = true, .weight_decay = 0.1});
        CHECK(bowl.follow(opt, f.get("rmsprop_centered_momentum")) < 1e-12);
        Bowl other(f);  // the same settings without centring take another path
        RMSProp<double> uncentred({.learning_rate = 0.01, .alpha = 0.9, .momentum = 0.8, .weight_decay = 0.1});
        CHECK(other.follow(uncentred, f.get("rmsprop_centered_momentum")) > 1e-3);
    }
    SECTION("RMSProp, centred") {
        Bowl bowl(f);
        RMSProp<double> opt({.learning_rate = 0.02, .alpha = 0.95, .eps = 1e-6, .centered = true});
        // √(s − a²) with s close to a² magnifies rounding: agreement to 1e-9 here
        CHECK(bowl.follow(opt, f.get("rmsprop_centered")) < 1e-9);
    }
    SECTION("Adagrad") {
        Bowl bowl(f);
        Adagrad<double> opt({.learning_rate = 0.1});
        CHECK(bowl.follow(opt, f.get("adagrad")) < 1e-12);
    }
    SECTION("Adagrad with lr_decay, weight decay and an initial accumulator") {
        Bowl bowl(f);
        Adagrad<double> opt(
            {.learning_rate = 0.2, .lr_decay = 0.01, .weight_decay = 0.05, .initial_accumulator = 0.1, .eps = 1e-10});
        CHECK(bowl.follow(opt, f.get("adagrad_decay")) < 1e-12);
    }
    SECTION("bad settings and a model that changed") {
        CHECK_THROWS_WITH(RMSProp<float>({.alpha = 1}),
                          Catch::Matchers::Contains("RMSProp: alpha is 1, expected 0 <= alpha < 1"));
        CHECK_THROWS_WITH(Adagrad<float>({.lr_decay = -1}), Catch::Matchers::Contains("Adagrad: lr_decay is -1"));
        Bowl bowl(f);
        Adagrad<double> opt;
        opt.step(bowl);
        OneParameter smaller;
        CHECK_THROWS_WITH(opt.step(smaller),
                          Catch::Matchers::Contains("Adagrad::step: parameter 0 (p) has 3 elements, expected 5"));
    }
}

TEST_CASE("gradient clipping", "[adamw]") {
    Sequential<Dense<double, 3, 4>, Dense<double, 4, 2>> mlp(1);
    mlp.forward(random_batch<3>(5, 1));
    mlp.backward(random_batch<3>(5, 1), random_batch<2>(5, 2, 5, 9));
    const double before = gradient_norm(mlp);
    REQUIRE(before > 1);
    CHECK(clip_gradient_norm(mlp, 1.0) == Approx(before));
    CHECK(gradient_norm(mlp) == Approx(1.0));
    CHECK(clip_gradient_norm(mlp, 10.0) == Approx(1.0));  // below the limit: unchanged
    CHECK(gradient_norm(mlp) == Approx(1.0));
}
