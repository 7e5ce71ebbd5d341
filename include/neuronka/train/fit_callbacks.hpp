/// @file
/// @brief The callbacks fit() comes with: ScheduleLearningRate, EarlyStopping, Checkpoints (latest
/// and best) and ProgressLine. A callback is any struct with some of the hooks on_fit_begin,
/// on_batch_begin, on_batch_end, on_epoch_end and on_fit_end taking the FitState.
#pragma once

#include "../io/serialize.hpp"
#include "history.hpp"
#include "schedule.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace neuronka {

/// Sets the optimiser's learning rate before every step from a schedule of the step number.
struct ScheduleLearningRate {
    LearningRateSchedule schedule;  ///< the rate as a function of the step number
    /// Sets the rate for step `s.step`.
    template <class S>
    void on_batch_begin(S& s) {
        s.optimizer.set_learning_rate(static_cast<decltype(s.optimizer.options().learning_rate)>(schedule(s.step)));
    }
};

/// Ends training when the validation loss (the training loss without validation) has not improved
/// by more than `min_delta` for `patience` epochs.
struct EarlyStopping {
    int patience = 5;                                       ///< epochs without improvement before stopping
    double min_delta = 0;                                   ///< a smaller decrease of the loss is no improvement
    int best_epoch = 0;                                     ///< filled in: the epoch with the best loss
    double best = std::numeric_limits<double>::infinity();  ///< filled in: that loss
    /// Checks the settings and forgets an earlier fit.
    template <class S>
    void on_fit_begin(S&) {
        if (patience < 1)
            throw std::invalid_argument("EarlyStopping: patience is " + std::to_string(patience) + ", expected >= 1");
        best_epoch = 0, best = std::numeric_limits<double>::infinity();
    }
    /// Records an improvement, or stops after `patience` epochs without one.
    template <class S>
    void on_epoch_end(S& s) {
        const EpochRecord& e = s.history.epochs.back();
        const double l = std::isnan(e.valid_loss) ? e.train_loss : e.valid_loss;
        if (l < best - min_delta)
            best = l, best_epoch = e.epoch;
        else if (e.epoch - best_epoch >= patience)
            s.stop = true;
    }
};

/// Saves the model (weights and buffers, see save()) to `path` every `every` epochs and after the
/// last, and to `best_path` (if set) whenever the validation loss (training loss without
/// validation) is the lowest so far. Saves are atomic: a failed save leaves the previous file.
struct Checkpoints {
    std::string path;       ///< the latest model ("": none)
    std::string best_path;  ///< the best model so far ("": none)
    int every = 1;          ///< save `path` every this many epochs
    int best_epoch = 0;     ///< filled in: the epoch saved to best_path
    /// Checks the settings and forgets an earlier fit.
    template <class S>
    void on_fit_begin(S&) {
        if (every < 1)
            throw std::invalid_argument("Checkpoints: every is " + std::to_string(every) + ", expected >= 1");
        best_epoch = 0;
    }
    /// Saves the latest model when due, and the best one when this epoch is the best.
    template <class S>
    void on_epoch_end(S& s) {
        const EpochRecord& e = s.history.epochs.back();
        if (!path.empty() && e.epoch % every == 0) save(s.model, path);
        if (!best_path.empty() && s.history.best_epoch() == e.epoch && best_epoch != e.epoch) {
            save(s.model, best_path);
            best_epoch = e.epoch;
        }
    }
    /// Saves the final model to `path` if the last epoch was not a multiple of `every`.
    template <class S>
    void on_fit_end(S& s) {
        if (!path.empty() && !s.history.epochs.empty() && s.history.epochs.back().epoch % every != 0)
            save(s.model, path);
    }
};

/// A progress line: on a terminal, one line redrawn in place (epoch, batch, loss, samples/s, ETA);
/// otherwise (a file, a pipe, a CI log) one plain line per epoch. Each epoch ends with its losses
/// and accuracies.
class ProgressLine {
public:
    /// Where the progress goes.
    enum class Style {
        automatic,  ///< a redrawn line when `out` is a terminal, plain lines otherwise
        terminal,   ///< always the redrawn line
        plain       ///< always plain lines
    };
    /// Progress to `out` (standard output by default) in `style`, redrawn at most every
    /// `redraw_seconds` on a terminal.
    explicit ProgressLine(std::FILE* out = stdout, Style style = Style::automatic, double redraw_seconds = 0.1)
        : out(out), style(style), redraw_seconds(redraw_seconds) {}

    std::FILE* out;         ///< the stream written to
    Style style;            ///< terminal or plain lines
    double redraw_seconds;  ///< least time between two redraws on a terminal

    /// Decides between the redrawn line and plain lines.
    template <class S>
    void on_fit_begin(S&) {
        terminal_ = style == Style::terminal;
#if defined(__unix__) || defined(__APPLE__)
        if (style == Style::automatic) terminal_ = ::isatty(::fileno(out)) != 0;
#endif
        last_ = -1;
    }
    /// Redraws the line (on a terminal, at most every `redraw_seconds`).
    template <class S>
    void on_batch_end(S& s) {
        if (!terminal_ || (s.training_seconds - last_ < redraw_seconds && s.batch + 1 != s.batches)) return;
        last_ = s.training_seconds;
        const double rate = double(s.samples) / std::max(s.training_seconds, 1e-9);
        const double done = double(s.epoch - 1) + double(s.batch + 1) / double(s.batches);
        const double eta = s.training_seconds / done * (double(s.options.epochs) - done);
        const int bar = int(20.0 * double(s.batch + 1) / double(s.batches));
        std::fprintf(out, "\repoch %d/%d [%-20s] loss %.4f  %7.0f samples/s  ETA %5.0f s ", s.epoch, s.options.epochs,
                     std::string(std::size_t(bar), '=').c_str(), s.epoch_loss, rate, eta);
        std::fflush(out);
    }
    /// Prints the epoch's losses, accuracies and speed.
    template <class S>
    void on_epoch_end(S& s) {
        const EpochRecord& e = s.history.epochs.back();
        std::string line = "epoch " + std::to_string(e.epoch) + "/" + std::to_string(s.options.epochs);
        char buf[96];
        std::snprintf(buf, sizeof buf, "  loss %.4f", e.train_loss), line += buf;
        if (!std::isnan(e.train_accuracy))
            std::snprintf(buf, sizeof buf, "  accuracy %.2f%%", 100 * e.train_accuracy), line += buf;
        if (!std::isnan(e.valid_loss)) std::snprintf(buf, sizeof buf, "  valid loss %.4f", e.valid_loss), line += buf;
        if (!std::isnan(e.valid_accuracy))
            std::snprintf(buf, sizeof buf, "  valid accuracy %.2f%%", 100 * e.valid_accuracy), line += buf;
        std::snprintf(buf, sizeof buf, "  %.0f samples/s  %.1f s", e.samples_per_second, e.seconds), line += buf;
        std::fprintf(out, "%s%s\n", terminal_ ? "\r\033[K" : "", line.c_str());
        std::fflush(out);
    }

private:
    bool terminal_ = false;
    double last_ = -1;
};

}  // namespace neuronka
