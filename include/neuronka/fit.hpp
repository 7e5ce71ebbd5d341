/// @file fit.hpp
/// @brief An optional training loop over a Dataset: fit() runs epochs of mini-batches, evaluates a
/// validation set, and returns a History (loss, accuracy, learning rate and samples/s per epoch,
/// writable as CSV). Callbacks add a progress line, early stopping, a learning-rate schedule and
/// checkpoints that keep the best model.
///
/// fit() is made only of public calls (Batches, zero_grad, forward, the loss, backward, the
/// optimiser's step): the explicit loop of docs/tutorial-neuron.md stays the core of neuronka, and
/// fit() is that loop written once.
///
/// @code
/// History h = fit(model, loss, optimiser, train, valid, {.epochs = 20, .batch_size = 64, .seed = 1},
///                 ProgressLine{}, EarlyStopping{.patience = 3},
///                 ScheduleLearningRate{LearningRateSchedule::warmup_cosine(1e-3, 100, 5000)},
///                 Checkpoints{.path = "model.nkpt", .best_path = "best.nkpt"});
/// h.write_csv("history.csv");
/// @endcode
#pragma once

#include "adamw.hpp"
#include "dataset.hpp"
#include "detail/atomic_file.hpp"
#include "serialize.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace neuronka {

/// One epoch of fit(). Values that do not apply (no validation set, no class labels) are NaN.
struct EpochRecord {
    int epoch = 0;                 ///< 1, 2, ...
    double train_loss = 0;         ///< mean of the batch losses, weighted by batch size
    double train_accuracy = NAN;   ///< on the training batches, as they were trained (classification)
    double valid_loss = NAN;       ///< on the whole validation set, in evaluation mode
    double valid_accuracy = NAN;   ///< (classification)
    double learning_rate = NAN;    ///< at the epoch's last step
    double samples_per_second = 0; ///< training samples over training time (validation excluded)
    double seconds = 0;            ///< since fit() started, at the epoch's end
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
        std::string out = "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,learning_rate,samples_per_second,seconds\n";
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
    /// CheckpointError when the file cannot be written, for example for lack of space).
    void write_csv(const std::string& path) const {
        const std::string text = csv();
        detail::write_atomically(path, std::vector<unsigned char>(text.begin(), text.end()));
    }
};

/// How fit() trains.
struct FitOptions {
    int epochs = 10;                          ///< at most this many (a callback may stop earlier)
    int batch_size = 32;                      ///< samples per step
    std::uint64_t seed = 1;                   ///< the batch order of every epoch
    double clip_norm = 0;                     ///< > 0: gradients clipped to this global L2 norm
    Remainder remainder = Remainder::drop;    ///< the last samples that do not fill a batch
};

/// What fit() shows its callbacks. A callback may change the optimiser (its learning rate), read the
/// history, and set `stop` to end training after the current epoch.
template <class Model, class Optimizer>
struct FitState {
    Model& model;                   ///< the model being trained
    Optimizer& optimizer;           ///< its optimiser (a callback may change its learning rate)
    const FitOptions& options;      ///< what fit() was given
    History& history;               ///< the epochs so far
    int epoch = 0;                  ///< the current epoch, 1-based
    long step = 0;                  ///< optimiser steps taken before the current batch (0-based)
    std::size_t batch = 0;          ///< batches done in this epoch
    std::size_t batches = 0;        ///< batches per epoch
    double loss = 0;                ///< the last batch's loss
    double epoch_loss = 0;          ///< mean loss of this epoch's batches so far
    double training_seconds = 0;    ///< time spent in training steps so far
    std::size_t samples = 0;        ///< training samples seen so far
    double learning_rate = NAN;     ///< the rate the optimiser uses
    bool stop = false;              ///< set by a callback: end after this epoch
};

namespace detail {

template <class Opt>
double current_learning_rate(const Opt& opt) {
    if constexpr (requires { opt.options().learning_rate; }) return double(opt.options().learning_rate);
    else return NAN;
}

/// @cond internal
// Calls each callback's hook if it has one.
#define NEURONKA_FIT_HOOK(hook)                                                  \
    template <class State, class... C>                                           \
    void call_##hook(State& s, C&... callbacks) {                                \
        ((void)[&] {                                                             \
            if constexpr (requires { callbacks.hook(s); }) callbacks.hook(s);    \
        }(), ...);                                                               \
    }
NEURONKA_FIT_HOOK(on_fit_begin)
NEURONKA_FIT_HOOK(on_batch_begin)
NEURONKA_FIT_HOOK(on_batch_end)
NEURONKA_FIT_HOOK(on_epoch_end)
NEURONKA_FIT_HOOK(on_fit_end)
#undef NEURONKA_FIT_HOOK
/// @endcond

/// Correct predictions (largest score = label) in a batch.
template <class Z>
std::size_t count_correct(const Z& z, std::span<const int> labels) {
    std::size_t correct = 0;
    for (Eigen::Index b = 0; b < z.cols(); ++b) {
        Eigen::Index best;
        z.col(b).maxCoeff(&best);
        correct += int(best) == labels[std::size_t(b)];
    }
    return correct;
}

/// A loss that takes class labels (SoftmaxCrossEntropy), not targets.
template <class Loss, class Z>
concept label_loss = requires(Loss& loss, const Z& z, std::span<const int> labels) { loss.forward(z, labels); };

/// The loss of batch `batches` against its labels (classification losses) or targets.
template <class Loss, class Z, class Scalar, int F>
double batch_loss(Loss& loss, const Z& z, const Batches<Scalar, F>& batches) {
    if constexpr (label_loss<Loss, Z>) {
        if (batches.labels().empty())
            throw std::invalid_argument("fit: the loss takes class labels, but the data set has none. Hint: set Dataset::labels");
        return double(loss.forward(z, batches.labels()));
    } else {
        if (batches.targets().size() == 0)
            throw std::invalid_argument("fit: the loss takes targets, but the data set has none. Hint: set Dataset::targets");
        return double(loss.forward(z, batches.targets()));
    }
}

template <class M>
concept shares_prediction = requires { requires M::can_predict; };

/// Mean loss and accuracy (NaN without labels) of `model` over `data` in evaluation mode, through
/// predict() and its own workspace where the model has one, so training buffers keep their size.
template <class Model, class Loss, class Scalar, int F>
std::pair<double, double> evaluate(Model& model, const Loss& prototype, const Dataset<Scalar, F>& data, int batch_size) {
    Loss loss = prototype;
    Batches<Scalar, F> batches(data, batch_size, 0, false, Remainder::keep);
    if constexpr (requires { model.set_mode(Mode::evaluation); }) model.set_mode(Mode::evaluation);
    double sum = 0;
    std::size_t correct = 0;
    auto score = [&](const auto& z) {
        sum += batch_loss(loss, z, batches) * double(batches.size());
        if constexpr (label_loss<Loss, std::remove_cvref_t<decltype(z)>>) correct += count_correct(z, batches.labels());
    };
    if constexpr (shares_prediction<Model>) {
        typename Model::Workspace ws;
        for (batches.start_epoch(); batches.next();) score(std::as_const(model).predict(batches.x(), ws));
    } else {
        for (batches.start_epoch(); batches.next();) score(model.forward(batches.x()));
    }
    if constexpr (requires { model.set_mode(Mode::training); }) model.set_mode(Mode::training);
    const double n = double(data.size());
    return {sum / n, label_loss<Loss, Batch<Scalar, Model::out_size>> ? double(correct) / n : NAN};
}

}  // namespace detail

/// Trains `model` on `train` for options.epochs epochs of mini-batches in a seeded order, then
/// evaluates `validation` (if given) after every epoch; returns the history. `loss` is a neuronka
/// loss taking class labels (SoftmaxCrossEntropy) or targets (MeanSquaredError, ...), `optimizer`
/// an SGD or AdamW. Callbacks (ProgressLine, EarlyStopping, ScheduleLearningRate, Checkpoints, or
/// any struct with some of on_fit_begin, on_batch_begin, on_batch_end, on_epoch_end, on_fit_end
/// taking FitState&) run in the order given. The model trains in Mode::training whatever mode it
/// was in, and is left in it. A training step allocates nothing once the first batch has sized the
/// model's buffers.
template <class Model, class Loss, class Optimizer, class Scalar, int Features, class... Callbacks>
History fit(Model& model, Loss& loss, Optimizer& optimizer, const Dataset<Scalar, Features>& train,
            const Dataset<Scalar, Features>* validation, const FitOptions& options, Callbacks&&... callbacks) {
    if (options.epochs < 0) throw std::invalid_argument("fit: epochs is " + std::to_string(options.epochs) + ", expected >= 0");
    if (options.clip_norm < 0 || !std::isfinite(options.clip_norm))
        throw std::invalid_argument("fit: clip_norm is " + detail::format_value(options.clip_norm) + ", expected >= 0 (0: no clipping)");
    if (validation) validation->check("fit (validation set)");
    Batches<Scalar, Features> batches(train, options.batch_size, options.seed, true, options.remainder);
    History history;
    FitState<Model, Optimizer> s{model, optimizer, options, history};
    s.batches = batches.count();
    s.learning_rate = detail::current_learning_rate(optimizer);
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    if constexpr (requires { model.set_mode(Mode::training); }) model.set_mode(Mode::training);  // dropout on, batch statistics
    detail::call_on_fit_begin(s, callbacks...);
    for (s.epoch = 1; s.epoch <= options.epochs && !s.stop; ++s.epoch) {
        EpochRecord r;
        r.epoch = s.epoch;
        double loss_sum = 0;
        std::size_t correct = 0, seen = 0;
        const double seconds_before = s.training_seconds;
        s.epoch_loss = 0;
        batches.start_epoch();
        for (s.batch = 0; batches.next(); ++s.batch, ++s.step) {
            detail::call_on_batch_begin(s, callbacks...);
            const Clock::time_point t0 = Clock::now();
            model.zero_grad();
            const auto& z = model.forward(batches.x());
            s.loss = detail::batch_loss(loss, z, batches);
            if constexpr (detail::label_loss<Loss, std::remove_cvref_t<decltype(z)>>)
                correct += detail::count_correct(z, batches.labels());
            if constexpr (requires { model.backward_parameters(batches.x(), loss.backward()); })
                model.backward_parameters(batches.x(), loss.backward());
            else
                model.backward(batches.x(), loss.backward());
            if (options.clip_norm > 0) clip_gradient_norm(model, options.clip_norm);
            optimizer.step(model);
            s.training_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
            seen += batches.size(), s.samples += batches.size();
            loss_sum += s.loss * double(batches.size());
            s.epoch_loss = loss_sum / double(seen);
            s.learning_rate = detail::current_learning_rate(optimizer);
            detail::call_on_batch_end(s, callbacks...);
        }
        r.train_loss = s.epoch_loss;
        if (detail::label_loss<Loss, Batch<Scalar, Model::out_size>>) r.train_accuracy = double(correct) / double(seen);
        if (validation) std::tie(r.valid_loss, r.valid_accuracy) = detail::evaluate(model, loss, *validation, options.batch_size);
        r.learning_rate = s.learning_rate;
        r.samples_per_second = double(seen) / std::max(s.training_seconds - seconds_before, 1e-9);
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        history.epochs.push_back(r);
        detail::call_on_epoch_end(s, callbacks...);
    }
    s.epoch = int(history.epochs.size());
    detail::call_on_fit_end(s, callbacks...);
    return history;
}

/// fit() with a validation set.
template <class Model, class Loss, class Optimizer, class Scalar, int Features, class... Callbacks>
History fit(Model& model, Loss& loss, Optimizer& optimizer, const Dataset<Scalar, Features>& train,
            const Dataset<Scalar, Features>& validation, const FitOptions& options, Callbacks&&... callbacks) {
    return fit(model, loss, optimizer, train, &validation, options, callbacks...);
}

/// fit() without a validation set.
template <class Model, class Loss, class Optimizer, class Scalar, int Features, class... Callbacks>
History fit(Model& model, Loss& loss, Optimizer& optimizer, const Dataset<Scalar, Features>& train,
            const FitOptions& options, Callbacks&&... callbacks) {
    return fit(model, loss, optimizer, train, static_cast<const Dataset<Scalar, Features>*>(nullptr), options, callbacks...);
}

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
    int patience = 5;    ///< epochs without improvement before stopping
    double min_delta = 0;  ///< a smaller decrease of the loss is no improvement
    int best_epoch = 0;  ///< filled in: the epoch with the best loss
    double best = std::numeric_limits<double>::infinity();  ///< filled in: that loss
    /// Checks the settings and forgets an earlier fit.
    template <class S>
    void on_fit_begin(S&) {
        if (patience < 1) throw std::invalid_argument("EarlyStopping: patience is " + std::to_string(patience) + ", expected >= 1");
        best_epoch = 0, best = std::numeric_limits<double>::infinity();
    }
    /// Records an improvement, or stops after `patience` epochs without one.
    template <class S>
    void on_epoch_end(S& s) {
        const EpochRecord& e = s.history.epochs.back();
        const double l = std::isnan(e.valid_loss) ? e.train_loss : e.valid_loss;
        if (l < best - min_delta) best = l, best_epoch = e.epoch;
        else if (e.epoch - best_epoch >= patience) s.stop = true;
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
        if (every < 1) throw std::invalid_argument("Checkpoints: every is " + std::to_string(every) + ", expected >= 1");
        best_epoch = 0;
    }
    /// Saves the latest model when due, and the best one when this epoch is the best.
    template <class S>
    void on_epoch_end(S& s) {
        const EpochRecord& e = s.history.epochs.back();
        if (!path.empty() && e.epoch % every == 0) save(path, s.model);
        if (!best_path.empty() && s.history.best_epoch() == e.epoch && best_epoch != e.epoch) {
            save(best_path, s.model);
            best_epoch = e.epoch;
        }
    }
    /// Saves the final model to `path` if the last epoch was not a multiple of `every`.
    template <class S>
    void on_fit_end(S& s) {
        if (!path.empty() && !s.history.epochs.empty() && s.history.epochs.back().epoch % every != 0) save(path, s.model);
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

    std::FILE* out;          ///< the stream written to
    Style style;             ///< terminal or plain lines
    double redraw_seconds;   ///< least time between two redraws on a terminal

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
        if (!std::isnan(e.train_accuracy)) std::snprintf(buf, sizeof buf, "  accuracy %.2f%%", 100 * e.train_accuracy), line += buf;
        if (!std::isnan(e.valid_loss)) std::snprintf(buf, sizeof buf, "  valid loss %.4f", e.valid_loss), line += buf;
        if (!std::isnan(e.valid_accuracy)) std::snprintf(buf, sizeof buf, "  valid accuracy %.2f%%", 100 * e.valid_accuracy), line += buf;
        std::snprintf(buf, sizeof buf, "  %.0f samples/s  %.1f s", e.samples_per_second, e.seconds), line += buf;
        std::fprintf(out, "%s%s\n", terminal_ ? "\r\033[K" : "", line.c_str());
        std::fflush(out);
    }

private:
    bool terminal_ = false;
    double last_ = -1;
};

}  // namespace neuronka
