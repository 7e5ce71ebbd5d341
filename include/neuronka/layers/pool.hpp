/// @file
/// @brief MaxPool2D and AvgPool2D: pooling over windows of each channel of images stored one per column.
///
/// Image layout as in conv2d.hpp: (C·Y·X) × B, channel-major. The window is Window × Window, moved
/// by Stride; OY = (Y − Window) / Stride + 1 (rounded down, as PyTorch does, no padding), Y × X the
/// input image (Height × Width), OY × OX the output.
#pragma once

#include "../core/layer.hpp"

#include <vector>

namespace neuronka {

namespace detail {
/// What the two pooling layers share: sizes, the parameter-free members and the walk over windows.
template <class Scalar, int Channels, int Height, int Width, int Window, int Stride>
struct PoolShape {
    static_assert(std::is_floating_point_v<Scalar>, "pooling: Scalar must be float or double");
    static_assert(Channels > 0 && Window > 0 && Stride > 0, "pooling: Channels, Window and Stride must be positive");
    static_assert(Window <= Height && Window <= Width, "pooling: the window is larger than the image");

    using scalar_type = Scalar;
    static constexpr int out_height = (Height - Window) / Stride + 1;  ///< OY
    static constexpr int out_width = (Width - Window) / Stride + 1;    ///< OX
    static constexpr int in_size = Channels * Height * Width;
    static constexpr int out_size = Channels * out_height * out_width;
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::size_t parameter_tensors = 0;

    explicit PoolShape(std::uint64_t = 0) {}
    void init(Rng&) {}
    void zero_grad() {}
    template <class F>
    void visit_parameters(F&&) {}

    static std::string sizes() {
        return layer_name({"<C=", Channels, ",H=", Height, ",W=", Width, ",Window=", Window, ",S=", Stride, ">"});
    }

    /// Calls f(out_index, first_in_index) for every output of one image; the window's pixels are
    /// first_in_index + i·W + j for i, j < Window.
    template <class F>
    static void for_each_window(F&& f) {
        for (int c = 0; c < Channels; ++c)
            for (int oh = 0; oh < out_height; ++oh)
                for (int ow = 0; ow < out_width; ++ow)
                    f((c * out_height + oh) * out_width + ow, (c * Height + oh * Stride) * Width + ow * Stride);
    }
};
}  // namespace detail

/// y[c, oy, ox] = max over the window of x[c, ·, ·]; the gradient goes to the (first) maximum.
template <class Scalar, int Channels, int Height, int Width, int Window, int Stride = Window>
struct MaxPool2D : detail::PoolShape<Scalar, Channels, Height, Width, Window, Stride> {
    using Shape = detail::PoolShape<Scalar, Channels, Height, Width, Window, Stride>;  ///< sizes shared by the pools
    using Shape::in_size, Shape::out_size;
    using Shape::Shape;

    /// Per image: y, dx and the index of each maximum. No multiply-adds.
    static constexpr Cost cost(int = 1) {
        return {0, 0, 0, double(out_size + in_size) * sizeof(Scalar) + double(out_size) * sizeof(int)};
    }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"MaxPool2D", Shape::sizes()}); }

    /// x: (C·Y·X) × B  →  y: (C·OY·OX) × B
    template <class Derived>
    const Batch<Scalar, out_size>& forward(const Eigen::MatrixBase<Derived>& x) {
        return pool(x, y_, &argmax_, "forward");
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, out_size> y;  ///< the output, as forward computes it: (C·OY·OX) × B
    };
    /// x: (C·Y·X) × B  →  y: (C·OY·OX) × B in `ws`; safe to call from many threads at once.
    template <class Derived>
    const Batch<Scalar, out_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return pool(x, ws.y, nullptr, "predict");
    }

    /// x: (C·Y·X) × B (given to forward), dy: (C·OY·OX) × B  →  dx: (C·Y·X) × B
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, in_size>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                           const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, in_size, dy, out_size, y_.cols());
        dx_.setZero(in_size, x.cols());
        for (Eigen::Index n = 0; n < x.cols(); ++n)
            for (int o = 0; o < out_size; ++o) dx_(argmax_[std::size_t(n * out_size + o)], n) += dy(o, n);
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, out_size>& output() const { return y_; }
    /// Bytes of the buffers that grow with the batch, as they are now (see Conv2D::buffer_bytes).
    std::size_t buffer_bytes() const {
        return sizeof(Scalar) * std::size_t(y_.size() + dx_.size()) + sizeof(int) * argmax_.size();
    }

private:
    /// y = the window maxima of x; their rows in `argmax` when given (for backward).
    template <class Derived>
    static const Batch<Scalar, out_size>& pool(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, out_size>& y,
                                               std::vector<int>* argmax, const char* method) {
        check_input({&name, method}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);  // an expression is evaluated once
        const Eigen::Index B = xr.cols();
        y.resize(out_size, B);
        if (argmax) argmax->resize(std::size_t(out_size) * std::size_t(B));
        for (Eigen::Index n = 0; n < B; ++n) {
            int* arg = argmax ? argmax->data() + n * out_size : nullptr;
            Shape::for_each_window([&](int o, int first) {
                int best = first;
                for (int i = 0; i < Window; ++i)
                    for (int j = 0; j < Window; ++j)
                        if (xr(first + i * Width + j, n) > xr(best, n)) best = first + i * Width + j;
                if (arg) arg[o] = best;
                y(o, n) = xr(best, n);
            });
        }
        return y;
    }

    Batch<Scalar, out_size> y_;  // (C·OY·OX) × B
    Batch<Scalar, in_size> dx_;  // (C·Y·X) × B
    std::vector<int> argmax_;    // per output of each image, the row of x that holds the maximum
};

/// y[c, oy, ox] = the mean over the window of x[c, ·, ·]; each pixel gets dy / Window².
template <class Scalar, int Channels, int Height, int Width, int Window, int Stride = Window>
struct AvgPool2D : detail::PoolShape<Scalar, Channels, Height, Width, Window, Stride> {
    using Shape = detail::PoolShape<Scalar, Channels, Height, Width, Window, Stride>;  ///< sizes shared by the pools
    using Shape::in_size, Shape::out_size;
    using Shape::Shape;

    /// Per image: y and dx. No multiply-adds.
    static constexpr Cost cost(int = 1) { return {0, 0, 0, double(out_size + in_size) * sizeof(Scalar)}; }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"AvgPool2D", Shape::sizes()}); }

    /// x: (C·Y·X) × B  →  y: (C·OY·OX) × B
    template <class Derived>
    const Batch<Scalar, out_size>& forward(const Eigen::MatrixBase<Derived>& x) {
        return pool(x, y_, "forward");
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, out_size> y;  ///< the output, as forward computes it: (C·OY·OX) × B
    };
    /// x: (C·Y·X) × B  →  y: (C·OY·OX) × B in `ws`; safe to call from many threads at once.
    template <class Derived>
    const Batch<Scalar, out_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return pool(x, ws.y, "predict");
    }

    /// x: (C·Y·X) × B (given to forward), dy: (C·OY·OX) × B  →  dx: (C·Y·X) × B
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, in_size>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                           const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, in_size, dy, out_size, y_.cols());
        dx_.setZero(in_size, x.cols());
        for (Eigen::Index n = 0; n < x.cols(); ++n)
            Shape::for_each_window([&](int o, int first) {
                const Scalar g = dy(o, n) * scale;
                for (int i = 0; i < Window; ++i)
                    for (int j = 0; j < Window; ++j) dx_(first + i * Width + j, n) += g;
            });
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, out_size>& output() const { return y_; }
    /// Bytes of the buffers that grow with the batch, as they are now (see Conv2D::buffer_bytes).
    std::size_t buffer_bytes() const { return sizeof(Scalar) * std::size_t(y_.size() + dx_.size()); }

private:
    static constexpr Scalar scale = Scalar(1) / Scalar(Window * Window);
    /// y = the window means of x.
    template <class Derived>
    static const Batch<Scalar, out_size>& pool(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, out_size>& y,
                                               const char* method) {
        check_input({&name, method}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);  // an expression is evaluated once
        y.resize(out_size, xr.cols());
        for (Eigen::Index n = 0; n < xr.cols(); ++n)
            Shape::for_each_window([&](int o, int first) {
                Scalar s = 0;
                for (int i = 0; i < Window; ++i)
                    for (int j = 0; j < Window; ++j) s += xr(first + i * Width + j, n);
                y(o, n) = s * scale;
            });
        return y;
    }
    Batch<Scalar, out_size> y_;  // (C·OY·OX) × B
    Batch<Scalar, in_size> dx_;  // (C·Y·X) × B
};

}  // namespace neuronka
