/// @file
/// @brief Residual<Layers...>: a skip connection, y = x + f(x), with f the layers in data-flow order.
#pragma once

#include "../detail/parallel.hpp"
#include "sequential.hpp"

namespace neuronka {

namespace detail {
/// Fails to compile when the inner layers of a Residual change the size; the template arguments in
/// the compiler's message give both sizes.
template <int size_of_x, int size_of_f_x>
struct residual_sizes {
    static_assert(size_of_x == size_of_f_x,
                  "Residual: y = x + f(x) needs f(x) to have the size of x (see size_of_x and size_of_f_x in "
                  "this message)");
    static constexpr bool ok = true;
};
}  // namespace detail

/**
 * @brief A skip connection around layers written in data-flow order:
 * `Residual<LayerNorm<float, 64>, Attention<float, 64, 4>>` is y = x + Attention(LayerNorm(x)).
 *
 *     forward:   y  = x + f(x)
 *     backward:  dx = dy + fᵀ(dy)      (both paths' gradients summed)
 *
 * f is a Sequential of the given entries (activation tags take their size as there), so a
 * Residual nests anywhere a layer does, and its inner layers may take the sequence length.
 */
template <class... Layers>
class Residual {
public:
    using Inner = Sequential<Layers...>;              ///< f, the inner layers in data-flow order
    using layers_type = typename Inner::layers_type;  ///< std::tuple of the inner concrete layers
    using scalar_type = typename Inner::scalar_type;  ///< the scalar type: float or double
    static_assert(Inner::in_size != token_ids,
                  "Residual: token ids cannot be added to an output; put the "
                  "Embedding before the Residual");
    static_assert(detail::residual_sizes<Inner::in_size, Inner::out_size>::ok);
    static constexpr int in_size = Inner::in_size;   ///< D: features of one sample (column)
    static constexpr int out_size = Inner::in_size;  ///< D again: y = x + f(x)
    static constexpr std::size_t parameter_count =
        Inner::parameter_count;  ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors =
        Inner::parameter_tensors;                            ///< parameter tensors visit_parameters() shows
    static constexpr bool can_predict = Inner::can_predict;  ///< whether predict() exists (every inner layer has it)

    /// The inner layers' parameters from `seed`.
    explicit Residual(std::uint64_t seed = 0) : f_(seed) {}

    /// f's cost, plus y and dx of the sum.
    static constexpr Cost cost(int seq_len = 1) {
        return Inner::cost(seq_len) + Cost{0, 0, 0, 2.0 * in_size * sizeof(scalar_type)};
    }
    /// Calls `f(name, cost, out_size)` for each inner layer, then for the sum (summary tables).
    template <class F>
    static void describe(F&& f, int seq_len = 1) {
        Inner::describe(f, seq_len);
        f("+ x (residual)", Cost{0, 0, 0, 2.0 * in_size * sizeof(scalar_type)}, in_size);
    }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"Residual<", Inner::member_names(), ">"}); }

    /// The I-th inner layer.
    template <std::size_t I>
    auto& layer() {
        return f_.template layer<I>();
    }
    /// The I-th inner layer, read only.
    template <std::size_t I>
    const auto& layer() const {
        return f_.template layer<I>();
    }

    /// Re-initialises the parameters from `rng`.
    void init(Rng& rng) { f_.init(rng); }
    /// Re-initialises the parameters, every weight matrix with `scheme` (see Sequential::init).
    void init(Rng& rng, Init scheme) { f_.init(rng, scheme); }
    /// Training or evaluation, for every inner layer.
    void set_mode(Mode mode) { f_.set_mode(mode); }

    /// x: D × (T·B), seq_len: T  →  y = x + f(x): D × (T·B)
    template <class Derived>
    const Batch<scalar_type, out_size>& forward(const Eigen::MatrixBase<Derived>& x, int seq_len = 1) {
        const auto& fx = f_.forward(x, seq_len);  // f checks x where it enters
        y_.resize(x.rows(), x.cols());
        detail::parallel_columns(x.cols(), x.rows(), [&](long b, long e) {
            y_.middleCols(b, e - b).noalias() = x.middleCols(b, e - b) + fx.middleCols(b, e - b);  // one pass
        });
        return y_;
    }

    /// The buffers of one caller of predict(), when every inner layer can predict.
    struct Workspace {
        typename Inner::Workspace f;    ///< the inner layers' buffers
        Batch<scalar_type, in_size> y;  ///< the output, as forward computes it: D × B
    };
    /// x: D × (T·B), seq_len: T  →  y = x + f(x) in `ws`, as forward; safe to call from many threads at once.
    template <class Derived>
    requires Inner::can_predict const Batch<scalar_type, out_size>& predict(const Eigen::MatrixBase<Derived>& x,
                                                                            Workspace& ws, int seq_len = 1) const {
        const Eigen::Ref<const Batch<scalar_type, in_size>> xr(x);  // an expression is evaluated once
        const auto& fx = f_.predict(xr, ws.f, seq_len);
        ws.y.resize(xr.rows(), xr.cols());
        detail::parallel_columns(xr.cols(), xr.rows(), [&](long b, long e) {
            ws.y.middleCols(b, e - b).noalias() = xr.middleCols(b, e - b) + fx.middleCols(b, e - b);  // as forward
        });
        return ws.y;
    }

    /// x: D × (T·B) (given to forward), dy: D × (T·B)  →  dx = dy + fᵀ(dy)
    template <class DerivedX, class DerivedY>
    const Batch<scalar_type, in_size>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                                const Eigen::MatrixBase<DerivedY>& dy) {
        return *backward(x, dy, GradientSink<scalar_type>());
    }

    /// The same with a gradient sink (see GradientSink): f's layers hand their gradients to
    /// `grads`; dx = dy + fᵀ(dy) only when `grads.input_gradient` (else nullptr).
    template <class DerivedX, class DerivedY>
    const Batch<scalar_type, in_size>* backward(const Eigen::MatrixBase<DerivedX>& x,
                                                const Eigen::MatrixBase<DerivedY>& dy,
                                                GradientSink<scalar_type> grads) {
        const auto* dfx = f_.backward(x, dy, grads);  // f checks dy's size and values
        if (!grads.input_gradient) return nullptr;
        dx_.noalias() = dy + *dfx;
        return &dx_;
    }

    /// Names the first inner layer whose output is not finite (for error messages).
    void locate_non_finite(const std::string& where) { f_.locate_non_finite(where); }

    /// The output of the last forward.
    const Batch<scalar_type, out_size>& output() const { return y_; }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() { f_.zero_grad(); }
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        f_.visit_parameters(f);
    }
    /// Calls `f` on each buffer (BatchNorm's running statistics) of the inner layers.
    template <class F>
    void visit_buffers(F&& f) {
        f_.visit_buffers(f);
    }
    /// Named as its inner Sequential's: "0.weight", "1.qkv.weight", ...
    template <class F>
    void visit_tensors(const std::string& prefix, F&& f) {
        detail::visit_tensors(f_, prefix, f);
    }

private:
    Inner f_;
    Batch<scalar_type, in_size> y_, dx_;  // D × (T·B)
};

}  // namespace neuronka
