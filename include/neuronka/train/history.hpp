/// @file
/// @brief What fit() measured, epoch by epoch: an EpochRecord per epoch (loss, accuracy, learning
/// rate, samples/s), gathered in a History that writes itself as CSV, atomically.
#pragma once

#include "../detail/atomic_file.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace neuronka {

/// One epoch of fit(). Values that do not apply (no validation set, no class labels) are NaN.
struct EpochRecord {
    int epoch = 0;                  ///< 1, 2, ...
    double train_loss = 0;          ///< mean of the batch losses, weighted by batch size
    double train_accuracy = NAN;    ///< on the training batches, as they were trained (classification)
    double valid_loss = NAN;        ///< on the whole validation set, in evaluation mode
    double valid_accuracy = NAN;    ///< (classification)
    double learning_rate = NAN;     ///< at the epoch's last step
    double samples_per_second = 0;  ///< training samples over training time (validation excluded)
    double seconds = 0;             ///< since fit() started, at the epoch's end
};

/// What fit() measured, epoch by epoch.
struct History {
    std::vector<EpochRecord> epochs;  ///< one record per epoch, in order

    /// The epoch with the lowest validation loss (the lowest training loss without validation); 0 if none.
    int best_epoch() const {
        int best = 0;
        double lowest = std::numeric_limits<double>::infinity();
        for (const EpochRecord& e : epochs) {
            const double l = std::isnan(e.valid_loss) ? e.train_loss : e.valid_loss;
            if (l < lowest) lowest = l, best = e.epoch;
        }
        return best;
    }

    /// A header line and one line per epoch; a value that does not apply is an empty cell.
    std::string csv() const {
        std::string out =
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,learning_rate,samples_per_second,seconds\n";
        auto cell = [&](double v) {
            out += ',';
            if (std::isnan(v)) return;
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.9g", v);
            out += buf;
        };
        for (const EpochRecord& e : epochs) {
            out += std::to_string(e.epoch);
            for (double v : {e.train_loss, e.train_accuracy, e.valid_loss, e.valid_accuracy, e.learning_rate,
                             e.samples_per_second, e.seconds})
                cell(v);
            out += '\n';
        }
        return out;
    }

    /// Writes csv() to `path` atomically: the path holds the old file or the whole new one (throws
    /// FileError when the file cannot be written, for example for lack of space).
    void write_csv(const std::string& path) const {
        const std::string text = csv();
        detail::write_atomically(path, std::vector<unsigned char>(text.begin(), text.end()));
    }
};

}  // namespace neuronka
