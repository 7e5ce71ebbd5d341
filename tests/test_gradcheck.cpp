// Every layer, activation and loss: analytic gradients against central differences, in double.
#include "test_util.hpp"

#include "fixture.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

using namespace neuronka;

TEST_CASE("Dense gradients match finite differences", "[gradcheck][dense]") {
    SECTION("small, fixed-size storage and coefficient-based products") {
        Dense<double, 3, 4> d(7);
        d.b.setConstant(0.3);
        check_layer_gradients(d, random_batch<3>(5, 1, -2, 2));
    }
    SECTION("large, heap storage and blocked GEMM") {
        Dense<double, 40, 30> d(8);
        check_layer_gradients(d, random_batch<40>(17, 2, -2, 2));
    }
    SECTION("batch of one") {
        Dense<double, 5, 2> d(9);
        check_layer_gradients(d, random_batch<5>(1, 3, -2, 2));
    }
    SECTION("without a bias: small and large") {
        Dense<double, 3, 4, false> small(10);
        check_layer_gradients(small, random_batch<3>(5, 4, -2, 2));
        Dense<double, 40, 30, false> large(11);
        check_layer_gradients(large, random_batch<40>(7, 5, -2, 2));
    }
}

TEMPLATE_TEST_CASE("activation gradients match finite differences", "[gradcheck][activation]", Identity, Tanh, Sigmoid,
                   GELU) {
    Activation<double, 6, TestType> a;
    check_layer_gradients(a, random_batch<6>(4, 11, -3, 3));
}

TEST_CASE("ReLU gradient matches finite differences away from the kink", "[gradcheck][activation]") {
    Activation<double, 6, ReLU> a;
    Batch<double, 6> x = random_batch<6>(4, 12, 0.1, 2);
    x.col(1) *= -1;  // half the inputs negative, none within the difference step of 0
    x.col(3) *= -1;
    check_layer_gradients(a, x);
}

TEST_CASE("Neuron gradients match finite differences", "[gradcheck][neuron]") {
    Neuron<double, 1> line(3);
    check_layer_gradients(line, random_batch<1>(8, 4, -2, 2));
    Neuron<double, 4, Sigmoid> unit(5);
    check_layer_gradients(unit, random_batch<4>(6, 5, -2, 2));
}

TEST_CASE("Sequential gradients match finite differences", "[gradcheck][sequential]") {
    Sequential<Dense<double, 3, 8>, Tanh, Dense<double, 8, 8>, GELU, Dense<double, 8, 2>, Sigmoid> mlp(21);
    check_layer_gradients(mlp, random_batch<3>(5, 6, -2, 2));
}

TEST_CASE("loss gradients match finite differences", "[gradcheck][loss]") {
    const Batch<double, 4> z = random_batch<4>(6, 31, -3, 3);
    SECTION("mean squared error") {
        MeanSquaredError<double, 4> mse;
        const GradcheckResult r = gradcheck_loss(mse, z, random_batch<4>(6, 32, -2, 2));
        CHECK(r.checked == 24);
        CHECK(r.worst_relative_error < gradcheck_tolerance);
    }
    SECTION("softmax cross-entropy") {
        SoftmaxCrossEntropy<double, 4> ce;
        const std::vector<int> labels{0, 3, 1, 2, 2, 0};
        const GradcheckResult r = gradcheck_loss(ce, z, std::span<const int>(labels));
        CHECK(r.worst_relative_error < gradcheck_tolerance);
    }
    SECTION("softmax cross-entropy with label smoothing and class weights") {
        SoftmaxCrossEntropy<double, 4> ce({.label_smoothing = 0.2, .class_weights = {0.5, 2, 1, 0.1}});
        const std::vector<int> labels{0, 3, 1, 2, 2, 0};
        const GradcheckResult r = gradcheck_loss(ce, z, std::span<const int>(labels));
        CHECK(r.worst_relative_error < gradcheck_tolerance);
    }
    SECTION("binary cross-entropy with logits") {
        BinaryCrossEntropyWithLogits<double, 4> bce;
        const GradcheckResult r = gradcheck_loss(bce, z, random_batch<4>(6, 33, 0, 1));
        CHECK(r.worst_relative_error < gradcheck_tolerance);
    }
}

TEST_CASE("cross-entropy with label smoothing and class weights, softmax and log_softmax match PyTorch",
          "[loss][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/cross_entropy_fixture.txt");
    const Eigen::Map<const Eigen::MatrixXd> z(f.get("z").data(), 5, 7);
    std::vector<int> labels;
    for (double l : f.get("labels")) labels.push_back(int(l));
    const std::vector<double>& w = f.get("weights");
    const std::pair<const char*, CrossEntropyOptions<double>> cases[] = {
        {"plain", {}},
        {"smoothing", {.label_smoothing = 0.1}},
        {"weights", {.class_weights = w}},
        {"both", {.label_smoothing = 0.25, .class_weights = w}},
    };
    for (const auto& [name, options] : cases) {
        INFO(name);
        SoftmaxCrossEntropy<double, 5> ce(options);
        const double loss = ce.forward(z, labels);
        CHECK(std::abs(loss - f.get(std::string(name) + "_loss")[0]) < 1e-13 * std::abs(loss));
        CHECK(max_relative_difference(ce.backward().data(), f.get(std::string(name) + "_grad")) < 1e-12);
    }
    CHECK(max_relative_difference(softmax(z).data(), f.get("softmax")) < 1e-13);
    CHECK(max_relative_difference(log_softmax(z).data(), f.get("log_softmax")) < 1e-12);
    Eigen::MatrixXd p(5, 7);  // into a buffer of the right shape: no allocation
    softmax(z, p);
    CHECK(p.colwise().sum().isOnes(1e-15));

    CHECK_THROWS_WITH((SoftmaxCrossEntropy<double, 5>({.label_smoothing = 1})),
                      Catch::Matchers::Contains("label_smoothing is 1, expected 0 <= label_smoothing < 1"));
    CHECK_THROWS_WITH((SoftmaxCrossEntropy<double, 5>({.class_weights = {1, 2}})),
                      Catch::Matchers::Contains("SoftmaxCrossEntropy: class_weights has 2 weights, expected 5"));
    CHECK_THROWS_WITH((SoftmaxCrossEntropy<double, 5>({.class_weights = {1, 1, -1, 1, 1}})),
                      Catch::Matchers::Contains("class weight 2 is -1"));
    SoftmaxCrossEntropy<double, 5> zero({.class_weights = {0, 0, 0, 0, 0}});
    CHECK_THROWS_WITH(zero.forward(z, labels),
                      Catch::Matchers::Contains("every label in the batch has class weight 0"));
}

namespace {
struct BrokenDense : Dense<double, 2, 2> {
    using Dense::Dense;
    template <class X, class Y>
    const Batch<double, 2>& backward(const Eigen::MatrixBase<X>& x, const Eigen::MatrixBase<Y>& dy) {
        const auto& dx = Dense::backward(x, dy);
        visit_parameters([](ParamView<double> p) {  // the bug: the bias gradient is lost
            if (p.name == std::string("bias")) p.grad.setZero();
        });
        return dx;
    }
};
}  // namespace

TEST_CASE("the checker finds a wrong gradient", "[gradcheck]") {
    // A layer whose backward loses the bias gradient must be reported, with the place.
    BrokenDense broken;
    const GradcheckResult r = gradcheck(broken, random_batch<2>(3, 41, -2, 2));
    CHECK(r.worst_relative_error > 0.5);
    CHECK(r.where.rfind("bias[", 0) == 0);
}
