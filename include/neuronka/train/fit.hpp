/// @file
/// @brief An optional training loop over a Dataset or a stream of tokens (TokenWindows): fit() runs
/// epochs of mini-batches, evaluates a validation set, and returns a History (loss, accuracy, learning rate and
/// samples/s per epoch, writable as CSV). Callbacks add a progress line, early stopping, a learning-rate schedule and
/// checkpoints that keep the best model.
///
/// fit() is made only of public calls (Batches or TokenBatches, zero_grad, forward, the loss,
/// backward, clipping, the optimiser's step): the explicit loop of docs/tutorial-neuron.md stays the core of neuronka,
/// and fit() is that loop written once.
///
/// @code
/// History h = fit(model, loss, optimiser, train, valid, {.epochs = 20, .batch_size = 64, .seed = 1},
///                 ProgressLine{}, EarlyStopping{.patience = 3},
///                 ScheduleLearningRate{LearningRateSchedule::warmup_cosine(1e-3, 100, 5000)},
///                 Checkpoints{.path = "model.nkpt", .best_path = "best.nkpt"});
/// h.write_csv("history.csv");
/// @endcode
#pragma once

#include "../data/dataset.hpp"
#include "../data/token_windows.hpp"
#include "fit_callbacks.hpp"
#include "gradients.hpp"
#include "history.hpp"
#include "metrics.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace neuronka {

/// How fit() trains.
struct FitOptions {
    int epochs = 10;                        ///< at most this many (a callback may stop earlier)
    int batch_size = 32;                    ///< samples per step (windows per step on tokens)
    std::uint64_t seed = 1;                 ///< the batch order of every epoch
    double clip_norm = 0;                   ///< > 0: gradients clipped to this global L2 norm
    Remainder remainder = Remainder::drop;  ///< the last samples that do not fill a batch
    std::size_t steps_per_epoch = 0;        ///< a stream of tokens (TokenWindows): batches per epoch
    ImageAugmentation augment = {};         ///< applied to every training batch (images; none by default)
};

/// What fit() shows its callbacks. A callback may change the optimiser (its learning rate), read the
/// history, and set `stop` to end training after the current epoch.
template <class Model, class Optimizer>
struct FitState {
    Model& model;                 ///< the model being trained
    Optimizer& optimizer;         ///< its optimiser (a callback may change its learning rate)
    const FitOptions& options;    ///< what fit() was given
    History& history;             ///< the epochs so far
    int epoch = 0;                ///< the current epoch, 1-based
    long step = 0;                ///< optimiser steps taken before the current batch (0-based)
    std::size_t batch = 0;        ///< batches done in this epoch
    std::size_t batches = 0;      ///< batches per epoch
    double loss = 0;              ///< the last batch's loss
    double epoch_loss = 0;        ///< mean loss of this epoch's batches so far
    double training_seconds = 0;  ///< time spent in training steps so far
    std::size_t samples = 0;      ///< training samples seen so far
    double learning_rate = NAN;   ///< the rate the optimiser uses
    bool stop = false;            ///< set by a callback: end after this epoch
};

namespace detail {

template <class Opt>
double current_learning_rate(const Opt& opt) {
    if constexpr (requires { opt.options().learning_rate; })
        return double(opt.options().learning_rate);
    else
        return NAN;
}

/// @cond internal
// Calls each callback's hook if it has one.
#define NEURONKA_FIT_HOOK(hook)                                                   \
    template <class State, class... C>                                            \
    void call_##hook(State& s, C&... callbacks) {                                 \
        (                                                                         \
            (void)[&] {                                                           \
                if constexpr (requires { callbacks.hook(s); }) callbacks.hook(s); \
            }(),                                                                  \
            ...);                                                                 \
    }
NEURONKA_FIT_HOOK(on_fit_begin)
NEURONKA_FIT_HOOK(on_batch_begin)
NEURONKA_FIT_HOOK(on_batch_end)
NEURONKA_FIT_HOOK(on_epoch_end)
NEURONKA_FIT_HOOK(on_fit_end)
#undef NEURONKA_FIT_HOOK
/// @endcond

/// A loss that takes class labels (SoftmaxCrossEntropy), not targets.
template <class Loss, class Z>
concept label_loss = requires(Loss& loss, const Z& z, std::span<const int> labels) {
    loss.forward(z, labels);
};

/// The loss of the current batch against its labels (classification losses) or targets.
template <class Loss, class Z, class Source>
double batch_loss(Loss& loss, const Z& z, const Source& batches) {
    if constexpr (label_loss<Loss, Z>) {
        if (batches.labels().empty())
            throw std::invalid_argument(
                "fit: the loss takes class labels, but the data set has none. Hint: set Dataset::labels");
        return double(loss.forward(z, batches.labels()));
    } else if constexpr (requires { batches.targets(); }) {
        if (batches.targets().size() == 0)
            throw std::invalid_argument(
                "fit: the loss takes targets, but the data set has none. Hint: set Dataset::targets");
        return double(loss.forward(z, batches.targets()));
    } else {
        static_assert(label_loss<Loss, Z>,
                      "fit: a stream of tokens has next-token labels: train it with a loss taking "
                      "class labels (SoftmaxCrossEntropy)");
        return 0;
    }
}

/// A batch's input and its sequence length: Features × b samples of length 1, or B windows of C tokens.
template <class Scalar, int F>
const Batch<Scalar, F>& batch_input(const Batches<Scalar, F>& b) {
    return b.x();
}
inline std::span<const int> batch_input(const TokenBatches& b) {
    return b.ids();
}
template <class Scalar, int F>
int batch_seq_len(const Batches<Scalar, F>&) {
    return 1;
}
inline int batch_seq_len(const TokenBatches& b) {
    return b.context();
}

/// The model's output in evaluation mode: through predict() and the caller's workspace where the
/// model has them, so the training buffers keep their size; else through forward.
template <class Model, class X, class Workspace>
decltype(auto) evaluation_output(Model& model, const X& x, int seq_len, Workspace& ws) {
    if constexpr (predicts<Model>())
        return predict(std::as_const(model), x, ws, seq_len);
    else
        return forward(model, x, seq_len);
}
template <class Model, bool = predicts<Model>()>
struct evaluation_workspace_of {
    using type = NoWorkspace;
};
template <class Model>
struct evaluation_workspace_of<Model, true> {
    using type = typename Model::Workspace;
};
template <class Model>
using evaluation_workspace = typename evaluation_workspace_of<Model>::type;

/// Adds a batch's summed loss and, for a classification loss, its correct predictions.
struct Score {
    double loss = 0;
    std::size_t correct = 0, samples = 0;
    template <class Loss, class Z>
    void add(const Z& z, double batch_loss, std::span<const int> labels, std::size_t n) {
        loss += batch_loss * double(n), samples += n;
        if constexpr (label_loss<Loss, Z>) correct += neuronka::count_correct(z, labels);
    }
};

/// Mean loss and accuracy (NaN without labels) of `model` over `data` in evaluation mode.
template <class Model, class Loss, class Scalar, int F>
std::pair<double, double> evaluate(Model& model, const Loss& prototype, const Dataset<Scalar, F>& data, int batch_size,
                                   evaluation_workspace<Model>& ws) {
    Loss loss = prototype;
    Batches<Scalar, F> batches(data, batch_size, 0, false, Remainder::keep);
    Score score;
    for (batches.start_epoch(); batches.next();) {
        const auto& z = evaluation_output(model, batches.x(), 1, ws);
        score.add<Loss>(z, batch_loss(loss, z, batches), batches.labels(), batches.size());
    }
    const double n = double(score.samples);
    return {score.loss / n, label_loss<Loss, Batch<Scalar, Model::out_size>> ? double(score.correct) / n : NAN};
}

/// Mean next-token loss and accuracy of `model` over every position of `data`, in evaluation mode:
/// its consecutive windows, `batch_size` full windows at a time (contiguous in the stream), then
/// the last, shorter one.
template <class Model, class Loss>
std::pair<double, double> evaluate(Model& model, const Loss& prototype, const TokenWindows& data, int batch_size,
                                   evaluation_workspace<Model>& ws) {
    Loss loss = prototype;
    const std::size_t C = std::size_t(data.context()), full = (data.tokens().size() - 1) / C;
    Score score;
    auto run = [&](std::span<const int> ids, std::span<const int> targets, int seq_len) {
        const auto& z = evaluation_output(model, ids, seq_len, ws);
        score.add<Loss>(z, double(loss.forward(z, targets)), targets, ids.size());
    };
    for (std::size_t k = 0; k < full; k += std::size_t(batch_size)) {
        const std::size_t n = std::min(std::size_t(batch_size), full - k) * C;
        run(data.tokens().subspan(k * C, n), data.tokens().subspan(k * C + 1, n), int(C));
    }
    if (full < data.count()) {
        const auto [ids, targets] = data.window(full);
        run(ids, targets, int(ids.size()));
    }
    const double n = double(score.samples);
    return {score.loss / n, double(score.correct) / n};
}

/// The training loop of every fit(): `batches` (Batches or TokenBatches) for options.epochs epochs,
/// `validation` (a Dataset, a TokenWindows, or null) evaluated after each.
template <class Model, class Loss, class Optimizer, class Source, class Validation, class... Callbacks>
History fit_batches(Model& model, Loss& loss, Optimizer& optimizer, Source& batches, const Validation* validation,
                    const FitOptions& options, Callbacks&... callbacks) {
    if (options.epochs < 0)
        throw std::invalid_argument("fit: epochs is " + std::to_string(options.epochs) + ", expected >= 0");
    if (options.clip_norm < 0 || !std::isfinite(options.clip_norm))
        throw std::invalid_argument("fit: clip_norm is " + detail::format_value(options.clip_norm) +
                                    ", expected >= 0 (0: no clipping)");
    using Z = Batch<typename Model::scalar_type, Model::out_size>;
    History history;
    FitState<Model, Optimizer> s{model, optimizer, options, history};
    s.batches = batches.count();
    s.learning_rate = current_learning_rate(optimizer);
    evaluation_workspace<Model> ws;  // validation's buffers, kept for the whole fit
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    set_mode(model, Mode::training);  // dropout on, batch statistics
    call_on_fit_begin(s, callbacks...);
    for (s.epoch = 1; s.epoch <= options.epochs && !s.stop; ++s.epoch) {
        EpochRecord r;
        r.epoch = s.epoch;
        double loss_sum = 0;
        std::size_t correct = 0, seen = 0;
        const double seconds_before = s.training_seconds;
        s.epoch_loss = 0;
        batches.start_epoch();
        for (s.batch = 0; batches.next(); ++s.batch, ++s.step) {
            call_on_batch_begin(s, callbacks...);
            const Clock::time_point t0 = Clock::now();
            model.zero_grad();
            const auto& x = batch_input(batches);
            const auto& z = forward(model, x, batch_seq_len(batches));
            s.loss = batch_loss(loss, z, batches);
            if constexpr (label_loss<Loss, Z>) correct += neuronka::count_correct(z, batches.labels());
            const auto& dy = loss.backward();
            if constexpr (requires { optimizer.step(model, x, dy); }) {
                if (options.clip_norm == 0) {
                    optimizer.step(model, x, dy);  // the training step: backward with the update
                } else {                           // clipping needs every gradient before the first update
                    backward(model, x, dy, GradientSink<typename Model::scalar_type>(false));
                    clip_gradient_norm(model, options.clip_norm);
                    optimizer.step(model);
                }
            } else {  // an optimiser with only step(model)
                backward(model, x, dy, GradientSink<typename Model::scalar_type>(false));
                if (options.clip_norm > 0) clip_gradient_norm(model, options.clip_norm);
                optimizer.step(model);
            }
            s.training_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
            seen += batches.size(), s.samples += batches.size();
            loss_sum += s.loss * double(batches.size());
            s.epoch_loss = loss_sum / double(seen);
            s.learning_rate = current_learning_rate(optimizer);
            call_on_batch_end(s, callbacks...);
        }
        r.train_loss = s.epoch_loss;
        if (label_loss<Loss, Z>) r.train_accuracy = double(correct) / double(seen);
        if (validation) {
            set_mode(model, Mode::evaluation);
            std::tie(r.valid_loss, r.valid_accuracy) = evaluate(model, loss, *validation, options.batch_size, ws);
            set_mode(model, Mode::training);
        }
        r.learning_rate = s.learning_rate;
        r.samples_per_second = double(seen) / std::max(s.training_seconds - seconds_before, 1e-9);
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        history.epochs.push_back(r);
        call_on_epoch_end(s, callbacks...);
    }
    s.epoch = int(history.epochs.size());
    call_on_fit_end(s, callbacks...);
    return history;
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
    if (validation) validation->check("fit (validation set)");
    Batches<Scalar, Features> batches(train, options.batch_size, options.seed, true, options.remainder);
    batches.augment(options.augment);
    return detail::fit_batches(model, loss, optimizer, batches, validation, options, callbacks...);
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
    return fit(model, loss, optimizer, train, static_cast<const Dataset<Scalar, Features>*>(nullptr), options,
               callbacks...);
}

/// Trains a language model on a stream of tokens: every epoch is options.steps_per_epoch batches of
/// options.batch_size random windows (TokenBatches, drawn from options.seed), each token's successor
/// its label; `loss` takes class labels (SoftmaxCrossEntropy). `validation` (if given) is scored
/// after every epoch over all its positions (TokenWindows::window), in evaluation mode. The model
/// is called as `forward(ids, C)` (or `forward(ids)` for a single Embedding). Otherwise as fit()
/// over a Dataset: the same history, callbacks and modes; a step allocates nothing.
template <class Model, class Loss, class Optimizer, class... Callbacks>
History fit(Model& model, Loss& loss, Optimizer& optimizer, const TokenWindows& train, const TokenWindows* validation,
            const FitOptions& options, Callbacks&&... callbacks) {
    if (options.augment.enabled())
        throw std::invalid_argument(
            "fit: options.augment changes images; a stream of tokens has none. Hint: "
            "leave FitOptions::augment at its default for language models");
    TokenBatches batches(train, options.batch_size, options.steps_per_epoch, options.seed);
    return detail::fit_batches(model, loss, optimizer, batches, validation, options, callbacks...);
}

/// fit() on tokens with a validation stream.
template <class Model, class Loss, class Optimizer, class... Callbacks>
History fit(Model& model, Loss& loss, Optimizer& optimizer, const TokenWindows& train, const TokenWindows& validation,
            const FitOptions& options, Callbacks&&... callbacks) {
    return fit(model, loss, optimizer, train, &validation, options, callbacks...);
}

/// fit() on tokens without validation.
template <class Model, class Loss, class Optimizer, class... Callbacks>
History fit(Model& model, Loss& loss, Optimizer& optimizer, const TokenWindows& train, const FitOptions& options,
            Callbacks&&... callbacks) {
    return fit(model, loss, optimizer, train, static_cast<const TokenWindows*>(nullptr), options, callbacks...);
}

}  // namespace neuronka
