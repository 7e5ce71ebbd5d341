/// @file
/// @brief Text generation from a language model: greedy decoding and sampling with temperature,
/// top-k and top-p; a Transformer generates through a KvCache (one position's work per token).
#pragma once

#include "../core/random.hpp"
#include "kv_cache.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

namespace neuronka {

/// How the next token is chosen from the logits.
struct SamplingOptions {
    double temperature = 1.0;  ///< > 0; 0 means greedy (always the most likely token)
    int top_k = 0;             ///< keep only the k most likely tokens; 0 keeps all
    double top_p = 1.0;        ///< keep the most likely tokens whose probabilities first reach top_p (0 < top_p ≤ 1)
};

/**
 * @brief Picks tokens from columns of logits as SamplingOptions say, keeping its buffers: after the
 * first call with a vocabulary size, a call allocates nothing. Deterministic for a given generator
 * state; each sampled token draws one number from the generator, a greedy one none.
 *
 * Order of the filters: the logits are divided by the temperature, tokens below the k-th largest
 * are dropped (top_k), the rest get softmax probabilities, and of those the most likely tokens are
 * kept until their probabilities sum to top_p (at least one; ties by smaller id first).
 */
class TokenSampler {
public:
    /// A sampler with options `o` (checked at each call against the vocabulary size).
    explicit TokenSampler(const SamplingOptions& o = {}) : o_(o) {}

    /// One token from `logits` (V × 1).
    template <class Derived>
    int operator()(const Eigen::MatrixBase<Derived>& logits, Rng& rng) {
        const Eigen::Index V = logits.size();
        if (V == 0) throw std::invalid_argument("sample_token: no logits");
        if (!(o_.temperature >= 0) || o_.top_k < 0 || o_.top_k > V || !(o_.top_p > 0 && o_.top_p <= 1))
            throw std::invalid_argument(
                "sample_token: temperature is " + detail::format_value(o_.temperature) + ", top_k " +
                std::to_string(o_.top_k) + " and top_p " + detail::format_value(o_.top_p) +
                ", expected temperature >= 0, 0 <= top_k <= " + std::to_string(V) + " and 0 < top_p <= 1");
        if (!logits.allFinite()) throw std::domain_error("sample_token: the logits are not finite");
        Eigen::Index best;
        logits.maxCoeff(&best);
        if (o_.temperature == 0) return int(best);
        p_.resize(std::size_t(V));
        for (Eigen::Index i = 0; i < V; ++i)
            p_[std::size_t(i)] = (double(logits(i)) - double(logits(best))) / o_.temperature;
        if (o_.top_k > 0) {  // drop everything below the k-th largest logit
            order_.assign(p_.begin(), p_.end());
            std::nth_element(order_.begin(), order_.begin() + (o_.top_k - 1), order_.end(), std::greater<>());
            const double kth = order_[std::size_t(o_.top_k - 1)];
            for (auto& v : p_) v = v < kth ? -INFINITY : v;
        }
        double sum = 0;
        for (auto& v : p_) sum += (v = std::exp(v));
        if (o_.top_p < 1) {  // keep the most likely tokens until they hold top_p of the probability
            ids_.resize(std::size_t(V));
            std::iota(ids_.begin(), ids_.end(), 0);
            std::sort(ids_.begin(), ids_.end(), [&](int a, int b) {
                return p_[std::size_t(a)] > p_[std::size_t(b)] || (p_[std::size_t(a)] == p_[std::size_t(b)] && a < b);
            });
            double kept = 0;
            std::size_t n = 0;
            while (n < ids_.size() && (n == 0 || kept < o_.top_p * sum)) kept += p_[std::size_t(ids_[n++])];
            for (std::size_t i = n; i < ids_.size(); ++i) p_[std::size_t(ids_[i])] = 0;
            sum = kept;
        }
        double u = rng.uniform() * sum;
        for (std::size_t i = 0; i < p_.size(); ++i)
            if ((u -= p_[i]) < 0) return int(i);
        return int(best);
    }

private:
    SamplingOptions o_;
    std::vector<double> p_, order_;  // V: the probabilities; the logits sorted for top_k
    std::vector<int> ids_;           // V: token ids by probability, for top_p
};

/// Picks a token from one column of logits (a TokenSampler made for this call).
template <class Derived>
int sample_token(const Eigen::MatrixBase<Derived>& logits, const SamplingOptions& o, Rng& rng) {
    TokenSampler sampler(o);
    return sampler(logits, rng);
}

namespace detail {
template <class Model>
concept KvCacheable = requires {
    typename Model::Block;
    Model::layers;
    Model::heads;
};
}  // namespace detail

/**
 * @brief Continues `prompt` by `count` tokens with a language model and returns the prompt and
 * the new tokens. The model sees at most its last `Model::context` tokens. A Transformer runs
 * through a KvCache: each new token costs one position's forward (the whole window's once the
 * window slides); any other model with `forward(ids, seq_len)` returning V × seq_len logits
 * reruns its forward over the window for every token.
 */
template <class Model>
std::vector<int> generate(Model& model, std::span<const int> prompt, int count, const SamplingOptions& o, Rng& rng) {
    if (prompt.empty())
        throw std::invalid_argument("generate: the prompt is empty. Hint: start with a token such as a separator");
    std::vector<int> ids(prompt.begin(), prompt.end());
    ids.reserve(ids.size() + std::size_t(std::max(count, 0)));
    TokenSampler sample(o);
    if constexpr (detail::KvCacheable<Model>) {
        KvCache<Model> cache(model);
        const auto window = std::span<const int>(ids).last(std::min<std::size_t>(ids.size(), Model::context));
        const Batch<typename Model::scalar_type, Model::vocab_size>* logits = &cache.append(window);
        for (int n = 0; n < count; ++n) {
            ids.push_back(sample(logits->col(0), rng));
            if (n + 1 < count) logits = &cache.append(ids.back());
        }
    } else {
        for (int n = 0; n < count; ++n) {
            const int len = int(std::min<std::size_t>(ids.size(), std::size_t(Model::context)));
            const auto& logits = model.forward(std::span<const int>(ids).last(std::size_t(len)), len);
            ids.push_back(sample(logits.col(len - 1), rng));
        }
    }
    return ids;
}

}  // namespace neuronka
