/// @file
/// @brief Shape letters, the batch type, the internal assertion macro and error helpers.
///
/// Shape letters used in every shape comment of neuronka (docs/layer-concept.md):
///   B  batch (samples, or sequences), one sample (token) per column
///   T  sequence length; a batch of sequences is D × (T·B), each sequence's columns together
///   In input features of a layer, Out output features, D both when they are equal
///   V  vocabulary size, H attention heads, hd = D / H features per head, Hd recurrent state
///   F  the width of a transformer block's MLP (TransformerBlock's FeedForward)
///   TB the T·B columns of a batch of sequences
///   C, Cin, Cout image channels; Y × X an image's height × width in pixels; OY × OX after a
///      convolution or pooling, Q = OY·OX; K a kernel's side; `stride` and `pad` written out
/// Each letter has one meaning; the scalar type is the template parameter `Scalar`.
#pragma once

#include "../detail/bit_cast.hpp"
#include "../detail/format.hpp"
#include "../detail/macros.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace neuronka {

/// A batch: `Rows × B`, one sample per column, column-major. `Rows` documents the size (and is what
/// a layer checks the batch against at run time); the matrix itself is dynamic, so every batch of
/// one scalar type is one Eigen type, and the kernels that work on batches are compiled once per
/// scalar type instead of once per layer size (docs/performance.md, "Compile time"). Layers whose
/// weights are small enough to gain from unrolled products view their batches with fixed rows
/// inside (detail::Gemm).
template <class Scalar, int Rows>
using Batch = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

/// A column vector of `Rows` entries; dynamic like Batch (layers size theirs in their constructors).
template <class Scalar, int Rows>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// `in_size` of a layer whose input is token ids (`std::span<const int>`, one id per column of its
/// output) rather than a batch of features: Embedding. Such a layer can only come first.
inline constexpr int token_ids = -2;

/// Training or evaluation: layers that behave differently (dropout, batch statistics) read it;
/// composites pass it to their members (`set_mode`).
enum class Mode { training, evaluation };

/// For sequence layers: step t of every sequence of a D × (T·B) batch (column b·T + t is step t of
/// sequence b): the D × B matrix of columns t, T + t, 2T + t, …,
/// a view with outer stride T·D (no copy).
template <class M>
auto time_step(M& m, Eigen::Index t, Eigen::Index seq_len) {
    using Plain = Eigen::Matrix<typename M::Scalar, M::RowsAtCompileTime, Eigen::Dynamic>;
    using Mapped = std::conditional_t<std::is_const_v<M>, const Plain, Plain>;
    return Eigen::Map<Mapped, 0, Eigen::OuterStride<>>(m.data() + t * m.outerStride(), m.rows(), m.cols() / seq_len,
                                                       Eigen::OuterStride<>(seq_len * m.outerStride()));
}

/// One piece of a layer's name (see layer_name): text, or a size printed in decimal.
struct NamePart {
    NamePart(const char* s) : text(s) {}         ///< text
    NamePart(const std::string& s) : text(s) {}  ///< text (a temporary lives until layer_name returns)
    /// A size, printed in decimal.
    template <std::integral I>
    NamePart(I v) : number(static_cast<long long>(v)), is_number(true) {}
    std::string_view text;   ///< the text, when not a number
    long long number = 0;    ///< the number, when is_number
    bool is_number = false;  ///< whether this piece is a number
};

/// The pieces joined, as a layer's name(): `layer_name({"Dense<In=", In, ",Out=", Out, ">"})` is
/// "Dense<In=784,Out=256>". One function for every layer and size: a name is built for messages and
/// summaries only, so each layer's name() compiles to one call instead of its own string code.
NEURONKA_COLD inline std::string layer_name(std::initializer_list<NamePart> parts) {
    std::string s;
    for (const NamePart& p : parts) p.is_number ? void(s += std::to_string(p.number)) : void(s += p.text);
    return s;
}

namespace detail {

/// Weight matrices of at most this many entries are fixed-size (Dense's `small`): their products
/// are unrolled, which is where a fixed size pays at run time. Larger ones are dynamic: Eigen's
/// blocked kernels run them as fast, and they are compiled once per scalar type instead of once
/// per shape. Sizes stay template parameters either way.
inline constexpr int fixed_storage_entries = 256;

template <class Scalar, int Rows, int Cols>
using Storage =
    std::conditional_t<(std::size_t(Rows) * std::size_t(Cols) <= fixed_storage_entries),
                       Eigen::Matrix<Scalar, Rows, Cols>, Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>;

/// The names `names` return, with `separator` between them (a composite's members).
NEURONKA_COLD inline std::string joined(std::span<std::string (*const)()> names, const char* separator) {
    std::string s;
    for (std::size_t i = 0; i < names.size(); ++i) s += (i ? separator : "") + names[i]();
    return s;
}

/// Throws std::invalid_argument: "<where>: <what> has <actual> <unit>, expected <expected>. <hint>"
[[noreturn]] inline void throw_size(const std::string& where, const char* what, long long actual, const char* unit,
                                    long long expected, const char* hint = nullptr) {
    std::string m =
        where + ": " + what + " has " + std::to_string(actual) + " " + unit + ", expected " + std::to_string(expected);
    if (hint) m += std::string(". Hint: ") + hint;
    throw std::invalid_argument(m);
}

/// The name of the layer a check belongs to: its static name() and the method. Built into a
/// string only when a check fails, so checks cost no allocation on the hot path.
struct Where {
    std::string (*layer)();
    const char* method;
    std::string str() const { return layer() + "::" + method; }
};

/// Depth of composite calls on this thread: > 0 while a composite (Sequential, Neuron, the
/// transformer) runs its members. A composite checks the data where it enters and its output where
/// it leaves, so its members skip the finite scan of their inputs and pay only integer compares.
inline thread_local int composite_depth = 0;

/// While alive, layer calls on this thread count as members of a composite (see composite_depth).
struct MemberScope {
    MemberScope() noexcept { ++composite_depth; }
    ~MemberScope() { --composite_depth; }
    MemberScope(const MemberScope&) = delete;
    MemberScope& operator=(const MemberScope&) = delete;
};

/// True when the current layer call is made by a composite for one of its members.
inline bool is_member_call() noexcept {
    return composite_depth > 0;
}

/// Throws std::domain_error: "<where>: <what> has a non-finite value (<value>) at row r, column c. Hint: <hint>"
[[noreturn]] NEURONKA_COLD inline void throw_non_finite_at(const std::string& where, const char* what, double value,
                                                           Eigen::Index r, Eigen::Index c, const char* hint) {
    throw std::domain_error(where + ": " + what + " has a non-finite value (" + format_value(value) + ") at row " +
                            std::to_string(r) + ", column " + std::to_string(c) + ". Hint: " + hint);
}

/// The first non-finite value of x in column-major order and where it is ({0, 0, 0} if none).
struct NonFinite {
    double value = 0;
    Eigen::Index row = 0, col = 0;
};
template <class Derived>
NonFinite first_non_finite(const Eigen::MatrixBase<Derived>& x) {
    for (Eigen::Index c = 0; c < x.cols(); ++c)
        for (Eigen::Index r = 0; r < x.rows(); ++r)
            if (!std::isfinite(double(x(r, c)))) return {double(x(r, c)), r, c};
    return {};
}

/// Throws std::domain_error naming `where`, `what` and the first non-finite value (column-major order).
/// Only the search is compiled per matrix type; the message is built by one function.
template <class Derived>
[[noreturn]] NEURONKA_COLD void throw_non_finite(const std::string& where, const char* what,
                                                 const Eigen::MatrixBase<Derived>& x, const char* hint) {
    const NonFinite at = first_non_finite(x);
    throw_non_finite_at(where, what, at.value, at.row, at.col, hint);
}

/// True when the n values from `values` on are finite. A value is inf or NaN exactly when its bits,
/// sign cleared and read as an integer, are at least those of +inf; the largest of them is an
/// integer maximum, which the compiler vectorises (a sum of floats it may not reorder).
template <class Scalar>
bool all_finite_values(const Scalar* values, Eigen::Index n) {
    static_assert(std::numeric_limits<Scalar>::is_iec559 && (sizeof(Scalar) == 4 || sizeof(Scalar) == 8));
    using Bits = std::conditional_t<sizeof(Scalar) == 4, std::int32_t, std::int64_t>;
    const Bits infinity = bit_cast<Bits>(std::numeric_limits<Scalar>::infinity());
    Bits largest = 0;
    for (Eigen::Index i = 0; i < n; ++i)
        largest = std::max(largest, Bits(bit_cast<Bits>(values[i]) & std::numeric_limits<Bits>::max()));
    return largest < infinity;
}
/// True when every value of x is finite. Packed storage (a matrix, or a view whose columns follow
/// each other) is read as one vector, so that a batch of few rows is summed in one vectorised loop,
/// not column by column.
template <class Derived>
bool all_finite(const Eigen::MatrixBase<Derived>& x) {
    using Scalar = typename Derived::Scalar;
    if constexpr (bool(Derived::Flags & Eigen::DirectAccessBit) && !Derived::IsRowMajor &&
                  Derived::InnerStrideAtCompileTime == 1) {
        // one loop per scalar type, whatever the matrix type (compiled once; with
        // NEURONKA_COMPILED, linked from neuronka::compiled)
        if (x.outerStride() == x.rows()) return all_finite_values(x.derived().data(), x.size());
        for (Eigen::Index j = 0; j < x.cols(); ++j)
            if (!all_finite_values(x.derived().data() + j * x.outerStride(), x.rows())) return false;
        return true;
    } else {
        return std::isfinite((x.array() * Scalar(0)).sum());
    }
}

/// Checks that every value of x is finite; throws std::domain_error with its position otherwise.
template <class Derived>
void check_finite(Where where, const Eigen::MatrixBase<Derived>& x, const char* what = "input") {
    if (!all_finite(x))
        throw_non_finite(where.str(), what, x, "check the data, or lower the learning rate if training diverged");
}

/// Scans values for inf/NaN where data enters a model: skipped when a composite makes the call (it
/// scanned them where they entered) and compiled out with NEURONKA_NO_FINITE_CHECKS. `x` should be
/// evaluated (a Ref or a matrix), so that the scan and the use read the same values.
template <class Derived>
void check_entry_values(Where where, const Eigen::MatrixBase<Derived>& x, const char* what = "input") {
#ifndef NEURONKA_NO_FINITE_CHECKS
    if (!is_member_call()) check_finite(where, x, what);
#else
    (void)where, (void)x, (void)what;
#endif
}

/// m.resize(rows, cols), skipped when m has that shape already: a buffer reused for a batch of the
/// same size (every step of training) pays two compares, not Eigen's overflow check (a division).
template <class Derived>
void ensure_size(Eigen::PlainObjectBase<Derived>& m, Eigen::Index rows, Eigen::Index cols) {
    if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

/// Throws what check_shape reports for an input of `rows` rows where `expected` belong (or, with
/// the right rows, for an empty batch).
[[noreturn]] NEURONKA_COLD inline void throw_bad_shape(Where where, long long rows, long long expected) {
    if (rows != expected)
        throw_size(where.str(), "input", rows, "rows", expected,
                   "one sample per column: pass a features x batch matrix");
    throw std::invalid_argument(where.str() + ": input batch is empty (0 columns). Hint: pass at least one sample");
}

/// Checks the shape of a batch: rows must equal `rows` and the batch must not be empty. Two integer
/// compares inline; the message is built by one cold function.
template <class Derived>
void check_shape(Where where, const Eigen::MatrixBase<Derived>& x, long long rows) {
    if (x.rows() != rows || x.cols() == 0) [[unlikely]]
        throw_bad_shape(where, x.rows(), rows);
}

/// Checks an input batch: its shape (check_shape) and, unless a composite makes the call (it checked
/// the values where they entered), that every value is finite.
template <class Derived>
void check_input(Where where, const Eigen::MatrixBase<Derived>& x, long long rows) {
    check_shape(where, x, rows);
    check_entry_values(where, x);
}

/// Throws what check_grad_shape reports for an output gradient of `rows` × `cols`.
[[noreturn]] NEURONKA_COLD inline void throw_bad_grad_shape(Where where, long long rows, long long cols,
                                                            long long out_rows, long long x_cols) {
    if (rows != out_rows)
        throw_size(where.str(), "output gradient", rows, "rows", out_rows, "dy must have the layer's output size");
    throw_size(where.str(), "output gradient", cols, "columns", x_cols,
               "dy must have one column per sample of the input x");
}

/// Checks the shape of an output gradient against the input it belongs to: its rows and columns.
template <class DerivedX, class DerivedY>
void check_grad_shape(Where where, const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                      long long out_rows) {
    if (dy.rows() != out_rows || dy.cols() != x.cols()) [[unlikely]]
        throw_bad_grad_shape(where, dy.rows(), dy.cols(), out_rows, x.cols());
}

/// Checks an output gradient: its shape (check_grad_shape) and, unless a composite makes the call,
/// that every value is finite.
template <class DerivedX, class DerivedY>
void check_grad(Where where, const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                long long out_rows) {
    check_grad_shape(where, x, dy, out_rows);
    check_entry_values(where, dy, "output gradient");
}

/// Checks that `a` (named `what`) has the shape of `b`: rows first, then columns, each named.
template <class DA, class DB>
void check_same_shape(const char* where, const char* what, const Eigen::MatrixBase<DA>& a,
                      const Eigen::MatrixBase<DB>& b, const char* hint) {
    if (a.rows() != b.rows()) throw_size(where, what, a.rows(), "rows", b.rows(), hint);
    if (a.cols() != b.cols()) throw_size(where, what, a.cols(), "columns", b.cols(), hint);
}

/// Checks that backward is called with the batch width of the last forward.
inline void check_forward_width(Where where, long long cached, long long given) {
    if (cached != given)
        throw_size(where.str(), "input", given, "columns", cached,
                   "call forward on this batch before backward (backward uses the values forward cached)");
}

/// The preamble of a layer's backward: x is In × (T·B) with the width of the last forward
/// (`forward_cols` columns, what the layer cached), and dy is a finite Out × (T·B) gradient.
template <class DerivedX, class DerivedY>
void check_backward(Where where, const Eigen::MatrixBase<DerivedX>& x, long long in_rows,
                    const Eigen::MatrixBase<DerivedY>& dy, long long out_rows, long long forward_cols) {
    check_shape(where, x, in_rows);
    check_grad(where, x, dy, out_rows);
    check_forward_width(where, forward_cols, x.cols());
}

/// Checks the sequence length of a batch of sequences: 1 ≤ seq_len ≤ context (a layer with a
/// fixed context, such as PositionalEmbedding) and a whole number of sequences in `columns`.
inline void check_sequence(Where where, Eigen::Index columns, int seq_len, int context) {
    if (seq_len < 1 || seq_len > context)
        throw std::invalid_argument(where.str() + ": sequence length is " + std::to_string(seq_len) + ", expected 1.." +
                                    std::to_string(context) +
                                    ". Hint: sequences may be shorter than the context, not longer");
    if (columns == 0 || columns % seq_len != 0)
        throw std::invalid_argument(where.str() + ": " + std::to_string(columns) +
                                    " columns is not a whole number of sequences of length " + std::to_string(seq_len) +
                                    ". Hint: the layout is Dim x (T*B)");
}

/// As above, for a layer that takes sequences of any length (a recurrent layer).
inline void check_sequence(Where where, Eigen::Index columns, int seq_len) {
    if (seq_len < 1)
        throw std::invalid_argument(where.str() + ": sequence length is " + std::to_string(seq_len) +
                                    ", expected at least 1. Hint: pass the length T of the sequences in x");
    check_sequence(where, columns, seq_len, seq_len);
}

}  // namespace detail

/// @name Layer-author API
/// What a user writing a layer calls to check its arguments (docs/layer-concept.md, "Writing a
/// layer"): shapes always, inf/NaN only where data enters a model (not inside a MemberScope).
/// @{
using detail::check_backward;
using detail::check_entry_values;
using detail::check_finite;
using detail::check_forward_width;
using detail::check_grad;
using detail::check_grad_shape;
using detail::check_input;
using detail::check_sequence;
using detail::check_shape;
using detail::is_member_call;
using detail::MemberScope;
using detail::Where;
/// @}

}  // namespace neuronka

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_CHECKS(prefix, Scalar) \
    prefix template bool neuronka::detail::all_finite_values<Scalar>(const Scalar*, Eigen::Index);
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_CHECKS(extern, float)
NEURONKA_DETAIL_INSTANTIATE_CHECKS(extern, double)
#endif
