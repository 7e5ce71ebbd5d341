// RMSNorm, the reference layer (CONTRIBUTING.md, "Adding a layer"): its tests are the list every new
// layer's tests follow. Gradients against finite differences in double; forward and backward against
// the naive loops in float and double; PyTorch's numbers (fixture); predict is forward; errors name
// the layer; its one tensor is named as PyTorch names it in checkpoints and safetensors files.
// (Its steady-state training step allocating nothing is in test_allocation.cpp, with the other layers.)
#include "fixture.hpp"
#include "naive.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

#include <neuronka/compose/sequential.hpp>
#include <neuronka/io/serialize.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/rms_norm.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace neuronka;
using Catch::Matchers::Contains;

static_assert(Layer<RMSNorm<float, 16>> && Layer<RMSNorm<double, 1>>);
static_assert(RMSNorm<float, 16>::parameter_count == 16 && RMSNorm<float, 16>::cost(1).parameters == 16);

TEST_CASE("RMSNorm gradients match finite differences", "[rms_norm][gradcheck]") {
    RMSNorm<double, 6> norm;
    norm.g = random_batch<6>(1, 1, 0.5, 1.5);  // a gain that is not all ones
    check_layer_gradients(norm, random_batch<6>(5, 2, -2, 2));
    SECTION("one feature, and inside a model") {
        RMSNorm<double, 1> one;
        check_layer_gradients(one, random_batch<1>(4, 3, 0.5, 2));
        Sequential<Dense<double, 3, 5>, RMSNorm<double, 5>, Tanh, Dense<double, 5, 2>> model(4);
        check_layer_gradients(model, random_batch<3>(6, 5, -2, 2));
    }
}

TEMPLATE_TEST_CASE("RMSNorm matches the naive loops", "[rms_norm][reference]", float, double) {
    using T = TestType;
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    RMSNorm<T, 7> norm;
    norm.g = random_batch<7, T>(1, 11, 0.5, 1.5);
    const Batch<T, 7> x = random_batch<7, T>(9, 12, -3, 3), dy = random_batch<7, T>(9, 13);
    const naive::M xd = x.template cast<double>(), dyd = dy.template cast<double>();
    const naive::V gd = norm.g.template cast<double>();
    const double eps = double(norm.eps);
    CHECK((norm.forward(x).template cast<double>() - naive::rms_norm(xd, gd, eps)).cwiseAbs().maxCoeff() < tol);
    naive::V dg;
    const naive::M dx = naive::rms_norm_backward(xd, gd, eps, dyd, dg);
    norm.zero_grad();
    CHECK((norm.backward(x, dy).template cast<double>() - dx).cwiseAbs().maxCoeff() < tol);
    CHECK((norm.dg.template cast<double>() - dg).cwiseAbs().maxCoeff() < tol);
    norm.backward(x, dy);  // gradients accumulate
    CHECK((norm.dg.template cast<double>() - 2 * dg).cwiseAbs().maxCoeff() < 2 * tol);
    SECTION("each column on its own: a column scaled by k gives the same output, up to ε") {
        Batch<T, 7> scaled = x;
        scaled.col(3) *= T(4);
        const Batch<T, 7> y = norm.forward(x), ys = norm.forward(scaled);
        CHECK((ys.col(3) - y.col(3)).cwiseAbs().maxCoeff() < 1e-5);  // ε / mean(x²) relative
        CHECK(ys.col(2) == y.col(2));
    }
}

TEST_CASE("RMSNorm matches PyTorch's nn.RMSNorm", "[rms_norm][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/rms_norm_fixture.txt");
    REQUIRE(f.header == std::vector<int>{1, 8, 5});  // Dim, B
    RMSNorm<double, 8> norm;
    norm.eps = f.get("eps")[0];
    const Eigen::Map<const Batch<double, 8>> x(f.get("x").data(), 8, 5), R(f.get("R").data(), 8, 5);
    norm.visit_parameters([&](ParamView<double> p) {
        REQUIRE(std::string(p.name) == "weight");
        const auto& values = f.get("param weight");
        REQUIRE(std::size_t(p.value.size()) == values.size());
        std::copy(values.begin(), values.end(), p.value.begin());
    });
    norm.zero_grad();
    const Batch<double, 8>& y = norm.forward(x);
    CHECK(max_relative_difference(y.data(), f.get("y")) < 1e-12);
    const Batch<double, 8>& dx = norm.backward(x, R);  // the loss is sum(y ⊙ R)
    CHECK(max_relative_difference(dx.data(), f.get("dx")) < 1e-10);
    CHECK(max_relative_difference(norm.dg.data(), f.get("grad weight")) < 1e-10);
}

TEST_CASE("RMSNorm predicts what forward computes, from a const layer", "[rms_norm][predict]") {
    Sequential<Dense<float, 4, 8>, RMSNorm<float, 8>, ReLU, Dense<float, 8, 2>> model(3);
    static_assert(decltype(model)::can_predict);
    const Batch<float, 4> x = random_batch<4, float>(10, 21, -2, 2);
    const Batch<float, 2> trained = model.forward(x);
    typename decltype(model)::Workspace ws;
    CHECK(std::as_const(model).predict(x, ws) == trained);
    CHECK(std::as_const(model).predict(x, ws) == trained);  // a reused workspace
}

TEST_CASE("RMSNorm errors name the layer, the expected and the actual sizes", "[rms_norm][errors]") {
    RMSNorm<float, 4> norm;
    CHECK_THROWS_WITH(norm.forward(Eigen::MatrixXf::Ones(3, 2)),
                      Contains("RMSNorm<Dim=4>::forward") && Contains("input has 3 rows, expected 4"));
    norm.forward(Eigen::MatrixXf::Ones(4, 2));
    CHECK_THROWS_WITH(norm.backward(Eigen::MatrixXf::Ones(4, 2), Eigen::MatrixXf::Ones(4, 3)),
                      Contains("RMSNorm<Dim=4>::backward"));
    Eigen::MatrixXf bad = Eigen::MatrixXf::Ones(4, 2);
    bad(1, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(norm.forward(bad), Contains("RMSNorm<Dim=4>::forward") && Contains("nan"));
}

TEST_CASE("RMSNorm's gain is one tensor, named as PyTorch names it", "[rms_norm][serialize]") {
    using Model = Sequential<Dense<float, 3, 4>, RMSNorm<float, 4>, Dense<float, 4, 2>>;
    Model saved(1), loaded(2);
    saved.layer<1>().g = random_batch<4, float>(1, 31, 0.5, 1.5);
    std::vector<std::string> names;
    for (const TensorView<float>& t : state_tensors(saved)) names.push_back(t.name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "2.weight", "2.bias"});
    const std::string path = test::temp_path("rms_norm.nkpt");
    save(saved, path);
    load(loaded, path);
    CHECK(loaded.layer<1>().g == saved.layer<1>().g);
}
