/// @file
/// @brief Learning-rate schedules: a constant rate, or linear warm-up then cosine decay.
#pragma once

#include "../core/config.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace neuronka {

/// Linear warm-up from 0 to `peak` over `warmup` steps, then cosine decay to `floor` at `total`
/// steps (and `floor` after). `constant(lr)` keeps one rate.
struct LearningRateSchedule {
    double peak = 1e-3;  ///< the rate after warm-up
    double floor = 0;    ///< the rate at `total` steps and after
    long warmup = 0;     ///< steps of linear warm-up
    long total = 0;      ///< steps of the whole schedule (0: a constant rate)

    /// The rate `lr` at every step.
    static LearningRateSchedule constant(double lr) { return {lr, lr, 0, 0}; }
    /// Warm-up to `peak` over `warmup` steps, cosine decay to `floor` at `total`; bad values throw.
    static LearningRateSchedule warmup_cosine(double peak, long warmup, long total, double floor = 0) {
        if (!(peak > 0) || warmup < 0 || total <= warmup || floor < 0 || floor > peak)
            throw std::invalid_argument(
                "LearningRateSchedule::warmup_cosine: expected peak > 0, 0 <= warmup < total, "
                "0 <= floor <= peak; got peak " +
                detail::format_value(peak) + ", warmup " + std::to_string(warmup) + ", total " + std::to_string(total) +
                ", floor " + detail::format_value(floor));
        return {peak, floor, warmup, total};
    }
    /// The rate at step s = 0, 1, 2, ...
    double operator()(long s) const {
        if (total == 0) return peak;
        if (s < warmup) return peak * double(s + 1) / double(warmup);
        if (s >= total) return floor;
        const double progress = double(s - warmup) / double(total - warmup);
        return floor + (peak - floor) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
    }
};

}  // namespace neuronka
