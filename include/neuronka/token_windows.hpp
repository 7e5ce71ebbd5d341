/// @file token_windows.hpp
/// @brief Next-token windows over a stream of tokens, the data of a language model: window s holds
/// the inputs tokens[s, s + C) and the targets tokens[s + 1, s + C + 1), each token's successor.
///
/// @code
/// TokenWindows windows(tokens, /*context C*/ 64);
/// windows.sample(/*B*/ 16, rng, ids, targets);          // training: B windows at random starts
/// for (std::size_t k = 0; k < windows.count(); ++k) {  // evaluation: every position once
///     const auto [ids, targets] = windows.window(k);
///     nll += ce.forward(model.forward(ids, int(ids.size())), targets) * double(ids.size());
/// }
/// @endcode
#pragma once

#include "random.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace neuronka {

/// Windows of C tokens and their next-token targets over a stream the caller keeps alive.
class TokenWindows {
public:
    /// `tokens`: the stream; `context`: C, the tokens a window holds. Needs C + 2 tokens or more.
    TokenWindows(std::span<const int> tokens, int context) : tokens_(tokens), C_(std::size_t(context)) {
        if (context < 1) throw std::invalid_argument("TokenWindows: context is " + std::to_string(context) + ", expected >= 1");
        if (tokens.size() < C_ + 2)
            throw std::invalid_argument("TokenWindows: " + std::to_string(tokens.size()) + " tokens are too few for windows of " +
                                        std::to_string(context) + "; need at least " + std::to_string(C_ + 2));
    }

    /// B windows at starts drawn uniformly from [0, N − C − 1): `ids` and `targets` get B·C tokens,
    /// window b at [b·C, (b+1)·C). They keep their capacity, so a reused pair allocates once.
    void sample(int B, Rng& rng, std::vector<int>& ids, std::vector<int>& targets) const {
        if (B < 1) throw std::invalid_argument("TokenWindows::sample: B is " + std::to_string(B) + ", expected >= 1");
        ids.resize(std::size_t(B) * C_), targets.resize(ids.size());
        for (std::size_t b = 0; b < std::size_t(B); ++b) {
            const std::size_t start = rng.below(tokens_.size() - C_ - 1);
            std::copy_n(tokens_.begin() + long(start), C_, ids.begin() + long(b * C_));
            std::copy_n(tokens_.begin() + long(start) + 1, C_, targets.begin() + long(b * C_));
        }
    }

    /// Consecutive windows that predict every token after the first exactly once: window k starts at
    /// k·C; the last may be shorter.
    std::size_t count() const { return (tokens_.size() - 1 + C_ - 1) / C_; }

    /// Window k of count(): {inputs, targets}, each of min(C, N − 1 − k·C) tokens.
    std::pair<std::span<const int>, std::span<const int>> window(std::size_t k) const {
        if (k >= count())
            throw std::out_of_range("TokenWindows::window: window " + std::to_string(k) + " is out of range (" +
                                    std::to_string(count()) + " windows)");
        const std::size_t start = k * C_, n = std::min(C_, tokens_.size() - 1 - start);
        return {tokens_.subspan(start, n), tokens_.subspan(start + 1, n)};
    }

    /// C, the tokens of a window.
    int context() const { return int(C_); }
    /// The whole stream.
    std::span<const int> tokens() const { return tokens_; }

private:
    std::span<const int> tokens_;
    std::size_t C_;
};

}  // namespace neuronka
