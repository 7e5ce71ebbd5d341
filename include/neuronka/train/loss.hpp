/// @file
/// @brief Losses: mean squared error, softmax cross-entropy, binary cross-entropy with logits.
///
/// A loss owns the 1/B normalisation: `forward` returns the mean over the batch and `backward`
/// returns d(mean)/d(prediction), so layers never divide by the batch size.
#pragma once

#include "../core/config.hpp"
#include "../detail/parallel.hpp"

#include <cmath>
#include <span>
#include <vector>

namespace neuronka {

namespace detail {
/// The one check of a loss on the hot path: its value. Only when it is not finite are the
/// predictions scanned, so that the error gives the position of the first inf/NaN among them.
template <class Scalar, class Derived>
Scalar check_finite_loss(const char* where, Scalar value, const Eigen::MatrixBase<Derived>& prediction) {
    if (std::isfinite(value)) return value;
    if (!prediction.allFinite())
        throw_non_finite(std::string(where) + "::forward", "input", prediction,
                         "check the data, or lower the learning rate if training diverged");
    throw std::domain_error(std::string(where) + ": the loss is " + detail::format_value(value) +
                            ". Hint: the targets contain inf/NaN, or the predictions are so large that the loss "
                            "overflows (lower the learning rate)");
}
}  // namespace detail

/// L = 1/(Out·B) Σ (y - t)²  over all Out × B entries (the mean of the squared errors).
template <class Scalar, int Out>
struct MeanSquaredError {
    static constexpr const char* name = "MeanSquaredError";  ///< the name shown in summaries and messages
    /// The loss's name, for messages.
    static std::string loss_name() { return name; }

    /// y: Out × B prediction, t: Out × B target  →  mean squared error
    template <class DY, class DT>
    Scalar forward(const Eigen::MatrixBase<DY>& y, const Eigen::MatrixBase<DT>& t) {
        detail::check_shape({&loss_name, "forward"}, y, Out);
        detail::check_same_shape("MeanSquaredError::forward", "target", t, y,
                                 "target must have the prediction's shape");
        dy_.resize(Out, y.cols());
        dy_ = y - t;  // the error, kept for backward
        scaled_ = false;
        const Scalar loss = dy_.squaredNorm() / Scalar(dy_.size());
        return detail::check_finite_loss(name, loss, y);
    }
    /// dL/dy: Out × B, for the last forward
    const Batch<Scalar, Out>& backward() {
        if (!scaled_) dy_ *= Scalar(2) / Scalar(dy_.size()), scaled_ = true;  // dL/dy = 2 (y - t) / (Out·B)
        return dy_;
    }

private:
    Batch<Scalar, Out> dy_;  // y − t, then (after backward) the gradient
    bool scaled_ = false;
};

/// Softmax over the Out logits of each column, then L = -1/B Σ_b log p(label_b).
/// Computed with log-sum-exp (the column maximum is subtracted), so large logits do not overflow.
template <class Scalar, int Out>
struct SoftmaxCrossEntropy {
    static constexpr const char* name = "SoftmaxCrossEntropy";  ///< the name shown in summaries and messages
    /// The loss's name, for messages.
    static std::string loss_name() { return name; }

    /// z: Out × B logits, labels: B class indices in [0, Out)  →  mean cross-entropy
    template <class DZ>
    Scalar forward(const Eigen::MatrixBase<DZ>& z, std::span<const int> labels) {
        detail::check_shape({&loss_name, "forward"}, z, Out);
        if (Eigen::Index(labels.size()) != z.cols())
            detail::throw_size("SoftmaxCrossEntropy::forward", "label list", labels.size(), "labels", z.cols(),
                               "pass one label per column of the logits");
        for (std::size_t b = 0; b < labels.size(); ++b)
            if (labels[b] < 0 || labels[b] >= Out)
                throw std::invalid_argument("SoftmaxCrossEntropy::forward: label " + std::to_string(labels[b]) +
                                            " at column " + std::to_string(b) + " is out of range [0, " +
                                            std::to_string(Out) + "). Hint: labels are class indices 0.." +
                                            std::to_string(Out - 1));
        const Eigen::Index B = z.cols();
        p_.resize(Out, B);
        labels_.resize(labels.size());
        nll_.resize(B);
        detail::parallel_columns(B, Out, [&](long first, long last) {
            for (Eigen::Index b = first; b < last; ++b) {
                const Scalar m = z.col(b).maxCoeff();
                p_.col(b).array() = (z.col(b).array() - m).exp();
                const Scalar s = p_.col(b).sum();
                p_.col(b) /= s;                                            // softmax
                nll_(b) = std::log(s) + m - z(labels[std::size_t(b)], b);  // log Σ e^z - z_label
                labels_[std::size_t(b)] = labels[std::size_t(b)];
            }
        });
        Scalar total = 0;
        for (Eigen::Index b = 0; b < B; ++b) total += nll_(b);  // in column order, whatever the threads
        done_ = false;
        return detail::check_finite_loss(name, total / Scalar(B), z);
    }
    /// dL/dz: Out × B, for the last forward: (softmax(z) − onehot(label)) / B, formed in place of the
    /// softmax on the first call.
    const Batch<Scalar, Out>& backward() {
        if (!done_) {
            for (Eigen::Index b = 0; b < p_.cols(); ++b) p_(labels_[std::size_t(b)], b) -= Scalar(1);  // p − onehot
            p_ /= Scalar(p_.cols());                                                                   // / B
            done_ = true;
        }
        return p_;
    }

private:
    Batch<Scalar, Out> p_;                          // softmax of the last forward, then (after backward) the gradient
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> nll_;  // B: each column's −log p(label)
    std::vector<int> labels_;                       // B
    bool done_ = false;
};

/// L = 1/(Out·B) Σ [max(z, 0) - z t + log(1 + e^(-|z|))], the binary cross-entropy of σ(z) against t,
/// written so that no exponential overflows. Targets t are in [0, 1].
template <class Scalar, int Out>
struct BinaryCrossEntropyWithLogits {
    static constexpr const char* name = "BinaryCrossEntropyWithLogits";  ///< the name shown in summaries and messages
    /// The loss's name, for messages.
    static std::string loss_name() { return name; }

    /// z: Out × B logits, t: Out × B targets in [0, 1]  →  mean binary cross-entropy
    template <class DZ, class DT>
    Scalar forward(const Eigen::MatrixBase<DZ>& z, const Eigen::MatrixBase<DT>& t) {
        detail::check_shape({&loss_name, "forward"}, z, Out);
        detail::check_same_shape("BinaryCrossEntropyWithLogits::forward", "target", t, z,
                                 "target must have the logits' shape");
        if (!((t.array() >= Scalar(0)) && (t.array() <= Scalar(1))).all())
            throw std::invalid_argument(
                "BinaryCrossEntropyWithLogits::forward: a target lies outside [0, 1] "
                "(or is NaN). Hint: targets are probabilities");
        const Scalar loss =
            (z.array().max(Scalar(0)) - z.array() * t.array() + (-z.array().abs()).exp().log1p()).sum() /
            Scalar(z.size());
        dz_.resize(Out, z.cols());
        dz_.array() = z.array().logistic() - t.array(), scaled_ = false;  // σ(z) − t, scaled in backward
        return detail::check_finite_loss(name, loss, z);
    }
    /// dL/dz: Out × B, for the last forward
    const Batch<Scalar, Out>& backward() {
        if (!scaled_) dz_ /= Scalar(dz_.size()), scaled_ = true;  // dL/dz = (σ(z) − t) / (Out·B)
        return dz_;
    }

private:
    Batch<Scalar, Out> dz_;  // σ(z) − t, then (after backward) the gradient
    bool scaled_ = false;
};

}  // namespace neuronka
