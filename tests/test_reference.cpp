// The Eigen paths against naive loop references, in float and double.
#include "naive.hpp"
#include "test_util.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/attention.hpp>
#include <neuronka/layers/batch_norm.hpp>
#include <neuronka/layers/conv2d.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/dropout.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/layers/gru.hpp>
#include <neuronka/layers/layer_norm.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/layers/pool.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace neuronka;
using Catch::Matchers::WithinAbs;

namespace {
template <class T>
double tol() {
    return std::is_same_v<T, float> ? 1e-4 : 1e-12;
}

template <class T, int In, int Out, bool Bias = true>
void compare_dense(int batch) {
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using V = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    Dense<T, In, Out, Bias> d(5);
    if constexpr (Bias) d.b = random_batch<Out, T>(1, 6);
    const M x = random_batch<In, T>(batch, 7), dy = random_batch<Out, T>(batch, 8);
    const M W = d.W, bias = Bias ? M(d.b) : M::Zero(Out, 1);

    const M y = d.forward(x);
    const M y_ref = naive::dense_forward(W, V(bias), x);
    CHECK((y - y_ref).cwiseAbs().maxCoeff() < tol<T>() * In);

    M dW, dx;
    V db;
    naive::dense_backward(W, x, dy, dW, db, dx);
    d.zero_grad();
    const M dx_fast = d.backward(x, dy);
    CHECK((dx_fast - dx).cwiseAbs().maxCoeff() < tol<T>() * Out);
    CHECK((M(d.dW()) - dW).cwiseAbs().maxCoeff() < tol<T>() * batch);
    if constexpr (Bias) {
        CHECK((V(d.db()) - db).cwiseAbs().maxCoeff() < tol<T>() * batch);
    } else {  // y = W x: one tensor, no bias anywhere
        CHECK(d.b.size() == 0);
        int tensors = 0;
        d.visit_parameters([&](ParamView<T> p) {
            CHECK(std::string(p.name) == "weight");
            ++tensors;
        });
        CHECK(tensors == 1);
        static_assert(Dense<T, In, Out, false>::parameter_count == std::size_t(In) * Out);
    }

    // gradients accumulate: a second backward doubles them
    d.backward(x, dy);
    CHECK((M(d.dW()) - 2 * dW).cwiseAbs().maxCoeff() < 2 * tol<T>() * batch);
}
}  // namespace

TEMPLATE_TEST_CASE("Dense matches the naive loops", "[reference][dense]", float, double) {
    SECTION("the lecture's 1 -> 1 neuron") {
        compare_dense<TestType, 1, 1>(32);
    }
    SECTION("2 -> 16, coefficient-based product") {
        compare_dense<TestType, 2, 16>(32);
    }
    SECTION("16 -> 16") {
        compare_dense<TestType, 16, 16>(32);
    }
    SECTION("64 -> 128, blocked GEMM") {
        compare_dense<TestType, 64, 128>(64);
    }
    SECTION("784 -> 256, heap storage") {
        compare_dense<TestType, 784, 256>(19);
    }
    SECTION("batch of one") {
        compare_dense<TestType, 30, 20>(1);
    }
    SECTION("one output (row-major 1 x B batches), blocked GEMM") {
        compare_dense<TestType, 16, 1>(3000);
    }
    SECTION("one input, blocked GEMM") {
        compare_dense<TestType, 1, 16>(3000);
    }
    SECTION("without a bias: small, and blocked GEMM") {
        compare_dense<TestType, 2, 16, false>(32);
        compare_dense<TestType, 64, 128, false>(64);
    }
}

TEMPLATE_TEST_CASE("a small Dense given a view of a larger matrix computes what it computes on a copy",
                   "[reference][dense]", float, double) {
    // A small layer sees its batches with fixed rows, over packed columns: a strided view (rows of a
    // larger matrix) is packed first. Both a 1-row and a 2-row input, through forward and backward.
    using T = TestType;
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const M big = random_batch<5, T>(12, 21), dy1 = random_batch<1, T>(12, 22), dy16 = random_batch<16, T>(12, 23);
    Dense<T, 1, 1> a(3), a_copy(3);
    Dense<T, 2, 16> b(4), b_copy(4);
    const M x1 = big.middleRows(2, 1), x2 = big.topRows(2);
    CHECK(M(a.forward(big.middleRows(2, 1))) == M(a_copy.forward(x1)));
    CHECK(M(b.forward(big.topRows(2))) == M(b_copy.forward(x2)));
    a.zero_grad(), a_copy.zero_grad(), b.zero_grad(), b_copy.zero_grad();
    const M dy1_strided_source = dy1.replicate(3, 1);  // 3 × 12: its middle row is dy1, strided
    CHECK(M(a.backward(big.middleRows(2, 1), dy1_strided_source.middleRows(1, 1))) == M(a_copy.backward(x1, dy1)));
    CHECK(M(a.dW()) == M(a_copy.dW()));
    CHECK(M(a.db()) == M(a_copy.db()));
    CHECK(M(b.backward(big.topRows(2), dy16)) == M(b_copy.backward(x2, dy16)));
    CHECK(M(b.dW()) == M(b_copy.dW()));
}

TEMPLATE_TEST_CASE("activations match their scalar formulas", "[reference][activation]", float, double) {
    using T = TestType;
    const Batch<T, 5> x = 3 * random_batch<5, T>(9, 10);
    Activation<T, 5, ReLU> relu;
    Activation<T, 5, Tanh> tanh_;
    Activation<T, 5, Sigmoid> sigmoid;
    Activation<T, 5, GELU> gelu;
    relu.forward(x), tanh_.forward(x), sigmoid.forward(x), gelu.forward(x);
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        const T v = x(i);
        CHECK(relu.output()(i) == (v > 0 ? v : T(0)));
        CHECK_THAT(double(tanh_.output()(i)), WithinAbs(std::tanh(double(v)), tol<T>()));
        CHECK_THAT(double(sigmoid.output()(i)), WithinAbs(1 / (1 + std::exp(-double(v))), tol<T>()));
        CHECK_THAT(double(gelu.output()(i)), WithinAbs(naive::gelu(double(v)), tol<T>()));
    }
}

// SoftmaxCrossEntropy with class weights and label smoothing against the formulas in double, for
// batch widths around the 16 columns the loss takes together.
template <class T, int C>
void check_weighted_cross_entropy() {
    std::vector<T> w(C);
    for (int c = 0; c < C; ++c) w[std::size_t(c)] = T(0.25) + T(c % 7) * T(0.5);
    const T eps = T(0.1);
    SoftmaxCrossEntropy<T, C> wce({.label_smoothing = eps, .class_weights = w});
    for (int B : {1, 15, 16, 17, 37}) {
        INFO("classes " << C << ", batch " << B);
        const Batch<T, C> zb = 3 * random_batch<C, T>(B, 20 + B);
        std::vector<int> yb(static_cast<std::size_t>(B));
        for (int b = 0; b < B; ++b) yb[std::size_t(b)] = (3 * b + 1) % C;
        double loss = 0, W = 0, wsum = 0;
        for (T v : w) wsum += double(v);
        Eigen::MatrixXd grad(C, B);
        for (int b = 0; b < B; ++b) {
            double m = -1e300, s = 0;
            for (int c = 0; c < C; ++c) m = std::max(m, double(zb(c, b)));
            for (int c = 0; c < C; ++c) s += std::exp(double(zb(c, b)) - m);
            const int y = yb[std::size_t(b)];
            auto nlp = [&](int c) { return std::log(s) + m - double(zb(c, b)); };  // −log p[c]
            loss += (1 - double(eps)) * double(w[std::size_t(y)]) * nlp(y);
            for (int c = 0; c < C; ++c) loss += double(eps) / C * double(w[std::size_t(c)]) * nlp(c);
            W += double(w[std::size_t(y)]);
            const double a = (1 - double(eps)) * double(w[std::size_t(y)]) + double(eps) / C * wsum;
            for (int c = 0; c < C; ++c)
                grad(c, b) = a * std::exp(-nlp(c)) - (c == y ? (1 - double(eps)) * double(w[std::size_t(y)]) : 0) -
                             double(eps) / C * double(w[std::size_t(c)]);
        }
        CHECK_THAT(double(wce.forward(zb, yb)), WithinAbs(loss / W, tol<T>() * 10));
        CHECK((wce.backward().template cast<double>() - grad / W).cwiseAbs().maxCoeff() < tol<T>() * 10);
        Batch<T, C> p;
        softmax(zb, p);
        for (int b = 0; b < B; ++b) CHECK_THAT(double(p.col(b).sum()), WithinAbs(1.0, tol<T>()));
    }
}

TEMPLATE_TEST_CASE("losses match the naive formulas", "[reference][loss]", float, double) {
    using T = TestType;
    Batch<T, 3> z = 4 * random_batch<3, T>(7, 12);
    const std::vector<int> labels{0, 1, 2, 2, 1, 0, 0};
    SoftmaxCrossEntropy<T, 3> ce;
    CHECK_THAT(double(ce.forward(z, labels)), WithinAbs(naive::softmax_cross_entropy(z, labels), tol<T>() * 10));
    // each column of the gradient sums to zero (softmax minus one-hot)
    CHECK(ce.backward().colwise().sum().cwiseAbs().maxCoeff() < tol<T>());

    SECTION("large logits do not overflow: softmax is shift-invariant") {
        const T reference = ce.forward(z, labels);
        const Batch<T, 3> shifted = (z.array() + T(1000)).matrix();  // e^1000 overflows even in double
        const T loss = ce.forward(shifted, labels);
        CHECK(std::isfinite(loss));
        CHECK_THAT(double(loss), WithinAbs(double(reference), std::is_same_v<T, float> ? 1e-3 : 1e-9));
    }
    SECTION("weighted, smoothed cross-entropy and its gradient for batches of every width around 16") {
        check_weighted_cross_entropy<T, 5>();   // few classes: 16 columns at a time, transposed
        check_weighted_cross_entropy<T, 40>();  // a column per vector pass
    }
    SECTION("mean squared error") {
        MeanSquaredError<T, 3> mse;
        const Batch<T, 3> t = random_batch<3, T>(7, 13);
        double ref = 0;
        for (Eigen::Index i = 0; i < z.size(); ++i) ref += double(z(i) - t(i)) * double(z(i) - t(i));
        CHECK_THAT(double(mse.forward(z, t)), WithinAbs(ref / 21, tol<T>() * 10));
    }
    SECTION("binary cross-entropy equals -[t log s + (1-t) log(1-s)]") {
        BinaryCrossEntropyWithLogits<T, 3> bce;
        Batch<T, 3> t = random_batch<3, T>(7, 14);
        t = (t.array() + 1) / 2;
        double ref = 0;
        for (Eigen::Index i = 0; i < z.size(); ++i) {
            const double s = 1 / (1 + std::exp(-double(z(i))));
            ref -= double(t(i)) * std::log(s) + (1 - double(t(i))) * std::log(1 - s);
        }
        CHECK_THAT(double(bce.forward(z, t)), WithinAbs(ref / 21, tol<T>() * 10));
    }
}

TEST_CASE("backward without the input gradient accumulates the same gradients as backward", "[reference][sequential]") {
    using Mlp = Sequential<Dense<double, 5, 7>, Tanh, Dense<double, 7, 3>, ReLU, Dense<double, 3, 2>>;
    Mlp full(4), params_only(4);
    const Batch<double, 5> x = random_batch<5, double>(9, 21);
    const Batch<double, 2> dy = random_batch<2, double>(9, 22);
    full.forward(x), params_only.forward(x);
    full.backward(x, dy);
    CHECK(params_only.backward(x, dy, GradientSink<double>(false)) == nullptr);  // no dx
    auto grads = [](Mlp& m) {
        std::vector<double> g;
        m.visit_parameters([&](ParamView<double> p) {
            for (double v : p.grad) g.push_back(v);
        });
        return g;
    };
    const std::vector<double> a = grads(full);
    REQUIRE(a.size() == Mlp::parameter_count);
    CHECK(a == grads(params_only));
    CHECK(std::any_of(a.begin(), a.end(), [](double g) { return g != 0; }));
    SECTION("the earlier spelling, backward_parameters, still works") {
        Mlp old(4);
        old.forward(x);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        old.backward_parameters(x, dy);
#pragma GCC diagnostic pop
        CHECK(grads(old) == a);
    }
}

TEST_CASE("zero_grad: the next backward writes the gradients, later ones add", "[reference][gradients]") {
    using Mlp = Sequential<Dense<double, 3, 4>, Tanh, Dense<double, 4, 2>>;
    Mlp model(5);
    const Batch<double, 3> x = random_batch<3, double>(6, 31);
    const Batch<double, 2> dy = random_batch<2, double>(6, 32);
    auto grads = [&] {
        std::vector<double> g;
        model.visit_parameters([&](ParamView<double> p) {
            for (double v : p.grad) g.push_back(v);
        });
        return g;
    };
    model.forward(x);
    model.backward(x, dy);
    const std::vector<double> once = grads();
    REQUIRE(std::any_of(once.begin(), once.end(), [](double g) { return g != 0; }));

    SECTION("zero_grad alone: the gradients read as zero") {
        model.zero_grad();
        for (double g : grads()) CHECK(g == 0);
    }
    SECTION("zero_grad, then one backward: one batch's gradients, not added to the old ones") {
        model.backward(x, dy);  // accumulated: twice
        model.zero_grad();
        model.backward(x, dy);
        CHECK(grads() == once);
    }
    SECTION("three backwards after zero_grad: three times the gradients") {
        model.zero_grad();
        for (int i = 0; i < 3; ++i) model.backward(x, dy);
        const std::vector<double> thrice = grads();
        for (std::size_t i = 0; i < once.size(); ++i)
            CHECK_THAT(thrice[i], Catch::Matchers::WithinAbs(3 * once[i], 1e-12));
    }
    SECTION("backward without the input gradient writes after zero_grad too") {
        model.zero_grad();
        model.backward(x, dy, GradientSink<double>(false));
        CHECK(grads() == once);
    }
}

TEST_CASE("every building block satisfies the layer contract", "[contract]") {
    // Compile-time: a building block that stops satisfying `Layer` fails this file.
    static_assert(Layer<Dense<float, 3, 4>>);
    static_assert(Layer<Neuron<double, 2>> && Layer<Neuron<float, 3, Sigmoid>>);
    static_assert(Layer<Activation<float, 4, Identity>> && Layer<Activation<float, 4, ReLU>> &&
                  Layer<Activation<float, 4, Tanh>> && Layer<Activation<float, 4, Sigmoid>> &&
                  Layer<Activation<float, 4, GELU>>);
    static_assert(Layer<LayerNorm<float, 8>>);
    static_assert(Layer<Embedding<float, 10, 8>> && Embedding<float, 10, 8>::in_size == token_ids);
    static_assert(Layer<PositionalEmbedding<float, 6, 8>>);
    static_assert(Layer<Attention<float, 8, 2>>);
    static_assert(Layer<GRU<float, 8, 16>> && Layer<GRU<double, 1, 1>>);
    static_assert(Layer<Conv2D<float, 1, 4, 3, 8, 8>> && Layer<Conv2D<double, 2, 3, 5, 9, 7, 2, 2>>);
    static_assert(Layer<MaxPool2D<float, 4, 6, 6, 2>> && Layer<AvgPool2D<double, 2, 5, 5, 3, 1>>);
    static_assert(Layer<DropoutLayer<float, 10, 1, 2>>);
    static_assert(Layer<BatchNorm<float, 16>> && Layer<BatchNorm2D<double, 3, 4, 4>>);
    static_assert(Layer<Sequential<Dense<float, 2, 3>, Tanh, Dense<float, 3, 1>>>);
    static_assert(Layer<Residual<LayerNorm<float, 8>, Attention<float, 8, 2>>>);
    static_assert(Layer<Residual<Residual<Dense<float, 8, 8>>, ReLU>>);
    static_assert(Layer<TransformerBlock<float, 8, 2>>);
    static_assert(Layer<Transformer<float, 11, 8, 8, 2, 1>>);
    static_assert(Layer<Sequential<Embedding<float, 10, 8>, Residual<Dense<float, 8, 8>, ReLU>, Dense<float, 8, 10>>>);
    // and what is not a layer is rejected by the concept
    static_assert(!Layer<int> && !Layer<Tanh> && !Layer<SGD<float>>);
    // parameter tensors, which the fused optimiser step numbers, are known from the type
    STATIC_REQUIRE(Transformer<float, 11, 8, 8, 2, 2>::parameter_tensors == 2 + 2 * 12 + 4);
}

TEST_CASE("a model a user composes: embeddings, a residual attention block and a head", "[contract][residual]") {
    // Token ids in, one distribution over 5 classes per token out: no adapter, no hand-written backward.
    using Model = Sequential<Embedding<double, 7, 8>, PositionalEmbedding<double, 4, 8>,
                             Residual<LayerNorm<double, 8>, Attention<double, 8, 2>>, Dense<double, 8, 5>>;
    Model model(3);
    const std::vector<int> ids{1, 6, 2, 0, 3, 3, 5, 4};  // 2 sequences of 4
    std::vector<int> labels{0, 1, 2, 3, 4, 0, 1, 2};
    SoftmaxCrossEntropy<double, 5> ce;
    const GradcheckResult r = gradcheck_parameters(
        model, [&] { return ce.forward(model.forward(ids, 4), labels); },
        [&] {
            model.zero_grad();
            ce.forward(model.forward(ids, 4), labels);
            model.backward(ids, ce.backward());
        });
    CHECK(r.checked == Model::parameter_count);
    CHECK(r.worst_relative_error < 1e-6);

    SECTION("the fused step trains it like backward + step") {
        Model fused(3), plain(3);
        SGD<double> a({.learning_rate = 0.1, .momentum = 0.5}), b({.learning_rate = 0.1, .momentum = 0.5});
        for (int step = 0; step < 3; ++step) {
            ce.forward(fused.forward(ids, 4), labels);
            a.step(fused, ids, ce.backward());
            plain.zero_grad();
            ce.forward(plain.forward(ids, 4), labels);
            plain.backward(ids, ce.backward());
            b.step(plain);
        }
        std::vector<double> p, q;
        fused.visit_parameters([&](ParamView<double> v) {
            for (double e : v.value) p.push_back(e);
        });
        plain.visit_parameters([&](ParamView<double> v) {
            for (double e : v.value) q.push_back(e);
        });
        REQUIRE(p.size() == q.size());
        for (std::size_t i = 0; i < p.size(); ++i) CHECK_THAT(p[i], Catch::Matchers::WithinAbs(q[i], 1e-12));
    }
}
