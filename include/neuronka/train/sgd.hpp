/// @file
/// @brief Stochastic gradient descent with momentum (classic or Nesterov) and decoupled weight decay.
#pragma once

#include "../core/layer.hpp"

#include <cmath>
#include <vector>

namespace neuronka {

/// Hyper-parameters of SGD.
template <class Scalar>
struct SGDOptions {
    Scalar learning_rate = Scalar(0.01);  ///< η > 0
    Scalar momentum = Scalar(0);          ///< μ in [0, 1)
    bool nesterov = false;                ///< Nesterov momentum (needs μ > 0)
    Scalar weight_decay = Scalar(0);      ///< λ ≥ 0, decoupled: applied to the parameter, not the gradient
};

/**
 * @brief SGD. For every parameter p with gradient g, at each step:
 *
 *     p ← p − η λ p                      (decoupled weight decay, when λ > 0)
 *     v ← μ v + g                        (velocity, when μ > 0; starts at 0)
 *     p ← p − η v                        (classic momentum; plain SGD when μ = 0: p ← p − η g)
 *     p ← p − η (g + μ v)                (Nesterov momentum instead)
 *
 * The velocity of each parameter is created on the first step, in the order the model visits its
 * parameters, and is checked against that parameter's size on every later step.
 */
template <class Scalar>
class SGD {
public:
    /// An optimiser with `options`; invalid options throw, naming the option.
    explicit SGD(SGDOptions<Scalar> options = {}) : opt_(options) { validate(); }

    /// The options in use.
    const SGDOptions<Scalar>& options() const { return opt_; }
    /// Changes the learning rate (for schedules); other options stay.
    void set_learning_rate(Scalar lr) {
        opt_.learning_rate = lr;
        validate();
    }

    /// One update of every parameter of `model` from its accumulated gradients.
    template <class Model>
    void step(Model& model) {
        std::size_t index = 0;
        model.visit_parameters([&](ParamView<Scalar> p) { update(index++, p); });
        check_parameter_count(index);
        ++steps_;
    }

    /**
     * @brief One training step: backward of `model` on (x, dy), each layer's parameters updated as
     * soon as their gradients arrive (see GradientSink), from the last layer to the first, while
     * they are in cache. The same update as
     *
     *     model.backward(x, dy); step(model); model.zero_grad();
     *
     * up to rounding, without the model's input gradient; with plain SGD (no momentum) a weight
     * product updates the weights itself (W −= η dy xᵀ), so no weight gradient is formed. Gradients
     * accumulated by earlier backward calls are included; afterwards the gradients read as zero.
     * This is the call that trains: fit(), the examples and the benchmarks use it.
     */
    template <class Model, class X, class DerivedY>
    void step(Model& model, const X& x, const Eigen::MatrixBase<DerivedY>& dy) {
        if constexpr (detail::counted_parameters<Model>()) {
            prepare_velocity(model);
            Sink sink{*this};
            detail::backward(model, x, dy, GradientSink<Scalar>(sink, 0, false));
            ++steps_;
        } else {  // parameters not numbered by the type: the same update in three passes
            detail::backward(model, x, dy, GradientSink<Scalar>(false));
            step(model);
            model.zero_grad();
        }
    }

    /// Number of steps taken.
    std::size_t steps() const { return steps_; }
    /// Sets the step count (when a checkpoint is loaded).
    void set_steps(std::size_t n) { steps_ = n; }

    /// For checkpoints: the optimiser's name and its state, as groups of one array per parameter.
    static constexpr const char* kind = "SGD";
    /// Calls `f` on the group of velocity arrays.
    template <class F>
    void visit_state(F&& f) {
        f(velocity_);
    }
    /// The velocity buffers, one per parameter in visiting order (empty without momentum).
    const std::vector<Eigen::Array<Scalar, Eigen::Dynamic, 1>>& velocity() const { return velocity_; }
    /// The same, writable (checkpoints load into it).
    std::vector<Eigen::Array<Scalar, Eigen::Dynamic, 1>>& velocity() { return velocity_; }

private:
    // A fused step updates parameters from the last to the first: velocities exist beforehand.
    template <class Model>
    void prepare_velocity(Model& model) {
        if (opt_.momentum == Scalar(0)) return;
        if (velocity_.empty())
            model.visit_parameters([&](ParamView<Scalar> p) {
                velocity_.push_back(Eigen::Array<Scalar, Eigen::Dynamic, 1>::Zero(p.value.size()));
            });
        else
            check_parameter_count(Model::parameter_tensors);
    }

    // With momentum, the model must have as many parameter tensors as there are velocities (each
    // velocity's size is checked where it is used, in update).
    void check_parameter_count(std::size_t count) const {
        if (opt_.momentum > Scalar(0) && count != velocity_.size())
            throw std::invalid_argument("SGD::step: the model has " + std::to_string(count) + " parameters, expected " +
                                        std::to_string(velocity_.size()) + ". Hint: use one optimiser per model");
    }

    void validate() const {
        auto bad = [](const char* what, Scalar v, const char* hint) {
            throw std::invalid_argument(std::string("SGD: ") + what + " is " + detail::format_value(v) + ", " + hint);
        };
        if (!(opt_.learning_rate > Scalar(0)) || !std::isfinite(opt_.learning_rate))
            bad("learning_rate", opt_.learning_rate, "expected a finite value > 0");
        if (!(opt_.momentum >= Scalar(0) && opt_.momentum < Scalar(1)))
            bad("momentum", opt_.momentum, "expected 0 <= momentum < 1");
        if (!(opt_.weight_decay >= Scalar(0)) || !std::isfinite(opt_.weight_decay))
            bad("weight_decay", opt_.weight_decay, "expected a finite value >= 0");
        if (opt_.nesterov && opt_.momentum == Scalar(0))
            bad("momentum", opt_.momentum, "Nesterov momentum needs momentum > 0");
    }

    // What step(model, x, dy) hands to the layers' backward: each parameter is updated as its
    // gradient arrives; with plain SGD a weight product is computed into the weights, scaled by −η.
    struct Sink final : GradientTarget<Scalar> {
        SGD& opt;
        explicit Sink(SGD& o) : opt(o) {}
        void product(std::size_t i, ParamView<Scalar>& p, bool pending, ProductRef<Scalar> op) override {
            if (opt.opt_.momentum == Scalar(0) && !pending) {
                const Scalar lr = opt.opt_.learning_rate;
                if (opt.opt_.weight_decay > Scalar(0)) p.value *= Scalar(1) - lr * opt.opt_.weight_decay;
                op(true, -lr, true);  // p −= η · (the product)
            } else {
                op(false, Scalar(1), pending);  // g (+)= the product
                opt.update(i, p);
            }
        }
        void gradient(std::size_t i, ParamView<Scalar>& p) override { opt.update(i, p); }
    };

    // The update of parameter i: one kernel per scalar type, whatever the model (out of the class,
    // so that NEURONKA_COMPILED can declare it extern).
    void update(std::size_t i, ParamView<Scalar>& p);

    SGDOptions<Scalar> opt_;
    std::vector<Eigen::Array<Scalar, Eigen::Dynamic, 1>> velocity_;
    std::size_t steps_ = 0;
};

template <class Scalar>
void SGD<Scalar>::update(std::size_t i, ParamView<Scalar>& p) {
    const Scalar lr = opt_.learning_rate, mu = opt_.momentum;
    if (opt_.weight_decay > Scalar(0)) p.value *= Scalar(1) - lr * opt_.weight_decay;  // p ← p − η λ p
    if (mu == Scalar(0)) {
        p.value -= lr * p.grad;  // p ← p − η g
        return;
    }
    if (i == velocity_.size()) velocity_.push_back(Eigen::Array<Scalar, Eigen::Dynamic, 1>::Zero(p.value.size()));
    auto& v = velocity_[i];
    if (v.size() != p.value.size())
        throw std::invalid_argument("SGD::step: parameter " + std::to_string(i) + " (" + p.name + ") has " +
                                    std::to_string(p.value.size()) + " elements, expected " + std::to_string(v.size()) +
                                    ". Hint: use one optimiser per model");
    v = mu * v + p.grad;  // v ← μ v + g
    if (opt_.nesterov)
        p.value -= lr * (p.grad + mu * v);  // p ← p − η (g + μ v)
    else
        p.value -= lr * v;  // p ← p − η v
}

}  // namespace neuronka

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_SGD(prefix, Scalar) \
    prefix template void neuronka::SGD<Scalar>::update(std::size_t, neuronka::ParamView<Scalar>&);
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_SGD(extern, float)
NEURONKA_DETAIL_INSTANTIATE_SGD(extern, double)
#endif
