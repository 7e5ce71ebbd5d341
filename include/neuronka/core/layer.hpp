/// @file
/// @brief The layer contract (see docs/layer-concept.md) as a C++20 concept.
#pragma once

#include "config.hpp"
#include "gradient_sink.hpp"
#include "random.hpp"
#include "tensors.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace neuronka {

/**
 * @brief What one sample (one token, for sequence layers) costs in a layer; see docs/cost.md.
 *
 * FLOPs count the multiply-adds of matrix products, 2 FLOPs each, exactly as the layer computes them
 * (attention's score and mixing products over the full T × T). Element-wise work (bias, activations,
 * normalisation, softmax) is not counted. Backward includes the input gradient.
 */
struct Cost {
    double parameters = 0;        ///< trainable scalars (not per sample)
    double forward_flops = 0;     ///< per sample
    double backward_flops = 0;    ///< per sample
    double activation_bytes = 0;  ///< per sample: buffers the layer keeps that grow with the batch
    /// Adds another layer's cost.
    constexpr Cost& operator+=(const Cost& o) {
        parameters += o.parameters, forward_flops += o.forward_flops, backward_flops += o.backward_flops;
        activation_bytes += o.activation_bytes;
        return *this;
    }
    /// The cost of two layers.
    friend constexpr Cost operator+(Cost a, const Cost& b) { return a += b; }
    /// `k` times a cost (k layers, or k samples).
    friend constexpr Cost operator*(double k, Cost c) {
        c.parameters *= k, c.forward_flops *= k, c.backward_flops *= k, c.activation_bytes *= k;
        return c;
    }
};

namespace detail {
/// The Workspace of a composite some member of which cannot predict.
struct NoWorkspace {};
/// True for a layer with the shared prediction path: `L::Workspace` and `predict(x, ws) const`
/// (a composite says with `can_predict` whether all its members have it).
template <class L>
constexpr bool predicts() {
    if constexpr (requires { L::can_predict; })
        return L::can_predict;
    else
        return requires {
            typename L::Workspace;
        };
}
}  // namespace detail

namespace detail {
/// False for every type: a static_assert that fails only when its template is instantiated.
template <class>
inline constexpr bool dependent_false = false;

/// Fails to compile, naming `layer_without_predict` in the compiler's message, for a member that
/// lacks the inference capability.
template <class layer_without_predict>
struct member_can_predict {
    static_assert(dependent_false<layer_without_predict>,
                  "predict: a layer of this model has no inference capability (a nested Workspace and "
                  "predict(x, ws) const, docs/layer-concept.md): see layer_without_predict in this message; "
                  "give it those members, or call forward after set_mode(Mode::evaluation)");
    static constexpr bool ok = false;
};

/// For the capability message: every member of a composite that lacks the capability, searched
/// into nested composites, so that the message names the innermost layer that lacks it.
template <class L>
constexpr bool check_members_predict() {
    if constexpr (predicts<L>()) {
        return true;
    } else if constexpr (requires { typename L::layers_type; }) {
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (true && ... && check_members_predict<std::tuple_element_t<I, typename L::layers_type>>());
        }
        (std::make_index_sequence<std::tuple_size_v<typename L::layers_type>>{});
    } else {
        return member_can_predict<L>::ok;
    }
}

}  // namespace detail

namespace detail {
/// A visitor that accepts any ParamView; used to state the concept.
template <class Scalar>
struct AnyParamVisitor {
    void operator()(ParamView<Scalar>) const {}
};
}  // namespace detail

namespace detail {
/// The input a layer takes: a batch of In features, or token ids when In is `token_ids`.
template <class Scalar, int In>
struct layer_input {
    using type = Batch<Scalar, In>;
};
template <class Scalar>
struct layer_input<Scalar, token_ids> {
    using type = std::span<const int>;
};
template <class L>
using layer_input_t = typename layer_input<typename L::scalar_type, L::in_size>::type;

/// Calls `layer.forward(x, seq_len)` when the layer takes the sequence length, else `forward(x)`.
template <class L, class X>
decltype(auto) forward(L& layer, const X& x, int seq_len) {
    if constexpr (requires { layer.forward(x, seq_len); })
        return layer.forward(x, seq_len);
    else
        return layer.forward(x);
}

/// Calls `layer.predict(x, ws, seq_len)` when the layer takes the sequence length, else `predict(x, ws)`.
template <class L, class X, class W>
decltype(auto) predict(const L& layer, const X& x, W& ws, int seq_len) {
    if constexpr (requires { layer.predict(x, ws, seq_len); })
        return layer.predict(x, ws, seq_len);
    else
        return layer.predict(x, ws);
}

/// Passes the mode to a layer that has one.
template <class L>
void set_mode(L& layer, Mode mode) {
    if constexpr (requires { layer.set_mode(mode); }) layer.set_mode(mode);
}
}  // namespace detail

/**
 * @brief A layer: a sized, typed forward/backward pair with its own buffers. The full contract,
 * member by member, is docs/layer-concept.md; in short, with x: In × (T·B) and dy: Out × (T·B):
 *
 *  - `L::scalar_type`, `L::in_size` (or `token_ids`), `L::out_size`, `L::parameter_count`;
 *  - `L::name()`, `L::cost(seq_len)`; default-constructible, and `explicit L(seed)`;
 *  - `forward(x)`, or `forward(x, seq_len)` for a layer that needs the sequence length →
 *    `const Batch<Scalar, Out>&` owned by the layer, valid until the next forward;
 *  - `backward(x, dy)` → `const Batch<Scalar, In>&` dx (void for token ids); parameter gradients
 *    accumulate; x is the input of the last forward, whose caches (the sequence length included) it uses;
 *  - `output()`, `zero_grad()`, `init(rng)`, `visit_parameters(f)`;
 *  - optional: `set_mode(Mode)`, `visit_buffers(f)`, `visit_tensors(f)`, `parameter_tensors`,
 *    `backward(x, dy, GradientSink<Scalar>)`, and the shared prediction path `L::Workspace` with
 *    `predict(x, ws) const`, or `predict(x, ws, seq_len) const` for a sequence layer (reads the
 *    parameters only; many threads, one Workspace each).
 */
template <class L>
concept Layer = requires(L& layer, const L& const_layer, const detail::layer_input_t<L>& x,
                         const Batch<typename L::scalar_type, L::out_size>& dy, Rng& rng,
                         detail::AnyParamVisitor<typename L::scalar_type> visitor) {
    typename L::scalar_type;
    requires std::floating_point<typename L::scalar_type>;
    { L::in_size } -> std::convertible_to<int>;
    { L::out_size } -> std::convertible_to<int>;
    { L::parameter_count } -> std::convertible_to<std::size_t>;
    { L::name() } -> std::convertible_to<std::string>;
    { L::cost(1) } -> std::convertible_to<Cost>;
    { detail::forward(layer, x, 1) } -> std::same_as<const Batch<typename L::scalar_type, L::out_size>&>;
    layer.backward(x, dy);
    { const_layer.output() } -> std::same_as<const Batch<typename L::scalar_type, L::out_size>&>;
    layer.zero_grad();
    layer.init(rng);
    layer.visit_parameters(visitor);
}
&&std::default_initializable<L>&& std::constructible_from<L, std::uint64_t>;

/**
 * @brief A user's own initialisation: calls `f(p, rng)` on every parameter of `model` in visiting
 * order, with `p` a ParamView (its `name`, and `layout.rows × layout.cols` the matrix its `value`
 * holds column by column) and `rng` seeded with `seed`:
 *
 *     initialise_parameters(model, 7, [](ParamView<float>& p, Rng& rng) {
 *         if (p.name == std::string("bias")) p.value.setConstant(0.01f);
 *     });
 */
template <class Model, class F>
void initialise_parameters(Model& model, std::uint64_t seed, F&& f) {
    Rng rng(seed);
    model.visit_parameters([&](auto p) { f(p, rng); });
}

/// Several models seen as one for an optimiser or gradient clipping: `auto all = join(table, mlp);
/// opt.step(all);` visits the parameters of each in turn. Holds references only.
template <class... Models>
struct Joined {
    std::tuple<Models&...> models;  ///< the models, by reference
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        std::apply([&](auto&... m) { (m.visit_parameters(f), ...); }, models);
    }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() {
        std::apply([](auto&... m) { (m.zero_grad(), ...); }, models);
    }
};
/// The models as one (see Joined).
template <class... Models>
Joined<Models...> join(Models&... models) {
    return {{models...}};
}

namespace detail {
/// True when the type of `Model` numbers its parameter tensors (`parameter_tensors`), which an
/// optimiser's GradientSink needs to number them while backward walks from the last layer.
template <class Model>
constexpr bool counted_parameters() {
    if constexpr (requires { Model::parameter_tensors; })
        return Model::parameter_tensors != std::size_t(-1);
    else
        return false;
}

/// Backward of `layer` with a gradient sink: the layer's own `backward(x, dy, grads)` when it has
/// the capability, else its `backward(x, dy)`, after which each of its parameters' gradients goes to
/// the sink. Returns &dx, or nullptr when the sink wants none (or the input is token ids).
template <class L, class X, class DY>
auto backward(L& layer, const X& x, const DY& dy, GradientSink<typename L::scalar_type> grads)
    -> const Batch<typename L::scalar_type, L::in_size>* {
    if constexpr (requires { layer.backward(x, dy, grads); }) {
        return layer.backward(x, dy, grads);
    } else {
        const Batch<typename L::scalar_type, L::in_size>* dx = nullptr;
        if constexpr (std::is_void_v<decltype(layer.backward(x, dy))>)
            layer.backward(x, dy);
        else
            dx = &layer.backward(x, dy);
        if (grads.spends()) {
            std::size_t i = 0;
            layer.visit_parameters([&](ParamView<typename L::scalar_type> p) { grads.gradient(i++, p); });
            layer.zero_grad();
        }
        return grads.input_gradient ? dx : nullptr;
    }
}

/// The message of throw_member_non_finite, built once for every layer type.
[[noreturn]] NEURONKA_COLD inline void throw_member_output(const std::string& where, std::size_t index,
                                                           const std::string& layer, const char* bad_parameter,
                                                           long long bad_count, NonFinite at) {
    const std::string what = "the output of layer " + std::to_string(index) + " (" + layer + ")";
    std::string hint;
    if (bad_parameter)
        hint.append("its parameter ")
            .append(bad_parameter)
            .append(" has ")
            .append(std::to_string(bad_count))
            .append(bad_count > 1 ? " non-finite values" : " non-finite value")
            .append(": training diverged; lower the learning rate or clip gradients");
    else
        hint =
            "its input was finite and its parameters are: the values overflowed; lower the learning rate, clip "
            "gradients or normalise the inputs";
    throw_non_finite_at(where, what.c_str(), at.value, at.row, at.col, hint.c_str());
}

/// For a composite whose output is not finite although its input was: throws std::domain_error
/// naming member `index` (its output went bad first) and, when it has any, its non-finite parameters.
template <class L>
[[noreturn]] NEURONKA_COLD void throw_member_non_finite(const std::string& where, std::size_t index, L& member) {
    const char* bad = nullptr;
    long long count = 0;
    member.visit_parameters([&](auto p) {
        const auto n = (!p.value.isFinite()).count();
        if (n && !bad) bad = p.name, count = (long long)n;
    });
    throw_member_output(where, index, L::name(), bad, count, first_non_finite(member.output()));
}

/// Throws for the first member of `members` (a tuple, in data-flow order) whose output is not
/// finite, descending into members that are composites themselves. Returns if every output is finite.
template <class Tuple>
void locate_non_finite(const std::string& where, Tuple& members) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto one = [&](auto& m, std::size_t i) {
            if (m.output().allFinite()) return;
            if constexpr (requires { m.locate_non_finite(where); })
                m.locate_non_finite(where + " > layer " + std::to_string(i));
            throw_member_non_finite(where, i, m);
        };
        (one(std::get<I>(members), I), ...);
    }
    (std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}
}  // namespace detail

/// Turns an entry of a Sequential into a concrete layer. Concrete layers are themselves; size-free
/// entries such as `Tanh` specialise this to become `Activation<Scalar, In, Tanh>`.
template <class Entry, class Scalar, int In>
struct bind_layer {
    using type = Entry;  ///< the concrete layer
};

/// True for entries that need a scalar type and size from their neighbours (activations).
template <class Entry>
inline constexpr bool is_size_free = !requires {
    Entry::out_size;
};

}  // namespace neuronka
