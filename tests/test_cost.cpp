// Accounting from the type: FLOP counts against instrumented naive implementations that count
// their own multiply-adds, memory counts against the buffers' real sizes, and the estimator's
// figures for GPT-3 against the published ones.
#include "naive.hpp"

#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/random.hpp>
#include <neuronka/cost/compute.hpp>
#include <neuronka/cost/summary.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/attention.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/models/transformer.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace neuronka;
using naive::M;
using naive::V;

namespace {
M random(Eigen::Index r, Eigen::Index c, std::uint64_t seed) {
    Rng rng(seed);
    return M::NullaryExpr(r, c, [&] { return rng.uniform(-1, 1); });
}
}  // namespace

TEST_CASE("Dense FLOPs equal the naive loops' multiply-adds", "[cost][dense]") {
    constexpr int In = 7, Out = 5, B = 3;
    Dense<double, In, Out> d(1);
    const M x = random(In, B, 2), dy = random(Out, B, 3);
    naive::macs = 0;
    const M y = naive::dense_forward(M(d.W), V(d.b), x);
    CHECK(2.0 * double(naive::macs) == Dense<double, In, Out>::cost().forward_flops * B);
    CHECK((y - d.forward(x)).cwiseAbs().maxCoeff() < 1e-12);
    naive::macs = 0;
    M dW, dx;
    V db;
    naive::dense_backward(M(d.W), x, dy, dW, db, dx);
    CHECK(2.0 * double(naive::macs) == Dense<double, In, Out>::cost().backward_flops * B);
    CHECK(Dense<double, In, Out>::cost().parameters == In * Out + Out);
}

TEST_CASE("Attention FLOPs equal the naive implementation's multiply-adds", "[cost][attention]") {
    constexpr int D = 8, H = 2;
    for (int T : {1, 3, 6}) {
        const int B = 2;
        Attention<double, D, H> attn(4);
        const M x = random(D, T * B, 5), dy = random(D, T * B, 6);
        std::vector<M> P;
        M qkv, O;
        naive::macs = 0;
        const M y =
            naive::attention_forward(attn.qkv.W, attn.qkv.b, attn.proj.W, attn.proj.b, x, T, H, true, P, qkv, O);
        CHECK(2.0 * double(naive::macs) == Attention<double, D, H>::cost(T).forward_flops * T * B);
        CHECK((y - attn.forward(x, T)).cwiseAbs().maxCoeff() < 1e-12);  // and it is the same computation
        naive::macs = 0;
        const M dx = naive::attention_backward(attn.qkv.W, attn.proj.W, x, qkv, O, P, dy, T, H);
        CHECK(2.0 * double(naive::macs) == Attention<double, D, H>::cost(T).backward_flops * T * B);
        CHECK((dx - attn.backward(x, dy)).cwiseAbs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("a whole transformer's FLOPs equal a naive forward and backward's multiply-adds", "[cost][transformer]") {
    constexpr int Vb = 11, C = 8, D = 16, H = 2, L = 2, F = 32;
    using Model = Transformer<double, Vb, C, D, H, L, F>;
    Model model(7);
    const int T = 5, B = 2, N = T * B;
    std::vector<int> ids(N);
    Rng rng(8);
    for (auto& id : ids) id = int(rng.below(Vb));

    // Naive forward, counting, with neuronka's weights.
    naive::macs = 0;
    M x(D, N);
    for (int i = 0; i < N; ++i) x.col(i) = model.tok().E.col(ids[std::size_t(i)]) + model.pos().P.col(i % T);
    struct Saved {
        M x, n1, qkv, O, h, n2, f1, g;
        std::vector<M> P;
    };
    std::vector<Saved> saved(L);
    for (int l = 0; l < L; ++l) {
        auto& blk = model.block(l);
        Saved& s = saved[std::size_t(l)];
        s.x = x;
        s.n1 = naive::layer_norm(x, blk.ln1().gamma, blk.ln1().beta);
        s.h = x + naive::attention_forward(blk.attn().qkv.W, blk.attn().qkv.b, blk.attn().proj.W, blk.attn().proj.b,
                                           s.n1, T, H, true, s.P, s.qkv, s.O);
        s.n2 = naive::layer_norm(s.h, blk.ln2().gamma, blk.ln2().beta);
        s.f1 = naive::dense_forward(M(blk.fc1().W), V(blk.fc1().b), s.n2);
        s.g = s.f1.unaryExpr([](double v) { return naive::gelu(v); });
        x = s.h + naive::dense_forward(M(blk.fc2().W), V(blk.fc2().b), s.g);
    }
    const M nf = naive::layer_norm(x, model.ln_f().gamma, model.ln_f().beta);
    const M logits = naive::dense_forward(M(model.head().W), V(model.head().b), nf);
    CHECK(2.0 * double(naive::macs) == Model::cost(T).forward_flops * N);
    CHECK((logits - model.forward(ids, T)).cwiseAbs().maxCoeff() < 1e-10);

    // Naive backward, counting: the same products in reverse (the values of dy do not change the count).
    naive::macs = 0;
    M dW, dx;
    V db;
    naive::dense_backward(M(model.head().W), nf, random(Vb, N, 9), dW, db, dx);
    for (int l = L - 1; l >= 0; --l) {
        auto& blk = model.block(l);
        const Saved& s = saved[std::size_t(l)];
        M dg, dn;
        naive::dense_backward(M(blk.fc2().W), s.g, dx, dW, db, dg);
        naive::dense_backward(M(blk.fc1().W), s.n2, dg, dW, db, dn);
        dx = naive::attention_backward(blk.attn().qkv.W, blk.attn().proj.W, s.n1, s.qkv, s.O, s.P, dn, T, H);
    }
    CHECK(2.0 * double(naive::macs) == Model::cost(T).backward_flops * N);
    CHECK(Model::cost(T).parameters == Model::parameter_count);
}

TEST_CASE("memory counts match the buffers a training step really holds", "[cost][memory]") {
    using Mlp = Sequential<Dense<float, 6, 5>, Tanh, Dense<float, 5, 3>>;
    Mlp mlp;
    const Batch<float, 6> x = Batch<float, 6>::Random(6, 4);
    mlp.forward(x);
    mlp.backward(x, Batch<float, 3>::Random(3, 4));
    // Dense: y and dx; Tanh: y and dx
    const double real = 4.0 * sizeof(float) * ((5 + 6) + (5 + 5) + (3 + 5));
    CHECK(step_cost<Mlp>(4).activation_bytes == real);
    CHECK(step_cost<Mlp>(4, 1, Optimizer::adamw).optimizer_bytes == 2 * Mlp::parameter_count * sizeof(float));
    CHECK(step_cost<Mlp>(4, 1, Optimizer::sgd_momentum).optimizer_bytes == Mlp::parameter_count * sizeof(float));
    CHECK(step_cost<Mlp>(4).optimizer_bytes == 0);
    static_assert(Mlp::cost().parameters == Mlp::parameter_count);  // constexpr from the type

    std::ostringstream out;
    summary<Mlp>(out, 4);
    CHECK_THAT(out.str(),
               Catch::Matchers::Contains("Dense<In=6,Out=5>") && Catch::Matchers::Contains("parameters: 53"));
}

TEST_CASE("the estimator reproduces the published GPT-3 figures", "[cost][compute]") {
    using namespace neuronka::compute;
    const TransformerShape gpt3{.layers = 96, .d_model = 12288, .heads = 96, .context = 2048, .vocab = 50257};
    const double n = parameters_with_embeddings(gpt3);
    CHECK(std::abs(n / 174.6e9 - 1) < 0.01);
    CHECK(parameters_without_embeddings(gpt3) < n);
    const double flops = training_flops(n, 300e9);
    CHECK(std::abs(flops / 3.14e23 - 1) < 0.01);
    CHECK(std::abs(pf_days(flops) / 3.64e3 - 1) < 0.01);
    CHECK(training_flops(n, 300e9, &gpt3) > flops);  // Kaplan's attention term adds to it

    // Patterson et al. 2021, Table 4: 10,000 V100s at 330 W for 14.8 days, PUE 1.10, 0.429 kg/kWh.
    const double kwh = energy_kwh(10000, 330, 14.8 * 24, 1.10);
    CHECK(std::abs(kwh / 1287e3 - 1) < 0.01);
    CHECK(std::abs(co2_tonnes(kwh, 0.429) / 552 - 1) < 0.01);
    CHECK(std::abs(co2_tonnes(energy_kwh(10000, 330, 14.8 * 24), 0.429) / 502 - 1) <
          0.01);                                                     // the lecture's 502 t: no PUE
    CHECK(std::abs(water_litres(1287e3, 0.55) / 0.7e6 - 1) < 0.02);  // Li et al. 2023: ~0.7 million litres

    CHECK(training_memory_bytes(n, 4, 2) > 2.7e12);  // fp32 + Adam: ~2.8 TB, far beyond one GPU
    CHECK_THROWS_WITH(energy_kwh(-1, 330, 1), Catch::Matchers::Contains("processors is -1"));
    CHECK_THROWS_WITH(parameters_with_embeddings({.layers = 0, .d_model = 10, .heads = 2, .context = 8, .vocab = 5}),
                      Catch::Matchers::Contains("compute: layers is 0, expected a finite value > 0"));
}
