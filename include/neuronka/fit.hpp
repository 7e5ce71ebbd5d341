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
#include "fit_callbacks.hpp"
#include "history.hpp"

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

}  // namespace neuronka
