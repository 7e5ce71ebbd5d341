/// @file
/// @brief SwiGLU: the gated unit of Llama's MLP. The layer before it gives 2·H features, a gate
/// and a value; SwiGLU returns SiLU(gate) ⊙ value (H features).
#pragma once

#include "../core/layer.hpp"

#include <string>

namespace neuronka {

/**
 * @brief y = SiLU(a) ⊙ v, where a is the first and v the second half of each column of x
 * (Shazeer, "GLU variants improve Transformer"):
 *
 *     x = [a; v]  (2H × B),   s = σ(a),   y = a s ⊙ v  (H × B)
 *     dv = dy ⊙ a s,   da = dy ⊙ v ⊙ s (1 + a (1 − s))
 *
 * Llama's MLP `w2(silu(w1(x)) * w3(x))` is `Dense<D, 2H, false>` (rows [0, H) are w1, [H, 2H)
 * w3), SwiGLU, `Dense<H, D, false>` (w2). In a Sequential write the tag `SwiGLU`; it takes the
 * scalar type and the 2H of the layer before.
 *
 * @tparam Scalar float or double
 * @tparam Hidden H, the output size (the input has 2H features)
 */
template <class Scalar, int Hidden>
struct SwiGLULayer {
    static_assert(Hidden >= 1, "SwiGLULayer<Scalar, Hidden>: Hidden must be at least 1");
    using scalar_type = Scalar;                          ///< float or double
    static constexpr int in_size = 2 * Hidden;           ///< 2H: gate and value of one column
    static constexpr int out_size = Hidden;              ///< H
    static constexpr std::size_t parameter_count = 0;    ///< no parameters
    static constexpr std::size_t parameter_tensors = 0;  ///< visit_parameters() gives none

    /// No parameters: the seed is accepted as every layer's constructor takes one.
    explicit SwiGLULayer(std::uint64_t = 0) {}
    /// No products; the input and output kept for backward, and the input gradient.
    static constexpr Cost cost(int = 1) { return {0, 0, 0, 5.0 * Hidden * sizeof(Scalar)}; }
    /// The name with its size, as summaries and messages print it.
    static std::string name() { return layer_name({"SwiGLU<In=", 2 * Hidden, ",Out=", Hidden, ">"}); }
    /// No parameters: nothing to initialise.
    void init(Rng&) {}
    /// No parameters: no gradients.
    void zero_grad() {}
    /// No parameters: `f` is never called.
    template <class F>
    void visit_parameters(F&&) {}

    /// x: 2H × B  →  y: H × B
    template <class Derived>
    const Batch<Scalar, Hidden>& forward(const Eigen::MatrixBase<Derived>& x) {
        return gate(x, y_, "forward");
    }

    /// x: 2H × B (given to forward), dy: H × B  →  dx: 2H × B
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, 2 * Hidden>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                              const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, 2 * Hidden, dy, Hidden, y_.cols());
        dx_.resize(2 * Hidden, x.cols());
        const auto a = x.topRows(Hidden).array(), v = x.bottomRows(Hidden).array();
        const auto s = a.logistic();
        // forward: y = a s ⊙ v  →  dv = dy ⊙ a s,  da = dy ⊙ v ⊙ s (1 + a (1 − s))
        dx_.bottomRows(Hidden).array() = dy.array() * a * s;
        dx_.topRows(Hidden).array() = dy.array() * v * s * (1 + a * (1 - s));
        return dx_;
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, Hidden> y;  ///< the output: H × B
    };
    /// x: 2H × B  →  y: H × B in `ws`, as forward; safe from many threads at once.
    template <class Derived>
    const Batch<Scalar, Hidden>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return gate(x, ws.y, "predict");
    }
    /// The output of the last forward.
    const Batch<Scalar, Hidden>& output() const { return y_; }

private:
    template <class Derived>
    static const Batch<Scalar, Hidden>& gate(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, Hidden>& y,
                                             const char* method) {
        check_input({&name, method}, x, 2 * Hidden);
        y.resize(Hidden, x.cols());
        const auto a = x.topRows(Hidden).array();
        y.array() = a * a.logistic() * x.bottomRows(Hidden).array();  // y = SiLU(a) ⊙ v
        return y;
    }
    Batch<Scalar, Hidden> y_;       // H × B
    Batch<Scalar, 2 * Hidden> dx_;  // 2H × B
};

/// The size-free entry of a Sequential: after a layer of 2H outputs it becomes SwiGLULayer<Scalar, H>.
struct SwiGLU {};

/// In a Sequential, SwiGLU takes the scalar type and the 2H of the layer before it.
template <class Scalar, int In>
struct bind_layer<SwiGLU, Scalar, In> {
    static_assert(In % 2 == 0, "SwiGLU: the layer before must give an even number of features (gate and value)");
    using type = SwiGLULayer<Scalar, In / 2>;  ///< the concrete layer
};

}  // namespace neuronka
