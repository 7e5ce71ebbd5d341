/// @file detail/gemm.hpp
/// @brief Matrix products for the layers: Eigen's own GEMM kernels with a workspace allocated once.
///
/// `C.noalias() = A * B` with Eigen allocates its packing buffers on the heap whenever they exceed
/// EIGEN_STACK_ALLOCATION_LIMIT (128 KiB), which a 784×256 layer does at every call. Gemm keeps
/// those buffers for the lifetime of the layer, so a training step at an unchanged batch size
/// allocates nothing; the arithmetic is exactly Eigen's blocked, vectorised kernel. Small products
/// use Eigen's coefficient-based product, which needs no workspace and no packing.
#pragma once

#include "../config.hpp"

#include <memory>

namespace neuronka::detail {

/// Rows × cols × depth below which the coefficient-based product beats packing for GEMM.
inline constexpr long long small_product_flops = 16 * 16 * 64;

/// Products of one layer. With `Small` (a compile-time decision for layers whose weight matrix is
/// small and fixed-size) the blocked GEMM is never instantiated: every product is an unrolled,
/// vectorised coefficient loop, which both runs faster and compiles faster at these sizes.
template <class T, bool Small = false>
class Gemm {
public:
    Gemm() = default;
    Gemm(const Gemm&) : Gemm() {}  // the workspace is per object, never shared
    Gemm& operator=(const Gemm&) { return *this; }
    Gemm(Gemm&&) noexcept = default;
    Gemm& operator=(Gemm&&) noexcept = default;

    /// c (= or +=) op(a) · op(b), op = transpose when TransA / TransB. c must already be m × n and
    /// must not alias a or b. Each may be column- or row-major (Eigen stores 1 × n matrices
    /// row-major), with unit inner stride.
    template <bool TransA, bool TransB, class C, class A, class B>
    void product(C& c, const A& a, const B& b, bool accumulate) {
        const Eigen::Index m = TransA ? a.cols() : a.rows();
        const Eigen::Index k = TransA ? a.rows() : a.cols();
        const Eigen::Index n = TransB ? b.rows() : b.cols();
        NEURONKA_ASSERT(c.rows() == m && c.cols() == n && (TransB ? b.cols() : b.rows()) == k, "Gemm: sizes");
        if constexpr (Small) {
            small<TransA, TransB>(c, a, b, accumulate);
        } else if (m * n * k <= small_product_flops) {
            small<TransA, TransB>(c, a, b, accumulate);
        } else {
            blocked<TransA, TransB>(c, a, b, accumulate, m, n, k);
        }
    }

private:
    template <bool TransA, bool TransB, class C, class A, class B>
    void blocked(C& c, const A& a, const B& b, bool accumulate, Eigen::Index m, Eigen::Index n, Eigen::Index k) {
        if (!accumulate) c.setZero();
        if (!blocking_ || m != m_ || n != n_ || k != k_) {
            blocking_ = std::make_unique<Blocking>(m, n, k, 1, true);
            blocking_->allocateAll();
            m_ = m, n_ = n, k_ = k;
        }
        using namespace Eigen;
        // A row-major operand read as column-major is its transpose.
        constexpr int order_a = (TransA != bool(A::IsRowMajor)) ? RowMajor : ColMajor;
        constexpr int order_b = (TransB != bool(B::IsRowMajor)) ? RowMajor : ColMajor;
        constexpr int order_c = C::IsRowMajor ? RowMajor : ColMajor;
        static_assert(A::InnerStrideAtCompileTime == 1 && B::InnerStrideAtCompileTime == 1 &&
                      C::InnerStrideAtCompileTime == 1, "Gemm: operands need unit inner stride");
        internal::general_matrix_matrix_product<Index, T, order_a, false, T, order_b, false, order_c, 1>::run(
            m, n, k, a.data(), a.outerStride(), b.data(), b.outerStride(), c.data(), 1, c.outerStride(), T(1),
            *blocking_, nullptr);
    }

    template <bool TransA, bool TransB, class C, class A, class B>
    static void small(C& c, const A& a, const B& b, bool accumulate) {
        if constexpr (!TransA && TransB) {
            // c (m × n) += a bᵀ, summed over the columns of a and b (the batch): one rank-1 update
            // per column, each a fixed-size, vectorised outer product.
            if (!accumulate) c.setZero();
            for (Eigen::Index j = 0; j < a.cols(); ++j) c.noalias() += a.col(j) * b.col(j).transpose();
            return;
        }
        if constexpr (TransA && !TransB) {
            // aᵀ b: the coefficient-based product would read aᵀ across its storage order; Eigen's
            // own product picks a kernel that does not (its workspace fits on the stack here).
            if (accumulate)
                c.noalias() += a.transpose() * b;
            else
                c.noalias() = a.transpose() * b;
            return;
        }
        auto run = [&](const auto& lhs, const auto& rhs) {
            if (accumulate)
                c.noalias() += lhs.lazyProduct(rhs);
            else
                c.noalias() = lhs.lazyProduct(rhs);
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

    using Blocking =
        Eigen::internal::gemm_blocking_space<Eigen::ColMajor, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic, 1, false>;
    std::unique_ptr<Blocking> blocking_;
    Eigen::Index m_ = 0, n_ = 0, k_ = 0;
};

}  // namespace neuronka::detail
