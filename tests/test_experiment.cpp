// Metrics (accuracy, confusion matrix, mean NLL and perplexity, MSE) against the losses the models
// train with and against direct counts; the experiment statistics against closed forms of Student's
// t and by simulation: a 95 % interval covers the true mean about 95 % of the time, and a test at
// 5 % calls a difference that is not there about 5 % of the time.
#include <neuronka/dense.hpp>
#include <neuronka/experiment.hpp>
#include <neuronka/loss.hpp>
#include <neuronka/metrics.hpp>
#include <neuronka/random.hpp>
#include <neuronka/sequential.hpp>
#include <neuronka/sgd.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
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

    CHECK_THROWS_WITH(accuracy(scores, std::vector<int>{1, 0, 2}), Contains("accuracy: labels has 3 entries, expected 5"));
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
    CHECK(perplexity(mean_nll(Eigen::MatrixXf::Zero(10, 3), std::vector<int>{0, 4, 9})) == Approx(10.0));  // uniform: 10 choices

    const Eigen::MatrixXf y = logits.topRows(2), t = logits.bottomRows(2);
    MeanSquaredError<float, 2> mse;
    CHECK(mean_squared_error(y, t) == Approx(mse.forward(y, t)).epsilon(1e-5));
    CHECK_THROWS_WITH(mean_squared_error(y, logits.topRows(3)), Contains("mean_squared_error: target has 3 rows, expected 2"));
}

TEST_CASE("Student's t: the closed forms at 1 and 2 degrees of freedom, the normal far out, and its inverse", "[experiment]") {
    for (double t : {-7.5, -1.3, -0.2, 0.0, 0.4, 2.1, 12.0}) {
        CHECK(student_t_cdf(t, 1) == Approx(0.5 + std::atan(t) / std::numbers::pi).margin(1e-12));   // Cauchy
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

namespace {
// One run of the experiment below: XOR's four points, a model from `seed`, 60 steps of SGD on the
// mean squared error; the result is the final loss.
template <class Model>
double xor_loss(std::uint64_t seed) {
    Batch<double, 2> x(2, 4);
    x << 0, 0, 1, 1,  //
        0, 1, 0, 1;
    Batch<double, 1> t(1, 4);
    t << 0, 1, 1, 0;
    Model model(seed);
    MeanSquaredError<double, 1> mse;
    SGD<double> opt({.learning_rate = 0.1, .momentum = 0.9});
    for (int step = 0; step < 60; ++step) {
        model.zero_grad();
        mse.forward(model.forward(x), t);
        model.backward(x, mse.backward());
        opt.step(model);
    }
    return mse.forward(model.forward(x), t);
}
}  // namespace

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
