// Generation speed, tokens per second, with the KV cache (generate(), one position's forward per
// token) and without it (a forward over the whole window for every token, as generate() ran before
// the cache), for tiny_gpt's model, a larger one and a model of GPT-2 small's shape with its own
// head (random weights). Greedy, so both produce the same tokens; the benchmark checks that they do.
#include "timing.hpp"

#include <neuronka/models/generate.hpp>

#include <cstdio>
#include <memory>
#include <vector>

using namespace neuronka;

namespace {
// Continues `prompt` by `count` tokens, greedily, with a forward over the window for each token.
template <class Model>
std::vector<int> generate_without_cache(Model& model, const std::vector<int>& prompt, int count) {
    std::vector<int> ids = prompt;
    typename Model::Workspace ws;
    for (int n = 0; n < count; ++n) {
        const int len = std::min<int>(int(ids.size()), Model::context);
        const auto& logits = model.predict(std::span<const int>(ids).last(std::size_t(len)), ws, len);
        Eigen::Index best;
        logits.col(len - 1).maxCoeff(&best);
        ids.push_back(int(best));
    }
    return ids;
}

// Tokens per second generating `count` tokens after a prompt of `prompt_length`, with and without
// the cache, the median of `rounds`; prompt and new tokens fit the context, so no window slides
// (after that, each token costs a forward over the window either way).
template <class Model>
void run(const char* name, int prompt_length, int count, int rounds) {
    static_assert(Model::context >= 1);
    auto model = std::make_unique<Model>(1);
    std::vector<int> prompt;
    for (int i = 0; i < prompt_length; ++i) prompt.push_back((i * 7919) % Model::vocab_size);
    Rng rng(1);
    generate(*model, prompt, 2, {.temperature = 0}, rng);  // warm: page in the weights
    std::vector<double> cached_rates, full_rates;
    bool same = true;
    for (int r = 0; r < rounds; ++r) {
        auto t0 = bench::Clock::now();
        const std::vector<int> cached = generate(*model, prompt, count, {.temperature = 0}, rng);
        cached_rates.push_back(count / bench::seconds_since(t0));
        t0 = bench::Clock::now();
        const std::vector<int> full = generate_without_cache(*model, prompt, count);
        full_rates.push_back(count / bench::seconds_since(t0));
        same = same && full == cached;
    }
    const double with_cache = bench::median(cached_rates), without_cache = bench::median(full_rates);
    std::printf("%-34s %6d %6d %11.1f %14.1f %8.1fx  %s\n", name, prompt_length, count, with_cache, without_cache,
                with_cache / without_cache, same ? "same tokens" : "TOKENS DIFFER");
}
}  // namespace

int main() {
    std::printf("%-34s %6s %6s %11s %14s %9s\n", "model", "prompt", "new", "tokens/s", "without cache", "speed-up");
    run<Transformer<float, 96, 64, 64, 4, 2>>("tiny_gpt (d 64, 2 layers, C 64)", 16, 48, 21);
    run<Transformer<float, 96, 256, 128, 4, 4>>("d 128, 4 layers, C 256", 64, 192, 5);
    run<Transformer<float, 50257, 1024, 768, 12, 12>>("GPT-2 small's shape (163M)", 64, 32, 1);
}
