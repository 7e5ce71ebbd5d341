/// @file detail/gemm.hpp
/// @brief Matrix products for the layers: Eigen's own GEMM kernels with a workspace allocated once.
///
/// `C.noalias() = A * B` with Eigen allocates its packing buffers on the heap whenever they exceed
/// EIGEN_STACK_ALLOCATION_LIMIT (128 KiB), which a 784×256 layer does at every call. Gemm keeps
/// each product's blocking sizes, and every product on a thread packs into that thread's one
/// arena, grown to the largest product it has run, so a training step at an unchanged batch size
/// allocates nothing; the arithmetic is exactly Eigen's blocked, vectorised kernel. Small products
/// use the unrolled loops of detail/small_gemm.hpp, which need no workspace and no packing.
#pragma once

#include "macros.hpp"
#include "parallel.hpp"
#include "small_gemm.hpp"
#ifdef NEURONKA_USE_BLAS
#include "blas.hpp"
#endif

#include <Eigen/Core>

#include <algorithm>
#include <type_traits>
#include <vector>

namespace neuronka::detail {

/// Rows × cols × depth below which the coefficient-based product beats packing for GEMM.
inline constexpr long long small_product_flops = 16 * 16 * 64;

/// The packing buffers of the blocked products run on this thread: one pair for every product,
/// so the memory a product packs into is the memory the previous product packed into, still in
/// the core's cache (a pair per product would be cold each time a step comes back to it).
template <class Scalar>
struct PackArena {
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> a, b;  // packed blocks of the left and right operands

    static PackArena& of_this_thread() {
        thread_local PackArena arena;
        return arena;
    }
};

/// Eigen's blocking sizes for one product shape (kc, mc, nc, as Eigen's own product computes
/// them), its buffers lent by the thread's PackArena for each product.
template <class Scalar>
class PackBlocking : public Eigen::internal::level3_blocking<Scalar, Scalar> {
public:
    PackBlocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
        this->m_mc = rows, this->m_nc = cols, this->m_kc = depth;
        Eigen::internal::computeProductBlockingSizes<Scalar, Scalar, 1>(this->m_kc, this->m_mc, this->m_nc,
                                                                        Eigen::Index(1));
    }
    /// Points the buffers at this thread's arena, growing it when this shape needs more.
    PackBlocking& on_this_thread() {
        PackArena<Scalar>& arena = PackArena<Scalar>::of_this_thread();
        if (arena.a.size() < this->m_mc * this->m_kc) arena.a.resize(this->m_mc * this->m_kc);
        if (arena.b.size() < this->m_kc * this->m_nc) arena.b.resize(this->m_kc * this->m_nc);
        this->m_blockA = arena.a.data(), this->m_blockB = arena.b.data();
        return *this;
    }
};

/// Sees through `m.transpose()`: the matrix and whether it is transposed, without a copy.
template <class X>
struct operand {
    static constexpr bool transposed = false;
    static const X& matrix(const X& x) { return x; }
};
template <class X>
struct operand<Eigen::Transpose<X>> {
    static constexpr bool transposed = true;
    static const std::remove_const_t<X>& matrix(const Eigen::Transpose<X>& x) { return x.nestedExpression(); }
};

/// Products of one layer. With `Small` (a compile-time decision for layers whose weight matrix is
/// small and fixed-size) the blocked GEMM is never instantiated: every product is an unrolled,
/// vectorised coefficient loop, which both runs faster and compiles faster at these sizes.
template <class Scalar, bool Small = false>
class Gemm {
    using Blocking = PackBlocking<Scalar>;

public:
    Gemm() = default;
    Gemm(const Gemm&) : Gemm() {}  // the workspace is per object, never shared
    Gemm& operator=(const Gemm&) { return *this; }
    Gemm(Gemm&&) noexcept = default;
    Gemm& operator=(Gemm&&) noexcept = default;

    /// c = a · b, written as the math reads: `gemm.set(dx, W.transpose(), dy)` is dx = Wᵀ dy. a and b
    /// are matrices or `.transpose()` of one (no copy is made); c must already have its size.
    template <class C, class A, class B>
    void set(C& c, const A& a, const B& b) {
        product<operand<A>::transposed, operand<B>::transposed>(c, operand<A>::matrix(a), operand<B>::matrix(b), false);
    }
    /// c += a · b, as set.
    template <class C, class A, class B>
    void add(C& c, const A& a, const B& b) {
        product<operand<A>::transposed, operand<B>::transposed>(c, operand<A>::matrix(a), operand<B>::matrix(b), true);
    }

    /// c (= or +=) op(a) · op(b), op = transpose when TransA / TransB. c must already be m × n and
    /// must not alias a or b. Each may be column- or row-major (Eigen stores 1 × n matrices
    /// row-major), with unit inner stride.
    template <bool TransA, bool TransB, class C, class A, class B>
    void product(C& c, const A& a, const B& b, bool accumulate) {
        NEURONKA_ASSERT(c.rows() == (TransA ? a.cols() : a.rows()) && c.cols() == (TransB ? b.rows() : b.cols()) &&
                            (TransB ? b.cols() : b.rows()) == (TransA ? a.rows() : a.cols()),
                        "Gemm: sizes");
        if constexpr (Small) {
            small_product<TransA, TransB>(c, a, b, accumulate);
        } else {
            dynamic<TransA, TransB>(c, a, b, Scalar(1), accumulate);
        }
    }

    /// c = alpha · a · bᵀ (c += ... when `add`): a weight gradient dW = dy xᵀ, or with alpha = −η
    /// the weight update W −= η dy xᵀ done by the product itself.
    template <class C, class A, class B>
    void outer(C& c, const A& a, const B& b, Scalar alpha, bool add) {
        if (alpha == Scalar(1)) return product<false, true>(c, a, b, add);
        NEURONKA_ASSERT(c.rows() == a.rows() && c.cols() == b.rows() && b.cols() == a.cols(), "Gemm: sizes");
        if constexpr (Small) {  // the product the other calls use, into a fixed-size matrix on the stack
            static_assert(C::SizeAtCompileTime != Eigen::Dynamic, "Gemm::outer: a Small product into a fixed-size c");
            constexpr int M = C::RowsAtCompileTime, N = C::ColsAtCompileTime;
            if constexpr (M == 1 || N == 1) {  // a row or a column: each entry a sum over the batch
                auto&& af = fixed_rows<M>(a);
                auto&& bf = fixed_rows<N>(b);
                auto run = [&](auto&& into, const auto& lhs, const auto& rhs) {  // into = α lhs rhsᵀ
                    add ? void(into.noalias() += alpha * lhs.lazyProduct(rhs.transpose()))
                        : void(into.noalias() = alpha * lhs.lazyProduct(rhs.transpose()));
                };
                if constexpr (M == 1 && N == 1)
                    add ? void(c(0, 0) += alpha * af.dot(bf)) : void(c(0, 0) = alpha * af.dot(bf));
                else if constexpr (N == 1)
                    run(c, af, bf);  // c (M × 1) = α a bᵀ: a's columns weighted by b's entries
                else
                    run(c.transpose(), bf, af);  // cᵀ (N × 1) = α b aᵀ, the same
            } else {  // the kernel set and add use, into a fixed-size matrix on the stack: one
                      // instantiation of the unrolled product per shape instead of three
                typename C::PlainObject g;
                small_product<false, true>(g, a, b, false);  // g = a bᵀ
                if (add)
                    c += alpha * g;
                else
                    c = alpha * g;
            }
        } else {
            dynamic<false, true>(c, a, b, alpha, add);
        }
    }

    /// A column-major view of a dynamic matrix with unit inner stride: what the kernel below reads.
    using ConstView = Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
    /// The same, written.
    using View = Eigen::Ref<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;

    /// c (= or +=) alpha · op(a) · op(b) on column-major views: the one kernel every product of a
    /// layer that is not Small runs. It depends on the scalar type and the two transpositions only,
    /// never on a layer's sizes, so a program compiles it once per scalar type (and a program that
    /// defines NEURONKA_COMPILED links it from the library neuronka::compiled instead).
    template <bool TransA, bool TransB>
    void kernel(View c, ConstView a, ConstView b, Scalar alpha, bool accumulate);

private:
    // The operands as column-major views (a row-major matrix read as column-major is its
    // transpose; a row-major c is computed as cᵀ = op(b)ᵀ op(a)ᵀ), handed to kernel().
    template <bool TransA, bool TransB, class C, class A, class B>
    void dynamic(C& c, const A& a, const B& b, Scalar alpha, bool accumulate) {
        static_assert(
            A::InnerStrideAtCompileTime == 1 && B::InnerStrideAtCompileTime == 1 && C::InnerStrideAtCompileTime == 1,
            "Gemm: operands need unit inner stride");
        if constexpr (C::IsRowMajor) {
            auto ct = c.transpose();
            dynamic<!TransB, !TransA>(ct, b, a, alpha, accumulate);
        } else if constexpr (A::IsRowMajor) {
            dynamic<!TransA, TransB>(c, a.transpose(), b, alpha, accumulate);
        } else if constexpr (B::IsRowMajor) {
            dynamic<TransA, !TransB>(c, a, b.transpose(), alpha, accumulate);
        } else {
            View cv(c);
#ifdef NEURONKA_USE_BLAS
            if (blas_product<TransA, TransB>(cv, ConstView(a), ConstView(b), alpha, accumulate)) return;
#endif
            kernel<TransA, TransB>(cv, ConstView(a), ConstView(b), alpha, accumulate);
        }
    }

    // Eigen's blocked GEMM (which adds to c: c is zeroed first unless `accumulate`). With
    // set_threads(T > 1) a large product is cut into T slices, each its own product with its own
    // packing workspace: along the columns of c when it has at least as many columns as rows, else
    // along its rows; when c is too small for either (a weight gradient summed over a large batch),
    // along the depth, each slice into its own buffer, added to c in slice order. Each slice zeroes
    // the part of c it writes, on its own thread, so that part is in that core's cache when the
    // product writes it (zeroed by the caller, half of c would move between the cores' caches).
    // The result depends only on T.
    template <bool TransA, bool TransB>
    void blocked(View& c, const ConstView& a, const ConstView& b, Scalar alpha, bool accumulate, Eigen::Index m,
                 Eigen::Index n, Eigen::Index k) {
        const long long work = (long long)m * n * k;
        const int threads = work < parallel_product_flops * 2 ? 1 : thread_count();
        Split split = Split::none;
        Eigen::Index length = 1;
        if (threads > 1) {
            if (std::max(m, n) >= 32)
                split = n >= m ? Split::columns : Split::rows, length = std::max(m, n);
            else if (k >= 512)
                split = Split::depth, length = k;
        }
        const int tasks =
            split == Split::none ? 1 : int(std::min<long long>({threads, length / 16, work / parallel_product_flops}));
        Workspace& ws = ws_;
        if (tasks != ws.tasks || split != ws.split || m != ws.m || n != ws.n || k != ws.k) {
            ws.blocks.clear();
            ws.partials.clear();
            for (int t = 0; t < tasks; ++t) {
                const auto [begin, end] = slice(long(length), tasks, t, 16);
                const Eigen::Index len = std::max<Eigen::Index>(1, Eigen::Index(end - begin));
                ws.blocks.emplace_back(split == Split::rows ? len : m, split == Split::columns ? len : n,
                                       split == Split::depth ? len : k);
                if (split == Split::depth && t > 0) ws.partials.emplace_back(m, n);
            }
            ws.tasks = tasks, ws.split = split, ws.m = m, ws.n = n, ws.k = k;
        }
        auto task = [&](int t) {  // slice t: rows i0.. of c, columns j0.., depth p0.. (all of them when unsplit)
            const auto [begin, end] = slice(long(length), tasks, t, 16);
            if (begin >= end) return;
            const Eigen::Index i0 = split == Split::rows ? begin : 0, j0 = split == Split::columns ? begin : 0;
            const Eigen::Index rows = split == Split::rows ? end - begin : m,
                               cols = split == Split::columns ? end - begin : n;
            const Eigen::Index p0 = split == Split::depth ? begin : 0, depth = split == Split::depth ? end - begin : k;
            Blocking& blocking = ws.blocks[std::size_t(t)].on_this_thread();
            if (split == Split::depth && t > 0) {  // into its own buffer, summed below
                Partial& part = ws.partials[std::size_t(t - 1)];
                part.setZero();
                View part_view(part);
                run<TransA, TransB>(part_view, a, b, alpha, 0, 0, p0, m, n, depth, blocking);
                return;
            }
            if (!accumulate) c.block(i0, j0, rows, cols).setZero();
            run<TransA, TransB>(c, a, b, alpha, i0, j0, p0, rows, cols, depth, blocking);
        };
        tasks <= 1 ? task(0) : run_tasks(tasks, task);
        for (const Partial& part : ws.partials) c += part;
    }

    // c[i0 : i0 + m, j0 : j0 + n] += alpha · op(a)[i0 : i0 + m, p0 : p0 + k] · op(b)[p0 : p0 + k, j0 : j0 + n]
    template <bool TransA, bool TransB>
    static void run(View& c, const ConstView& a, const ConstView& b, Scalar alpha, Eigen::Index i0, Eigen::Index j0,
                    Eigen::Index p0, Eigen::Index m, Eigen::Index n, Eigen::Index k, Blocking& blocking) {
        using namespace Eigen;
        // A transposed column-major operand is read as row-major.
        constexpr int order_a = TransA ? RowMajor : ColMajor;
        constexpr int order_b = TransB ? RowMajor : ColMajor;
        constexpr int order_c = ColMajor;
        // where (row r, column j) of an operand read in `order` with leading dimension ld starts
        auto at = [](int order, Index r, Index j, Index ld) { return order == ColMajor ? r + j * ld : r * ld + j; };
        internal::general_matrix_matrix_product<Index, Scalar, order_a, false, Scalar, order_b, false, order_c, 1>::run(
            m, n, k, a.data() + at(order_a, i0, p0, a.outerStride()), a.outerStride(),
            b.data() + at(order_b, p0, j0, b.outerStride()), b.outerStride(),
            c.data() + at(order_c, i0, j0, c.outerStride()), 1, c.outerStride(), alpha, blocking, nullptr);
    }

    enum class Split { none, rows, columns, depth };
    using Partial = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    // The blocked product's workspace, for the shape it was made for; a Small Gemm has none.
    struct Workspace {
        std::vector<Blocking> blocks;   // the blocking sizes of each slice
        std::vector<Partial> partials;  // Split::depth: slices 1, 2, ... sum here
        Eigen::Index m = 0, n = 0, k = 0;
        int tasks = 0;
        Split split = Split::none;
    };
    struct None {};
    [[no_unique_address]] std::conditional_t<Small, None, Workspace> ws_;
};

/// The products of a layer that is not Small. Defined here, out of the class and not inline: a
/// program that defines NEURONKA_COMPILED declares the four instantiations per scalar type extern
/// (below) and links them from neuronka::compiled, so its translation units never compile Eigen's
/// GEMM kernels; any other program compiles them once per translation unit.
template <class Scalar, bool Small>
template <bool TransA, bool TransB>
void Gemm<Scalar, Small>::kernel(View c, ConstView a, ConstView b, Scalar alpha, bool accumulate) {
    static_assert(!Small, "Gemm::kernel: a Small Gemm's products are fixed-size and inline");
    const Eigen::Index m = c.rows(), n = c.cols(), k = TransA ? a.rows() : a.cols();
    if (m * n * k <= small_product_flops) {
        if (!accumulate) c.setZero();
        if (alpha != Scalar(1)) {  // only the fused weight update scales (c += alpha · a bᵀ)
            if constexpr (!TransA && TransB)
                c.noalias() += alpha * a * b.transpose();
            else
                NEURONKA_ASSERT(false, "Gemm::kernel: alpha with this transposition");
            return;
        }
        if constexpr (!TransA && TransB) {
            // c (m × n) += a bᵀ, summed over the columns of a and b (the batch): one rank-1 update per column
            for (Eigen::Index j = 0; j < a.cols(); ++j) c.noalias() += a.col(j) * b.col(j).transpose();
        } else if constexpr (TransA && !TransB) {
            // aᵀ b: the coefficient-based product would read aᵀ across its storage order; Eigen's
            // own product picks a kernel that does not (its workspace fits on the stack here).
            c.noalias() += a.transpose() * b;
        } else if constexpr (TransA && TransB) {
            c.noalias() += a.transpose().lazyProduct(b.transpose());
        } else {
            c.noalias() += a.lazyProduct(b);
        }
        return;
    }
    if constexpr (!TransB) {
        if (n == 1 &&
            alpha == Scalar(1)) {  // one column (a batch of one): Eigen's matrix-vector kernel, which packs nothing
            auto y = c.col(0);
            const auto x = b.col(0);
            if constexpr (TransA)
                accumulate ? void(y.noalias() += a.transpose() * x) : void(y.noalias() = a.transpose() * x);
            else
                accumulate ? void(y.noalias() += a * x) : void(y.noalias() = a * x);
            return;
        }
    }
    blocked<TransA, TransB>(c, a, b, alpha, accumulate, m, n, k);
}

}  // namespace neuronka::detail

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_GEMM(prefix, Scalar)                                                               \
    prefix template void neuronka::detail::Gemm<Scalar, false>::kernel<false, false>(View, ConstView, ConstView,       \
                                                                                     Scalar, bool);                    \
    prefix template void neuronka::detail::Gemm<Scalar, false>::kernel<false, true>(View, ConstView, ConstView,        \
                                                                                    Scalar, bool);                     \
    prefix template void neuronka::detail::Gemm<Scalar, false>::kernel<true, false>(View, ConstView, ConstView,        \
                                                                                    Scalar, bool);                     \
    prefix template void neuronka::detail::Gemm<Scalar, false>::kernel<true, true>(View, ConstView, ConstView, Scalar, \
                                                                                   bool);
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_GEMM(extern, float)
NEURONKA_DETAIL_INSTANTIATE_GEMM(extern, double)
#endif
