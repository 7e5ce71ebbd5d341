/// @file
/// @brief Gradient utilities for a training step: the global norm, clipping by it, and the check that
/// stops training at the first non-finite gradient. They work on any model (visit_parameters).
#pragma once

#include "../core/layer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace neuronka {

/// The global L2 norm of all gradients of `model`.
template <class Model>
double gradient_norm(Model& model) {
    double sum = 0;
    model.visit_parameters([&](auto p) { sum += double(p.grad.matrix().squaredNorm()); });
    return std::sqrt(sum);
}

/// Scales all gradients so that their global L2 norm is at most `max_norm`; returns the norm before.
template <class Model>
double clip_gradient_norm(Model& model, double max_norm) {
    if (!(max_norm > 0))
        throw std::invalid_argument("clip_gradient_norm: max_norm is " + detail::format_value(max_norm) +
                                    ", expected > 0");
    const double norm = gradient_norm(model);
    if (!std::isfinite(norm))
        throw std::domain_error("clip_gradient_norm: the gradient norm is " + detail::format_value(norm) +
                                ". Hint: a loss or an input was not finite, or training diverged");
    if (norm > max_norm)
        model.visit_parameters([&](auto p) { p.grad *= typename decltype(p.grad)::Scalar(max_norm / norm); });
    return norm;
}

/// Throws std::domain_error naming the step and the first parameter (in visiting order) whose
/// gradient is not finite; call it after backward to stop training at the first sign of divergence.
template <class Model>
void check_finite_gradients(Model& model, long step) {
    std::size_t index = 0;
    model.visit_parameters([&](auto p) {
        if (!detail::all_finite(p.grad.matrix()))
            throw std::domain_error("step " + std::to_string(step) + ": the gradient of parameter " +
                                    std::to_string(index) + " (" + p.name + ", " + std::to_string(p.grad.size()) +
                                    " values) is not finite. Hint: lower the learning rate or clip gradients");
        ++index;
    });
}

}  // namespace neuronka
