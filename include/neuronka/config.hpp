/// @file config.hpp
/// @brief Shape letters, the batch type, the internal assertion macro and error helpers.
///
/// Shape letters used in every shape comment of neuronka:
///   B  batch (number of samples, one sample per column)
///   In input features of a layer, Out output features
///   N  features of a size-preserving layer (activations, losses)
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

/// Internal invariant check. Define NEURONKA_ASSERT(cond, msg) before including neuronka to
/// route it elsewhere (for example to throw in a fuzzer). User input is never checked with
/// this macro: bad input always throws, whatever NEURONKA_ASSERT does.
#ifndef NEURONKA_ASSERT
#include <cassert>
#define NEURONKA_ASSERT(cond, msg) assert((cond) && (msg))
#endif

namespace neuronka {

/// A batch: `Rows × B`, one sample per column, column-major.
template <class T, int Rows>
using Batch = Eigen::Matrix<T, Rows, Eigen::Dynamic>;

/// A column vector of `Rows` entries.
template <class T, int Rows>
using Vector = Eigen::Matrix<T, Rows, 1>;

/// Size of a layer that keeps the size of whatever it is given (activations).
inline constexpr int same_size = -1;

namespace detail {

/// Weight storage: fixed-size when small (no heap, unrolled kernels), dynamic when large so that
/// big layers never hit Eigen's stack-allocation limit. Sizes stay template parameters either way.
inline constexpr std::size_t fixed_storage_bytes = 4096;

template <class T, int Rows, int Cols>
using Storage = std::conditional_t<(std::size_t(Rows) * std::size_t(Cols) * sizeof(T) <= fixed_storage_bytes),
                                   Eigen::Matrix<T, Rows, Cols>, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>>;

/// Throws std::invalid_argument: "<where>: <what> has <actual> <unit>, expected <expected>. <hint>"
[[noreturn]] inline void throw_size(const std::string& where, const char* what, long long actual,
                                    const char* unit, long long expected, const char* hint = nullptr) {
    std::string m = where + ": " + what + " has " + std::to_string(actual) + " " + unit + ", expected " +
                    std::to_string(expected);
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

/// Checks an input batch: rows must equal `rows` and the batch must not be empty.
template <class Derived>
void check_input(Where where, const Eigen::MatrixBase<Derived>& x, long long rows) {
    if (x.rows() != rows)
        throw_size(where.str(), "input", x.rows(), "rows", rows, "one sample per column: pass a features x batch matrix");
    if (x.cols() == 0)
        throw std::invalid_argument(where.str() + ": input batch is empty (0 columns). Hint: pass at least one sample");
#ifndef NEURONKA_NO_FINITE_CHECKS
    if (!x.allFinite()) {
        Eigen::Index r = 0, c = 0;
        for (c = 0; c < x.cols(); ++c)
            for (r = 0; r < x.rows(); ++r)
                if (!std::isfinite(double(x(r, c)))) goto found;
    found:
        throw std::domain_error(where.str() + ": input has a non-finite value (" + std::to_string(double(x(r, c))) +
                                ") at row " + std::to_string(r) + ", column " + std::to_string(c) +
                                ". Hint: check the data, or lower the learning rate if training diverged");
    }
#endif
}

/// Checks an output gradient against the input it belongs to.
template <class DerivedX, class DerivedY>
void check_grad(Where where, const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy,
                long long out_rows) {
    if (dy.rows() != out_rows)
        throw_size(where.str(), "output gradient", dy.rows(), "rows", out_rows, "dy must have the layer's output size");
    if (dy.cols() != x.cols())
        throw_size(where.str(), "output gradient", dy.cols(), "columns", x.cols(),
                   "dy must have one column per sample of the input x");
}

/// Checks that backward is called with the batch width of the last forward.
inline void check_forward_width(Where where, long long cached, long long given) {
    if (cached != given)
        throw_size(where.str(), "input", given, "columns", cached,
                   "call forward on this batch before backward (backward uses the values forward cached)");
}

}  // namespace detail
}  // namespace neuronka
