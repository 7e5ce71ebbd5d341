// KvCache (models/kv_cache.hpp) against the full forward: the logits of every position, before and
// after the window slides, in float and double; generate() through the cache against a naive
// generation loop; warm generation allocates nothing; the errors.
#include "no_malloc.hpp"

#include <neuronka/models/generate.hpp>
#include <neuronka/models/kv_cache.hpp>
#include <neuronka/models/transformer.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace neuronka;

namespace {
template <class Model>
std::vector<int> random_tokens(int n, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back(int(rng.uniform() * Model::vocab_size) % Model::vocab_size);
    return ids;
}

// Appends tokens one at a time; after each, the cache's logits must equal the last column of the
// model's forward over the tokens it holds (the last C), within `tolerance`.
template <class Model>
void check_against_forward(Model& model, int n, double tolerance) {
    const std::vector<int> ids = random_tokens<Model>(n, 7);
    KvCache<Model> cache(model);
    double worst = 0;
    for (int i = 0; i < n; ++i) {
        const auto& cached = cache.append(ids[std::size_t(i)]);
        const int len = std::min(i + 1, Model::context);
        CHECK(cache.size() == len);
        const auto window = std::span<const int>(ids).subspan(std::size_t(i + 1 - len), std::size_t(len));
        CHECK(cache.tokens() == std::vector<int>(window.begin(), window.end()));
        const auto& full = model.forward(window, len);
        worst = std::max(worst, double((cached.col(0) - full.col(len - 1)).cwiseAbs().maxCoeff()));
    }
    INFO("largest difference " << worst);
    CHECK(worst <= tolerance);
}
}  // namespace

TEST_CASE("The cache's logits equal the full forward at every position, and after the window slides", "[kv]") {
    Transformer<float, 13, 8, 16, 2, 2> model(21);
    check_against_forward(model, 8 + 5, 1e-5);
    Transformer<double, 13, 8, 16, 4, 2, 24> exact(22);
    check_against_forward(exact, 8 + 5, 1e-12);
}

TEST_CASE("A prompt appended at once (one batch) equals its tokens one at a time, longer ones keep their last C",
          "[kv]") {
    using Model = Transformer<double, 13, 8, 16, 2, 2>;
    Model model(4);
    const std::vector<int> ids = random_tokens<Model>(11, 3);
    for (const std::size_t n : {std::size_t(2), std::size_t(5), std::size_t(8), std::size_t(11)}) {
        KvCache<Model> batch(model), single(model);
        const auto prompt = std::span<const int>(ids).first(n);
        const Eigen::VectorXd at_once = batch.append(prompt).col(0);
        Eigen::VectorXd one_by_one;
        for (const int id : prompt) one_by_one = single.append(id).col(0);
        CHECK((at_once - one_by_one).cwiseAbs().maxCoeff() < 1e-12);
        CHECK(batch.tokens() == single.tokens());
        CHECK(batch.size() == int(std::min<std::size_t>(n, Model::context)));
        // then one more token each way, and a second prompt onto a cache that holds tokens
        CHECK((batch.append(7).col(0) - single.append(7).col(0)).cwiseAbs().maxCoeff() < 1e-12);
        const std::vector<int> more{1, 2, 3};
        const Eigen::VectorXd more_at_once = batch.append(more).col(0);
        for (const int id : more) one_by_one = single.append(id).col(0);
        CHECK((more_at_once - one_by_one).cwiseAbs().maxCoeff() < 1e-12);
        CHECK(batch.tokens() == single.tokens());
    }
}

TEST_CASE("generate() through the cache gives the tokens of a naive loop over the full forward", "[kv]") {
    using Model = Transformer<double, 13, 8, 16, 2, 2>;
    Model model(5);
    const std::vector<int> prompt{3, 1, 4};
    // greedy: the most likely token of the last column of a forward over the last C tokens
    std::vector<int> naive = prompt;
    for (int n = 0; n < 20; ++n) {
        const int len = std::min<int>(int(naive.size()), Model::context);
        const auto& logits = model.forward(std::span<const int>(naive).last(std::size_t(len)), len);
        Eigen::Index best;
        logits.col(len - 1).maxCoeff(&best);
        naive.push_back(int(best));
    }
    Rng rng(1);
    CHECK(generate(model, prompt, 20, {.temperature = 0}, rng) == naive);
    // sampling: the same generator state gives the same tokens through the naive loop
    Rng a(9), b(9);
    std::vector<int> sampled = prompt;
    TokenSampler sampler({.temperature = 0.9, .top_k = 5, .top_p = 0.9});
    for (int n = 0; n < 20; ++n) {
        const int len = std::min<int>(int(sampled.size()), Model::context);
        sampled.push_back(
            sampler(model.forward(std::span<const int>(sampled).last(std::size_t(len)), len).col(len - 1), a));
    }
    CHECK(generate(model, prompt, 20, {.temperature = 0.9, .top_k = 5, .top_p = 0.9}, b) == sampled);
}

TEST_CASE("Warm generation allocates nothing: KvCache::append and TokenSampler", "[kv][allocation]") {
    using Model = Transformer<float, 13, 8, 16, 2, 2>;
    Model model(3);
    KvCache<Model> cache(model);
    TokenSampler sampler({.temperature = 0.8, .top_k = 4, .top_p = 0.95});
    Rng rng(2);
    int next = 1;
    const auto step = [&] { next = sampler(cache.append(next).col(0), rng); };
    for (int i = 0; i < Model::context + 2; ++i) step();  // fills the cache and slides once: every buffer sized
    const no_malloc::Counts counts = no_malloc::count(step, 2 * Model::context);  // past more slides
    CHECK(counts.news == 0);
    CHECK(counts.eigen == 0);
}

TEST_CASE("KvCache refuses what it cannot hold", "[kv][errors]") {
    using Catch::Matchers::Contains;
    using Model = Transformer<float, 13, 8, 16, 2, 1>;
    Model model(3);
    KvCache<Model> cache(model);
    CHECK_THROWS_WITH(cache.append(13), Contains("token id 13 is out of range [0, 13)"));
    CHECK_THROWS_WITH(cache.append(std::span<const int>()), Contains("no token ids"));
    const std::vector<int> bad{1, 2, -1};
    CHECK_THROWS_WITH(cache.append(bad), Contains("token id -1"));
    CHECK(cache.size() == 0);  // a refused prompt appends nothing
    model.block(0).attn().causal = false;
    CHECK_THROWS_WITH(KvCache<Model>(model), Contains("non-causal attention"));
}
