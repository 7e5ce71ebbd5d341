/// @file
/// @brief A layer's tensors, declared once: ParamView and BufferView with PyTorch's name and layout
/// (parameter(), buffer(), counter()), and the TensorView a model's full names are made of.
#pragma once

#include "config.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace neuronka {

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
/// True while state_tensors() visits a model: only the parameters' values are read (checkpoints'
/// and safetensors' names and data), so a layer that allocates its gradient on first use (Dense,
/// Embedding: a model that only predicts never holds one) need not allocate it to be visited.
inline bool& reading_values() {
    thread_local bool reading = false;
    return reading;
}
/// Sets reading_values() for its lifetime.
class ReadingValues {
public:
    ReadingValues() : before_(reading_values()) { reading_values() = true; }
    ~ReadingValues() { reading_values() = before_; }
    ReadingValues(const ReadingValues&) = delete;
    ReadingValues& operator=(const ReadingValues&) = delete;

private:
    bool before_;
};

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
    NEURONKA_ASSERT(value.size() == grad.size() || (grad.size() == 0 && detail::reading_values()),
                    "parameter: a gradient of the parameter's size");
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

/// Every tensor of `model` in visiting order, named from the root as in PyTorch's `state_dict`
/// (`0.weight`, `2.0.1.qkv.bias`): what checkpoints and safetensors files hold.
template <class Model>
std::vector<TensorView<typename Model::scalar_type>> state_tensors(Model& model) {
    std::vector<TensorView<typename Model::scalar_type>> tensors;
    const detail::ReadingValues values_only;
    detail::visit_tensors(model, "",
                          [&](TensorView<typename Model::scalar_type> t) { tensors.push_back(std::move(t)); });
    return tensors;
}

}  // namespace neuronka
