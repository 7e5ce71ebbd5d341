/// @file
/// @brief Where a backward pass sends parameter gradients: GradientSink, and GradientTarget, the
/// interface an optimiser implements to update parameters during backward.
#pragma once

#include "tensors.hpp"

#include <cstddef>
#include <type_traits>

namespace neuronka {

/// A gradient a layer hands to its GradientSink as the computation that makes it (a weight product
/// dy xᵀ, a bias sum Σ dy): `op(into_value, alpha, add)` computes `c = alpha · (the gradient)`
/// (`c += ...` when `add`), into the parameter's value when `into_value` (an optimiser updating the
/// parameter by the product itself: α = −η), else into its gradient. A layer passes a lambda; this
/// is a non-owning reference to it.
template <class Scalar>
class ProductRef {
public:
    /// A reference to `op`, which must outlive the call it is passed to.
    template <class Op>
    requires(!std::is_same_v<std::remove_cvref_t<Op>, ProductRef> && std::is_invocable_v<Op&, bool, Scalar, bool>)
        ProductRef(Op&& op)  // implicit: from a lambda
        : op_(const_cast<void*>(static_cast<const void*>(&op))),
          call_([](void* o, bool into_value, Scalar alpha, bool add) {
              (*static_cast<std::remove_reference_t<Op>*>(o))(into_value, alpha, add);
          }) {}
    /// Computes the product into the value or the gradient, scaled by alpha, added or written.
    void operator()(bool into_value, Scalar alpha, bool add) const { call_(op_, into_value, alpha, add); }

private:
    void* op_;
    void (*call_)(void*, bool, Scalar, bool);
};

/**
 * @brief What an optimiser implements to be handed each layer's parameter gradients during backward
 * (`opt.step(model, x, dy)`), from the last layer to the first. `index` numbers the model's
 * parameters in visit_parameters order.
 */
template <class Scalar>
class GradientTarget {
public:
    /// The gradient of parameter `index` is p.grad (only when `pending`: gradients accumulated by
    /// earlier backward calls) plus the product `op` computes. Afterwards p.grad is spent.
    virtual void product(std::size_t index, ParamView<Scalar>& p, bool pending, ProductRef<Scalar> op) = 0;
    /// p.grad holds the whole gradient of parameter `index`; afterwards it is spent.
    virtual void gradient(std::size_t index, ParamView<Scalar>& p) = 0;

protected:
    ~GradientTarget() = default;
};

/**
 * @brief Where a layer's backward sends its parameter gradients, and whether its input gradient is
 * wanted. A layer with the capability has
 *
 *     const Batch<Scalar, In>* backward(const X& x, const DY& dy, GradientSink<Scalar> grads);
 *
 * which computes dx only when `grads.input_gradient` (returning it, else nullptr) and *before* any
 * parameter moves, then hands each parameter's gradient to `grads.product` (as the computation
 * that makes it, which the sink may run into the parameter itself) or `grads.gradient` (a gradient
 * the layer has computed into its buffer), numbered from 0 in its
 * visit_parameters order, and afterwards sets its gradients to read as zero when `grads.spends()`.
 * The default sink accumulates into the layer's gradient buffers (what `model.backward(x, dy)`
 * does); an optimiser's sink updates each parameter as its gradient arrives.
 */
template <class Scalar>
class GradientSink {
public:
    /// Accumulates gradients; `input_gradient`: whether the caller wants dx.
    explicit GradientSink(bool input_gradient = true) : input_gradient(input_gradient) {}
    /// Hands gradients to `target`, numbering this layer's parameters from `first`.
    GradientSink(GradientTarget<Scalar>& target, std::size_t first, bool input_gradient)
        : input_gradient(input_gradient), target_(&target), first_(first) {}

    bool input_gradient = true;  ///< the caller wants dx

    /// For a composite: the sink of a member whose parameters come after `offset` of this layer's.
    GradientSink member(std::size_t offset, bool wants_dx) const {
        GradientSink s(wants_dx);
        s.target_ = target_, s.first_ = first_ + offset;
        return s;
    }

    /// True when the gradients are spent (an optimiser took them): the layer's gradients then read as zero.
    bool spends() const { return target_ != nullptr; }

    /// The gradient of parameter `i` of this layer is p.grad (when `pending`) + the product `op` computes.
    void product(std::size_t i, ParamView<Scalar> p, bool pending, ProductRef<Scalar> op) const {
        if (target_)
            target_->product(first_ + i, p, pending, op);
        else
            op(false, Scalar(1), pending);  // grad (+)= the product
    }
    /// p.grad holds the gradient of parameter `i` of this layer.
    void gradient(std::size_t i, ParamView<Scalar> p) const {
        if (target_) target_->gradient(first_ + i, p);
    }

private:
    GradientTarget<Scalar>* target_ = nullptr;
    std::size_t first_ = 0;
};

}  // namespace neuronka
