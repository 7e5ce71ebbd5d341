/// @file detail/blas.hpp
/// @brief The optional BLAS backend: with NEURONKA_USE_BLAS defined (CMake: link neuronka::blas),
/// the large products of layers that are not Small go to the BLAS the program links (`-lblas`:
/// Debian's alternatives resolve it to OpenBLAS or BLIS), through its Fortran interface
/// (sgemm_, dgemm_). Products under blas_min_flops keep Eigen's kernels, where a call into a BLAS
/// costs more than it saves. The BLAS runs on the calling thread only: neuronka splits products
/// over its own threads (set_threads), so the library's threads are set to one, once.
///
/// Define the macro for the whole program (the CMake target does): a translation unit without it
/// would compile the same products differently.
#pragma once

#include "parallel.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <climits>
#include <type_traits>

#include <dlfcn.h>

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc);
}

namespace neuronka::detail {

/// Rows × cols × depth from which a product goes to the BLAS (measured in bench/: below it, the
/// call and the BLAS's packing cost more than Eigen's kernel).
inline constexpr long long blas_min_flops = 32 * 32 * 32;
/// Products with a side under this (a matrix times a few vectors: one token's step of generation,
/// one sample's prediction) keep Eigen's kernels too: a BLAS's matrix-matrix kernel packs both
/// operands for them, and took 2.4 times as long per generated token as Eigen (bench_generate).
inline constexpr Eigen::Index blas_min_size = 4;

/// Sets the BLAS's own thread count to one, once (OpenBLAS and BLIS; another BLAS is left as it is).
inline void blas_single_threaded() {
    static const bool done = [] {
        if (void* f = ::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) reinterpret_cast<void (*)(int)>(f)(1);
        if (void* f = ::dlsym(RTLD_DEFAULT, "bli_thread_set_num_threads")) reinterpret_cast<void (*)(long)>(f)(1);
        return true;
    }();
    (void)done;
}

/// c[i0 :, j0 :] (m × n) += alpha · op(a) · op(b) through the BLAS, all column-major; `a` and `b`
/// point at the first element each operand reads.
template <class Scalar>
void blas_gemm(bool trans_a, bool trans_b, int m, int n, int k, Scalar alpha, const Scalar* a, int lda, const Scalar* b,
               int ldb, Scalar* c, int ldc) {
    const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
    const Scalar one = 1;
    if constexpr (std::is_same_v<Scalar, float>)
        sgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &one, c, &ldc);
    else
        dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &one, c, &ldc);
}

/// c (= or +=) alpha · op(a) · op(b) through the BLAS when the product is large enough and its sizes
/// fit the BLAS's integers; false (nothing done) otherwise. With set_threads(T > 1) c is cut into
/// column (or row) slices, one BLAS call each, as the Eigen path cuts it.
template <bool TransA, bool TransB, class View, class ConstView, class Scalar>
bool blas_product(View& c, const ConstView& a, const ConstView& b, Scalar alpha, bool accumulate) {
    if constexpr (!std::is_same_v<Scalar, float> && !std::is_same_v<Scalar, double>) {
        return false;
    } else {
        const Eigen::Index m = c.rows(), n = c.cols(), k = TransA ? a.rows() : a.cols();
        if ((long long)m * n * k < blas_min_flops || std::min({m, n, k}) < blas_min_size ||
            std::max({m, n, k, a.outerStride(), b.outerStride(), c.outerStride()}) > INT_MAX)
            return false;
        blas_single_threaded();
        if (!accumulate) c.setZero();
        const int threads = (long long)m * n * k < parallel_product_flops * 2 ? 1 : thread_count();
        const bool by_columns = n >= m;
        const long length = long(by_columns ? n : m);
        const int tasks = std::max(
            1, int(std::min<long long>({threads, length / 16, (long long)m * n * k / parallel_product_flops})));
        auto task = [&](int t) {
            const auto [begin, end] = slice(length, tasks, t, 16);
            if (begin >= end) return;
            const Eigen::Index i0 = by_columns ? 0 : begin, j0 = by_columns ? begin : 0;
            const Eigen::Index rows = by_columns ? m : end - begin, cols = by_columns ? end - begin : n;
            // row i0 of op(a) and column j0 of op(b), in column-major storage
            const Scalar* pa = a.data() + (TransA ? i0 * a.outerStride() : i0);
            const Scalar* pb = b.data() + (TransB ? j0 : j0 * b.outerStride());
            blas_gemm<Scalar>(TransA, TransB, int(rows), int(cols), int(k), alpha, pa, int(a.outerStride()), pb,
                              int(b.outerStride()), c.data() + i0 + j0 * c.outerStride(), int(c.outerStride()));
        };
        if (tasks <= 1)
            task(0);
        else
            run_tasks(tasks, task);
        return true;
    }
}

}  // namespace neuronka::detail
