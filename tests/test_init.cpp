// Weight initialisers: each scheme's distribution checked statistically (mean, variance, bound,
// kurtosis tell uniform from normal), orthogonal matrices orthonormal, a scheme for a whole model
// (nested compositions included), a user's own function, and the default draw unchanged.
#include "test_util.hpp"

#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/attention.hpp>
#include <neuronka/layers/dense.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace neuronka;

namespace {
struct Moments {
    double mean, variance, kurtosis, largest;
};
Moments moments(const Eigen::MatrixXd& w) {
    const double n = double(w.size()), mean = w.mean();
    const Eigen::ArrayXXd d = w.array() - mean;
    const double var = d.square().sum() / n;
    return {mean, var, d.square().square().sum() / n / (var * var), w.cwiseAbs().maxCoeff()};
}
}  // namespace

TEST_CASE("each initialiser draws the distribution it names", "[init]") {
    // W is 200 × 300 (fan_out 200, fan_in 300): 60,000 draws; the sample variance is within 0.6 %
    // (one standard error) of the truth, so 3 % is more than five standard errors
    const double fan_in = 300, fan_out = 200;
    struct Case {
        Init scheme;
        double variance;
        bool uniform;
    };
    const Case cases[] = {
        {Init::xavier_uniform, 2 / (fan_in + fan_out), true},
        {Init::xavier_normal, 2 / (fan_in + fan_out), false},
        {Init::he_uniform, 2 / fan_in, true},
        {Init::he_normal, 2 / fan_in, false},
        {Init::lecun_uniform, 1 / fan_in, true},
        {Init::lecun_normal, 1 / fan_in, false},
    };
    for (const Case& c : cases) {
        INFO("scheme " << int(c.scheme));
        Dense<double, 300, 200> layer(0);
        Rng rng(11);
        layer.init(rng, c.scheme);
        const Moments m = moments(layer.W);
        CHECK(std::abs(m.mean) < 4 * std::sqrt(c.variance / 60000));
        CHECK(m.variance == Approx(c.variance).epsilon(0.03));
        CHECK(layer.b.isZero());
        if (c.uniform) {
            CHECK(m.kurtosis == Approx(1.8).margin(0.05));         // a uniform's kurtosis is 9/5
            CHECK(m.largest <= std::sqrt(3 * c.variance));         // within its bound
            CHECK(m.largest > 0.999 * std::sqrt(3 * c.variance));  // and reaching it
        } else {
            CHECK(m.kurtosis == Approx(3).margin(0.15));     // a normal's is 3
            CHECK(m.largest > 3.5 * std::sqrt(c.variance));  // tails a uniform of that variance lacks
        }
    }
    Dense<float, 30, 20> z(3);
    Rng rng(1);
    z.init(rng, Init::zeros);
    CHECK(z.W.isZero());
}

TEST_CASE("orthogonal weights have orthonormal columns, or rows when wider than tall", "[init]") {
    Rng rng(5);
    Dense<double, 30, 50> tall(0);  // W: 50 × 30
    tall.init(rng, Init::orthogonal);
    CHECK((Eigen::MatrixXd(tall.W).transpose() * Eigen::MatrixXd(tall.W) - Eigen::MatrixXd::Identity(30, 30))
              .cwiseAbs()
              .maxCoeff() < 1e-12);
    Dense<double, 50, 30> wide(0);  // W: 30 × 50
    wide.init(rng, Init::orthogonal);
    CHECK((Eigen::MatrixXd(wide.W) * Eigen::MatrixXd(wide.W).transpose() - Eigen::MatrixXd::Identity(30, 30))
              .cwiseAbs()
              .maxCoeff() < 1e-12);
    Dense<float, 8, 8> square(0), other(0);
    Rng a(1), b(2);
    square.init(a, Init::orthogonal), other.init(b, Init::orthogonal);
    CHECK((Eigen::MatrixXf(square.W) * Eigen::MatrixXf(square.W).transpose()).isIdentity(1e-5f));
    CHECK(!square.W.isApprox(other.W));  // random: two seeds, two matrices
}

TEST_CASE("one scheme for a whole model, nested compositions included; the default is unchanged", "[init]") {
    using Model = Sequential<Dense<double, 200, 300>, ReLU, Residual<Dense<double, 300, 300>, Tanh>,
                             Attention<double, 300, 3>, Dense<double, 300, 10>>;
    Model model(1);
    Rng rng(2);
    model.init(rng, Init::lecun_normal);
    CHECK(moments(model.layer<0>().W).variance == Approx(1.0 / 200).epsilon(0.05));
    CHECK(moments(model.layer<2>().layer<0>().W).variance == Approx(1.0 / 300).epsilon(0.05));
    CHECK(moments(model.layer<3>().qkv.W).variance == Approx(1.0 / 300).epsilon(0.05));
    CHECK(moments(model.layer<4>().W).variance == Approx(1.0 / 300).epsilon(0.1));
    CHECK(moments(model.layer<4>().W).kurtosis > 2.5);  // normal, not the default's uniform

    // the default: He before a ReLU, Xavier elsewhere, inside the Residual too — as init(rng) drew it before
    Model fresh(1);
    Rng r1(3), r2(3);
    fresh.init(r1);
    Dense<double, 200, 300> first(0);
    first.init(r2, Init::he);
    CHECK(fresh.layer<0>().W == first.W);
    Dense<double, 300, 300> inner(0);
    inner.init(r2, Init::xavier);
    CHECK(fresh.layer<2>().layer<0>().W == inner.W);
}

TEST_CASE("a user's own initialisation sees every parameter with its name and shape", "[init]") {
    Sequential<Dense<float, 4, 3>, Tanh, Dense<float, 3, 2>> model(1);
    int weights = 0;
    initialise_parameters(model, 9, [&](ParamView<float>& p, Rng& rng) {
        if (p.name == std::string("bias")) {
            p.value.setConstant(0.5f);
        } else {  // the weight as its matrix: rows × cols, column by column
            Eigen::Map<Eigen::MatrixXf> w(p.value.data(), p.layout.rows, p.layout.cols);
            initialise(w, rng, Init::orthogonal);
            ++weights;
        }
    });
    CHECK(weights == 2);
    CHECK(model.layer<0>().b.isConstant(0.5f));
    CHECK((Eigen::MatrixXf(model.layer<0>().W) * Eigen::MatrixXf(model.layer<0>().W).transpose()).isIdentity(1e-5f));
    CHECK((Eigen::MatrixXf(model.layer<2>().W) * Eigen::MatrixXf(model.layer<2>().W).transpose()).isIdentity(1e-5f));
}
