/// @file
/// @brief The layer contract (see docs/layer-concept.md) as a C++20 concept.
#pragma once

#include "config.hpp"
#include "random.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
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

/**
 * @brief How the equivalent PyTorch module lays out one tensor that neuronka stores as a column-major
 * `rows × cols` matrix: PyTorch's shape, and whether PyTorch's row-major order reads the matrix
 * column by column (a vector; an Embedding's Dim × Vocab table, read as Vocab × Dim) or row by row
 * (a Dense weight Out × In, read as PyTorch's (out, in)).
 */
struct TensorLayout {
    std::array<std::int64_t, 4> shape{};  ///< PyTorch's shape, outermost first; `dims` entries are used
    int dims = 0;                         ///< PyTorch's number of dimensions (0 for a counter)
    std::int64_t rows = 0;                ///< rows of the matrix neuronka stores
    std::int64_t cols = 0;                ///< its columns
    bool by_rows = false;                 ///< PyTorch's order reads the matrix row by row
};

/// The order in which PyTorch reads a tensor's column-major storage (see TensorLayout).
enum class Order {
    by_columns,  ///< a vector, or a table with one column per PyTorch row (Embedding)
    by_rows,     ///< a weight (out, in): PyTorch's rows are the matrix's rows
};

namespace detail {
/// The layout of `m` read in `order`, with PyTorch's `shape` (by default (size) for a vector, (rows,
/// cols) by rows, (cols, rows) by columns).
template <class M>
TensorLayout layout(const M& m, Order order, std::initializer_list<std::int64_t> shape) {
    TensorLayout l;
    l.rows = std::int64_t(m.rows()), l.cols = std::int64_t(m.cols()), l.by_rows = order == Order::by_rows;
    if (shape.size() != 0) {
        NEURONKA_ASSERT(shape.size() <= 4, "TensorLayout: at most 4 dimensions");
        for (std::int64_t d : shape) l.shape[std::size_t(l.dims++)] = d;
    } else if (l.cols == 1) {
        l.shape[0] = l.rows, l.dims = 1;
    } else {
        l.shape[0] = l.by_rows ? l.rows : l.cols, l.shape[1] = l.by_rows ? l.cols : l.rows, l.dims = 2;
    }
    return l;
}
}  // namespace detail

/// One trainable tensor of a layer and its accumulated gradient, both seen as flat arrays, named and
/// laid out once, as PyTorch's module holds it. `value` and `grad` always have the same size.
/// Optimisers identify a parameter by the order in which a model visits it, never by its address;
/// checkpoints and safetensors files name it by `name`, prefixed with its place in the model.
template <class Scalar>
struct ParamView {
    const char* name;  ///< PyTorch's name for it: "weight", "bias", "weight_ih_l0", ...
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> value;  ///< parameter
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> grad;   ///< d(loss)/d(parameter), accumulated
    TensorLayout layout;                                        ///< how PyTorch lays it out
};

/// State of a layer that is part of the model but not trained, such as BatchNorm's running
/// statistics: checkpoints and safetensors files save it, optimisers never see it. A `counter`
/// (BatchNorm's `num_batches_tracked`) is one integer instead of values; checkpoints skip counters.
template <class Scalar>
struct BufferView {
    const char* name;                                           ///< "running_mean", ...
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> value;  ///< the values, flat (empty for a counter)
    TensorLayout layout;                                        ///< how PyTorch lays it out
    std::int64_t* counter = nullptr;                            ///< the integer of a counter, else nullptr
};

/// For a layer's visit_parameters: the parameter `value` (an Eigen matrix or vector) with its
/// gradient `grad` of the same size, under PyTorch's `name`: `f(parameter("weight", W, dW, Order::by_rows));`,
/// `f(parameter("bias", b, db));`. `shape` is PyTorch's when it is not the default of TensorLayout
/// (a convolution's (out, in, k, k), an Embedding's (vocab, dim)).
template <class P, class G>
auto parameter(const char* name, P& value, G& grad, Order order = Order::by_columns,
               std::initializer_list<std::int64_t> shape = {}) {
    using Scalar = typename P::Scalar;
    NEURONKA_ASSERT(value.size() == grad.size(), "parameter: a gradient of the parameter's size");
    return ParamView<Scalar>{
        name, {value.data(), value.size()}, {grad.data(), grad.size()}, detail::layout(value, order, shape)};
}

/// For a layer's visit_buffers: the untrained state `value` under PyTorch's `name`, laid out as
/// parameter() lays out a parameter.
template <class M>
BufferView<typename M::Scalar> buffer(const char* name, M& value, Order order = Order::by_columns,
                                      std::initializer_list<std::int64_t> shape = {}) {
    return {name, {value.data(), value.size()}, detail::layout(value, order, shape), nullptr};
}

/// For a layer's visit_buffers: a step counter PyTorch keeps as one int64 (BatchNorm's num_batches_tracked).
template <class Scalar>
BufferView<Scalar> counter(const char* name, std::int64_t& count) {
    return {name, {nullptr, 0}, TensorLayout{}, &count};
}

namespace detail {
/// Calls `layer.visit_buffers(f)` for a layer that has buffers; nothing for one that has none.
template <class L, class F>
void visit_buffers(L& layer, F&& f) {
    if constexpr (requires { layer.visit_buffers(f); }) layer.visit_buffers(f);
}
}  // namespace detail

/**
 * @brief One tensor of a model as the equivalent PyTorch module's `state_dict` holds it: its dotted
 * name, its shape, and where neuronka keeps its values (docs/interop.md lists every layer's). Made
 * from a layer's ParamView and BufferView declarations, prefixed with the layer's place in the model.
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

namespace detail {
/// The TensorView of a declared tensor.
template <class Scalar>
TensorView<Scalar> tensor_view(std::string name, typename TensorView<Scalar>::Kind kind, Scalar* data,
                               const TensorLayout& l, std::int64_t* counter = nullptr) {
    return {std::move(name),
            std::vector<std::int64_t>(l.shape.begin(), l.shape.begin() + l.dims),
            kind,
            data,
            l.rows,
            l.cols,
            l.by_rows,
            counter};
}

/// Calls `f` with every tensor of `layer`, its name prefixed by `prefix`: a composite's
/// `visit_tensors` prefixes its members' names with their place ("0.", "qkv."); any other layer's
/// tensors are its ParamViews and BufferViews, as declared.
template <class L, class F>
void visit_tensors(L& layer, const std::string& prefix, F&& f) {
    using Scalar = typename L::scalar_type;
    using View = TensorView<Scalar>;
    if constexpr (requires { layer.visit_tensors(prefix, f); }) {
        layer.visit_tensors(prefix, f);
    } else {
        layer.visit_parameters([&](ParamView<Scalar> p) {
            if (p.layout.rows * p.layout.cols != std::int64_t(p.value.size()) || p.layout.dims == 0)
                throw std::invalid_argument(L::name() + ": parameter \"" + prefix + p.name + "\" has " +
                                            std::to_string(p.value.size()) + " values but a layout of " +
                                            std::to_string(p.layout.rows * p.layout.cols) +
                                            ". Hint: declare it with parameter(name, value, grad) in visit_parameters");
            f(tensor_view<Scalar>(prefix + p.name, View::Kind::parameter, p.value.data(), p.layout));
        });
        visit_buffers(layer, [&](BufferView<Scalar> b) {
            if (b.counter)
                f(tensor_view<Scalar>(prefix + b.name, View::Kind::counter, nullptr, b.layout, b.counter));
            else
                f(tensor_view<Scalar>(prefix + b.name, View::Kind::buffer, b.value.data(), b.layout));
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
        return requires {
            typename L::Workspace;
        };
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
}
&&std::default_initializable<L>&& std::constructible_from<L, std::uint64_t>;

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
