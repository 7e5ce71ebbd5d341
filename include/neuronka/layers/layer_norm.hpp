/// @file
/// @brief LayerNorm<Scalar, Dim>: normalise each column to zero mean and unit variance, then scale and shift.
#pragma once

#include "../core/layer.hpp"
#include "../core/products.hpp"

#include <cmath>

namespace neuronka {

/**
 * @brief Layer normalisation over the Dim features of each column (each token):
 *
 *     μ = mean(x),  σ² = mean((x − μ)²),  rstd = 1 / √(σ² + ε)
 *     x̂ = (x − μ) · rstd,  y = γ ⊙ x̂ + β
 *
 * γ starts at 1, β at 0. Mean and rstd of each column are cached for backward.
 */
template <class Scalar, int Dim>
struct LayerNorm {
    static_assert(Dim > 1, "LayerNorm<Scalar, Dim>: Dim must be at least 2 (one feature normalises to 0)");
    using scalar_type = Scalar;           ///< the scalar type: float or double
    static constexpr int in_size = Dim;   ///< In: features of one input sample (column)
    static constexpr int out_size = Dim;  ///< Out: features of one output sample (column)
    static constexpr std::size_t parameter_count =
        2 * std::size_t(Dim);                            ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 2;  ///< parameter tensors visit_parameters() shows: gamma, beta
    static constexpr Scalar eps = Scalar(1e-5);          ///< added to the variance, as PyTorch's default

    Vector<Scalar, Dim> gamma;   ///< the scale, Dim
    Vector<Scalar, Dim> beta;    ///< the shift, Dim
    Vector<Scalar, Dim> dgamma;  ///< gradient of gamma
    Vector<Scalar, Dim> dbeta;   ///< gradient of beta

    /// gamma = 1, beta = 0 (no randomness: the seed is accepted as every layer's constructor takes one).
    explicit LayerNorm(std::uint64_t = 0) : gamma(Dim), beta(Dim), dgamma(Dim), dbeta(Dim) { init_parameters(); }
    /// FLOPs and memory for a batch of `B` samples (docs/layer-concept.md).
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, (2.0 * Dim + 2) * sizeof(Scalar)}; }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"LayerNorm<Dim=", Dim, ">"}); }
    /// Re-initialises the parameters from `rng`.
    void init(Rng&) { init_parameters(); }

    /// x: Dim × B  →  y: Dim × B
    template <class Derived>
    const Batch<Scalar, Dim>& forward(const Eigen::MatrixBase<Derived>& x) {
        return normalise(x, y_, mean_, rstd_, "forward");
    }

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, Dim> y;                           ///< the output, as forward computes it: Dim × B
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> mean;  ///< each column's mean, B
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> rstd;  ///< each column's 1 / standard deviation, B
    };
    /// x: Dim × B  →  y: Dim × B in `ws`; reads the parameters only, so threads may predict with one
    /// layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, Dim>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return normalise(x, ws.y, ws.mean, ws.rstd, "predict");
    }

    /// x: Dim × B (given to forward), dy: Dim × B  →  dx: Dim × B.  dγ, dβ accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, Dim>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, Dim, dy, Dim, y_.cols());
        const Eigen::Index B = x.cols();
        dx_.resize(Dim, B);
        // columns [first, last): dx, and their dγ, dβ added to the given sums
        auto columns = [&](Eigen::Index first, Eigen::Index last, auto& dg, auto& db) {
            for (Eigen::Index c = first; c < last; ++c) {
                // forward: x̂ = (x − μ) · rstd, recomputed from the cached μ and rstd
                const Eigen::Array<Scalar, Dim, 1> xhat = (x.col(c).array() - mean_(c)) * rstd_(c);
                // forward: y = γ ⊙ x̂ + β, so dγ += dy ⊙ x̂, dβ += dy, dx̂ = dy ⊙ γ
                dg.array() += dy.col(c).array() * xhat;
                db += dy.col(c);
                const Eigen::Array<Scalar, Dim, 1> dxhat = dy.col(c).array() * gamma.array();
                // forward: x̂ depends on x directly and through μ and σ²; the two means below are those paths:
                // dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))
                dx_.col(c) = (rstd_(c) * (dxhat - dxhat.mean() - xhat * (dxhat * xhat).mean())).matrix();
            }
        };
        const detail::Slices slices = detail::slices(B, std::max(1L, detail::parallel_elements / Dim), 1);
        if (slices.tasks == 1) {
            columns(0, B, dgamma, dbeta);
        } else {  // each slice sums its own dγ, dβ; the sums are added in slice order
            if (int(partial_.cols()) < 2 * slices.tasks) partial_.resize(Dim, 2 * slices.tasks);
            partial_.setZero();
            slices.run([&](int t, long first, long last) {
                auto dg = partial_.col(2 * t);
                auto db = partial_.col(2 * t + 1);
                columns(first, last, dg, db);
            });
            for (int t = 0; t < slices.tasks; ++t) dgamma += partial_.col(2 * t), dbeta += partial_.col(2 * t + 1);
        }
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, Dim>& output() const { return y_; }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() {
        dgamma.setZero();
        dbeta.setZero();
    }
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("weight", gamma, dgamma));  // as PyTorch's nn.LayerNorm: γ (Dim)
        f(parameter("bias", beta, dbeta));      // β (Dim)
    }

private:
    // y = γ ⊙ (x − μ) · rstd + β per column, μ and rstd kept (forward and predict)
    template <class Derived>
    const Batch<Scalar, Dim>& normalise(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, Dim>& y,
                                        Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& mean,
                                        Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& rstd, const char* method) const {
        check_input({&name, method}, x, Dim);
        const Eigen::Index B = x.cols();
        y.resize(Dim, B), mean.resize(B), rstd.resize(B);
        parallel_columns(B, Dim, [&](long first, long last) {
            for (Eigen::Index c = first; c < last; ++c) {
                const Scalar mu = x.col(c).mean();                           // μ = mean(x)
                const Scalar var = (x.col(c).array() - mu).square().mean();  // σ² = mean((x − μ)²)
                const Scalar r = Scalar(1) / std::sqrt(var + eps);           // rstd = 1/√(σ² + ε)
                y.col(c) = (((x.col(c).array() - mu) * r) * gamma.array() + beta.array()).matrix();  // y = γ x̂ + β
                mean(c) = mu, rstd(c) = r;
            }
        });
        return y;
    }

    void init_parameters() {
        gamma.setOnes();
        beta.setZero();
        zero_grad();
    }
    Batch<Scalar, Dim> y_, dx_;                             // Dim × B
    Batch<Scalar, Dim> partial_;                            // Dim × 2·slices: each slice's dγ, dβ (threads only)
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> mean_, rstd_;  // B
};

}  // namespace neuronka
