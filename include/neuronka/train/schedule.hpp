/// @file
/// @brief Learning-rate schedules (a rate as a function of the step number) and ReduceOnPlateau,
/// which lowers the rate when a monitored loss stops improving. Each matches the PyTorch scheduler
/// named beside it (tests/test_schedules.cpp compares 1,000 steps against PyTorch's own).
#pragma once

#include "../core/config.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace neuronka {

/**
 * @brief The learning rate at step s = 0, 1, 2, ... (the rate the optimiser uses for its (s+1)-th
 * step). A value type: copy it, keep several in a vector for a sweep, call it with the step.
 *
 *     auto s = LearningRateSchedule::step(0.1, 30, 0.5);   // 0.1 for steps 0..29, 0.05 for 30..59, ...
 *     opt.set_learning_rate(float(s(step)));               // or fit(..., ScheduleLearningRate{s})
 *
 * | factory | rate at step s | PyTorch |
 * |---|---|---|
 * | `constant(lr)` | lr | – |
 * | `warmup_cosine(peak, W, T, floor)` | peak·(s+1)/W for s < W, then cosine from peak to floor at T | – |
 * | `step(base, n, γ)` | base·γ^⌊s/n⌋ | `StepLR` |
 * | `multi_step(base, {m₁, m₂, ...}, γ)` | base·γ^(number of milestones ≤ s) | `MultiStepLR` |
 * | `linear(base, f₀, f₁, T)` | base·(f₀ + (f₁ − f₀)·min(s, T)/T) | `LinearLR` |
 * | `exponential(base, γ)` | base·γ^s | `ExponentialLR` |
 * | `cosine_restarts(base, T₀, k, floor)` | cosine from base to floor over T₀ steps, restarted, each period k× longer |
 * `CosineAnnealingWarmRestarts` | | `LearningRateSchedule(f)` | f(s), any callable `double(long)` | `LambdaLR` (with
 * base·λ(s)) |
 *
 * Bad settings throw std::invalid_argument naming the schedule and the setting.
 */
class LearningRateSchedule {
public:
    /// Any callable of the step number returning the rate; `description` is what describe() returns.
    template <class F>
    requires std::is_invocable_r_v<double, const F&, long> &&
        (!std::is_same_v<std::remove_cvref_t<F>, LearningRateSchedule>)explicit LearningRateSchedule(
            F f, std::string description = "a function of the step")
        : rate_(std::move(f)), description_(std::move(description)) {}

    /// The rate `lr` at every step.
    static LearningRateSchedule constant(double lr) {
        check("constant", "lr", lr, lr > 0);
        return LearningRateSchedule([lr](long) { return lr; }, "constant " + detail::format_value(lr));
    }
    /// Warm-up to `peak` over `warmup` steps (linear, from peak/warmup at step 0), cosine decay to
    /// `floor` at `total`, `floor` after.
    static LearningRateSchedule warmup_cosine(double peak, long warmup, long total, double floor = 0) {
        if (!(peak > 0) || warmup < 0 || total <= warmup || !(floor >= 0) || floor > peak)
            throw std::invalid_argument(
                "LearningRateSchedule::warmup_cosine: expected peak > 0, 0 <= warmup < total, "
                "0 <= floor <= peak; got peak " +
                detail::format_value(peak) + ", warmup " + std::to_string(warmup) + ", total " + std::to_string(total) +
                ", floor " + detail::format_value(floor));
        return LearningRateSchedule(
            [=](long s) {
                if (s < warmup) return peak * double(s + 1) / double(warmup);
                if (s >= total) return floor;
                return cosine(peak, floor, double(s - warmup) / double(total - warmup));
            },
            "warm-up " + std::to_string(warmup) + ", cosine " + detail::format_value(peak) + " -> " +
                detail::format_value(floor) + " at " + std::to_string(total));
    }
    /// `base`·`gamma`^⌊s / step_size⌋ (PyTorch's StepLR).
    static LearningRateSchedule step(double base, long step_size, double gamma = 0.1) {
        check("step", "base", base, base > 0);
        check("step", "step_size", double(step_size), step_size >= 1);
        check("step", "gamma", gamma, gamma > 0);
        return LearningRateSchedule([=](long s) { return base * std::pow(gamma, double(s / step_size)); },
                                    "step " + detail::format_value(base) + ", x" + detail::format_value(gamma) +
                                        " every " + std::to_string(step_size));
    }
    /// `base`·`gamma`^k, k the number of milestones ≤ s (PyTorch's MultiStepLR); milestones ascending.
    static LearningRateSchedule multi_step(double base, std::vector<long> milestones, double gamma = 0.1) {
        check("multi_step", "base", base, base > 0);
        check("multi_step", "gamma", gamma, gamma > 0);
        if (!std::is_sorted(milestones.begin(), milestones.end()) || (!milestones.empty() && milestones.front() < 0))
            throw std::invalid_argument(
                "LearningRateSchedule::multi_step: the milestones must be ascending step numbers >= 0. Hint: "
                "e.g. {30, 80}");
        const std::string text = "multi-step " + detail::format_value(base) + ", x" + detail::format_value(gamma) +
                                 " at " + std::to_string(milestones.size()) + " milestones";
        return LearningRateSchedule(
            [=, m = std::move(milestones)](long s) {
                const auto passed = std::upper_bound(m.begin(), m.end(), s) - m.begin();
                return base * std::pow(gamma, double(passed));
            },
            text);
    }
    /// `base`·f(s), f going linearly from `start_factor` at step 0 to `end_factor` at `total` and
    /// staying there (PyTorch's LinearLR).
    static LearningRateSchedule linear(double base, double start_factor, double end_factor, long total) {
        check("linear", "base", base, base > 0);
        check("linear", "start_factor", start_factor, start_factor > 0 && start_factor <= 1);
        check("linear", "end_factor", end_factor, end_factor >= 0 && end_factor <= 1);
        check("linear", "total", double(total), total >= 1);
        return LearningRateSchedule(
            [=](long s) {
                return base * (start_factor + (end_factor - start_factor) * double(std::min(s, total)) / double(total));
            },
            "linear " + detail::format_value(base * start_factor) + " -> " + detail::format_value(base * end_factor) +
                " over " + std::to_string(total));
    }
    /// `base`·`gamma`^s (PyTorch's ExponentialLR).
    static LearningRateSchedule exponential(double base, double gamma) {
        check("exponential", "base", base, base > 0);
        check("exponential", "gamma", gamma, gamma > 0);
        return LearningRateSchedule(
            [=](long s) { return base * std::pow(gamma, double(s)); },
            "exponential " + detail::format_value(base) + ", x" + detail::format_value(gamma) + " per step");
    }
    /// Cosine from `base` to `floor` over `period` steps, then again from `base`, each period
    /// `period_factor` times as long as the one before (PyTorch's CosineAnnealingWarmRestarts,
    /// with T_0 = period, T_mult = period_factor, eta_min = floor).
    static LearningRateSchedule cosine_restarts(double base, long period, long period_factor = 1, double floor = 0) {
        check("cosine_restarts", "base", base, base > 0);
        check("cosine_restarts", "period", double(period), period >= 1);
        check("cosine_restarts", "period_factor", double(period_factor), period_factor >= 1);
        check("cosine_restarts", "floor", floor, floor >= 0 && floor <= base);
        return LearningRateSchedule(
            [=](long s) {
                long length = period, at = s;  // the current period's length, the step within it
                while (at >= length) at -= length, length *= period_factor;
                return cosine(base, floor, double(at) / double(length));
            },
            "cosine " + detail::format_value(base) + " -> " + detail::format_value(floor) + ", restarts every " +
                std::to_string(period) + (period_factor > 1 ? " (x" + std::to_string(period_factor) + ")" : ""));
    }

    /// The rate at step s = 0, 1, 2, ...
    double operator()(long s) const { return rate_(s); }
    /// What the schedule is, for reports ("step 0.1, x0.5 every 30").
    const std::string& describe() const { return description_; }

private:
    static double cosine(double from, double to, double progress) {
        return to + (from - to) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
    }
    static void check(const char* schedule, const char* what, double v, bool ok) {
        if (!ok || !std::isfinite(v))
            throw std::invalid_argument(std::string("LearningRateSchedule::") + schedule + ": " + what + " is " +
                                        detail::format_value(v) +
                                        ", which is out of range. Hint: rates and "
                                        "factors are finite and > 0, periods >= 1 step");
    }
    std::function<double(long)> rate_;
    std::string description_;
};

/**
 * @brief Lowers the learning rate by `factor` when a monitored loss has not improved for more than
 * `patience` checks (PyTorch's ReduceLROnPlateau in mode "min"). A loss improves when it is below
 * best·(1 − threshold) (relative) or best − threshold (`relative = false`). After a reduction,
 * `cooldown` checks pass before bad ones count again; the rate never goes below `min_rate`, and a
 * change smaller than `eps` is not made.
 *
 * As a fit() callback it checks once per epoch, on the validation loss (the training loss when
 * there is no validation set), and sets the optimiser's rate; `next(loss, rate)` is the rule alone.
 */
struct ReduceOnPlateau {
    double factor = 0.1;      ///< the new rate is rate·factor, 0 < factor < 1
    int patience = 10;        ///< checks without improvement that are tolerated
    double threshold = 1e-4;  ///< how much better counts as better
    bool relative = true;     ///< threshold relative to the best loss (else absolute)
    int cooldown = 0;         ///< checks after a reduction during which bad checks are not counted
    double min_rate = 0;      ///< the rate never goes below this
    double eps = 1e-8;        ///< a smaller change of the rate is not made

    double best = std::numeric_limits<double>::infinity();  ///< filled in: the best loss so far
    int bad_checks = 0;                                     ///< filled in: checks since the last improvement
    int cooldown_left = 0;                                  ///< filled in: checks of cooldown remaining
    int reductions = 0;                                     ///< filled in: how often the rate was lowered

    /// The rate to use after a check that saw `loss` while the rate was `rate`.
    double next(double loss, double rate) {
        validate();
        const bool better = relative ? loss < best * (1 - threshold) : loss < best - threshold;
        if (better)
            best = loss, bad_checks = 0;
        else
            ++bad_checks;
        if (cooldown_left > 0) --cooldown_left, bad_checks = 0;
        if (bad_checks > patience) {
            const double lowered = std::max(rate * factor, min_rate);
            cooldown_left = cooldown, bad_checks = 0;
            if (rate - lowered > eps) return ++reductions, lowered;
        }
        return rate;
    }
    /// Forgets an earlier fit.
    template <class S>
    void on_fit_begin(S&) {
        validate();
        best = std::numeric_limits<double>::infinity(), bad_checks = 0, cooldown_left = 0, reductions = 0;
    }
    /// Checks this epoch's loss and lowers the optimiser's rate when it has stopped improving.
    template <class S>
    void on_epoch_end(S& s) {
        const auto& e = s.history.epochs.back();
        const double loss = std::isnan(e.valid_loss) ? e.train_loss : e.valid_loss;
        const double rate = double(s.optimizer.options().learning_rate);
        const double lowered = next(loss, rate);
        if (lowered != rate)
            s.optimizer.set_learning_rate(static_cast<decltype(s.optimizer.options().learning_rate)>(lowered));
    }

private:
    void validate() const {
        auto bad = [](const char* what, double v, const char* hint) {
            throw std::invalid_argument(std::string("ReduceOnPlateau: ") + what + " is " + detail::format_value(v) +
                                        ", " + hint);
        };
        if (!(factor > 0 && factor < 1)) bad("factor", factor, "expected 0 < factor < 1");
        if (patience < 0) bad("patience", patience, "expected >= 0");
        if (!(threshold >= 0)) bad("threshold", threshold, "expected >= 0");
        if (cooldown < 0) bad("cooldown", cooldown, "expected >= 0");
        if (!(min_rate >= 0)) bad("min_rate", min_rate, "expected >= 0");
        if (!(eps >= 0)) bad("eps", eps, "expected >= 0");
    }
};

}  // namespace neuronka
