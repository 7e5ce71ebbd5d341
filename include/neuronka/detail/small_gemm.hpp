/// @file detail/small_gemm.hpp
/// @brief The products of a small layer (a fixed-size weight matrix): unrolled, vectorised
/// coefficient loops with no workspace, and `fixed_rows`, which lets a batch's rows be known at
/// compile time. Gemm<Scalar, true> runs every product through `small_product`; Dense's bias sums
/// use `fixed_rows`.
#pragma once

#include "macros.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace neuronka::detail {

/// Largest fixed-size operand (bytes) that a small product copies to the stack.
inline constexpr std::size_t fixed_small_bytes = 4096;

/// Scalars per vector register.
template <class Scalar>
inline constexpr int packet_size = Eigen::internal::packet_traits<Scalar>::size;

/// A batch (dynamic rows) seen with `Rows` rows known at compile time, so that a small layer's
/// products and bias sums are unrolled over its sizes: that code is per layer size, the rest of the
/// model's code (activations, losses, checks) is not. With Rows = Eigen::Dynamic, or a matrix whose
/// rows are fixed already, the matrix itself.
template <int Rows, class M>
decltype(auto) fixed_rows(M& m) {
    using Plain = std::remove_const_t<M>;
    using S = typename Plain::Scalar;
    constexpr bool read_only = std::is_const_v<M> || !bool(Eigen::internal::traits<Plain>::Flags & Eigen::LvalueBit);
    if constexpr (Rows == Eigen::Dynamic || int(Plain::RowsAtCompileTime) != Eigen::Dynamic) {
        return (m);
    } else if constexpr (Rows == 1) {  // a row: Eigen stores 1 × n matrices row-major; packed, so it vectorises
        static_assert(!Plain::IsRowMajor, "fixed_rows: a batch is column-major");
        using Row = std::conditional_t<read_only, const Eigen::Matrix<S, 1, Eigen::Dynamic>,
                                       Eigen::Matrix<S, 1, Eigen::Dynamic>>;
        NEURONKA_ASSERT(m.rows() == 1 && (m.cols() <= 1 || m.outerStride() == 1), "fixed_rows: a packed row");
        return Eigen::Map<Row>(m.data(), 1, m.cols());
    } else {
        static_assert(!Plain::IsRowMajor, "fixed_rows: a batch is column-major");
        using Fixed = std::conditional_t<read_only, const Eigen::Matrix<S, Rows, Eigen::Dynamic>,
                                         Eigen::Matrix<S, Rows, Eigen::Dynamic>>;
        NEURONKA_ASSERT(m.rows() == Rows, "fixed_rows: rows");
        return Eigen::Map<Fixed, Eigen::Unaligned, Eigen::OuterStride<>>(m.data(), Rows, m.cols(),
                                                                         Eigen::OuterStride<>(m.outerStride()));
    }
}

/// c (= or +=) a b for a small fixed-size a (m × k): four columns of c at a time, each its own
/// chain of k multiply-adds on a column register, so that the four chains overlap in the pipeline
/// (one column at a time, the product waits on each multiply-add's latency).
template <class C, class A, class B>
void small_columns(C& c, const A& a, const B& b, bool accumulate) {
    constexpr int M = C::RowsAtCompileTime, K = A::ColsAtCompileTime;
    using Col = Eigen::Matrix<typename C::Scalar, M, 1>;
    const Eigen::Index n = c.cols();
    Eigen::Index j = 0;
    for (; j + 4 <= n; j += 4) {
        Col c0 = a.col(0) * b(0, j), c1 = a.col(0) * b(0, j + 1), c2 = a.col(0) * b(0, j + 2),
            c3 = a.col(0) * b(0, j + 3);
        for (int k = 1; k < K; ++k) {
            c0.noalias() += a.col(k) * b(k, j);
            c1.noalias() += a.col(k) * b(k, j + 1);
            c2.noalias() += a.col(k) * b(k, j + 2);
            c3.noalias() += a.col(k) * b(k, j + 3);
        }
        if (accumulate)
            c.col(j) += c0, c.col(j + 1) += c1, c.col(j + 2) += c2, c.col(j + 3) += c3;
        else
            c.col(j) = c0, c.col(j + 1) = c1, c.col(j + 2) = c2, c.col(j + 3) = c3;
    }
    for (; j < n; ++j) {
        if (accumulate)
            c.col(j).noalias() += a.lazyProduct(b.col(j));
        else
            c.col(j).noalias() = a.lazyProduct(b.col(j));
    }
}

/// c (= or +=) op(a) op(b) when every operand's rows are known at compile time.
template <bool TransA, bool TransB, class C, class A, class B>
void small_product_fixed(C& c, const A& a, const B& b, bool accumulate) {
    using Scalar = typename C::Scalar;
    if constexpr (!TransA && TransB) {
        // c (m × n) += a bᵀ, summed over the columns of a and b (the batch): one rank-1 update per
        // column, each a fixed-size, vectorised outer product, into a block of c held in registers.
        // The block is all of c when c fits in half the vector registers, else NB of its columns
        // (16 × 16 floats with AVX2 need 32 registers of 16: 4 columns at a time), each block a
        // pass over the batch; a block that does not fit would go to the stack and back at every
        // column (AVX2: T2's step 1660 → 1430 ns). Each coefficient sums the batch in order.
        if (!accumulate) c.setZero();
        constexpr int M = C::RowsAtCompileTime, N = C::ColsAtCompileTime;
        constexpr int per_column = (M + packet_size<Scalar> - 1) / packet_size<Scalar>;  // vector registers
        constexpr int budget = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS / 2;
        constexpr int fit = std::max(1, budget / per_column);
        constexpr int NB = per_column * N <= budget || N % fit != 0 ? N : fit;
        for (int n0 = 0; n0 < N; n0 += NB) {
            Eigen::Matrix<Scalar, M, NB> block = c.template middleCols<NB>(n0);
            for (Eigen::Index j = 0; j < a.cols(); ++j)
                block.noalias() += a.col(j) * b.col(j).template segment<NB>(n0).transpose();
            c.template middleCols<NB>(n0) = block;
        }
    } else if constexpr (TransA && !TransB && A::ColsAtCompileTime >= 8 && A::RowsAtCompileTime >= 2 &&
                         A::SizeAtCompileTime * sizeof(Scalar) <= fixed_small_bytes) {
        // aᵀ b: a copy of aᵀ (small, on the stack) makes it the column-blocked product
        Eigen::Matrix<Scalar, A::ColsAtCompileTime, A::RowsAtCompileTime> at;
        at.noalias() = a.transpose();
        small_columns(c, at, b, accumulate);
    } else if constexpr (TransA && !TransB) {
        // aᵀ b with few rows in c: each coefficient a dot product of a column of a with a column
        // of b, both contiguous (Eigen's general product would compile its blocked GEMM for this
        // one shape)
        accumulate ? void(c.noalias() += a.transpose().lazyProduct(b))
                   : void(c.noalias() = a.transpose().lazyProduct(b));
    } else if constexpr (!TransA && !TransB && C::RowsAtCompileTime >= 8 && A::ColsAtCompileTime >= 2) {
        small_columns(c, a, b, accumulate);
    } else {
        auto run = [&](const auto& lhs, const auto& rhs) {
            accumulate ? void(c.noalias() += lhs.lazyProduct(rhs)) : void(c.noalias() = lhs.lazyProduct(rhs));
        };
        if constexpr (TransA && TransB)
            run(a.transpose(), b.transpose());
        else if constexpr (TransA)
            run(a.transpose(), b);
        else if constexpr (TransB)
            run(a, b.transpose());
        else
            run(a, b);
    }
}

/// c (= or +=) op(a) op(b), op = transpose when TransA / TransB, for a small layer: its weight (or
/// weight gradient) is fixed-size and fixes the rows of every other operand (the batches) at compile
/// time.
template <bool TransA, bool TransB, class C, class A, class B>
void small_product(C& c, const A& a, const B& b, bool accumulate) {
    constexpr int D = Eigen::Dynamic;
    constexpr int c_rows = C::RowsAtCompileTime, c_cols = C::ColsAtCompileTime;
    constexpr int a_rows = A::RowsAtCompileTime, a_cols = A::ColsAtCompileTime;
    constexpr int b_rows = B::RowsAtCompileTime, b_cols = B::ColsAtCompileTime;
    constexpr int M = c_rows != D ? c_rows : TransA ? a_cols : a_rows;
    constexpr int N = c_cols != D ? c_cols : TransB ? b_rows : b_cols;
    constexpr int KA = TransA ? a_rows : a_cols;
    constexpr int K = KA != D ? KA : TransB ? b_cols : b_rows;
    if constexpr (c_rows != D && a_rows != D && b_rows != D) {
        small_product_fixed<TransA, TransB>(c, a, b, accumulate);
    } else {
        auto&& cf = fixed_rows<M>(c);
        small_product_fixed<TransA, TransB>(cf, fixed_rows < TransA ? K : M > (a), fixed_rows < TransB ? N : K > (b),
                                            accumulate);
    }
}

}  // namespace neuronka::detail
