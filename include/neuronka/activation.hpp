/// @file activation.hpp
/// @brief Element-wise activations: Identity, ReLU, Tanh, Sigmoid, GELU (tanh form), and Flatten.
///
/// Each activation is a small tag with `f` (the function on an array) and `df` (its derivative
/// given input and output). In a Sequential, a tag such as `Tanh` takes the scalar type and size of
/// the layer before it; on its own, `Activation<Scalar, D, Tanh>` is a layer.
#pragma once

#include "detail/thread_pool.hpp"
#include "layer.hpp"

#include <cmath>
#include <numbers>

namespace neuronka {

/// y = x
struct Identity {
    static constexpr const char* name = "Identity";
    template <class X> static auto f(const X& x) { return x; }
    template <class X, class Y> static auto df(const X& x, const Y&) {
        return x.unaryExpr([](typename X::Scalar) { return typename X::Scalar(1); });
    }
};

/// y = x, written where a PyTorch model has nn.Flatten: a neuronka sample is already one flat column
/// (an image channel-major, as PyTorch flattens (C, H, W)), so it changes nothing but keeps a
/// Sequential's indices, and so its tensor names, equal to the nn.Sequential's (docs/interop.md).
struct Flatten {
    static constexpr const char* name = "Flatten";
    template <class X> static auto f(const X& x) { return x; }
    template <class X, class Y> static auto df(const X& x, const Y& y) { return Identity::df(x, y); }
};

/// y = max(x, 0); dy/dx = 1 where x > 0, else 0
struct ReLU {
    static constexpr const char* name = "ReLU";
    template <class X> static auto f(const X& x) { return x.max(0); }
    template <class X, class Y> static auto df(const X& x, const Y&) {
        using Scalar = typename X::Scalar;
        return (x > Scalar(0)).template cast<Scalar>();
    }
};

/// y = tanh(x); dy/dx = 1 - y²
struct Tanh {
    static constexpr const char* name = "Tanh";
    template <class X> static auto f(const X& x) { return x.tanh(); }
    template <class X, class Y> static auto df(const X&, const Y& y) { return 1 - y.square(); }
};

/// y = 1 / (1 + e^(-x)); dy/dx = y (1 - y)
struct Sigmoid {
    static constexpr const char* name = "Sigmoid";
    template <class X> static auto f(const X& x) { return x.logistic(); }
    template <class X, class Y> static auto df(const X&, const Y& y) { return y * (1 - y); }
};

/// y = ½ x (1 + tanh(u)), u = √(2/π) (x + 0.044715 x³)
/// dy/dx = ½ (1 + tanh u) + ½ x (1 - tanh² u) √(2/π) (1 + 3 · 0.044715 x²)
struct GELU {
    static constexpr const char* name = "GELU";
    template <class X> static auto f(const X& x) {
        using Scalar = typename X::Scalar;
        const Scalar c = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), k = Scalar(0.044715);
        return Scalar(0.5) * x * (1 + (c * (x + k * x.cube())).tanh());
    }
    template <class X, class Y> static auto df(const X& x, const Y&) {
        using Scalar = typename X::Scalar;
        const Scalar c = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi), k = Scalar(0.044715);
        const auto t = (c * (x + k * x.cube())).tanh();
        return Scalar(0.5) * (1 + t) + Scalar(0.5) * x * (1 - t.square()) * c * (1 + 3 * k * x.square());
    }
};

/// An element-wise activation as a layer on D features: y = Fn(x), dx = dy ⊙ Fn'(x).
template <class Scalar, int D, class Fn>
struct Activation {
    static_assert(D > 0, "Activation<Scalar, D, Fn>: D must be positive");
    using scalar_type = Scalar;
    static constexpr int in_size = D;
    static constexpr int out_size = D;
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::size_t parameter_tensors = 0;

    explicit Activation(std::uint64_t = 0) {}
    static constexpr Cost cost(int = 1) { return {0, 0, 0, 2.0 * D * sizeof(Scalar)}; }  // y and dx
    static std::string name() { return std::string(Fn::name) + "<N=" + std::to_string(D) + ">"; }
    void init(Rng&) {}
    void zero_grad() {}
    template <class F> void visit_parameters(F&&) {}

    /// x: D × B  →  y: D × B
    template <class Derived>
    const Batch<Scalar, D>& forward(const Eigen::MatrixBase<Derived>& x) {
        return apply(x, y_, "forward");
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, D> y;  // D × B
    };
    /// x: D × B  →  y: D × B in `ws`; safe to call from many threads at once (see Dense::predict).
    template <class Derived>
    const Batch<Scalar, D>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return apply(x, ws.y, "predict");
    }

    /// x: D × B, dy: D × B  →  dx: D × B
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, D>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        detail::check_backward({&name, "backward"}, x, D, dy, D, y_.cols());
        dx_.resize(D, x.cols());
        detail::parallel_columns(x.cols(), D, [&](long b, long e) {
            const long n = e - b;
            dx_.middleCols(b, n).array() = dy.middleCols(b, n).array() * Fn::df(x.middleCols(b, n).array(), y_.middleCols(b, n).array());
        });
        return dx_;
    }

    const Batch<Scalar, D>& output() const { return y_; }

private:
    template <class Derived>
    static const Batch<Scalar, D>& apply(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, D>& y, const char* method) {
        detail::check_input({&name, method}, x, D);
        y.resize(D, x.cols());
        detail::parallel_columns(x.cols(), D, [&](long b, long e) {
            y.middleCols(b, e - b).array() = Fn::f(x.middleCols(b, e - b).array());
        });
        return y;
    }
    Batch<Scalar, D> y_, dx_;  // D × B
};

/// In a Sequential, an activation tag takes the scalar type and size of what comes before it.
template <class Fn, class Scalar, int In>
    requires requires { Fn::name; Fn::f(Eigen::Array<Scalar, 1, 1>{}); }
struct bind_layer<Fn, Scalar, In> {
    using type = Activation<Scalar, In, Fn>;
};

}  // namespace neuronka
