/// @file
/// @brief The layer contract (see docs/layer-concept.md) as a C++20 concept.
#pragma once

#include "config.hpp"
#include "random.hpp"

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

/// One trainable tensor of a layer and its accumulated gradient, both seen as flat arrays.
/// `value` and `grad` always have the same size. Optimisers identify a parameter by the order in
/// which a model visits it, never by its address.
template <class Scalar>
struct ParamView {
    const char* name;                          ///< the layer's name for it: "W", "b", ...
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> value;  ///< parameter
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> grad;   ///< d(loss)/d(parameter), accumulated
};

/// State of a layer that is part of the model but not trained, such as BatchNorm's running
/// statistics: checkpoints save it, optimisers never see it.
template <class Scalar>
struct BufferView {
    const char* name;                                           ///< "running_mean", ...
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> value;  ///< the values, flat
};

namespace detail {
/// Calls `layer.visit_buffers(f)` for a layer that has buffers; nothing for one that has none.
template <class L, class F>
void visit_buffers(L& layer, F&& f) {
    if constexpr (requires { layer.visit_buffers(f); }) layer.visit_buffers(f);
}

/// Makes a ParamView over two Eigen objects of equal size.
template <class P, class G>
auto view(const char* name, P& value, G& grad) {
    using Scalar = typename P::Scalar;
    return ParamView<Scalar>{name, {value.data(), value.size()}, {grad.data(), grad.size()}};
}
}  // namespace detail

/// For a layer's visit_parameters: a ParamView named `name` over a parameter and its gradient,
/// two Eigen objects of equal size: `f(parameter_view("W", W, dW));`.
template <class P, class G>
auto parameter_view(const char* name, P& value, G& grad) {
    return detail::view(name, value, grad);
}

/**
 * @brief One tensor of a model as the equivalent PyTorch module's `state_dict` holds it: its dotted
 * name, its shape, and where neuronka keeps its values (docs/interop.md lists every layer's).
 *
 * neuronka stores a tensor as a column-major `rows × cols` matrix at `data`. PyTorch's tensor is that
 * matrix read column by column (`transposed == false`: a bias, an Embedding's Dim × Vocab table read
 * as Vocab × Dim) or row by row (`transposed == true`: a Dense weight Out × In, read as PyTorch's
 * (out, in)). A `counter` (BatchNorm's `num_batches_tracked`) is one integer instead of a matrix.
 */
template <class Scalar>
struct TensorView {
    /// What the tensor is: a trained parameter, a buffer (running statistics), or a step counter.
    enum class Kind { parameter, buffer, counter };
    std::string name;                 ///< "0.weight", "2.0.1.qkv.bias", ...
    std::vector<std::int64_t> shape;  ///< PyTorch's shape, outermost first
    Kind kind = Kind::parameter;      ///< parameter, buffer or counter
    Scalar* data = nullptr;           ///< parameter or buffer: the column-major rows × cols matrix
    std::int64_t rows = 0;            ///< rows of the matrix at `data`
    std::int64_t cols = 0;            ///< its columns
    bool transposed = false;          ///< PyTorch's order reads the matrix row by row
    std::int64_t* counter = nullptr;  ///< Kind::counter: the integer

    /// Number of values.
    std::int64_t size() const { return kind == Kind::counter ? 1 : rows * cols; }
    /// The index in `data` of PyTorch's i-th value (row-major over `shape`).
    std::int64_t storage_index(std::int64_t i) const { return transposed ? (i % cols) * rows + i / cols : i; }
};

/// For a layer's visit_tensors: a tensor whose PyTorch order lists the rows of `m` one after another,
/// as a weight (out, in) does; `shape` defaults to (rows, cols).
template <class M>
TensorView<typename M::Scalar> tensor_by_rows(std::string name, M& m, std::vector<std::int64_t> shape = {},
                                              typename TensorView<typename M::Scalar>::Kind kind = {}) {
    if (shape.empty()) shape = {std::int64_t(m.rows()), std::int64_t(m.cols())};
    return {std::move(name), std::move(shape), kind, m.data(), std::int64_t(m.rows()), std::int64_t(m.cols()), true, nullptr};
}
/// For a layer's visit_tensors: a tensor whose PyTorch order lists the columns of `m` one after
/// another: a vector (`shape` defaults to (size)), or a table of one column per entry (pass (cols, rows)).
template <class M>
TensorView<typename M::Scalar> tensor_by_columns(std::string name, M& m, std::vector<std::int64_t> shape = {},
                                                 typename TensorView<typename M::Scalar>::Kind kind = {}) {
    if (shape.empty()) shape = {std::int64_t(m.size())};
    return {std::move(name), std::move(shape), kind, m.data(), std::int64_t(m.rows()), std::int64_t(m.cols()), false, nullptr};
}

namespace detail {
/// Calls `f` with every tensor of `layer`, its name prefixed by `prefix`. A layer without its own
/// `visit_tensors` gives its parameters and buffers as one-dimensional tensors under their own names.
template <class L, class F>
void visit_tensors(L& layer, const std::string& prefix, F&& f) {
    using Scalar = typename L::scalar_type;
    using View = TensorView<Scalar>;
    auto named = [&](View t) {
        t.name = prefix + t.name;
        f(std::move(t));
    };
    if constexpr (requires { layer.visit_tensors(named); }) {
        layer.visit_tensors(named);
    } else {
        layer.visit_parameters([&](ParamView<Scalar> p) {
            named(View{p.name, {std::int64_t(p.value.size())}, View::Kind::parameter, p.value.data(), std::int64_t(p.value.size()), 1, false, nullptr});
        });
        visit_buffers(layer, [&](BufferView<Scalar> b) {
            named(View{b.name, {std::int64_t(b.value.size())}, View::Kind::buffer, b.value.data(), std::int64_t(b.value.size()), 1, false, nullptr});
        });
    }
}
}  // namespace detail

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
        return requires { typename L::Workspace; };
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
 *    `backward_parameters(x, dy)`, and the shared prediction path `L::Workspace` with
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
} && std::default_initializable<L> && std::constructible_from<L, std::uint64_t>;

/// Several models seen as one for an optimiser or gradient clipping: `auto all = join(table, mlp);
/// opt.step(all);` visits the parameters of each in turn. Holds references only.
template <class... Models>
struct Joined {
    std::tuple<Models&...> models;  ///< the models, by reference
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints use.
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

/// Throws std::domain_error naming the step and the first parameter (in visiting order) whose
/// gradient is not finite; call it after backward to stop training at the first sign of divergence.
template <class Model>
void check_finite_gradients(Model& model, long step) {
    std::size_t index = 0;
    model.visit_parameters([&](auto p) {
        if (!detail::all_finite(p.grad.matrix()))
            throw std::domain_error("step " + std::to_string(step) + ": the gradient of parameter " + std::to_string(index) +
                                    " (" + p.name + ", " + std::to_string(p.grad.size()) +
                                    " values) is not finite. Hint: lower the learning rate or clip gradients");
        ++index;
    });
}

namespace detail {
/// Accumulates a layer's parameter gradients, skipping its input gradient when the layer can.
template <class L, class X, class DY>
void backward_parameters(L& layer, const X& x, const DY& dy) {
    if constexpr (requires { layer.backward_parameters(x, dy); })
        layer.backward_parameters(x, dy);
    else
        layer.backward(x, dy);
}

/// The message of throw_member_non_finite, built once for every layer type.
[[noreturn]] NEURONKA_COLD inline void throw_member_output(const std::string& where, std::size_t index,
                                                           const std::string& layer, const char* bad_parameter,
                                                           long long bad_count, NonFinite at) {
    const std::string what = "the output of layer " + std::to_string(index) + " (" + layer + ")";
    std::string hint;
    if (bad_parameter)
        hint.append("its parameter ").append(bad_parameter).append(" has ").append(std::to_string(bad_count))
            .append(bad_count > 1 ? " non-finite values" : " non-finite value")
            .append(": training diverged; lower the learning rate or clip gradients");
    else
        hint = "its input was finite and its parameters are: the values overflowed; lower the learning rate, clip "
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
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
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
inline constexpr bool is_size_free = !requires { Entry::out_size; };

}  // namespace neuronka
