/// @file
/// @brief KvCache: a Transformer's keys and values kept from one generated token to the next, so
/// that each new token costs one position's forward instead of the whole window's.
///
/// Shapes: D = Dim, V = Vocab, C = Context, H = Heads, hd = D / H, p = the new token's position.
#pragma once

#include "transformer.hpp"

#include <array>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace neuronka {

/**
 * @brief Incremental inference for a Transformer: append() takes the next token and returns its
 * logits, computing only that position; every block keeps the keys and values of the positions
 * before it.
 *
 *     x = E[id] + P[p]                               D × 1
 *     per block:  [q; k; v] = Wqkv LayerNorm₁(x) + b; K(:, p) = k, V(:, p) = v
 *                 per head h: a = softmax(Kₕ(:, 0..p)ᵀ qₕ / √hd); oₕ = Vₕ(:, 0..p) a
 *                 x = x + Wo o + bo;  x = x + MLP(LayerNorm₂(x))
 *     logits = Head(LayerNorm(x))                    V × 1
 *
 * A prompt (several tokens at once) is one forward over its tokens as a batch, keeping every
 * block's keys and values; each token after it is one position's work. The logits equal the last
 * column of the model's forward over the same tokens, to rounding. When C tokens are held, the
 * window slides as generate() always did: the oldest token leaves, the others move to positions
 * 0..C-2, and that token costs a forward over the window. The cache reads the model's weights (it
 * keeps a reference: the model must outlive it) and sizes its buffers on first use: once a window
 * of each size has been seen, append() allocates nothing.
 *
 * @code
 * neuronka::KvCache cache(model);
 * const auto& logits = cache.append(prompt);  // V × 1, after the prompt's last token
 * int next = ...;                             // chosen from the logits
 * cache.append(next);                         // one position's work
 * @endcode
 */
template <class Model>
class KvCache {
    static constexpr int D = Model::dim, V = Model::vocab_size, C = Model::context, L = Model::layers, H = Model::heads,
                         hd = D / H;

public:
    using Scalar = typename Model::scalar_type;      ///< the model's scalar type
    static constexpr int capacity = Model::context;  ///< C: positions held before the window slides

    /// A cache for `model` (a Transformer whose attention is causal), empty.
    explicit KvCache(const Model& model) : model_(model) {
        for (int l = 0; l < L; ++l)
            if (!model.attention(l).causal)
                throw std::invalid_argument("KvCache: block " + std::to_string(l) +
                                            " has non-causal attention, so earlier positions depend on later "
                                            "ones and cannot be kept. Hint: set attn().causal = true");
        for (auto& m : keys_) m.setZero(D, C);
        for (auto& m : values_) m.setZero(D, C);
        x_.setZero(D, 1);
        o_.setZero(D, 1);
        scores_.setZero(C);
        tokens_.reserve(std::size_t(C));
        window_.reserve(std::size_t(C));
    }

    /// Forgets every position (the next append() is position 0).
    void clear() { tokens_.clear(); }
    /// Positions held: the tokens appended since clear(), at most C.
    int size() const { return int(tokens_.size()); }
    /// The tokens held, position 0 first.
    const std::vector<int>& tokens() const { return tokens_; }

    /// Appends token `id` at position size() and returns its logits, V × 1, valid until the next
    /// append(). When C tokens are held, the window slides: a forward over the last C tokens.
    const Batch<Scalar, V>& append(int id) {
        check_id(id);
        if (size() < C) return step(id);
        window_.assign(tokens_.begin() + 1, tokens_.end());
        window_.push_back(id);
        return prefill(window_);
    }
    /// Appends `ids` in order and returns the logits of the last, V × 1 (a prompt): one forward over
    /// the tokens held and `ids` (their last C), as a batch.
    const Batch<Scalar, V>& append(std::span<const int> ids) {
        if (ids.empty())
            throw std::invalid_argument("KvCache::append: no token ids. Hint: a prompt needs at least one token");
        for (const int id : ids) check_id(id);
        if (ids.size() == 1) return append(ids[0]);
        const std::size_t n = std::min(ids.size(), std::size_t(C)), held = std::min(tokens_.size(), std::size_t(C) - n);
        window_.assign(tokens_.end() - std::ptrdiff_t(held), tokens_.end());
        window_.insert(window_.end(), ids.end() - std::ptrdiff_t(n), ids.end());
        return prefill(window_);
    }

private:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Block = typename Model::Block;
    using Gelu = std::remove_cvref_t<decltype(std::declval<const Block&>().template layer<1>().template layer<2>())>;
    struct BlockWorkspace {  // one block's buffers, as its layers' predict() needs them
        typename LayerNorm<Scalar, D>::Workspace ln1, ln2;
        typename Dense<Scalar, D, 3 * D>::Workspace qkv;
        typename Dense<Scalar, D, D>::Workspace proj;
        typename Dense<Scalar, D, Model::hidden>::Workspace fc1;
        typename Gelu::Workspace gelu;
        typename Dense<Scalar, Model::hidden, D>::Workspace fc2;
    };

    static void check_id(int id) {
        if (id < 0 || id >= V)
            throw std::invalid_argument("KvCache::append: token id " + std::to_string(id) + " is out of range [0, " +
                                        std::to_string(V) + ")");
    }

    // The cache emptied and refilled with `ids` (at most C) at positions 0..T-1 in one batch: the
    // model's forward, keeping each block's keys and values; the logits of the last position.
    const Batch<Scalar, V>& prefill(std::span<const int> ids) {
        const Eigen::Index T = Eigen::Index(ids.size());
        tokens_.assign(ids.begin(), ids.end());
        xs_.resize(D, T);
        for (Eigen::Index t = 0; t < T; ++t)
            xs_.col(t) = model_.template layer<0>().E.col(ids[std::size_t(t)]) + model_.template layer<1>().P.col(t);
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (run_block(model_.template layer<I + 2>(), int(I), 0, xs_, os_, prefill_ws_), ...);
        }
        (std::make_index_sequence<std::size_t(L)>{});
        x_ = xs_.col(T - 1);
        return logits();
    }
    const Batch<Scalar, V>& logits() {
        const auto& ln_f = model_.template layer<L + 2>();
        const auto& head = model_.template layer<L + 3>();
        return head.predict(ln_f.predict(x_, ln_f_ws_), head_ws_);
    }

    // Token `id` at position size(): x through every block, then the head.
    const Batch<Scalar, V>& step(int id) {
        const int p = size();
        tokens_.push_back(id);
        x_ = model_.template layer<0>().E.col(id) + model_.template layer<1>().P.col(p);
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (run_block(model_.template layer<I + 2>(), int(I), p, x_, o_, ws_), ...);
        }
        (std::make_index_sequence<std::size_t(L)>{});
        return logits();
    }

    // Block l on x: the columns of the new positions p, p + 1, ... (one token, or a window from
    // position 0), whose keys and values join the cache; o holds the heads' outputs.
    void run_block(const Block& block, int l, Eigen::Index p, Batch<Scalar, D>& x, Batch<Scalar, D>& o,
                   BlockWorkspace& ws) {
        const auto& attention = block.template layer<0>();  // Residual<LayerNorm, Attention>
        const auto& mlp = block.template layer<1>();        // Residual<LayerNorm, Dense, GELU, Dense>
        const auto& attn = attention.template layer<1>();
        const Eigen::Index T = x.cols();
        // [q; k; v] = Wqkv LayerNorm₁(x) + bqkv; k and v join the cache at columns p..p+T-1
        const Batch<Scalar, 3 * D>& qkv = attn.qkv.predict(attention.template layer<0>().predict(x, ws.ln1), ws.qkv);
        Matrix& K = keys_[std::size_t(l)];
        Matrix& Vs = values_[std::size_t(l)];
        K.middleCols(p, T) = qkv.middleRows(D, D);
        Vs.middleCols(p, T) = qkv.middleRows(2 * D, D);
        o.resize(D, T);
        if (T > 1) {  // a window from position 0: Attention's own heads
            probabilities_.resize(T, T * H);
            detail::AttentionHeads<Scalar>::forward(qkv, T, H, true, 0, H, probabilities_, o);
        } else {  // per head: a = softmax(Kₕᵀ qₕ / √hd) over positions 0..p, oₕ = Vₕ a (as Attention's forward)
            const Scalar scale = Scalar(1) / std::sqrt(Scalar(hd));
            for (int h = 0; h < H; ++h) {
                auto a = scores_.head(p + 1);
                a.noalias() = K.block(h * hd, 0, hd, p + 1).transpose() * qkv.col(0).segment(h * hd, hd);
                const Scalar m = a.maxCoeff();
                a = ((a.array() - m) * scale).exp().matrix();
                a /= a.sum();
                o.col(0).segment(h * hd, hd).noalias() = Vs.block(h * hd, 0, hd, p + 1) * a;
            }
        }
        x += attn.proj.predict(o, ws.proj);
        // x = x + fc2(GELU(fc1(LayerNorm₂(x))))
        const auto& fc1 = mlp.template layer<1>();
        const auto& fc2 = mlp.template layer<3>();
        x += fc2.predict(
            mlp.template layer<2>().predict(fc1.predict(mlp.template layer<0>().predict(x, ws.ln2), ws.fc1), ws.gelu),
            ws.fc2);
    }

    const Model& model_;
    std::array<Matrix, std::size_t(L)> keys_, values_;  // per block, D × C: column s is position s
    BlockWorkspace ws_, prefill_ws_;  // every block's, one block after the other: one column; a window's columns
    typename LayerNorm<Scalar, D>::Workspace ln_f_ws_;
    typename Model::Head::Workspace head_ws_;
    Batch<Scalar, D> x_, o_;                           // the new position's activation; the heads' outputs
    Batch<Scalar, D> xs_, os_;                         // the same for a window of T positions, D × T
    Matrix probabilities_;                             // T × (T·H): a window's attention
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> scores_;  // C: one head's attention over positions 0..p
    std::vector<int> tokens_, window_;                 // the tokens held; scratch for a slide
};

}  // namespace neuronka
