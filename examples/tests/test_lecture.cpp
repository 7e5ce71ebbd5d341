// The lecture's tasks and models (examples/lecture, examples/common) learn what the examples say they
// learn: a transformer reverses digits (reproducibly, allocating nothing per step), the neural bigram
// converges to the counting one, word vectors put words used alike close, a composed model finds the
// most frequent digit; the playground's lessons (lecture/lessons.hpp) train as the examples do, the
// tiny GPT's step-by-step trainer taking exactly fit()'s steps; and the charts place their labels
// and legend on free space.
#include "count_new.hpp"

#include "common/svg.hpp"
#include "lecture/bigram.hpp"
#include "lecture/lessons.hpp"
#include "lecture/majority_task.hpp"
#include "lecture/reverse_task.hpp"
#include "lecture/word_vectors.hpp"

#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/io/serialize.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/fit.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/metrics.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace neuronka;
using namespace examples;  // examples/common: cli, plot, words, ...

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
    const long before = count_new::allocations.load();
    for (int i = 0; i < 3; ++i) t.step();
    CHECK(count_new::allocations.load() - before == 0);
}

TEST_CASE("the neural bigram converges to the counting bigram", "[learning][bigram]") {
    // A stream from a random bigram chain over 27 tokens.
    constexpr int V = 27;
    Rng rng(31);
    Eigen::Matrix<double, V, V> chain;  // (next, previous), columns sum to 1
    for (Eigen::Index i = 0; i < chain.size(); ++i) chain(i) = std::pow(rng.uniform(), 3.0);
    chain.array().rowwise() /= chain.colwise().sum().array();
    std::vector<int> stream{0};
    for (int i = 0; i < 60000; ++i) {
        double u = rng.uniform();
        int next = 0;
        while (next < V - 1 && (u -= chain(next, stream.back())) >= 0) ++next;
        stream.push_back(next);
    }
    // Counting: the maximum-likelihood bigram and its loss on the stream.
    Eigen::Matrix<double, V, V> counts = Eigen::Matrix<double, V, V>::Zero();
    for (std::size_t i = 0; i + 1 < stream.size(); ++i) counts(stream[i + 1], stream[i]) += 1;
    double counting = 0;
    for (std::size_t i = 0; i + 1 < stream.size(); ++i)
        counting -= std::log(counts(stream[i + 1], stream[i]) / counts.col(stream[i]).sum());
    counting /= double(stream.size() - 1);

    // Neural: one layer (logits = W · onehot(previous)), trained by SGD on minibatches.
    Embedding<float, V, V> model(1);
    bigram::train(model, stream, 600, /*seed*/ 17);
    SoftmaxCrossEntropy<float, V> ce;
    const std::span<const int> all(stream);
    const double neural = ce.forward(model.forward(all.first(all.size() - 1)), all.subspan(1));
    INFO("counting " << counting << ", neural " << neural);
    CHECK(neural >= counting - 1e-3);  // counting is the optimum on this data
    CHECK(neural < counting * 1.01);
}

TEST_CASE("word vectors: words used alike end up close", "[learning][embeddings]") {
    const wordvec::Vocabulary vocab = wordvec::vocabulary();
    constexpr int V = 42;
    REQUIRE(vocab.words.size() == V);
    Rng rng(11);
    const std::vector<int> stream = wordvec::corpus(vocab, 20000, rng);
    wordvec::Cbow<V, 16> cbow;
    AdamW<float> opt({.learning_rate = 1e-2f, .weight_decay = 0.0f});
    for (int s = 0; s < 2000; ++s) cbow.step(stream, 2, 128, rng, opt);

    int same = 0, content = 0;
    double within = 0, across = 0;
    long n_within = 0, n_across = 0;
    for (int a = 0; a < V; ++a) {
        if (vocab.categories[std::size_t(a)] == "function") continue;
        same += vocab.categories[std::size_t(cbow.nearest(a))] == vocab.categories[std::size_t(a)], ++content;
        for (int b = 0; b < V; ++b) {
            if (b == a || vocab.categories[std::size_t(b)] == "function") continue;
            const bool alike = vocab.categories[std::size_t(a)] == vocab.categories[std::size_t(b)];
            (alike ? within : across) += cbow.similarity(a, b);
            ++(alike ? n_within : n_across);
        }
    }
    within /= double(n_within), across /= double(n_across);
    INFO(same << " of " << content << " nearest neighbours of the same kind; mean cosine within kinds " << within
              << ", across " << across);
    CHECK(same >= content * 9 / 10);
    CHECK(within > across + 0.3);
    CHECK(vocab.categories[std::size_t(cbow.nearest(wordvec::id(vocab, "cat")))] == "animal");
    CHECK(vocab.categories[std::size_t(cbow.nearest(wordvec::id(vocab, "bread")))] == "food");
}

TEST_CASE("a model composed by a user learns which digit occurs most often", "[learning][composed]") {
    // Embedding, positions, Residual attention and MLP, head: composed in examples/lecture/majority_task.hpp.
    task::MajorityTrainer seeing_all(5);
    for (int s = 0; s < 300; ++s) seeing_all.step();
    const double accuracy = seeing_all.accuracy(1000);
    INFO("held-out accuracy " << accuracy);
    CHECK(accuracy >= 0.95);

    // The same model with the causal mask: the first token sees only itself, so it cannot do
    // better than guessing from its own digit (about 42 %).
    task::MajorityTrainer first_sees_itself(5);
    first_sees_itself.model.layer<2>().layer<1>().causal = true;
    for (int s = 0; s < 300; ++s) first_sees_itself.step();
    const double causal_accuracy = first_sees_itself.accuracy(1000);
    INFO("causal held-out accuracy " << causal_accuracy);
    CHECK(causal_accuracy < 0.6);
}

TEST_CASE("the neuron lesson converges to the least-squares line; a rate too large diverges", "[learning][lessons]") {
    lessons::NeuronLesson neuron(0.1f);
    const float first = neuron.step();
    for (int i = 0; i < 200; ++i) neuron.step();
    const auto [w, b] = neuron.least_squares();
    CHECK(neuron.w() == Approx(w).margin(1e-4));
    CHECK(neuron.b() == Approx(b).margin(1e-4));
    CHECK(neuron.loss() < first / 20);
    lessons::NeuronLesson wild(1.5f);  // beyond 1 / (largest eigenvalue of the inputs' second moments)
    CHECK_THROWS_WITH(
        [&] {
            for (int i = 0; i < 1000; ++i) wild.step();
        }(),
        Catch::Contains("lower the learning rate"));
    CHECK_THROWS_WITH(lessons::NeuronLesson(-1.f), Catch::Contains("learning_rate is -1"));
}

TEST_CASE("XOR lesson: the MLP separates the classes, one neuron cannot", "[learning][lessons]") {
    const lessons::XorData data;
    lessons::XorTrainer<Neuron<float, 2>> neuron(data);
    lessons::XorTrainer<lessons::XorMlp<4, ReLU>> mlp(data);
    for (int s = 0; s < 300; ++s) neuron.step(), mlp.step();
    CHECK(mlp.accuracy() > 0.97);
    CHECK(neuron.accuracy() < 0.8);
    const std::vector<float> p = mlp.probabilities(10);  // the corners: (-2.25, -2.25) class 0, (2.25, -2.25) class 1
    REQUIRE(p.size() == 100);
    CHECK(p[0] < 0.5f);
    CHECK(p[9] > 0.5f);
}

TEST_CASE("the tiny GPT lesson's trainer takes exactly fit()'s steps", "[learning][lessons]") {
    std::string text;
    for (int i = 0; i < 12; ++i) text += words::builtin_text + std::string("\n");
    long skipped = 0;
    const std::vector<int> tokens = lessons::gpt::encode(text, skipped);
    REQUIRE(skipped == 0);
    const int steps = 4;
    lessons::gpt::Trainer trainer(tokens, steps, "test");
    std::vector<double> stepped;
    for (int s = 0; s < steps; ++s) stepped.push_back(trainer.step());

    // what tiny_gpt.cpp runs
    auto model = std::make_unique<lessons::gpt::Model>(lessons::gpt::model_seed);
    SoftmaxCrossEntropy<float, lessons::gpt::vocab> ce;
    AdamW<float> opt(lessons::gpt::optimizer_options());
    const std::span<const int> stream(tokens);
    const TokenWindows windows(stream.first(lessons::gpt::split(tokens.size(), "test")), lessons::gpt::context);
    std::vector<double> fitted;
    struct Record {
        std::vector<double>& losses;
        void on_batch_end(FitState<lessons::gpt::Model, AdamW<float>>& s) { losses.push_back(s.loss); }
    } record{fitted};
    fit(*model, ce, opt, windows,
        {.epochs = 1,
         .batch_size = lessons::gpt::batch,
         .seed = lessons::gpt::batch_seed,
         .clip_norm = lessons::gpt::clip_norm,
         .steps_per_epoch = std::size_t(steps)},
        ScheduleLearningRate{lessons::gpt::schedule(steps)}, record);
    CHECK(stepped == fitted);
    CHECK(stepped.back() < stepped.front());
    CHECK_THROWS_WITH(trainer.step(), Catch::Contains("all planned steps are done"));
    CHECK_THROWS_WITH(lessons::gpt::Trainer(std::span<const int>(tokens).first(100), 5, "short"),
                      Catch::Contains("short: text too short: 100 characters, need at least 650"));
}

TEST_CASE("chart labels cover neither each other nor the points, and the legend covers no data", "[figures]") {
    // 40 words in a tight cluster, as on the embedding map.
    Rng rng(3);
    std::vector<std::pair<double, double>> points;
    std::vector<std::string> texts;
    for (int i = 0; i < 40; ++i) {
        points.emplace_back(300 + 40 * rng.uniform(), 200 + 40 * rng.uniform());
        texts.push_back(std::string(3 + rng.below(5), char('a' + i % 26)));
    }
    const plot::Box area{70, 36, 700, 432};
    const std::vector<plot::Box> boxes = plot::place_labels(points, texts, area);
    REQUIRE(boxes.size() == 40);
    for (std::size_t i = 0; i < boxes.size(); ++i) {
        CHECK(boxes[i].x1 - boxes[i].x0 == Approx(7.0 * double(texts[i].size())));
        CHECK(area.overlap(boxes[i]) == Approx((boxes[i].x1 - boxes[i].x0) * (boxes[i].y1 - boxes[i].y0)));
        for (std::size_t j = 0; j < i; ++j) CHECK(boxes[i].overlap(boxes[j]) == 0);
        for (const auto& [x, y] : points) CHECK_FALSE(boxes[i].contains(x, y));
    }
    // A legend moves to a free corner: here the data fill the top right, so it goes elsewhere.
    const std::string path = test::temp_path("legend.svg");
    std::vector<double> x, y;
    for (int i = 0; i <= 50; ++i) x.push_back(i), y.push_back(i);  // the diagonal: bottom left to top right
    plot::Chart("c", "x", "y").line(x, y, plot::palette(0), "the diagonal").write(path);
    std::ifstream in(path);
    const std::string svg{std::istreambuf_iterator<char>(in), {}};
    const std::size_t end = svg.find("' fill='white' fill-opacity"), start = svg.rfind("<rect ", end);
    REQUIRE(end != std::string::npos);
    REQUIRE(start != std::string::npos);
    const std::string rect = svg.substr(start, end - start);  // <rect x='..' y='..' width='..' height='..
    auto attribute = [&](const std::string& name) {
        const std::size_t at = rect.find(" " + name + "='");
        REQUIRE(at != std::string::npos);
        return std::stod(rect.substr(at + name.size() + 3));
    };
    const plot::Box legend{attribute("x"), attribute("y"), attribute("x") + attribute("width"),
                           attribute("y") + attribute("height")};
    CHECK(legend.x0 < 360);  // top left: the other corner the diagonal leaves free
    CHECK(legend.y0 < 100);
}
