/// @file
/// @brief What RMSProp and Adagrad share: state arrays per parameter, created on the first step in
/// the model's visiting order and size-checked on every later one; `step(model)` and the fused
/// training step `step(model, x, dy)` (see SGD::step). An optimiser built on it supplies
/// `update(i, p)` and says which of its state groups it uses.
#pragma once

#include "../core/layer.hpp"
#include "../detail/parallel.hpp"

#include <array>
#include <string>
#include <vector>

namespace neuronka::detail {

/// The per-parameter bookkeeping of an element-wise optimiser `Derived` with `Groups` state groups
/// (each a vector of one array per parameter). Derived provides `static constexpr const char* kind`,
/// `bool uses(int group) const`, `Scalar initial(int group) const` and
/// `void update(std::size_t i, ParamView<Scalar>& p)` (which reads `state(group)[i]`).
template <class Derived, class Scalar, int Groups>
class PerParameterOptimizer {
public:
    using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;  ///< one parameter's state, flattened

    /// One update of every parameter of `model` from its accumulated gradients.
    template <class Model>
    void step(Model& model) {
        ++steps_;
        std::size_t i = 0;
        model.visit_parameters([&](ParamView<Scalar> p) { checked_update(i++, p); });
        check_count(i);
    }
    /// One training step: backward of `model` on (x, dy), each parameter updated as soon as its
    /// gradient arrives; the same update as `model.backward(x, dy); step(model); model.zero_grad();`
    /// without the model's input gradient.
    template <class Model, class X, class DerivedY>
    void step(Model& model, const X& x, const Eigen::MatrixBase<DerivedY>& dy) {
        if constexpr (counted_parameters<Model>()) {
            if (created_ == 0)  // state in visiting order, before the first update (which comes last-first)
                model.visit_parameters([&](ParamView<Scalar> p) { create(p); });
            else
                check_count(Model::parameter_tensors);
            ++steps_;
            Sink sink{*this};
            backward(model, x, dy, GradientSink<Scalar>(sink, 0, false));
        } else {  // parameters not numbered by the type: the same update in three passes
            backward(model, x, dy, GradientSink<Scalar>(false));
            step(model);
            model.zero_grad();
        }
    }

    /// Steps taken.
    std::size_t steps() const { return steps_; }
    /// Sets the step count (when a checkpoint is loaded).
    void set_steps(std::size_t n) { steps_ = n; }
    /// For checkpoints: calls `f` on each state group (a group the settings do not use is empty).
    template <class F>
    void visit_state(F&& f) {
        for (auto& group : state_) f(group);
        created_ = state_[0].size();
    }

protected:
    /// State group `g`: one array per parameter, in visiting order.
    std::vector<Array>& state(int g) { return state_[std::size_t(g)]; }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    void create(const ParamView<Scalar>& p) {
        for (int g = 0; g < Groups; ++g)
            if (self().uses(g)) state_[std::size_t(g)].push_back(Array::Constant(p.value.size(), self().initial(g)));
        ++created_;
    }
    void checked_update(std::size_t i, ParamView<Scalar>& p) {
        if (i == created_) create(p);
        for (int g = 0; g < Groups; ++g)
            if (state_[std::size_t(g)].size() != (self().uses(g) ? created_ : 0))
                throw std::invalid_argument(std::string(Derived::kind) + "::step: state group " + std::to_string(g) +
                                            " holds " + std::to_string(state_[std::size_t(g)].size()) +
                                            " arrays, expected " + std::to_string(self().uses(g) ? created_ : 0) +
                                            ". Hint: the checkpoint was saved with other settings (momentum, "
                                            "centred); load it with the settings it was saved with");
        for (int g = 0; g < Groups; ++g)
            if (self().uses(g) && state_[std::size_t(g)][i].size() != p.value.size())
                throw std::invalid_argument(std::string(Derived::kind) + "::step: parameter " + std::to_string(i) +
                                            " (" + p.name + ") has " + std::to_string(p.value.size()) +
                                            " elements, expected " + std::to_string(state_[std::size_t(g)][i].size()) +
                                            ". Hint: use one optimiser per model");
        self().update(i, p);
    }
    void check_count(std::size_t count) const {
        if (count != created_)
            throw std::invalid_argument(std::string(Derived::kind) + "::step: the model has " + std::to_string(count) +
                                        " parameters, expected " + std::to_string(created_) +
                                        ". Hint: use one optimiser per model");
    }
    // What step(model, x, dy) hands to the layers' backward: each parameter is updated as its gradient arrives.
    struct Sink final : GradientTarget<Scalar> {
        PerParameterOptimizer& opt;
        explicit Sink(PerParameterOptimizer& o) : opt(o) {}
        void product(std::size_t i, ParamView<Scalar>& p, bool pending, ProductRef<Scalar> op) override {
            op(false, Scalar(1), pending);  // g (+)= the product
            opt.checked_update(i, p);
        }
        void gradient(std::size_t i, ParamView<Scalar>& p) override { opt.checked_update(i, p); }
    };

    std::array<std::vector<Array>, Groups> state_;
    std::size_t created_ = 0;  // parameters with state
    std::size_t steps_ = 0;
};

}  // namespace neuronka::detail
