// T5: training throughput of neuronka's transformer against a hand-written Eigen transformer of
// the same shape, in the same run: vocab 65, context 64, d 64, 4 heads, 2 layers, MLP 4x, batch 16,
// plain SGD, float32, one thread; neuronka trains with the fused step opt.step(model, ids, dy), the
// reference fuses its updates into its backward sweep too. Before timing, the reference is loaded with neuronka's
// weights and both compute the loss of one batch, to show they are the same model.
#include "reference_transformer.hpp"
#include "timing.hpp"

#include <neuronka/cost/compute.hpp>
#include <neuronka/neuronka.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

using namespace neuronka;
using bench::Clock;
using bench::median;

int main() {
    bench::print_backend();
    constexpr int V = 65, C = 64, D = 64, H = 4, L = 2, B = 16;
    using Model = Transformer<float, V, C, D, H, L>;
    auto model = std::make_unique<Model>(1);
    reference::GPT ref(V, C, D, H, L, 4 * D);

    // The same weights in both.
    ref.wte = model->tok().E, ref.wpe = model->pos().P, ref.Wh = model->head().W, ref.bh = model->head().b;
    ref.gf = model->ln_f().gamma, ref.bf = model->ln_f().beta;
    for (int l = 0; l < L; ++l) {
        auto& b = model->block(l);
        auto& w = ref.layer[std::size_t(l)];
        w.g1 = b.ln1().gamma, w.b1 = b.ln1().beta, w.g2 = b.ln2().gamma, w.b2 = b.ln2().beta;
        w.Wqkv = b.attn().qkv.W, w.bqkv = b.attn().qkv.b, w.Wo = b.attn().proj.W, w.bo = b.attn().proj.b;
        w.W1 = b.fc1().W, w.bf1 = b.fc1().b, w.W2 = b.fc2().W, w.bf2 = b.fc2().b;
    }

    Rng rng(3);
    std::vector<std::vector<int>> ids(8), targets(8);
    for (int k = 0; k < 8; ++k)
        for (int i = 0; i < B * C; ++i) ids[k].push_back(int(rng.below(V))), targets[k].push_back(int(rng.below(V)));
    SoftmaxCrossEntropy<float, V> ce;
    SGD<float> opt({.learning_rate = 0.01f});
    auto neuronka_step = [&](int k) {
        const float loss = ce.forward(model->forward(ids[k], C), targets[k]);
        opt.step(*model, ids[k], ce.backward());  // backward fused with the update
        return loss;
    };
    auto reference_step = [&](int k) { return ref.step(ids[k], targets[k], C, 0.01f); };

    const float a = neuronka_step(0), b = reference_step(0);
    std::printf(
        "T5 transformer V=%d C=%d d=%d heads=%d layers=%d MLP 4x, batch %d x %d tokens, SGD, float32, 1 thread\n", V, C,
        D, H, L, B, C);
    std::printf("same model check: first-batch loss neuronka %.6f, reference %.6f\n", a, b);

    auto time = [&](auto&& step, int steps) {
        const auto t0 = Clock::now();
        for (int s = 0; s < steps; ++s) step(s % 8);
        return double(steps) * B * C / std::chrono::duration<double>(Clock::now() - t0).count();
    };
    time(neuronka_step, 3), time(reference_step, 3);
    std::vector<double> ours, theirs;
    for (int round = 0; round < 9; ++round)
        ours.push_back(time(neuronka_step, 5)), theirs.push_back(time(reference_step, 5));
    std::sort(ours.begin(), ours.end()), std::sort(theirs.begin(), theirs.end());
    // FLOPs per token of a training step, by neuronka's own estimator: 6 per parameter that every
    // token multiplies (the blocks and the head; embedding lookups are not products), plus attention.
    const compute::TransformerShape shape{.layers = L, .d_model = D, .heads = H, .context = C, .vocab = V};
    const double per_token = compute::training_flops(compute::parameters_without_embeddings(shape) + V * D, 1, &shape);
    std::printf("%-12s %14s %9s\n", "", "tokens/s", "GFLOP/s");
    std::printf("%-12s %14.0f %9.1f\n%-12s %14.0f %9.1f\n", "neuronka", ours[4], ours[4] * per_token / 1e9, "reference",
                theirs[4], theirs[4] * per_token / 1e9);
    std::printf("ratio neuronka / hand-written: %.2fx (median of 9 interleaved rounds)\n", ours[4] / theirs[4]);
}
