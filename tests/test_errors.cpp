// Bad input gets a clear exception naming the layer and the values, never undefined behaviour.

// The documented hook: a program may route neuronka's internal invariant checks elsewhere by defining
// NEURONKA_ASSERT before including neuronka (here, to throw; the last test case triggers one).
#include <stdexcept>
struct InvariantBroken : std::logic_error {
    using std::logic_error::logic_error;
};
#define NEURONKA_ASSERT(cond, msg) ((cond) ? void(0) : throw InvariantBroken(msg))

#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/core/products.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/train/gradients.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <limits>

using namespace neuronka;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

TEST_CASE("names carry every size of the type; a composite lists its layers", "[errors][names]") {
    // the names every message and summary shows, built by one function for all layers and sizes
    CHECK(Dense<float, 784, 256>::name() == "Dense<In=784,Out=256>");
    CHECK(Dense<double, 3, 1, false>::name() == "Dense<In=3,Out=1,NoBias>");
    CHECK(Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 1>>::name() ==
          "Sequential<Dense<In=2,Out=16>, Tanh<N=16>, Dense<In=16,Out=1>>");
    CHECK(Sequential<Dense<float, 5, 5>>::member_names() == "Dense<In=5,Out=5>");
}

TEST_CASE("wrong input shapes throw with the layer, expected and actual sizes", "[errors][shape]") {
    Dense<float, 4, 8> dense;
    const Eigen::MatrixXf x3(3, 5);
    CHECK_THROWS_AS(dense.forward(x3), std::invalid_argument);
    CHECK_THROWS_WITH(dense.forward(x3), Contains("Dense<In=4,Out=8>::forward: input has 3 rows, expected 4"));

    SECTION("an empty batch") {
        const Eigen::MatrixXf empty(4, 0);
        CHECK_THROWS_WITH(dense.forward(empty), Contains("Dense<In=4,Out=8>::forward: input batch is empty"));
    }
    SECTION("a model names the layer that got the wrong size") {
        Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 1>> mlp;
        CHECK_THROWS_WITH(mlp.forward(Eigen::MatrixXf(5, 2)),
                          Contains("Dense<In=2,Out=16>::forward: input has 5 rows, expected 2"));
    }
    SECTION("backward with a gradient of the wrong size or width") {
        const Eigen::MatrixXf x(4, 5);
        dense.forward(x);
        CHECK_THROWS_WITH(dense.backward(x, Eigen::MatrixXf(7, 5)),
                          Contains("Dense<In=4,Out=8>::backward: output gradient has 7 rows, expected 8"));
        CHECK_THROWS_WITH(dense.backward(x, Eigen::MatrixXf(8, 2)),
                          Contains("Dense<In=4,Out=8>::backward: output gradient has 2 columns, expected 5"));
    }
    SECTION("backward on another batch than forward saw") {
        Activation<float, 4, Tanh> tanh_;
        tanh_.forward(Eigen::MatrixXf::Zero(4, 5));
        CHECK_THROWS_WITH(tanh_.backward(Eigen::MatrixXf::Zero(4, 3), Eigen::MatrixXf::Zero(4, 3)),
                          Contains("Tanh<N=4>::backward: input has 3 columns, expected 5"));
    }
}

TEST_CASE("bad labels and targets throw", "[errors][loss]") {
    SoftmaxCrossEntropy<float, 3> ce;
    const Batch<float, 3> z = Batch<float, 3>::Zero(3, 2);
    const std::vector<int> too_big{0, 3}, negative{-1, 0}, too_few{1};
    CHECK_THROWS_WITH(ce.forward(z, too_big),
                      Contains("SoftmaxCrossEntropy::forward: label 3 at column 1 is out of range [0, 3)"));
    CHECK_THROWS_WITH(ce.forward(z, negative), Contains("label -1 at column 0 is out of range"));
    CHECK_THROWS_WITH(ce.forward(z, too_few),
                      Contains("SoftmaxCrossEntropy::forward: label list has 1 labels, expected 2"));

    BinaryCrossEntropyWithLogits<float, 1> bce;
    CHECK_THROWS_WITH(bce.forward(Batch<float, 1>::Zero(1, 2), Batch<float, 1>::Constant(1, 2, 2.0f)),
                      Contains("a target lies outside [0, 1]"));
    MeanSquaredError<float, 1> mse;
    CHECK_THROWS_WITH(mse.forward(Batch<float, 1>::Zero(1, 2), Batch<float, 1>::Zero(1, 3)),
                      Contains("MeanSquaredError::forward: target has 3 columns, expected 2"));
    // a wrong row count is named as rows, not as columns
    MeanSquaredError<float, 2> mse2;
    CHECK_THROWS_WITH(mse2.forward(Batch<float, 2>::Zero(2, 3), Eigen::MatrixXf::Zero(1, 3)),
                      Contains("MeanSquaredError::forward: target has 1 rows, expected 2"));
    BinaryCrossEntropyWithLogits<float, 2> bce2;
    CHECK_THROWS_WITH(bce2.forward(Batch<float, 2>::Zero(2, 3), Eigen::MatrixXf::Zero(3, 3)),
                      Contains("BinaryCrossEntropyWithLogits::forward: target has 3 rows, expected 2"));
    Embedding<float, 5, 4> emb;
    const std::vector<int> ids{1, 2, 3};
    emb.forward(ids);
    CHECK_THROWS_WITH(emb.backward(ids, Eigen::MatrixXf::Zero(3, 3)),
                      Contains("::backward: output gradient has 3 rows, expected 4"));
}

TEST_CASE("non-finite losses throw", "[errors][loss]") {
    MeanSquaredError<float, 1> mse;
    Batch<float, 1> y = Batch<float, 1>::Zero(1, 2);
    y(1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(mse.forward(y, Batch<float, 1>::Zero(1, 2)), std::domain_error);
    CHECK_THROWS_WITH(mse.forward(y, Batch<float, 1>::Zero(1, 2)),
                      Contains("MeanSquaredError::forward: input has a non-finite value (nan) at row 0, column 1"));
    // finite predictions whose loss overflows
    const Batch<float, 1> big = Batch<float, 1>::Constant(1, 2, 3e38f), small = Batch<float, 1>::Constant(1, 2, -3e38f);
    CHECK_THROWS_WITH(mse.forward(big, small), Contains("MeanSquaredError: the loss is inf"));
    SoftmaxCrossEntropy<float, 2> ce;
    Batch<float, 2> z = Batch<float, 2>::Zero(2, 1);
    z(0) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(ce.forward(z, std::vector<int>{1}), std::domain_error);
}

TEST_CASE("bad optimiser settings throw", "[errors][sgd]") {
    CHECK_THROWS_WITH(SGD<float>({.learning_rate = 0}), Contains("SGD: learning_rate is 0, expected"));
    CHECK_THROWS_WITH(SGD<float>({.momentum = 1}), Contains("expected 0 <= momentum < 1"));
    CHECK_THROWS_WITH(SGD<float>({.nesterov = true}), Contains("Nesterov momentum needs momentum > 0"));
    CHECK_THROWS_WITH(SGD<float>({.weight_decay = -1}), Contains("weight_decay is -1,"));
    // small and fractional values print as written, not as 0.000000
    CHECK_THROWS_WITH(SGD<float>({.learning_rate = -1e-9f}), Contains("learning_rate is -1e-09, expected"));
    CHECK_THROWS_WITH(SGD<double>({.learning_rate = 0.01, .momentum = 1.5}), Contains("momentum is 1.5, expected"));

    SECTION("one optimiser used on two different models") {
        Sequential<Dense<float, 2, 4>, Dense<float, 4, 1>> a;
        Sequential<Dense<float, 2, 5>, Dense<float, 5, 1>> b;
        SGD<float> opt({.learning_rate = 0.1f, .momentum = 0.9f});
        opt.step(a);
        CHECK_THROWS_WITH(opt.step(b), Contains("SGD::step: parameter 0 (weight) has 10 elements, expected 8"));
    }
}

TEST_CASE("Rng::below rejects an empty range", "[errors][random]") {
    Rng rng(1);
    CHECK_THROWS_WITH(rng.below(0), Equals("Rng::below: n is 0, expected at least 1"));
}

template <class Scalar>
void check_finite_scan() {
    using L = std::numeric_limits<Scalar>;
    const Scalar bad[] = {L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN(), L::signaling_NaN()};
    const Scalar fine[] = {Scalar(0), -Scalar(0), L::max(), L::lowest(), L::denorm_min(), -L::denorm_min(), L::min()};
    for (Eigen::Index n = 1; n <= 70; ++n) {  // past every vector width, with tails of every length
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> v = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>::LinSpaced(n, -3, 3);
        for (Eigen::Index i = 0; i < n; ++i) v(i) = fine[std::size_t(i) % std::size(fine)];
        INFO("n = " << n);
        CHECK(detail::all_finite_values(v.data(), n));
        for (Eigen::Index at : {Eigen::Index(0), n / 2, n - 1})
            for (Scalar b : bad) {
                const Scalar kept = v(at);
                v(at) = b;
                INFO("value " << b << " at " << at);
                CHECK_FALSE(detail::all_finite_values(v.data(), n));
                CHECK_FALSE(detail::all_finite(v));
                v(at) = kept;
            }
    }
    CHECK(detail::all_finite_values(static_cast<const Scalar*>(nullptr), 0));  // nothing to scan
}

TEST_CASE("the finite scan finds inf and NaN of either sign anywhere, and passes every finite value",
          "[errors][finite]") {
    check_finite_scan<float>();
    check_finite_scan<double>();
}

TEST_CASE("non-finite inputs and gradients stop with the layer and the step", "[errors][finite]") {
    Sequential<Dense<float, 2, 4>, Tanh, Dense<float, 4, 1>> mlp;
    Batch<float, 2> x = Batch<float, 2>::Zero(2, 3);
    x(1, 2) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(mlp.forward(x), std::domain_error);
    CHECK_THROWS_WITH(mlp.forward(x),
                      Contains("Dense<In=2,Out=4>::forward: input has a non-finite value (inf) at row 1, column 2"));

    SECTION("a non-finite output gradient entering the model") {
        mlp.forward(Batch<float, 2>::Ones(2, 3));
        Batch<float, 1> dy = Batch<float, 1>::Ones(1, 3);
        dy(0, 1) = std::numeric_limits<float>::quiet_NaN();
        CHECK_THROWS_WITH(mlp.backward(Batch<float, 2>::Ones(2, 3), dy),
                          Contains("::backward: output gradient has a non-finite value (nan) at row 0, column 1"));
    }
    SECTION("a diverged weight: the model names the first layer whose output went bad") {
        mlp.layer<2>().W(0, 0) = std::numeric_limits<float>::quiet_NaN();
        const Batch<float, 2> ok = Batch<float, 2>::Ones(2, 3);
        CHECK_THROWS_AS(mlp.forward(ok), std::domain_error);
        CHECK_THROWS_WITH(mlp.forward(ok),
                          Contains("::forward: the output of layer 2 (Dense<In=4,Out=1>) has a "
                                   "non-finite value (nan) at row 0, column 0. Hint: its parameter weight "
                                   "has 1 non-finite value: training diverged"));
    }
    SECTION("overflow inside a model, with finite parameters") {
        Sequential<Dense<float, 1, 1>, ReLU, Dense<float, 1, 1>> deep;
        deep.layer<0>().W(0, 0) = 1e30f, deep.layer<2>().W(0, 0) = 1e30f;
        CHECK_THROWS_WITH(deep.forward(Batch<float, 1>::Constant(1, 2, 1e10f)),
                          Contains("the output of layer 0 (Dense<In=1,Out=1>) has a non-finite value (inf) at row 0, "
                                   "column 0. Hint: its input was finite and its parameters are"));
    }
    SECTION("a non-finite gradient stops training with the step and the parameter") {
        const Batch<float, 2> ok = Batch<float, 2>::Ones(2, 3);
        mlp.zero_grad();
        mlp.forward(ok);
        mlp.backward(ok, Batch<float, 1>::Ones(1, 3));
        CHECK_NOTHROW(check_finite_gradients(mlp, 11));
        mlp.visit_parameters([](ParamView<float> p) {
            if (p.grad.size() == 8) p.grad(5) = std::numeric_limits<float>::infinity();  // the first W
        });
        CHECK_THROWS_WITH(check_finite_gradients(mlp, 12),
                          Contains("step 12: the gradient of parameter 0 (weight, 8 values) is not finite"));
    }
}

TEST_CASE("a loss names the position of a non-finite prediction only when its value is not finite",
          "[errors][finite]") {
    SoftmaxCrossEntropy<float, 3> ce;
    Batch<float, 3> z = Batch<float, 3>::Zero(3, 4);
    z(2, 3) = -std::numeric_limits<float>::infinity();  // a prediction of -inf for a class not asked: loss is finite
    CHECK_NOTHROW(ce.forward(z, std::vector<int>{0, 1, 2, 0}));
    z(1, 2) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(ce.forward(z, std::vector<int>{0, 1, 2, 0}),
                      Contains("SoftmaxCrossEntropy::forward: input has a non-finite value (nan) at row 1, column 2"));
}

TEST_CASE("a program that defines NEURONKA_ASSERT gets neuronka's internal checks through it", "[errors][assert]") {
    // A product whose sizes disagree is an internal error (layers check user input before it): the
    // program's own NEURONKA_ASSERT reports it, here by throwing.
    Gemm<double> gemm;
    Eigen::MatrixXd c(2, 2), a(2, 3), b(2, 2);
    CHECK_THROWS_AS(gemm.set(c, a, b), InvariantBroken);
    CHECK_THROWS_WITH(gemm.set(c, a, b), Contains("Gemm: sizes"));
    a.resize(2, 2), a.setOnes(), b.setOnes();
    CHECK_NOTHROW(gemm.set(c, a, b));
    CHECK(c(1, 1) == 2);
}
