/// @file
/// @brief Dropout: inverted dropout in training mode, the identity in evaluation mode.
///
/// The probability P of dropping a value is the fraction Num / Den (a template argument of type
/// double would be neater, but Clang 14, Debian 12's, cannot take one). In a Sequential, write the
/// size-free entry `Dropout<1, 2>` (P = 0.5); it becomes `DropoutLayer<Scalar, D, 1, 2>` with the
/// scalar type and size of the layer before it.
#pragma once

#include "../core/layer.hpp"

namespace neuronka {

/**
 * @brief Training: each value is kept with probability 1 − P and scaled by 1 / (1 − P), else set to
 * zero: y = x ⊙ m, dx = dy ⊙ m, m ∈ {0, 1/(1 − P)}. Evaluation: y = x, dx = dy.
 *
 * The masks come from the layer's own generator, seeded from the model's seed by `init` (or by
 * `explicit DropoutLayer(seed)`, or `seed(s)`), one draw per value in column order: a run with
 * the same seed draws the same masks, bitwise. The generator's position is not saved in
 * checkpoints, so a resumed run draws other masks than an uninterrupted one.
 */
template <class Scalar, int D, int Num, int Den>
struct DropoutLayer {
    static_assert(D > 0, "DropoutLayer<Scalar, D, Num, Den>: D must be positive");
    static_assert(Den > 0 && Num >= 0 && Num < Den,
                  "Dropout<Num, Den>: the probability of dropping a value is Num / Den, 0 <= Num < Den");
    static constexpr double P = double(Num) / double(Den);  ///< the probability of dropping a value
    using scalar_type = Scalar;                             ///< the scalar type: float or double
    static constexpr int in_size = D;                       ///< In: features of one input sample (column)
    static constexpr int out_size = D;                      ///< Out: features of one output sample (column)
    static constexpr std::size_t parameter_count = 0;       ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = 0;     ///< parameter tensors visit_parameters() shows
    static constexpr double probability = P;                ///< the same, by name

    /// Masks drawn from `seed`.
    explicit DropoutLayer(std::uint64_t seed = 0) : rng_(seed) {}
    /// FLOPs and memory for a batch of `B` samples (docs/layer-concept.md).
    static constexpr Cost cost(int = 1) { return {0, 0, 0, 3.0 * D * sizeof(Scalar)}; }  // y, dx, the mask
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"Dropout<P=", detail::format_value(P), ",D=", D, ">"}); }
    /// Seeds the mask generator from the model's generator.
    void init(Rng& rng) { rng_ = Rng(rng.next_u64()); }
    /// Restarts the masks from `seed`.
    void seed(std::uint64_t seed) { rng_ = Rng(seed); }
    /// Training drops values; evaluation passes everything through.
    void set_mode(Mode mode) { mode_ = mode; }
    /// The current mode.
    Mode mode() const { return mode_; }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() {}
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&&) {}

    /// x: D × B  →  y: D × B
    template <class Derived>
    const Batch<Scalar, D>& forward(const Eigen::MatrixBase<Derived>& x) {
        check_input({&name, "forward"}, x, D);
        if (mode_ == Mode::evaluation) return y_ = x, y_;
        mask_.resize(D, x.cols());
        const Scalar keep = Scalar(1.0 / (1.0 - P));
        for (Eigen::Index i = 0; i < mask_.size(); ++i)  // u in [0, 1) from the top 53 bits: exact
            mask_.data()[i] = double(rng_.next_u64() >> 11) * 0x1.0p-53 < P ? Scalar(0) : keep;
        y_ = x.cwiseProduct(mask_);
        return y_;
    }

    /// The buffer of one caller of predict().
    struct Workspace {
        Batch<Scalar, D> y;  ///< the output, as forward computes it: D × B
    };
    /// x: D × B  →  y = x in `ws` (prediction is evaluation: nothing is dropped); thread-safe.
    template <class Derived>
    const Batch<Scalar, D>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        check_input({&name, "predict"}, x, D);
        return ws.y = x, ws.y;
    }

    /// x: D × B (given to forward), dy: D × B  →  dx: D × B
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, D>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, D, dy, D, y_.cols());
        if (mode_ == Mode::evaluation) return dx_ = dy, dx_;
        dx_ = dy.cwiseProduct(mask_);
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, D>& output() const { return y_; }
    /// The mask of the last forward in training mode: 0 or 1 / (1 − P) per value.
    const Batch<Scalar, D>& mask() const { return mask_; }
    /// Bytes of the buffers that grow with the batch, as they are now (see Conv2D::buffer_bytes).
    std::size_t buffer_bytes() const { return sizeof(Scalar) * std::size_t(y_.size() + dx_.size() + mask_.size()); }

private:
    Rng rng_;
    Mode mode_ = Mode::training;
    Batch<Scalar, D> y_, dx_, mask_;  // D × B
};

/// The size-free entry for a Sequential: `Sequential<Dense<float, 784, 256>, ReLU, Dropout<1, 2>, ...>`
/// drops each value with probability Num / Den.
template <int Num, int Den>
struct Dropout {
    static_assert(Den > 0 && Num >= 0 && Num < Den,
                  "Dropout<Num, Den>: the probability of dropping a value is Num / Den, 0 <= Num < Den");
};

/// In a Sequential, `Dropout<Num, Den>` takes the scalar type and size of what comes before it.
template <int Num, int Den, class Scalar, int In>
struct bind_layer<Dropout<Num, Den>, Scalar, In> {
    using type = DropoutLayer<Scalar, In, Num, Den>;  ///< the concrete layer
};

}  // namespace neuronka
