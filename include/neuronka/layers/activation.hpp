/// @file
/// @brief Element-wise activations: Identity, ReLU, Tanh, Sigmoid, GELU (tanh form), SiLU, and Flatten.
///
/// Each activation is a small tag with `f` (the function on an array) and `df` (its derivative
/// given input and output). In a Sequential, a tag such as `Tanh` takes the scalar type and size of
/// the layer before it; on its own, `Activation<Scalar, D, Tanh>` is a layer.
#pragma once

#include "../core/layer.hpp"
#include "../core/products.hpp"

#include <cmath>
#include <numbers>
#include <type_traits>

namespace neuronka {

namespace detail {
/// Whether an Eigen expression is stored column-major with no gaps, when it is a matrix in memory
/// (a Batch, a Map or Ref of one); such an operand can be read as one flat run of values (checked
/// at run time: a block of rows has gaps).
template <class Derived>
inline constexpr bool is_contiguous = bool(Eigen::internal::traits<Derived>::Flags& Eigen::DirectAccessBit) &&
                                      !bool(Derived::IsRowMajor) && Derived::InnerStrideAtCompileTime == 1;

/// y = Fn(x) over n values (y may be x), cut into slices for the threads of set_threads. Working on
/// flat runs of values, it is compiled once per (Fn, Scalar), whatever the layer's size. With
/// `Alignment` = Eigen::AlignedMax, x and y must start aligned as Eigen allocates (a Batch's data):
/// slices start at multiples of 16 values, so they stay aligned and need no peeled first loop.
template <class Fn, int Alignment, class Scalar>
void activation_forward(const Scalar* x, Scalar* y, Eigen::Index n) {
    using Values = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
    parallel_for(n, parallel_elements, [&](long b, long e) {
        Eigen::Map<Values, Alignment>(y + b, e - b) = Fn::f(Eigen::Map<const Values, Alignment>(x + b, e - b));
    });
}

/// dx = dy ⊙ Fn'(x, y) over n values, as activation_forward.
template <class Fn, int Alignment, class Scalar>
void activation_backward(const Scalar* x, const Scalar* y, const Scalar* dy, Scalar* dx, Eigen::Index n) {
    using Values = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
    using In = Eigen::Map<const Values, Alignment>;
    parallel_for(n, parallel_elements, [&](long b, long e) {
        Eigen::Map<Values, Alignment>(dx + b, e - b) = In(dy + b, e - b) * Fn::df(In(x + b, e - b), In(y + b, e - b));
    });
}
}  // namespace detail

/// y = x
struct Identity {
    static constexpr const char* name = "Identity";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        return x;
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X& x, const Y&) {
        return x.unaryExpr([](typename X::Scalar) { return typename X::Scalar(1); });
    }
};

/// y = x, written where a PyTorch model has nn.Flatten: a neuronka sample is already one flat column
/// (an image channel-major, as PyTorch flattens (C, H, W)), so it changes nothing but keeps a
/// Sequential's indices, and so its tensor names, equal to the nn.Sequential's (docs/interop.md).
struct Flatten {
    static constexpr const char* name = "Flatten";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        return x;
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X& x, const Y& y) {
        return Identity::df(x, y);
    }
};

/// y = max(x, 0); dy/dx = 1 where x > 0, else 0
struct ReLU {
    static constexpr const char* name = "ReLU";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        return x.max(0);
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X& x, const Y&) {
        using Scalar = typename X::Scalar;
        return (x > Scalar(0)).template cast<Scalar>();
    }
};

/// y = tanh(x); dy/dx = 1 - y²
struct Tanh {
    static constexpr const char* name = "Tanh";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        return x.tanh();
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X&, const Y& y) {
        return 1 - y.square();
    }
};

/// y = 1 / (1 + e^(-x)); dy/dx = y (1 - y)
struct Sigmoid {
    static constexpr const char* name = "Sigmoid";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        return x.logistic();
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X&, const Y& y) {
        return y * (1 - y);
    }
};

/// y = ½ x (1 + tanh(u)), u = √(2/π) (x + 0.044715 x³)
/// dy/dx = ½ (1 + tanh u) + ½ x (1 - tanh² u) √(2/π) (1 + 3 · 0.044715 x²)
struct GELU {
    static constexpr const char* name = "GELU";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        using Scalar = typename X::Scalar;
        const Scalar c = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), k = Scalar(0.044715);
        return Scalar(0.5) * x * (1 + (c * (x + k * x.cube())).tanh());
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X& x, const Y&) {
        using Scalar = typename X::Scalar;
        const Scalar c = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), k = Scalar(0.044715);
        const auto t = (c * (x + k * x.cube())).tanh();
        return Scalar(0.5) * (1 + t) + Scalar(0.5) * x * (1 - t.square()) * c * (1 + 3 * k * x.square());
    }
};

/// y = x σ(x) (SiLU, or swish; PyTorch's nn.SiLU); dy/dx = σ(x) (1 + x (1 − σ(x)))
struct SiLU {
    static constexpr const char* name = "SiLU";  ///< the name shown in summaries and messages
    /// The activation: y = f(x), element by element.
    template <class X>
    static auto f(const X& x) {
        return x * x.logistic();
    }
    /// Its derivative dy/dx, from x and y = f(x).
    template <class X, class Y>
    static auto df(const X& x, const Y&) {
        const auto s = x.logistic();
        return s * (1 + x * (1 - s));
    }
};

/// An element-wise activation as a layer on D features: y = Fn(x), dx = dy ⊙ Fn'(x).
template <class Scalar, int D, class Fn>
struct Activation {
    static_assert(D > 0, "Activation<Scalar, D, Fn>: D must be positive");
    using scalar_type = Scalar;                          ///< the scalar type: float or double
    static constexpr int in_size = D;                    ///< In: features of one input sample (column)
    static constexpr int out_size = D;                   ///< Out: features of one output sample (column)
    static constexpr std::size_t parameter_count = 0;    ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 0;  ///< parameter tensors visit_parameters() shows

    /// No parameters: the seed is accepted as every layer's constructor takes one.
    explicit Activation(std::uint64_t = 0) {}
    /// FLOPs and memory for a batch of `B` samples (docs/layer-concept.md).
    static constexpr Cost cost(int = 1) { return {0, 0, 0, 2.0 * D * sizeof(Scalar)}; }  // y and dx
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({Fn::name, "<N=", D, ">"}); }
    /// No parameters: nothing to initialise.
    void init(Rng&) {}
    /// No parameters: no gradients.
    void zero_grad() {}
    /// No parameters: `f` is never called.
    template <class F>
    void visit_parameters(F&&) {}

    /// x: D × B  →  y: D × B
    template <class Derived>
    const Batch<Scalar, D>& forward(const Eigen::MatrixBase<Derived>& x) {
        return apply(x, y_, "forward");
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, D> y;  ///< the output, as forward computes it: D × B
    };
    /// x: D × B  →  y: D × B in `ws`; safe to call from many threads at once (see Dense::predict).
    template <class Derived>
    const Batch<Scalar, D>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return apply(x, ws.y, "predict");
    }

    /// x: D × B, dy: D × B  →  dx: D × B
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, D>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, D, dy, D, y_.cols());
        detail::ensure_size(dx_, D, x.cols());
        if constexpr (std::is_same_v<DerivedX, Batch<Scalar, D>> && std::is_same_v<DerivedY, Batch<Scalar, D>>) {
            // D × B in Eigen's own aligned storage: one flat run of D·B values
            detail::activation_backward<Fn, Eigen::AlignedMax>(x.derived().data(), y_.data(), dy.derived().data(),
                                                               dx_.data(), x.size());
        } else if constexpr (detail::is_contiguous<DerivedX> && detail::is_contiguous<DerivedY>) {
            const Eigen::Index sx = x.outerStride(), sdy = dy.outerStride();
            if (sx == D && sdy == D) {  // D × B without gaps: one flat run of D·B values
                detail::activation_backward<Fn, Eigen::Unaligned>(x.derived().data(), y_.data(), dy.derived().data(),
                                                                  dx_.data(), x.size());
            } else {  // blocks of taller matrices: column by column
                for (Eigen::Index j = 0; j < x.cols(); ++j)
                    detail::activation_backward<Fn, Eigen::Unaligned>(x.derived().data() + j * sx, y_.data() + j * D,
                                                                      dy.derived().data() + j * sdy, dx_.data() + j * D,
                                                                      D);
            }
        } else {  // an expression: evaluated by Eigen, on this thread
            dx_.array() = dy.array() * Fn::df(x.array(), y_.array());
        }
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, D>& output() const { return y_; }

private:
    template <class Derived>
    static const Batch<Scalar, D>& apply(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, D>& y, const char* method) {
        check_input({&name, method}, x, D);
        detail::ensure_size(y, D, x.cols());
        if constexpr (std::is_same_v<Derived, Batch<Scalar, D>>) {  // Eigen's own aligned storage, no gaps
            detail::activation_forward<Fn, Eigen::AlignedMax>(x.derived().data(), y.data(), x.size());
        } else if constexpr (detail::is_contiguous<Derived>) {
            const Eigen::Index sx = x.outerStride();
            if (sx == D) {  // D × B without gaps: one flat run of D·B values
                detail::activation_forward<Fn, Eigen::Unaligned>(x.derived().data(), y.data(), x.size());
            } else {  // a block of a taller matrix: column by column
                for (Eigen::Index j = 0; j < x.cols(); ++j)
                    detail::activation_forward<Fn, Eigen::Unaligned>(x.derived().data() + j * sx, y.data() + j * D, D);
            }
        } else {  // an expression: evaluate it into y, then apply Fn there
            y = x;
            detail::activation_forward<Fn, Eigen::AlignedMax>(y.data(), y.data(), y.size());
        }
        return y;
    }
    Batch<Scalar, D> y_, dx_;  // D × B
};

/// In a Sequential, an activation tag takes the scalar type and size of what comes before it.
template <class Fn, class Scalar, int In>
requires requires {
    Fn::name;
    Fn::f(Eigen::Array<Scalar, 1, 1>{});
}
struct bind_layer<Fn, Scalar, In> {
    using type = Activation<Scalar, In, Fn>;  ///< the concrete layer
};

}  // namespace neuronka
