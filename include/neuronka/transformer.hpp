/// @file transformer.hpp
/// @brief A pre-norm transformer block and a decoder-only transformer language model.
///
/// Shapes: D = Dim, V = Vocab, T = sequence length (≤ Context), B = sequences, N = T·B; every
/// activation is D × N with each sequence's columns together (see embedding.hpp).
#pragma once

#include "activation.hpp"
#include "attention.hpp"
#include "embedding.hpp"
#include "layer_norm.hpp"
#include "sequential.hpp"

#include <array>

namespace neuronka {

/**
 * @brief Pre-norm block, built from the library's own layers:
 *
 *     h = x + Attention(LayerNorm₁(x))
 *     y = h + MLP(LayerNorm₂(h)),   MLP = Dense(D → Hidden), GELU, Dense(Hidden → D)
 */
template <class T, int Dim, int Heads, int Hidden = 4 * Dim>
struct TransformerBlock {
    using scalar_type = T;
    static constexpr int in_size = Dim, out_size = Dim;
    using Mlp = Sequential<Dense<T, Dim, Hidden>, GELU, Dense<T, Hidden, Dim>>;

    LayerNorm<T, Dim> ln1;
    Attention<T, Dim, Heads> attn;
    LayerNorm<T, Dim> ln2;
    Mlp mlp;
    static constexpr std::size_t parameter_count =
        2 * LayerNorm<T, Dim>::parameter_count + Attention<T, Dim, Heads>::parameter_count + Mlp::parameter_count;

    explicit TransformerBlock(std::uint64_t seed = 0) {
        Rng rng(seed);
        init(rng);
    }
    static constexpr Cost cost(int seq_len = 1) {
        return 2 * LayerNorm<T, Dim>::cost() + Attention<T, Dim, Heads>::cost(seq_len) + Mlp::cost() +
               Cost{0, 0, 0, 4.0 * Dim * sizeof(T)};  // h, y, dh, dx
    }
    template <class F>
    static void describe(F&& f, int seq_len = 1) {
        f("  " + LayerNorm<T, Dim>::name(), LayerNorm<T, Dim>::cost(), Dim);
        f("  " + Attention<T, Dim, Heads>::name() + " (+ residual)",
          Attention<T, Dim, Heads>::cost(seq_len) + Cost{0, 0, 0, 2.0 * Dim * sizeof(T)}, Dim);
        f("  " + LayerNorm<T, Dim>::name(), LayerNorm<T, Dim>::cost(), Dim);
        Mlp::describe([&](const std::string& n, const Cost& c, int rows) { f("  " + n, c, rows); });
        f("  residual", Cost{0, 0, 0, 2.0 * Dim * sizeof(T)}, Dim);
    }
    static std::string name() {
        return "TransformerBlock<Dim=" + std::to_string(Dim) + ",Heads=" + std::to_string(Heads) +
               ",Hidden=" + std::to_string(Hidden) + ">";
    }
    void init(Rng& rng) {
        ln1.init(rng), attn.init(rng), ln2.init(rng), mlp.init(rng);
    }

    /// x: D × (T·B), seq_len: T  →  y: D × (T·B)
    template <class Derived>
    const Batch<T, Dim>& forward(const Eigen::MatrixBase<Derived>& x, int seq_len) {
        detail::check_input({&name, "forward"}, x, Dim);
        detail::MemberScope members;
        h_ = x;
        h_ += attn.forward(ln1.forward(x), seq_len);  // h = x + attn(ln1(x))
        y_ = h_;
        y_ += mlp.forward(ln2.forward(h_));           // y = h + mlp(ln2(h))
        return y_;
    }

    /// x: D × (T·B) (given to forward), dy: D × (T·B)  →  dx: D × (T·B)
    template <class DerivedX, class DerivedY>
    const Batch<T, Dim>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        detail::check_shape({&name, "backward"}, x, Dim);
        detail::check_grad({&name, "backward"}, x, dy, Dim);
        detail::MemberScope members;
        // forward: y = h + mlp(ln2(h))  →  dh = dy + ln2ᵀ(mlpᵀ(dy))
        dh_ = dy;
        dh_ += ln2.backward(h_, mlp.backward(ln2.output(), dy));
        // forward: h = x + attn(ln1(x))  →  dx = dh + ln1ᵀ(attnᵀ(dh))
        dx_ = dh_;
        dx_ += ln1.backward(x, attn.backward(ln1.output(), dh_));
        return dx_;
    }

    const Batch<T, Dim>& output() const { return y_; }
    void zero_grad() {
        ln1.zero_grad(), attn.zero_grad(), ln2.zero_grad(), mlp.zero_grad();
    }
    template <class F>
    void visit_parameters(F&& f) {
        ln1.visit_parameters(f), attn.visit_parameters(f), ln2.visit_parameters(f), mlp.visit_parameters(f);
    }

private:
    Batch<T, Dim> h_, y_, dh_, dx_;  // D × N
};

/**
 * @brief Decoder-only transformer language model:
 *
 *     x₀ = E[ids] + P[positions]           token and learned position embeddings
 *     xₗ = Blockₗ(xₗ₋₁),  l = 1..Layers     causal pre-norm blocks
 *     logits = Head(LayerNorm(x_Layers))   V × N, one next-token distribution per position
 *
 * Train with SoftmaxCrossEntropy<T, Vocab> over all N positions (targets = ids shifted by one).
 */
template <class T, int Vocab, int Context, int Dim, int Heads, int Layers, int Hidden = 4 * Dim>
struct Transformer {
    static_assert(Layers > 0, "Transformer: needs at least one block");
    using scalar_type = T;
    using Block = TransformerBlock<T, Dim, Heads, Hidden>;
    static constexpr int vocab_size = Vocab, context = Context, dim = Dim, heads = Heads, layers = Layers,
                         hidden = Hidden;

    Embedding<T, Vocab, Dim> tok;
    PositionalEmbedding<T, Context, Dim> pos;
    std::array<Block, Layers> blocks;
    LayerNorm<T, Dim> ln_f;
    Dense<T, Dim, Vocab> head;
    static constexpr std::size_t parameter_count = Embedding<T, Vocab, Dim>::parameter_count +
                                                   PositionalEmbedding<T, Context, Dim>::parameter_count +
                                                   Layers * Block::parameter_count +
                                                   LayerNorm<T, Dim>::parameter_count +
                                                   Dense<T, Dim, Vocab>::parameter_count;

    explicit Transformer(std::uint64_t seed = 0) {
        Rng rng(seed);
        init(rng);
    }
    static constexpr Cost cost(int seq_len = 1) {
        return Embedding<T, Vocab, Dim>::cost() + PositionalEmbedding<T, Context, Dim>::cost() +
               Cost{0, 0, 0, double(Dim) * sizeof(T)} + double(Layers) * Block::cost(seq_len) +
               LayerNorm<T, Dim>::cost() + Dense<T, Dim, Vocab>::cost();
    }
    template <class F>
    static void describe(F&& f, int seq_len = 1) {
        f(Embedding<T, Vocab, Dim>::name(), Embedding<T, Vocab, Dim>::cost(), Dim);
        f(PositionalEmbedding<T, Context, Dim>::name() + " (+)",
          PositionalEmbedding<T, Context, Dim>::cost() + Cost{0, 0, 0, double(Dim) * sizeof(T)}, Dim);
        for (int l = 0; l < Layers; ++l) {
            f("block " + std::to_string(l) + ": " + Block::name(), Cost{}, -1);
            Block::describe(f, seq_len);
        }
        f(LayerNorm<T, Dim>::name(), LayerNorm<T, Dim>::cost(), Dim);
        f(Dense<T, Dim, Vocab>::name() + " (head)", Dense<T, Dim, Vocab>::cost(), Vocab);
    }
    static std::string name() {
        return "Transformer<Vocab=" + std::to_string(Vocab) + ",Context=" + std::to_string(Context) +
               ",Dim=" + std::to_string(Dim) + ",Heads=" + std::to_string(Heads) + ",Layers=" + std::to_string(Layers) +
               ",Hidden=" + std::to_string(Hidden) + ">";
    }
    void init(Rng& rng) {
        tok.init(rng), pos.init(rng);
        for (auto& b : blocks) b.init(rng);
        ln_f.init(rng), head.init(rng);
    }

    /// ids: T·B token ids (sequence b at [b·T, b·T + T)), seq_len: T ≤ Context  →  logits: V × (T·B)
    const Batch<T, Vocab>& forward(std::span<const int> ids, int seq_len) {
        detail::check_sequence({&name, "forward"}, Eigen::Index(ids.size()), seq_len, Context);
        T_ = seq_len;
        const bool entry = !detail::is_member_call();
        detail::MemberScope members;  // ids are checked by tok; the layers after it need no inf/NaN scan
        x0_ = tok.forward(ids);
        pos.add_to(x0_, seq_len);
        const Batch<T, Dim>* x = &x0_;
        for (auto& b : blocks) x = &b.forward(*x, seq_len);
        const Batch<T, Vocab>& logits = head.forward(ln_f.forward(*x));
        if (entry && !detail::all_finite(logits)) locate_non_finite(name() + "::forward");
        return logits;
    }

    /// Throws for the first part (embeddings, block l, final norm, head) whose output of the last
    /// forward has an inf or NaN; returns if there is none.
    void locate_non_finite(const std::string& where) {
        if (!x0_.allFinite())
            detail::throw_non_finite(where, "the embeddings' output", x0_, "the embedding tables diverged: lower the "
                                     "learning rate or clip gradients");
        for (int l = 0; l < Layers; ++l)
            if (!blocks[std::size_t(l)].output().allFinite())
                detail::throw_member_non_finite(where + " > block " + std::to_string(l), 0, blocks[std::size_t(l)]);
        if (!ln_f.output().allFinite()) detail::throw_member_non_finite(where, std::size_t(Layers) + 2, ln_f);
        if (!head.output().allFinite()) detail::throw_member_non_finite(where, std::size_t(Layers) + 3, head);
    }

    /// ids: as given to forward, dlogits: V × (T·B). Every parameter gradient accumulates.
    template <class Derived>
    void backward(std::span<const int> ids, const Eigen::MatrixBase<Derived>& dlogits) {
        if (Eigen::Index(ids.size()) != x0_.cols())
            detail::throw_size(name() + "::backward", "id list", Eigen::Index(ids.size()), "ids", x0_.cols(),
                               "pass the ids given to forward");
        detail::check_grad({&name, "backward"}, head.output(), dlogits, Vocab);
        detail::MemberScope members;
        const Batch<T, Dim>& last = blocks[Layers - 1].output();
        // forward: logits = head(ln_f(x_L))
        const Batch<T, Dim>* dx = &ln_f.backward(last, head.backward(ln_f.output(), dlogits));
        // forward: x_l = block_l(x_{l-1})
        for (int l = Layers - 1; l >= 0; --l) dx = &blocks[l].backward(l ? blocks[l - 1].output() : x0_, *dx);
        // forward: x_0 = E[ids] + P[t]
        pos.backward(*dx, T_);
        tok.backward(ids, *dx);
    }

    /// Attention of block l (after forward): see Attention::probabilities.
    const Attention<T, Dim, Heads>& attention(int l) const { return blocks.at(std::size_t(l)).attn; }
    const Batch<T, Vocab>& output() const { return head.output(); }

    void zero_grad() {
        tok.zero_grad(), pos.zero_grad();
        for (auto& b : blocks) b.zero_grad();
        ln_f.zero_grad(), head.zero_grad();
    }
    template <class F>
    void visit_parameters(F&& f) {
        tok.visit_parameters(f), pos.visit_parameters(f);
        for (auto& b : blocks) b.visit_parameters(f);
        ln_f.visit_parameters(f), head.visit_parameters(f);
    }

private:
    int T_ = 0;
    Batch<T, Dim> x0_;  // D × N
};

}  // namespace neuronka
