/// @file
/// @brief Parallel<Join, Paths...>: branches over one input, joined by concatenation or a sum.
#pragma once

#include "../detail/parallel.hpp"
#include "sequential.hpp"

namespace neuronka {

/// Parallel's join: the paths' outputs stacked, path 0's rows first (PyTorch's `torch.cat(dim=-1)`).
struct Concat {
    static constexpr const char* name = "Concat";  ///< the name shown in summaries and messages
};
/// Parallel's join: the paths' outputs added (all paths give the same size).
struct Sum {
    static constexpr const char* name = "Sum";  ///< the name shown in summaries and messages
};

namespace detail {
/// Fails to compile when two paths of a Parallel take different input sizes, or (for Sum) give
/// different output sizes; the template arguments in the compiler's message give the sizes.
template <int path, int size_of_path_0, int size_of_this_path, bool output>
struct parallel_sizes {
    static_assert(size_of_path_0 == size_of_this_path,
                  "Parallel: every path takes the same input, and with Sum gives the same output size (see path, "
                  "size_of_path_0, size_of_this_path and output in this message)");
    static constexpr bool ok = true;
};
template <class Join, class... Paths, std::size_t... I>
constexpr bool parallel_sizes_ok(std::index_sequence<I...>) {
    using First = std::tuple_element_t<0, std::tuple<Paths...>>;
    constexpr bool inputs = (true && ... && parallel_sizes<int(I), First::in_size, Paths::in_size, false>::ok);
    if constexpr (std::is_same_v<Join, Sum>)
        return inputs && (true && ... && parallel_sizes<int(I), First::out_size, Paths::out_size, true>::ok);
    else
        return inputs;
}
}  // namespace detail

/**
 * @brief Branches: every path reads the same input, and their outputs are joined.
 *
 *     forward:   y = [f₀(x); f₁(x); ...]    (Concat)      y = f₀(x) + f₁(x) + ...    (Sum)
 *     backward:  dx = Σᵢ fᵢᵀ(dyᵢ)           dyᵢ = path i's rows of dy (Concat), or dy (Sum)
 *
 * Each path is one layer or a `Sequential<...>` (write `Sequential<Dense<float, 8, 16>, ReLU>` for
 * a path of several layers). A Parallel nests in a Sequential, a Residual or another Parallel, and
 * its paths may take the sequence length. Its tensors are named by path index, "0.weight",
 * "1.2.bias", as a PyTorch module that subclasses `nn.ModuleList` names them
 * (docs/layer-concept.md, "Branches").
 */
template <class Join, class... Paths>
class Parallel {
    static_assert(std::is_same_v<Join, Concat> || std::is_same_v<Join, Sum>,
                  "Parallel<Join, Paths...>: Join is Concat or Sum");
    static_assert(sizeof...(Paths) >= 2, "Parallel: needs at least two paths");
    static_assert((Layer<Paths> && ...),
                  "Parallel: every path must be a neuronka layer; write a path of several layers (or an "
                  "activation) as Sequential<...>");
    using First = std::tuple_element_t<0, std::tuple<Paths...>>;

public:
    using layers_type = std::tuple<Paths...>;               ///< the paths
    using scalar_type = typename First::scalar_type;        ///< the scalar type: float or double
    static constexpr std::size_t paths = sizeof...(Paths);  ///< the number of paths
    static_assert((std::is_same_v<typename Paths::scalar_type, scalar_type> && ...),
                  "Parallel: all paths must use the same scalar type (float or double)");
    static_assert(First::in_size != token_ids, "Parallel: put the Embedding before the Parallel");
    static_assert(detail::parallel_sizes_ok<Join, Paths...>(std::make_index_sequence<paths>{}));
    static constexpr int in_size = First::in_size;  ///< D: features of one input sample (column)
    /// Out: the paths' outputs stacked (Concat), or one path's (Sum).
    static constexpr int out_size = std::is_same_v<Join, Concat> ? (0 + ... + Paths::out_size) : First::out_size;
    static constexpr std::size_t parameter_count =
        (std::size_t(0) + ... + Paths::parameter_count);  ///< counted from the type
    /// Parameter tensors visit_parameters() shows, when every path states its own.
    static constexpr std::size_t parameter_tensors = detail::tensors_before<layers_type, paths>();
    /// True when every path can predict.
    static constexpr bool can_predict = (detail::predicts<Paths>() && ...);

    /// Every path's parameters from one generator seeded with `seed`, path 0 first.
    explicit Parallel(std::uint64_t seed = 0) {
        Rng rng(seed);
        init(rng);
    }
    /// The paths' costs, plus y and dx of the join.
    static constexpr Cost cost(int seq_len = 1) {
        return (Cost{} + ... + Paths::cost(seq_len)) + Cost{0, 0, 0, double(out_size + in_size) * sizeof(scalar_type)};
    }
    /// The name with its paths, as summaries and messages print it.
    static std::string name() {
        std::string (*const paths[])() = {&Paths::name...};
        return layer_name({"Parallel<", Join::name, ": ", detail::joined(paths, ": "), ">"});
    }
    /// Path I.
    template <std::size_t I>
    auto& layer() {
        return std::get<I>(paths_);
    }
    /// Path I, read only.
    template <std::size_t I>
    const auto& layer() const {
        return std::get<I>(paths_);
    }

    /// Re-draws every path's parameters from `rng`, path 0 first.
    void init(Rng& rng) {
        std::apply([&](auto&... p) { (p.init(rng), ...); }, paths_);
    }
    /// The same, every weight matrix with `scheme` (see Sequential::init).
    void init(Rng& rng, Init scheme) {
        std::apply(
            [&](auto&... p) {
                (
                    [&] {
                        if constexpr (requires { p.init(rng, scheme); })
                            p.init(rng, scheme);
                        else
                            p.init(rng);
                    }(),
                    ...);
            },
            paths_);
    }
    /// Training or evaluation, for every path.
    void set_mode(Mode mode) {
        std::apply([&](auto&... p) { (detail::set_mode(p, mode), ...); }, paths_);
    }

    /// x: D × (T·B), seq_len: T  →  y: Out × (T·B)
    template <class Derived>
    const Batch<scalar_type, out_size>& forward(const Eigen::MatrixBase<Derived>& x, int seq_len = 1) {
        const Eigen::Ref<const Batch<scalar_type, in_size>> xr(x);           // an expression is evaluated once
        const auto& y0 = detail::forward(std::get<0>(paths_), xr, seq_len);  // path 0 checks x where it enters
        y_.resize(out_size, xr.cols());
        put<0>(y0, y_);
        MemberScope members;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (put<I + 1>(detail::forward(std::get<I + 1>(paths_), xr, seq_len), y_), ...);
        }
        (std::make_index_sequence<paths - 1>{});
        return y_;
    }

    /// The buffers of one caller of predict(): one Workspace per path, and the output.
    struct Workspace {
        typename detail::member_workspaces<layers_type>::type paths;  ///< the paths' buffers
        Batch<scalar_type, out_size> y;                               ///< the output: Out × B
    };
    /// x: D × (T·B), seq_len: T  →  y: Out × (T·B) in `ws`, as forward; safe from many threads at once.
    template <class Derived>
    requires can_predict const Batch<scalar_type, out_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws,
                                                                     int seq_len = 1) const {
        const Eigen::Ref<const Batch<scalar_type, in_size>> xr(x);
        ws.y.resize(out_size, xr.cols());
        MemberScope members;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (put<I>(detail::predict(std::get<I>(paths_), xr, std::get<I>(ws.paths), seq_len), ws.y), ...);
        }
        (std::make_index_sequence<paths>{});
        return ws.y;
    }

    /// x: D × (T·B) (given to forward), dy: Out × (T·B)  →  dx = Σᵢ fᵢᵀ(dyᵢ)
    template <class DerivedX, class DerivedY>
    const Batch<scalar_type, in_size>& backward(const Eigen::MatrixBase<DerivedX>& x,
                                                const Eigen::MatrixBase<DerivedY>& dy) {
        return *backward(x, dy, GradientSink<scalar_type>());
    }

    /// The same with a gradient sink (see GradientSink): path i's parameters are numbered after
    /// those of paths 0..i−1; dx only when `grads.input_gradient` (else nullptr).
    template <class DerivedX, class DerivedY>
    const Batch<scalar_type, in_size>* backward(const Eigen::MatrixBase<DerivedX>& x,
                                                const Eigen::MatrixBase<DerivedY>& dy,
                                                GradientSink<scalar_type> grads) {
        check_backward({&name, "backward"}, x, in_size, dy, out_size, y_.cols());
        const Eigen::Ref<const Batch<scalar_type, in_size>> xr(x);
        const Eigen::Ref<const Batch<scalar_type, out_size>> dyr(dy);
        MemberScope members;
        if (grads.input_gradient) dx_.setZero(in_size, xr.cols());
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (back<I>(xr, dyr, grads), ...);
        }
        (std::make_index_sequence<paths>{});
        return grads.input_gradient ? &dx_ : nullptr;
    }

    /// Names the first path layer whose output is not finite (for error messages).
    void locate_non_finite(const std::string& where) { detail::locate_non_finite(where, paths_); }
    /// The output of the last forward.
    const Batch<scalar_type, out_size>& output() const { return y_; }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() {
        std::apply([](auto&... p) { (p.zero_grad(), ...); }, paths_);
    }
    /// Calls `f` on each parameter with its gradient (a ParamView): path 0's first.
    template <class F>
    void visit_parameters(F&& f) {
        std::apply([&](auto&... p) { (p.visit_parameters(f), ...); }, paths_);
    }
    /// Every path's buffers, path 0's first.
    template <class F>
    void visit_buffers(F&& f) {
        std::apply([&](auto&... p) { (detail::visit_buffers(p, f), ...); }, paths_);
    }
    /// Every path's tensors named "<path>.<name>": "0.weight", "1.2.bias".
    template <class F>
    void visit_tensors(const std::string& prefix, F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (detail::visit_tensors(std::get<I>(paths_), prefix + std::to_string(I) + ".", f), ...);
        }
        (std::make_index_sequence<paths>{});
    }

private:
    // The first row of path I's output in y (Concat).
    template <std::size_t I>
    static constexpr int row_of() {
        return []<std::size_t... J>(std::index_sequence<J...>) {
            return (0 + ... + std::tuple_element_t<J, layers_type>::out_size);
        }
        (std::make_index_sequence<I>{});
    }
    // Path I's output into y: its rows (Concat), or added (Sum; path 0 writes).
    template <std::size_t I, class Y>
    static void put(const Y& yi, Batch<scalar_type, out_size>& y) {
        if constexpr (std::is_same_v<Join, Concat>)
            y.middleRows(row_of<I>(), yi.rows()) = yi;
        else if constexpr (I == 0)
            y = yi;
        else
            y += yi;
    }
    // forward: path I's output is rows [row_of<I>, +out) of y (Concat) or a term of y (Sum)  →
    // its dy is those rows of dy, or dy; dx += its dx
    template <std::size_t I, class X, class DY>
    void back(const X& x, const DY& dy, GradientSink<scalar_type> grads) {
        using P = std::tuple_element_t<I, layers_type>;
        constexpr std::size_t offset = detail::tensors_before<layers_type, I>();
        auto& path = std::get<I>(paths_);
        const auto member = grads.member(offset == std::size_t(-1) ? 0 : offset, grads.input_gradient);
        const Batch<scalar_type, in_size>* dxi;
        if constexpr (std::is_same_v<Join, Concat>)
            dxi = detail::backward(path, x, dy.middleRows(row_of<I>(), P::out_size), member);
        else
            dxi = detail::backward(path, x, dy, member);
        if (dxi) dx_ += *dxi;
    }

    layers_type paths_;
    Batch<scalar_type, out_size> y_;  // Out × (T·B)
    Batch<scalar_type, in_size> dx_;  // D × (T·B)
};

}  // namespace neuronka
