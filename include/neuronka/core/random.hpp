/// @file
/// @brief Seeded, platform-independent random numbers and weight initialisers (uniform and normal
/// Xavier, He and LeCun, orthogonal, zeros).
///
/// The standard library's distributions are implementation-defined (libstdc++, libc++ and MSVC
/// give different numbers for the same engine), so neuronka draws its own: xoshiro256** seeded
/// through splitmix64, and uniform floats built from the top bits with exact arithmetic only.
/// Everything the uniform initialisers (the defaults) use is exact IEEE arithmetic plus one
/// correctly rounded sqrt, so the same seed gives bitwise the same model with any conforming
/// compiler; the normal and orthogonal ones use std::log and std::cos (Rng::normal).
#pragma once

#include "config.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace neuronka {

/// xoshiro256** generator. Copyable state; the same seed gives the same stream everywhere.
class Rng {
public:
    /// A generator whose stream is determined by `seed`.
    explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

    /// Restarts the stream from `seed`, as a new generator would.
    void reseed(std::uint64_t seed) {
        for (auto& word : s_) word = splitmix64(seed);
    }

    /// The next 64 random bits.
    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits (exactly representable, no rounding).
    double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Uniform integer in [0, n), unbiased (rejection sampling). Requires n > 0.
    std::uint64_t below(std::uint64_t n) {
        if (n == 0) throw std::invalid_argument("Rng::below: n is 0, expected at least 1");
        const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
        std::uint64_t r;
        do r = next_u64();
        while (r >= limit);
        return r % n;
    }

    /// Standard normal sample (Box-Muller). Uses std::log and std::cos, so it is reproducible
    /// on one platform; the weight initialisers below do not use it.
    double normal() {
        double u1 = 0.0;
        while (u1 == 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }

    /// The full state, for checkpoints.
    const std::uint64_t* state() const { return s_; }
    /// Restores a state read by state().
    void set_state(const std::uint64_t (&s)[4]) {
        for (int i = 0; i < 4; ++i) s_[i] = s[i];
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t s_[4];
};

/// How a weight matrix (fan_out × fan_in) is initialised; biases always start at zero. The
/// names and formulas are PyTorch's `nn.init` ones with gain 1 (He: the ReLU gain √2).
enum class Init {
    xavier,         ///< Glorot uniform: U(−a, a), a = √(6 / (fan_in + fan_out)); suits tanh, sigmoid, identity
    he,             ///< He uniform: U(−a, a), a = √(6 / fan_in); suits ReLU and GELU
    xavier_normal,  ///< Glorot normal: N(0, 2 / (fan_in + fan_out))
    he_normal,      ///< He normal: N(0, 2 / fan_in)
    lecun,          ///< LeCun uniform: U(−a, a), a = √(3 / fan_in)
    lecun_normal,   ///< LeCun normal: N(0, 1 / fan_in)
    orthogonal,     ///< a random orthogonal matrix (orthonormal columns, or rows when wider than tall)
    zeros,          ///< all zero
    xavier_uniform = xavier,  ///< the same as xavier
    he_uniform = he,          ///< the same as he
    lecun_uniform = lecun,    ///< the same as lecun
};

/// Fills `w` from `rng` with U(−bound, bound), column by column. Each entry is a · (2u − 1) with u a
/// 24-bit (float) or 53-bit (double) uniform: exact except for one multiplication, hence bitwise
/// reproducible.
template <class Derived>
void initialise_uniform(Eigen::MatrixBase<Derived>& w, Rng& rng, double bound) {
    using Scalar = typename Derived::Scalar;
    const Scalar a = Scalar(bound);
    constexpr int bits = std::numeric_limits<Scalar>::digits;  // 24 for float, 53 for double
    const Scalar scale = Scalar(std::ldexp(1.0, -bits));
    for (Eigen::Index j = 0; j < w.cols(); ++j)
        for (Eigen::Index i = 0; i < w.rows(); ++i) {
            const Scalar u = Scalar(rng.next_u64() >> (64 - bits)) * scale;  // exact, in [0, 1)
            w(i, j) = a * (Scalar(2) * u - Scalar(1));
        }
}

/// Fills `w` from `rng` with N(0, sd²), column by column (Rng::normal: reproducible on one
/// platform, as it uses std::log and std::cos).
template <class Derived>
void initialise_normal(Eigen::MatrixBase<Derived>& w, Rng& rng, double sd) {
    using Scalar = typename Derived::Scalar;
    for (Eigen::Index j = 0; j < w.cols(); ++j)
        for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = Scalar(sd * rng.normal());
}

/// Fills `w` with a random orthogonal matrix: a normal matrix whose columns (rows, when `w` is
/// wider than tall) are made orthonormal by Gram-Schmidt, twice for accuracy — the Q of its QR
/// factorisation with a positive diagonal of R, as PyTorch's `nn.init.orthogonal_`.
template <class Derived>
void initialise_orthogonal(Eigen::MatrixBase<Derived>& w, Rng& rng) {
    const bool wide = w.cols() > w.rows();
    Eigen::MatrixXd q(wide ? w.cols() : w.rows(), wide ? w.rows() : w.cols());  // tall: rows ≥ cols
    for (Eigen::Index j = 0; j < q.cols(); ++j)
        for (Eigen::Index i = 0; i < q.rows(); ++i) q(i, j) = rng.normal();
    for (Eigen::Index j = 0; j < q.cols(); ++j) {
        for (int pass = 0; pass < 2; ++pass)
            for (Eigen::Index k = 0; k < j; ++k) q.col(j) -= q.col(k).dot(q.col(j)) * q.col(k);
        q.col(j).normalize();
    }
    if (wide)
        w = q.transpose().cast<typename Derived::Scalar>();
    else
        w = q.cast<typename Derived::Scalar>();
}

/// Fills `w` (fan_out × fan_in) from `rng` with the given scheme.
template <class Derived>
void initialise(Eigen::MatrixBase<Derived>& w, Rng& rng, Init scheme) {
    using Scalar = typename Derived::Scalar;
    if constexpr (std::is_base_of_v<Eigen::PlainObjectBase<Derived>, Derived> &&
                  (!Derived::IsRowMajor || Derived::RowsAtCompileTime == 1)) {
        // a matrix of any size, seen as the dynamic column-major one it is in memory: the code below
        // is compiled once per scalar type, not once per layer shape (with NEURONKA_COMPILED, linked
        // from neuronka::compiled)
        Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> view(w.derived().data(), w.rows(), w.cols());
        initialise(view, rng, scheme);
    } else {
        const double fan_in = double(w.cols()), fan_out = double(w.rows());
        switch (scheme) {
            case Init::xavier:
                return initialise_uniform(w, rng, std::sqrt(6.0 / (fan_in + fan_out)));
            case Init::he:
                return initialise_uniform(w, rng, std::sqrt(6.0 / fan_in));
            case Init::lecun:
                return initialise_uniform(w, rng, std::sqrt(3.0 / fan_in));
            case Init::xavier_normal:
                return initialise_normal(w, rng, std::sqrt(2.0 / (fan_in + fan_out)));
            case Init::he_normal:
                return initialise_normal(w, rng, std::sqrt(2.0 / fan_in));
            case Init::lecun_normal:
                return initialise_normal(w, rng, std::sqrt(1.0 / fan_in));
            case Init::orthogonal:
                return initialise_orthogonal(w, rng);
            case Init::zeros:
                w.setZero();
                return;
        }
    }
}

}  // namespace neuronka

/// The instantiations neuronka::compiled holds (src/compiled_*.cpp), declared extern below with NEURONKA_COMPILED.
#define NEURONKA_DETAIL_INSTANTIATE_INIT(prefix, Scalar)                                                          \
    prefix template void neuronka::initialise<Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>>( \
        Eigen::MatrixBase<Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>>&, neuronka::Rng&,    \
        neuronka::Init);
#ifdef NEURONKA_COMPILED
NEURONKA_DETAIL_INSTANTIATE_INIT(extern, float)
NEURONKA_DETAIL_INSTANTIATE_INIT(extern, double)
#endif
