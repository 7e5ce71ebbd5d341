// int8 inference: the weights' codes within half a step of the float weights, the int8 kernels of
// Int8Dense and Int8Conv2D against naive loops doing the same integer arithmetic, whole models
// (an MLP, a CNN with pooling, dropout and a residual) close to their float predictions, and the
// int8 file: a quarter of the size, bitwise the same predictions after loading, damaged or foreign
// files refused with the model unchanged.
#include "test_util.hpp"

#include "temp_dir.hpp"

#include <neuronka/layers/dropout.hpp>
#include <neuronka/layers/pool.hpp>
#include <neuronka/models/quantize.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace neuronka;
using Catch::Matchers::Contains;
using test::temp_path;

namespace {
// What the int8 kernel computes, written out: x quantised to the nearest integer of x / sx, sx = max|x| / 127.
template <class Rows>
Eigen::VectorXf naive_int8(const Rows& w, const Eigen::VectorXf& x) {
    const float m = x.cwiseAbs().maxCoeff(), sx = m > 0 ? m / 127 : 1;
    Eigen::VectorXf y(w.q.rows());
    for (Eigen::Index r = 0; r < w.q.rows(); ++r) {
        long acc = 0;
        for (Eigen::Index i = 0; i < x.size(); ++i) acc += long(w.q(r, i)) * long(std::rint(x(i) * (1 / sx)));
        y(r) = w.scale(r) * sx * float(acc);
    }
    return y;
}
}  // namespace

TEST_CASE("int8 codes are within half a step of the weights, one scale per output row", "[int8]") {
    Dense<float, 40, 7> dense(3);
    detail::Int8Rows<float> w;
    w.quantise(dense.W);
    for (Eigen::Index r = 0; r < 7; ++r) {
        CHECK(w.scale(r) == Approx(Eigen::MatrixXf(dense.W).row(r).cwiseAbs().maxCoeff() / 127));
        CHECK(w.q.row(r).cwiseAbs().maxCoeff() == 127);  // the largest weight of a row uses the full range
        for (Eigen::Index i = 0; i < 40; ++i)
            CHECK(std::abs(dense.W(r, i) - w.scale(r) * w.q(r, i)) <= 0.5f * w.scale(r) * 1.0001f);
    }
}

TEST_CASE("Int8Dense and Int8Conv2D against naive loops, and close to the float layers", "[int8]") {
    SECTION("dense") {
        Dense<float, 50, 12> dense(1);
        dense.b.setRandom();
        const Int8Dense<float, 50, 12> q(dense);
        const Batch<float, 50> x = random_batch<50, float>(6, 2, -2, 2);
        Int8Dense<float, 50, 12>::Workspace ws;
        const Batch<float, 12>& y = q.predict(x, ws);
        for (Eigen::Index c = 0; c < 6; ++c) {
            const Eigen::VectorXf expected = naive_int8(q.weight, x.col(c)) + Eigen::VectorXf(dense.b);
            CHECK((y.col(c) - expected).cwiseAbs().maxCoeff() < 1e-5f);
        }
        const Batch<float, 12> exact = dense.forward(x);
        CHECK((y - exact).cwiseAbs().maxCoeff() < 0.02f * exact.cwiseAbs().maxCoeff());
        Int8Dense<float, 50, 12> trainable(dense);
        CHECK_THROWS_WITH(trainable.backward(x, y),
                          Contains("Int8Dense<In=50,Out=12>::backward: int8 layers are for inference only"));
    }
    SECTION("convolution with stride and padding") {
        Conv2D<float, 2, 5, 3, 9, 8, 2, 1> conv(4);
        conv.b.setRandom();
        const Int8Conv2D<float, 2, 5, 3, 9, 8, 2, 1> q(conv);
        const Batch<float, 144> x = random_batch<144, float>(3, 5, -1, 1);
        decltype(q)::Workspace ws;
        const auto& y = q.predict(x, ws);
        const auto& exact = conv.forward(x);
        CHECK((y - exact).cwiseAbs().maxCoeff() < 0.02f * exact.cwiseAbs().maxCoeff());
        // one output position against the naive product of its patch
        constexpr int OY = 5, OX = 4, Q = OY * OX;
        for (int n = 0; n < 3; ++n)
            for (int oy : {0, 2, 4})
                for (int ox : {0, 3}) {
                    Eigen::VectorXf patch(18);
                    for (int c = 0; c < 2; ++c)
                        for (int ky = 0; ky < 3; ++ky)
                            for (int kx = 0; kx < 3; ++kx) {
                                const int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
                                patch((c * 3 + ky) * 3 + kx) =
                                    (iy >= 0 && iy < 9 && ix >= 0 && ix < 8) ? x((c * 9 + iy) * 8 + ix, n) : 0.f;
                            }
                    const Eigen::VectorXf expected = naive_int8(q.weight, patch) + Eigen::VectorXf(conv.b);
                    for (int o = 0; o < 5; ++o) CHECK(y(o * Q + oy * OX + ox, n) == Approx(expected(o)).margin(1e-5));
                }
    }
}

TEST_CASE("int8 convolution in blocks of positions, with the CPU's vector kernels, equals the naive sums",
          "[int8][conv]") {
    // 16 and 32 output channels take the vector kernels where the CPU has them (AVX-512BW or AVX2,
    // chosen at run time); 14 × 14 positions are 24 blocks of 8 and one of 4; a patch of 3·5·5 = 75
    // codes ends in an unpaired code; half of the inputs are 0, as after a ReLU
    auto check = [](auto conv) {
        using Conv = decltype(conv);
        constexpr int Q = 14 * 14, Cout = Conv::out_size / Q;
        conv.b.setRandom();
        const Int8Conv2D<float, 3, Cout, 5, 14, 14, 1, 2> q(conv);
        const Batch<float, 588> x = random_batch<588, float>(2, 8, -1, 1).cwiseMax(0.f);
        typename decltype(q)::Workspace ws;
        const auto& y = q.predict(x, ws);
        for (int n = 0; n < 2; ++n)
            for (int oy = 0; oy < 14; ++oy)
                for (int ox = 0; ox < 14; ++ox) {
                    Eigen::VectorXf patch(75);
                    for (int c = 0; c < 3; ++c)
                        for (int ky = 0; ky < 5; ++ky)
                            for (int kx = 0; kx < 5; ++kx) {
                                const int iy = oy - 2 + ky, ix = ox - 2 + kx;
                                patch((c * 5 + ky) * 5 + kx) =
                                    (iy >= 0 && iy < 14 && ix >= 0 && ix < 14) ? x((c * 14 + iy) * 14 + ix, n) : 0.f;
                            }
                    const Eigen::VectorXf expected = naive_int8(q.weight, patch) + Eigen::VectorXf(conv.b);
                    for (int o = 0; o < Cout; ++o) REQUIRE(y(o * Q + oy * 14 + ox, n) == expected(o));  // bit for bit
                }
    };
    check(Conv2D<float, 3, 16, 5, 14, 14, 1, 2>(7));
    check(Conv2D<float, 3, 32, 5, 14, 14, 1, 2>(9));
}

#ifdef NEURONKA_DETAIL_INT8_X86
TEST_CASE("both int8 vector kernels give the exact integer sums, whichever the CPU picks", "[int8][conv]") {
    // the kernels this CPU can run, called directly: a program uses the widest, so the other is tested here
    Rng rng(5);
    constexpr int n = 75, ld = 80;
    Eigen::Matrix<std::int8_t, 32, n> q;
    Eigen::Matrix<std::int8_t, ld, detail::int8_block> xq;
    auto code = [&] { return std::int8_t(int(rng.below(255)) - 127); };  // every code, −127 and 127 included
    for (int i = 0; i < q.size(); ++i) q.data()[i] = code();
    for (int i = 0; i < xq.size(); ++i) xq.data()[i] = code();
    std::int32_t expected[detail::int8_block][32];
    for (int p = 0; p < detail::int8_block; ++p)
        for (int r = 0; r < 32; ++r) {
            expected[p][r] = 0;
            for (int i = 0; i < n; ++i) expected[p][r] += std::int32_t(q(r, i)) * std::int32_t(xq(i, p));
        }
    std::int32_t acc[detail::int8_block][32] = {};
    if (__builtin_cpu_supports("avx2")) {
        for (int p = 0; p < detail::int8_block; p += 2)
            detail::int8_block_avx2<32, 2>(q.data(), n, xq.data() + p * ld, ld, acc[p]);
        for (int p = 0; p < detail::int8_block; ++p)
            for (int r = 0; r < 32; ++r) REQUIRE(acc[p][r] == expected[p][r]);
    }
    if (__builtin_cpu_supports("avx512bw")) {
        std::fill_n(&acc[0][0], detail::int8_block * 32, 0);
        detail::int8_block_avx512<32, detail::int8_block>(q.data(), n, xq.data(), ld, &acc[0][0]);
        for (int p = 0; p < detail::int8_block; ++p)
            for (int r = 0; r < 32; ++r) REQUIRE(acc[p][r] == expected[p][r]);
    }
}
#endif

TEST_CASE("a quantised model predicts close to the float one, which is unchanged", "[int8][model]") {
    using Cnn = Sequential<Conv2D<float, 1, 6, 3, 12, 12, 1, 1>, ReLU, MaxPool2D<float, 6, 12, 12, 2>,
                           Residual<Dense<float, 216, 216>, Tanh>, Dropout<1, 2>, Dense<float, 216, 10>>;
    static_assert(
        std::is_same_v<Int8Model<Cnn>, Sequential<Int8Conv2D<float, 1, 6, 3, 12, 12, 1, 1>,
                                                  Activation<float, 864, ReLU>, MaxPool2D<float, 6, 12, 12, 2>,
                                                  Residual<Int8Dense<float, 216, 216>, Activation<float, 216, Tanh>>,
                                                  DropoutLayer<float, 216, 1, 2>, Int8Dense<float, 216, 10>>>);
    Cnn model(5);
    const Cnn before = model;
    auto q = quantize(model);
    const Batch<float, 144> x = random_batch<144, float>(40, 6, 0, 1);
    Cnn::Workspace fws;
    decltype(q)::Workspace qws;
    const Batch<float, 10> exact = model.predict(x, fws);
    const Batch<float, 10>& y = q.predict(x, qws);
    CHECK((y - exact).cwiseAbs().maxCoeff() < 0.03f * exact.cwiseAbs().maxCoeff());
    int same = 0;
    for (Eigen::Index c = 0; c < 40; ++c) {
        Eigen::Index a, b;
        y.col(c).maxCoeff(&a), exact.col(c).maxCoeff(&b);
        same += a == b;
    }
    CHECK(same >= 36);
    CHECK(Eigen::MatrixXf(model.layer<0>().W) == Eigen::MatrixXf(before.layer<0>().W));  // the float model is untouched
}

TEST_CASE("an int8 file is a quarter of the float size and loads back bitwise; bad files are refused", "[int8][file]") {
    using Mlp = Sequential<Dense<float, 64, 32>, ReLU, Dense<float, 32, 10>>;
    Mlp model(7);
    auto q = quantize(model);
    const std::string path = temp_path("mlp.int8");
    save_int8(q, path);
    const auto size = std::filesystem::file_size(path);
    const std::size_t codes = 64 * 32 + 32 * 10, floats = 2 * (32 + 10);  // scales and biases
    CHECK(size == 16 + 6 * 9 + codes + 4 * floats + 4);                   // header, 6 array headers, arrays, checksum
    CHECK(double(size) < 0.3 * 4 * double(Mlp::parameter_count));

    Int8Model<Mlp> loaded;
    load_int8(loaded, path);
    const Batch<float, 64> x = random_batch<64, float>(5, 8);
    Int8Model<Mlp>::Workspace a, b;
    CHECK(loaded.predict(x, a) == q.predict(x, b));

    // one byte changed: the checksum says so, and the model keeps its values
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        char c;
        f.read(&c, 1), f.seekp(100), c ^= 1, f.write(&c, 1);
    }
    Int8Model<Mlp> untouched = loaded;
    CHECK_THROWS_WITH(load_int8(loaded, path), Contains("the checksum does not match"));
    CHECK(loaded.predict(x, a) == untouched.predict(x, b));
    // a file for another model
    using Other = Sequential<Dense<float, 64, 16>, ReLU, Dense<float, 16, 10>>;
    auto other = quantize(Other(1));
    const std::string other_path = temp_path("other.int8");
    save_int8(other, other_path);
    CHECK_THROWS_WITH(load_int8(loaded, other_path), Contains("bytes, this model's int8 file has"));
    CHECK_THROWS_WITH(load_int8(loaded, temp_path("missing.int8")), Contains("cannot open"));
}
