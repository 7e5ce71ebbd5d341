/// @file
/// @brief The blocks that took the lecture's GPT to today's models, composed the Llama way: RMSNorm
/// before each part, attention with rotary position embeddings, a SwiGLU MLP, no position table.
///
/// Shapes: D = Dim, V = Vocab, F = Hidden (the MLP width), T = sequence length, B = sequences;
/// every activation is D × (T·B) with each sequence's columns together.
#pragma once

#include "../compose/residual.hpp"
#include "../compose/sequential.hpp"
#include "../layers/attention.hpp"
#include "../layers/dense.hpp"
#include "../layers/embedding.hpp"
#include "../layers/rms_norm.hpp"
#include "../layers/swiglu.hpp"

#include <utility>

namespace neuronka {

namespace detail {
template <class Scalar, int Dim, int Heads, int Hidden>
using LlamaBlockLayers = Sequential<
    Residual<RMSNorm<Scalar, Dim>, Attention<Scalar, Dim, Heads, true>>,
    Residual<RMSNorm<Scalar, Dim>, Dense<Scalar, Dim, 2 * Hidden, false>, SwiGLU, Dense<Scalar, Hidden, Dim, false>>>;
/// Llama's MLP width for a model width D: 8D/3 (the parameters of a 4D GELU MLP), rounded up to a multiple of 8.
constexpr int llama_hidden(int dim) {
    return (8 * dim / 3 + 7) / 8 * 8;
}

template <class Scalar, int Vocab, int Dim, class Block, class Blocks>
struct llama_layers;
template <class Scalar, int Vocab, int Dim, class Block, std::size_t... L>
struct llama_layers<Scalar, Vocab, Dim, Block, std::index_sequence<L...>> {
    template <std::size_t>
    using block = Block;
    using type =
        Sequential<Embedding<Scalar, Vocab, Dim>, block<L>..., RMSNorm<Scalar, Dim>, Dense<Scalar, Dim, Vocab, false>>;
};
}  // namespace detail

/**
 * @brief A Llama-style pre-norm block:
 *
 *     LlamaBlock = Sequential<Residual<RMSNorm, Attention<..., Rotary = true>>,
 *                             Residual<RMSNorm, Dense(D → 2F, no bias), SwiGLU, Dense(F → D, no bias)>>
 *
 * i.e. h = x + Attention_RoPE(RMSNorm₁(x)), y = h + W₂ (SiLU(W₁ n) ⊙ W₃ n) with n = RMSNorm₂(h)
 * (W₁ and W₃ are the two halves of the first Dense). The attention keeps its projections' biases.
 */
template <class Scalar, int Dim, int Heads, int Hidden = detail::llama_hidden(Dim)>
struct LlamaBlock : detail::LlamaBlockLayers<Scalar, Dim, Heads, Hidden> {
    using Base = detail::LlamaBlockLayers<Scalar, Dim, Heads, Hidden>;  ///< the composition it is
    using Base::Base;
    /// Parameters from seed 0.
    LlamaBlock() : Base(0) {}
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        return layer_name({"LlamaBlock<Dim=", Dim, ",Heads=", Heads, ",Hidden=", Hidden, ">"});
    }
    /// The RMSNorm before attention.
    RMSNorm<Scalar, Dim>& norm1() { return this->template layer<0>().template layer<0>(); }
    /// The attention, with rotary position embeddings.
    Attention<Scalar, Dim, Heads, true>& attn() { return this->template layer<0>().template layer<1>(); }
    /// The RMSNorm before the MLP.
    RMSNorm<Scalar, Dim>& norm2() { return this->template layer<1>().template layer<0>(); }
    /// The gate and up projections, Dim → 2·Hidden (rows [0, Hidden) gate, [Hidden, 2·Hidden) up).
    Dense<Scalar, Dim, 2 * Hidden, false>& gate_up() { return this->template layer<1>().template layer<1>(); }
    /// The down projection, Hidden → Dim.
    Dense<Scalar, Hidden, Dim, false>& down() { return this->template layer<1>().template layer<3>(); }
};

/**
 * @brief A decoder-only language model of Llama-style blocks:
 *
 *     Llama = Sequential<Embedding, LlamaBlock × Layers, RMSNorm, Dense(D → V, no bias)>
 *
 * Positions enter through the attention's rotary embeddings only. `forward(ids, T)` takes T·B
 * token ids as Transformer's does and trains with SoftmaxCrossEntropy<Scalar, Vocab>; `Context` is
 * the window generate() and the training use (the rotary angles have no limit of their own).
 */
template <class Scalar, int Vocab, int Context, int Dim, int Heads, int Layers, int Hidden = detail::llama_hidden(Dim)>
struct Llama : detail::llama_layers<Scalar, Vocab, Dim, LlamaBlock<Scalar, Dim, Heads, Hidden>,
                                    std::make_index_sequence<std::size_t(Layers)>>::type {
    static_assert(Layers > 0, "Llama: needs at least one block");
    /// The composition it is: Embedding, the blocks, RMSNorm, the head.
    using Base = typename detail::llama_layers<Scalar, Vocab, Dim, LlamaBlock<Scalar, Dim, Heads, Hidden>,
                                               std::make_index_sequence<std::size_t(Layers)>>::type;
    static constexpr int vocab_size = Vocab;  ///< V, token ids
    static constexpr int context = Context;   ///< the window of training and generation
    static constexpr int dim = Dim;           ///< D, the model width
    static constexpr int hidden = Hidden;     ///< F, the SwiGLU width

    /// Every parameter drawn from one generator seeded with `seed` (0 by default), in data-flow order.
    explicit Llama(std::uint64_t seed = 0) : Base(seed) {}
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        return layer_name({"Llama<Vocab=", Vocab, ",Context=", Context, ",Dim=", Dim, ",Heads=", Heads,
                           ",Layers=", Layers, ",Hidden=", Hidden, ">"});
    }
};

}  // namespace neuronka
