/// @file
/// @brief Conv2D: a 2-D convolution (cross-correlation, as in PyTorch) over images stored one per column.
///
/// Image layout: one image per column, flattened channel-major (c, y, x): row `c·Y·X + y·X + x` is
/// pixel (y, x) of channel c, exactly as PyTorch flattens an NCHW tensor, so a batch of B images
/// of C channels is (C·Y·X) × B and weights and activations compare one to one with PyTorch's.
/// Shapes (docs/layer-concept.md): Cin, Cout channels, Y × X the input image (Height × Width), K kernel
/// side, `stride` and `pad` the template's Stride and Padding, OY × OX the output size, Q = OY·OX
/// output positions per image, CKK = Cin·K·K values in one patch.
#pragma once

#include "../core/layer.hpp"
#include "../core/products.hpp"

namespace neuronka {

/**
 * @brief y[o, oy, ox] = b[o] + Σ_{c, ky, kx} W[o, c, ky, kx] · x[c, oy·stride − pad + ky, ox·stride − pad + kx]
 * (zero outside the image), with OY = (Y + 2·pad − K) / stride + 1 (rounded down, as PyTorch does).
 *
 * Computed as GEMMs: the patches of the images are gathered into a (Q·B) × CKK matrix (im2col),
 * multiplied by Wᵀ, and the result is scattered into channel-major columns. Forward and predict do
 * it `images_per_product` images at a time (each product then reads patches it has just written,
 * and predict keeps only that many images' patches, however large its batch); forward keeps every
 * image's patches for backward. Backward is the transpose: dW = dYᵀ · patches, and dx = col2im(dY · W).
 *
 * @tparam InChannels, OutChannels  Cin, Cout
 * @tparam Kernel  K: the kernel is K × K
 * @tparam Height, Width  the input image size (compile-time, so output sizes are known from the type)
 * @tparam Stride, Padding  stride ≥ 1 and pad ≥ 0 (zero padding on every side)
 */
template <class Scalar, int InChannels, int OutChannels, int Kernel, int Height, int Width, int Stride = 1,
          int Padding = 0>
struct Conv2D {
    static_assert(std::is_floating_point_v<Scalar>, "Conv2D: Scalar must be float or double");
    static_assert(InChannels > 0 && OutChannels > 0, "Conv2D: InChannels and OutChannels must be positive");
    static_assert(Kernel > 0 && Stride > 0 && Padding >= 0, "Conv2D: Kernel and Stride must be positive, Padding >= 0");
    static_assert(Height + 2 * Padding >= Kernel && Width + 2 * Padding >= Kernel,
                  "Conv2D: the kernel is larger than the padded image (Height + 2*Padding and Width + 2*Padding "
                  "must be at least Kernel)");
    static_assert(Padding < Kernel, "Conv2D: Padding must be smaller than Kernel (a window would see only padding)");

    using scalar_type = Scalar;  ///< the scalar type: float or double
    static constexpr int out_height = (Height + 2 * Padding - Kernel) / Stride + 1;  ///< OY
    static constexpr int out_width = (Width + 2 * Padding - Kernel) / Stride + 1;    ///< OX
    static constexpr int positions = out_height * out_width;                         ///< Q
    static constexpr int patch = InChannels * Kernel * Kernel;                       ///< CKK
    /// With set_threads, a batch's images are spread over the threads in slices of at least this
    /// many (each slice copies at least 32 K values in im2col).
    static constexpr long images_per_task = std::max<long>(1, (1L << 15) / (long(positions) * patch));
    /// Images whose patches forward and predict multiply at once: as many as fit in 2^21 values
    /// (8 MiB of floats), at least one. The same in both, so predict computes what forward does.
    static constexpr long images_per_product = std::max<long>(1, (1L << 21) / (long(positions) * patch));
    static constexpr int in_size = InChannels * Height * Width;  ///< In: features of one input sample (column)
    static constexpr int out_size = OutChannels * positions;     ///< Out: features of one output sample (column)
    static constexpr std::size_t parameter_count =
        std::size_t(OutChannels) * patch + OutChannels;  ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 2;  ///< parameter tensors visit_parameters() shows: W, b

    /// Cout × CKK: row o is filter o, column c·K·K + kh·K + kw (PyTorch's weight (Cout, Cin, K, K)).
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> W;
    Vector<Scalar, OutChannels> b;  ///< the biases, Cout

    /// Xavier-uniform filters and zero biases from `seed` (see init(); a Sequential draws them
    /// He-uniform when a ReLU or GELU follows).
    explicit Conv2D(std::uint64_t seed = 0)
        : W(OutChannels, patch), b(OutChannels), dW_(OutChannels, patch), db_(OutChannels) {
        Rng rng(seed);
        init(rng);
    }

    /// Per image: Q·Cout·CKK multiply-adds forward; dW and dx twice that backward. Kept per image:
    /// the patches and their gradient (2·Q·CKK), the GEMM result (Q·Cout, reused for dY), y and dx.
    static constexpr Cost cost(int = 1) {
        const double macs = double(positions) * OutChannels * patch;
        return {double(parameter_count), 2 * macs, 4 * macs,
                (2.0 * positions * patch + double(positions) * OutChannels + out_size + in_size) * sizeof(Scalar)};
    }

    /// The name with its sizes, as summaries and messages print it.
    static std::string name() {
        return layer_name({"Conv2D<In=", InChannels, ",Out=", OutChannels, ",K=", Kernel, ",H=", Height, ",W=", Width,
                           ",S=", Stride, ",P=", Padding, ">"});
    }

    /// Draws W with `scheme` (fan-in CKK), sets b to zero and clears the gradients.
    void init(Rng& rng, Init scheme = Init::xavier) {
        initialise(W, rng, scheme);
        b.setZero();
        zero_grad();
    }

    /// x: (Cin·Y·X) × B  →  y: (Cout·OY·OX) × B
    template <class Derived>
    const Batch<Scalar, out_size>& forward(const Eigen::MatrixBase<Derived>& x) {
        return convolve(x, patches_, gemm_out_, y_, fwd_, true, "forward");
    }

    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< a dynamic matrix
    /// The buffers of one caller of predict().
    struct Workspace {
        Matrix patches;             ///< the im2col patches of images_per_product images (or B if fewer), (Q·n) × CKK
        Matrix gemm_out;            ///< their product, (Q·n) × Cout
        Batch<Scalar, out_size> y;  ///< the output, as forward computes it: (Cout·Q) × B
        Gemm<Scalar> gemm[2];       ///< the products' workspaces: images_per_product images, and the rest
    };
    /// x: (Cin·Y·X) × B  →  y: (Cout·OY·OX) × B in `ws`, as forward computes it; reads the
    /// parameters only, so threads may predict with one layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, out_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return convolve(x, ws.patches, ws.gemm_out, ws.y, ws.gemm, false, "predict");
    }

    /// x: (Cin·Y·X) × B (given to forward), dy: (Cout·OY·OX) × B  →  dx: (Cin·Y·X) × B. dW, db accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, in_size>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                           const Eigen::MatrixBase<DerivedY>& dy) {
        return *backward(x, dy, GradientSink<Scalar>());
    }

    /// The same with a gradient sink (see GradientSink): dx only when `grads.input_gradient` (else
    /// nullptr; the first layer of a model saves that product and col2im), then dW and db go to `grads`.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, in_size>* backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                                           GradientSink<Scalar> grads) {
        check_backward({&name, "backward"}, x, in_size, dy, out_size, y_.cols());
        parallel_for(
            x.cols(), images_per_task,
            [&](long first, long last) {
                for (Eigen::Index n = first; n < last; ++n)  // dY(n·Q + q, o) = dy(o·Q + q, n), in the forward's buffer
                    for (int o = 0; o < OutChannels; ++o)
                        gemm_out_.col(o).template segment<positions>(n * positions) =
                            dy.col(n).template segment<positions>(o * positions);
            },
            1);
        if (grads.input_gradient) {  // before W can move
            dpatches_.resize(positions * x.cols(), patch);
            dx_gemm_.set(dpatches_, gemm_out_, W);  // dpatches = dY · W: (Q·B) × CKK
            dx_.setZero(in_size, x.cols());
            col2im();
        }
        if (grad_zero_) {                                        // written, not added: one pass fewer
            dW_gemm_.set(dW_, gemm_out_.transpose(), patches_);  // dW = dYᵀ · patches
            db_ = gemm_out_.colwise().sum().transpose();         // db = Σ_{n, q} dY
        } else {
            dW_gemm_.add(dW_, gemm_out_.transpose(), patches_);
            db_ += gemm_out_.colwise().sum().transpose();
        }
        grads.gradient(0, weight_tensor()), grads.gradient(1, bias_tensor());
        grad_zero_ = grads.spends();
        return grads.input_gradient ? &dx_ : nullptr;
    }

    /// The output of the last forward.
    const Batch<Scalar, out_size>& output() const { return y_; }
    /// Bytes of the buffers that grow with the batch, as they are now: after a training step at
    /// batch B, B · cost().activation_bytes (a test holds the two to each other).
    std::size_t buffer_bytes() const {
        return sizeof(Scalar) *
               std::size_t(patches_.size() + dpatches_.size() + gemm_out_.size() + y_.size() + dx_.size());
    }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() { grad_zero_ = true; }

    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        materialise_grad();
        f(weight_tensor()), f(bias_tensor());
    }

private:
    ParamView<Scalar> weight_tensor() {  // as nn.Conv2d: (OutChannels, InChannels, Kernel, Kernel)
        return parameter("weight", W, dW_, Order::by_rows, {OutChannels, InChannels, Kernel, Kernel});
    }
    ParamView<Scalar> bias_tensor() { return parameter("bias", b, db_); }  // (OutChannels)

    /// y = W ∗ x + b through im2col and a product per images_per_product images (forward and
    /// predict). With `keep` (forward) patches and gemm_out hold the whole batch, for backward; else
    /// one group of images at a time. gemm[0] multiplies the full groups, gemm[1] the last, shorter one.
    template <class Derived>
    const Batch<Scalar, out_size>& convolve(const Eigen::MatrixBase<Derived>& x, Matrix& patches, Matrix& gemm_out,
                                            Batch<Scalar, out_size>& y, Gemm<Scalar> (&gemm)[2], bool keep,
                                            const char* method) const {
        check_shape({&name, method}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);  // an expression is evaluated once
        check_entry_values({&name, method}, xr);
        const Eigen::Index B = xr.cols(), group = std::min<Eigen::Index>(B, images_per_product);
        patches.resize(positions * (keep ? B : group), patch);
        gemm_out.resize(positions * (keep ? B : group), OutChannels);
        y.resize(out_size, B);
        for (Eigen::Index n0 = 0; n0 < B; n0 += group) {
            const Eigen::Index n = std::min(group, B - n0), row0 = keep ? n0 * positions : 0;
            auto p = patches.middleRows(row0, n * positions);   // (Q·n) × CKK
            auto g = gemm_out.middleRows(row0, n * positions);  // (Q·n) × Cout
            im2col(xr.middleCols(n0, n), p);
            gemm[n == group ? 0 : 1].set(g, p, W.transpose());  // Y = patches · Wᵀ
            parallel_for(
                n, images_per_task,
                [&](long first, long last) {
                    for (Eigen::Index i = first; i < last; ++i)  // y(o·Q + q, n0 + i) = Y(i·Q + q, o) + b(o)
                        for (int o = 0; o < OutChannels; ++o)
                            y.col(n0 + i).template segment<positions>(o * positions) =
                                g.col(o).template segment<positions>(i * positions).array() + b(o);
                },
                1);
        }
        return y;
    }

    /// After zero_grad() the gradients are only marked as zero; this writes the zeros.
    void materialise_grad() {
        if (grad_zero_) dW_.setZero(), db_.setZero(), grad_zero_ = false;
    }

    /// patches(n·Q + oy·OX + ox, c·K·K + ky·K + kx) = x(c·Y·X + iy·X + ix, n), iy = oy·stride − pad + ky,
    /// ix = ox·stride − pad + kx, or 0 where (iy, ix) is padding.
    /// Images are independent: with set_threads, slices of the batch run at once (as in col2im).
    template <class X, class P>
    static void im2col(const X& x, P& patches) {
        parallel_for(
            x.cols(), images_per_task, [&](long first, long last) { im2col(x, patches, first, last); }, 1);
    }
    template <class X, class P>
    static void im2col(const X& x, P& patches, Eigen::Index first, Eigen::Index last) {
        for (int c = 0; c < InChannels; ++c)
            for (int kh = 0; kh < Kernel; ++kh)
                for (int kw = 0; kw < Kernel; ++kw) {
                    Scalar* out = patches.col((c * Kernel + kh) * Kernel + kw).data() + first * positions;
                    for (Eigen::Index n = first; n < last; ++n) {
                        const Scalar* img = x.col(n).data() + c * Height * Width;
                        for (int oh = 0; oh < out_height; ++oh, out += out_width) {
                            const int ih = oh * Stride - Padding + kh;
                            if (ih < 0 || ih >= Height) {
                                std::fill(out, out + out_width, Scalar(0));
                                continue;
                            }
                            const Scalar* row = img + ih * Width;
                            for (int ow = 0; ow < out_width; ++ow) {
                                const int iw = ow * Stride - Padding + kw;
                                out[ow] = (iw >= 0 && iw < Width) ? row[iw] : Scalar(0);
                            }
                        }
                    }
                }
    }

    /// The transpose of im2col: dx(c·Y·X + iy·X + ix, n) += dpatches(n·Q + q, c·K·K + ky·K + kx).
    void col2im() {
        parallel_for(
            dx_.cols(), images_per_task, [&](long first, long last) { col2im(first, last); }, 1);
    }
    void col2im(Eigen::Index first, Eigen::Index last) {
        for (int c = 0; c < InChannels; ++c)
            for (int kh = 0; kh < Kernel; ++kh)
                for (int kw = 0; kw < Kernel; ++kw) {
                    const Scalar* in = dpatches_.col((c * Kernel + kh) * Kernel + kw).data() + first * positions;
                    for (Eigen::Index n = first; n < last; ++n) {
                        Scalar* img = dx_.col(n).data() + c * Height * Width;
                        for (int oh = 0; oh < out_height; ++oh, in += out_width) {
                            const int ih = oh * Stride - Padding + kh;
                            if (ih < 0 || ih >= Height) continue;
                            Scalar* row = img + ih * Width;
                            for (int ow = 0; ow < out_width; ++ow) {
                                const int iw = ow * Stride - Padding + kw;
                                if (iw >= 0 && iw < Width) row[iw] += in[ow];
                            }
                        }
                    }
                }
    }

    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> dW_;  // Cout × CKK
    Vector<Scalar, OutChannels> db_;                            // Cout
    bool grad_zero_ = true;                                     // zero_grad() was called and no backward since
    Matrix patches_, dpatches_;                                 // (Q·B) × CKK
    Matrix gemm_out_;                                           // (Q·B) × Cout: Y in forward, then dY in backward
    Batch<Scalar, out_size> y_;                                 // (Cout·Q) × B
    Batch<Scalar, in_size> dx_;                                 // (Cin·Y·X) × B
    Gemm<Scalar> fwd_[2], dW_gemm_, dx_gemm_;                   // fwd_: as Workspace::gemm
};

}  // namespace neuronka
