// A training step at an unchanged batch size allocates nothing: no operator new, no Eigen malloc.
//
// Two independent counters: a replaced global operator new (catches std::vector, std::string, ...)
// and Eigen's own check (EIGEN_RUNTIME_NO_MALLOC), which sees every heap block Eigen allocates,
// including the packing buffers of its matrix products.
#include "no_malloc.hpp"

#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/io/serialize.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/batch_norm.hpp>
#include <neuronka/layers/conv2d.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/dropout.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/layers/gru.hpp>
#include <neuronka/layers/lstm.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/layers/pool.hpp>
#include <neuronka/layers/rms_norm.hpp>
#include <neuronka/models/llama.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/fit.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/rmsprop.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace neuronka;

namespace {
// Runs `step` twice to size every buffer, then counts allocations over three more steps.
template <class Step>
void check_steady_state(Step&& step) {
    step();
    step();
    const no_malloc::Counts counts = no_malloc::count(step);
    CHECK(counts.news == 0);
    CHECK(counts.eigen == 0);
}
template <class Model, class Loss, class Target>
void check_model(Model& model, Loss& loss, const Batch<float, Model::in_size>& x, const Target& t, SGD<float>& opt) {
    check_steady_state([&] {
        model.zero_grad();
        loss.forward(model.forward(x), t);
        model.backward(x, loss.backward());
        opt.step(model);
    });
    check_steady_state([&] {  // the training step
        loss.forward(model.forward(x), t);
        opt.step(model, x, loss.backward());
    });
}
}  // namespace

TEST_CASE("the counters see allocations", "[allocation]") {
    const no_malloc::Counts vector = no_malloc::count([] { delete new std::vector<int>(10); }, 1);
    CHECK(vector.news >= 2);
    const no_malloc::Counts matrix = no_malloc::count([] { Eigen::MatrixXf m(300, 300); }, 1);
    CHECK(matrix.eigen > 0);
}

TEST_CASE("a steady-state training step allocates nothing", "[allocation]") {
    Rng rng(3);
    SECTION("the lecture's neuron, MSE, plain SGD") {
        Neuron<float, 1> neuron;
        MeanSquaredError<float, 1> mse;
        SGD<float> opt({.learning_rate = 0.01f});
        const Batch<float, 1> x = Batch<float, 1>::Random(1, 32), t = Batch<float, 1>::Random(1, 32);
        check_model(neuron, mse, x, t, opt);
    }
    SECTION("2-16-16-1 tanh MLP, momentum") {
        Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 16>, Tanh, Dense<float, 16, 1>> mlp;
        MeanSquaredError<float, 1> mse;
        SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
        const Batch<float, 2> x = Batch<float, 2>::Random(2, 32);
        const Batch<float, 1> t = Batch<float, 1>::Random(1, 32);
        check_model(mlp, mse, x, t, opt);
    }
    SECTION("RMSNorm between Dense layers, SGD with momentum") {
        Sequential<Dense<float, 8, 32>, RMSNorm<float, 32>, ReLU, Dense<float, 32, 4>> mlp;
        MeanSquaredError<float, 4> mse;
        SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
        const Batch<float, 8> x = Batch<float, 8>::Random(8, 32);
        const Batch<float, 4> t = Batch<float, 4>::Random(4, 32);
        check_model(mlp, mse, x, t, opt);
    }
    SECTION("784-256-128-10 ReLU, softmax cross-entropy (blocked GEMM), Nesterov and weight decay") {
        Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>> mlp;
        SoftmaxCrossEntropy<float, 10> ce;
        SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f, .nesterov = true, .weight_decay = 1e-4f});
        const Batch<float, 784> x = Batch<float, 784>::Random(784, 64);
        std::vector<int> labels(64);
        for (auto& l : labels) l = int(rng.below(10));
        check_model(mlp, ce, x, std::span<const int>(labels), opt);
    }
}

TEST_CASE("a steady-state CNN step allocates nothing", "[allocation][conv]") {
    Sequential<Conv2D<float, 1, 8, 5, 28, 28, 1, 2>, ReLU, MaxPool2D<float, 8, 28, 28, 2>,
               Conv2D<float, 8, 8, 3, 14, 14>, ReLU, AvgPool2D<float, 8, 12, 12, 2>, Dropout<1, 2>,
               Dense<float, 288, 10>>
        cnn(4);
    SoftmaxCrossEntropy<float, 10> ce;
    SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
    const Batch<float, 784> x = Batch<float, 784>::Random(784, 16);
    std::vector<int> labels(16);
    for (int i = 0; i < 16; ++i) labels[std::size_t(i)] = i % 10;
    check_model(cnn, ce, x, std::span<const int>(labels), opt);
}

TEST_CASE("a steady-state transformer step allocates nothing", "[allocation][transformer]") {
    Transformer<float, 11, 8, 16, 2, 2> model(5);
    SoftmaxCrossEntropy<float, 11> ce;
    Rng rng(6);
    std::vector<int> ids(8 * 4), targets(8 * 4);
    for (auto& v : ids) v = int(rng.below(11));
    for (auto& v : targets) v = int(rng.below(11));
    SECTION("AdamW: zero_grad, forward, backward, step") {
        AdamW<float> opt;
        check_steady_state([&] {
            model.zero_grad();
            ce.forward(model.forward(ids, 8), targets);
            model.backward(ids, ce.backward());
            opt.step(model);
        });
    }
    SECTION("SGD with momentum: the training step opt.step(model, x, dy)") {
        SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
        check_steady_state([&] {
            ce.forward(model.forward(ids, 8), targets);
            opt.step(model, ids, ce.backward());
        });
    }
}

TEST_CASE("a steady-state Llama step allocates nothing: RoPE, SwiGLU, RMSNorm; RMSProp and Adagrad",
          "[allocation][llama]") {
    Llama<float, 11, 8, 16, 2, 2> model(5);
    SoftmaxCrossEntropy<float, 11> ce({.label_smoothing = 0.1f});
    Rng rng(6);
    std::vector<int> ids(8 * 4), targets(8 * 4);
    for (auto& v : ids) v = int(rng.below(11));
    for (auto& v : targets) v = int(rng.below(11));
    SECTION("RMSProp (centred, momentum): the training step opt.step(model, x, dy)") {
        RMSProp<float> opt({.momentum = 0.9f, .centered = true});
        check_steady_state([&] {
            ce.forward(model.forward(ids, 8), targets);
            opt.step(model, ids, ce.backward());
        });
    }
    SECTION("Adagrad: zero_grad, forward, backward, step") {
        Adagrad<float> opt;
        check_steady_state([&] {
            model.zero_grad();
            ce.forward(model.forward(ids, 8), targets);
            model.backward(ids, ce.backward());
            opt.step(model);
        });
    }
    SECTION("predict") {
        const auto& frozen = model;
        Llama<float, 11, 8, 16, 2, 2>::Workspace ws;
        check_steady_state([&] { frozen.predict(ids, ws, 8); });
    }
}

TEMPLATE_TEST_CASE("a steady-state recurrent step allocates nothing", "[allocation][gru][lstm]", (GRU<float, 8, 16>),
                   (LSTM<float, 8, 16>)) {
    Sequential<Embedding<float, 7, 8>, TestType, Dense<float, 16, 7>> model(3);
    SoftmaxCrossEntropy<float, 7> ce;
    Rng rng(4);
    std::vector<int> ids(6 * 4), targets(6 * 4);  // 4 sequences of 6
    for (auto& v : ids) v = int(rng.below(7));
    for (auto& v : targets) v = int(rng.below(7));
    SECTION("AdamW: zero_grad, forward, backward, clipping, step") {
        AdamW<float> opt;
        check_steady_state([&] {
            model.zero_grad();
            ce.forward(model.forward(ids, 6), targets);
            model.backward(ids, ce.backward());
            clip_gradient_norm(model, 1.0);
            opt.step(model);
        });
    }
    SECTION("SGD with momentum: the training step opt.step(model, x, dy)") {
        SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
        check_steady_state([&] {
            ce.forward(model.forward(ids, 6), targets);
            opt.step(model, ids, ce.backward());
        });
    }
}

TEST_CASE("predict with a warm workspace allocates nothing", "[allocation][predict]") {
    using Cnn =
        Sequential<Conv2D<float, 1, 8, 5, 28, 28, 1, 2>, BatchNorm2D<float, 8, 28, 28>, ReLU,
                   MaxPool2D<float, 8, 28, 28, 2>, Conv2D<float, 8, 8, 3, 14, 14>, ReLU, AvgPool2D<float, 8, 12, 12, 2>,
                   Flatten, Dropout<1, 2>, Residual<Dense<float, 288, 288>, Tanh>, Dense<float, 288, 10>>;
    const Cnn cnn(4);
    Cnn::Workspace ws;
    const Batch<float, 784> x = Batch<float, 784>::Random(784, 3);
    check_steady_state([&] { cnn.predict(x, ws); });
    using Mlp = Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>>;
    const Mlp mlp(5);
    Mlp::Workspace mws;
    const Batch<float, 784> one = Batch<float, 784>::Random(784, 1);
    check_steady_state([&] { mlp.predict(one, mws); });

    SECTION("every layer that predicts: a transformer, recurrent layers, normalisations, the neuron") {
        using Gpt =
            Gpt2<float, 11, 8, 16, 2, 2>;  // Embedding, positions, LayerNorm, Attention, GELU, Residual, TiedHead
        const auto gpt = std::make_unique<const Gpt>(6);
        Gpt::Workspace gws;
        std::vector<int> ids(8 * 3);
        for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = int(i % 11);
        check_steady_state([&] { gpt->predict(ids, gws, 8); });
        using Recurrent =
            Sequential<Embedding<float, 11, 8>, GRU<float, 8, 16>, LSTM<float, 16, 12>, Dense<float, 12, 11>>;
        const Recurrent rnn(7);
        Recurrent::Workspace rws;
        check_steady_state([&] { rnn.predict(ids, rws, 8); });
        using Normed = Sequential<Dense<float, 6, 16>, BatchNorm<float, 16>, Sigmoid, RMSNorm<float, 16>,
                                  Residual<Dense<float, 16, 16>, ReLU>, Dense<float, 16, 1>>;
        const Normed normed(8);
        Normed::Workspace nws;
        const Batch<float, 6> x6 = Batch<float, 6>::Random(6, 5);
        check_steady_state([&] { normed.predict(x6, nws); });
        const Neuron<float, 6, Sigmoid> neuron(9);
        Neuron<float, 6, Sigmoid>::Workspace neuron_ws;
        check_steady_state([&] { neuron.predict(x6, neuron_ws); });
    }
}

namespace {
// Counts what fit()'s training steps allocate from the second epoch on (the first sizes the buffers).
struct CountSteps {
    no_malloc::Counts counts;
    long news_before = 0;
    int steps = 0;
    template <class S>
    void on_batch_begin(S& s) {
        if (s.epoch < 2) return;
        news_before = count_new::allocations.load();
        no_malloc::eigen_mallocs_while_forbidden = 0;
        Eigen::internal::set_is_malloc_allowed(false);
    }
    template <class S>
    void on_batch_end(S& s) {
        if (s.epoch < 2) return;
        Eigen::internal::set_is_malloc_allowed(true);
        counts.news += count_new::allocations.load() - news_before;
        counts.eigen += no_malloc::eigen_mallocs_while_forbidden.load();
        ++steps;
    }
};
}  // namespace

TEST_CASE("mini-batches and fit's training steps allocate nothing", "[allocation][fit]") {
    Dataset<float, 784> data;
    data.x = Batch<float, 784>::Random(784, 300);
    Rng rng(1);
    for (int i = 0; i < 300; ++i) data.labels.push_back(int(rng.below(10)));
    data.classes = 10;
    const auto [train, valid] = data.split(0.2, 1);
    Batches<float, 784> batches(train, 64, 2, true, Remainder::keep);  // 240 = 3 × 64 + 48: both buffers
    const no_malloc::Counts epoch = no_malloc::count([&] {
        for (batches.start_epoch(); batches.next();) {
        }
    });
    CHECK(epoch.news == 0);
    CHECK(epoch.eigen == 0);

    Sequential<Dense<float, 784, 32>, ReLU, Dense<float, 32, 10>> model(1);
    SoftmaxCrossEntropy<float, 10> ce;
    AdamW<float> opt;
    CountSteps counter;  // the schedule runs inside the counted window too
    fit(model, ce, opt, train, valid, {.epochs = 3, .batch_size = 64, .clip_norm = 5},
        ScheduleLearningRate{LearningRateSchedule::warmup_cosine(1e-3, 2, 9)}, counter);
    CHECK(counter.steps == 6);
    CHECK(counter.counts.news == 0);
    CHECK(counter.counts.eigen == 0);
    SECTION("without clipping: each step is opt.step(model, x, dy)") {
        CountSteps plain;
        fit(model, ce, opt, train, valid, {.epochs = 3, .batch_size = 64}, plain);
        CHECK(plain.steps == 6);
        CHECK(plain.counts.news == 0);
        CHECK(plain.counts.eigen == 0);
    }
}

TEST_CASE("a token stream's batches and fit's training steps on it allocate nothing", "[allocation][fit][tokens]") {
    std::vector<int> stream(500);
    Rng rng(2);
    for (auto& t : stream) t = int(rng.below(11));
    const TokenWindows train(std::span<const int>(stream).first(400), 8),
        valid(std::span<const int>(stream).subspan(400), 8);
    TokenBatches batches(train, 4, 5, 3);
    const no_malloc::Counts draws = no_malloc::count([&] {
        for (batches.start_epoch(); batches.next();) {
        }
    });
    CHECK(draws.news == 0);
    CHECK(draws.eigen == 0);

    // The validation stream (12 windows of 8 and one of 3) is scored between the epochs through
    // predict and fit's own workspace: the training buffers keep their size.
    Transformer<float, 11, 8, 16, 2, 2> model(5);
    SoftmaxCrossEntropy<float, 11> ce;
    AdamW<float> opt;
    CountSteps counter;
    const History h =
        fit(model, ce, opt, train, valid, {.epochs = 3, .batch_size = 4, .clip_norm = 1, .steps_per_epoch = 5},
            ScheduleLearningRate{LearningRateSchedule::warmup_cosine(1e-3, 2, 15)}, counter);
    CHECK(h.epochs.size() == 3);
    CHECK(std::isfinite(h.epochs.back().valid_loss));
    CHECK(counter.steps == 10);
    CHECK(counter.counts.news == 0);
    CHECK(counter.counts.eigen == 0);
}
