/// @file
/// @brief Dense<Scalar, In, Out, Bias = true>: a fully connected layer, y = W x + b (y = W x without
/// the bias).
#pragma once

#include "../core/layer.hpp"
#include "../core/products.hpp"

namespace neuronka {

/**
 * @brief Fully connected layer: y = W x + b for every column x of the batch.
 *
 * Sizes are template parameters, so a Sequential checks them at compile time and counts
 * parameters as a constant. W is stored fixed-size when small and on the heap when large.
 *
 * @tparam Scalar   scalar type (float or double)
 * @tparam In  input features (> 0)
 * @tparam Out output features (> 0)
 * @tparam Bias  false: no bias, y = W x (nn.Linear(bias=False)); `b` is then an empty vector
 */
template <class Scalar, int In, int Out, bool Bias = true>
struct Dense {
    static_assert(In > 0 && Out > 0,
                  "Dense<Scalar, In, Out>: In and Out must both be positive (a layer with no inputs "
                  "or no outputs has nothing to compute)");
    static_assert(std::is_floating_point_v<Scalar>, "Dense<Scalar, In, Out>: Scalar must be float or double");

    using scalar_type = Scalar;             ///< the scalar type: float or double
    static constexpr int in_size = In;      ///< In: features of one input sample (column)
    static constexpr int out_size = Out;    ///< Out: features of one output sample (column)
    static constexpr bool has_bias = Bias;  ///< whether y = W x + b (else y = W x)
    static constexpr std::size_t parameter_count =
        std::size_t(In) * Out + (Bias ? Out : 0);                   ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors = Bias ? 2 : 1;  ///< tensors visit_parameters() shows: W (and b)
    static constexpr bool small =
        In * Out <= detail::fixed_storage_entries;  ///< W fits in registers or L1 (In·Out ≤ 256): fixed-size, unrolled
                                                    ///< products, no blocked-GEMM workspace

    /// The weights' type: fixed-size for a small layer (unrolled products), else dynamic.
    using Weights = Storage<Scalar, Out, In>;
    /// The biases' type: fixed-size for a small layer, else dynamic (without a bias: empty).
    using Biases = std::conditional_t<small && Bias, Eigen::Matrix<Scalar, Out, 1>, Vector<Scalar, Out>>;

    Weights W;  ///< the weights, Out × In
    Biases b;   ///< the biases, Out (empty without a bias)

    /// Xavier-uniform weights and zero biases from `seed` (see init(); a Sequential draws them
    /// He-uniform when a ReLU or GELU follows). A large layer's gradients are allocated by its first
    /// backward (or visit_parameters): a model that only predicts holds its weights once.
    explicit Dense(std::uint64_t seed = 0) : W(Out, In), b(Bias ? Out : 0) {
        Rng rng(seed);
        init(rng);
    }

    /// y and dx per sample; forward y = W x: In·Out multiply-adds; backward dW and dx: twice that.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), 2.0 * In * Out, 4.0 * In * Out, double(In + Out) * sizeof(Scalar)};
    }

    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"Dense<In=", In, ",Out=", Out, Bias ? "" : ",NoBias", ">"}); }

    /// Draws W with `scheme`, sets b to zero and clears the gradients.
    void init(Rng& rng, Init scheme = Init::xavier) {
        initialise(W, rng, scheme);
        b.setZero();
        zero_grad();
    }

    /// x: In × B  →  y: Out × B
    template <class Derived>
    const Batch<Scalar, Out>& forward(const Eigen::MatrixBase<Derived>& x) {
        return affine(x, y_, fwd_, x_copy_, "forward");
    }

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, Out> y;      ///< the output, as forward computes it: Out × B
        Gemm<Scalar, small> gemm;  ///< the product's workspace
        Batch<Scalar, In> x;       ///< a small layer's copy of a strided input (see with_packed())
    };
    /// x: In × B  →  y: Out × B in `ws`, as forward computes it. Reads the parameters only, so any
    /// number of threads may predict with one layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, Out>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        return affine(x, ws.y, ws.gemm, ws.x, "predict");
    }

    /// x: In × B (the batch given to forward), dy: Out × B  →  dx: In × B.  dW, db accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, In>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        return *backward(x, dy, GradientSink<Scalar>());
    }

    /// The same with a gradient sink (see GradientSink): dx = Wᵀ dy only when `grads.input_gradient`
    /// (else nullptr), computed before W can move; then dW = dy xᵀ and db = Σ dy go to `grads` as
    /// products, which it accumulates or, for `opt.step(model, x, dy)`, turns into updates of W and
    /// b: plain SGD computes them into W and b (W −= η dy xᵀ), so that no gradient is formed.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, In>* backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                                      GradientSink<Scalar> grads) {
        return checked_backward(x, dy, [&](const auto& xr, const auto& dyr) -> const Batch<Scalar, In>* {
            check_entry_values({&name, "backward"}, dyr, "output gradient");
            if (dW_.size() == 0) dW_.resize(Out, In), db_.resize(Bias ? Out : 0);  // the first backward: written below
            if (grads.input_gradient) {
                detail::ensure_size(dx_, In, xr.cols());
                dx_gemm_.set(dx_, W.transpose(), dyr);  // dx = Wᵀ dy
            }
            const bool pending = !grad_zero_;  // else dW, db are written, not added: one pass fewer
            grads.product(0, weight_tensor(), pending, [&](bool into_value, Scalar alpha, bool add) {
                dW_gemm_.outer(into_value ? W : dW_, dyr, xr, alpha, add);  // (+)= α dy xᵀ
            });
            if constexpr (Bias)
                grads.product(1, bias_tensor(), pending, [&](bool into_value, Scalar alpha, bool add) {
                    Biases& c = into_value ? b : db_;
                    const auto sum = detail::fixed_rows<rows<Out>>(dyr).rowwise().sum();  // Σ_columns dy
                    add ? void(c.noalias() += alpha * sum) : void(c.noalias() = alpha * sum);
                });
            grad_zero_ = grads.spends();
            return grads.input_gradient ? &dx_ : nullptr;
        });
    }

    /// The output of the last forward.
    const Batch<Scalar, Out>& output() const { return y_; }

    /// The accumulated gradients d(loss)/dW (Out × In) and d(loss)/db (Out).
    const Weights& dW() { return materialise_grad(), dW_; }
    /// The same for db.
    const Biases& db() { return materialise_grad(), db_; }

    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() { grad_zero_ = true; }

    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        if (!detail::reading_values()) materialise_grad();  // state_tensors() reads the values only
        f(weight_tensor());
        if constexpr (Bias) f(bias_tensor());
    }

private:
    ParamView<Scalar> weight_tensor() { return parameter("weight", W, dW_, Order::by_rows); }  // nn.Linear's (Out, In)
    ParamView<Scalar> bias_tensor() { return parameter("bias", b, db_); }                      // (Out)

    /// R for a small layer (its batches are seen with R rows in the bias sums), else Eigen::Dynamic.
    template <int R>
    static constexpr int rows = small ? R : Eigen::Dynamic;

    /// y = W x + b (forward and predict).
    template <class Derived>
    const Batch<Scalar, Out>& affine(const Eigen::MatrixBase<Derived>& x, Batch<Scalar, Out>& y,
                                     Gemm<Scalar, small>& gemm, Batch<Scalar, In>& x_copy, const char* method) const {
        static_assert(Derived::RowsAtCompileTime == Eigen::Dynamic || Derived::RowsAtCompileTime == In,
                      "Dense::forward: the input's compile-time row count differs from In");
        check_shape({&name, method}, x, In);
        return with_packed(x, x_copy, [&](const auto& xr) -> const Batch<Scalar, Out>& {
            check_entry_values({&name, method}, xr);
            detail::ensure_size(y, Out, xr.cols());
            gemm.set(y, W, xr);                                                   // y = W x
            if constexpr (Bias) detail::fixed_rows<rows<Out>>(y).colwise() += b;  // y += b
            return y;
        });
    }

    /// The preamble every backward shares: x and dy checked against the layer, each evaluated once
    /// (an expression is not recomputed), then handed to `body` as In × B and Out × B matrices.
    template <class DerivedX, class DerivedY, class Body>
    decltype(auto) checked_backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                                    Body&& body) {
        check_shape({&name, "backward"}, x, In);
        check_grad_shape({&name, "backward"}, x, dy, Out);
        return with_packed(x, x_copy_, [&](const auto& xr) -> decltype(auto) {
            return with_packed(dy, dy_copy_, [&](const auto& dyr) -> decltype(auto) { return body(xr, dyr); });
        });
    }

    /// Calls `body` with m as a matrix whose columns follow each other in memory: m itself when it
    /// is a plain batch (the common case: no view is built, which would cost stores and reloads per
    /// call), else m evaluated once into a view (an expression is not recomputed); for a small layer
    /// given a strided view (a block of a larger matrix), a packed copy in `copy`, a buffer kept: a
    /// small layer's products see their batches with fixed rows, which needs packed columns.
    template <class Derived, class Plain, class Body>
    static decltype(auto) with_packed(const Eigen::MatrixBase<Derived>& m, Plain& copy, Body&& body) {
        if constexpr (std::is_same_v<Derived, Plain>) {
            return body(m.derived());
        } else {
            const Eigen::Ref<const Plain> view(m);
            if constexpr (small) {
                if (view.outerStride() != view.rows()) {
                    copy = view;
                    return body(Eigen::Ref<const Plain>(copy));  // the same view type: one body
                }
            }
            return body(view);
        }
    }

    void materialise_grad() {
        if (grad_zero_) dW_.setZero(Out, In), db_.setZero(Bias ? Out : 0), grad_zero_ = false;
    }
    Weights dW_;                  // Out × In; a large layer's is empty until its first backward
    Biases db_;                   // Out
    bool grad_zero_ = true;       // zero_grad() was called and no backward since
    Batch<Scalar, Out> y_;        // Out × B
    Batch<Scalar, In> dx_;        // In × B
    Batch<Scalar, In> x_copy_;    // In × B: a small layer's packed copy of a strided x (with_packed())
    Batch<Scalar, Out> dy_copy_;  // Out × B: the same for dy
    Gemm<Scalar, small> fwd_, dW_gemm_, dx_gemm_;
};

}  // namespace neuronka
