/// @file
/// @brief int8 inference: Int8Dense and Int8Conv2D hold a trained Dense's or Conv2D's weights as
/// int8 with one scale per output row, and compute with int8 × int8 products summed in int32.
/// models/quantize.hpp turns a whole model into one (quantize()) and saves and loads it.
#pragma once

#include "conv2d.hpp"
#include "dense.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NEURONKA_DETAIL_INT8_X86 1
#endif

namespace neuronka {

namespace detail {

#ifdef NEURONKA_DETAIL_INT8_X86
// acc(p, r) = Σᵢ q(r, i) x_p(i) for Count inputs at once (x_p: n codes at xq + p·ld; q: Rows × n,
// column-major; acc: Count × Rows int32), two codes per multiply: each 32-bit lane holds the pair
// q(r, i), q(r, i + 1) as int16, and madd adds both products into int32, exactly. AVX2 here, AVX-512
// below; the caller picks by the CPU (int8_simd_level), so a portable build uses them too.
template <int Rows, int Count>
__attribute__((target("avx2"))) void int8_block_avx2(const std::int8_t* q, Eigen::Index n, const std::int8_t* xq,
                                                     Eigen::Index ld, std::int32_t* acc) {
    constexpr int C = Rows / 8;  // registers per input
    __m256i a[Count][C];
    for (auto& row : a)
        for (auto& v : row) v = _mm256_setzero_si256();
    const __m256i low = _mm256_set1_epi32(0xFFFF);
    for (Eigen::Index i = 0; i < n; i += 2) {
        const bool pair = i + 1 < n;
        __m256i w[C];
        for (int c = 0; c < C; ++c) {
            const __m256i lo =
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i * Rows + 8 * c)));
            const __m256i hi = pair ? _mm256_cvtepi8_epi32(
                                          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + (i + 1) * Rows + 8 * c)))
                                    : _mm256_setzero_si256();
            w[c] = _mm256_or_si256(_mm256_and_si256(lo, low), _mm256_slli_epi32(hi, 16));
        }
        for (int p = 0; p < Count; ++p) {
            const std::uint32_t x0 = std::uint16_t(std::int16_t(xq[p * ld + i]));
            const std::uint32_t x1 = pair ? std::uint16_t(std::int16_t(xq[p * ld + i + 1])) : 0u;
            const __m256i x = _mm256_set1_epi32(std::int32_t(x0 | (x1 << 16)));
            for (int c = 0; c < C; ++c) a[p][c] = _mm256_add_epi32(a[p][c], _mm256_madd_epi16(w[c], x));
        }
    }
    for (int p = 0; p < Count; ++p)
        for (int c = 0; c < C; ++c) _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + p * Rows + 8 * c), a[p][c]);
}

template <int Rows, int Count>
__attribute__((target("avx512f,avx512bw"))) void int8_block_avx512(const std::int8_t* q, Eigen::Index n,
                                                                   const std::int8_t* xq, Eigen::Index ld,
                                                                   std::int32_t* acc) {
    constexpr int C = Rows / 16;
    constexpr __mmask16 all = 0xFFFF;  // the masked forms: GCC 12 warns of the unmasked ones' undefined lanes
    __m512i a[Count][C];
    for (auto& row : a)
        for (auto& v : row) v = _mm512_setzero_si512();
    const __m512i low = _mm512_maskz_set1_epi32(all, 0xFFFF);
    for (Eigen::Index i = 0; i < n; i += 2) {
        const bool pair = i + 1 < n;
        __m512i w[C];
        for (int c = 0; c < C; ++c) {
            const __m512i lo = _mm512_maskz_cvtepi8_epi32(
                all, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i * Rows + 16 * c)));
            const __m512i hi =
                pair ? _mm512_maskz_cvtepi8_epi32(
                           all, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + (i + 1) * Rows + 16 * c)))
                     : _mm512_setzero_si512();
            w[c] = _mm512_or_si512(_mm512_and_si512(lo, low), _mm512_maskz_slli_epi32(all, hi, 16));
        }
        for (int p = 0; p < Count; ++p) {
            const std::uint32_t x0 = std::uint16_t(std::int16_t(xq[p * ld + i]));
            const std::uint32_t x1 = pair ? std::uint16_t(std::int16_t(xq[p * ld + i + 1])) : 0u;
            const __m512i x = _mm512_maskz_set1_epi32(all, std::int32_t(x0 | (x1 << 16)));
            for (int c = 0; c < C; ++c) a[p][c] = _mm512_add_epi32(a[p][c], _mm512_madd_epi16(w[c], x));
        }
    }
    for (int p = 0; p < Count; ++p)
        for (int c = 0; c < C; ++c) _mm512_storeu_si512(acc + p * Rows + 16 * c, a[p][c]);
}

/// 2 with AVX-512BW, 1 with AVX2, else 0: which int8 kernels this CPU runs.
inline int int8_simd_level() {
    static const int level = __builtin_cpu_supports("avx512bw") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    return level;
}
#endif

/// Inputs an int8 convolution multiplies at once (Int8Rows::times_quantised).
inline constexpr int int8_block = 8;

/// A weight matrix as int8 rows, each with its scale: w(r, i) ≈ scale(r) · q(r, i), q in [−127, 127]
/// (symmetric, per output row, to the nearest code). An input vector is quantised the same way (one scale for the
/// vector) and multiplied into y(r) = scale(r) · sx · Σᵢ q(r, i) xq(i), the sum exact in int32.
/// `Storage`: Eigen::RowMajor (each row's codes together: Int8Dense, `times`, one long dot product per row)
/// or Eigen::ColMajor (each column's codes together: Int8Conv2D, `times_quantised`, all output channels of
/// several patches at once).
template <class Scalar, int Storage = Eigen::RowMajor>
struct Int8Rows {
    Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Storage> q;  ///< rows × cols
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> scale;                         ///< per row

    /// q and scale from a float matrix (rows × cols).
    template <class D>
    void quantise(const Eigen::MatrixBase<D>& w) {
        q.resize(w.rows(), w.cols()), scale.resize(w.rows());
        for (Eigen::Index r = 0; r < w.rows(); ++r) {
            const Scalar m = w.row(r).cwiseAbs().maxCoeff();
            scale(r) = m > Scalar(0) ? m / Scalar(127) : Scalar(1);
            for (Eigen::Index i = 0; i < w.cols(); ++i)
                q(r, i) = std::int8_t(std::rint(std::clamp(w(r, i) / scale(r), Scalar(-127), Scalar(127))));
        }
    }
    /// Row storage: y (rows values, `y_stride` apart) = the product with x (cols values), a dot
    /// product per row; xq: cols of scratch.
    void times(const Scalar* x, Scalar* y, Eigen::Index y_stride, std::int8_t* xq) const {
        static_assert(Storage == Eigen::RowMajor, "Int8Rows::times: for row storage (see times_quantised)");
        const Scalar sx = quantise_input(x, xq);
        const Eigen::Index n = q.cols();
        for (Eigen::Index r = 0; r < q.rows(); ++r) {
            const std::int8_t* w = q.row(r).data();
            std::int32_t acc = 0;
            for (Eigen::Index i = 0; i < n; ++i) acc += std::int32_t(w[i]) * std::int32_t(xq[i]);
            y[r * y_stride] = scale(r) * sx * Scalar(acc);
        }
    }

    /// Column storage, `Rows` rows, int8_block inputs quantised already (input p: q.cols() codes at
    /// xq + p·ld, scale sx[p]; only the first `count` are used): y[r·y_stride + p] = scale(r) · sx[p]
    /// · Σᵢ q(r, i) xq_p(i), the same int32 sums and the same floats as times() gives each input, with
    /// each weight read once for all of them (Int8Conv2D: int8_block output positions at a time).
    template <int Rows>
    void times_quantised(const std::int8_t* xq, Eigen::Index ld, int count, const Scalar* sx, Scalar* y,
                         Eigen::Index y_stride) const {
        static_assert(Storage == Eigen::ColMajor, "Int8Rows::times_quantised: for column storage");
        static_assert(Rows != Eigen::Dynamic && Rows <= 256, "Int8Rows::times_quantised: Rows fixed, at most 256");
        NEURONKA_ASSERT(q.rows() == Rows && count <= int8_block, "Int8Rows::times_quantised: rows, inputs");
        alignas(64) std::int32_t acc[int8_block][Rows];
        if (!simd_block<Rows>(xq, ld, &acc[0][0]))
            for (int p = 0; p < count; ++p) accumulate<Rows>(xq + p * ld, acc[p]);
        for (int p = 0; p < count; ++p)
            for (Eigen::Index r = 0; r < Rows; ++r) y[r * y_stride + p] = scale(r) * sx[p] * Scalar(acc[p][r]);
    }

    /// xq = x quantised to the nearest of −127..127 steps of sx = max|x| / 127 (q.cols() values);
    /// returns sx.
    Scalar quantise_input(const Scalar* x, std::int8_t* xq) const {
        const Eigen::Index n = q.cols();
        const Scalar m = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>(x, n).abs().maxCoeff();
        const Scalar sx = m > Scalar(0) ? m / Scalar(127) : Scalar(1), inv = Scalar(1) / sx;
        for (Eigen::Index i = 0; i < n; ++i) xq[i] = std::int8_t(std::rint(x[i] * inv));  // |x·inv| ≤ 127
        return sx;
    }

private:
    // acc(p, :) for all int8_block inputs with the CPU's vector kernels; false where there are none
    // for these rows (the caller then sums input by input)
    template <int Rows>
    bool simd_block([[maybe_unused]] const std::int8_t* xq, [[maybe_unused]] Eigen::Index ld,
                    [[maybe_unused]] std::int32_t* acc) const {
#ifdef NEURONKA_DETAIL_INT8_X86
        const int level = int8_simd_level();
        if constexpr (Rows % 16 == 0 && Rows <= 32) {
            if (level == 2) return int8_block_avx512<Rows, int8_block>(q.data(), q.cols(), xq, ld, acc), true;
        }
        if constexpr (Rows % 8 == 0 && Rows <= 32) {
            constexpr int count = std::max(1, 8 / (Rows / 8));  // 8 of the 16 registers hold sums
            if (level >= 1) {
                for (int p = 0; p < int8_block; p += count)
                    int8_block_avx2<Rows, count>(q.data(), q.cols(), xq + p * ld, ld, acc + p * Rows);
                return true;
            }
        }
#endif
        return false;
    }
    // acc = Σᵢ q(:, i) xq(i), all Rows rows at once, skipping zeros (ReLU outputs, padding).
    template <int Rows>
    void accumulate(const std::int8_t* xq, std::int32_t* acc) const {
        std::fill_n(acc, Rows, 0);
        std::int32_t* __restrict a = acc;  // int8 pointers may alias anything: say they do not, to vectorise
        for (Eigen::Index i = 0; i < q.cols(); ++i) {
            const std::int32_t xi = xq[i];
            if (xi == 0) continue;
            const std::int8_t* __restrict w = q.col(i).data();
            for (Eigen::Index r = 0; r < Rows; ++r) a[r] += std::int32_t(w[r]) * xi;
        }
    }
};
}  // namespace detail

/**
 * @brief A Dense layer for inference with int8 weights: y = W x + b with W ≈ diag(s) Q per output
 * row, x quantised per column, Q x summed exactly in int32. Made from a trained Dense by
 * `Int8Dense(dense)` or quantize(model); a quarter of the weights' bytes. It predicts only:
 * backward throws (train the float model, quantise again).
 */
template <class Scalar, int In, int Out, bool Bias = true>
struct Int8Dense {
    using scalar_type = Scalar;                                                               ///< float or double
    static constexpr int in_size = In;                                                        ///< In
    static constexpr int out_size = Out;                                                      ///< Out
    static constexpr std::size_t parameter_count = std::size_t(In) * Out + (Bias ? Out : 0);  ///< as the Dense's
    static constexpr std::size_t parameter_tensors = 0;                                       ///< none trainable

    detail::Int8Rows<Scalar> weight;  ///< Q and the row scales, Out × In
    Vector<Scalar, Out> b;            ///< the biases, Out (empty without a bias)

    /// Zero weights (a placeholder until quantised from a Dense).
    explicit Int8Dense(std::uint64_t = 0) : b(Bias ? Out : 0) {
        weight.quantise(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(Out, In)), b.setZero();
    }
    /// The trained `dense`, quantised.
    explicit Int8Dense(const Dense<Scalar, In, Out, Bias>& dense) : b(dense.b) { weight.quantise(dense.W); }
    /// The Dense's FLOPs forward; nothing backward.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), 2.0 * In * Out, 0, double(In + Out) * sizeof(Scalar)};
    }
    /// The name with its sizes.
    static std::string name() { return layer_name({"Int8Dense<In=", In, ",Out=", Out, ">"}); }
    /// Nothing to draw: the weights come from a trained Dense.
    void init(Rng&) {}
    /// No gradients.
    void zero_grad() {}
    /// Not trainable: `f` is never called.
    template <class F>
    void visit_parameters(F&&) {}

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, Out> y;                              ///< the output, Out × B
        Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> xq;  ///< one column quantised, In
    };
    /// x: In × B  →  y: Out × B in `ws`; reads the weights only (threads may share the layer).
    template <class Derived>
    const Batch<Scalar, Out>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        check_input({&name, "predict"}, x, In);
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);
        ws.y.resize(Out, xr.cols()), ws.xq.resize(In);
        for (Eigen::Index c = 0; c < xr.cols(); ++c) {
            weight.times(xr.col(c).data(), ws.y.col(c).data(), 1, ws.xq.data());
            if constexpr (Bias) ws.y.col(c) += b;
        }
        return ws.y;
    }
    /// x: In × B  →  y: Out × B, as predict.
    template <class Derived>
    const Batch<Scalar, Out>& forward(const Eigen::MatrixBase<Derived>& x) {
        return predict(x, ws_);
    }
    /// Throws: an int8 layer is for inference.
    template <class X, class DY>
    const Batch<Scalar, In>& backward(const X&, const DY&) {
        throw std::logic_error(name() +
                               "::backward: int8 layers are for inference only. Hint: train the float "
                               "model, then quantize() it again");
    }
    /// The output of the last forward.
    const Batch<Scalar, Out>& output() const { return ws_.y; }

private:
    Workspace ws_;
};

/**
 * @brief A Conv2D for inference with int8 filters (one scale per output channel); each image
 * patch is quantised on its own and multiplied in int32, as Int8Dense does, 8 output positions at a
 * time (with AVX-512BW or AVX2, when the CPU has them, two codes per multiply). Made from a trained
 * Conv2D; predicts only.
 */
template <class Scalar, int InChannels, int OutChannels, int Kernel, int Height, int Width, int Stride = 1,
          int Padding = 0>
struct Int8Conv2D {
    using Float = Conv2D<Scalar, InChannels, OutChannels, Kernel, Height, Width, Stride, Padding>;  ///< the float layer
    using scalar_type = Scalar;                                                                     ///< float or double
    static constexpr int in_size = Float::in_size;                                                  ///< Cin·Y·X
    static constexpr int out_size = Float::out_size;                                                ///< Cout·OY·OX
    static constexpr std::size_t parameter_count = Float::parameter_count;                          ///< as the Conv2D's
    static constexpr std::size_t parameter_tensors = 0;                                             ///< none trainable
    static constexpr int positions = Float::positions;                                              ///< Q = OY·OX
    static constexpr int patch = Float::patch;                                                      ///< CKK

    static_assert(OutChannels <= 256, "Int8Conv2D: at most 256 output channels");
    detail::Int8Rows<Scalar, Eigen::ColMajor> weight;  ///< Q and the per-filter scales, Cout × CKK
    Vector<Scalar, OutChannels> b;                     ///< the biases, Cout

    /// Zero filters (a placeholder until quantised from a Conv2D).
    explicit Int8Conv2D(std::uint64_t = 0) : b(OutChannels) {
        weight.quantise(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(OutChannels, patch)), b.setZero();
    }
    /// The trained `conv`, quantised.
    explicit Int8Conv2D(const Float& conv) : b(conv.b) { weight.quantise(conv.W); }
    /// The Conv2D's FLOPs forward; nothing backward.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), Float::cost().forward_flops, 0, double(in_size + out_size) * sizeof(Scalar)};
    }
    /// The name with its sizes.
    static std::string name() { return layer_name({"Int8", Float::name()}); }
    /// Nothing to draw.
    void init(Rng&) {}
    /// No gradients.
    void zero_grad() {}
    /// Not trainable.
    template <class F>
    void visit_parameters(F&&) {}

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, out_size> y;                                      ///< (Cout·Q) × B
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> patch_values;          ///< one patch, CKK
        Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> xq;  ///< int8_block patches quantised, CKK each
    };
    /// x: (Cin·Y·X) × B  →  y: (Cout·OY·OX) × B in `ws`.
    template <class Derived>
    const Batch<Scalar, out_size>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws) const {
        check_input({&name, "predict"}, x, in_size);
        const Eigen::Ref<const Batch<Scalar, in_size>> xr(x);
        ws.y.resize(out_size, xr.cols()), ws.patch_values.resize(patch);
        if (ws.xq.rows() != patch || ws.xq.cols() != detail::int8_block)
            ws.xq.setZero(patch, detail::int8_block);  // the vector kernels read every column
        constexpr int OX = Float::out_width;
        Scalar sx[detail::int8_block];
        for (Eigen::Index n = 0; n < xr.cols(); ++n) {
            const Scalar* img = xr.col(n).data();
            // int8_block output positions at a time: their patches quantised, then multiplied together
            for (int q0 = 0; q0 < positions; q0 += detail::int8_block) {
                const int count = std::min(detail::int8_block, positions - q0);
                for (int k = 0; k < count; ++k) {
                    const int oy = (q0 + k) / OX, ox = (q0 + k) % OX;
                    Scalar* p = ws.patch_values.data();  // p(c·K·K + ky·K + kx) = the pixel under the kernel, or 0
                    const int x0 = ox * Stride - Padding;
                    for (int c = 0; c < InChannels; ++c)
                        for (int ky = 0; ky < Kernel; ++ky, p += Kernel) {
                            const int iy = oy * Stride - Padding + ky;
                            if (iy < 0 || iy >= Height) {
                                std::fill_n(p, Kernel, Scalar(0));
                                continue;
                            }
                            const Scalar* row = img + (c * Height + iy) * Width;
                            for (int kx = 0; kx < Kernel; ++kx)
                                p[kx] = (x0 + kx >= 0 && x0 + kx < Width) ? row[x0 + kx] : Scalar(0);
                        }
                    sx[k] = weight.quantise_input(ws.patch_values.data(), ws.xq.col(k).data());
                }
                // y(o·Q + q, n) for every output channel o, Q apart
                Scalar* y = ws.y.col(n).data() + q0;
                weight.template times_quantised<OutChannels>(ws.xq.data(), patch, count, sx, y, positions);
                for (int o = 0; o < OutChannels; ++o)
                    for (int k = 0; k < count; ++k) y[o * positions + k] += b(o);
            }
        }
        return ws.y;
    }
    /// As predict.
    template <class Derived>
    const Batch<Scalar, out_size>& forward(const Eigen::MatrixBase<Derived>& x) {
        return predict(x, ws_);
    }
    /// Throws: an int8 layer is for inference.
    template <class X, class DY>
    const Batch<Scalar, in_size>& backward(const X&, const DY&) {
        throw std::logic_error(name() +
                               "::backward: int8 layers are for inference only. Hint: train the float "
                               "model, then quantize() it again");
    }
    /// The output of the last forward.
    const Batch<Scalar, out_size>& output() const { return ws_.y; }

private:
    Workspace ws_;
};

}  // namespace neuronka
