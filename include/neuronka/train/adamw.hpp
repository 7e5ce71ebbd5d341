/// @file
/// @brief AdamW (decoupled weight decay, bias correction). Includes train/gradients.hpp and train/schedule.hpp.
#pragma once

#include "../core/layer.hpp"
#include "../detail/parallel.hpp"
#include "gradients.hpp"  // gradient_norm, clip_gradient_norm (included here since 0.2)
#include "schedule.hpp"   // LearningRateSchedule (included here since 0.2)

#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

namespace neuronka {

/// Hyper-parameters of AdamW.
template <class Scalar>
struct AdamWOptions {
    Scalar learning_rate = Scalar(1e-3);  ///< η > 0
    Scalar beta1 = Scalar(0.9);           ///< β₁ in [0, 1)
    Scalar beta2 = Scalar(0.999);         ///< β₂ in [0, 1)
    Scalar eps = Scalar(1e-8);            ///< ε > 0
    Scalar weight_decay = Scalar(0.01);   ///< λ ≥ 0, decoupled
};

/**
 * @brief AdamW (Loshchilov & Hutter), with bias correction. At step t = 1, 2, ... for every parameter
 * p with gradient g:
 *
 *     p ← p − η λ p                          decoupled weight decay
 *     m ← β₁ m + (1 − β₁) g                  first moment
 *     v ← β₂ v + (1 − β₂) g²                 second moment
 *     p ← p − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
 *
 * The moments are created on the first step in the model's visiting order and size-checked after.
 */
template <class Scalar>
class AdamW {
public:
    using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;  ///< one parameter's moments, flattened
    /// An optimiser with `options`; invalid options throw, naming the option.
    explicit AdamW(AdamWOptions<Scalar> options = {}) : opt_(options) { validate(); }

    /// The options in use.
    const AdamWOptions<Scalar>& options() const { return opt_; }
    /// Changes the learning rate (for schedules); other options stay.
    void set_learning_rate(Scalar lr) {
        opt_.learning_rate = lr;
        validate();
    }

    /// One update of every parameter of `model` from its accumulated gradients.
    template <class Model>
    void step(Model& model) {
        ++t_;
        const std::pair<Scalar, Scalar> c = corrections();
        std::size_t i = 0;
        model.visit_parameters([&](ParamView<Scalar> p) { update(i++, p, c.first, c.second); });
        check_parameter_count(i);
    }

    /// One training step: backward of `model` on (x, dy), each layer's parameters updated as soon as
    /// their gradients arrive (see GradientSink and SGD::step(model, x, dy)); the same update as
    /// `model.backward(x, dy); step(model); model.zero_grad();` without the model's input gradient.
    template <class Model, class X, class DerivedY>
    void step(Model& model, const X& x, const Eigen::MatrixBase<DerivedY>& dy) {
        if constexpr (detail::counted_parameters<Model>()) {
            if (m_.empty())  // moments in visiting order, before the first update (which comes last-first)
                model.visit_parameters([&](ParamView<Scalar> p) {
                    m_.push_back(Array::Zero(p.value.size())), v_.push_back(Array::Zero(p.value.size()));
                });
            else
                check_parameter_count(Model::parameter_tensors);
            ++t_;
            Sink sink{*this, corrections()};
            detail::backward(model, x, dy, GradientSink<Scalar>(sink, 0, false));
        } else {  // parameters not numbered by the type: the same update in three passes
            detail::backward(model, x, dy, GradientSink<Scalar>(false));
            step(model);
            model.zero_grad();
        }
    }

    /// Steps taken (t).
    std::size_t steps() const { return t_; }
    /// Sets the step count (when a checkpoint is loaded).
    void set_steps(std::size_t t) { t_ = t; }

    /// For checkpoints: the optimiser's name and its state, as groups of one array per parameter.
    static constexpr const char* kind = "AdamW";
    /// Calls `f` on each group of state arrays (first, then second moments).
    template <class F>
    void visit_state(F&& f) {
        f(m_), f(v_);
    }

private:
    // The bias corrections 1 − β₁ᵗ, 1 − β₂ᵗ of step t.
    std::pair<Scalar, Scalar> corrections() const {
        return {Scalar(1) - std::pow(opt_.beta1, Scalar(t_)), Scalar(1) - std::pow(opt_.beta2, Scalar(t_))};
    }
    void check_parameter_count(std::size_t count) const {
        if (count != m_.size())
            throw std::invalid_argument("AdamW::step: the model has " + std::to_string(count) +
                                        " parameters, expected " + std::to_string(m_.size()) +
                                        ". Hint: use one optimiser per model");
    }
    // What step(model, x, dy) hands to the layers' backward: each parameter is updated as its gradient arrives.
    struct Sink final : GradientTarget<Scalar> {
        AdamW& opt;
        std::pair<Scalar, Scalar> c;
        Sink(AdamW& o, std::pair<Scalar, Scalar> corrections) : opt(o), c(corrections) {}
        void product(std::size_t i, ParamView<Scalar>& p, bool pending, ProductRef<Scalar> op) override {
            op(false, Scalar(1), pending);  // g (+)= the product
            opt.update(i, p, c.first, c.second);
        }
        void gradient(std::size_t i, ParamView<Scalar>& p) override { opt.update(i, p, c.first, c.second); }
    };

    // The update of parameter i with the bias corrections c1, c2 of this step: one kernel per scalar
    // type, whatever the model (out of the class, so that NEURONKA_COMPILED can declare it extern).
    void update(std::size_t i, ParamView<Scalar>& p, Scalar c1, Scalar c2);

    void validate() const {
        auto bad = [](const char* what, Scalar v, const char* hint) {
            throw std::invalid_argument(std::string("AdamW: ") + what + " is " + detail::format_value(v) + ", " + hint);
        };
        if (!(opt_.learning_rate > Scalar(0)) || !std::isfinite(opt_.learning_rate))
            bad("learning_rate", opt_.learning_rate, "expected a finite value > 0");
        if (!(opt_.beta1 >= Scalar(0) && opt_.beta1 < Scalar(1))) bad("beta1", opt_.beta1, "expected 0 <= beta1 < 1");
        if (!(opt_.beta2 >= Scalar(0) && opt_.beta2 < Scalar(1))) bad("beta2", opt_.beta2, "expected 0 <= beta2 < 1");
        if (!(opt_.eps > Scalar(0))) bad("eps", opt_.eps, "expected eps > 0");
        if (!(opt_.weight_decay >= Scalar(0)) || !std::isfinite(opt_.weight_decay))
            bad("weight_decay", opt_.weight_decay, "expected a finite value >= 0");
    }
    AdamWOptions<Scalar> opt_;
    std::vector<Array> m_, v_;
    std::size_t t_ = 0;
};

template <class Scalar>
void AdamW<Scalar>::update(std::size_t i, ParamView<Scalar>& p, Scalar c1, Scalar c2) {
    if (i == m_.size()) m_.push_back(Array::Zero(p.value.size())), v_.push_back(Array::Zero(p.value.size()));
    if (m_[i].size() != p.value.size())
        throw std::invalid_argument("AdamW::step: parameter " + std::to_string(i) + " (" + p.name + ") has " +
                                    std::to_string(p.value.size()) + " elements, expected " +
                                    std::to_string(m_[i].size()) + ". Hint: use one optimiser per model");
    const Scalar lr = opt_.learning_rate;
    // element by element, so a large parameter is updated in slices on the threads of set_threads
    detail::parallel_for(p.value.size(), 1 << 14, [&](long b, long e) {
        auto value = p.value.segment(b, e - b);
        const auto grad = p.grad.segment(b, e - b);
        auto m = m_[i].segment(b, e - b), v = v_[i].segment(b, e - b);
        if (opt_.weight_decay > Scalar(0)) value *= Scalar(1) - lr * opt_.weight_decay;  // p ← p − η λ p
        m = opt_.beta1 * m + (Scalar(1) - opt_.beta1) * grad;           // m ← β₁ m + (1 − β₁) g
        v = opt_.beta2 * v + (Scalar(1) - opt_.beta2) * grad.square();  // v ← β₂ v + (1 − β₂) g²
        value -= lr * (m / c1) / ((v / c2).sqrt() + opt_.eps);          // p ← p − η m̂ / (√v̂ + ε)
    });
}

}  // namespace neuronka

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_ADAMW(prefix, Scalar) \
    prefix template void neuronka::AdamW<Scalar>::update(std::size_t, neuronka::ParamView<Scalar>&, Scalar, Scalar);
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_ADAMW(extern, float)
NEURONKA_DETAIL_INSTANTIATE_ADAMW(extern, double)
#endif
