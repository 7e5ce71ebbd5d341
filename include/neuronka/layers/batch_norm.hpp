/// @file
/// @brief BatchNorm (features) and BatchNorm2D (channels of images): batch statistics in training,
/// running statistics in evaluation, as PyTorch's nn.BatchNorm1d and nn.BatchNorm2d.
///
/// Shapes: C channels (features), Y·X values per channel in one sample (Y × X the image, 1 × 1 for
/// features), B samples. A batch is (C·Y·X) × B, channel-major (conv2d.hpp): channel c is rows
/// c·Y·X … (c + 1)·Y·X − 1. Each channel is normalised over its n = B·Y·X values.
#pragma once

#include "../core/layer.hpp"

namespace neuronka {

/**
 * @brief Batch normalisation, the one layer behind BatchNorm (features) and BatchNorm2D (channels of
 * images; `Images` says which, for the name). Training: μ, σ² = the mean and (biased) variance of a channel's n values
 * in the batch, x̂ = (x − μ) / √(σ² + ε), y = γ x̂ + β; the running statistics move by momentum m = 0.1: mean ← (1 − m)
 * mean + m μ, var ← (1 − m) var + m σ² n / (n − 1) (the unbiased variance, as PyTorch). Evaluation: x̂ = (x − mean) /
 * √(var + ε) with the running statistics, which do not move.
 *
 * γ and β are parameters (visited as "weight", "bias"); the running mean and variance are not, and
 * are visited by `visit_buffers` so that checkpoints keep them.
 */
template <class Scalar, int Channels, int Height, int Width, bool Images>
struct BatchNormLayer {
    static_assert(std::is_floating_point_v<Scalar>, "BatchNorm: Scalar must be float or double");
    static_assert(Channels > 0 && Height > 0 && Width > 0, "BatchNorm: sizes must be positive");
    static constexpr int spatial = Height * Width;      ///< Y·X: values per channel in one sample
    using scalar_type = Scalar;                         ///< float or double
    static constexpr int in_size = Channels * spatial;  ///< C·Y·X features of one sample
    static constexpr int out_size = in_size;            ///< the same
    static constexpr std::size_t parameter_count = 2 * std::size_t(Channels);  ///< γ and β
    static constexpr std::size_t parameter_tensors = 2;                        ///< ParamViews: weight (γ), bias (β)
    static constexpr Scalar eps = Scalar(1e-5);                                ///< added to the variance, as PyTorch
    static constexpr Scalar momentum = Scalar(0.1);  ///< of the running statistics, as PyTorch

    Vector<Scalar, Channels> gamma;         ///< C: the scale γ (PyTorch's weight)
    Vector<Scalar, Channels> beta;          ///< C: the shift β (PyTorch's bias)
    Vector<Scalar, Channels> running_mean;  ///< C: not trained, used in evaluation
    Vector<Scalar, Channels> running_var;   ///< C: not trained, used in evaluation
    std::int64_t batches_tracked = 0;       ///< training forwards so far (PyTorch's num_batches_tracked)

    /// γ = 1, β = 0, running mean 0 and variance 1 (the seed is accepted as every layer's constructor takes one).
    explicit BatchNormLayer(std::uint64_t = 0)
        : gamma(Channels),
          beta(Channels),
          running_mean(Channels),
          running_var(Channels),
          dgamma(Channels),
          dbeta(Channels),
          mean_(Channels),
          rstd_(Channels) {
        reset();
    }
    /// Per sample: y and dx (x̂ is recomputed from the cached per-channel statistics).
    static constexpr Cost cost(int = 1) { return {double(parameter_count), 0, 0, 2.0 * in_size * sizeof(Scalar)}; }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        if constexpr (Images)
            return layer_name({"BatchNorm2D<C=", Channels, ",H=", Height, ",W=", Width, ">"});
        else
            return layer_name({"BatchNorm<D=", Channels, ">"});
    }
    /// γ = 1, β = 0, running mean 0 and variance 1 (a fresh layer, as PyTorch).
    void init(Rng&) { reset(); }
    /// Training (batch statistics, the running ones move) or evaluation (the running statistics).
    void set_mode(Mode mode) { mode_ = mode; }
    /// The mode set last.
    Mode mode() const { return mode_; }

    /// x: (C·Y·X) × B  →  y: (C·Y·X) × B
    template <class Derived>
    const Batch<Scalar, in_size>& forward(const Eigen::MatrixBase<Derived>& x) {
        check_input({&name, "forward"}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);  // an expression is evaluated once
        const Eigen::Index B = xr.cols();
        const double n = double(B) * spatial;
        if (mode_ == Mode::training && n < 2)
            throw std::invalid_argument(name() + "::forward: a batch of " + std::to_string(B) + " sample(s) of " +
                                        std::to_string(spatial) +
                                        " value(s) per channel, expected at least 2 values. "
                                        "Hint: batch statistics need a batch; use Mode::evaluation for single samples");
        y_.resize(in_size, B);
        for (int c = 0; c < Channels; ++c) {
            auto xc = xr.middleRows(c * spatial, spatial).array();  // Y·X × B: channel c
            Scalar mu, rstd;
            if (mode_ == Mode::training) {
                mu = Scalar(xc.sum() / Scalar(n));                                // μ
                const Scalar var = Scalar((xc - mu).square().sum() / Scalar(n));  // σ², biased
                rstd = Scalar(1) / std::sqrt(var + eps);
                running_mean(c) = (1 - momentum) * running_mean(c) + momentum * mu;
                running_var(c) = (1 - momentum) * running_var(c) + momentum * var * Scalar(n / (n - 1));
            } else {
                mu = running_mean(c), rstd = Scalar(1) / std::sqrt(running_var(c) + eps);
            }
            mean_(c) = mu, rstd_(c) = rstd;
            y_.middleRows(c * spatial, spatial).array() = (xc - mu) * (rstd * gamma(c)) + beta(c);  // y = γ x̂ + β
        }
        if (mode_ == Mode::training) ++batches_tracked;
        forward_mode_ = mode_;
        return y_;
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, in_size> y;  ///< the output: (C·Y·X) × B
    };
    /// x: (C·Y·X) × B  →  y: (C·Y·X) × B in `ws`, normalised with the running statistics, as forward in
    /// evaluation mode (prediction is evaluation, whatever the mode); thread-safe, changes nothing.
    template <class Derived>
    const Batch<Scalar, in_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        check_input({&name, "predict"}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);
        ws.y.resize(in_size, xr.cols());
        for (int c = 0; c < Channels; ++c) {
            const Scalar mu = running_mean(c), rstd = Scalar(1) / std::sqrt(running_var(c) + eps);
            ws.y.middleRows(c * spatial, spatial).array() =
                (xr.middleRows(c * spatial, spatial).array() - mu) * (rstd * gamma(c)) + beta(c);
        }
        return ws.y;
    }

    /// x: (C·Y·X) × B (given to forward), dy: (C·Y·X) × B  →  dx: (C·Y·X) × B.  dγ, dβ accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, in_size>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                           const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, in_size, dy, out_size, y_.cols());
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);
        const Eigen::Ref<const Batch<Scalar, out_size>> dyr(dy);
        const Scalar n = Scalar(xr.cols()) * spatial;
        dx_.resize(in_size, xr.cols());
        for (int c = 0; c < Channels; ++c) {
            const auto xhat = (xr.middleRows(c * spatial, spatial).array() - mean_(c)) * rstd_(c);  // Y·X × B
            const auto g = dyr.middleRows(c * spatial, spatial).array();
            const Scalar sum_g = g.sum(), sum_gx = (g * xhat).sum();
            dbeta(c) += sum_g;                    // y = γ x̂ + β: dβ = Σ dy
            dgamma(c) += sum_gx;                  //               dγ = Σ dy ⊙ x̂
            if (forward_mode_ == Mode::training)  // x̂ depends on x also through μ and σ² of the batch
                dx_.middleRows(c * spatial, spatial).array() =
                    (gamma(c) * rstd_(c) / n) * (n * g - sum_g - xhat * sum_gx);
            else  // running statistics are constants
                dx_.middleRows(c * spatial, spatial).array() = (gamma(c) * rstd_(c)) * g;
        }
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, out_size>& output() const { return y_; }
    /// Bytes of the buffers that grow with the batch, as they are now (see Conv2D::buffer_bytes).
    std::size_t buffer_bytes() const { return sizeof(Scalar) * std::size_t(y_.size() + dx_.size()); }
    /// Gradients read as zero from now on.
    void zero_grad() { dgamma.setZero(), dbeta.setZero(); }
    /// γ and β, declared once under PyTorch's names.
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("weight", gamma, dgamma));  // as PyTorch's nn.BatchNorm1d/2d: (C)
        f(parameter("bias", beta, dbeta));      // (C)
    }
    /// The state that is not trained but is part of the model: running mean, then running variance.
    template <class F>
    void visit_buffers(F&& f) {
        f(buffer("running_mean", running_mean));                     // (C)
        f(buffer("running_var", running_var));                       // (C)
        f(counter<Scalar>("num_batches_tracked", batches_tracked));  // int64 ()
    }

private:
    void reset() {
        gamma.setOnes(), beta.setZero(), running_mean.setZero(), running_var.setOnes(), batches_tracked = 0;
        zero_grad();
    }
    Mode mode_ = Mode::training, forward_mode_ = Mode::training;
    Vector<Scalar, Channels> dgamma, dbeta;  // C
    Vector<Scalar, Channels> mean_, rstd_;   // C: the statistics the last forward used
    Batch<Scalar, in_size> y_, dx_;          // (C·Y·X) × B
};

/// Batch normalisation of `Features` features (PyTorch's nn.BatchNorm1d on N × Features).
template <class Scalar, int Features>
using BatchNorm = BatchNormLayer<Scalar, Features, 1, 1, false>;

/// Batch normalisation of the channels of Height × Width images (PyTorch's nn.BatchNorm2d).
template <class Scalar, int Channels, int Height, int Width>
using BatchNorm2D = BatchNormLayer<Scalar, Channels, Height, Width, true>;

}  // namespace neuronka
