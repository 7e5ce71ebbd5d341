// The image layers (Conv2D, MaxPool2D, AvgPool2D) and Dropout: gradients against finite differences
// in double, the fast paths against naive loops, costs against counted multiply-adds, modes,
// reproducibility and error messages.
#include "fixture.hpp"
#include "naive.hpp"
#include "test_util.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/io/serialize.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/batch_norm.hpp>
#include <neuronka/layers/conv2d.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/dropout.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/layers/pool.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <thread>

using namespace neuronka;
using Catch::Matchers::Contains;

static_assert(Layer<Conv2D<float, 1, 4, 3, 8, 8>>);
static_assert(Layer<Conv2D<double, 3, 2, 5, 9, 7, 2, 2>>);
static_assert(Layer<MaxPool2D<float, 4, 6, 6, 2>>);
static_assert(Layer<AvgPool2D<double, 2, 5, 5, 3, 1>>);
static_assert(Layer<DropoutLayer<float, 10, 1, 2>>);
static_assert(Layer<Sequential<Conv2D<float, 1, 4, 3, 8, 8>, ReLU, MaxPool2D<float, 4, 6, 6, 2>, Dense<float, 36, 3>>>);
static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::declval<Sequential<Dense<float, 4, 8>, Dropout<1, 4>>&>()
                                                              .template layer<1>())>,
                             DropoutLayer<float, 8, 1, 4>>);

namespace {
template <class T>
double tol() {
    return std::is_same_v<T, float> ? 1e-4 : 1e-12;
}

// Conv2D against naive::conv2d_forward / conv2d_backward, and its cost against the naive loop's count.
template <class T, int C, int Cout, int K, int H, int W, int S, int P>
void compare_conv(int batch) {
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using V = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    using L = Conv2D<T, C, Cout, K, H, W, S, P>;
    L conv(11);
    conv.b = random_batch<Cout, T>(1, 12);
    const M x = random_batch<L::in_size, T>(batch, 13), dy = random_batch<L::out_size, T>(batch, 14);
    const M Wm = conv.W;
    const V bias = conv.b;

    naive::macs = 0;
    const M y_ref = naive::conv2d_forward(Wm, bias, x, C, H, W, K, S, P);
    CHECK(2.0 * double(naive::macs) == L::cost().forward_flops * batch);
    const M y = conv.forward(x);
    REQUIRE(y.rows() == y_ref.rows());
    CHECK((y - y_ref).cwiseAbs().maxCoeff() < tol<T>() * L::patch);

    M dW, dx;
    V db;
    naive::conv2d_backward(Wm, x, dy, C, H, W, K, S, P, dW, db, dx);
    CHECK(L::cost().backward_flops == 2 * L::cost().forward_flops);  // dW and dx: each one forward's products
    conv.zero_grad();
    const M dx_fast = conv.backward(x, dy);
    const double scale = double(batch) * L::positions;
    CHECK((dx_fast - dx).cwiseAbs().maxCoeff() < tol<T>() * Cout * K * K);
    M dW_fast;
    V db_fast;
    conv.visit_parameters([&](ParamView<T> p) {
        if (p.name == std::string("weight"))
            dW_fast = Eigen::Map<M>(p.grad.data(), Cout, L::patch);
        else
            db_fast = p.grad.matrix();
    });
    CHECK((dW_fast - dW).cwiseAbs().maxCoeff() < tol<T>() * scale);
    CHECK((db_fast - db).cwiseAbs().maxCoeff() < tol<T>() * scale);

    conv.backward(x, dy);  // gradients accumulate
    conv.visit_parameters([&](ParamView<T> p) {
        if (p.name == std::string("weight"))
            CHECK((Eigen::Map<M>(p.grad.data(), Cout, L::patch) - 2 * dW).cwiseAbs().maxCoeff() < 2 * tol<T>() * scale);
    });

    // without the input gradient (the first layer of a model): the same parameter gradients, no dx
    L twin(11);
    twin.b = conv.b;
    twin.forward(x);
    twin.zero_grad();
    CHECK(twin.backward(x, dy, GradientSink<T>(false)) == nullptr);
    twin.visit_parameters([&](ParamView<T> p) {
        if (p.name == std::string("weight"))
            CHECK((Eigen::Map<M>(p.grad.data(), Cout, L::patch) - dW).cwiseAbs().maxCoeff() < tol<T>() * scale);
    });
}
}  // namespace

TEST_CASE("Conv2D gradients match finite differences", "[gradcheck][conv]") {
    SECTION("3x3, stride 1, no padding") {
        Conv2D<double, 2, 3, 3, 5, 6> conv(1);
        conv.b.setConstant(0.2);
        check_layer_gradients(conv, random_batch<60>(3, 2, -2, 2));
    }
    SECTION("stride 2, padding 1, a size the stride does not divide") {
        Conv2D<double, 2, 2, 3, 6, 5, 2, 1> conv(3);
        check_layer_gradients(conv, random_batch<60>(2, 4, -2, 2));
    }
    SECTION("1x1 kernel, batch of one") {
        Conv2D<double, 3, 4, 1, 3, 3> conv(5);
        check_layer_gradients(conv, random_batch<27>(1, 6, -2, 2));
    }
}

TEST_CASE("pooling gradients match finite differences", "[gradcheck][pool]") {
    SECTION("max, 2x2 windows") {
        MaxPool2D<double, 2, 4, 6, 2> pool;
        check_layer_gradients(pool, random_batch<48>(3, 7, -2, 2));
    }
    SECTION("max, overlapping 3x3 windows, stride 2") {
        MaxPool2D<double, 1, 7, 7, 3, 2> pool;
        check_layer_gradients(pool, random_batch<49>(2, 8, -2, 2));
    }
    SECTION("average, overlapping windows") {
        AvgPool2D<double, 2, 5, 4, 3, 1> pool;
        check_layer_gradients(pool, random_batch<40>(2, 9, -2, 2));
    }
}

TEST_CASE("a small CNN composes and its gradients match finite differences", "[gradcheck][conv]") {
    using Cnn = Sequential<Conv2D<double, 1, 3, 3, 6, 6, 1, 1>, Tanh, MaxPool2D<double, 3, 6, 6, 2>,
                           Conv2D<double, 3, 2, 2, 3, 3>, ReLU, AvgPool2D<double, 2, 2, 2, 2>, Dense<double, 2, 3>>;
    static_assert(Cnn::in_size == 36 && Cnn::out_size == 3);
    Cnn cnn(21);
    check_layer_gradients(cnn, random_batch<36>(3, 22, -2, 2));
}

TEMPLATE_TEST_CASE("Conv2D matches the naive loops, and its FLOPs are the loops' multiply-adds", "[reference][conv]",
                   float, double) {
    SECTION("5x5 on 12x12, 1 -> 4 channels") {
        compare_conv<TestType, 1, 4, 5, 12, 12, 1, 0>(5);
    }
    SECTION("3x3, padding 1 (same size)") {
        compare_conv<TestType, 3, 5, 3, 7, 9, 1, 1>(4);
    }
    SECTION("stride 2, padding 2") {
        compare_conv<TestType, 2, 3, 5, 11, 8, 2, 2>(3);
    }
    SECTION("Fashion-MNIST's first layer, blocked GEMM") {
        compare_conv<TestType, 1, 16, 5, 28, 28, 1, 2>(9);
    }
    SECTION("30 images in two products, of 26 and 4 images") {
        STATIC_REQUIRE(Conv2D<TestType, 16, 4, 5, 14, 14, 1, 2>::images_per_product == 26);
        compare_conv<TestType, 16, 4, 5, 14, 14, 1, 2>(30);
    }
}

TEMPLATE_TEST_CASE("pooling matches the naive loops", "[reference][pool]", float, double) {
    using T = TestType;
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const M x = random_batch<3 * 9 * 8, T>(4, 31);
    MaxPool2D<T, 3, 9, 8, 2> maxpool;
    AvgPool2D<T, 3, 9, 8, 3, 2> avgpool;
    CHECK((maxpool.forward(x) - naive::pool_forward(x, 3, 9, 8, 2, 2, true)).cwiseAbs().maxCoeff() == 0);
    CHECK((avgpool.forward(x) - naive::pool_forward(x, 3, 9, 8, 3, 2, false)).cwiseAbs().maxCoeff() < tol<T>());
    static_assert(decltype(maxpool)::out_size == 3 * 4 * 4 && decltype(avgpool)::out_size == 3 * 4 * 3);

    // max pooling's gradient goes to the maximum of each window, and only there
    const M dy = M::Ones(maxpool.out_size, 4);
    const M dx = maxpool.backward(x, dy);
    CHECK(dx.sum() == Approx(double(dy.size())));
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (Eigen::Index i = 0; i < x.rows(); ++i)
            if (dx(i, b) != 0) {
                const int c = int(i) / 72, h = int(i) % 72 / 8, w = int(i) % 8;
                if (h >= 8) continue;  // row 8 is in no window
                CHECK(x(i, b) == maxpool.output()((c * 4 + h / 2) * 4 + w / 2, b));
            }
}

TEST_CASE("Dropout: inverted dropout in training, the identity in evaluation, reproducible", "[dropout]") {
    using Model = Sequential<Dense<float, 20, 400>, Dropout<1, 4>>;
    const Batch<float, 20> x = random_batch<20, float>(50, 41);
    Model a(7), b(7), c(8);
    const Batch<float, 400> ya = a.forward(x), yb = b.forward(x), yc = c.forward(x);
    CHECK(ya == yb);  // same seed, same masks, bitwise
    CHECK(ya != yc);

    const auto& drop = a.layer<1>();
    const auto& z = a.layer<0>().output();
    const double dropped = double((drop.mask().array() == 0).count()) / double(drop.mask().size());
    CHECK(dropped == Approx(0.25).margin(0.01));  // 20000 draws
    CHECK((drop.mask().array() == 0 || drop.mask().array() == float(1 / 0.75)).all());
    CHECK(ya == Batch<float, 400>(z.cwiseProduct(drop.mask())));

    const Batch<float, 400> dy = random_batch<400, float>(50, 42);
    a.backward(x, dy);
    CHECK(a.layer<1>().backward(z, dy) == Batch<float, 400>(dy.cwiseProduct(drop.mask())));

    const Batch<float, 400> ya2 = a.forward(x);
    CHECK(ya2 != ya);  // a new mask at every forward

    a.set_mode(Mode::evaluation);  // a Sequential passes the mode to its members
    CHECK(a.forward(x) == a.layer<0>().output());
    CHECK(a.layer<1>().backward(a.layer<0>().output(), dy) == dy);
    a.set_mode(Mode::training);
    CHECK(a.forward(x) != a.layer<0>().output());
}

TEST_CASE("Dropout's gradient matches finite differences with its mask held", "[gradcheck][dropout]") {
    DropoutLayer<double, 6, 1, 2> drop(3);
    const Batch<double, 6> x = random_batch<6>(4, 51, -2, 2);
    const Batch<double, 6> r = random_batch<6>(4, 52);
    drop.seed(99);
    const Batch<double, 6> dx = drop.backward(x, (drop.forward(x), r));
    double worst = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        auto loss = [&](double v) {
            Batch<double, 6> xp = x;
            xp(i) = v;
            drop.seed(99);  // the same mask as above
            return (drop.forward(xp).array() * r.array()).sum();
        };
        const double h = 1e-4, numeric = (loss(x(i) + h) - loss(x(i) - h)) / (2 * h);
        worst = std::max(worst, std::abs(numeric - dx(i)));
    }
    CHECK(worst < 1e-9);
    CHECK((dx.array() == 0).count() > 0);  // some values were dropped, some kept
    CHECK((dx.array() != 0).count() > 0);
}

TEST_CASE("image layers name themselves and the wrong size", "[errors][conv]") {
    Conv2D<float, 1, 4, 3, 8, 8> conv;
    CHECK_THROWS_WITH(conv.forward(Batch<float, Eigen::Dynamic>::Zero(63, 2)),
                      Contains("Conv2D<In=1,Out=4,K=3,H=8,W=8,S=1,P=0>::forward: input has 63 rows, expected 64"));
    conv.forward(Batch<float, 64>::Zero(64, 2));
    CHECK_THROWS_WITH(conv.backward(Batch<float, 64>::Zero(64, 2), Batch<float, Eigen::Dynamic>::Zero(143, 2)),
                      Contains("output gradient has 143 rows, expected 144"));
    CHECK_THROWS_WITH(conv.backward(Batch<float, 64>::Zero(64, 3), Batch<float, 144>::Zero(144, 3)),
                      Contains("input has 3 columns, expected 2"));
    MaxPool2D<float, 4, 6, 6, 2> pool;
    CHECK_THROWS_WITH(pool.forward(Batch<float, Eigen::Dynamic>::Zero(140, 1)),
                      Contains("MaxPool2D<C=4,H=6,W=6,Window=2,S=2>::forward: input has 140 rows, expected 144"));
    Batch<float, 144> bad = Batch<float, 144>::Zero(144, 2);
    bad(5, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(pool.forward(bad), Contains("non-finite value (nan) at row 5, column 1"));
    DropoutLayer<float, 8, 1, 2> drop;
    CHECK_THROWS_WITH(drop.forward(Batch<float, Eigen::Dynamic>::Zero(7, 1)),
                      Contains("Dropout<P=0.5,D=8>::forward: input has 7 rows, expected 8"));
}

static_assert(Layer<BatchNorm<float, 16>> && Layer<BatchNorm2D<double, 3, 4, 4>>);

namespace {
// Batch normalisation by loops: per channel c, over the B·S values of the batch.
template <class M>
M naive_batch_norm(const M& x, int C, int S, const Eigen::VectorXd& gamma, const Eigen::VectorXd& beta,
                   const Eigen::VectorXd* mean, const Eigen::VectorXd* var) {
    M y(x.rows(), x.cols());
    for (int c = 0; c < C; ++c) {
        double mu = 0, v = 0, n = 0;
        for (Eigen::Index b = 0; b < x.cols(); ++b)
            for (int s = 0; s < S; ++s) mu += double(x(c * S + s, b)), ++n;
        mu /= n;
        for (Eigen::Index b = 0; b < x.cols(); ++b)
            for (int s = 0; s < S; ++s) v += (double(x(c * S + s, b)) - mu) * (double(x(c * S + s, b)) - mu);
        v /= n;
        if (mean) mu = (*mean)(c), v = (*var)(c);
        for (Eigen::Index b = 0; b < x.cols(); ++b)
            for (int s = 0; s < S; ++s)
                y(c * S + s, b) =
                    typename M::Scalar(gamma(c) * (double(x(c * S + s, b)) - mu) / std::sqrt(v + 1e-5) + beta(c));
    }
    return y;
}
}  // namespace

TEST_CASE("BatchNorm gradients match finite differences, in both modes", "[gradcheck][batchnorm]") {
    SECTION("features, training: the batch statistics depend on x") {
        BatchNorm<double, 4> bn;
        bn.gamma << 1.5, -0.5, 2.0, 0.7;
        bn.beta << 0.1, 0.2, -0.3, 0.0;
        check_layer_gradients(bn, random_batch<4>(6, 61, -2, 2));
    }
    SECTION("channels of images, training") {
        BatchNorm2D<double, 3, 2, 3> bn;
        bn.gamma << 1.2, 0.8, -1.1;
        check_layer_gradients(bn, random_batch<18>(3, 62, -2, 2));
    }
    SECTION("evaluation: running statistics are constants") {
        BatchNorm2D<double, 2, 2, 2> bn;
        bn.running_mean << 0.3, -0.2;
        bn.running_var << 2.0, 0.5;
        bn.gamma << 1.3, 0.6;
        bn.set_mode(Mode::evaluation);
        check_layer_gradients(bn, random_batch<8>(3, 63, -2, 2));
    }
    SECTION("inside a CNN with convolution and pooling") {
        Sequential<Conv2D<double, 1, 2, 3, 5, 5, 1, 1>, BatchNorm2D<double, 2, 5, 5>, ReLU,
                   MaxPool2D<double, 2, 5, 5, 2>, Dense<double, 8, 3>>
            cnn(3);
        check_layer_gradients(cnn, random_batch<25>(4, 64, -2, 2));
    }
}

TEMPLATE_TEST_CASE("BatchNorm matches the naive loops and keeps running statistics as PyTorch",
                   "[reference][batchnorm]", float, double) {
    using T = TestType;
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    BatchNorm2D<T, 3, 4, 5> bn;
    bn.gamma << T(1.5), T(0.5), T(-1);
    bn.beta << T(0.1), T(0), T(0.3);
    const Eigen::VectorXd gamma = bn.gamma.template cast<double>(), beta = bn.beta.template cast<double>();
    const M x1 = random_batch<60, T>(7, 71, -1, 3), x2 = random_batch<60, T>(7, 72, -2, 1);
    CHECK((bn.forward(x1) - naive_batch_norm(x1, 3, 20, gamma, beta, nullptr, nullptr)).cwiseAbs().maxCoeff() <
          1e3 * tol<T>());
    bn.forward(x2);
    // running statistics after two batches: momentum 0.1 from mean 0 and variance 1, unbiased variances
    for (int c = 0; c < 3; ++c) {
        double m = 0, v = 1;
        for (const M* x : {&x1, &x2}) {
            const Eigen::ArrayXd values = x->middleRows(c * 20, 20).template cast<double>().reshaped().array();
            const double mu = values.mean(), var = (values - mu).square().sum() / double(values.size() - 1);
            m = 0.9 * m + 0.1 * mu, v = 0.9 * v + 0.1 * var;
        }
        CHECK(double(bn.running_mean(c)) == Approx(m).epsilon(1e2 * tol<T>()));
        CHECK(double(bn.running_var(c)) == Approx(v).epsilon(1e2 * tol<T>()));
    }
    // evaluation uses them, and does not move them
    const Eigen::VectorXd rm = bn.running_mean.template cast<double>(), rv = bn.running_var.template cast<double>();
    bn.set_mode(Mode::evaluation);
    const M single = x1.leftCols(1);
    CHECK((bn.forward(single) - naive_batch_norm(single, 3, 20, gamma, beta, &rm, &rv)).cwiseAbs().maxCoeff() <
          1e3 * tol<T>());
    CHECK(bn.running_mean.template cast<double>() == rm);
}

TEST_CASE("BatchNorm's running statistics survive a checkpoint; files without buffers are unchanged",
          "[batchnorm][serialize]") {
    // every image layer in one checkpoint: convolution, batch norm, pooling, dropout
    using Net = Sequential<Conv2D<float, 1, 3, 3, 5, 5, 1, 1>, BatchNorm2D<float, 3, 5, 5>, ReLU,
                           MaxPool2D<float, 3, 5, 5, 2>, Dropout<1, 2>, Dense<float, 12, 2>>;
    Net a(1), b(2);
    const Batch<float, 25> x = random_batch<25, float>(8, 81);
    a.forward(x), a.forward(2 * x);  // moves the running statistics
    const std::vector<unsigned char> bytes = checkpoint_bytes(a);
    load_bytes(bytes, "memory", b);
    CHECK(b.layer<1>().running_mean == a.layer<1>().running_mean);
    CHECK(b.layer<1>().running_var == a.layer<1>().running_var);
    CHECK(a.layer<1>().running_var != Vector<float, 3>::Ones(3));
    CHECK(a.layer<0>().W == b.layer<0>().W);
    a.set_mode(Mode::evaluation), b.set_mode(Mode::evaluation);
    CHECK(a.forward(x) == b.forward(x));

    // a model without buffers rejects a file that has them, and the reverse; nothing is changed
    using Plain = Sequential<Dense<float, 25, 6>, ReLU, Dense<float, 6, 2>>;
    Plain plain(3);
    const Batch<float, 2> before = plain.forward(x);
    CHECK_THROWS_WITH(
        load_bytes(bytes, "memory", plain),
        Contains("the checkpoint holds buffers (running statistics), but the model has none (at byte offset 12)"));
    CHECK(plain.forward(x) == before);
    std::vector<unsigned char> no_buffers = bytes;
    no_buffers[12] &= ~std::uint8_t(4);  // flags: clear the buffers bit
    CHECK_THROWS_WITH(load_bytes(no_buffers, "memory", b),
                      Contains("the checkpoint holds no buffers, but the model has 2"));
    const std::vector<unsigned char> plain_bytes = checkpoint_bytes(plain);
    CHECK((plain_bytes[12] & 4) == 0);
}

TEST_CASE("BatchNorm errors name the layer", "[errors][batchnorm]") {
    BatchNorm<float, 5> bn;
    Eigen::MatrixXf four_rows(4, 3);
    four_rows.setRandom();
    CHECK_THROWS_WITH(bn.forward(four_rows), Contains("BatchNorm<D=5>::forward: input has 4 rows, expected 5"));
    CHECK_THROWS_WITH(
        bn.forward(Batch<float, 5>::Zero(5, 1)),
        Contains("BatchNorm<D=5>::forward: a batch of 1 sample(s) of 1 value(s) per channel, expected at least 2"));
    bn.set_mode(Mode::evaluation);
    CHECK_NOTHROW(bn.forward(Batch<float, 5>::Zero(5, 1)));
}

TEST_CASE("a small CNN matches PyTorch: logits, loss and every gradient", "[conv][batchnorm][fixture]") {
    // tests/fixtures/make_cnn_fixture.py: Conv2d, BatchNorm2d (training), ReLU, MaxPool2d, Dropout (eval), Linear
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/cnn_fixture.txt");
    REQUIRE(f.header == std::vector<int>{1, 5, 1, 6, 6, 3, 3, 4});
    using Cnn = Sequential<Conv2D<double, 1, 3, 3, 6, 6, 1, 1>, BatchNorm2D<double, 3, 6, 6>, ReLU,
                           MaxPool2D<double, 3, 6, 6, 2>, Dropout<1, 2>, Dense<double, 27, 4>>;
    Cnn cnn;
    cnn.layer<4>().set_mode(Mode::evaluation);
    int k = 0;
    cnn.visit_parameters([&](ParamView<double> p) {
        const auto& values = f.get("param " + std::to_string(k++));
        REQUIRE(std::size_t(p.value.size()) == values.size());
        std::copy(values.begin(), values.end(), p.value.begin());
    });
    const Eigen::Map<const Batch<double, 36>> x(f.get("x").data(), 36, 5);
    std::vector<int> labels;
    for (double l : f.get("labels")) labels.push_back(int(l));
    SoftmaxCrossEntropy<double, 4> ce;
    cnn.zero_grad();
    const double loss = ce.forward(cnn.forward(x), labels);
    const Batch<double, 36>& dx = cnn.backward(x, ce.backward());
    CHECK(std::abs(loss - f.get("loss")[0]) / f.get("loss")[0] < 1e-10);
    CHECK(max_relative_difference(cnn.output().data(), f.get("logits")) < 1e-10);
    CHECK(max_relative_difference(dx.data(), f.get("dx")) < 1e-8);
    k = 0;
    cnn.visit_parameters([&](ParamView<double> p) {
        INFO("gradient " << k << " (" << p.name << ")");
        CHECK(max_relative_difference(p.grad.data(), f.get("grad " + std::to_string(k++))) < 1e-8);
    });
    CHECK(max_relative_difference(cnn.layer<1>().running_mean.data(), f.get("running_mean")) < 1e-12);
    CHECK(max_relative_difference(cnn.layer<1>().running_var.data(), f.get("running_var")) < 1e-12);
}

TEST_CASE("the image layers' activation memory is the memory they hold after a step", "[cost][memory]") {
    // cost().activation_bytes is a compile-time count per sample; buffer_bytes() sums the buffers
    // the layer really holds. After forward and backward at batch B they must agree exactly.
    const int B = 6;
    auto check = [&](auto& layer) {
        using L = std::remove_cvref_t<decltype(layer)>;
        const Batch<float, L::in_size> x = random_batch<L::in_size, float>(B, 91);
        layer.forward(x);
        layer.backward(x, random_batch<L::out_size, float>(B, 92));
        INFO(L::name());
        CHECK(double(layer.buffer_bytes()) == L::cost().activation_bytes * B);
    };
    Conv2D<float, 2, 3, 3, 7, 6, 2, 1> conv;
    MaxPool2D<float, 3, 6, 6, 2> maxpool;
    AvgPool2D<float, 2, 5, 5, 3, 1> avgpool;
    DropoutLayer<float, 10, 1, 2> drop;
    BatchNorm2D<float, 3, 2, 2> bn;
    check(conv), check(maxpool), check(avgpool), check(drop), check(bn);
}

namespace {
// A CNN with every layer kind that predicts: conv, BatchNorm, pools, Flatten, dropout, a residual, a neuron.
using PredictCnn =
    Sequential<Conv2D<float, 1, 4, 3, 8, 8, 1, 1>, BatchNorm2D<float, 4, 8, 8>, ReLU, MaxPool2D<float, 4, 8, 8, 2>,
               Flatten, Dropout<1, 2>, Residual<Dense<float, 64, 64>, GELU>, AvgPool2D<float, 1, 8, 8, 2>,
               Dense<float, 16, 3>, Sigmoid>;
}  // namespace

TEST_CASE("predict is forward in evaluation mode, bit for bit, and changes nothing in the model", "[predict]") {
    PredictCnn m(3);
    for (int i = 0; i < 3; ++i)
        m.forward(random_batch<64, float>(6, 40 + std::uint64_t(i)));  // running statistics move
    const Batch<float, 64> x = random_batch<64, float>(5, 7);
    const auto before = m.layer<1>().running_mean;
    const Batch<float, 3> training_output = m.output();
    PredictCnn::Workspace ws;
    const Batch<float, 3> predicted = m.predict(x, ws);
    CHECK(m.layer<1>().running_mean == before);  // predict reads, never writes
    CHECK(m.output() == training_output);
    CHECK(m.layer<1>().mode() == Mode::training);
    m.set_mode(Mode::evaluation);
    CHECK(m.forward(x) == predicted);
    CHECK(m.predict(x, ws) == predicted);  // a reused workspace, and a different batch size before it
    CHECK(m.predict(x.leftCols(2), ws) == predicted.leftCols(2));

    Neuron<double, 3, Tanh> neuron(5);
    Neuron<double, 3, Tanh>::Workspace nws;
    const Batch<double, 3> xn = random_batch<3>(4, 9);
    CHECK(neuron.predict(xn, nws) == neuron.forward(xn));
    const Eigen::MatrixXf short_input = Eigen::MatrixXf::Random(63, 2);
    CHECK_THROWS_WITH(m.predict(short_input, ws),
                      Contains("Conv2D<In=1,Out=4,K=3,H=8,W=8,S=1,P=1>::predict: input has 63 rows, expected 64"));
    Batch<float, 64> bad = x;
    bad(5, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(m.predict(bad, ws), std::domain_error);
}

TEST_CASE("Conv2D predicts a batch of several products as forward does, holding one product's patches",
          "[predict][conv]") {
    using L = Conv2D<float, 16, 4, 5, 14, 14, 1, 2>;
    STATIC_REQUIRE(L::images_per_product == 26);  // 30 images: products of 26 and of 4 images
    L conv(5);
    const Batch<float, L::in_size> x = random_batch<L::in_size, float>(30, 61);
    L::Workspace ws;
    const Batch<float, L::out_size> predicted = conv.predict(x, ws);
    CHECK(ws.patches.rows() == 26 * L::positions);  // one group's patches, not the batch's
    CHECK(conv.forward(x) == predicted);
    CHECK(conv.predict(x.rightCols(4), ws) == predicted.rightCols(4));  // the last group alone
    CHECK(conv.predict(x.leftCols(26), ws) == predicted.leftCols(26));  // the first alone
}

TEST_CASE("one model serves 8 threads at once: 1,000 predictions each, every one the single-thread answer bit for bit",
          "[predict][threads]") {
    PredictCnn m(11);
    for (int i = 0; i < 3; ++i) m.forward(random_batch<64, float>(6, 50 + std::uint64_t(i)));
    std::vector<Batch<float, 64>> inputs;
    std::vector<Batch<float, 3>> expected;
    PredictCnn::Workspace ws;
    for (int i = 0; i < 16; ++i) {
        inputs.push_back(random_batch<64, float>(1 + i % 4, 100 + std::uint64_t(i)));
        expected.push_back(m.predict(inputs.back(), ws));
    }
    const PredictCnn& shared = m;  // the threads see the model as const: no locks, no copies
    std::vector<int> mismatches(8, 0), done(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            PredictCnn::Workspace own;
            for (int k = 0; k < 1000; ++k) {
                const std::size_t i = std::size_t(k * 7 + t) % inputs.size();
                mismatches[std::size_t(t)] += shared.predict(inputs[i], own) != expected[i];
                ++done[std::size_t(t)];
            }
        });
    for (auto& th : threads) th.join();
    CHECK(mismatches == std::vector<int>(8, 0));
    CHECK(done == std::vector<int>(8, 1000));
}
