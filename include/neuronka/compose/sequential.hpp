/// @file
/// @brief Sequential<Layers...>: layers composed in data-flow order, sizes checked at compile time.
#pragma once

#include "../core/layer.hpp"
#include "../layers/activation.hpp"

#include <tuple>
#include <type_traits>
#include <utility>

namespace neuronka {

namespace detail {

/// Fails to compile when two neighbouring layers disagree; the template arguments in the
/// compiler's message name the position and both sizes.
template <int position_of_layer, int size_given_by_previous_layer, int size_expected_by_this_layer>
struct sequential_layer_sizes {
    static_assert(size_given_by_previous_layer == size_expected_by_this_layer,
                  "Sequential: a layer's input size differs from the output size of the layer before it "
                  "(see size_given_by_previous_layer and size_expected_by_this_layer in this message)");
    static constexpr bool ok = true;
};

/// The scalar type and input size of a Sequential: those of its first sized entry.
template <class... Entries>
struct first_sized {
    static_assert(sizeof...(Entries) != 0,
                  "Sequential: needs at least one sized layer (such as Dense) to know "
                  "its scalar type and input size");
};
template <class E, class... Rest>
struct first_sized<E, Rest...> : std::conditional_t<is_size_free<E>, first_sized<Rest...>, std::type_identity<E>> {};

/// Binds every entry to a concrete layer, checking neighbour sizes on the way.
template <class Scalar, int In, int Position, class... Entries>
struct bind_all {
    using type = std::tuple<>;
    static constexpr int out_size = In;
};
template <class Scalar, int In, int Position, class E, class... Rest>
struct bind_all<Scalar, In, Position, E, Rest...> {
    using L = typename bind_layer<E, Scalar, In>::type;
    static_assert(Layer<L>, "Sequential: every entry must be a neuronka layer (see docs/layer-concept.md)");
    static_assert(std::is_same_v<typename L::scalar_type, Scalar>,
                  "Sequential: all layers must use the same scalar type (float or double)");
    static_assert(sequential_layer_sizes<Position, In, L::in_size>::ok);
    using next = bind_all<Scalar, L::out_size, Position + 1, Rest...>;
    using type = decltype(std::tuple_cat(std::declval<std::tuple<L>>(), std::declval<typename next::type>()));
    static constexpr int out_size = next::out_size;
};

/// The number of ParamViews of the first Count layers of a tuple, or std::size_t(-1) when one of them does
/// not state it (`static constexpr std::size_t parameter_tensors`).
template <class Tuple, std::size_t Count>
constexpr std::size_t tensors_before() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        constexpr bool known = (true && ... && requires { std::tuple_element_t<I, Tuple>::parameter_tensors; });
        if constexpr (known)
            return (std::size_t(0) + ... + std::size_t(std::tuple_element_t<I, Tuple>::parameter_tensors));
        else
            return std::size_t(-1);
    }
    (std::make_index_sequence<Count>{});
}

/// One Workspace per member of a tuple of layers.
template <class Tuple>
struct member_workspaces;
template <class... L>
struct member_workspaces<std::tuple<L...>> {
    using type = std::tuple<typename L::Workspace...>;
};

template <class L>
inline constexpr bool prefers_he = false;
template <class Scalar, int D>
inline constexpr bool prefers_he<Activation<Scalar, D, ReLU>> = true;
template <class Scalar, int D>
inline constexpr bool prefers_he<Activation<Scalar, D, GELU>> = true;
template <class Scalar, int D>
inline constexpr bool prefers_he<Activation<Scalar, D, SiLU>> = true;

}  // namespace detail

/**
 * @brief Layers applied one after another, written in the order data flows through them:
 * `Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 1>>`.
 *
 * Activation tags take the size of the layer before them. A size mismatch between neighbours
 * does not compile. A Sequential is itself a Layer, so models nest. The sequence length given to
 * forward reaches every member that takes one (Attention, PositionalEmbedding); a first layer may
 * take token ids (Embedding). Every member function below is derived from the one list of layers.
 */
template <class... Entries>
class Sequential {
    using First = typename detail::first_sized<Entries...>::type;
    using Bound = detail::bind_all<typename First::scalar_type, First::in_size, 0, Entries...>;

public:
    using scalar_type = typename First::scalar_type;          ///< the scalar type: float or double
    using layers_type = typename Bound::type;                 ///< std::tuple of the concrete layers
    static constexpr int in_size = First::in_size;            ///< In: features of one input sample (column)
    static constexpr int out_size = Bound::out_size;          ///< Out: features of one output sample (column)
    static constexpr std::size_t depth = sizeof...(Entries);  ///< the number of layers
    /// Trainable parameters, counted from the type.
    static constexpr std::size_t parameter_count = []<std::size_t... I>(std::index_sequence<I...>) {
        return (std::size_t(0) + ... + std::tuple_element_t<I, layers_type>::parameter_count);
    }
    (std::make_index_sequence<depth>{});
    /// Number of parameter tensors (ParamViews) the model visits, when every layer states its own.
    static constexpr std::size_t parameter_tensors = detail::tensors_before<layers_type, depth>();
    /// True when every member has the shared prediction path (predict() below).
    static constexpr bool can_predict = []<std::size_t... I>(std::index_sequence<I...>) {
        return (true && ... && detail::predicts<std::tuple_element_t<I, layers_type>>());
    }
    (std::make_index_sequence<depth>{});
    /// The buffers of one caller of predict(): one Workspace per member.
    using Workspace = typename std::conditional_t<can_predict, detail::member_workspaces<layers_type>,
                                                  std::type_identity<detail::NoWorkspace>>::type;

    /// Draws every layer's parameters from one generator seeded with `seed`, in data-flow order.
    explicit Sequential(std::uint64_t seed = 0) {
        Rng rng(seed);
        init(rng);
    }

    /// FLOPs and memory for a batch of `B` samples (docs/layer-concept.md).
    static constexpr Cost cost(int seq_len = 1) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (Cost{} + ... + std::tuple_element_t<I, layers_type>::cost(seq_len));
        }
        (std::make_index_sequence<depth>{});
    }
    /// Calls f(name, cost, output rows) for every layer, in data-flow order. A member that is a
    /// composite gives a heading row (rows = -1) and then its own rows, indented.
    template <class F>
    static void describe(F&& f, int seq_len = 1) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (describe_one<std::tuple_element_t<I, layers_type>>(f, seq_len), ...);
        }
        (std::make_index_sequence<depth>{});
    }

    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"Sequential<", member_names(), ">"}); }
    /// The names of the layers, comma-separated.
    static std::string member_names() {
        return []<std::size_t... I>(std::index_sequence<I...>) {
            std::string (*const names[])() = {&std::tuple_element_t<I, layers_type>::name...};
            return detail::joined(names, ", ");
        }
        (std::make_index_sequence<depth>{});
    }

    /// The I-th layer, in data-flow order.
    template <std::size_t I>
    auto& layer() {
        return std::get<I>(layers_);
    }
    /// The I-th layer, read only.
    template <std::size_t I>
    const auto& layer() const {
        return std::get<I>(layers_);
    }

    /// Re-draws all parameters: Xavier for a layer followed by tanh/sigmoid/identity, He when
    /// followed by ReLU, GELU or SiLU.
    void init(Rng& rng) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (init_one<I>(rng), ...);
        }
        (std::make_index_sequence<depth>{});
    }
    /// Re-draws all parameters, every weight matrix with `scheme` (nested compositions included;
    /// layers without a choice, such as Embedding, draw as init(rng) does).
    void init(Rng& rng, Init scheme) {
        std::apply(
            [&](auto&... l) {
                (
                    [&] {
                        if constexpr (requires { l.init(rng, scheme); })
                            l.init(rng, scheme);
                        else
                            l.init(rng);
                    }(),
                    ...);
            },
            layers_);
    }

    /// Training (the default) or evaluation, for every member that has a mode.
    void set_mode(Mode mode) {
        std::apply([&](auto&... l) { (detail::set_mode(l, mode), ...); }, layers_);
    }

    /// x: In × (T·B) (or T·B token ids when the first layer is an Embedding), seq_len: T  →
    /// y: Out × (T·B). Called by the user, the first layer checks x (size and inf/NaN) and the
    /// model checks its output; when that is not finite, the error names the first layer whose
    /// output went bad. Called by a composite, only sizes are checked.
    template <class X>
    const Batch<scalar_type, out_size>& forward(const X& x, int seq_len = 1) {
        const bool entry = !is_member_call();
        const auto& x1 = detail::forward(std::get<0>(layers_), x, seq_len);  // checks the data where it enters
        if constexpr (depth > 1) {
            MemberScope members;
            forward_from<1>(x1, seq_len);
        }
        if (entry && !detail::all_finite(output())) locate_non_finite(name() + "::forward");
        return output();
    }

    /**
     * @brief x: In × (T·B) (or T·B token ids), seq_len: T  →  y: Out × (T·B) in `ws`: the model's
     * output in evaluation mode (dropout off, BatchNorm's running statistics), computed from the
     * parameters only. The model is not changed, so one model, loaded once, can serve any number
     * of threads at once, each with its own Workspace (`typename Model::Workspace ws;` allocates on
     * first use, then is reused); a fixed input gives the same bits on every thread and the same
     * bits as forward. x is checked as forward checks it, and the output for inf/NaN.
     */
    template <class X>
    const Batch<scalar_type, out_size>& predict(const X& x, Workspace& ws, int seq_len = 1) const {
        if constexpr (can_predict) {
            const bool entry = !is_member_call();
            const Batch<scalar_type, out_size>& y = predict_from<0>(x, ws, seq_len);
            if (entry) check_finite({&name, "predict"}, y, "output");
            return y;
        } else {  // does not compile: the message names the layer that lacks the capability
            static_assert(detail::check_members_predict<Sequential>(),
                          "predict: every layer of the model needs the inference capability");
            return output();
        }
    }

    /// x: as given to the last forward, dy: Out × (T·B)  →  dx: In × (T·B) (nothing for token
    /// ids). Every layer's parameter gradients accumulate (the first backward after zero_grad()
    /// writes them).
    template <class X, class DerivedY>
    decltype(auto) backward(const X& x, const Eigen::MatrixBase<DerivedY>& dy) {
        const auto* dx = backward(x, dy, GradientSink<scalar_type>());
        if constexpr (in_size != token_ids) return *dx;
    }

    /// Backward with a gradient sink (see GradientSink): from the last layer to the first, each
    /// layer hands its parameter gradients to `grads` as soon as it has them (an optimiser's sink,
    /// from `opt.step(model, x, dy)`, updates them while they are in cache), and the first layer
    /// computes dx only when `grads.input_gradient`. Returns &dx, or nullptr.
    template <class X, class DerivedY>
    const Batch<scalar_type, in_size>* backward(const X& x, const Eigen::MatrixBase<DerivedY>& dy,
                                                GradientSink<scalar_type> grads) {
        NEURONKA_ASSERT(!grads.spends() || parameter_tensors != std::size_t(-1),
                        "Sequential::backward: an optimiser's sink needs counted parameter tensors");
        check_grad_shape({&name, "backward"}, output(), dy, out_size);
        auto run = [&](const auto& dyr) {
            check_entry_values({&name, "backward"}, dyr, "output gradient");
            MemberScope members;
            return backward_from<depth - 1>(x, dyr, grads);
        };
        if constexpr (std::is_same_v<DerivedY, Batch<scalar_type, out_size>>)
            return run(dy.derived());  // a plain batch is read as it is
        else
            return run(Eigen::Ref<const Batch<scalar_type, out_size>>(dy));  // an expression is evaluated once
    }

    /// Deprecated: `backward(x, dy, GradientSink<Scalar>(false))` (or, to train, `opt.step(model, x, dy)`).
    template <class X, class DerivedY>
    [[deprecated("use opt.step(model, x, dy), or backward(x, dy, GradientSink<Scalar>(false))")]] void
    backward_parameters(const X& x, const Eigen::MatrixBase<DerivedY>& dy) {
        backward(x, dy, GradientSink<scalar_type>(false));
    }

    /// Throws for the first layer (in data-flow order, descending into nested composites) whose
    /// output of the last forward has an inf or NaN; returns if there is none.
    void locate_non_finite(const std::string& where) { detail::locate_non_finite(where, layers_); }

    /// The output of the last forward.
    const Batch<scalar_type, out_size>& output() const { return std::get<depth - 1>(layers_).output(); }

    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() {
        std::apply([](auto&... l) { (l.zero_grad(), ...); }, layers_);
    }

    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        std::apply([&](auto&... l) { (l.visit_parameters(f), ...); }, layers_);
    }
    /// Every member's buffers (BatchNorm's running statistics), in data-flow order.
    template <class F>
    void visit_buffers(F&& f) {
        std::apply([&](auto&... l) { (detail::visit_buffers(l, f), ...); }, layers_);
    }
    /// Every member's tensors named as in PyTorch's nn.Sequential: "<index>.<name>", where the index
    /// counts every entry, activations included.
    template <class F>
    void visit_tensors(const std::string& prefix, F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (detail::visit_tensors(std::get<I>(layers_), prefix + std::to_string(I) + ".", f), ...);
        }
        (std::make_index_sequence<depth>{});
    }

private:
    template <std::size_t I, class X>
    const auto& predict_from(const X& x, Workspace& ws, int seq_len) const {
        const auto& y = detail::predict(std::get<I>(layers_), x, std::get<I>(ws), seq_len);
        if constexpr (I + 1 == depth) {
            return y;
        } else {
            MemberScope members;  // the first layer checked the data where it entered
            return predict_from<I + 1>(y, ws, seq_len);
        }
    }

    template <class L, class F>
    static void describe_one(F& f, int seq_len) {
        if constexpr (requires { L::describe(f, seq_len); }) {
            f(L::name(), Cost{}, -1);
            L::describe([&](const std::string& n, const Cost& c, int rows) { f("  " + n, c, rows); }, seq_len);
        } else {
            f(L::name(), L::cost(seq_len), L::out_size);
        }
    }

    template <std::size_t I>
    void init_one(Rng& rng) {
        auto& l = std::get<I>(layers_);
        using L = std::remove_cvref_t<decltype(l)>;
        if constexpr (requires { typename L::layers_type; }) {  // a composition chooses per inner layer
            l.init(rng);
        } else if constexpr (requires { l.init(rng, Init::he); }) {
            constexpr bool he = [] {
                if constexpr (I + 1 < depth)
                    return detail::prefers_he<std::tuple_element_t<I + 1, layers_type>>;
                else
                    return false;
            }();
            l.init(rng, he ? Init::he : Init::xavier);
        } else {
            l.init(rng);
        }
    }

    template <std::size_t I, class X>
    void forward_from(const X& x, int seq_len) {
        const auto& y = detail::forward(std::get<I>(layers_), x, seq_len);
        if constexpr (I + 1 < depth) forward_from<I + 1>(y, seq_len);
    }

    // Back-propagates from layer I down to the first; x is the model's input. Layer I's parameters
    // are numbered after those of the layers before it.
    template <std::size_t I, class X, class DY>
    const Batch<scalar_type, in_size>* backward_from(const X& x, const DY& dy, GradientSink<scalar_type> grads) {
        constexpr std::size_t offset = detail::tensors_before<layers_type, I>();
        if constexpr (I == 0) {
            return detail::backward(std::get<0>(layers_), x, dy, grads.member(0, grads.input_gradient));
        } else {
            const auto* d = detail::backward(std::get<I>(layers_), std::get<I - 1>(layers_).output(), dy,
                                             grads.member(offset, true));
            return backward_from<I - 1>(x, *d, grads);
        }
    }

    layers_type layers_;
};

}  // namespace neuronka
