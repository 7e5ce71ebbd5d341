/// @file
/// @brief Finite-difference gradient checker for any layer, model or loss, in double precision.
#pragma once

#include "../core/layer.hpp"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace neuronka {

/// Where the analytic gradient disagrees most with the numerical one.
struct GradcheckResult {
    double worst_relative_error = 0;  ///< max over all checked entries of |a − n| / max(|a|, |n|, floor)
    std::string where;                ///< "W[3]" (a parameter entry) or "x[5]" (an input entry)
    double analytic = 0;              ///< the analytic gradient at `where`
    double numeric = 0;               ///< the central difference there
    std::size_t checked = 0;          ///< entries compared
};

/// Settings of the checker.
struct GradcheckOptions {
    double step = 1e-4;      ///< h of the five-point central difference (error O(h⁴))
    double floor = 1e-4;     ///< gradients smaller than this are compared in absolute terms
    bool inputs = true;      ///< also check d(loss)/d(input)
    std::uint64_t seed = 1;  ///< seeds the random projection used as the loss
};

namespace detail {
inline double five_point(const std::function<double(double)>& f, double x, double h) {
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h);
}
inline void record(GradcheckResult& r, const GradcheckOptions& o, double a, double n, const std::string& where) {
    const double err = std::abs(a - n) / std::max({std::abs(a), std::abs(n), o.floor});
    ++r.checked;
    if (err > r.worst_relative_error || r.where.empty()) {
        r.worst_relative_error = err, r.where = where, r.analytic = a, r.numeric = n;
    }
}
}  // namespace detail

/**
 * @brief The general checker: `loss()` runs a forward pass and returns the scalar loss; `backward()`
 * runs zero_grad, forward and backward so that the model's gradients hold d(loss)/d(parameters).
 * Every parameter entry the model visits is compared. Use it for models whose input is not a
 * matrix (token ids) or whose loss is your own.
 */
template <class Model, class LossFn, class BackwardFn>
GradcheckResult gradcheck_parameters(Model& model, LossFn&& loss, BackwardFn&& backward, GradcheckOptions o = {}) {
    backward();
    GradcheckResult result;
    model.visit_parameters([&](ParamView<double> p) {
        const Eigen::ArrayXd analytic = p.grad;
        for (Eigen::Index i = 0; i < p.value.size(); ++i) {
            const double saved = p.value(i);
            const double numeric = detail::five_point(
                [&](double v) {
                    p.value(i) = v;
                    return double(loss());
                },
                saved, o.step);
            p.value(i) = saved;
            detail::record(result, o, analytic(i), numeric, std::string(p.name) + "[" + std::to_string(i) + "]");
        }
    });
    return result;
}

/**
 * @brief Checks `layer.backward` against central differences of the scalar loss
 * L = Σ r ⊙ forward(x), with r a fixed random matrix (so dL/dy = r). Every parameter entry and,
 * unless disabled, every input entry is compared. The layer's gradients are left as after one
 * backward pass with this loss.
 *
 * @param layer   any Layer with scalar_type double, sequence layers and composites included
 * @param x       In × (T·B) input
 * @param seq_len T, passed to forward for layers that take it (Attention, PositionalEmbedding, and
 *                composites containing them)
 * @param o       the checker's settings (GradcheckOptions)
 */
template <class L>
GradcheckResult gradcheck(L& layer, const Batch<double, L::in_size>& x, int seq_len, GradcheckOptions o = {}) {
    static_assert(std::is_same_v<typename L::scalar_type, double>,
                  "gradcheck: finite differences need double precision; instantiate the layer with double");
    Rng rng(o.seed);
    Batch<double, L::out_size> r(L::out_size, x.cols());
    for (Eigen::Index i = 0; i < r.size(); ++i) r(i) = rng.uniform(-1.0, 1.0);
    Batch<double, L::in_size> xp = x;
    auto loss = [&] { return (detail::forward(layer, xp, seq_len).array() * r.array()).sum(); };
    Batch<double, L::in_size> dx;
    GradcheckResult result = gradcheck_parameters(
        layer, loss,
        [&] {
            layer.zero_grad();
            detail::forward(layer, x, seq_len);
            dx = layer.backward(x, r);
        },
        o);
    if (o.inputs)
        for (Eigen::Index i = 0; i < xp.size(); ++i) {
            const double saved = xp(i);
            const double numeric = detail::five_point(
                [&](double v) {
                    xp(i) = v;
                    return loss();
                },
                saved, o.step);
            xp(i) = saved;
            detail::record(result, o, dx(i), numeric, "x[" + std::to_string(i) + "]");
        }
    detail::forward(layer, x, seq_len);  // leave the caches as for x
    return result;
}

/// gradcheck of a layer on B independent samples (sequence length 1).
template <class L>
GradcheckResult gradcheck(L& layer, const Batch<double, L::in_size>& x, GradcheckOptions o = {}) {
    return gradcheck(layer, x, 1, o);
}
/**
 * @brief Checks a loss's backward against central differences: `forward(z, target)` must return the
 * loss and `backward()` its gradient with respect to z.
 */
template <class Loss, class Z, class Target>
GradcheckResult gradcheck_loss(Loss& loss, const Z& z, const Target& target, GradcheckOptions o = {}) {
    static_assert(std::is_same_v<typename Z::Scalar, double>, "gradcheck_loss: use double precision");
    Z zp = z;
    loss.forward(zp, target);
    const Z analytic = loss.backward();
    GradcheckResult result;
    for (Eigen::Index i = 0; i < zp.size(); ++i) {
        const double saved = zp(i);
        const double numeric = detail::five_point(
            [&](double v) {
                zp(i) = v;
                return double(loss.forward(zp, target));
            },
            saved, o.step);
        zp(i) = saved;
        detail::record(result, o, analytic(i), numeric, "z[" + std::to_string(i) + "]");
    }
    loss.forward(z, target);
    return result;
}

}  // namespace neuronka
