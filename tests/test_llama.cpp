// The blocks of a Llama-style model: SiLU, SwiGLU, rotary position embeddings in Attention, the
// LlamaBlock and the Llama model. Gradients checked in double; the rotation and SwiGLU against
// naive loops; the whole model against an independent PyTorch implementation
// (tests/fixtures/make_llama_fixture.py); predict is forward.
#include "language_model_checks.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/models/llama.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>

using namespace neuronka;

TEST_CASE("SiLU matches PyTorch's, and its gradient checks", "[llama][silu]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/llama_fixture.txt");
    const std::vector<double>& xs = f.get("silu_x");
    const Eigen::Map<const Eigen::MatrixXd> x(xs.data(), 1, Eigen::Index(xs.size()));
    Activation<double, 1, SiLU> silu;
    CHECK(max_relative_difference(silu.forward(x).data(), f.get("silu_y")) < 1e-15);
    const Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(1, x.cols());
    CHECK(max_relative_difference(silu.backward(x, ones).data(), f.get("silu_dy")) < 1e-14);
    Activation<double, 6, SiLU> layer;
    require_small(gradcheck(layer, random_batch<6>(5, 3, -4, 4)));
}

TEST_CASE("SwiGLU: SiLU of the gate times the value, against naive loops, with gradients", "[llama][swiglu]") {
    SwiGLULayer<double, 3> glu;
    const Batch<double, 6> x = random_batch<6>(4, 21, -3, 3);
    const Batch<double, 3>& y = glu.forward(x);
    REQUIRE(y.rows() == 3);
    for (int c = 0; c < 4; ++c)
        for (int j = 0; j < 3; ++j) {
            const double a = x(j, c), v = x(j + 3, c);
            CHECK(y(j, c) == Approx(a / (1 + std::exp(-a)) * v).epsilon(1e-14));
        }
    require_small(gradcheck(glu, x));
    SwiGLULayer<double, 3>::Workspace ws;
    CHECK(std::as_const(glu).predict(x, ws) == y);
    // in a Sequential the tag takes the 2H of the layer before
    using Mlp = Sequential<Dense<double, 4, 10, false>, SwiGLU, Dense<double, 5, 4, false>>;
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::declval<Mlp&>().template layer<1>())>,
                                 SwiGLULayer<double, 5>>);
    Mlp mlp(2);
    require_small(gradcheck(mlp, random_batch<4>(3, 22)));
    CHECK_THROWS_WITH(glu.forward(random_batch<3>(2, 1)),
                      Catch::Matchers::Contains("SwiGLU<In=6,Out=3>::forward: input has 3 rows, expected 6"));
}

TEST_CASE("rotary embeddings turn each head's queries and keys by their position's angles", "[llama][rope]") {
    // the rotation against its definition, value by value, and back
    const int hd = 6, Tn = 5;
    Eigen::MatrixXd cos, sin, m = random_batch<24>(2 * Tn, 31), original = m;  // 2D = 24 rows: 4 heads of 6
    detail::Rotary<double>::table(Tn, hd, 10000, cos, sin);
    detail::Rotary<double>::rotate(m, 24, hd, Tn, cos, sin, false);
    for (int c = 0; c < 2 * Tn; ++c)
        for (int r = 0; r < 24; r += hd)
            for (int j = 0; j < hd / 2; ++j) {
                const double angle = (c % Tn) * std::pow(10000.0, -2.0 * j / hd);
                const double a = original(r + j, c), b = original(r + j + hd / 2, c);
                CHECK(m(r + j, c) == Approx(a * std::cos(angle) - b * std::sin(angle)).margin(1e-14));
                CHECK(m(r + j + hd / 2, c) == Approx(b * std::cos(angle) + a * std::sin(angle)).margin(1e-14));
            }
    detail::Rotary<double>::rotate(m, 24, hd, Tn, cos, sin, true);
    CHECK((m - original).cwiseAbs().maxCoeff() < 1e-14);

    // the point of it: a query's score against a key depends on how far apart they are, not where
    Eigen::MatrixXd qk(2 * hd, 8);  // one head's query and key at positions 0..7, the same vectors throughout
    qk.topRows(hd).colwise() = random_batch<6>(1, 32).col(0);
    qk.bottomRows(hd).colwise() = random_batch<6>(1, 33).col(0);
    detail::Rotary<double>::table(8, hd, 10000, cos, sin);
    detail::Rotary<double>::rotate(qk, 2 * hd, hd, 8, cos, sin, false);
    auto score = [&](int t, int s) { return qk.col(t).head(hd).dot(qk.col(s).tail(hd)); };
    CHECK(score(5, 2) == Approx(score(3, 0)).epsilon(1e-12));
    CHECK(score(7, 7) == Approx(score(0, 0)).epsilon(1e-12));
    CHECK(std::abs(score(5, 2) - score(5, 4)) > 1e-3);
}

TEST_CASE("Attention with rotary embeddings: gradients, predict, and the mask", "[llama][rope][attention]") {
    for (bool causal : {true, false}) {
        DYNAMIC_SECTION((causal ? "causal" : "bidirectional")) {
            Attention<double, 8, 2, true> a(5, causal);
            a.qkv.b = random_batch<24>(1, 6);
            require_small(gradcheck(a, random_batch<8>(12, 7), 4));  // 3 sequences of 4 tokens
        }
    }
    Attention<double, 8, 2, true> rope(3);
    Attention<double, 8, 2> plain(3);  // the same weights without the rotation
    const Batch<double, 8> x = random_batch<8>(10, 8, -2, 2);
    const Batch<double, 8> y = rope.forward(x, 5);
    CHECK((y - plain.forward(x, 5)).cwiseAbs().maxCoeff() > 1e-3);
    // the first token of each sequence sees only itself at angle 0: the rotation changes nothing there
    CHECK((y.col(0) - plain.output().col(0)).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((y.col(5) - plain.output().col(5)).cwiseAbs().maxCoeff() < 1e-14);
    Attention<double, 8, 2, true>::Workspace ws;
    CHECK(std::as_const(rope).predict(x, ws, 5) == y);
    CHECK(Attention<double, 8, 2, true>::name() == "Attention<Dim=8,Heads=2,RoPE>");
}

TEST_CASE("LlamaBlock gradients", "[llama][block]") {
    LlamaBlock<double, 8, 2, 6> block(11);
    block.norm1().g = random_batch<8>(1, 12, 0.5, 1.5);
    block.norm2().g = random_batch<8>(1, 13, 0.5, 1.5);
    require_small(gradcheck(block, random_batch<8>(6, 14), 3));
    static_assert(LlamaBlock<float, 64, 4>::parameter_count == 2 * 64 + (64 * 192 + 192) + (64 * 64 + 64) +
                                                                   64 * 2 * 176 +
                                                                   176 * 64);  // Hidden 176 = 8·64/3 rounded up to 8
}

TEST_CASE("the Llama model matches an independent PyTorch implementation", "[llama][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/llama_fixture.txt");
    REQUIRE(f.header == std::vector<int>{1, 13, 8, 2, 2, 12, 6, 2});
    Llama<double, 13, 6, 8, 2, 2, 12> model;
    const int T = 6;
    check_against_fixture<13>(model, f, T, 1e-12, 1e-10);
    std::vector<int> ids;
    for (double v : f.get("ids")) ids.push_back(int(v));
    typename decltype(model)::Workspace ws;
    CHECK(std::as_const(model).predict(ids, ws, T) == model.output());
}
