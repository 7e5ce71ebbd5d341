/// @file
/// @brief RMSNorm<Scalar, Dim>: scale each column to unit root mean square, then by a learned gain.
///
/// The reference layer: CONTRIBUTING.md, "Adding a layer", walks through this file line by line.
#pragma once

#include "../core/layer.hpp"

#include <cmath>
#include <string>

namespace neuronka {

/**
 * @brief Root-mean-square normalisation over the Dim features of each column (each token), as
 * PyTorch's `nn.RMSNorm(Dim, eps)`:
 *
 *     rms = √(mean(x²) + ε),  r = 1 / rms
 *     x̂ = x · r,  y = g ⊙ x̂
 *
 * Unlike LayerNorm there is no mean subtracted and no shift. The gain g starts at 1. r of each
 * column is cached for backward.
 *
 * @tparam Scalar float or double
 * @tparam Dim    features of one sample (≥ 1)
 */
template <class Scalar, int Dim>
struct RMSNorm {
    static_assert(Dim >= 1, "RMSNorm<Scalar, Dim>: Dim must be at least 1");
    static_assert(std::is_floating_point_v<Scalar>, "RMSNorm<Scalar, Dim>: Scalar must be float or double");

    // --- the required contract: sizes, parameters, name, cost ---
    using scalar_type = Scalar;                                       ///< float or double
    static constexpr int in_size = Dim;                               ///< features of one input column
    static constexpr int out_size = Dim;                              ///< features of one output column
    static constexpr std::size_t parameter_count = std::size_t(Dim);  ///< the gain g
    static constexpr std::size_t parameter_tensors = 1;               ///< ParamViews visit_parameters() gives: weight

    Vector<Scalar, Dim> g;      ///< the gain, Dim (PyTorch's `weight`)
    Vector<Scalar, Dim> dg;     ///< its gradient, accumulated
    Scalar eps = Scalar(1e-6);  ///< added to mean(x²); PyTorch's `eps` (set it to match another value)

    /// g = 1 (no randomness: the seed is accepted because every layer's constructor takes one).
    explicit RMSNorm(std::uint64_t = 0) : g(Dim), dg(Dim) { init_parameters(); }
    /// Parameters, and per sample: no products (element-wise work is not counted), the input and
    /// the output kept for backward, and r.
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, (2.0 * Dim + 1) * sizeof(Scalar)}; }
    /// The name with its size, as summaries and error messages print it.
    static std::string name() { return layer_name({"RMSNorm<Dim=", Dim, ">"}); }
    /// g = 1 again, gradient zeroed (`rng` is not used).
    void init(Rng&) { init_parameters(); }

    // --- forward and backward, mirrored ---

    /// x: Dim × B  →  y: Dim × B
    template <class Derived>
    const Batch<Scalar, Dim>& forward(const Eigen::MatrixBase<Derived>& x) {
        return normalise(x, y_, r_, "forward");
    }

    /// x: Dim × B (given to forward), dy: Dim × B  →  dx: Dim × B.  dg accumulates.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, Dim>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, Dim, dy, Dim, y_.cols());
        dx_.resize(Dim, x.cols());
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
            const Scalar r = r_(c);
            // forward: y = g ⊙ x̂ with x̂ = x · r, so dg += dy ⊙ x̂ and dx̂ = dy ⊙ g
            dg.array() += r * dy.col(c).array() * x.col(c).array();
            // forward: r = (mean(x²) + ε)^(−1/2) depends on every x_j, so dx = r · (dx̂ − x̂ · mean(dx̂ ⊙ x̂)),
            // written with x̂ = x · r: dx = r · dx̂ − r³ · mean(dx̂ ⊙ x) · x
            const Scalar m = (dy.col(c).array() * g.array() * x.col(c).array()).sum() / Scalar(Dim);
            dx_.col(c) = r * dy.col(c).cwiseProduct(g) - (r * r * r * m) * x.col(c);
        }
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, Dim>& output() const { return y_; }
    /// The gradient reads as zero from now on; the next backward adds to zero.
    void zero_grad() { dg.setZero(); }
    /// The one tensor, declared once: optimisers, checkpoints and safetensors files read it from here.
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("weight", g, dg));  // as PyTorch's nn.RMSNorm: (Dim)
    }

    // --- capability: inference from a const layer (predict), any number of threads at once ---

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, Dim> y;                        ///< the output: Dim × B
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> r;  ///< each column's 1 / rms: B
    };
    /// x: Dim × B  →  y: Dim × B in `ws`, as forward computes it; reads the parameters only.
    template <class Derived>
    const Batch<Scalar, Dim>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return normalise(x, ws.y, ws.r, "predict");
    }

private:
    // y = g ⊙ x · r per column, r kept (forward and predict)
    template <class Derived>
    const Batch<Scalar, Dim>& normalise(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, Dim>& y,
                                        Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& r, const char* method) const {
        check_input({&name, method}, x, Dim);
        y.resize(Dim, x.cols()), r.resize(x.cols());
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
            r(c) = Scalar(1) / std::sqrt(x.col(c).squaredNorm() / Scalar(Dim) + eps);  // r = 1 / √(mean(x²) + ε)
            y.col(c) = (x.col(c).array() * r(c) * g.array()).matrix();                 // y = g ⊙ x · r
        }
        return y;
    }

    void init_parameters() {
        g.setOnes();
        zero_grad();
    }

    Batch<Scalar, Dim> y_, dx_;                   // Dim × B
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> r_;  // B: each column's 1 / rms
};

}  // namespace neuronka
