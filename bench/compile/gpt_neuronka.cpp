// Compile-time bench program (bench/compile_times.sh): a 2-layer GPT (vocab 65, context 64, d 64,
// 4 heads) trained with AdamW and sampled from, as a user writes it with neuronka. Its hand-written
// twin is gpt_eigen.cpp.
#include <neuronka/neuronka.hpp>

#include <cstdio>
#include <memory>
#include <vector>

using namespace neuronka;

int main() {
    constexpr int V = 65, C = 64, D = 64, H = 4, L = 2, B = 4;
    auto model = std::make_unique<Transformer<float, V, C, D, H, L>>(1);
    SoftmaxCrossEntropy<float, V> ce;
    AdamW<float> opt({.learning_rate = 1e-3f});
    Rng rng(3);
    std::vector<int> ids, targets;
    for (int i = 0; i < B * C; ++i) ids.push_back(int(rng.below(V))), targets.push_back((ids.back() + 1) % V);
    float loss = 0;
    for (int step = 0; step < 5; ++step) {
        loss = ce.forward(model->forward(ids, C), targets);
        opt.step(*model, ids, ce.backward());
    }
    const std::vector<int> prompt(ids.begin(), ids.begin() + 8);
    const std::vector<int> text = generate(*model, prompt, 16, SamplingOptions{}, rng);
    std::printf("loss %.4f, %zu tokens sampled\n", loss, text.size());
}
