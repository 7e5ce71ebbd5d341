// Learning end to end with the transformer: a task that needs attention, reproducibility, and a
// training step that allocates nothing.
#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> news{0};
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    ++news;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#include "../examples/common/reverse_task.hpp"

#include <neuronka/neuronka.hpp>

#include <catch2/catch.hpp>

#include <cstring>

using namespace neuronka;

namespace {
using Model = Transformer<float, 11, 16, 32, 4, 2>;

struct Trainer {
    task::Reverse task{6};
    Model model{7};
    SoftmaxCrossEntropy<float, 11> ce;
    AdamW<float> opt{{.learning_rate = 3e-3f, .weight_decay = 0.0f}};
    Rng rng{8};
    std::vector<int> ids, targets;
    float step() {
        task.batch(32, rng, ids, targets);
        model.zero_grad();
        const float loss = ce.forward(model.forward(ids, task.length()), targets);
        model.backward(ids, ce.backward());
        clip_gradient_norm(model, 1.0);
        opt.step(model);
        return loss;
    }
    double answer_accuracy(int sequences) {
        Rng test_rng(99);
        task.batch(sequences, test_rng, ids, targets);
        const Batch<float, 11>& logits = model.forward(ids, task.length());
        int correct = 0, total = 0;
        for (int c = 0; c < int(ids.size()); ++c)
            if (task.is_answer(c % task.length())) {
                Eigen::Index best;
                logits.col(c).maxCoeff(&best);
                correct += int(best) == targets[std::size_t(c)], ++total;
            }
        return double(correct) / total;
    }
};
}  // namespace

TEST_CASE("a tiny transformer learns to reverse digits", "[learning][transformer]") {
    Trainer trainer;
    const double before = trainer.answer_accuracy(200);
    int steps = 0;
    double accuracy = 0;
    while (steps < 1500) {
        for (int i = 0; i < 100; ++i, ++steps) trainer.step();
        if ((accuracy = trainer.answer_accuracy(200)) >= 0.99) break;
    }
    INFO("accuracy " << accuracy << " after " << steps << " steps (before training " << before << ")");
    WARN("reverse task: accuracy " << accuracy << " after " << steps << " steps (before " << before << ")");
    CHECK(before < 0.3);
    CHECK(accuracy >= 0.99);
}

TEST_CASE("transformer training is bitwise reproducible", "[learning][reproducible]") {
    auto run = [] {
        Trainer t;
        for (int i = 0; i < 5; ++i) t.step();
        std::vector<float> params;
        t.model.visit_parameters([&](ParamView<float> p) {
            for (float v : p.value) params.push_back(v);
        });
        return params;
    };
    const std::vector<float> a = run(), b = run();
    REQUIRE(a.size() == Model::parameter_count);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_CASE("a transformer training step allocates nothing after the first", "[learning][allocation]") {
    Trainer t;
    t.step();
    t.step();
    const long before = news.load();
    for (int i = 0; i < 3; ++i) t.step();
    CHECK(news.load() - before == 0);
}
