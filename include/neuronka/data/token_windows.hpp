/// @file
/// @brief Next-token windows over a stream of tokens, the data of a language model: window s holds
/// the inputs tokens[s, s + C) and the targets tokens[s + 1, s + C + 1), each token's successor.
///
/// TokenBatches draws a training epoch's batches of random windows (what fit() trains a language
/// model on); TokenWindows::window gives consecutive windows for evaluation.
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

#include "../core/random.hpp"

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
    /// `tokens`: the stream; `context`: C, the tokens a window holds. Needs C + 1 tokens or more.
    TokenWindows(std::span<const int> tokens, int context) : tokens_(tokens), C_(std::size_t(context)) {
        if (context < 1)
            throw std::invalid_argument("TokenWindows: context is " + std::to_string(context) + ", expected >= 1");
        if (tokens.size() < C_ + 1)
            throw std::invalid_argument("TokenWindows: " + std::to_string(tokens.size()) +
                                        " tokens are too few for windows of " + std::to_string(context) +
                                        "; need at least " + std::to_string(C_ + 1) + " (a window and its targets)");
    }

    /// B windows at starts drawn uniformly from [0, N − C], every start whose window and targets
    /// lie in the stream: `ids` and `targets` get B·C tokens, window b at [b·C, (b+1)·C). They keep
    /// their capacity, so a reused pair allocates once.
    void sample(int B, Rng& rng, std::vector<int>& ids, std::vector<int>& targets) const {
        if (B < 1) throw std::invalid_argument("TokenWindows::sample: B is " + std::to_string(B) + ", expected >= 1");
        ids.resize(std::size_t(B) * C_), targets.resize(ids.size());
        for (std::size_t b = 0; b < std::size_t(B); ++b) {
            const std::size_t start = rng.below(tokens_.size() - C_);
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

/**
 * @brief The training batches of a language model: an epoch is `steps` batches of B windows drawn
 * by TokenWindows::sample from one Rng seeded once, so the draws continue from epoch to epoch and
 * a run depends only on the seed. The same interface as Batches (start_epoch, next, size, count,
 * labels), with the token ids and their context C as the input; fit() takes it through a
 * TokenWindows. Its buffers are allocated by the constructor: next() allocates nothing.
 */
class TokenBatches {
public:
    /// `batch_size` windows (B) per batch, `steps` batches per epoch, draws from `seed`.
    TokenBatches(const TokenWindows& windows, int batch_size, std::size_t steps, std::uint64_t seed)
        : windows_(windows), B_(batch_size), steps_(steps), rng_(seed) {
        if (batch_size < 1)
            throw std::invalid_argument("TokenBatches: batch_size is " + std::to_string(batch_size) +
                                        ", expected >= 1 (windows per batch)");
        if (steps < 1)
            throw std::invalid_argument(
                "TokenBatches: steps per epoch is 0, expected >= 1. Hint: a stream of tokens has no "
                "natural epoch; say how many batches make one (FitOptions::steps_per_epoch)");
        ids_.resize(std::size_t(B_) * std::size_t(windows.context())), targets_.resize(ids_.size());
    }
    /// Rewinds the epoch (the draws continue).
    void start_epoch() { step_ = 0; }
    /// Draws the next batch; false when the epoch has had its `count()` batches.
    bool next() {
        if (step_ == steps_) return false;
        windows_.sample(B_, rng_, ids_, targets_);
        ++step_;
        return true;
    }
    /// The current batch's B·C token ids, window b at [b·C, (b+1)·C).
    std::span<const int> ids() const { return ids_; }
    /// Their next-token targets, one class label per token.
    std::span<const int> labels() const { return targets_; }
    /// C, the sequence length of every window.
    int context() const { return windows_.context(); }
    /// Tokens in a batch, B·C: the samples a loss averages over.
    std::size_t size() const { return ids_.size(); }
    /// Batches per epoch.
    std::size_t count() const { return steps_; }
    /// Windows per batch, B.
    int batch_size() const { return B_; }

private:
    TokenWindows windows_;
    int B_;
    std::size_t steps_, step_ = 0;
    Rng rng_;
    std::vector<int> ids_, targets_;
};

}  // namespace neuronka
