/// @file embedding.hpp
/// @brief Embedding<T, Vocab, Dim> (token ids → vectors) and PositionalEmbedding<T, Context, Dim>.
///
/// Sequence layout, used by every sequence layer: a batch of B sequences of length T is a
/// `Dim × (T·B)` matrix whose columns are grouped by sequence: column `b·T + t` is token t of
/// sequence b. Token ids come as a flat `std::span<const int>` of T·B ids in the same order.
#pragma once

#include "layer.hpp"

#include <span>

namespace neuronka {

namespace detail {
inline void check_sequence(Where where, Eigen::Index columns, int seq_len, int context) {
    if (seq_len < 1 || seq_len > context)
        throw std::invalid_argument(where.str() + ": sequence length is " + std::to_string(seq_len) +
                                    ", expected 1.." + std::to_string(context) +
                                    ". Hint: sequences may be shorter than the context, not longer");
    if (columns == 0 || columns % seq_len != 0)
        throw std::invalid_argument(where.str() + ": " + std::to_string(columns) +
                                    " columns is not a whole number of sequences of length " +
                                    std::to_string(seq_len) + ". Hint: the layout is Dim x (T*B)");
}
}  // namespace detail

/// A table of Vocab learned vectors of Dim features: token v becomes column v of E.
template <class T, int Vocab, int Dim>
struct Embedding {
    static_assert(Vocab > 0 && Dim > 0, "Embedding<T, Vocab, Dim>: Vocab and Dim must be positive");
    using scalar_type = T;
    static constexpr int vocab_size = Vocab;
    static constexpr int out_size = Dim;
    static constexpr std::size_t parameter_count = std::size_t(Vocab) * Dim;

    detail::Storage<T, Dim, Vocab> E, dE;  // Dim × Vocab

    explicit Embedding(std::uint64_t seed = 0) : E(Dim, Vocab), dE(Dim, Vocab) {
        Rng rng(seed);
        init(rng);
    }
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, double(Dim) * sizeof(T)}; }
    static std::string name() { return "Embedding<Vocab=" + std::to_string(Vocab) + ",Dim=" + std::to_string(Dim) + ">"; }
    void init(Rng& rng) {
        initialise(E, rng, Init::xavier);
        zero_grad();
    }

    /// ids: N token ids in [0, Vocab)  →  y: Dim × N, y(:, i) = E(:, ids[i])
    const Batch<T, Dim>& forward(std::span<const int> ids) {
        check_ids(ids, "forward");
        y_.resize(Dim, Eigen::Index(ids.size()));
        for (std::size_t i = 0; i < ids.size(); ++i) y_.col(Eigen::Index(i)) = E.col(ids[i]);
        return y_;
    }

    /// ids: N (given to forward), dy: Dim × N.  dE(:, ids[i]) += dy(:, i); ids have no gradient.
    template <class Derived>
    void backward(std::span<const int> ids, const Eigen::MatrixBase<Derived>& dy) {
        check_ids(ids, "backward");
        if (dy.rows() != Dim || dy.cols() != Eigen::Index(ids.size()))
            detail::throw_size(name() + "::backward", "output gradient", dy.cols(), "columns", Eigen::Index(ids.size()),
                               "dy must be Dim x (number of ids)");
        for (std::size_t i = 0; i < ids.size(); ++i) dE.col(ids[i]) += dy.col(Eigen::Index(i));
    }

    const Batch<T, Dim>& output() const { return y_; }
    void zero_grad() { dE.setZero(); }
    template <class F>
    void visit_parameters(F&& f) {
        f(detail::view("E", E, dE));
    }

private:
    void check_ids(std::span<const int> ids, const char* method) const {
        if (ids.empty()) throw std::invalid_argument(name() + "::" + method + ": no token ids. Hint: pass at least one");
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (ids[i] < 0 || ids[i] >= Vocab)
                throw std::invalid_argument(name() + "::" + method + ": token id " + std::to_string(ids[i]) +
                                            " at position " + std::to_string(i) + " is out of range [0, " +
                                            std::to_string(Vocab) + "). Hint: encode text with the model's vocabulary");
    }
    Batch<T, Dim> y_;  // Dim × N
};

/// Learned positions: adds P(:, t) to the column of token t of every sequence.
template <class T, int Context, int Dim>
struct PositionalEmbedding {
    static_assert(Context > 0 && Dim > 0, "PositionalEmbedding<T, Context, Dim>: sizes must be positive");
    using scalar_type = T;
    static constexpr int context = Context;
    static constexpr std::size_t parameter_count = std::size_t(Context) * Dim;

    detail::Storage<T, Dim, Context> P, dP;  // Dim × Context

    explicit PositionalEmbedding(std::uint64_t seed = 0) : P(Dim, Context), dP(Dim, Context) {
        Rng rng(seed);
        init(rng);
    }
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, 0}; }
    static std::string name() {
        return "PositionalEmbedding<Context=" + std::to_string(Context) + ",Dim=" + std::to_string(Dim) + ">";
    }
    void init(Rng& rng) {
        initialise(P, rng, Init::xavier);
        zero_grad();
    }

    /// x: Dim × (T·B), in place: x(:, b·T + t) += P(:, t)
    void add_to(Batch<T, Dim>& x, int seq_len) const {
        detail::check_sequence({&name, "forward"}, x.cols(), seq_len, Context);
        for (Eigen::Index c = 0; c < x.cols(); ++c) x.col(c) += P.col(c % seq_len);
    }

    /// dy: Dim × (T·B).  dP(:, t) += Σ_b dy(:, b·T + t)
    template <class Derived>
    void backward(const Eigen::MatrixBase<Derived>& dy, int seq_len) {
        detail::check_sequence({&name, "backward"}, dy.cols(), seq_len, Context);
        for (Eigen::Index c = 0; c < dy.cols(); ++c) dP.col(c % seq_len) += dy.col(c);
    }

    void zero_grad() { dP.setZero(); }
    template <class F>
    void visit_parameters(F&& f) {
        f(detail::view("P", P, dP));
    }
};

}  // namespace neuronka
