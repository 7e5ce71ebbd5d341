// The sequence layers and sampling: GRU and LSTM against finite differences, the naive loops and
// PyTorch's nn.GRU / nn.LSTM; each learns to carry a token along a sequence; predict is forward;
// greedy, temperature and top-k sampling.
#include "fixture.hpp"
#include "naive.hpp"
#include "test_util.hpp"

#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/layers/gru.hpp>
#include <neuronka/layers/lstm.hpp>
#include <neuronka/models/generate.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <string>
#include <vector>

using namespace neuronka;

TEMPLATE_TEST_CASE("recurrent layers' gradients match finite differences", "[gru][lstm][gradcheck]",
                   (GRU<double, 4, 5>), (LSTM<double, 4, 5>)) {
    TestType gru(3);
    require_small(gradcheck(gru, random_batch<4>(12, 4, -2, 2), 4));  // 3 sequences of 4 steps
    require_small(gradcheck(gru, random_batch<4>(3, 5, -2, 2), 1));   // 3 sequences of one step
    // inside a model: token ids in, the recurrent layer, a head; the gradient of the cross-entropy
    Sequential<Embedding<double, 6, 4>, TestType, Dense<double, 5, 6>> model(7);
    const std::vector<int> ids = random_ids(10, 6, 8), labels = random_ids(10, 6, 9);
    SoftmaxCrossEntropy<double, 6> ce;
    require_small(gradcheck_parameters(
        model, [&] { return ce.forward(model.forward(ids, 5), labels); },
        [&] {
            model.zero_grad();
            ce.forward(model.forward(ids, 5), labels);
            model.backward(ids, ce.backward());
        }));
}

TEST_CASE("GRU matches the naive loops, reads left to right and keeps sequences apart", "[gru]") {
    GRU<double, 3, 4> gru(11);
    const Batch<double, 3> x = random_batch<3>(15, 12, -2, 2);  // 3 sequences of 5
    const Eigen::MatrixXd W_ih = gru.W_ih, W_hh = gru.W_hh;
    const Eigen::VectorXd b_ih = gru.b_ih, b_hh = gru.b_hh;
    const Eigen::MatrixXd expected = naive::gru_forward(W_ih, W_hh, b_ih, b_hh, Eigen::MatrixXd(x), 5);
    const Batch<double, 4> y = gru.forward(x, 5);
    CHECK((y - expected).cwiseAbs().maxCoeff() < 1e-12);

    Batch<double, 3> changed = x;
    changed.col(5 + 3).setConstant(1.5);  // step 3 of sequence 1
    const Batch<double, 4> y2 = gru.forward(changed, 5);
    CHECK(y2.leftCols(5) == y.leftCols(5));            // sequence 0 does not see it
    CHECK(y2.rightCols(5) == y.rightCols(5));          // nor does sequence 2
    CHECK(y2.middleCols(5, 3) == y.middleCols(5, 3));  // nor do the earlier steps of sequence 1
    CHECK(y2.col(5 + 4) != y.col(5 + 4));              // the later step does

    CHECK_THROWS_WITH(gru.forward(x, 4),
                      Catch::Matchers::Contains(
                          "GRU<In=3,Hidden=4>::forward: 15 columns is not a whole number of sequences of length 4"));
    CHECK_THROWS_WITH(gru.forward(x, 0), Catch::Matchers::Contains("sequence length is 0, expected at least 1"));
    CHECK_THROWS_WITH(gru.forward(Eigen::MatrixXd::Ones(2, 5), 5),
                      Catch::Matchers::Contains("input has 2 rows, expected 3"));
}

namespace {
// A recurrent layer against PyTorch's module of the same kind (its fixture: In 5, Hidden 6, T 7, B 3):
// outputs, the loss sum(y ⊙ R), dx and the four parameter gradients.
template <class L>
void check_recurrent_fixture(const std::string& file) {
    const Fixture f = read_fixture(std::string(NEURONKA_FIXTURE_DIR "/") + file);
    REQUIRE(f.header == std::vector<int>{1, 5, 6, 7, 3});
    L layer;
    const int T = 7;
    const Eigen::Map<const Batch<double, 5>> x(f.get("x").data(), 5, 21);
    const Eigen::Map<const Batch<double, 6>> R(f.get("R").data(), 6, 21);
    const char* names[] = {"W_ih", "W_hh", "b_ih", "b_hh"};  // the fixture's names
    const char* torch_names[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
    std::size_t k = 0;
    layer.visit_parameters([&](ParamView<double> p) {
        REQUIRE(std::string(p.name) == torch_names[k]);
        const auto& values = f.get(std::string("param ") + names[k++]);
        REQUIRE(std::size_t(p.value.size()) == values.size());
        std::copy(values.begin(), values.end(), p.value.begin());
    });
    layer.zero_grad();
    const Batch<double, 6>& y = layer.forward(x, T);
    const double loss = (y.array() * R.array()).sum();
    const Batch<double, 5>& dx = layer.backward(x, R);
    CHECK(std::abs(loss - f.get("loss")[0]) / std::abs(f.get("loss")[0]) < 1e-10);
    CHECK(max_relative_difference(y.data(), f.get("y")) < 1e-10);
    CHECK(max_relative_difference(dx.data(), f.get("dx")) < 1e-10);
    k = 0;
    layer.visit_parameters([&](ParamView<double> p) {
        INFO("gradient of " << names[k]);
        CHECK(max_relative_difference(p.grad.data(), f.get(std::string("grad ") + names[k++])) < 1e-10);
    });
}
}  // namespace

TEST_CASE("GRU matches PyTorch's nn.GRU", "[gru][fixture]") {
    check_recurrent_fixture<GRU<double, 5, 6>>("gru_fixture.txt");
}

TEST_CASE("LSTM matches PyTorch's nn.LSTM", "[lstm][fixture]") {
    check_recurrent_fixture<LSTM<double, 5, 6>>("lstm_fixture.txt");
}

TEMPLATE_TEST_CASE("a recurrent layer carries what it read: it recalls the first token of a sequence",
                   "[learning][gru][lstm]", (GRU<float, 8, 24>), (LSTM<float, 8, 24>)) {
    // At every step the target is the sequence's first token: only a state carried along the
    // sequence can know it. Chance is 1 in 4.
    constexpr int V = 4, T = 6, B = 32;
    Sequential<Embedding<float, V, 8>, TestType, Dense<float, 24, V>> model(5);
    SoftmaxCrossEntropy<float, V> ce;
    AdamW<float> opt({.learning_rate = 1e-2f, .weight_decay = 0});
    Rng rng(6);
    std::vector<int> ids(T * B), targets(T * B);
    auto draw = [&] {
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < T; ++t) {
                ids[std::size_t(b * T + t)] = int(rng.below(V));
                targets[std::size_t(b * T + t)] = ids[std::size_t(b * T)];
            }
    };
    for (int s = 0; s < 300; ++s) {
        draw();
        model.zero_grad();
        ce.forward(model.forward(ids, T), targets);
        model.backward(ids, ce.backward());
        opt.step(model);
    }
    long right = 0, total = 0;  // the last step, five tokens after the one it recalls
    for (int trial = 0; trial < 20; ++trial) {
        draw();
        const auto& logits = model.forward(ids, T);
        for (int b = 0; b < B; ++b) {
            Eigen::Index best;
            logits.col(b * T + T - 1).maxCoeff(&best);
            right += best == targets[std::size_t(b * T)], ++total;
        }
    }
    const double accuracy = double(right) / double(total);
    INFO("held-out accuracy at the last step " << accuracy);
    CHECK(accuracy >= 0.95);
}

TEST_CASE("sampling: greedy, temperature and top-k", "[generate]") {
    const Eigen::VectorXf logits = (Eigen::VectorXf(4) << 0.f, 3.f, 1.f, 2.9f).finished();
    Rng rng(3);
    CHECK(sample_token(logits, {.temperature = 0}, rng) == 1);
    std::array<int, 4> counts{};
    for (int i = 0; i < 4000; ++i) ++counts[std::size_t(sample_token(logits, {.temperature = 1, .top_k = 2}, rng))];
    CHECK(counts[0] == 0);
    CHECK(counts[2] == 0);  // outside the top 2
    CHECK(counts[1] > counts[3]);
    CHECK(std::abs(counts[1] / 4000.0 - 1 / (1 + std::exp(-0.1))) < 0.03);  // e^3 / (e^3 + e^2.9)
    Rng a(5), b(5);
    std::vector<int> sa, sb;
    for (int i = 0; i < 50; ++i) sa.push_back(sample_token(logits, {}, a)), sb.push_back(sample_token(logits, {}, b));
    CHECK(sa == sb);
}

TEST_CASE("sampling: top-p keeps the most likely tokens until they hold p of the probability", "[generate]") {
    // probabilities ∝ e^0, e^3, e^1, e^2.9: token 1 holds 0.479, tokens 1 and 3 0.911
    const Eigen::VectorXf logits = (Eigen::VectorXf(4) << 0.f, 3.f, 1.f, 2.9f).finished();
    Rng rng(4);
    TokenSampler only_best({.top_p = 0.45}), two({.top_p = 0.5}), all({.top_p = 1});
    std::array<int, 4> best{}, pair{}, every{};
    for (int i = 0; i < 4000; ++i) {
        ++best[std::size_t(only_best(logits, rng))];
        ++pair[std::size_t(two(logits, rng))];
        ++every[std::size_t(all(logits, rng))];
    }
    CHECK(best[1] == 4000);
    CHECK(pair[0] + pair[2] == 0);
    CHECK(std::abs(pair[1] / 4000.0 - 1 / (1 + std::exp(-0.1))) < 0.03);
    CHECK(every[0] > 0);
    CHECK(every[2] > 0);
    CHECK_THROWS_WITH(sample_token(logits, {.top_p = 0}, rng), Catch::Matchers::Contains("0 < top_p <= 1"));
    CHECK_THROWS_WITH(sample_token(logits, {.top_p = 1.5}, rng), Catch::Matchers::Contains("top_p 1.5"));
}

static_assert(Layer<LSTM<float, 4, 8>> && LSTM<float, 4, 8>::parameter_count == 4 * 8 * (4 + 8) + 2 * 4 * 8);

TEMPLATE_TEST_CASE("LSTM matches the naive loops, reads left to right and keeps sequences apart", "[lstm][reference]",
                   float, double) {
    using T = TestType;
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    LSTM<T, 3, 4> lstm(11);
    const Batch<T, 3> x = random_batch<3, T>(15, 12, -2, 2);  // 3 sequences of 5
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using V = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    const M expected = naive::lstm_forward<M, V>(lstm.W_ih, lstm.W_hh, lstm.b_ih, lstm.b_hh, M(x), 5);
    const Batch<T, 4> y = lstm.forward(x, 5);
    CHECK((y - expected).cwiseAbs().maxCoeff() < tol);

    Batch<T, 3> changed = x;
    changed.col(5 + 3).setConstant(T(1.5));  // step 3 of sequence 1
    const Batch<T, 4> y2 = lstm.forward(changed, 5);
    CHECK(y2.leftCols(5) == y.leftCols(5));            // sequence 0 does not see it
    CHECK(y2.rightCols(5) == y.rightCols(5));          // nor does sequence 2
    CHECK(y2.middleCols(5, 3) == y.middleCols(5, 3));  // nor do the earlier steps of sequence 1
    CHECK(y2.col(5 + 4) != y.col(5 + 4));              // the later step does

    CHECK_THROWS_WITH(lstm.forward(x, 4), Catch::Matchers::Contains("LSTM<In=3,Hidden=4>::forward: 15 columns is not "
                                                                    "a whole number of sequences of length 4"));
    CHECK_THROWS_WITH(lstm.forward(M::Ones(2, 5), 5), Catch::Matchers::Contains("input has 2 rows, expected 3"));
}

TEST_CASE("an LSTM predicts what forward computes, and names its tensors as PyTorch", "[lstm][predict]") {
    constexpr int V = 4, T = 6;
    using Model = Sequential<Embedding<float, V, 8>, LSTM<float, 8, 24>, Dense<float, 24, V>>;
    Model model(5);
    const std::vector<int> ids = random_ids(T * 3, V, 6);
    const Batch<float, V> trained = model.forward(ids, T);
    typename Model::Workspace ws;
    CHECK(std::as_const(model).predict(ids, ws, T) == trained);

    std::vector<std::string> names;
    for (const TensorView<float>& t : state_tensors(model)) names.push_back(t.name + " " + std::to_string(t.size()));
    CHECK(names == std::vector<std::string>{"0.weight 32", "1.weight_ih_l0 768", "1.weight_hh_l0 2304",
                                            "1.bias_ih_l0 96", "1.bias_hh_l0 96", "2.weight 96", "2.bias 4"});
}
