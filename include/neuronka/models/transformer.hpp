/// @file
/// @brief A pre-norm transformer block and a decoder-only transformer language model, both
/// compositions of the library's layers (no backward code of their own).
///
/// Shapes: D = Dim, V = Vocab, T = sequence length (≤ Context), B = sequences; every activation is
/// D × (T·B) with each sequence's columns together (see docs/layer-concept.md).
#pragma once

#include "../compose/residual.hpp"
#include "../compose/sequential.hpp"
#include "../layers/activation.hpp"
#include "../layers/attention.hpp"
#include "../layers/dense.hpp"
#include "../layers/embedding.hpp"
#include "../layers/layer_norm.hpp"
#include "../layers/tied_head.hpp"

#include <utility>

namespace neuronka {

namespace detail {
template <class Scalar, int Dim, int Heads, int FeedForward>
using BlockLayers = Sequential<
    Residual<LayerNorm<Scalar, Dim>, Attention<Scalar, Dim, Heads>>,
    Residual<LayerNorm<Scalar, Dim>, Dense<Scalar, Dim, FeedForward>, GELU, Dense<Scalar, FeedForward, Dim>>>;
}  // namespace detail

/**
 * @brief Pre-norm block:
 *
 *     TransformerBlock = Sequential<Residual<LayerNorm, Attention>,
 *                                   Residual<LayerNorm, Dense(D → FeedForward), GELU, Dense(FeedForward → D)>>
 *
 * i.e. h = x + Attention(LayerNorm₁(x)), y = h + MLP(LayerNorm₂(h)). A named Sequential: the
 * accessors below name its parts.
 */
template <class Scalar, int Dim, int Heads, int FeedForward = 4 * Dim>
struct TransformerBlock : detail::BlockLayers<Scalar, Dim, Heads, FeedForward> {
    using Base = detail::BlockLayers<Scalar, Dim, Heads, FeedForward>;  ///< the composition it is
    using Base::Base;
    /// Parameters from seed 0.
    TransformerBlock() : Base(0) {}
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        return layer_name({"TransformerBlock<Dim=", Dim, ",Heads=", Heads, ",Hidden=", FeedForward, ">"});
    }
    /// The LayerNorm before attention.
    LayerNorm<Scalar, Dim>& ln1() { return this->template layer<0>().template layer<0>(); }
    /// The attention.
    Attention<Scalar, Dim, Heads>& attn() { return this->template layer<0>().template layer<1>(); }
    /// The attention, read only.
    const Attention<Scalar, Dim, Heads>& attn() const { return this->template layer<0>().template layer<1>(); }
    /// The LayerNorm before the MLP.
    LayerNorm<Scalar, Dim>& ln2() { return this->template layer<1>().template layer<0>(); }
    /// The MLP's first layer, Dim → FeedForward.
    Dense<Scalar, Dim, FeedForward>& fc1() { return this->template layer<1>().template layer<1>(); }
    /// The MLP's second layer, FeedForward → Dim.
    Dense<Scalar, FeedForward, Dim>& fc2() { return this->template layer<1>().template layer<3>(); }
};

namespace detail {
template <class Scalar, int Vocab, int Context, int Dim, class Block, class Head, class Blocks>
struct transformer_layers;
template <class Scalar, int Vocab, int Context, int Dim, class Block, class Head, std::size_t... L>
struct transformer_layers<Scalar, Vocab, Context, Dim, Block, Head, std::index_sequence<L...>> {
    template <std::size_t>
    using block = Block;
    using type = Sequential<Embedding<Scalar, Vocab, Dim>, PositionalEmbedding<Scalar, Context, Dim>, block<L>...,
                            LayerNorm<Scalar, Dim>, Head>;
};
template <class Scalar, int Vocab, int Dim, bool Tied>
using transformer_head = std::conditional_t<Tied, TiedHead<Scalar, Vocab, Dim>, Dense<Scalar, Dim, Vocab>>;
}  // namespace detail

/**
 * @brief Decoder-only transformer language model, composed like any other model:
 *
 *     Transformer = Sequential<Embedding, PositionalEmbedding, TransformerBlock × Layers,
 *                              LayerNorm, Dense(D → V)>
 *
 *     x₀ = E[ids] + P[positions];  xₗ = Blockₗ(xₗ₋₁);  logits = Head(LayerNorm(x_Layers))   V × (T·B)
 *
 * With `Tied` (GPT-2's choice; Gpt2 below), the head is a TiedHead: logits = Eᵀ LayerNorm(x), the
 * token embedding's own vectors without a bias, counted, saved and updated once.
 *
 * `forward(ids, T)` takes T·B token ids (sequence b at [b·T, b·T + T)); train with
 * SoftmaxCrossEntropy<Scalar, Vocab> over all positions (targets = ids shifted by one). The attention
 * blocks are causal.
 */
template <class Scalar, int Vocab, int Context, int Dim, int Heads, int Layers, int FeedForward = 4 * Dim,
          bool Tied = false>
struct Transformer
    : detail::transformer_layers<Scalar, Vocab, Context, Dim, TransformerBlock<Scalar, Dim, Heads, FeedForward>,
                                 detail::transformer_head<Scalar, Vocab, Dim, Tied>,
                                 std::make_index_sequence<std::size_t(Layers)>>::type {
    static_assert(Layers > 0, "Transformer: needs at least one block");
    using Block = TransformerBlock<Scalar, Dim, Heads, FeedForward>;  ///< one block
    using Head = detail::transformer_head<Scalar, Vocab, Dim, Tied>;  ///< the output layer: Dense, or TiedHead
    /// The composition it is: Embedding, PositionalEmbedding, the blocks, LayerNorm, the head.
    using Base = typename detail::transformer_layers<Scalar, Vocab, Context, Dim, Block, Head,
                                                     std::make_index_sequence<std::size_t(Layers)>>::type;
    static constexpr int vocab_size = Vocab;    ///< V, token ids
    static constexpr int context = Context;     ///< the longest sequence
    static constexpr int dim = Dim;             ///< D, the model width
    static constexpr int heads = Heads;         ///< H, attention heads per block
    static constexpr int layers = Layers;       ///< blocks
    static constexpr int hidden = FeedForward;  ///< the MLP width
    static constexpr bool tied_head = Tied;     ///< the head is the token embedding (TiedHead)

    /// Every parameter drawn from one generator seeded with `seed` (0 by default), in data-flow order.
    explicit Transformer(std::uint64_t seed = 0) : Base(seed) { tie(); }
    /// A copy (a tied head uses the copy's own embedding).
    Transformer(const Transformer& other) : Base(other) { tie(); }
    /// The same, moved.
    Transformer(Transformer&& other) noexcept : Base(std::move(other)) { tie(); }
    /// Copies `other`'s parameters and state.
    Transformer& operator=(const Transformer& other) {
        Base::operator=(other);
        tie();
        return *this;
    }
    /// The same, moved.
    Transformer& operator=(Transformer&& other) noexcept {
        Base::operator=(std::move(other));
        tie();
        return *this;
    }

    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        return layer_name({"Transformer<Vocab=", Vocab, ",Context=", Context, ",Dim=", Dim, ",Heads=", Heads,
                           ",Layers=", Layers, ",Hidden=", FeedForward, (Tied ? ",TiedHead" : ""), ">"});
    }

    /// The token embedding.
    Embedding<Scalar, Vocab, Dim>& tok() { return this->template layer<0>(); }
    /// The position embedding.
    PositionalEmbedding<Scalar, Context, Dim>& pos() { return this->template layer<1>(); }
    /// The final LayerNorm.
    LayerNorm<Scalar, Dim>& ln_f() { return this->template layer<Layers + 2>(); }
    /// The output layer, Dim → Vocab logits (a Dense, or with Tied a TiedHead).
    Head& head() { return this->template layer<Layers + 3>(); }
    /// Block l, 0 ≤ l < Layers.
    Block& block(int l) { return const_cast<Block&>(std::as_const(*this).block(l)); }
    /// Block l, read only.
    const Block& block(int l) const {
        if (l < 0 || l >= Layers)
            throw std::invalid_argument(name() + "::block: block " + std::to_string(l) + " is out of range (" +
                                        std::to_string(Layers) + " blocks)");
        const Block* b = nullptr;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((int(I) == l ? void(b = &this->template layer<I + 2>()) : void()), ...);
        }
        (std::make_index_sequence<std::size_t(Layers)>{});
        return *b;
    }
    /// Attention of block l (after forward): see Attention::probabilities.
    const Attention<Scalar, Dim, Heads>& attention(int l) const { return block(l).attn(); }

private:
    void tie() {
        if constexpr (Tied) head().tie(tok());
    }
};

/// GPT-2's shape of Transformer: a 4·Dim MLP and the head tied to the token embedding. GPT-2 small is
/// `Gpt2<float, 50257, 1024, 768, 12, 12>`, 124,439,808 parameters.
template <class Scalar, int Vocab, int Context, int Dim, int Heads, int Layers>
using Gpt2 = Transformer<Scalar, Vocab, Context, Dim, Heads, Layers, 4 * Dim, true>;

}  // namespace neuronka
