/// @file
/// @brief Losses: mean squared error, softmax cross-entropy (label smoothing, class weights),
/// binary cross-entropy with logits; softmax and log_softmax of a batch.
///
/// A loss owns the 1/B normalisation: `forward` returns the mean over the batch and `backward`
/// returns d(mean)/d(prediction), so layers never divide by the batch size.
#pragma once

#include "../core/config.hpp"
#include "../detail/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace neuronka {

namespace detail {
/// What check_finite_loss throws: the first inf/NaN among the predictions and where it is, or, if
/// they are all finite, the loss value with a hint (targets or overflow).
template <class Scalar, class Derived>
[[noreturn]] NEURONKA_COLD void throw_non_finite_loss(const char* where, Scalar value,
                                                      const Eigen::MatrixBase<Derived>& prediction) {
    if (!prediction.allFinite())
        throw_non_finite(std::string(where) + "::forward", "input", prediction,
                         "check the data, or lower the learning rate if training diverged");
    throw std::domain_error(std::string(where) + ": the loss is " + detail::format_value(value) +
                            ". Hint: the targets contain inf/NaN, or the predictions are so large that the loss "
                            "overflows (lower the learning rate)");
}
/// The one check of a loss on the hot path: its value. Only when it is not finite are the
/// predictions scanned, so that the error gives the position of the first inf/NaN among them.
template <class Scalar, class Derived>
Scalar check_finite_loss(const char* where, Scalar value, const Eigen::MatrixBase<Derived>& prediction) {
    if (!std::isfinite(value)) [[unlikely]]
        throw_non_finite_loss(where, value, prediction);
    return value;
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
        detail::ensure_size(dy_, Out, y.cols());
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

/// Settings of SoftmaxCrossEntropy; the defaults give the plain cross-entropy.
template <class Scalar>
struct CrossEntropyOptions {
    Scalar label_smoothing = Scalar(0);  ///< ε in [0, 1): the target is (1 − ε)·onehot + ε/Out
    std::vector<Scalar> class_weights;   ///< w: one weight ≥ 0 per class (empty: all 1)
};

namespace detail {
/// SoftmaxCrossEntropy's arithmetic with the class count at run time (the rows of z and p), so that
/// it is compiled once per scalar type, not once per class count (with NEURONKA_COMPILED, linked from
/// neuronka::compiled). Defined out of the class, not inline.
template <class Scalar>
struct CrossEntropy {
    /// Below this many classes, forward works on 16 columns at a time, transposed.
    static constexpr int few_classes = 32;
    using ConstView = Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    const CrossEntropyOptions<Scalar>& opt;
    Scalar weights_sum;  // Σ_c w[c]
    // z: classes × B logits, labels: B class indices (checked here)  →  Σ_b loss_b / W; p: the softmax;
    // W into `norm`
    Scalar forward(ConstView z, std::span<const int> labels, Matrix& p, Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& nll,
                   std::vector<int>& kept, Scalar& norm) const;
    // p (the softmax) → dL/dz in place, for the labels `kept` and the norm W of the forward
    void backward(Matrix& p, const std::vector<int>& kept, Scalar norm) const;
};
}  // namespace detail

/**
 * @brief Softmax over the Out logits of each column, then the cross-entropy against class labels,
 * as PyTorch's `cross_entropy(z, labels, weight=w, label_smoothing=ε)` with mean reduction:
 *
 *     L = 1/W Σ_b [ (1 − ε) w[y_b] (−log p_b[y_b]) + ε/Out Σ_c w[c] (−log p_b[c]) ],   W = Σ_b w[y_b]
 *
 * (w = 1 and ε = 0: L = −1/B Σ_b log p_b[y_b]). Computed with log-sum-exp (the column maximum is
 * subtracted), so large logits do not overflow.
 */
template <class Scalar, int Out>
struct SoftmaxCrossEntropy {
    static constexpr const char* name = "SoftmaxCrossEntropy";  ///< the name shown in summaries and messages
    /// The loss's name, for messages.
    static std::string loss_name() { return name; }

    /// The plain cross-entropy.
    SoftmaxCrossEntropy() = default;
    /// With label smoothing and class weights; bad settings throw, naming them.
    explicit SoftmaxCrossEntropy(CrossEntropyOptions<Scalar> options) : opt_(std::move(options)) {
        const Scalar eps = opt_.label_smoothing;
        if (!(eps >= Scalar(0) && eps < Scalar(1)))
            throw std::invalid_argument("SoftmaxCrossEntropy: label_smoothing is " + detail::format_value(eps) +
                                        ", expected 0 <= label_smoothing < 1");
        if (!opt_.class_weights.empty() && opt_.class_weights.size() != std::size_t(Out))
            detail::throw_size("SoftmaxCrossEntropy", "class_weights", opt_.class_weights.size(), "weights", Out,
                               "give one weight per class, or none");
        for (std::size_t c = 0; c < opt_.class_weights.size(); ++c)
            if (!(opt_.class_weights[c] >= Scalar(0)) || !std::isfinite(opt_.class_weights[c]))
                throw std::invalid_argument("SoftmaxCrossEntropy: class weight " + std::to_string(c) + " is " +
                                            detail::format_value(opt_.class_weights[c]) +
                                            ", expected a finite value >= 0");
        weights_sum_ = Scalar(Out);
        if (!opt_.class_weights.empty()) {
            weights_sum_ = 0;
            for (Scalar w : opt_.class_weights) weights_sum_ += w;
        }
    }
    /// The settings in use.
    const CrossEntropyOptions<Scalar>& options() const { return opt_; }

    /// z: Out × B logits, labels: B class indices in [0, Out)  →  the mean (weighted) cross-entropy
    template <class DZ>
    Scalar forward(const Eigen::MatrixBase<DZ>& z, std::span<const int> labels) {
        detail::check_shape({&loss_name, "forward"}, z, Out);
        const Scalar loss =
            detail::CrossEntropy<Scalar>{opt_, weights_sum_}.forward(z, labels, p_, nll_, labels_, norm_);
        done_ = false;
        return detail::check_finite_loss(name, loss, z);
    }
    /// dL/dz: Out × B, for the last forward, formed in place of the softmax on the first call:
    /// (a_b p_b − (1 − ε) w[y_b] onehot(y_b) − ε/Out w) / W with a_b = (1 − ε) w[y_b] + ε/Out Σ w;
    /// plainly (softmax(z) − onehot(label)) / B.
    const Batch<Scalar, Out>& backward() {
        if (!done_) detail::CrossEntropy<Scalar>{opt_, weights_sum_}.backward(p_, labels_, norm_), done_ = true;
        return p_;
    }

private:
    CrossEntropyOptions<Scalar> opt_;
    Scalar weights_sum_ = Scalar(Out);              // Σ_c w[c]
    Scalar norm_ = 1;                               // W of the last forward
    Batch<Scalar, Out> p_;                          // softmax of the last forward, then (after backward) the gradient
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> nll_;  // B: each column's loss term
    std::vector<int> labels_;                       // B
    bool done_ = false;
};

template <class Scalar>
Scalar detail::CrossEntropy<Scalar>::forward(ConstView z, std::span<const int> labels, Matrix& p,
                                             Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& nll, std::vector<int>& kept,
                                             Scalar& norm) const {
    const Eigen::Index classes = z.rows(), B = z.cols();
    if (Eigen::Index(labels.size()) != B)
        throw_size("SoftmaxCrossEntropy::forward", "label list", labels.size(), "labels", B,
                   "pass one label per column of the logits");
    for (std::size_t b = 0; b < labels.size(); ++b)
        if (labels[b] < 0 || labels[b] >= classes)
            throw std::invalid_argument("SoftmaxCrossEntropy::forward: label " + std::to_string(labels[b]) +
                                        " at column " + std::to_string(b) + " is out of range [0, " +
                                        std::to_string(classes) + "). Hint: labels are class indices 0.." +
                                        std::to_string(classes - 1));
    ensure_size(p, classes, B);
    kept.resize(labels.size());
    nll.resize(B);
    const Scalar eps = opt.label_smoothing;
    const bool weighted = !opt.class_weights.empty();
    // Column b's loss term from log Σ_c e^(z[c] − max), z[y] − max and max; into nll(b).
    auto column_loss = [&](Eigen::Index b, Scalar log_sum, Scalar shifted_zy, Scalar max) {
        const int y = labels[std::size_t(b)];
        const Scalar wy = weighted ? opt.class_weights[std::size_t(y)] : Scalar(1);
        Scalar loss = (Scalar(1) - eps) * wy * (log_sum - shifted_zy);  // −log p[y] = log Σ − (z[y] − max)
        if (eps > Scalar(0)) {  // ε/Out Σ_c w[c] (lse − z[c]), lse = log Σ e^z = log Σ + max
            const Scalar lse = log_sum + max;
            Scalar wz = 0;
            for (Eigen::Index c = 0; c < classes; ++c)
                wz += (weighted ? opt.class_weights[std::size_t(c)] : Scalar(1)) * z(c, b);
            loss += eps / Scalar(classes) * (weights_sum * lse - wz);
        }
        nll(b) = loss;
        kept[std::size_t(b)] = y;
    };
    constexpr int lanes = 16;  // columns taken together: one vector register of floats
    using Lanes = Eigen::Array<Scalar, lanes, 1>;
    parallel_columns(B, long(classes), [&](long first, long last) {
        if (classes < few_classes) {
            // Few classes: a column is shorter than a vector register, so 16 columns are transposed
            // (class c of each in column c of t, on the stack) and every step runs across them.
            Eigen::Matrix<Scalar, lanes, Eigen::Dynamic, Eigen::ColMajor, lanes, few_classes> t(lanes, classes);
            for (Eigen::Index b0 = first; b0 < last; b0 += lanes) {
                const int n = int(std::min<Eigen::Index>(lanes, last - b0));
                if (n < lanes) t.setZero();  // unused lanes: finite
                t.topRows(n) = z.middleCols(b0, n).transpose();
                Lanes max = t.col(0).array();
                for (Eigen::Index c = 1; c < classes; ++c) max = max.max(t.col(c).array());
                for (Eigen::Index c = 0; c < classes; ++c) t.col(c).array() -= max;
                Lanes shifted_zy = Lanes::Zero();
                for (int j = 0; j < n; ++j) shifted_zy(j) = t(j, labels[std::size_t(b0 + j)]);
                t.array() = t.array().exp();
                Lanes sum = t.col(0).array();
                for (Eigen::Index c = 1; c < classes; ++c) sum += t.col(c).array();
                const Lanes log_sum = sum.log(), inverse = sum.inverse();
                for (Eigen::Index c = 0; c < classes; ++c) t.col(c).array() *= inverse;  // softmax
                p.middleCols(b0, n) = t.topRows(n).transpose();
                for (int j = 0; j < n; ++j) column_loss(b0 + j, log_sum(j), shifted_zy(j), max(j));
            }
            return;
        }
        // z − (its column's maximum), then e^ of the whole block in one vectorised pass; nll holds
        // z[y] − max until the loss is formed
        for (Eigen::Index b = first; b < last; ++b) {
            const Scalar m = z.col(b).maxCoeff();
            p.col(b).array() = z.col(b).array() - m;
            nll(b) = z(labels[std::size_t(b)], b) - m;
        }
        auto block = p.middleCols(first, last - first);
        block.array() = block.array().exp();
        for (Eigen::Index b0 = first; b0 < last; b0 += lanes) {  // log Σ of 16 columns in one call
            const int n = int(std::min<Eigen::Index>(lanes, last - b0));
            Lanes sum = Lanes::Ones();
            for (int j = 0; j < n; ++j) sum(j) = p.col(b0 + j).sum();
            const Lanes log_sum = sum.log();
            for (int j = 0; j < n; ++j) {
                const Eigen::Index b = b0 + j;
                p.col(b) *= Scalar(1) / sum(j);  // softmax
                column_loss(b, log_sum(j), nll(b), eps > Scalar(0) ? z.col(b).maxCoeff() : Scalar(0));
            }
        }
    });
    Scalar total = 0, weight = 0;
    for (Eigen::Index b = 0; b < B; ++b)  // in column order, whatever the threads
        total += nll(b), weight += weighted ? opt.class_weights[std::size_t(kept[std::size_t(b)])] : Scalar(1);
    if (!(weight > Scalar(0)))
        throw std::invalid_argument(
            "SoftmaxCrossEntropy::forward: every label in the batch has class weight 0. Hint: the loss "
            "is divided by the labels' total weight");
    norm = weight;
    return total / weight;
}

template <class Scalar>
void detail::CrossEntropy<Scalar>::backward(Matrix& p, const std::vector<int>& kept, Scalar norm) const {
    const Scalar eps = opt.label_smoothing;
    const Eigen::Index classes = p.rows();
    if (opt.class_weights.empty() && eps == Scalar(0)) {
        for (Eigen::Index b = 0; b < p.cols(); ++b) p(kept[std::size_t(b)], b) -= Scalar(1);  // p − onehot
        p *= Scalar(1) / norm;                                                                // / B
        return;
    }
    const bool weighted = !opt.class_weights.empty();
    auto w = [&](Eigen::Index c) { return weighted ? opt.class_weights[std::size_t(c)] : Scalar(1); };
    for (Eigen::Index b = 0; b < p.cols(); ++b) {
        const int y = kept[std::size_t(b)];
        p.col(b) *= (Scalar(1) - eps) * w(y) + eps / Scalar(classes) * weights_sum;
        p(y, b) -= (Scalar(1) - eps) * w(y);
        if (eps > Scalar(0))
            for (Eigen::Index c = 0; c < classes; ++c) p(c, b) -= eps / Scalar(classes) * w(c);
    }
    p /= norm;
}

/// The softmax of each column of `z` (Out × B logits) written into `p` (resized to z's shape;
/// allocation-free when it already has it): the class probabilities of a batch.
template <class DZ, class DP>
void softmax(const Eigen::MatrixBase<DZ>& z, Eigen::PlainObjectBase<DP>& p) {
    using Scalar = typename DP::Scalar;
    p.resize(z.rows(), z.cols());
    for (Eigen::Index b = 0; b < z.cols(); ++b) p.col(b).array() = z.col(b).array() - z.col(b).maxCoeff();
    p.array() = p.array().exp();  // as SoftmaxCrossEntropy: one vectorised pass, the same values
    for (Eigen::Index b = 0; b < z.cols(); ++b) p.col(b) *= Scalar(1) / p.col(b).sum();
}
/// The softmax of each column of `z` (Out × B logits): the class probabilities of a batch,
/// e.g. `softmax(model.predict(x))`.
template <class DZ>
Eigen::Matrix<typename DZ::Scalar, Eigen::Dynamic, Eigen::Dynamic> softmax(const Eigen::MatrixBase<DZ>& z) {
    Eigen::Matrix<typename DZ::Scalar, Eigen::Dynamic, Eigen::Dynamic> p;
    softmax(z, p);
    return p;
}
/// log softmax of each column of `z` (Out × B logits), computed as z − log Σ e^z (no log of 0).
template <class DZ>
Eigen::Matrix<typename DZ::Scalar, Eigen::Dynamic, Eigen::Dynamic> log_softmax(const Eigen::MatrixBase<DZ>& z) {
    Eigen::Matrix<typename DZ::Scalar, Eigen::Dynamic, Eigen::Dynamic> out(z.rows(), z.cols());
    for (Eigen::Index b = 0; b < z.cols(); ++b) {
        const auto m = z.col(b).maxCoeff();
        out.col(b).array() = (z.col(b).array() - m) - std::log((z.col(b).array() - m).exp().sum());
    }
    return out;
}

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
        detail::ensure_size(dz_, Out, z.cols());
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

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_LOSS(prefix, Scalar) prefix template struct neuronka::detail::CrossEntropy<Scalar>;
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_LOSS(extern, float)
NEURONKA_DETAIL_INSTANTIATE_LOSS(extern, double)
#endif
