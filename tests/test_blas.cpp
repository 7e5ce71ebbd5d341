// The BLAS backend (NEURONKA_USE_BLAS, linked through neuronka::blas): every product Gemm sends to
// the BLAS equals naive loops, for the four transpositions, row- and column-major operands, sizes
// on both sides of blas_min_flops, the scaled outer product of a fused update, and 1 and 2 threads;
// and a layer trained with the backend follows naive arithmetic. Built only when a BLAS is found.
#include <neuronka/neuronka.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>

using namespace neuronka;

namespace {
static_assert(detail::blas_min_flops > 0, "this test is built with NEURONKA_USE_BLAS");

// c = op(a) op(b) with three loops in double.
Eigen::MatrixXd naive(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    Eigen::MatrixXd c = Eigen::MatrixXd::Zero(a.rows(), b.cols());
    for (Eigen::Index i = 0; i < a.rows(); ++i)
        for (Eigen::Index j = 0; j < b.cols(); ++j)
            for (Eigen::Index p = 0; p < a.cols(); ++p) c(i, j) += a(i, p) * b(p, j);
    return c;
}

template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// Each of set, add and outer on m × k times k × n, the operands stored as `ta`, `tb` say.
template <class Scalar>
void check_products(Eigen::Index m, Eigen::Index n, Eigen::Index k, double tolerance) {
    Rng rng(std::uint64_t(m * 1000 + n * 10 + k));
    auto random = [&](Eigen::Index r, Eigen::Index c) {
        return Matrix<Scalar>(Matrix<Scalar>::NullaryExpr(r, c, [&] { return Scalar(rng.uniform(-1, 1)); }));
    };
    const Matrix<Scalar> a = random(m, k), at = a.transpose(), b = random(k, n), bt = b.transpose();
    const Matrix<Scalar> c0 = random(m, n);
    const Eigen::MatrixXd expected = naive(a.template cast<double>(), b.template cast<double>());
    auto close = [&](const Matrix<Scalar>& got, const Eigen::MatrixXd& want) {
        return (got.template cast<double>() - want).cwiseAbs().maxCoeff() <= tolerance * double(k);
    };
    Gemm<Scalar> gemm;
    // set never reads c: a c full of NaN is overwritten (the BLAS gets beta = 0, Eigen's slices zero it)
    Matrix<Scalar> c = Matrix<Scalar>::Constant(m, n, std::numeric_limits<Scalar>::quiet_NaN());
    gemm.set(c, a, b);
    CHECK(close(c, expected));
    gemm.set(c, at.transpose(), b);
    CHECK(close(c, expected));
    gemm.set(c, a, bt.transpose());
    CHECK(close(c, expected));
    gemm.set(c, at.transpose(), bt.transpose());
    CHECK(close(c, expected));
    c = c0;
    gemm.add(c, a, b);
    CHECK(close(c, expected + c0.template cast<double>()));
    // Row-major result and operand (Eigen stores a 1 × n matrix row-major): cᵀ computed as bᵀ aᵀ.
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r(m, n);
    gemm.set(r, a, b);
    CHECK(close(r, expected));
    // outer: c = alpha · a · btᵀ (the fused update's product), then += .
    const Scalar alpha = Scalar(-0.25);
    Matrix<Scalar> o(m, n);
    gemm.outer(o, a, bt, alpha, false);
    CHECK(close(o, -0.25 * expected));
    gemm.outer(o, a, bt, alpha, true);
    CHECK(close(o, -0.5 * expected));
}
}  // namespace

TEST_CASE("the backend is used where its kernels match the build's, or as NEURONKA_BLAS says", "[blas]") {
    const std::string kernels = detail::blas_kernels();
    INFO("the BLAS's kernels: " << kernels);
    const char* saved = std::getenv("NEURONKA_BLAS");
    const std::string restore = saved ? saved : "";
    ::unsetenv("NEURONKA_BLAS");
#ifdef EIGEN_VECTORIZE_AVX512
    // Eigen's AVX-512 kernels are kept unless the BLAS has AVX-512 kernels of its own
    if (kernels == "haswell" || kernels == "zen" || kernels == "zen3") CHECK_FALSE(detail::decide_blas().use);
    if (kernels == "skylakex") CHECK(detail::decide_blas().use);
#else
    CHECK(detail::decide_blas().use);
#endif
    ::setenv("NEURONKA_BLAS", "0", 1);
    CHECK_FALSE(detail::decide_blas().use);
    CHECK(detail::decide_blas().why.find("NEURONKA_BLAS=0") != std::string::npos);
    ::setenv("NEURONKA_BLAS", "1", 1);
    CHECK(detail::decide_blas().use);
    saved ? void(::setenv("NEURONKA_BLAS", restore.c_str(), 1)) : void(::unsetenv("NEURONKA_BLAS"));
    detail::set_blas(false);
    CHECK_FALSE(detail::blas_status().use);
    detail::set_blas(true);
    CHECK(detail::blas_status().use);
}

TEST_CASE("with the BLAS backend every product equals naive loops, below and above its threshold", "[blas]") {
    detail::set_blas(true);  // whatever this CPU's choice is
    for (const int threads : {1, 2}) {
        set_threads(threads);
        for (const auto& [m, n, k] : {std::tuple<int, int, int>{8, 9, 10},  // Eigen's small-product path
                                      {20, 30, 40},                         // Eigen's blocked path
                                      {64, 64, 64},                         // the BLAS, one slice
                                      {128, 300, 70},                       // the BLAS, split over threads
                                      {300, 40, 128},                       // split by rows
                                      {10, 1000, 65}}) {
            INFO("m " << m << ", n " << n << ", k " << k << ", " << threads << " thread(s)");
            check_products<float>(m, n, k, 1e-6);
            check_products<double>(m, n, k, 1e-14);
        }
    }
    set_threads(1);
}

TEST_CASE("a layer trained with the BLAS backend follows naive arithmetic", "[blas]") {
    detail::set_blas(true);
    using Layer = Dense<double, 96, 80>;  // 80 × 96 weights, batch 64: above the threshold
    Layer layer(3);
    const Eigen::MatrixXd W0 = layer.W;
    Rng rng(9);
    const Eigen::MatrixXd x = Eigen::MatrixXd::NullaryExpr(96, 64, [&] { return rng.uniform(-1, 1); });
    const Eigen::MatrixXd dy = Eigen::MatrixXd::NullaryExpr(80, 64, [&] { return rng.uniform(-1, 1); });
    const Batch<double, 96> xb = x;
    const Batch<double, 80>& y = layer.forward(xb);
    CHECK((y - (naive(W0, x).colwise() + Eigen::VectorXd(layer.b))).cwiseAbs().maxCoeff() < 1e-12);
    const Batch<double, 96>& dx = layer.backward(xb, Batch<double, 80>(dy));
    CHECK((dx - naive(W0.transpose(), dy)).cwiseAbs().maxCoeff() < 1e-12);
    SGD<double> sgd({.learning_rate = 0.1});
    sgd.step(layer);
    CHECK((layer.W - (W0 - 0.1 * naive(dy, x.transpose()))).cwiseAbs().maxCoeff() < 1e-12);
}
