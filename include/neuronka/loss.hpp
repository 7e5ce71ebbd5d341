/// @file loss.hpp
/// @brief Losses: mean squared error, softmax cross-entropy, binary cross-entropy with logits.
///
/// A loss owns the 1/B normalisation: `forward` returns the mean over the batch and `backward`
/// returns d(mean)/d(prediction), so layers never divide by the batch size.
#pragma once

#include "config.hpp"

#include <cmath>
#include <span>

namespace neuronka {

namespace detail {
/// The one check of a loss on the hot path: its value. Only when it is not finite are the
/// predictions scanned, so that the error gives the position of the first inf/NaN among them.
template <class T, class Derived>
T check_finite_loss(const char* where, T value, const Eigen::MatrixBase<Derived>& prediction) {
    if (std::isfinite(value)) return value;
    if (!prediction.allFinite())
        throw_non_finite(std::string(where) + "::forward", "input", prediction,
                         "check the data, or lower the learning rate if training diverged");
    throw std::domain_error(std::string(where) + ": the loss is " + std::to_string(value) +
                            ". Hint: the targets contain inf/NaN, or the predictions are so large that the loss "
                            "overflows (lower the learning rate)");
}
}  // namespace detail

/// L = 1/(N·B) Σ (y - t)²  over all N × B entries (the mean of the squared errors).
template <class T, int N>
struct MeanSquaredError {
    static constexpr const char* name = "MeanSquaredError";
    static std::string loss_name() { return name; }

    /// y: N × B prediction, t: N × B target  →  mean squared error
    template <class DY, class DT>
    T forward(const Eigen::MatrixBase<DY>& y, const Eigen::MatrixBase<DT>& t) {
        detail::check_shape({&loss_name, "forward"}, y, N);
        if (t.rows() != y.rows() || t.cols() != y.cols())
            detail::throw_size("MeanSquaredError::forward", "target", t.cols(), "columns", y.cols(),
                               "target must have the prediction's shape");
        dy_.resize(N, y.cols());
        dy_ = y - t;
        const T loss = dy_.squaredNorm() / T(dy_.size());
        dy_ *= T(2) / T(dy_.size());  // dL/dy = 2 (y - t) / (N·B)
        return detail::check_finite_loss(name, loss, y);
    }
    /// dL/dy: N × B, for the last forward
    const Batch<T, N>& backward() const { return dy_; }

private:
    Batch<T, N> dy_;
};

/// Softmax over the N logits of each column, then L = -1/B Σ_b log p(label_b).
/// Computed with log-sum-exp (the column maximum is subtracted), so large logits do not overflow.
template <class T, int N>
struct SoftmaxCrossEntropy {
    static constexpr const char* name = "SoftmaxCrossEntropy";
    static std::string loss_name() { return name; }

    /// z: N × B logits, labels: B class indices in [0, N)  →  mean cross-entropy
    template <class DZ>
    T forward(const Eigen::MatrixBase<DZ>& z, std::span<const int> labels) {
        detail::check_shape({&loss_name, "forward"}, z, N);
        if (Eigen::Index(labels.size()) != z.cols())
            detail::throw_size("SoftmaxCrossEntropy::forward", "label list", labels.size(), "labels", z.cols(),
                               "pass one label per column of the logits");
        for (std::size_t b = 0; b < labels.size(); ++b)
            if (labels[b] < 0 || labels[b] >= N)
                throw std::invalid_argument("SoftmaxCrossEntropy::forward: label " + std::to_string(labels[b]) +
                                            " at column " + std::to_string(b) + " is out of range [0, " +
                                            std::to_string(N) + "). Hint: labels are class indices 0.." +
                                            std::to_string(N - 1));
        const Eigen::Index B = z.cols();
        p_.resize(N, B);
        T total = 0;
        for (Eigen::Index b = 0; b < B; ++b) {
            const T m = z.col(b).maxCoeff();
            p_.col(b).array() = (z.col(b).array() - m).exp();
            const T s = p_.col(b).sum();
            p_.col(b) /= s;                                      // softmax
            total += std::log(s) + m - z(labels[b], b);          // log Σ e^z - z_label
            p_(labels[b], b) -= T(1);                            // p - onehot
        }
        p_ /= T(B);  // dL/dz = (softmax(z) - onehot) / B
        return detail::check_finite_loss(name, total / T(B), z);
    }
    /// dL/dz: N × B, for the last forward
    const Batch<T, N>& backward() const { return p_; }

private:
    Batch<T, N> p_;
};

/// L = 1/(N·B) Σ [max(z, 0) - z t + log(1 + e^(-|z|))], the binary cross-entropy of σ(z) against t,
/// written so that no exponential overflows. Targets t are in [0, 1].
template <class T, int N>
struct BinaryCrossEntropyWithLogits {
    static constexpr const char* name = "BinaryCrossEntropyWithLogits";
    static std::string loss_name() { return name; }

    /// z: N × B logits, t: N × B targets in [0, 1]  →  mean binary cross-entropy
    template <class DZ, class DT>
    T forward(const Eigen::MatrixBase<DZ>& z, const Eigen::MatrixBase<DT>& t) {
        detail::check_shape({&loss_name, "forward"}, z, N);
        if (t.rows() != z.rows() || t.cols() != z.cols())
            detail::throw_size("BinaryCrossEntropyWithLogits::forward", "target", t.cols(), "columns", z.cols(),
                               "target must have the logits' shape");
        if (!((t.array() >= T(0)) && (t.array() <= T(1))).all())
            throw std::invalid_argument("BinaryCrossEntropyWithLogits::forward: a target lies outside [0, 1] "
                                        "(or is NaN). Hint: targets are probabilities");
        const T n = T(z.size());
        const T loss = (z.array().max(T(0)) - z.array() * t.array() + (-z.array().abs()).exp().log1p()).sum() / n;
        dz_.resize(N, z.cols());
        dz_.array() = (z.array().logistic() - t.array()) / n;  // dL/dz = (σ(z) - t) / (N·B)
        return detail::check_finite_loss(name, loss, z);
    }
    /// dL/dz: N × B, for the last forward
    const Batch<T, N>& backward() const { return dz_; }

private:
    Batch<T, N> dz_;
};

}  // namespace neuronka
