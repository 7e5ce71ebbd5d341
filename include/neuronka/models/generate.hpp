/// @file
/// @brief Text generation from a language model: greedy decoding and sampling with temperature and top-k.
#pragma once

#include "../core/random.hpp"

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
};

/// Picks a token from one column of logits. Deterministic for a given generator state.
template <class Derived>
int sample_token(const Eigen::MatrixBase<Derived>& logits, const SamplingOptions& o, Rng& rng) {
    const Eigen::Index V = logits.size();
    if (V == 0) throw std::invalid_argument("sample_token: no logits");
    if (!(o.temperature >= 0) || o.top_k < 0 || o.top_k > V)
        throw std::invalid_argument("sample_token: temperature is " + detail::format_value(o.temperature) +
                                    " and top_k " + std::to_string(o.top_k) +
                                    ", expected temperature >= 0 and 0 <= top_k <= " + std::to_string(V));
    if (!logits.allFinite()) throw std::domain_error("sample_token: the logits are not finite");
    Eigen::Index best;
    logits.maxCoeff(&best);
    if (o.temperature == 0) return int(best);
    std::vector<double> p(static_cast<std::size_t>(V));
    for (Eigen::Index i = 0; i < V; ++i) p[std::size_t(i)] = (double(logits(i)) - double(logits(best))) / o.temperature;
    if (o.top_k > 0) {  // drop everything below the k-th largest logit
        std::vector<double> sorted = p;
        std::nth_element(sorted.begin(), sorted.begin() + (o.top_k - 1), sorted.end(), std::greater<>());
        const double kth = sorted[std::size_t(o.top_k - 1)];
        for (auto& v : p) v = v < kth ? -INFINITY : v;
    }
    double sum = 0;
    for (auto& v : p) sum += (v = std::exp(v));
    double u = rng.uniform() * sum;
    for (std::size_t i = 0; i < p.size(); ++i)
        if ((u -= p[i]) < 0) return int(i);
    return int(best);
}

/**
 * @brief Continues `prompt` by `count` tokens with a model that has `forward(ids, seq_len)` returning
 * V × seq_len logits (a Transformer). The model sees at most its last `Model::context` tokens.
 */
template <class Model>
std::vector<int> generate(Model& model, std::span<const int> prompt, int count, const SamplingOptions& o, Rng& rng) {
    if (prompt.empty())
        throw std::invalid_argument("generate: the prompt is empty. Hint: start with a token such as a separator");
    std::vector<int> ids(prompt.begin(), prompt.end());
    for (int n = 0; n < count; ++n) {
        const int len = int(std::min<std::size_t>(ids.size(), std::size_t(Model::context)));
        const auto& logits = model.forward(std::span<const int>(ids).last(std::size_t(len)), len);
        ids.push_back(sample_token(logits.col(len - 1), o, rng));
    }
    return ids;
}

}  // namespace neuronka
