/// @file
/// @brief Attention<Scalar, Dim, Heads, Rotary>: multi-head scaled dot-product self-attention, with
/// rotary position embeddings of queries and keys when Rotary (Llama's form, see rotary.hpp).
///
/// Shapes: D = Dim, H = Heads, hd = D / H, T = sequence length, B = sequences, TB = T·B.
/// Input and output are D × TB with each sequence's T columns together (see embedding.hpp).
/// The derivation of the backward pass is in docs/attention.md.
#pragma once

#include "../core/products.hpp"
#include "dense.hpp"
#include "embedding.hpp"
#include "rotary.hpp"

#include <array>
#include <cmath>
#include <vector>

namespace neuronka {

namespace detail {

/// The per-head part of Attention, for the (sequence, head) pairs [first, last) of a batch of
/// sequences of Tn tokens, with the model width and head count given at run time: the code depends
/// on the scalar type only, so a program compiles it once per scalar type whatever its attention
/// sizes (and one that defines NEURONKA_COMPILED links it from neuronka::compiled).
template <class Scalar>
struct AttentionHeads {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    /// qkv_out: 3D × (Tn·B)  →  P_all: Tn × (Tn·H·B) and O: D × (Tn·B), for pairs [first, last).
    static void forward(const Matrix& qkv_out, Eigen::Index Tn, int heads, bool causal, long first, long last,
                        Matrix& P_all, Matrix& O);
    /// qkv_out, P_all as forward left them, dO: D × (Tn·B)  →  dqkv: 3D × (Tn·B) for pairs [first,
    /// last); dP: Tn × Tn scratch.
    static void backward(const Matrix& qkv_out, const Matrix& P_all, const Matrix& dO, Eigen::Index Tn, int heads,
                         bool causal, long first, long last, Matrix& dP, Matrix& dqkv);

private:
    /// Queries per block: with `causal`, queries c0 .. c0 + w − 1 see keys 0 .. c0 + w − 1 only, so
    /// in blocks of 32 the products skip about half of the masked scores (a quarter of the work at
    /// T = 64, more for longer sequences); short sequences stay one block.
    static Eigen::Index query_block(Eigen::Index Tn, bool causal) { return causal && Tn >= 64 ? 32 : Tn; }
    /// Q, K and V of head h of sequence b: hd × Tn blocks of qkv_out (3D × (Tn·B)).
    static auto head(const Matrix& qkv_out, Eigen::Index b, int h, Eigen::Index Tn, Eigen::Index head_size) {
        const Eigen::Index dim = qkv_out.rows() / 3, row = h * head_size, col = b * Tn;
        return std::array{qkv_out.block(row, col, head_size, Tn), qkv_out.block(dim + row, col, head_size, Tn),
                          qkv_out.block(2 * dim + row, col, head_size, Tn)};
    }
};

}  // namespace detail

/**
 * @brief Self-attention: every token looks at the tokens of its sequence (with `causal`, only at
 * itself and earlier ones) and takes a weighted mix of their values — "not all data is equally
 * important".
 *
 *     [Q; K; V] = Wqkv x + bqkv                    (one Dense: D → 3D)
 *     per sequence and head h:  S = Kₕᵀ Qₕ / √hd    (T × T, S(s, t): key s, query t)
 *                               P(:, t) = softmax over keys s (s ≤ t when causal)
 *                               Oₕ = Vₕ P            (hd × T)
 *     y = Wo O + bo                                 (one Dense: D → D)
 *
 * With `Rotary`, Q and K of each head are turned by the angles of the token's position in its
 * sequence before the scores (RoPE, rotate-half form: detail::Rotary), so the model needs no
 * position embedding; `rope_base` is θ's base (10000, as Llama's).
 *
 * The probabilities of the last forward stay readable: `probabilities(b, h)(t, s)` is how much
 * query t of sequence b attends to key s in head h; each row sums to 1.
 */
template <class Scalar, int Dim, int Heads, bool Rotary = false>
struct Attention {
    static_assert(Dim > 0 && Heads > 0 && Dim % Heads == 0,
                  "Attention<Scalar, Dim, Heads>: Dim must be a positive multiple of Heads");
    static_assert(!Rotary || (Dim / Heads) % 2 == 0,
                  "Attention<Scalar, Dim, Heads, Rotary = true>: rotary embeddings need an even head size Dim / Heads");
    using scalar_type = Scalar;                                            ///< the scalar type: float or double
    static constexpr int in_size = Dim;                                    ///< In: features of one token (column)
    static constexpr int out_size = Dim;                                   ///< Out: the same
    static constexpr int heads = Heads;                                    ///< H, attention heads
    static constexpr int head_size = Dim / Heads;                          ///< hd, features per head
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< a dynamic matrix

    /// Queries, keys and values in one product: rows [0, D) queries, [D, 2D) keys, [2D, 3D) values;
    /// head h owns hd rows of each.
    Dense<Scalar, Dim, 3 * Dim> qkv;
    Dense<Scalar, Dim, Dim> proj;  ///< the output projection
    bool causal = true;            ///< each token sees only itself and the tokens before it
    double rope_base = 10000;      ///< with Rotary: θⱼ = rope_base^(−2j / hd)
    static constexpr std::size_t parameter_count =
        decltype(qkv)::parameter_count +
        decltype(proj)::parameter_count;  ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors =
        4;  ///< parameter tensors visit_parameters() shows: qkv W, b; proj W, b

    /// Weights from `seed`; causal unless `is_causal` is false.
    explicit Attention(std::uint64_t seed = 0, bool is_causal = true) : causal(is_causal) {
        Rng rng(seed);
        init(rng);
    }
    /// Per token at sequence length T: the projections, plus scores Kᵀ Q and mixing V P counted over
    /// the full T × T (2·T·D each forward; dV, dP, dQ, dK backward; causal attention from 64 tokens
    /// skips the blocks past the mask, so it computes less); P (H·T), O (D) and dqkv (3D) kept.
    static constexpr Cost cost(int seq_len = 1) {
        const double T_ = seq_len;
        const double rotation = Rotary ? 6.0 * Dim : 0;  // Q and K turned: 3 flops per value
        return Dense<Scalar, Dim, 3 * Dim>::cost() + Dense<Scalar, Dim, Dim>::cost() +
               Cost{0, 4 * T_ * Dim + rotation, 8 * T_ * Dim + rotation,
                    (Heads * T_ + 4.0 * Dim + (Rotary ? 3.0 * Dim : 0)) * sizeof(Scalar)};
    }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        return layer_name({"Attention<Dim=", Dim, ",Heads=", Heads, Rotary ? ",RoPE" : "", ">"});
    }
    /// Re-initialises the parameters from `rng`.
    void init(Rng& rng) {
        qkv.init(rng);
        proj.init(rng);
    }
    /// Re-initialises both projections' weights with `scheme` (biases zero).
    void init(Rng& rng, Init scheme) {
        qkv.init(rng, scheme);
        proj.init(rng, scheme);
    }

    /// x: D × (T·B), seq_len: T  →  y: D × (T·B)
    template <class Derived>
    const Batch<Scalar, Dim>& forward(const Eigen::MatrixBase<Derived>& x, int seq_len) {
        check_sequences(x, seq_len, "forward");
        T_ = seq_len;
        MemberScope members;  // x is checked; the projections need not check it again
        attend(rotated(qkv.forward(x), seq_len, rotated_, cos_, sin_), seq_len, P_, O_);
        return proj.forward(O_);
    }

    /// The buffers of one caller of predict().
    struct Workspace {
        typename Dense<Scalar, Dim, 3 * Dim>::Workspace qkv;  ///< the qkv product's buffers
        typename Dense<Scalar, Dim, Dim>::Workspace proj;     ///< the projection's
        Matrix P;                                             ///< the attention probabilities, T × (T·H·B)
        Batch<Scalar, Dim> O;                                 ///< the heads' outputs before the projection, D × (T·B)
        Batch<Scalar, 3 * Dim> rotated;                       ///< with Rotary: [Q; K; V] with Q and K turned
        Matrix cos;                                           ///< with Rotary: cos of the angles, (hd/2) × T
        Matrix sin;                                           ///< with Rotary: sin of the angles, (hd/2) × T
    };
    /// x: D × (T·B), seq_len: T  →  y: D × (T·B) in `ws`, as forward; reads the weights only, so
    /// threads may predict with one layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, Dim>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws, int seq_len) const {
        check_sequences(x, seq_len, "predict");
        MemberScope members;
        attend(rotated(qkv.predict(x, ws.qkv), seq_len, ws.rotated, ws.cos, ws.sin), seq_len, ws.P, ws.O);
        return proj.predict(ws.O, ws.proj);
    }

    /// x: D × (T·B) (given to forward), dy: D × (T·B)  →  dx: D × (T·B). All weights' gradients accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, Dim>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        return *backward(x, dy, GradientSink<Scalar>());
    }

    /// The same with a gradient sink (see GradientSink): each projection hands its gradients to
    /// `grads` right after its backward (qkv's weight and bias are parameters 0, 1; proj's 2, 3);
    /// dx only when `grads.input_gradient` (else nullptr).
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, Dim>* backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                                       GradientSink<Scalar> grads) {
        check_backward({&name, "backward"}, x, Dim, dy, Dim, O_.cols());
        const Eigen::Index TB = x.cols(), Tn = T_, B = TB / Tn;
        const Batch<Scalar, 3 * Dim>& qkv_out = Rotary ? rotated_ : qkv.output();  // what the heads saw
        MemberScope members;
        // forward: y = Wo O + bo
        const Batch<Scalar, Dim>& dO = *proj.backward(O_, dy, grads.member(2, true));
        dqkv_.resize(3 * Dim, TB);
        const detail::Slices slices = detail::slices(B * Heads, pairs_per_task(Tn), 1);
        dP_.resize(std::size_t(slices.tasks));
        slices.run([&](int task, long first, long last) {
            Matrix& dP = dP_[std::size_t(task)];  // this slice's scratch
            detail::AttentionHeads<Scalar>::backward(qkv_out, P_, dO, Tn, Heads, causal, first, last, dP, dqkv_);
        });
        // forward (Rotary): Q' = R Q, K' = R K  →  dQ = Rᵀ dQ', dK = Rᵀ dK'
        if constexpr (Rotary) detail::Rotary<Scalar>::rotate(dqkv_, 2 * Dim, head_size, Tn, cos_, sin_, true);
        // forward: [Q; K; V] = Wqkv x + bqkv
        return qkv.backward(x, dqkv_, grads.member(0, grads.input_gradient));
    }

private:
    template <class Derived>
    static void check_sequences(const Eigen::MatrixBase<Derived>& x, int seq_len, const char* method) {
        check_input({&name, method}, x, Dim);
        check_sequence({&name, method}, x.cols(), seq_len);
    }

    // With Rotary: [Q; K; V] with Q and K turned by their positions' angles, into `out`; else qkv_out itself
    const Batch<Scalar, 3 * Dim>& rotated(const Batch<Scalar, 3 * Dim>& qkv_out, int seq_len,
                                          Batch<Scalar, 3 * Dim>& out, Matrix& cos, Matrix& sin) const {
        if constexpr (Rotary) {
            detail::Rotary<Scalar>::table(seq_len, head_size, rope_base, cos, sin);
            out = qkv_out;
            detail::Rotary<Scalar>::rotate(out, 2 * Dim, head_size, seq_len, cos, sin, false);
            return out;
        } else {
            return qkv_out;
        }
    }

    // P and O from the projections [Q; K; V] of T·B tokens (forward and predict)
    void attend(const Batch<Scalar, 3 * Dim>& qkv_out, int seq_len, Matrix& P_all, Batch<Scalar, Dim>& O) const {
        const Eigen::Index TB = qkv_out.cols(), Tn = seq_len, B = TB / Tn;
        P_all.resize(Tn, Tn * Heads * B);
        O.resize(Dim, TB);
        // each (sequence, head) is independent: with set_threads, slices of them run at once
        parallel_for(
            B * Heads, pairs_per_task(Tn),
            [&](long first, long last) {
                detail::AttentionHeads<Scalar>::forward(qkv_out, Tn, Heads, causal, first, last, P_all, O);
            },
            1);
    }

public:
    /// Attention of the last forward for sequence b, head h: (t, s) = weight of key s for query t.
    auto probabilities(Eigen::Index b, int h) const {
        if (b < 0 || b * T_ >= O_.cols() || h < 0 || h >= Heads)
            throw std::invalid_argument(name() + "::probabilities: sequence " + std::to_string(b) + ", head " +
                                        std::to_string(h) + " is out of range (" +
                                        std::to_string(O_.cols() / std::max(T_, 1)) + " sequences, " +
                                        std::to_string(Heads) + " heads). Hint: call forward first");
        return P_.block(0, (b * Heads + h) * T_, T_, T_).transpose();
    }
    /// T of the last forward.
    int sequence_length() const { return T_; }

    /// The output of the last forward.
    const Batch<Scalar, Dim>& output() const { return proj.output(); }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() {
        qkv.zero_grad();
        proj.zero_grad();
    }
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        qkv.visit_parameters(f);
        proj.visit_parameters(f);
    }
    /// The two projections as nn.Linear members `qkv` (3D × D) and `proj` (D × D).
    template <class F>
    void visit_tensors(const std::string& prefix, F&& f) {
        detail::visit_tensors(qkv, prefix + "qkv.", f);
        detail::visit_tensors(proj, prefix + "proj.", f);
    }

private:
    // (sequence, head) pairs per slice with set_threads: each slice does at least a quarter of a
    // million multiply-adds (a pair does 2·T·T·hd forward).
    static long pairs_per_task(Eigen::Index T) {
        return std::max<long>(1,
                              long(detail::parallel_product_flops / std::max<long long>(1, 2LL * T * T * head_size)));
    }

    int T_ = 0;
    Matrix P_;                // T × (T·H·B): per (sequence, head) a T × T block, column t = query t's distribution
    std::vector<Matrix> dP_;  // T × T scratch per slice of (sequence, head) pairs: dP, then dS
    Batch<Scalar, Dim> O_;    // D × TB: heads' outputs, stacked
    Batch<Scalar, 3 * Dim> dqkv_;     // 3D × TB
    Batch<Scalar, 3 * Dim> rotated_;  // with Rotary: 3D × TB, Q and K turned (what the heads saw)
    Matrix cos_, sin_;                // with Rotary: (hd/2) × T, the angles of the last forward
};

namespace detail {

template <class Scalar>
void AttentionHeads<Scalar>::forward(const Matrix& qkv_out, Eigen::Index Tn, int heads, bool causal, long first,
                                     long last, Matrix& P_all, Matrix& O) {
    const Eigen::Index Dim = qkv_out.rows() / 3, head_size = Dim / heads, width = query_block(Tn, causal);
    const Scalar scale = Scalar(1) / std::sqrt(Scalar(head_size));
    for (long i = first; i < last; ++i) {
        const Eigen::Index b = i / heads;
        const int h = int(i % heads);
        const auto [Q, K, V] = head(qkv_out, b, h, Tn, head_size);
        auto P = P_all.block(0, (b * heads + h) * Tn, Tn, Tn);
        for (Eigen::Index c0 = 0; c0 < Tn; c0 += width) {  // queries c0 .. c0 + cols - 1 see keys 0 .. keys - 1
            const Eigen::Index cols = std::min(width, Tn - c0), keys = causal ? c0 + cols : Tn;
            auto S = P.block(0, c0, keys, cols);
            S.noalias() = K.leftCols(keys).transpose() * Q.middleCols(c0, cols);  // S(s, t) = K(:, s) · Q(:, t)
            // softmax of S / √hd per column, shifted by its max; e^ of the whole block in one
            // vectorised pass (a causal column is short, and its tail alone would run libm's expf)
            for (Eigen::Index t = c0; t < c0 + cols; ++t) {
                auto p = P.col(t).head(causal ? t + 1 : Tn);        // causal: only s ≤ t
                p = ((p.array() - p.maxCoeff()) * scale).matrix();  // masked scores stay: zeroed after e^
            }
            if (keys == Tn) {
                NEURONKA_ASSERT(P.outerStride() == Tn, "AttentionHeads: P's columns follow each other");
                Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> all(P.col(c0).data(), Tn * cols);
                all = all.exp();
            } else {
                S.array() = S.array().exp();
            }
            for (Eigen::Index t = c0; t < c0 + cols; ++t) {
                const Eigen::Index valid = causal ? t + 1 : Tn;
                P.col(t).head(valid) *= Scalar(1) / P.col(t).head(valid).sum();
                P.col(t).tail(Tn - valid).setZero();
            }
            // O(:, t) = Σ_s V(:, s) P(s, t), over the keys these queries see
            O.block(h * head_size, b * Tn + c0, head_size, cols).noalias() = V.leftCols(keys) * S;
        }
    }
}

template <class Scalar>
void AttentionHeads<Scalar>::backward(const Matrix& qkv_out, const Matrix& P_all, const Matrix& dO, Eigen::Index Tn,
                                      int heads, bool causal, long first, long last, Matrix& dP, Matrix& dqkv) {
    const Eigen::Index Dim = qkv_out.rows() / 3, head_size = Dim / heads, width = query_block(Tn, causal);
    const Scalar scale = Scalar(1) / std::sqrt(Scalar(head_size));
    dP.resize(Tn, Tn);
    for (long i = first; i < last; ++i) {
        const Eigen::Index b = i / heads;
        const int h = int(i % heads);
        const auto [Q, K, V] = head(qkv_out, b, h, Tn, head_size);
        const auto P = P_all.block(0, (b * heads + h) * Tn, Tn, Tn);
        auto dQ = dqkv.block(h * head_size, b * Tn, head_size, Tn);
        auto dK = dqkv.block(Dim + h * head_size, b * Tn, head_size, Tn);
        auto dV = dqkv.block(2 * Dim + h * head_size, b * Tn, head_size, Tn);
        // blocks of queries as forward's, the last first: it sees every key, so it writes all of dK
        // and dV, and the earlier blocks add to the keys they see
        const Eigen::Index last_c0 = (Tn - 1) / width * width;
        for (Eigen::Index c0 = last_c0; c0 >= 0; c0 -= width) {
            const Eigen::Index cols = std::min(width, Tn - c0), keys = causal ? c0 + cols : Tn;
            const auto Pb = P.block(0, c0, keys, cols);
            const auto dOb = dO.block(h * head_size, b * Tn + c0, head_size, cols);
            auto dS = dP.block(0, c0, keys, cols);
            // forward: O = V P  →  dV = dO Pᵀ,  dP = Vᵀ dO
            if (c0 == last_c0)
                dV.leftCols(keys).noalias() = dOb * Pb.transpose();
            else
                dV.leftCols(keys).noalias() += dOb * Pb.transpose();
            dS.noalias() = V.leftCols(keys).transpose() * dOb;
            // forward: P(:, t) = softmax(S(:, t) / √hd)  →  dS(:, t) = P(:, t) ⊙ (dP(:, t) − P(:, t)·dP(:, t)) / √hd
            // (masked keys have P = 0, so their dS is 0 too); dS overwrites dP
            for (Eigen::Index t = 0; t < cols; ++t) {
                const Scalar dot = Pb.col(t).dot(dS.col(t));
                dS.col(t) = (Pb.col(t).array() * (dS.col(t).array() - dot) * scale).matrix();
            }
            // forward: S(s, t) = K(:, s) · Q(:, t)  →  dQ = K dS,  dK = Q dSᵀ
            dQ.middleCols(c0, cols).noalias() = K.leftCols(keys) * dS;
            if (c0 == last_c0)
                dK.leftCols(keys).noalias() = Q.middleCols(c0, cols) * dS.transpose();
            else
                dK.leftCols(keys).noalias() += Q.middleCols(c0, cols) * dS.transpose();
        }
    }
}

}  // namespace detail

}  // namespace neuronka

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_ATTENTION(prefix, Scalar) \
    prefix template struct neuronka::detail::AttentionHeads<Scalar>;
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_ATTENTION(extern, float)
NEURONKA_DETAIL_INSTANTIATE_ATTENTION(extern, double)
#endif
