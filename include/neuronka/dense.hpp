/// @file dense.hpp
/// @brief Dense<T, In, Out>: a fully connected layer, y = W x + b.
#pragma once

#include "detail/gemm.hpp"
#include "layer.hpp"

namespace neuronka {

/**
 * @brief Fully connected layer: y = W x + b for every column x of the batch.
 *
 * Sizes are template parameters, so a Sequential checks them at compile time and counts
 * parameters as a constant. W is stored fixed-size when small and on the heap when large.
 *
 * @tparam T   scalar type (float or double)
 * @tparam In  input features (> 0)
 * @tparam Out output features (> 0)
 */
template <class T, int In, int Out>
struct Dense {
    static_assert(In > 0 && Out > 0, "Dense<T, In, Out>: In and Out must both be positive (a layer with no inputs "
                                     "or no outputs has nothing to compute)");
    static_assert(std::is_floating_point_v<T>, "Dense<T, In, Out>: T must be float or double");

    using scalar_type = T;
    static constexpr int in_size = In;
    static constexpr int out_size = Out;
    static constexpr std::size_t parameter_count = std::size_t(In) * Out + Out;

    detail::Storage<T, Out, In> W, dW;  // Out × In
    Vector<T, Out> b, db;                // Out

    explicit Dense(std::uint64_t seed = 0) : W(Out, In), dW(Out, In) {
        Rng rng(seed);
        init(rng);
    }

    /// y and dx per sample; forward y = W x: In·Out multiply-adds; backward dW and dx: twice that.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), 2.0 * In * Out, 4.0 * In * Out, double(In + Out) * sizeof(T)};
    }

    static std::string name() { return "Dense<In=" + std::to_string(In) + ",Out=" + std::to_string(Out) + ">"; }

    /// Draws W with `scheme`, sets b to zero and clears the gradients.
    void init(Rng& rng, Init scheme = Init::xavier) {
        initialise(W, rng, scheme);
        b.setZero();
        zero_grad();
    }

    /// x: In × B  →  y: Out × B
    template <class Derived>
    const Batch<T, Out>& forward(const Eigen::MatrixBase<Derived>& x) {
        static_assert(Derived::RowsAtCompileTime == Eigen::Dynamic || Derived::RowsAtCompileTime == In,
                      "Dense::forward: the input's compile-time row count differs from In");
        detail::check_input({&name, "forward"}, x, In);
        const Eigen::Ref<const Batch<T, In>> xr(x);
        y_.resize(Out, xr.cols());
        fwd_.template product<false, false>(y_, W, xr, false);  // y = W x
        y_.colwise() += b;                                      // y += b
        return y_;
    }

    /// x: In × B (the batch given to forward), dy: Out × B  →  dx: In × B.  dW, db accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<T, In>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        backward_parameters(x, dy);                                  // dW += dy xᵀ, db += Σ dy
        const Eigen::Ref<const Batch<T, Out>> dyr(dy);
        dx_.resize(In, x.cols());
        dx_gemm_.template product<true, false>(dx_, W, dyr, false);  // dx  = Wᵀ dy
        return dx_;
    }

    /// Like backward, but skips dx: for the first layer of a model, whose input needs no gradient.
    template <class DerivedX, class DerivedY>
    void backward_parameters(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        detail::check_input({&name, "backward"}, x, In);
        detail::check_grad({&name, "backward"}, x, dy, Out);
        const Eigen::Ref<const Batch<T, In>> xr(x);
        const Eigen::Ref<const Batch<T, Out>> dyr(dy);
        dW_gemm_.template product<false, true>(dW, dyr, xr, true);  // dW += dy xᵀ
        db += dyr.rowwise().sum();                                  // db += Σ_columns dy
    }

    const Batch<T, Out>& output() const { return y_; }

    void zero_grad() {
        dW.setZero();
        db.setZero();
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(detail::view("W", W, dW));
        f(detail::view("b", b, db));
    }

private:
    Batch<T, Out> y_;  // Out × B
    Batch<T, In> dx_;  // In × B
    static constexpr bool small = In * Out <= 256;  // W fits in registers/L1: unrolled products
    detail::Gemm<T, small> fwd_, dW_gemm_, dx_gemm_;
};

}  // namespace neuronka
