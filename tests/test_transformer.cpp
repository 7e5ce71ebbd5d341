// Embedding, LayerNorm, Attention, the transformer block and the whole model: gradients against
// finite differences in double, attention's probabilities, causality, and AdamW's update rule.
#include "language_model_checks.hpp"
#include "naive.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/compose/residual.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/attention.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/layers/gru.hpp>
#include <neuronka/layers/layer_norm.hpp>
#include <neuronka/models/generate.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

using namespace neuronka;

TEST_CASE("LayerNorm gradients and statistics", "[transformer][layernorm]") {
    LayerNorm<double, 6> ln;
    ln.gamma = random_batch<6>(1, 1, 0.5, 1.5);
    ln.beta = random_batch<6>(1, 2);
    const Batch<double, 6> x = random_batch<6>(5, 3, -2, 3);
    require_small(gradcheck(ln, x));

    LayerNorm<double, 6> plain;
    const Batch<double, 6>& y = plain.forward(x);
    for (Eigen::Index c = 0; c < y.cols(); ++c) {
        CHECK(std::abs(y.col(c).mean()) < 1e-12);
        CHECK(std::abs((y.col(c).array().square().mean()) - 1) < 1e-4);  // unit variance up to ε
    }
}

TEST_CASE("Embedding gradients and bad ids", "[transformer][embedding]") {
    Embedding<double, 7, 4> emb(3);
    const std::vector<int> ids{1, 6, 1, 0, 3};
    const Batch<double, 4> r = random_batch<4>(5, 4);
    require_small(gradcheck_parameters(
        emb, [&] { return (emb.forward(ids).array() * r.array()).sum(); },
        [&] {
            emb.zero_grad();
            emb.forward(ids);
            emb.backward(ids, r);
        }));
    CHECK(emb.dE.col(1).isApprox(r.col(0) + r.col(2)));  // a repeated id accumulates
    CHECK(emb.dE.col(2).isZero());

    const std::vector<int> bad{1, 7};
    CHECK_THROWS_WITH(emb.forward(bad),
                      Catch::Matchers::Contains(
                          "Embedding<Vocab=7,Dim=4>::forward: token id 7 at position 1 is out of range [0, 7)"));
    CHECK_THROWS_WITH(emb.forward(std::vector<int>{}), Catch::Matchers::Contains("no token ids"));
}

TEST_CASE("Attention gradients, with and without the causal mask", "[transformer][attention]") {
    for (bool causal : {true, false}) {
        DYNAMIC_SECTION((causal ? "causal" : "bidirectional")) {
            Attention<double, 8, 2> a(5, causal);
            a.qkv.b = random_batch<24>(1, 6);  // non-zero biases, so their gradients are checked too
            require_small(gradcheck(a, random_batch<8>(12, 7), 4));  // 3 sequences of 4 tokens
        }
    }
}

TEST_CASE("causal attention over 64 tokens or more, in blocks of queries, matches the naive loops",
          "[transformer][attention]") {
    // from 64 tokens, causal attention multiplies blocks of 32 queries by the keys they see only
    // (70 tokens end in a block of 6); bidirectional attention stays one block
    for (int T : {64, 70})
        for (bool causal : {true, false}) DYNAMIC_SECTION(T << " tokens, " << (causal ? "causal" : "bidirectional")) {
                constexpr int H = 2, B = 2;
                Attention<double, 8, H> attn(21, causal);
                attn.qkv.b = random_batch<24>(1, 22);
                const Batch<double, 8> x = random_batch<8>(T * B, 23), dy = random_batch<8>(T * B, 24);
                std::vector<naive::M> P;
                naive::M qkv, O;
                const naive::M y = naive::attention_forward(attn.qkv.W, attn.qkv.b, attn.proj.W, attn.proj.b, x, T, H,
                                                            causal, P, qkv, O);
                CHECK((y - attn.forward(x, T)).cwiseAbs().maxCoeff() < 1e-12);
                for (int b = 0; b < B; ++b)
                    for (int h = 0; h < H; ++h)  // the masked keys' probabilities are 0, not left over
                        CHECK((attn.probabilities(b, h).transpose() - P[std::size_t(b * H + h)]).cwiseAbs().maxCoeff() <
                              1e-14);
                naive::M dWqkv;
                const naive::M dx = naive::attention_backward(attn.qkv.W, attn.proj.W, x, qkv, O, P, dy, T, H, &dWqkv);
                attn.zero_grad();
                CHECK((dx - attn.backward(x, dy)).cwiseAbs().maxCoeff() < 1e-12);
                CHECK((dWqkv - attn.qkv.dW()).cwiseAbs().maxCoeff() < 1e-12);  // dQ, dK, dV through the weights
            }
}

TEST_CASE("attention probabilities are distributions that respect the mask", "[transformer][attention]") {
    Attention<double, 8, 2> attn(9);
    attn.forward(random_batch<8>(10, 8, -2, 2), 5);  // 2 sequences of 5
    for (int b = 0; b < 2; ++b)
        for (int h = 0; h < 2; ++h) {
            const Eigen::MatrixXd p = attn.probabilities(b, h);  // (query, key)
            REQUIRE(p.rows() == 5);
            CHECK((p.rowwise().sum().array() - 1).abs().maxCoeff() < 1e-12);
            CHECK((p.array() >= 0).all());
            CHECK(p.triangularView<Eigen::StrictlyUpper>().toDenseMatrix().isZero());  // no looking ahead
            CHECK(p(0, 0) == 1.0);  // the first token can only look at itself
        }
    CHECK_THROWS_WITH(attn.probabilities(2, 0), Catch::Matchers::Contains("sequence 2, head 0 is out of range"));
}

TEST_CASE("TransformerBlock gradients", "[transformer][block]") {
    TransformerBlock<double, 8, 2, 16> block(11);
    block.ln1().beta = random_batch<8>(1, 12);
    block.ln2().gamma = random_batch<8>(1, 13, 0.5, 1.5);
    require_small(gradcheck(block, random_batch<8>(6, 14), 3));
}

TEST_CASE("PositionalEmbedding gradients and bad lengths", "[transformer][embedding]") {
    PositionalEmbedding<double, 5, 3> pos(2);
    require_small(gradcheck(pos, random_batch<3>(8, 3), 4));  // 2 sequences of 4, shorter than the context
    CHECK_THROWS_WITH(pos.forward(random_batch<3>(12, 4), 6),
                      Catch::Matchers::Contains(
                          "PositionalEmbedding<Context=5,Dim=3>::forward: sequence length is 6, expected 1..5"));
    CHECK_THROWS_WITH(pos.forward(random_batch<3>(7, 4), 2),
                      Catch::Matchers::Contains("7 columns is not a whole number of sequences of length 2"));
}

TEST_CASE("Residual: y = x + f(x), both paths' gradients summed, nestable", "[residual]") {
    SECTION("around an MLP") {
        Residual<Dense<double, 4, 6>, Tanh, Dense<double, 6, 4>> res(3);
        const Batch<double, 4> x = random_batch<4>(5, 4);
        const Batch<double, 4> y = res.forward(x);
        Sequential<Dense<double, 4, 6>, Tanh, Dense<double, 6, 4>> f(3);  // the same f, same seed
        CHECK((y - x - f.forward(x)).cwiseAbs().maxCoeff() < 1e-14);
        require_small(gradcheck(res, x));
    }
    SECTION("around attention, inside a Sequential, nested") {
        using Inner = Residual<LayerNorm<double, 8>, Attention<double, 8, 2>>;
        Sequential<Residual<Inner, Dense<double, 8, 8>>, Dense<double, 8, 3>> model(6);
        require_small(gradcheck(model, random_batch<8>(6, 7), 3));
    }
}

TEST_CASE("the whole transformer: gradients of the cross-entropy", "[transformer][model]") {
    using Model = Transformer<double, 11, 8, 8, 2, 2, 16>;
    Model model(17);
    std::size_t count = 0;
    model.visit_parameters([&](ParamView<double> p) { count += std::size_t(p.value.size()); });
    CHECK(count == Model::parameter_count);
    const GradcheckResult r = language_model_gradcheck<11>(model, 5, 2);  // T = 5, shorter than the context of 8
    CHECK(r.checked == Model::parameter_count);
    require_small(r);
}

TEST_CASE("causality: later tokens never change earlier outputs", "[transformer][model]") {
    Transformer<float, 11, 8, 16, 2, 2> model(21);
    std::vector<int> ids = random_ids(8, 11, 22);
    const Batch<float, 11> before = model.forward(ids, 8);
    for (int t = 0; t < 8; ++t) {
        std::vector<int> changed = ids;
        for (int s = t + 1; s < 8; ++s) changed[std::size_t(s)] = (changed[std::size_t(s)] + 1 + s) % 11;
        const Batch<float, 11>& after = model.forward(changed, 8);
        CHECK(std::memcmp(before.data(), after.data(), sizeof(float) * 11 * std::size_t(t + 1)) == 0);
        if (t < 7) CHECK(before.col(7) != after.col(7));
    }
}

TEST_CASE("the transformer matches an independent PyTorch implementation", "[transformer][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/transformer_fixture.txt");
    REQUIRE(f.header == std::vector<int>{1, 11, 8, 16, 2, 2, 64, 6, 2});
    Transformer<double, 11, 8, 16, 2, 2, 64> model;
    check_against_fixture<11>(model, f, 6, 1e-5, 1e-5);
}

namespace {
// A layer's predict against its forward: the same bits, the layer untouched, errors named "predict".
template <class L, class X, class... SeqLen>
void check_predict_is_forward(L& layer, const X& x, SeqLen... seq_len) {
    const auto trained_output = layer.forward(x, seq_len...);
    typename L::Workspace ws;
    const auto predicted = layer.predict(x, ws, seq_len...);
    CHECK(predicted == trained_output);
    CHECK(layer.output() == trained_output);  // predict wrote nothing of the layer's own
    CHECK(std::as_const(layer).predict(x, ws, seq_len...) == trained_output);  // a reused workspace
}
}  // namespace

TEST_CASE("the sequence layers predict what forward computes, bit for bit, from a const layer",
          "[predict][transformer]") {
    const std::vector<int> ids = random_ids(12, 9, 3);
    Embedding<float, 9, 8> tok(1);
    check_predict_is_forward(tok, std::span<const int>(ids));
    const Batch<float, 8> x = random_batch<8, float>(12, 4, -2, 2);  // 3 sequences of 4
    PositionalEmbedding<float, 6, 8> pos(2);
    check_predict_is_forward(pos, x, 4);
    LayerNorm<float, 8> ln;
    ln.gamma = random_batch<8, float>(1, 5, 0.5, 1.5);
    check_predict_is_forward(ln, x);
    Attention<float, 8, 2> attn(6);
    check_predict_is_forward(attn, x, 4);
    Attention<float, 8, 2> bidirectional(6, false);
    check_predict_is_forward(bidirectional, x, 4);
    GRU<float, 8, 5> gru(7);
    check_predict_is_forward(gru, x, 4);

    Embedding<float, 9, 8>::Workspace tws;
    CHECK_THROWS_WITH(tok.predict(std::vector<int>{1, 9}, tws),
                      Catch::Matchers::Contains("Embedding<Vocab=9,Dim=8>::predict: token id 9"));
    Attention<float, 8, 2>::Workspace aws;
    CHECK_THROWS_WITH(attn.predict(x, aws, 5),
                      Catch::Matchers::Contains("Attention<Dim=8,Heads=2>::predict: 12 columns"));
    PositionalEmbedding<float, 6, 8>::Workspace pws;
    CHECK_THROWS_WITH(pos.predict(x, pws, 12),
                      Catch::Matchers::Contains("predict: sequence length is 12, expected 1..6"));
}

TEST_CASE(
    "one transformer serves 8 threads at once: 1,000 predictions each, every one the single-thread answer bit for bit",
    "[predict][threads][transformer]") {
    using Model = Transformer<float, 11, 8, 16, 2, 2>;
    Model model(5);
    static_assert(Model::can_predict);
    std::vector<std::vector<int>> inputs;
    std::vector<int> lengths;
    std::vector<Batch<float, 11>> expected;
    Model::Workspace ws;
    for (int i = 0; i < 12; ++i) {
        const int T = 1 + i % 8, B = 1 + i % 3;
        inputs.push_back(random_ids(T * B, 11, 200 + std::uint64_t(i)));
        lengths.push_back(T);
        expected.push_back(model.predict(inputs.back(), ws, T));
    }
    CHECK(model.forward(inputs[5], lengths[5]) == expected[5]);  // and predict is forward
    const Model& shared = model;  // the threads see the model as const: no locks, no copies
    std::vector<int> mismatches(8, 0), done(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            Model::Workspace own;
            for (int k = 0; k < 1000; ++k) {
                const std::size_t i = std::size_t(k * 5 + t) % inputs.size();
                mismatches[std::size_t(t)] += shared.predict(inputs[i], own, lengths[i]) != expected[i];
                ++done[std::size_t(t)];
            }
        });
    for (auto& th : threads) th.join();
    CHECK(mismatches == std::vector<int>(8, 0));
    CHECK(done == std::vector<int>(8, 1000));
}
