// set_threads: the pool, the products split over it, and what a user relies on: the same numbers as
// one thread up to rounding, bitwise the same run twice at a fixed thread count, one model shared by
// many callers, and a training step that still allocates nothing. Also built with ThreadSanitizer
// by scripts/test.sh.
#include "no_malloc.hpp"

#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/products.hpp>
#include <neuronka/core/threads.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/conv2d.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/layer_norm.hpp>
#include <neuronka/layers/pool.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <thread>

using namespace neuronka;
using Catch::Matchers::Contains;

namespace {
// Sets the thread count for a scope and restores the previous one.
struct Threads {
    int before = threads();
    explicit Threads(int n) { set_threads(n); }
    ~Threads() { set_threads(before); }
};

using Mlp = Sequential<Dense<float, 64, 512>, ReLU, Dense<float, 512, 256>, Tanh, Dense<float, 256, 10>>;
using Cnn = Sequential<Conv2D<float, 1, 8, 5, 28, 28, 1, 2>, ReLU, MaxPool2D<float, 8, 28, 28, 2>,
                       Dense<float, 8 * 14 * 14, 10>>;

std::vector<int> labels(int n) {
    std::vector<int> l(std::size_t(n), 0);
    for (int i = 0; i < n; ++i) l[std::size_t(i)] = (i * 7) % 10;
    return l;
}

// Parameters after `steps` AdamW steps from seed 1, at the current thread count.
template <class Model>
Eigen::VectorXf train(int steps, const Eigen::MatrixXf& x) {
    Model model(1);
    SoftmaxCrossEntropy<float, 10> ce;
    AdamW<float> opt({.learning_rate = 1e-3f});
    const std::vector<int> y = labels(int(x.cols()));
    for (int s = 0; s < steps; ++s) {
        model.zero_grad();
        ce.forward(model.forward(x), y);
        model.backward(x, ce.backward());
        opt.step(model);
    }
    std::vector<float> flat;
    model.visit_parameters(
        [&](ParamView<float> p) { flat.insert(flat.end(), p.value.data(), p.value.data() + p.value.size()); });
    return Eigen::Map<Eigen::VectorXf>(flat.data(), Eigen::Index(flat.size()));
}

// A transformer on 16 sequences of 64 tokens: its attention, LayerNorms, GELUs and residual adds all
// have enough columns to be split over 2 threads.
using Gpt = Transformer<float, 11, 64, 64, 4, 1>;
constexpr int gpt_tokens = 16 * 64;
std::vector<int> tokens(int n, int shift) {
    std::vector<int> t(std::size_t(n), 0);
    for (int i = 0; i < n; ++i) t[std::size_t(i)] = (i * 5 + shift + i / 7) % 11;
    return t;
}

// Parameters after `steps` fused SGD steps from seed 1, at the current thread count.
Eigen::VectorXf train_gpt(int steps) {
    auto model = std::make_unique<Gpt>(1);
    SoftmaxCrossEntropy<float, 11> ce;
    SGD<float> opt({.learning_rate = 0.05f});
    const std::vector<int> ids = tokens(gpt_tokens, 0), next = tokens(gpt_tokens, 1);
    for (int s = 0; s < steps; ++s) {
        ce.forward(model->forward(ids, 64), next);
        opt.step(*model, ids, ce.backward());
    }
    std::vector<float> flat;
    model->visit_parameters(
        [&](ParamView<float> p) { flat.insert(flat.end(), p.value.data(), p.value.data() + p.value.size()); });
    return Eigen::Map<Eigen::VectorXf>(flat.data(), Eigen::Index(flat.size()));
}
}  // namespace

TEST_CASE("set_threads takes 1 to 256 threads, or 0 for the hardware's; anything else is an error", "[threads]") {
    const Threads scope(1);
    CHECK(threads() == 1);
    set_threads(3);
    CHECK(threads() == 3);
    set_threads(0);
    CHECK(threads() == int(std::max(1u, std::thread::hardware_concurrency())));
    CHECK_THROWS_WITH(set_threads(-1), Contains("set_threads: -1 threads; expected 1 to 256"));
    CHECK_THROWS_AS(set_threads(257), std::invalid_argument);
}

TEST_CASE("parallel_for visits every index exactly once, in slices that depend only on the thread count", "[threads]") {
    for (int n_threads : {1, 2, 3, 5}) {
        const Threads scope(n_threads);
        for (long n : {0L, 1L, 15L, 16L, 1000L, 4097L}) {
            std::vector<int> seen(std::size_t(n), 0);
            parallel_for(n, 4, [&](long b, long e) {
                for (long i = b; i < e; ++i) ++seen[std::size_t(i)];
            });
            CHECK(std::count(seen.begin(), seen.end(), 1) == n);
        }
    }
}

TEST_CASE("a region runs its tasks on different threads, and on the caller alone when the pool is busy", "[threads]") {
    const Threads scope(2);
    std::array<std::thread::id, 2> ran{};
    auto record = [&](int t) { ran[std::size_t(t)] = std::this_thread::get_id(); };
    detail::ThreadPool::instance().run(2, record);
    CHECK(ran[0] == std::this_thread::get_id());
    CHECK(ran[1] != std::this_thread::get_id());
    CHECK(ran[1] != std::thread::id());
    std::array<std::thread::id, 2> inner{};
    auto nested = [&](int t) {
        if (t != 0) return;
        auto record_inner = [&](int u) { inner[std::size_t(u)] = std::this_thread::get_id(); };
        detail::ThreadPool::instance().run(2, record_inner);  // the pool is busy: both on this thread
    };
    detail::ThreadPool::instance().run(2, nested);
    CHECK(inner[0] == std::this_thread::get_id());
    CHECK(inner[1] == std::this_thread::get_id());
}

TEST_CASE("a product split over threads is the naive product, for every transposition and for +=", "[threads]") {
    const Threads scope(2);
    // Large enough to be split: by columns when n ≥ m, by rows otherwise, by depth when both are
    // small (a weight gradient summed over a large batch); odd sizes for ragged slices.
    for (const auto [m, n, k] :
         {std::array<int, 3>{200, 333, 77}, std::array<int, 3>{517, 64, 129}, std::array<int, 3>{16, 25, 5001}}) {
        const Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k), b = Eigen::MatrixXf::Random(k, n);
        const Eigen::MatrixXf at = a.transpose(), bt = b.transpose();
        Eigen::MatrixXf expected = Eigen::MatrixXf::Zero(m, n);
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i)
                for (int p = 0; p < k; ++p) expected(i, j) += a(i, p) * b(p, j);
        Gemm<float> gemm;
        Eigen::MatrixXf c(m, n);
        Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> crow(m, n);
        gemm.set(c, a, b);
        CHECK(c.isApprox(expected, 1e-5f));
        gemm.set(c, at.transpose(), b);
        CHECK(c.isApprox(expected, 1e-5f));
        gemm.set(c, a, bt.transpose());
        CHECK(c.isApprox(expected, 1e-5f));
        gemm.set(c, at.transpose(), bt.transpose());
        CHECK(c.isApprox(expected, 1e-5f));
        gemm.set(crow, a, b);
        CHECK(Eigen::MatrixXf(crow).isApprox(expected, 1e-5f));
        gemm.add(c, a, b);
        CHECK(c.isApprox(2 * expected, 1e-5f));
        gemm.outer(c, a, bt, -1.0f, true);  // c −= a btᵀ: the weight update by the product
        CHECK(c.isApprox(expected, 1e-5f));
        gemm.outer(c, a, bt, 2.0f, false);  // c = 2 a btᵀ
        CHECK(c.isApprox(2 * expected, 1e-5f));
    }
}

TEST_CASE("training on 2 threads: the numbers of 1 thread up to rounding, and bitwise the same run twice",
          "[threads]") {
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(64, 256), images = Eigen::MatrixXf::Random(784, 32);
    Eigen::VectorXf one, cnn_one;
    {
        const Threads scope(1);
        one = train<Mlp>(5, x);
        cnn_one = train<Cnn>(3, images);
    }
    const Threads scope(2);
    const Eigen::VectorXf two = train<Mlp>(5, x), again = train<Mlp>(5, x);
    CHECK(two == again);
    CHECK(two.isApprox(one, 1e-4f));
    CHECK(two != train<Mlp>(0, x));  // it did train
    const Eigen::VectorXf cnn_two = train<Cnn>(3, images);
    CHECK(cnn_two == train<Cnn>(3, images));
    CHECK(cnn_two.isApprox(cnn_one, 1e-4f));
}

TEST_CASE("a transformer trained on 2 threads: the numbers of 1 thread up to rounding, bitwise the same twice",
          "[threads][transformer]") {
    Eigen::VectorXf one;
    {
        const Threads scope(1);
        one = train_gpt(3);
    }
    const Threads scope(2);
    const Eigen::VectorXf two = train_gpt(3);
    CHECK(two == train_gpt(3));
    CHECK(two.isApprox(one, 1e-4f));
    CHECK(two != train_gpt(0));
}

TEST_CASE("layers split by columns give, on 2 threads, the 1-thread numbers", "[threads]") {
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(64, 2048) * 3, dy = Eigen::MatrixXf::Random(64, 2048);
    const Eigen::MatrixXf h = Eigen::MatrixXf::Random(256, 512) * 3, dh = Eigen::MatrixXf::Random(256, 512);
    const Eigen::MatrixXf z = Eigen::MatrixXf::Random(10, 8192) * 4;
    const std::vector<int> y = labels(8192);
    struct Result {
        Batch<float, 64> ln_y, ln_dx;
        Eigen::VectorXf dgamma, dbeta;
        Batch<float, 256> gelu_y, gelu_dx;
        float loss = 0;
        Batch<float, 10> dz;
    };
    auto run = [&] {
        Result r;
        LayerNorm<float, 64> ln;
        ln.gamma.setLinSpaced(0.5f, 1.5f);
        r.ln_y = ln.forward(x);
        r.ln_dx = ln.backward(x, dy);
        r.dgamma = ln.dgamma, r.dbeta = ln.dbeta;
        Activation<float, 256, GELU> gelu;
        r.gelu_y = gelu.forward(h);
        r.gelu_dx = gelu.backward(h, dh);
        SoftmaxCrossEntropy<float, 10> ce;
        r.loss = ce.forward(z, y);
        r.dz = ce.backward();
        return r;
    };
    Result one;
    {
        const Threads scope(1);
        one = run();
    }
    const Threads scope(2);
    const Result two = run();
    // per column, the same operations in the same order: bitwise equal
    CHECK(two.ln_y == one.ln_y);
    CHECK(two.ln_dx == one.ln_dx);
    CHECK(two.gelu_y == one.gelu_y);
    CHECK(two.gelu_dx == one.gelu_dx);
    CHECK(two.loss == one.loss);  // the columns' losses are summed in column order
    CHECK(two.dz == one.dz);
    // dγ and dβ sum over columns in two halves, then add the halves: equal up to rounding
    CHECK(two.dgamma.isApprox(one.dgamma, 1e-5f));
    CHECK(two.dbeta.isApprox(one.dbeta, 1e-5f));
    CHECK(two.dgamma != one.dgamma * 0);
}

TEST_CASE("one model, 2 threads inside and 4 callers outside: every prediction is the single-caller answer",
          "[threads][predict]") {
    const Threads scope(2);
    const Mlp model(3);
    std::vector<Eigen::MatrixXf> inputs;
    std::vector<Batch<float, 10>> expected;
    Mlp::Workspace ws;
    for (int i = 0; i < 8; ++i) {
        inputs.push_back(Eigen::MatrixXf::Random(64, 128 + 16 * i));  // large enough to be split
        expected.push_back(model.predict(inputs.back(), ws));
    }
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> callers;
#if defined(__SANITIZE_THREAD__)
    const int rounds = 5;  // ThreadSanitizer sees a race in one overlapping run; each costs it ~40x
#else
    const int rounds = 50;  // without it, many overlapping runs make a wrong answer likely to show
#endif
    for (int t = 0; t < 4; ++t)
        callers.emplace_back([&, t] {
            Mlp::Workspace own;
            for (int r = 0; r < rounds; ++r)
                for (std::size_t i = 0; i < inputs.size(); ++i)
                    mismatches[std::size_t(t)] += model.predict(inputs[i], own) != expected[i];
        });
    for (auto& c : callers) c.join();
    CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("a steady-state training step on 2 threads allocates nothing", "[threads][allocation]") {
    const Threads scope(2);
    Mlp model(2);
    SoftmaxCrossEntropy<float, 10> ce;
    AdamW<float> adamw;
    SGD<float> sgd({.learning_rate = 0.01f, .momentum = 0.9f});
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(64, 256);
    const std::vector<int> y = labels(256);
    auto adamw_step = [&] {
        model.zero_grad();
        ce.forward(model.forward(x), y);
        model.backward(x, ce.backward());
        adamw.step(model);
    };
    auto sgd_step = [&] {
        ce.forward(model.forward(x), y);
        sgd.step(model, x, ce.backward());
    };
    adamw_step(), adamw_step(), sgd_step(), sgd_step();
    const no_malloc::Counts mlp_counts = no_malloc::count([&] { adamw_step(), sgd_step(); });
    CHECK(mlp_counts.news == 0);
    CHECK(mlp_counts.eigen == 0);

    // and so does a transformer's, with its attention and LayerNorms split over the threads
    auto gpt = std::make_unique<Gpt>(1);
    SoftmaxCrossEntropy<float, 11> gpt_ce;
    SGD<float> gpt_sgd({.learning_rate = 0.01f, .momentum = 0.9f});
    const std::vector<int> ids = tokens(gpt_tokens, 0), next = tokens(gpt_tokens, 1);
    auto gpt_step = [&] {
        gpt_ce.forward(gpt->forward(ids, 64), next);
        gpt_sgd.step(*gpt, ids, gpt_ce.backward());
    };
    gpt_step(), gpt_step();
    const no_malloc::Counts gpt_counts = no_malloc::count(gpt_step, 2);
    CHECK(gpt_counts.news == 0);
    CHECK(gpt_counts.eigen == 0);
}
