// Metrics (accuracy, confusion matrix, mean NLL and perplexity, MSE) against the losses the models
// train with and against direct counts; fit() against the explicit loop it writes once, with its
// history, CSV and callbacks; the experiment statistics against closed forms of Student's
// t and by simulation: a 95 % interval covers the true mean about 95 % of the time, and a test at
// 5 % calls a difference that is not there about 5 % of the time.
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/data/csv.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/dropout.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/experiment.hpp>
#include <neuronka/train/experiment_files.hpp>
#include <neuronka/train/fit.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/metrics.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include "file_size_limit.hpp"
#include "xor_run.hpp"

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <vector>

using namespace neuronka;
using Catch::Matchers::Contains;

namespace {
std::vector<double> normal_sample(Rng& rng, int n, double mean, double sd) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& x : v) x = mean + sd * rng.normal();
    return v;
}
}  // namespace

TEST_CASE("accuracy and the confusion matrix count what the largest score says", "[metrics]") {
    Eigen::MatrixXf scores(3, 5);
    scores << 0.1f, 2.0f, 0.3f, 5.0f, 1.0f,  //
        0.7f, 1.0f, 0.3f, 1.0f, 1.0f,        //
        0.2f, 0.5f, 0.9f, 4.0f, 1.0f;        // column 4 is a tie: the first row wins
    const std::vector<int> labels = {1, 0, 2, 2, 0};
    CHECK(predicted_classes(scores) == std::vector<int>{1, 0, 2, 0, 0});
    CHECK(accuracy(scores, labels) == Approx(4.0 / 5));
    CHECK(count_correct(scores, labels) == 4);
    CHECK(count_correct(scores, std::vector<int>{1, 0, 2, 2, 2}) == 3);  // the tie goes to row 0, not 2
    // A selection of columns (as the examples pass their answer positions): columns 1 and 3.
    CHECK(predicted_classes(scores(Eigen::all, Eigen::seqN(1, 2, 2))) == std::vector<int>{0, 0});
    CHECK(accuracy(scores(Eigen::all, std::vector<int>{2, 3}), std::vector<int>{2, 2}) == Approx(0.5));

    ConfusionMatrix cm(3);
    cm.add(scores, labels);
    cm.add(scores.leftCols(2), std::vector<int>{1, 1});
    CHECK(cm.total() == 7);
    CHECK(cm(1, 1) == 2);  // column 0 twice
    CHECK(cm(1, 0) == 1);  // column 1 of the second batch
    CHECK(cm(2, 0) == 1);  // column 3: truth 2, predicted 0
    CHECK(cm.counts().trace() == 5);
    CHECK(cm.accuracy() == Approx(5.0 / 7));
    CHECK(cm.recall(2) == Approx(0.5));
    CHECK(cm.precision(0) == Approx(2.0 / 4));  // predicted 0: columns 1, 3, 4 and the second batch's column 1

    CHECK_THROWS_WITH(accuracy(scores, std::vector<int>{1, 0, 2}),
                      Contains("accuracy: labels has 3 entries, expected 5"));
    CHECK_THROWS_WITH(accuracy(scores, std::vector<int>{1, 0, 3, 0, 0}),
                      Contains("accuracy: label 3 at sample 2 is out of range [0, 3)"));
    CHECK_THROWS_WITH(cm.add(Eigen::MatrixXf::Zero(4, 1), std::vector<int>{0}),
                      Contains("ConfusionMatrix::add: scores has 4 rows, expected 3"));
    CHECK_THROWS_AS(ConfusionMatrix(0), std::invalid_argument);
}

TEST_CASE("mean NLL is the cross-entropy a model trains with; MSE is the squared-error loss", "[metrics]") {
    Rng rng(4);
    Eigen::MatrixXf logits(10, 7);
    for (Eigen::Index i = 0; i < logits.size(); ++i) logits(i) = float(3 * rng.normal());
    std::vector<int> labels;
    for (int b = 0; b < 7; ++b) labels.push_back(int(rng.below(10)));
    SoftmaxCrossEntropy<float, 10> ce;
    CHECK(mean_nll(logits, labels) == Approx(ce.forward(logits, labels)).epsilon(1e-5));
    CHECK(perplexity(mean_nll(Eigen::MatrixXf::Zero(10, 3), std::vector<int>{0, 4, 9})) ==
          Approx(10.0));  // uniform: 10 choices

    const Eigen::MatrixXf y = logits.topRows(2), t = logits.bottomRows(2);
    MeanSquaredError<float, 2> mse;
    CHECK(mean_squared_error(y, t) == Approx(mse.forward(y, t)).epsilon(1e-5));
    CHECK_THROWS_WITH(mean_squared_error(y, logits.topRows(3)),
                      Contains("mean_squared_error: target has 3 rows, expected 2"));

    // Binary accuracy: a logit above 0 says 1, a target above 0.5 is 1.
    Eigen::MatrixXf z(1, 5), targets(1, 5);
    z << 2.0f, -0.5f, 0.1f, -3.0f, 0.0f;
    targets << 1, 0, 0, 0, 1;  // right, right, wrong, right, wrong (0 is not above 0)
    CHECK(binary_accuracy(z, targets) == Approx(0.6));
    CHECK(binary_accuracy(z, (z.array() > 0).cast<float>().matrix()) == 1.0);
    CHECK_THROWS_WITH(binary_accuracy(z, targets.leftCols(4)),
                      Contains("binary_accuracy: targets has 4 columns, expected 5"));
}

TEST_CASE("Student's t: the closed forms at 1 and 2 degrees of freedom, the normal far out, and its inverse",
          "[experiment]") {
    for (double t : {-7.5, -1.3, -0.2, 0.0, 0.4, 2.1, 12.0}) {
        CHECK(student_t_cdf(t, 1) == Approx(0.5 + std::atan(t) / std::numbers::pi).margin(1e-12));  // Cauchy
        CHECK(student_t_cdf(t, 2) == Approx(0.5 + t / (2 * std::sqrt(2 + t * t))).margin(1e-12));
        CHECK(student_t_cdf(t, 1e7) == Approx(0.5 * std::erfc(-t / std::numbers::sqrt2)).margin(1e-6));
    }
    for (double dof : {1.0, 2.5, 4.0, 9.0, 30.0})
        for (double p : {0.001, 0.05, 0.5, 0.9, 0.975})
            CHECK(student_t_cdf(student_t_quantile(p, dof), dof) == Approx(p).margin(1e-10));
    CHECK(student_t_quantile(0.975, 1) == Approx(std::tan(std::numbers::pi * 0.475)).epsilon(1e-9));
    CHECK_THROWS_WITH(student_t_quantile(1.0, 3), Contains("student_t_quantile: p = 1"));
    CHECK_THROWS_AS(student_t_cdf(0.5, 0), std::invalid_argument);
}

TEST_CASE("a summary's 95 % interval covers the true mean in about 95 % of experiments", "[experiment]") {
    const std::vector<double> five = {1, 2, 3, 4, 5};
    const Summary s = summarize(five);
    CHECK(s.runs == 5);
    CHECK(s.mean == Approx(3));
    CHECK(s.sd == Approx(std::sqrt(2.5)));
    CHECK(s.half_width() == Approx(student_t_quantile(0.975, 4) * std::sqrt(2.5) / std::sqrt(5.0)));
    CHECK_THAT(s.str(2), Contains("3.00 ± 1.96 (95 % CI, 5 runs, sd 1.58)"));

    Rng rng(11);
    int covered = 0;
    const int experiments = 4000;
    for (int e = 0; e < experiments; ++e) {
        const Summary r = summarize(normal_sample(rng, 5, 0.87, 0.01));
        covered += r.ci_low <= 0.87 && 0.87 <= r.ci_high;
    }
    CHECK(double(covered) / experiments == Approx(0.95).margin(0.015));

    CHECK_THROWS_WITH(summarize(std::vector<double>{1.0}), Contains("summarize: 1 results; expected at least 2"));
    CHECK_THROWS_WITH(summarize(std::vector<double>{1.0, NAN}), Contains("result 1 is not finite"));
    CHECK_THROWS_WITH(summarize(five, 1.5), Contains("confidence 1.5"));
}

TEST_CASE("comparisons: about 5 % false alarms with no difference, a verdict when there is one", "[experiment]") {
    Rng rng(12);
    int welch_alarms = 0, paired_alarms = 0;
    const int experiments = 4000;
    for (int e = 0; e < experiments; ++e) {
        const auto a = normal_sample(rng, 5, 0.5, 0.02), b = normal_sample(rng, 5, 0.5, 0.02);
        welch_alarms += compare(a, b).verdict() != Verdict::no_difference;
        paired_alarms += compare(a, b, Pairing::by_seed).verdict() != Verdict::no_difference;
    }
    CHECK(double(welch_alarms) / experiments == Approx(0.05).margin(0.015));
    CHECK(double(paired_alarms) / experiments == Approx(0.05).margin(0.015));

    // A real difference of 5 sd: found, with the right sign, and inside its interval.
    const auto low = normal_sample(rng, 5, 0.80, 0.01), high = normal_sample(rng, 5, 0.85, 0.01);
    const Comparison c = compare(high, low);
    CHECK(c.verdict() == Verdict::first_higher);
    CHECK(compare(low, high).verdict() == Verdict::second_higher);
    CHECK(c.ci_low < 0.05);
    CHECK(0.05 < c.ci_high);
    CHECK(c.ci_low > 0);
    CHECK_THAT(c.str(), Contains("Welch") && Contains("first higher"));

    // What a seed does to both configurations cancels when runs are paired by seed: a small,
    // consistent gain hidden in the seeds' spread for Welch's test is found by the paired one.
    std::vector<double> base, better;
    for (int seed = 0; seed < 6; ++seed) {
        const double luck = 0.05 * rng.normal();  // the seed's effect on both
        base.push_back(0.8 + luck + 0.001 * rng.normal());
        better.push_back(0.8 + luck + 0.01 + 0.001 * rng.normal());
    }
    CHECK(compare(better, base).verdict() == Verdict::no_difference);
    const Comparison paired = compare(better, base, Pairing::by_seed);
    CHECK(paired.verdict() == Verdict::first_higher);
    CHECK(paired.dof == 5);

    CHECK_THROWS_WITH(compare(base, std::vector<double>{1, 2, 3}, Pairing::by_seed),
                      Contains("compare: paired by seed, but 6 and 3 results"));
    CHECK_THROWS_WITH(compare(base, std::vector<double>{1}), Contains("expected at least 2 each"));
}

TEST_CASE("run_seeds runs each seed once, in order, and a seeded run reproduces", "[experiment]") {
    std::vector<std::uint64_t> seen;
    const auto noisy = [&](std::uint64_t seed) {
        seen.push_back(seed);
        Rng rng(seed);
        return rng.normal();
    };
    const std::vector<double> first = run_seeds(4, noisy, 10);
    CHECK(seen == std::vector<std::uint64_t>{10, 11, 12, 13});
    CHECK(run_seeds(4, noisy, 10) == first);  // bitwise: all randomness came from the seed
    CHECK(seeds(3) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK_THROWS_AS(seeds(0), std::invalid_argument);
}

TEST_CASE("an experiment: 8 hidden units fit XOR better than 2 in the same steps, over 20 seeds", "[experiment]") {
    using Narrow = Sequential<Dense<double, 2, 2>, Tanh, Dense<double, 2, 1>>;
    using Wide = Sequential<Dense<double, 2, 8>, Tanh, Dense<double, 8, 1>>;
    const std::vector<double> narrow = run_seeds(20, xor_loss<Narrow>), wide = run_seeds(20, xor_loss<Wide>);
    const Comparison c = compare(narrow, wide, Pairing::by_seed);
    std::printf("XOR, final MSE over 20 seeds: 2 hidden %s; 8 hidden %s\n  %s\n", c.a.str().c_str(), c.b.str().c_str(),
                c.str().c_str());
    REQUIRE(c.verdict() == Verdict::first_higher);  // the narrow model's loss is higher
    CHECK(c.ci_low > 0);
    CHECK(run_seeds(20, xor_loss<Narrow>) == narrow);  // the experiment reproduces bit for bit
}

namespace {
using Classifier = Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 2>>;

// Points in [-1, 1]²; class 1 where x·y > 0 (XOR of the signs), the target x·y for regression.
Dataset<float, 2> quadrants(int n, std::uint64_t seed) {
    Rng rng(seed);
    Dataset<float, 2> d;
    d.x.resize(2, n);
    d.targets.resize(1, n);
    for (int i = 0; i < n; ++i) {
        d.x(0, i) = float(rng.uniform(-1, 1)), d.x(1, i) = float(rng.uniform(-1, 1));
        d.labels.push_back(d.x(0, i) * d.x(1, i) > 0);
        d.targets(0, i) = d.x(0, i) * d.x(1, i);
    }
    d.classes = 2;
    return d;
}

template <class Model>
std::vector<float> parameters_of(Model& m) {
    std::vector<float> v;
    m.visit_parameters([&](auto p) {
        for (Eigen::Index i = 0; i < p.value.size(); ++i) v.push_back(p.value.data()[i]);
    });
    return v;
}

std::string temp_file(const std::string& name) {
    return test::temp_path(name);
}

std::string read_all(std::FILE* f) {
    std::rewind(f);
    std::string s;
    for (int ch; (ch = std::fgetc(f)) != EOF;) s += char(ch);
    return s;
}
}  // namespace

TEST_CASE("fit trains a classifier and its history reads back as CSV", "[fit]") {
    const auto [train, valid] = quadrants(600, 1).split(0.25, 2);
    Classifier model(3);
    SoftmaxCrossEntropy<float, 2> ce;
    AdamW<float> opt({.learning_rate = 1e-2f});
    const History h = fit(model, ce, opt, train, valid, {.epochs = 25, .batch_size = 16, .seed = 4});
    REQUIRE(h.epochs.size() == 25);
    const EpochRecord &first = h.epochs.front(), &last = h.epochs.back();
    CHECK(last.train_loss < 0.5 * first.train_loss);
    CHECK(last.valid_accuracy > 0.9);
    CHECK(last.train_accuracy > 0.9);
    CHECK(last.learning_rate == Approx(1e-2));
    CHECK(last.samples_per_second > 0);
    CHECK(last.seconds >= first.seconds);
    for (std::size_t e = 0; e < h.epochs.size(); ++e) CHECK(h.epochs[e].epoch == int(e + 1));
    // valid_loss is the loss of the whole validation set in evaluation mode
    SoftmaxCrossEntropy<float, 2> check;
    CHECK(double(check.forward(model.forward(valid.x), valid.labels)) == Approx(last.valid_loss).epsilon(1e-5));
    CHECK(accuracy(model.forward(valid.x), valid.labels) == Approx(last.valid_accuracy));

    // The CSV: a header, one row per epoch, the figures to 9 significant digits.
    const std::string path = temp_file("history.csv");
    h.write_csv(path);
    const Dataset<double, 8> table = read_csv<double, 8>(path, {.label_kind = CsvLabel::none});
    REQUIRE(table.size() == 25);
    for (Eigen::Index e = 0; e < 25; ++e) {
        const EpochRecord& r = h.epochs[std::size_t(e)];
        CHECK(table.x(0, e) == r.epoch);
        CHECK(table.x(1, e) == Approx(r.train_loss).epsilon(1e-8));
        CHECK(table.x(4, e) == Approx(r.valid_accuracy).epsilon(1e-8));
        CHECK(table.x(7, e) == Approx(r.seconds).epsilon(1e-8));
    }
    CHECK(h.csv().substr(0, h.csv().find('\n')) ==
          "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,learning_rate,samples_per_second,seconds");
    // Out of space: the previous history stays whole.
    const std::string before = h.csv();
    History longer = h;
    for (int k = 0; k < 2000; ++k) longer.epochs.push_back(h.epochs.back());
    {
        const FileSizeLimit limit(before.size() + 100);
        CHECK_THROWS_WITH(longer.write_csv(path), Contains("File too large") && Contains("previous file is unchanged"));
    }
    CHECK(read_csv<double, 8>(path, {.label_kind = CsvLabel::none}).x == table.x);
}

TEST_CASE("fit is the explicit loop written once: the same steps give the same parameters, bit for bit", "[fit]") {
    const Dataset<float, 2> train = quadrants(200, 5);
    Classifier by_fit(7), by_hand(7);
    SoftmaxCrossEntropy<float, 2> ce1, ce2;
    SGD<float> opt1({.learning_rate = 0.1f, .momentum = 0.9f}), opt2({.learning_rate = 0.1f, .momentum = 0.9f});
    fit(by_fit, ce1, opt1, train, {.epochs = 3, .batch_size = 32, .seed = 9});

    Batches<float, 2> batches(train, 32, 9, true, Remainder::drop);
    for (int epoch = 0; epoch < 3; ++epoch)
        for (batches.start_epoch(); batches.next();) {
            by_hand.zero_grad();
            ce2.forward(by_hand.forward(batches.x()), batches.labels());
            opt2.step(by_hand, batches.x(), ce2.backward());
        }
    CHECK(parameters_of(by_fit) == parameters_of(by_hand));
    CHECK(parameters_of(by_fit) != parameters_of(*std::make_unique<Classifier>(7)));  // it trained
}

TEST_CASE("fit on a token stream is the language-model loop written once, and scores every held-out position",
          "[fit][tokens]") {
    // Tokens that mostly follow a rule (t -> 3t + 1 mod V); the positional embedding makes a
    // window's outputs depend on each token's position in it, so the windows' grouping matters.
    constexpr int V = 7, C = 5;
    using LM = Sequential<Embedding<float, V, 12>, PositionalEmbedding<float, C, 12>, Tanh, Dense<float, 12, V>>;
    std::vector<int> stream(400);
    Rng rng(3);
    for (std::size_t i = 1; i < stream.size(); ++i)
        stream[i] = rng.uniform() < 0.9 ? (3 * stream[i - 1] + 1) % V : int(rng.below(V));
    const TokenWindows train(std::span<const int>(stream).first(300), C),
        valid(std::span<const int>(stream).subspan(300), C);
    const auto schedule = LearningRateSchedule::warmup_cosine(1e-2, 5, 60, 1e-3);
    LM by_fit(1), by_hand(1);
    SoftmaxCrossEntropy<float, V> ce1, ce2;
    AdamW<float> opt1({.learning_rate = 1e-2f}), opt2({.learning_rate = 1e-2f});
    const History h = fit(by_fit, ce1, opt1, train, valid,
                          {.epochs = 3, .batch_size = 4, .seed = 8, .clip_norm = 1, .steps_per_epoch = 20},
                          ScheduleLearningRate{schedule});

    Rng draws(8);
    std::vector<int> ids, targets;
    for (int s = 0; s < 60; ++s) {
        train.sample(4, draws, ids, targets);
        by_hand.zero_grad();
        ce2.forward(by_hand.forward(ids, C), targets);
        by_hand.backward(ids, ce2.backward());
        clip_gradient_norm(by_hand, 1.0);
        opt2.set_learning_rate(float(schedule(s)));
        opt2.step(by_hand);
    }
    CHECK(parameters_of(by_fit) == parameters_of(by_hand));

    // Validation: every position of the held-out stream (99 = 19 windows of 5 and one of 4), here one window at a time.
    REQUIRE(valid.count() == 20);
    double nll = 0;
    std::size_t correct = 0, positions = 0;
    for (std::size_t k = 0; k < valid.count(); ++k) {
        const auto [in, next] = valid.window(k);
        const auto& z = by_hand.forward(in, int(in.size()));
        nll += mean_nll(z, next) * double(in.size());
        correct += count_correct(z, next), positions += in.size();
    }
    REQUIRE(positions == 99);
    const EpochRecord& last = h.epochs.back();
    CHECK(last.valid_loss == Approx(nll / 99).epsilon(1e-5));
    CHECK(last.valid_accuracy == Approx(double(correct) / 99));
    CHECK(last.valid_loss < h.epochs.front().valid_loss);  // it learned the rule
    CHECK(last.valid_accuracy > 0.5);
    CHECK_THROWS_WITH(fit(by_fit, ce1, opt1, train, {.epochs = 1}), Contains("steps per epoch is 0"));
}

TEST_CASE("fit trains in training mode whatever mode the model was left in", "[fit]") {
    using WithDropout = Sequential<Dense<float, 2, 16>, Tanh, Dropout<1, 2>, Dense<float, 16, 2>>;
    const Dataset<float, 2> train = quadrants(200, 5);
    auto trained = [&](Mode before) {
        WithDropout model(3);
        model.set_mode(before);  // as after an evaluation by the user
        SoftmaxCrossEntropy<float, 2> ce;
        SGD<float> opt({.learning_rate = 0.1f});
        fit(model, ce, opt, train, {.epochs = 2, .batch_size = 20});
        std::vector<float> v;
        model.visit_parameters([&](auto p) {
            for (Eigen::Index i = 0; i < p.value.size(); ++i) v.push_back(p.value.data()[i]);
        });
        return v;
    };
    CHECK(trained(Mode::evaluation) == trained(Mode::training));  // dropout was on in both
}

TEST_CASE("a fit reproduces from its seeds, and another seed gives another run", "[fit]") {
    const auto parts = quadrants(300, 1).split(0.2, 2);
    const auto& train = std::get<0>(parts);  // not a structured binding: the lambda below captures them
    const auto& valid = std::get<1>(parts);
    auto run = [&](std::uint64_t init, std::uint64_t order) {
        Classifier model(init);
        SoftmaxCrossEntropy<float, 2> ce;
        AdamW<float> opt({.learning_rate = 5e-3f});
        const History h = fit(model, ce, opt, train, valid, {.epochs = 4, .batch_size = 20, .seed = order});
        std::vector<double> losses;
        for (const auto& e : h.epochs) losses.push_back(e.train_loss), losses.push_back(e.valid_loss);
        return losses;
    };
    CHECK(run(1, 1) == run(1, 1));
    CHECK(run(1, 1) != run(1, 2));  // the batch order
    CHECK(run(1, 1) != run(2, 1));  // the initialisation
}

TEST_CASE("fit regresses targets with a regression loss; accuracy does not apply", "[fit]") {
    const auto [train, valid] = quadrants(400, 3).split(0.25, 4);
    Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 1>> model(5);
    MeanSquaredError<float, 1> mse;
    AdamW<float> opt({.learning_rate = 1e-2f});
    const History h = fit(model, mse, opt, train, valid, {.epochs = 30, .batch_size = 16});
    CHECK(h.epochs.back().valid_loss < 0.3 * h.epochs.front().valid_loss);
    CHECK(std::isnan(h.epochs.back().train_accuracy));
    CHECK(std::isnan(h.epochs.back().valid_accuracy));
    CHECK(h.csv().find("\n30,") != std::string::npos);
    CHECK(h.csv().find(",,") != std::string::npos);  // empty cells where accuracy does not apply

    Dataset<float, 2> unlabelled = train;
    unlabelled.labels.clear();
    Classifier classifier(1);
    SoftmaxCrossEntropy<float, 2> ce;
    CHECK_THROWS_WITH(fit(classifier, ce, opt, unlabelled, {.epochs = 1}),
                      Contains("fit: the loss takes class labels, but the data set has none"));
    CHECK_THROWS_WITH(fit(classifier, ce, opt, train, {.epochs = -1}), Contains("fit: epochs is -1, expected >= 0"));
}

TEST_CASE("callbacks: a learning-rate schedule, early stopping, the best checkpoint, a progress line", "[fit]") {
    const auto [train, valid] = quadrants(320, 1).split(0.25, 2);  // 240 training samples: 15 batches of 16
    SECTION("the schedule sets the rate before every step") {
        Classifier model(3);
        SoftmaxCrossEntropy<float, 2> ce;
        AdamW<float> opt;
        const auto schedule = LearningRateSchedule::warmup_cosine(1e-2, 10, 15 * 6, 1e-4);
        const History h =
            fit(model, ce, opt, train, valid, {.epochs = 6, .batch_size = 16}, ScheduleLearningRate{schedule});
        for (const EpochRecord& e : h.epochs) CHECK(e.learning_rate == Approx(schedule(15 * e.epoch - 1)));
    }
    SECTION("ReduceOnPlateau lowers the rate after an epoch whose validation loss did not improve") {
        Classifier model(3);
        SoftmaxCrossEntropy<float, 2> ce;
        SGD<float> opt({.learning_rate = 0.5f});
        ReduceOnPlateau plateau{.factor = 0.5, .patience = 0, .threshold = 0.05};
        const History h = fit(model, ce, opt, train, valid, {.epochs = 8, .batch_size = 16}, plateau);
        // the rule replayed on the recorded losses: each epoch ran at the rate the one before set
        ReduceOnPlateau replay = plateau;
        replay.on_fit_begin(h);
        float rate = 0.5f;
        for (const EpochRecord& e : h.epochs) {
            CHECK(e.learning_rate == Approx(rate));
            rate = float(replay.next(e.valid_loss, rate));
        }
        CHECK(plateau.reductions == replay.reductions);
        CHECK(plateau.reductions > 0);  // a 5 % better loss every epoch for 8 epochs is not expected
        CHECK(opt.options().learning_rate == Approx(rate));
    }
    SECTION("early stopping ends training `patience` epochs after the best") {
        struct {
            History history;
            bool stop = false;
        } state;
        EarlyStopping es{.patience = 2, .min_delta = 0.01};
        es.on_fit_begin(state);
        for (double loss : {1.0, 0.9, 0.895, 0.95}) {  // 0.895 is no improvement beyond min_delta
            EpochRecord r;
            r.epoch = int(state.history.epochs.size()) + 1, r.valid_loss = loss;
            state.history.epochs.push_back(r);
            es.on_epoch_end(state);
            CHECK(state.stop == (r.epoch == 4));
        }
        CHECK(es.best_epoch == 2);
        // In a fit whose validation labels are noise: it stops, `patience` epochs after its best.
        Dataset<float, 2> noise = valid;
        Rng rng(1);
        for (int& l : noise.labels) l = int(rng.below(2));
        Classifier model(3);
        SoftmaxCrossEntropy<float, 2> ce;
        AdamW<float> opt({.learning_rate = 2e-2f});
        EarlyStopping stopper{.patience = 3};
        const History h = fit(model, ce, opt, train, noise, {.epochs = 60, .batch_size = 16}, stopper);
        REQUIRE(h.epochs.size() < 60);
        CHECK(int(h.epochs.size()) == stopper.best_epoch + 3);
        CHECK(h.best_epoch() == stopper.best_epoch);
    }
    SECTION("checkpoints: the latest model, and the best one") {
        const std::string latest = temp_file("latest.nkpt"), best = temp_file("best.nkpt");
        Classifier model(3);
        SoftmaxCrossEntropy<float, 2> ce;
        AdamW<float> opt({.learning_rate = 2e-2f});
        Checkpoints saves{.path = latest, .best_path = best, .every = 4};
        const History h = fit(model, ce, opt, train, valid, {.epochs = 10, .batch_size = 16}, saves);
        Classifier loaded(0);
        load(loaded, latest);  // saved after the last epoch too, though 10 is no multiple of 4
        CHECK(parameters_of(loaded) == parameters_of(model));
        load(loaded, best);
        REQUIRE(saves.best_epoch == h.best_epoch());
        const EpochRecord& b = h.epochs[std::size_t(saves.best_epoch - 1)];
        SoftmaxCrossEntropy<float, 2> check;
        CHECK(double(check.forward(loaded.forward(valid.x), valid.labels)) == Approx(b.valid_loss).epsilon(1e-5));
    }
    SECTION("the progress line: plain lines in a file, a line redrawn in place on a terminal") {
        for (auto style : {ProgressLine::Style::automatic, ProgressLine::Style::terminal}) {
            std::FILE* out = std::tmpfile();
            REQUIRE(out);
            Classifier model(3);
            SoftmaxCrossEntropy<float, 2> ce;
            AdamW<float> opt;
            fit(model, ce, opt, train, valid, {.epochs = 3, .batch_size = 16}, ProgressLine(out, style));
            const std::string text = read_all(out);
            std::fclose(out);
            CHECK(text.find("epoch 3/3  loss ") != std::string::npos);
            CHECK(text.find("valid accuracy") != std::string::npos);
            CHECK(std::count(text.begin(), text.end(), '\n') == 3);
            if (style == ProgressLine::Style::automatic) {  // a file is not a terminal
                CHECK(text.find('\r') == std::string::npos);
            } else {
                CHECK(text.find("\repoch 1/3 [") != std::string::npos);
                CHECK(text.find("ETA") != std::string::npos);
            }
        }
    }
}

TEST_CASE("result files: one per run, read back into the same summary and comparison", "[experiment][files]") {
    const auto dir = std::filesystem::path(temp_file("results"));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    Rng rng(4);
    std::vector<RunResult> in_memory;
    for (const char* config : {"relu", "gelu"})
        for (std::uint64_t seed : seeds(6)) {
            const double accuracy = 0.8 + 0.01 * rng.normal() + (config[0] == 'g' ? 0.005 : 0.0);
            const RunResult r{config, seed, {{"accuracy", accuracy}, {"seconds", 1.0 / 3}}};
            write_result((dir / (std::string(config) + "-" + std::to_string(seed) + ".csv")).string(), r);
            in_memory.push_back(r);
        }
    std::ofstream(dir / "notes.txt") << "not a result file";  // only *.csv files are read
    const Results read = read_results(dir.string()), direct(in_memory);
    CHECK(read.configurations() == std::vector<std::string>{"gelu", "relu"});
    CHECK(read.seeds("gelu") == seeds(6));
    CHECK(read.values("relu", "accuracy") == direct.values("relu", "accuracy"));  // every double round-trips
    CHECK(read.values("relu", "seconds")[0] == 1.0 / 3);
    const Comparison from_files = read.compare("gelu", "relu", "accuracy", Pairing::by_seed);
    const Comparison from_memory = direct.compare("gelu", "relu", "accuracy", Pairing::by_seed);
    CHECK(from_files.str() == from_memory.str());
    CHECK(from_files.difference == from_memory.difference);
    CHECK(read.summary("gelu", "accuracy").mean == summarize(direct.values("gelu", "accuracy")).mean);
    // The file a run writes: a header and one line per metric.
    std::ifstream f(dir / "gelu-3.csv");
    const std::string text{std::istreambuf_iterator<char>(f), {}};
    CHECK(text.rfind("configuration,seed,metric,value\ngelu,3,accuracy,", 0) == 0);
    CHECK(text.find("\ngelu,3,seconds,0.33333333333333331\n") != std::string::npos);

    // What goes wrong is named.
    CHECK_THROWS_WITH(read.values("silu", "accuracy"),
                      Contains("no runs of configuration 'silu'; the results hold gelu, relu"));
    CHECK_THROWS_WITH(read.values("gelu", "loss"), Contains("gelu-1.csv: run gelu seed 1 has no metric 'loss'"));
    std::filesystem::remove(dir / "relu-4.csv");
    CHECK_THROWS_WITH(read_results(dir.string()).compare("gelu", "relu", "accuracy", Pairing::by_seed),
                      Contains("compare by seed: gelu ran seed 4 but relu did not"));
    CHECK_NOTHROW(read_results(dir.string()).compare("gelu", "relu", "accuracy", Pairing::independent));
    std::filesystem::copy_file(dir / "gelu-2.csv", dir / "gelu-2-again.csv");
    CHECK_THROWS_WITH(read_results(dir.string()),
                      Contains("run gelu seed 2 appears twice: in") && Contains("gelu-2-again.csv"));
    CHECK_THROWS_WITH(parse_results("configuration,seed,metric,value\ngelu,x,accuracy,1\n", "r.csv"),
                      Contains("r.csv:2: seed 'x' is not a non-negative integer"));
    CHECK_THROWS_WITH(parse_results("gelu,1,accuracy\n", "r.csv"), Contains("r.csv:1: 3 cells, expected 4"));
    CHECK_THROWS_WITH(parse_results("gelu,1,accuracy,nan\n", "r.csv"),
                      Contains("r.csv:1: value 'nan' is not a finite number"));
    CHECK_THROWS_WITH(write_result((dir / "bad.csv").string(), {"a,b", 1, {{"accuracy", 1.0}}}),
                      Contains("the configuration 'a,b' must be non-empty and hold no comma"));
    CHECK_THROWS_WITH(write_result((dir / "bad.csv").string(), {"a", 1, {{"accuracy", NAN}}}),
                      Contains("metric accuracy of run a is nan"));
    CHECK_FALSE(std::filesystem::exists(dir / "bad.csv"));
}
