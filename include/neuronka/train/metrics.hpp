/// @file
/// @brief How good a model is, one definition each: accuracy, the confusion matrix, mean negative
/// log-likelihood and perplexity, mean squared error.
///
/// Scores are Classes × B (one sample per column, logits or probabilities: only their order
/// matters for a class decision, and mean_nll takes logits); labels are B class indices.
#pragma once

#include "../core/config.hpp"

#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace neuronka {

namespace detail {
template <class Derived>
void check_labels(const char* where, const Eigen::MatrixBase<Derived>& scores, std::span<const int> labels) {
    if (scores.cols() != Eigen::Index(labels.size()))
        throw_size(where, "labels", Eigen::Index(labels.size()), "entries", scores.cols(),
                   "pass one label per column (sample) of the scores");
    if (scores.cols() == 0)
        throw std::invalid_argument(std::string(where) + ": no samples. Hint: pass at least one column");
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] < 0 || labels[i] >= scores.rows())
            throw std::invalid_argument(std::string(where) + ": label " + std::to_string(labels[i]) + " at sample " +
                                        std::to_string(i) + " is out of range [0, " + std::to_string(scores.rows()) +
                                        "). Hint: labels are class indices, one per row of the scores");
}
}  // namespace detail

/// The class of each column: the row of its largest score (the first such row on a tie). B entries.
template <class Derived>
std::vector<int> predicted_classes(const Eigen::MatrixBase<Derived>& scores_in) {
    const auto& scores = scores_in.eval();  // a selection of columns is evaluated once; a matrix is not copied
    std::vector<int> classes(std::size_t(scores.cols()));
    for (Eigen::Index b = 0; b < scores.cols(); ++b) {
        Eigen::Index best = 0;
        scores.col(b).maxCoeff(&best);
        classes[std::size_t(b)] = int(best);
    }
    return classes;
}

namespace detail {
template <class Derived>
std::size_t count_correct(const char* where, const Eigen::MatrixBase<Derived>& scores_in, std::span<const int> labels) {
    check_labels(where, scores_in, labels);
    const auto& scores = scores_in.eval();  // a selection of columns is evaluated once; a matrix is not copied
    std::size_t right = 0;
    for (Eigen::Index b = 0; b < scores.cols(); ++b) {
        Eigen::Index best = 0;
        scores.col(b).maxCoeff(&best);
        right += int(best) == labels[std::size_t(b)];
    }
    return right;
}
}  // namespace detail

/// How many samples' largest score is their label's (the first such row on a tie, as in
/// predicted_classes): scores Classes × B, labels B. On a matrix it allocates nothing, so a
/// training loop can count every step (fit() does).
template <class Derived>
std::size_t count_correct(const Eigen::MatrixBase<Derived>& scores, std::span<const int> labels) {
    return detail::count_correct("count_correct", scores, labels);
}

/// The fraction of samples whose largest score is their label's: scores Classes × B, labels B.
template <class Derived>
double accuracy(const Eigen::MatrixBase<Derived>& scores, std::span<const int> labels) {
    return double(detail::count_correct("accuracy", scores, labels)) / double(labels.size());
}

/**
 * @brief Counts of (true class, predicted class) pairs over any number of batches:
 * `counts(t, p)` is how many samples of class t were predicted as p. The diagonal is what was right.
 */
class ConfusionMatrix {
public:
    /// An empty matrix for `classes` classes.
    explicit ConfusionMatrix(int classes) : counts_(Eigen::Index(check_classes(classes)), Eigen::Index(classes)) {
        counts_.setZero();
    }

    /// Adds a batch: scores Classes × B, labels B.
    template <class Derived>
    void add(const Eigen::MatrixBase<Derived>& scores, std::span<const int> labels) {
        if (scores.rows() != counts_.rows())
            detail::throw_size("ConfusionMatrix::add", "scores", scores.rows(), "rows", counts_.rows(),
                               "one row per class, as many classes as the matrix was made for");
        detail::check_labels("ConfusionMatrix::add", scores, labels);
        const std::vector<int> predicted = predicted_classes(scores);
        for (std::size_t i = 0; i < labels.size(); ++i) ++counts_(labels[i], predicted[i]);
    }

    /// The number of classes.
    int classes() const { return int(counts_.rows()); }
    /// Samples counted.
    std::int64_t total() const { return counts_.sum(); }
    /// How many samples of class `truth` were predicted as `predicted`.
    std::int64_t operator()(int truth, int predicted) const { return counts_(truth, predicted); }
    /// All counts: rows the true class, columns the predicted one.
    const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>& counts() const { return counts_; }
    /// The diagonal over the total (0 when nothing was added).
    double accuracy() const { return total() ? double(counts_.trace()) / double(total()) : 0.0; }
    /// Of the samples of class c, the fraction predicted as c (0 when there were none).
    double recall(int c) const {
        const std::int64_t n = counts_.row(c).sum();
        return n ? double(counts_(c, c)) / double(n) : 0.0;
    }
    /// Of the samples predicted as c, the fraction that were c (0 when there were none).
    double precision(int c) const {
        const std::int64_t n = counts_.col(c).sum();
        return n ? double(counts_(c, c)) / double(n) : 0.0;
    }

private:
    static int check_classes(int classes) {
        if (classes < 1)
            throw std::invalid_argument("ConfusionMatrix: " + std::to_string(classes) +
                                        " classes; expected at least 1. Hint: pass the number of classes");
        return classes;
    }
    Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> counts_;
};

/// Mean over samples of −log softmax(logits)[label], in nats: logits Classes × B, labels B. The
/// loss SoftmaxCrossEntropy trains with, computed in double.
template <class Derived>
double mean_nll(const Eigen::MatrixBase<Derived>& logits_in, std::span<const int> labels) {
    detail::check_labels("mean_nll", logits_in, labels);
    const auto& logits = logits_in.eval();  // a selection of columns is evaluated once; a matrix is not copied
    double total = 0;
    for (Eigen::Index b = 0; b < logits.cols(); ++b) {
        const Eigen::VectorXd z = logits.col(b).template cast<double>();
        const double m = z.maxCoeff();
        total += std::log((z.array() - m).exp().sum()) + m - z(labels[std::size_t(b)]);  // log Σ e^z − z_label
    }
    return total / double(logits.cols());
}

/// The fraction of entries whose logit is on the side of 0 its target (0 or 1) is on the side of
/// 0.5: for models trained with BinaryCrossEntropyWithLogits. logits and targets of one shape.
template <class DerivedZ, class DerivedT>
double binary_accuracy(const Eigen::MatrixBase<DerivedZ>& logits, const Eigen::MatrixBase<DerivedT>& targets) {
    detail::check_same_shape("binary_accuracy", "targets", targets, logits, "one target per logit");
    if (logits.size() == 0) throw std::invalid_argument("binary_accuracy: no values. Hint: pass at least one sample");
    std::size_t right = 0;
    for (Eigen::Index j = 0; j < logits.cols(); ++j)
        for (Eigen::Index i = 0; i < logits.rows(); ++i) right += (logits(i, j) > 0) == (targets(i, j) > 0.5);
    return double(right) / double(logits.size());
}

/// e^(mean NLL): the number of equally likely choices the model is as unsure as.
inline double perplexity(double mean_nll_nats) {
    return std::exp(mean_nll_nats);
}

/// Mean over every entry of (y − t)²: y and t of one shape.
template <class DerivedY, class DerivedT>
double mean_squared_error(const Eigen::MatrixBase<DerivedY>& y, const Eigen::MatrixBase<DerivedT>& t) {
    detail::check_same_shape("mean_squared_error", "target", t, y, "target must have the prediction's shape");
    if (y.size() == 0) throw std::invalid_argument("mean_squared_error: no values. Hint: pass at least one sample");
    return (y.template cast<double>() - t.template cast<double>()).squaredNorm() / double(y.size());
}

}  // namespace neuronka
