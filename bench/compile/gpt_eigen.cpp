// Compile-time bench program (bench/compile_times.sh): the 2-layer GPT of gpt_neuronka.cpp written by
// hand with Eigen (bench/reference_transformer.hpp, the benchmarks' hand-written transformer).
#include "../reference_transformer.hpp"

#include <cstdio>
#include <random>
#include <vector>

int main() {
    constexpr int V = 65, C = 64, D = 64, H = 4, L = 2, B = 4;
    reference::GPT model(V, C, D, H, L, 4 * D);
    std::mt19937 rng(3);
    std::vector<int> ids, targets;
    for (int i = 0; i < B * C; ++i) ids.push_back(int(rng() % V)), targets.push_back((ids.back() + 1) % V);
    float loss = 0;
    for (int step = 0; step < 5; ++step) loss = model.step(ids, targets, C, 1e-3f);
    std::printf("loss %.4f\n", loss);
}
