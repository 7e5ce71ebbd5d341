/// @file
/// @brief TiedHead<Scalar, Vocab, Dim>: the output layer that is an Embedding's table itself, as in
/// GPT-2 (logits = Eᵀ x, no bias).
#pragma once

#include "embedding.hpp"

namespace neuronka {

/**
 * @brief Logits from an Embedding's own vectors: y = Eᵀ x, each token's logit the dot product of its
 * embedding with the column (GPT-2's head, "weight tying"). It owns no parameter: E stays the
 * Embedding's, counted once, saved once, updated once, and backward adds this layer's share of its
 * gradient, x dyᵀ, to the Embedding's dE before the Embedding's own backward adds the rest.
 *
 * It must be tied to an Embedding before use (tie(); a Transformer with a tied head ties its own,
 * again after a copy or move).
 */
template <class Scalar, int Vocab, int Dim>
struct TiedHead {
    static_assert(Vocab > 0 && Dim > 0, "TiedHead<Scalar, Vocab, Dim>: sizes must be positive");
    using scalar_type = Scalar;                          ///< the scalar type: float or double
    static constexpr int in_size = Dim;                  ///< In: features of one token (column)
    static constexpr int out_size = Vocab;               ///< Out: a logit per token id
    static constexpr std::size_t parameter_count = 0;    ///< none of its own: E is the Embedding's
    static constexpr std::size_t parameter_tensors = 0;  ///< parameter tensors visit_parameters() shows
    using Table = Embedding<Scalar, Vocab, Dim>;         ///< the layer whose vectors it uses

    /// An untied head (the seed is unused: it has no parameters to draw).
    explicit TiedHead(std::uint64_t = 0) {}
    /// Uses `table`'s vectors from now on; `table` must outlive it.
    void tie(Table& table) { table_ = &table; }
    /// Whether it is tied.
    bool tied() const { return table_ != nullptr; }

    /// Per token: the product Eᵀ x, backward dE and dx (twice that); no parameter of its own.
    static constexpr Cost cost(int = 1) {
        return {0, 2.0 * Dim * Vocab, 4.0 * Dim * Vocab, double(Dim + Vocab) * sizeof(Scalar)};
    }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"TiedHead<Vocab=", Vocab, ",Dim=", Dim, ">"}); }
    /// Nothing to draw.
    void init(Rng&) {}

    /// x: Dim × B  →  y: Vocab × B, y = Eᵀ x
    template <class Derived>
    const Batch<Scalar, Vocab>& forward(const Eigen::MatrixBase<Derived>& x) {
        return logits(x, y_, fwd_, "forward");
    }
    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, Vocab> y;    ///< the logits: Vocab × B
        Gemm<Scalar, false> gemm;  ///< the product's workspace
    };
    /// x: Dim × B  →  y: Vocab × B in `ws`; reads E only, so threads may predict at once, each with
    /// its own Workspace.
    template <class Derived>
    const Batch<Scalar, Vocab>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return logits(x, ws.y, ws.gemm, "predict");
    }

    /// x: Dim × B (given to forward), dy: Vocab × B  →  dx: Dim × B, dx = E dy; the Embedding's dE += x dyᵀ.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, Dim>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_tied("backward");
        check_shape({&name, "backward"}, x, Dim);
        check_grad_shape({&name, "backward"}, x, dy, Vocab);
        const Eigen::Ref<const Batch<Scalar, Dim>> xr(x);
        const Eigen::Ref<const Batch<Scalar, Vocab>> dyr(dy);
        check_entry_values({&name, "backward"}, dyr, "output gradient");
        dx_.resize(Dim, xr.cols());
        dx_gemm_.set(dx_, table_->E, dyr);                             // dx = E dy, before E can move
        dE_gemm_.outer(table_->gradient(), xr, dyr, Scalar(1), true);  // dE += x dyᵀ
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, Vocab>& output() const { return y_; }
    /// Nothing of its own (the Embedding's zero_grad clears dE).
    void zero_grad() {}
    /// None: E is visited with the Embedding.
    template <class F>
    void visit_parameters(F&&) {}

private:
    void check_tied(const char* method) const {
        if (!table_)
            throw std::logic_error(name() + "::" + method +
                                   ": not tied to an Embedding. Hint: call tie(embedding) first (a Transformer with "
                                   "a tied head does)");
    }
    template <class Derived>
    const Batch<Scalar, Vocab>& logits(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, Vocab>& y,
                                       Gemm<Scalar, false>& gemm, const char* method) const {
        check_tied(method);
        check_shape({&name, method}, x, Dim);
        const Eigen::Ref<const Batch<Scalar, Dim>> xr(x);
        check_entry_values({&name, method}, xr);
        y.resize(Vocab, xr.cols());
        gemm.set(y, table_->E.transpose(), xr);  // y = Eᵀ x
        return y;
    }

    Table* table_ = nullptr;
    Batch<Scalar, Vocab> y_;  // Vocab × B
    Batch<Scalar, Dim> dx_;   // Dim × B
    Gemm<Scalar, false> fwd_, dx_gemm_, dE_gemm_;
};

}  // namespace neuronka
