/// @file detail/blas.hpp
/// @brief The optional BLAS backend: with NEURONKA_USE_BLAS defined (CMake: link neuronka::blas),
/// the large products of layers that are not Small go to the BLAS the program links (`-lblas`:
/// Debian's alternatives resolve it to OpenBLAS or BLIS), through its Fortran interface
/// (sgemm_, dgemm_). Products under blas_min_flops keep Eigen's kernels, where a call into a BLAS
/// costs more than it saves. The BLAS runs on the calling thread only: neuronka splits products
/// over its own threads (set_threads), so the library's threads are set to one, once.
///
/// Whether the BLAS is used at all is decided once per process, at the first product, from the
/// CPU's kernels (blas_status): a program whose Eigen kernels use AVX-512 keeps them unless the BLAS
/// reports AVX-512 kernels too (Debian's OpenBLAS runs its Haswell kernels on AMD's AVX-512 CPUs,
/// where Eigen's were faster on every benchmark product). `NEURONKA_BLAS=1` or `=0` in the
/// environment decides instead.
///
/// Define the macro for the whole program (the CMake target does): a translation unit without it
/// would compile the same products differently.
#pragma once

#include "parallel.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <string>
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

/// The kernels the linked BLAS runs on this CPU, lower-case ("haswell", "skylakex", "zen3"), from
/// OpenBLAS's openblas_get_corename or BLIS's bli_arch_string; empty for another BLAS.
inline std::string blas_kernels() {
    std::string name;
    if (void* f = ::dlsym(RTLD_DEFAULT, "openblas_get_corename")) {
        if (const char* core = reinterpret_cast<char* (*)()>(f)()) name = core;
    } else if (void* query = ::dlsym(RTLD_DEFAULT, "bli_arch_query_id")) {
        if (void* str = ::dlsym(RTLD_DEFAULT, "bli_arch_string")) {
            const int id = reinterpret_cast<int (*)()>(query)();
            if (const char* arch = reinterpret_cast<const char* (*)(int)>(str)(id)) name = arch;
        }
    }
    for (char& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return name;
}

/// Whether products go to the BLAS, and why: decided once, at the first product (see the file's
/// comment), or set by set_blas (tests, benchmarks).
struct BlasStatus {
    bool use = false;
    std::string why;
};

/// The decision blas_status makes; `read_environment` false shows what it is without NEURONKA_BLAS.
inline BlasStatus decide_blas(bool read_environment = true) {
    const std::string kernels = blas_kernels();
    const std::string named = kernels.empty() ? "a BLAS that names no kernels" : "the BLAS's " + kernels + " kernels";
    if (const char* env = read_environment ? std::getenv("NEURONKA_BLAS") : nullptr;
        env && (env[0] == '0' || env[0] == '1'))
        return {env[0] == '1', std::string("NEURONKA_BLAS=") + env[0] + " (" + named + ")"};
#ifdef EIGEN_VECTORIZE_AVX512
    const bool avx512 = kernels.find("skylakex") != std::string::npos ||
                        kernels.find("cooperlake") != std::string::npos ||
                        kernels.find("sapphirerapids") != std::string::npos || kernels == "skx" || kernels == "knl" ||
                        kernels == "zen4";
    if (!avx512) return {false, "this build's Eigen kernels use AVX-512, " + named + " do not"};
#endif
    return {true, named};
}

inline std::atomic<int> blas_override{-1};  // -1: decide; 0, 1: set_blas

/// The decision, made at the first call (thread-safe).
inline const BlasStatus& blas_status() {
    static const BlasStatus decided = decide_blas();
    static const BlasStatus on{true, "set_blas(true)"}, off{false, "set_blas(false)"};
    const int forced = blas_override.load(std::memory_order_relaxed);
    return forced < 0 ? decided : forced ? on : off;
}

/// Sends the large products to the BLAS (true) or keeps Eigen's kernels (false) from now on,
/// whatever the CPU: for tests and benchmarks that measure both. Call it between products.
inline void set_blas(bool use) {
    blas_override.store(use ? 1 : 0, std::memory_order_relaxed);
}

/// c[i0 :, j0 :] (m × n) = alpha · op(a) · op(b) + beta · c through the BLAS, all column-major; `a` and `b`
/// point at the first element each operand reads.
template <class Scalar>
void blas_gemm(bool trans_a, bool trans_b, int m, int n, int k, Scalar alpha, const Scalar* a, int lda, const Scalar* b,
               int ldb, Scalar beta, Scalar* c, int ldc) {
    const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
    if constexpr (std::is_same_v<Scalar, float>)
        sgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
    else
        dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
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
            std::max({m, n, k, a.outerStride(), b.outerStride(), c.outerStride()}) > INT_MAX || !blas_status().use)
            return false;
        blas_single_threaded();
        // beta 0 overwrites c (never read) on the thread that computes each slice
        const Scalar beta = accumulate ? Scalar(1) : Scalar(0);
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
                              int(b.outerStride()), beta, c.data() + i0 + j0 * c.outerStride(), int(c.outerStride()));
        };
        if (tasks <= 1)
            task(0);
        else
            run_tasks(tasks, task);
        return true;
    }
}

}  // namespace neuronka::detail
