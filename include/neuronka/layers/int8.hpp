/// @file
/// @brief int8 inference: Int8Dense and Int8Conv2D hold a trained Dense's or Conv2D's weights as
/// int8 with one scale per output row, and compute with int8 × int8 products summed in int32.
/// models/quantize.hpp turns a whole model into one (quantize()) and saves and loads it.
#pragma once

#include "conv2d.hpp"
#include "dense.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace neuronka {

namespace detail {
/// A weight matrix as int8 rows, each with its scale: w(r, i) ≈ scale(r) · q(r, i), q in [−127, 127]
/// (symmetric, per output row, to the nearest code). `times` quantises an input vector the same way (one scale for the
/// vector) and returns y(r) = scale(r) · sx · Σᵢ q(r, i) xq(i), the sum exact in int32.
/// `Storage`: Eigen::RowMajor (each row's codes together: Int8Dense, one long dot product per row)
/// or Eigen::ColMajor (each column's codes together: Int8Conv2D, all output channels of a patch at once).
template <class Scalar, int Storage = Eigen::RowMajor>
struct Int8Rows {
    Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Storage> q;  ///< rows × cols
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> scale;                         ///< per row

    /// q and scale from a float matrix (rows × cols).
    template <class D>
    void quantise(const Eigen::MatrixBase<D>& w) {
        q.resize(w.rows(), w.cols()), scale.resize(w.rows());
        for (Eigen::Index r = 0; r < w.rows(); ++r) {
            const Scalar m = w.row(r).cwiseAbs().maxCoeff();
            scale(r) = m > Scalar(0) ? m / Scalar(127) : Scalar(1);
            for (Eigen::Index i = 0; i < w.cols(); ++i)
                q(r, i) = std::int8_t(std::rint(std::clamp(w(r, i) / scale(r), Scalar(-127), Scalar(127))));
        }
    }
    /// y (rows values, `y_stride` apart) = the product with x (cols values); xq: cols of scratch.
    void times(const Scalar* x, Scalar* y, Eigen::Index y_stride, std::int8_t* xq) const {
        const Scalar sx = quantise_input(x, xq);
        const Eigen::Index n = q.cols();
        if constexpr (Storage == Eigen::RowMajor) {  // a dot product per row
            for (Eigen::Index r = 0; r < q.rows(); ++r) {
                const std::int8_t* w = q.row(r).data();
                std::int32_t acc = 0;
                for (Eigen::Index i = 0; i < n; ++i) acc += std::int32_t(w[i]) * std::int32_t(xq[i]);
                y[r * y_stride] = scale(r) * sx * Scalar(acc);
            }
        } else {
            times_columns<Eigen::Dynamic>(xq, sx, y, y_stride);
        }
    }
    /// The same with column storage and `Rows` rows known when compiling (Int8Conv2D: its output
    /// channels), so that the loop over the rows is vectorised whole.
    template <int Rows>
    void times(const Scalar* x, Scalar* y, Eigen::Index y_stride, std::int8_t* xq) const {
        static_assert(Storage == Eigen::ColMajor, "Int8Rows::times<Rows>: for column storage");
        times_columns<Rows>(xq, quantise_input(x, xq), y, y_stride);
    }

private:
    // Every row at once: acc += q(:, i) · xq(i), skipping zeros (ReLU outputs, padding).
    template <int Rows>
    void times_columns(const std::int8_t* xq, Scalar sx, Scalar* y, Eigen::Index y_stride) const {
        constexpr int most = 256;
        NEURONKA_ASSERT(q.rows() <= most, "Int8Rows: at most 256 rows in column storage");
        const Eigen::Index rows = Rows == Eigen::Dynamic ? q.rows() : Rows;
        alignas(64) std::int32_t acc[most];
        std::fill_n(acc, rows, 0);
        std::int32_t* __restrict a = acc;  // int8 pointers may alias anything: say they do not, to vectorise
        for (Eigen::Index i = 0; i < q.cols(); ++i) {
            const std::int32_t xi = xq[i];
            if (xi == 0) continue;
            const std::int8_t* __restrict w = q.col(i).data();
            for (Eigen::Index r = 0; r < rows; ++r) a[r] += std::int32_t(w[r]) * xi;
        }
        for (Eigen::Index r = 0; r < rows; ++r) y[r * y_stride] = scale(r) * sx * Scalar(acc[r]);
    }
    // xq = x quantised to the nearest of −127..127 steps of sx = max|x| / 127; returns sx.
    Scalar quantise_input(const Scalar* x, std::int8_t* xq) const {
        const Eigen::Index n = q.cols();
        const Scalar m = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>(x, n).abs().maxCoeff();
        const Scalar sx = m > Scalar(0) ? m / Scalar(127) : Scalar(1), inv = Scalar(1) / sx;
        for (Eigen::Index i = 0; i < n; ++i) xq[i] = std::int8_t(std::rint(x[i] * inv));  // |x·inv| ≤ 127
        return sx;
    }
};
}  // namespace detail

/**
 * @brief A Dense layer for inference with int8 weights: y = W x + b with W ≈ diag(s) Q per output
 * row, x quantised per column, Q x summed exactly in int32. Made from a trained Dense by
 * `Int8Dense(dense)` or quantize(model); a quarter of the weights' bytes. It predicts only:
 * backward throws (train the float model, quantise again).
 */
template <class Scalar, int In, int Out, bool Bias = true>
struct Int8Dense {
    using scalar_type = Scalar;                                                               ///< float or double
    static constexpr int in_size = In;                                                        ///< In
    static constexpr int out_size = Out;                                                      ///< Out
    static constexpr std::size_t parameter_count = std::size_t(In) * Out + (Bias ? Out : 0);  ///< as the Dense's
    static constexpr std::size_t parameter_tensors = 0;                                       ///< none trainable

    detail::Int8Rows<Scalar> weight;  ///< Q and the row scales, Out × In
    Vector<Scalar, Out> b;            ///< the biases, Out (empty without a bias)

    /// Zero weights (a placeholder until quantised from a Dense).
    explicit Int8Dense(std::uint64_t = 0) : b(Bias ? Out : 0) {
        weight.quantise(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(Out, In)), b.setZero();
    }
    /// The trained `dense`, quantised.
    explicit Int8Dense(const Dense<Scalar, In, Out, Bias>& dense) : b(dense.b) { weight.quantise(dense.W); }
    /// The Dense's FLOPs forward; nothing backward.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), 2.0 * In * Out, 0, double(In + Out) * sizeof(Scalar)};
    }
    /// The name with its sizes.
    static std::string name() { return layer_name({"Int8Dense<In=", In, ",Out=", Out, ">"}); }
    /// Nothing to draw: the weights come from a trained Dense.
    void init(Rng&) {}
    /// No gradients.
    void zero_grad() {}
    /// Not trainable: `f` is never called.
    template <class F>
    void visit_parameters(F&&) {}

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, Out> y;                              ///< the output, Out × B
        Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> xq;  ///< one column quantised, In
    };
    /// x: In × B  →  y: Out × B in `ws`; reads the weights only (threads may share the layer).
    template <class Derived>
    const Batch<Scalar, Out>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        check_input({&name, "predict"}, x, In);
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);
        ws.y.resize(Out, xr.cols()), ws.xq.resize(In);
        for (Eigen::Index c = 0; c < xr.cols(); ++c) {
            weight.times(xr.col(c).data(), ws.y.col(c).data(), 1, ws.xq.data());
            if constexpr (Bias) ws.y.col(c) += b;
        }
        return ws.y;
    }
    /// x: In × B  →  y: Out × B, as predict.
    template <class Derived>
    const Batch<Scalar, Out>& forward(const Eigen::MatrixBase<Derived>& x) {
        return predict(x, ws_);
    }
    /// Throws: an int8 layer is for inference.
    template <class X, class DY>
    const Batch<Scalar, In>& backward(const X&, const DY&) {
        throw std::logic_error(name() +
                               "::backward: int8 layers are for inference only. Hint: train the float "
                               "model, then quantize() it again");
    }
    /// The output of the last forward.
    const Batch<Scalar, Out>& output() const { return ws_.y; }

private:
    Workspace ws_;
};

/**
 * @brief A Conv2D for inference with int8 filters (one scale per output channel); each image
 * patch is quantised on its own and multiplied in int32, as Int8Dense does. Made from a trained
 * Conv2D; predicts only.
 */
template <class Scalar, int InChannels, int OutChannels, int Kernel, int Height, int Width, int Stride = 1,
          int Padding = 0>
struct Int8Conv2D {
    using Float = Conv2D<Scalar, InChannels, OutChannels, Kernel, Height, Width, Stride, Padding>;  ///< the float layer
    using scalar_type = Scalar;                                                                     ///< float or double
    static constexpr int in_size = Float::in_size;                                                  ///< Cin·Y·X
    static constexpr int out_size = Float::out_size;                                                ///< Cout·OY·OX
    static constexpr std::size_t parameter_count = Float::parameter_count;                          ///< as the Conv2D's
    static constexpr std::size_t parameter_tensors = 0;                                             ///< none trainable
    static constexpr int positions = Float::positions;                                              ///< Q = OY·OX
    static constexpr int patch = Float::patch;                                                      ///< CKK

    static_assert(OutChannels <= 256, "Int8Conv2D: at most 256 output channels");
    detail::Int8Rows<Scalar, Eigen::ColMajor> weight;  ///< Q and the per-filter scales, Cout × CKK
    Vector<Scalar, OutChannels> b;                     ///< the biases, Cout

    /// Zero filters (a placeholder until quantised from a Conv2D).
    explicit Int8Conv2D(std::uint64_t = 0) : b(OutChannels) {
        weight.quantise(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(OutChannels, patch)), b.setZero();
    }
    /// The trained `conv`, quantised.
    explicit Int8Conv2D(const Float& conv) : b(conv.b) { weight.quantise(conv.W); }
    /// The Conv2D's FLOPs forward; nothing backward.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), Float::cost().forward_flops, 0, double(in_size + out_size) * sizeof(Scalar)};
    }
    /// The name with its sizes.
    static std::string name() { return layer_name({"Int8", Float::name()}); }
    /// Nothing to draw.
    void init(Rng&) {}
    /// No gradients.
    void zero_grad() {}
    /// Not trainable.
    template <class F>
    void visit_parameters(F&&) {}

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, out_size> y;                              ///< (Cout·Q) × B
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> patch_values;  ///< one patch, CKK
        Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> xq;       ///< it quantised
    };
    /// x: (Cin·Y·X) × B  →  y: (Cout·OY·OX) × B in `ws`.
    template <class Derived>
    const Batch<Scalar, out_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        check_input({&name, "predict"}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);
        ws.y.resize(out_size, xr.cols()), ws.patch_values.resize(patch), ws.xq.resize(patch);
        constexpr int OY = Float::out_height, OX = Float::out_width;
        for (Eigen::Index n = 0; n < xr.cols(); ++n) {
            const Scalar* img = xr.col(n).data();
            for (int oy = 0; oy < OY; ++oy)
                for (int ox = 0; ox < OX; ++ox) {
                    Scalar* p = ws.patch_values.data();  // p(c·K·K + ky·K + kx) = the pixel under the kernel, or 0
                    const int x0 = ox * Stride - Padding;
                    for (int c = 0; c < InChannels; ++c)
                        for (int ky = 0; ky < Kernel; ++ky, p += Kernel) {
                            const int iy = oy * Stride - Padding + ky;
                            if (iy < 0 || iy >= Height) {
                                std::fill_n(p, Kernel, Scalar(0));
                                continue;
                            }
                            const Scalar* row = img + (c * Height + iy) * Width;
                            for (int kx = 0; kx < Kernel; ++kx)
                                p[kx] = (x0 + kx >= 0 && x0 + kx < Width) ? row[x0 + kx] : Scalar(0);
                        }
                    // y(o·Q + q, n) for every output channel o, Q apart
                    Scalar* y = ws.y.col(n).data() + oy * OX + ox;
                    weight.template times<OutChannels>(ws.patch_values.data(), y, positions, ws.xq.data());
                    for (int o = 0; o < OutChannels; ++o) y[o * positions] += b(o);
                }
        }
        return ws.y;
    }
    /// As predict.
    template <class Derived>
    const Batch<Scalar, out_size>& forward(const Eigen::MatrixBase<Derived>& x) {
        return predict(x, ws_);
    }
    /// Throws: an int8 layer is for inference.
    template <class X, class DY>
    const Batch<Scalar, in_size>& backward(const X&, const DY&) {
        throw std::logic_error(name() +
                               "::backward: int8 layers are for inference only. Hint: train the float "
                               "model, then quantize() it again");
    }
    /// The output of the last forward.
    const Batch<Scalar, out_size>& output() const { return ws_.y; }

private:
    Workspace ws_;
};

}  // namespace neuronka
