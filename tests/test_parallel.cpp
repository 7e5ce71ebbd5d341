// Parallel<Join, Paths...>: the joins against their definitions, gradients checked in double
// (alone, nested in a Sequential, a Residual and another Parallel), the training step through an
// optimiser's sink equal to backward + step, PyTorch-style names, and predict equal to forward.
#include "test_util.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/compose/parallel.hpp>
#include <neuronka/compose/residual.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/layer_norm.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace neuronka;

namespace {
using Wide = Parallel<Concat, Dense<double, 4, 3>, Sequential<Dense<double, 4, 5>, Tanh, Dense<double, 5, 2>>>;
using Added = Parallel<Sum, Dense<double, 4, 6>, Sequential<Dense<double, 4, 8>, ReLU, Dense<double, 8, 6>>>;
}  // namespace

TEST_CASE("Parallel joins its paths' outputs: stacked, or added", "[parallel]") {
    static_assert(Wide::in_size == 4 && Wide::out_size == 5);
    static_assert(Wide::parameter_count == 15 + (25 + 12));
    static_assert(Wide::parameter_tensors == 6);
    CHECK(Wide::name() ==
          "Parallel<Concat: Dense<In=4,Out=3>: Sequential<Dense<In=4,Out=5>, Tanh<N=5>, Dense<In=5,Out=2>>>");
    static_assert(Added::out_size == 6);
    const Batch<double, 4> x = random_batch<4>(7, 1);
    Wide wide(3);
    const Batch<double, 5> y = wide.forward(x);
    Dense<double, 4, 3> a = wide.layer<0>();
    auto b = wide.layer<1>();
    CHECK(y.topRows(3) == a.forward(x));
    CHECK(y.bottomRows(2) == b.forward(x));
    Added added(4);
    Dense<double, 4, 6> c = added.layer<0>();
    auto d = added.layer<1>();
    CHECK((added.forward(x) - (c.forward(x) + d.forward(x))).cwiseAbs().maxCoeff() < 1e-15);
    CHECK(Wide::name() ==
          "Parallel<Concat: Dense<In=4,Out=3>: Sequential<Dense<In=4,Out=5>, Tanh<N=5>, "
          "Dense<In=5,Out=2>>>");
}

TEST_CASE("Parallel gradients, alone and nested", "[parallel][gradcheck]") {
    const Batch<double, 4> x = random_batch<4>(6, 2);
    SECTION("Concat") {
        Wide wide(5);
        require_small(gradcheck(wide, x));
    }
    SECTION("Sum") {
        Added added(6);
        require_small(gradcheck(added, x));
    }
    SECTION("in a Sequential, around a Residual, and one Parallel inside another") {
        using Nested = Sequential<
            Dense<double, 4, 6>, Tanh,
            Residual<LayerNorm<double, 6>,
                     Parallel<Sum, Dense<double, 6, 6>, Parallel<Concat, Dense<double, 6, 2>, Dense<double, 6, 4>>>>,
            Dense<double, 6, 2>>;
        Nested model(7);
        require_small(gradcheck(model, x));
    }
}

TEST_CASE("the training step through a Parallel equals backward, step and zero_grad", "[parallel][training]") {
    using Net = Sequential<Dense<double, 4, 4>, Tanh, Wide, Dense<double, 5, 2>>;
    const Batch<double, 4> x = random_batch<4>(8, 3);
    const Batch<double, 2> dy = random_batch<2>(8, 4);
    auto train = [&](auto make) {
        Net stepped(9), plain(9);
        auto a = make(), b = make();
        for (int s = 0; s < 3; ++s) {
            stepped.forward(x), plain.forward(x);
            a.step(stepped, x, dy);
            plain.backward(x, dy);
            b.step(plain);
            plain.zero_grad();
        }
        const auto p = flat(stepped), q = flat(plain);
        REQUIRE(p.size() == q.size());
        double worst = 0;
        for (std::size_t i = 0; i < p.size(); ++i) worst = std::max(worst, std::abs(p[i] - q[i]));
        CHECK(worst < 1e-12);
        CHECK(p != flat(*std::make_unique<Net>(9)));  // it trained
        for (double g : flat(stepped, true)) CHECK(g == 0);
    };
    train([] { return SGD<double>({.learning_rate = 0.1, .momentum = 0.9}); });
    train([] { return SGD<double>({.learning_rate = 0.1}); });
    train([] { return AdamW<double>({.learning_rate = 0.01}); });
}

TEST_CASE("a Parallel's tensors are named by path index, as a PyTorch nn.ModuleList subclass names them",
          "[parallel][names]") {
    Sequential<Dense<float, 4, 4>,
               Parallel<Concat, Dense<float, 4, 3>, Sequential<Dense<float, 4, 5>, ReLU, Dense<float, 5, 2>>>,
               Dense<float, 5, 1>>
        model(1);
    std::vector<std::string> names;
    detail::visit_tensors(model, "", [&](const TensorView<float>& t) { names.push_back(t.name); });
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.1.0.weight",
                                            "1.1.0.bias", "1.1.2.weight", "1.1.2.bias", "2.weight", "2.bias"});
}

TEST_CASE("Parallel predicts what forward computes, and checks its input", "[parallel][predict]") {
    Wide wide(2);
    const Batch<double, 4> x = random_batch<4>(5, 6);
    const Batch<double, 5> y = wide.forward(x);
    Wide::Workspace ws;
    CHECK(std::as_const(wide).predict(x, ws) == y);
    CHECK_THROWS_WITH(wide.forward(random_batch<3>(2, 1)),
                      Catch::Matchers::Contains("Dense<In=4,Out=3>::forward: input has 3 rows, expected 4"));
}
