/// @file
/// @brief Embedding<Scalar, Vocab, Dim> (token ids → vectors) and PositionalEmbedding<Scalar, Context, Dim>.
///
/// Sequence layout, used by every sequence layer: a batch of B sequences of length T is a
/// `Dim × (T·B)` matrix whose columns are grouped by sequence: column `b·T + t` is token t of
/// sequence b. Token ids come as a flat `std::span<const int>` of T·B ids in the same order.
#pragma once

#include "../core/layer.hpp"
#include "../core/products.hpp"

#include <span>

namespace neuronka {

/// A table of Vocab learned vectors of Dim features: token v becomes column v of E.
template <class Scalar, int Vocab, int Dim>
struct Embedding {
    static_assert(Vocab > 0 && Dim > 0, "Embedding<Scalar, Vocab, Dim>: Vocab and Dim must be positive");
    using scalar_type = Scalar;               ///< the scalar type: float or double
    static constexpr int vocab_size = Vocab;  ///< V, the number of token ids
    static constexpr int in_size =
        token_ids;  ///< In: features of one input sample (column): its input is token ids, so it can only come first
    static constexpr int out_size = Dim;  ///< Out: features of one output sample (column)
    static constexpr std::size_t parameter_count =
        std::size_t(Vocab) * Dim;                        ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 1;  ///< parameter tensors visit_parameters() shows

    Storage<Scalar, Dim, Vocab> E;   ///< the vectors, Dim × Vocab: column t is token t's
    Storage<Scalar, Dim, Vocab> dE;  ///< their gradient: a large table's is empty until gradient() allocates it

    /// Vectors drawn from `seed` (see init()). A large table's gradient is allocated by the first
    /// backward (or visit_parameters): a model that only predicts holds its vectors once.
    explicit Embedding(std::uint64_t seed = 0) : E(Dim, Vocab) {
        Rng rng(seed);
        init(rng);
    }
    /// FLOPs and memory for a batch of `B` samples (docs/layer-concept.md).
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, double(Dim) * sizeof(Scalar)}; }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"Embedding<Vocab=", Vocab, ",Dim=", Dim, ">"}); }
    /// Re-initialises the parameters from `rng`.
    void init(Rng& rng) {
        initialise(E, rng, Init::xavier);
        zero_grad();
    }

    /// ids: T·B token ids in [0, Vocab)  →  y: Dim × (T·B), y(:, i) = E(:, ids[i])
    const Batch<Scalar, Dim>& forward(std::span<const int> ids) { return look_up(ids, y_, "forward"); }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, Dim> y;  ///< the output, as forward computes it: Dim × (T·B)
    };
    /// ids: T·B token ids  →  y: Dim × (T·B) in `ws`; reads E only, so threads may predict with one
    /// layer at once, each with its own Workspace.
    const Batch<Scalar, Dim>& predict(std::span<const int> ids, Workspace& ws) const {
        return look_up(ids, ws.y, "predict");
    }

    /// ids: T·B (given to forward), dy: Dim × (T·B).  dE(:, ids[i]) += dy(:, i); ids have no gradient.
    template <class Derived>
    void backward(std::span<const int> ids, const Eigen::MatrixBase<Derived>& dy) {
        check_ids(ids, "backward");
        if (dy.rows() != Dim)
            detail::throw_size(name() + "::backward", "output gradient", dy.rows(), "rows", Dim,
                               "dy must be Dim x (number of ids)");
        if (dy.cols() != Eigen::Index(ids.size()))
            detail::throw_size(name() + "::backward", "output gradient", dy.cols(), "columns", Eigen::Index(ids.size()),
                               "dy must be Dim x (number of ids)");
        gradient();
        for (std::size_t i = 0; i < ids.size(); ++i) dE.col(ids[i]) += dy.col(Eigen::Index(i));
    }

    /// dE, Dim × Vocab, allocated (as zeros) if it is not yet.
    Storage<Scalar, Dim, Vocab>& gradient() {
        if (dE.size() == 0) dE.setZero(Dim, Vocab);
        return dE;
    }

    /// The output of the last forward.
    const Batch<Scalar, Dim>& output() const { return y_; }
    /// Gradients read as zero from now on (an unallocated gradient already does).
    void zero_grad() { dE.setZero(); }
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        if (!detail::reading_values()) gradient();                       // state_tensors() reads the values only
        f(parameter("weight", E, dE, Order::by_columns, {Vocab, Dim}));  // as nn.Embedding: (Vocab, Dim)
    }

private:
    const Batch<Scalar, Dim>& look_up(std::span<const int> ids, Batch<Scalar, Dim>& y, const char* method) const {
        check_ids(ids, method);
        y.resize(Dim, Eigen::Index(ids.size()));
        for (std::size_t i = 0; i < ids.size(); ++i) y.col(Eigen::Index(i)) = E.col(ids[i]);
        return y;
    }
    void check_ids(std::span<const int> ids, const char* method) const {
        if (ids.empty())
            throw std::invalid_argument(name() + "::" + method + ": no token ids. Hint: pass at least one");
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (ids[i] < 0 || ids[i] >= Vocab)
                throw std::invalid_argument(name() + "::" + method + ": token id " + std::to_string(ids[i]) +
                                            " at position " + std::to_string(i) + " is out of range [0, " +
                                            std::to_string(Vocab) + "). Hint: encode text with the model's vocabulary");
    }
    Batch<Scalar, Dim> y_;  // Dim × (T·B)
};

/// Learned positions: y(:, b·T + t) = x(:, b·T + t) + P(:, t) for token t of every sequence.
template <class Scalar, int Context, int Dim>
struct PositionalEmbedding {
    static_assert(Context > 0 && Dim > 0, "PositionalEmbedding<Scalar, Context, Dim>: sizes must be positive");
    using scalar_type = Scalar;              ///< the scalar type: float or double
    static constexpr int context = Context;  ///< the longest sequence
    static constexpr int in_size = Dim;      ///< In: features of one token (column)
    static constexpr int out_size = Dim;     ///< Out: the same
    static constexpr std::size_t parameter_count =
        std::size_t(Context) * Dim;                      ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 1;  ///< parameter tensors visit_parameters() shows

    Storage<Scalar, Dim, Context> P;   ///< the position vectors, Dim × Context: column t is position t's
    Storage<Scalar, Dim, Context> dP;  ///< their gradient

    /// Vectors drawn from `seed` (see init()).
    explicit PositionalEmbedding(std::uint64_t seed = 0) : P(Dim, Context), dP(Dim, Context) {
        Rng rng(seed);
        init(rng);
    }
    /// y and dx per token; no products.
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, 2.0 * Dim * sizeof(Scalar)}; }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"PositionalEmbedding<Context=", Context, ",Dim=", Dim, ">"}); }
    /// Re-initialises the parameters from `rng`.
    void init(Rng& rng) {
        initialise(P, rng, Init::xavier);
        zero_grad();
    }

    /// x: Dim × (T·B), seq_len: T ≤ Context  →  y: Dim × (T·B), y(:, b·T + t) = x(:, b·T + t) + P(:, t)
    template <class Derived>
    const Batch<Scalar, Dim>& forward(const Eigen::MatrixBase<Derived>& x, int seq_len) {
        add_positions(x, seq_len, y_, "forward");
        T_ = seq_len;
        return y_;
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, Dim> y;  ///< the output, as forward computes it: Dim × (T·B)
    };
    /// x: Dim × (T·B), seq_len: T  →  y in `ws`, as forward; reads P only, so threads may predict
    /// with one layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, Dim>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws, int seq_len) const {
        return add_positions(x, seq_len, ws.y, "predict");
    }

    /// x: Dim × (T·B) (given to forward), dy: Dim × (T·B)  →  dx = dy.  dP(:, t) += Σ_b dy(:, b·T + t)
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, Dim>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, Dim, dy, Dim, y_.cols());
        dx_ = dy;  // forward: y = x + P[t], so dx = dy
        for (Eigen::Index c = 0; c < dx_.cols(); c += T_) dP.leftCols(T_) += dx_.middleCols(c, T_);
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, Dim>& output() const { return y_; }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() { dP.setZero(); }
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("weight", P, dP, Order::by_columns, {Context, Dim}));  // as nn.Embedding: (Context, Dim)
    }

private:
    template <class Derived>
    const Batch<Scalar, Dim>& add_positions(const Eigen::MatrixBase<Derived>& x, int seq_len, Batch<Scalar, Dim>& y,
                                            const char* method) const {
        check_input({&name, method}, x, Dim);
        check_sequence({&name, method}, x.cols(), seq_len, Context);
        y.resize(Dim, x.cols());
        for (Eigen::Index c = 0; c < x.cols(); c += seq_len)
            y.middleCols(c, seq_len) = x.middleCols(c, seq_len) + P.leftCols(seq_len);
        return y;
    }
    int T_ = 1;
    Batch<Scalar, Dim> y_, dx_;  // Dim × (T·B)
};

}  // namespace neuronka
