/// @file
/// @brief Neuron<Scalar, In, Activation>: the lecture's y = w·x + b, optionally followed by an activation.
#pragma once

#include "activation.hpp"
#include "dense.hpp"

namespace neuronka {

/**
 * @brief One neuron: y = act(w·x + b). With In = 1 and Identity it is the line y = a·x + b, whose two
 * parameters (weight a, bias b) training moves to their best values.
 *
 * It is a Dense<Scalar, In, 1> (the weighted sum) followed by an element-wise activation, and a Layer
 * like any other.
 */
template <class Scalar, int In, class Act = Identity>
struct Neuron {
    using scalar_type = Scalar;         ///< the scalar type: float or double
    static constexpr int in_size = In;  ///< In: features of one input sample (column)
    static constexpr int out_size = 1;  ///< Out: features of one output sample (column)
    static constexpr std::size_t parameter_count =
        std::size_t(In) + 1;                             ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 2;  ///< parameter tensors visit_parameters() shows: w, b

    /// Weights and bias drawn from `seed` (see init()).
    explicit Neuron(std::uint64_t seed = 0) {
        Rng rng(seed);
        init(rng);
    }

    /// FLOPs and memory for a batch of `B` samples (docs/layer-concept.md).
    static constexpr Cost cost(int = 1) {
        return Dense<Scalar, In, 1>::cost() +
               (std::is_same_v<Act, Identity> ? Cost{} : Activation<Scalar, 1, Act>::cost());
    }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"Neuron<In=", In, ",", Act::name, ">"}); }

    /// The weight of input i.
    Scalar& w(int i = 0) { return sum_.W(0, i); }
    /// The weight of input i, read only.
    Scalar w(int i = 0) const { return sum_.W(0, i); }
    /// The bias.
    Scalar& b() { return sum_.b(0); }
    /// The bias, read only.
    Scalar b() const { return sum_.b(0); }

    /// Re-initialises the parameters from `rng`.
    void init(Rng& rng) {
        sum_.init(rng, std::is_same_v<Act, ReLU> || std::is_same_v<Act, GELU> ? Init::he : Init::xavier);
    }

    /// x: In × B  →  y: 1 × B
    template <class Derived>
    const Batch<Scalar, 1>& forward(const Eigen::MatrixBase<Derived>& x) {
        if constexpr (std::is_same_v<Act, Identity>)
            return sum_.forward(x);
        else {
            const auto& z = sum_.forward(x);  // checks x where it enters
            MemberScope member;
            return act_.forward(z);
        }
    }

    /// The buffers of one caller of predict().
    struct Workspace {
        typename Dense<Scalar, In, 1>::Workspace sum;        ///< the weighted sum's buffers
        typename Activation<Scalar, 1, Act>::Workspace act;  ///< the activation's
    };
    /// x: In × B  →  y: 1 × B in `ws`, as forward; safe to call from many threads at once.
    template <class Derived>
    const Batch<Scalar, 1>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        const auto& z = sum_.predict(x, ws.sum);
        if constexpr (std::is_same_v<Act, Identity>) {
            return z;
        } else {
            MemberScope member;
            return act_.predict(z, ws.act);
        }
    }

    /// x: In × B, dy: 1 × B  →  dx: In × B; dw and db accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, In>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        return *backward(x, dy, GradientSink<Scalar>());
    }

    /// The same with a gradient sink (see GradientSink): w and b go to `grads`; dx only when
    /// `grads.input_gradient` (else nullptr).
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, In>* backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                                      GradientSink<Scalar> grads) {
        if constexpr (std::is_same_v<Act, Identity>) {
            return sum_.backward(x, dy, grads);
        } else {
            const auto& dz = act_.backward(sum_.output(), dy);  // checks dy where it enters
            MemberScope member;
            return sum_.backward(x, dz, grads);
        }
    }

    /// The output of the last forward.
    const Batch<Scalar, 1>& output() const {
        if constexpr (std::is_same_v<Act, Identity>)
            return sum_.output();
        else
            return act_.output();
    }

    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() { sum_.zero_grad(); }

    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        sum_.visit_parameters(f);  // as PyTorch's nn.Linear(In, 1): weight (the lecture's w), bias (b)
    }

private:
    Dense<Scalar, In, 1> sum_;
    Activation<Scalar, 1, Act> act_;
};

}  // namespace neuronka
