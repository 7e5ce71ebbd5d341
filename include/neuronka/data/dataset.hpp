/// @file
/// @brief An in-memory data set (one sample per column, with class labels or regression targets),
/// its seeded shuffle and train / validation split, and mini-batches that allocate nothing per batch.
///
/// @code
/// Dataset<float, 4> data = read_csv<float, 4>("iris.csv", {.label = "species"});
/// auto [train, valid] = data.split(0.2, /*seed*/ 7);
/// Batches<float, 4> batches(train, 32, /*seed*/ 1);
/// for (int epoch = 0; epoch < 10; ++epoch)
///     for (batches.start_epoch(); batches.next();)
///         loss.forward(model.forward(batches.x()), batches.labels());
/// @endcode
#pragma once

#include "../core/config.hpp"
#include "../core/random.hpp"
#include "augment.hpp"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace neuronka {

/// A data file or data set that cannot be read or is malformed; the message names the file (and
/// the line and column, for text files) and the problem.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Samples in memory: `x` is Features × N, one sample per column; `labels` holds N class indices in
/// [0, classes) for classification, `targets` T × N values for regression (either may be empty).
template <class Scalar, int Features>
struct Dataset {
    using Targets = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< the type of `targets`

    Batch<Scalar, Features> x{Features, 0};  ///< Features × N
    std::vector<int> labels;                 ///< N class indices, or empty
    Targets targets;                         ///< T × N regression targets, or 0 × 0
    int classes = 0;                         ///< number of classes when `labels` is set
    std::vector<std::string> class_names;    ///< names of the classes, where the source had them

    /// Number of samples N.
    std::size_t size() const { return std::size_t(x.cols()); }
    /// Whether the samples have class labels.
    bool has_labels() const { return !labels.empty(); }
    /// Whether the samples have regression targets.
    bool has_targets() const { return targets.size() != 0; }

    /// Throws DataError unless labels and targets cover every sample and every label is in range.
    void check(const char* where = "Dataset") const {
        const std::string w(where);
        if (x.rows() != Features)
            throw DataError(w + ": samples have " + std::to_string(x.rows()) + " features, expected " +
                            std::to_string(Features));
        if (has_labels() && labels.size() != size())
            throw DataError(w + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(size()) +
                            " samples");
        if (has_targets() && std::size_t(targets.cols()) != size())
            throw DataError(w + ": " + std::to_string(targets.cols()) + " target columns for " +
                            std::to_string(size()) + " samples");
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (labels[i] < 0 || labels[i] >= classes)
                throw DataError(w + ": label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                                " is out of range [0, " + std::to_string(classes) + ")");
    }

    /// The samples at `indices`, in that order (an index may repeat).
    Dataset subset(std::span<const std::size_t> indices) const {
        Dataset out;
        out.classes = classes, out.class_names = class_names;
        out.x.resize(Features, Eigen::Index(indices.size()));
        if (has_labels()) out.labels.resize(indices.size());
        if (has_targets()) out.targets.resize(targets.rows(), Eigen::Index(indices.size()));
        for (std::size_t j = 0; j < indices.size(); ++j) {
            const std::size_t i = indices[j];
            if (i >= size())
                throw std::out_of_range("Dataset::subset: index " + std::to_string(i) + " at position " +
                                        std::to_string(j) + " is out of range (" + std::to_string(size()) +
                                        " samples)");
            out.x.col(Eigen::Index(j)) = x.col(Eigen::Index(i));
            if (has_labels()) out.labels[j] = labels[i];
            if (has_targets()) out.targets.col(Eigen::Index(j)) = targets.col(Eigen::Index(i));
        }
        return out;
    }

    /// Reorders the samples by a Fisher-Yates shuffle drawn from `seed`: the same seed, the same order.
    void shuffle(std::uint64_t seed) { *this = subset(shuffled_order(size(), seed)); }

    /// A seeded shuffle, then the last `validation_fraction` of the samples (rounded down, at least
    /// one of each part) as the validation part: returns {train, validation}.
    std::pair<Dataset, Dataset> split(double validation_fraction, std::uint64_t seed) const {
        if (!(validation_fraction > 0 && validation_fraction < 1))
            throw std::invalid_argument("Dataset::split: validation_fraction is " +
                                        detail::format_value(validation_fraction) + ", expected a value in (0, 1)");
        if (size() < 2)
            throw std::invalid_argument("Dataset::split: " + std::to_string(size()) +
                                        " samples cannot be split; need at least 2");
        const std::vector<std::size_t> order = shuffled_order(size(), seed);
        std::size_t n_valid = std::size_t(validation_fraction * double(size()));
        n_valid = std::min(std::max<std::size_t>(n_valid, 1), size() - 1);
        const std::span<const std::size_t> all(order);
        return {subset(all.first(size() - n_valid)), subset(all.last(n_valid))};
    }

    /// 0, 1, ..., n − 1 in a Fisher-Yates order drawn from `seed`.
    static std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed) {
        std::vector<std::size_t> order(n);
        for (std::size_t i = 0; i < n; ++i) order[i] = i;
        Rng rng(seed);
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
        return order;
    }
};

/// What becomes of the last samples when the batch size does not divide N.
enum class Remainder {
    keep,  ///< a last, smaller batch
    drop   ///< left out of this epoch (with shuffling, different samples each epoch)
};

/// Mini-batches of a Dataset, in a new seeded order every epoch. Every buffer is allocated by the
/// constructor; start_epoch() and next() allocate nothing. The data set must outlive the batches.
template <class Scalar, int Features>
class Batches {
public:
    using Data = Dataset<Scalar, Features>;  ///< the data set batched

    /// `batch_size` samples per batch; `shuffle`: a new order every epoch drawn from `seed` (else
    /// the data set's order every epoch).
    Batches(const Data& data, int batch_size, std::uint64_t seed = 0, bool shuffle = true,
            Remainder remainder = Remainder::keep)
        : data_(&data), B_(check_batch_size(data, batch_size)), shuffle_(shuffle), rng_(seed), order_(data.size()) {
        data.check("Batches");
        for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
        const std::size_t N = data.size(), tail = remainder == Remainder::keep ? N % B_ : 0;
        count_ = N / B_ + (tail ? 1 : 0);
        if (count_ == 0)
            throw std::invalid_argument("Batches: " + std::to_string(N) + " samples make no full batch of " +
                                        std::to_string(B_) + ". Hint: use Remainder::keep or a smaller batch size");
        for (int k = 0; k < 2; ++k) {  // k = 0: full batches, 1: the last, smaller one
            const Eigen::Index n = Eigen::Index(k == 0 ? B_ : tail);
            x_[k].resize(Features, n);
            labels_[k].resize(data.has_labels() ? std::size_t(n) : 0);
            targets_[k].resize(data.has_targets() ? data.targets.rows() : 0, data.has_targets() ? n : 0);
        }
    }

    /// Augments every batch next() draws from now on (see ImageAugmentation; the default does
    /// nothing); bad settings throw, naming them.
    void augment(const ImageAugmentation& a) {
        if (a.enabled() || a.noise_sd != 0 || a.max_shift != 0) a.check(long(data_->x.rows()));
        augment_ = a, augment_rng_ = Rng(a.seed);
        scratch_.resize(a.enabled() ? data_->x.rows() : 0);
    }

    /// Starts an epoch: reshuffles (if shuffling) and rewinds. The k-th epoch's order depends only on
    /// the seed and k.
    void start_epoch() {
        if (shuffle_)
            for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
        next_ = 0, current_ = 0;
    }

    /// Fills the next batch; false when the epoch has no more.
    bool next() {
        if (next_ == count_) return false;
        const std::size_t first = next_ * B_;
        current_ = first + B_ <= data_->size() ? 0 : 1;
        const Eigen::Index n = x_[current_].cols();
        for (Eigen::Index j = 0; j < n; ++j) {
            const std::size_t i = order_[first + std::size_t(j)];
            x_[current_].col(j) = data_->x.col(Eigen::Index(i));
            if (!labels_[current_].empty()) labels_[current_][std::size_t(j)] = data_->labels[i];
            if (targets_[current_].size()) targets_[current_].col(j) = data_->targets.col(Eigen::Index(i));
        }
        if (augment_.enabled()) augment_.apply(x_[current_], augment_rng_, scratch_);
        ++next_;
        return true;
    }

    /// The current batch: Features × b (b = the batch size, or fewer for a kept remainder).
    const Batch<Scalar, Features>& x() const { return x_[current_]; }
    /// Its b class labels (empty without labels).
    std::span<const int> labels() const { return labels_[current_]; }
    /// Its T × b targets (0 × 0 without targets).
    const typename Data::Targets& targets() const { return targets_[current_]; }
    /// Samples in the current batch.
    std::size_t size() const { return std::size_t(x().cols()); }
    /// Batches per epoch.
    std::size_t count() const { return count_; }
    /// Samples per epoch (fewer than the data set's with Remainder::drop).
    std::size_t samples_per_epoch() const { return std::min(count_ * B_, data_->size()); }
    /// Samples per full batch.
    int batch_size() const { return int(B_); }

private:
    static std::size_t check_batch_size(const Data& data, int batch_size) {
        if (batch_size < 1)
            throw std::invalid_argument("Batches: batch size is " + std::to_string(batch_size) +
                                        ", expected at least 1");
        if (data.size() == 0) throw std::invalid_argument("Batches: the data set is empty");
        return std::size_t(batch_size);
    }

    const Data* data_;
    std::size_t B_;
    bool shuffle_;
    Rng rng_;
    std::vector<std::size_t> order_;
    std::size_t count_ = 0, next_ = 0;
    int current_ = 0;
    Batch<Scalar, Features> x_[2];
    ImageAugmentation augment_;
    Rng augment_rng_{0};
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> scratch_;  // one image, for augment_
    std::vector<int> labels_[2];
    typename Data::Targets targets_[2];
};

}  // namespace neuronka
