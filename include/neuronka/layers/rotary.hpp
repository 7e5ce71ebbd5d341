/// @file
/// @brief Rotary position embeddings (RoPE, Su et al.) in the rotate-half form Llama uses: the
/// queries and keys of each head are turned by angles that grow with the token's position, so
/// their dot product depends on how far apart two tokens are. Attention<..., Rotary = true> uses it.
#pragma once

#include "../core/config.hpp"

#include <cmath>

namespace neuronka::detail {

/**
 * @brief For a head of hd features (hd even, half = hd / 2) at position t:
 *
 *     θⱼ = base^(−2j / hd),  j < half
 *     q'ⱼ = qⱼ cos(t θⱼ) − q_{j+half} sin(t θⱼ)
 *     q'_{j+half} = q_{j+half} cos(t θⱼ) + qⱼ sin(t θⱼ)
 *
 * i.e. q' = q ⊙ cos + rotate_half(q) ⊙ sin with rotate_half(q) = [−q₂; q₁]. The backward turns the
 * gradient back by −t θⱼ (a rotation's transpose is its inverse). Code of the scalar type only.
 */
template <class Scalar>
struct Rotary {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< tables and activations

    /// cos(t θⱼ) and sin(t θⱼ) for j < hd/2, t < Tn: (hd/2) × Tn each (the angle in double).
    static void table(Eigen::Index Tn, Eigen::Index head_size, double base, Matrix& cos, Matrix& sin) {
        const Eigen::Index half = head_size / 2;
        cos.resize(half, Tn), sin.resize(half, Tn);
        for (Eigen::Index t = 0; t < Tn; ++t)
            for (Eigen::Index j = 0; j < half; ++j) {
                const double angle = double(t) * std::pow(base, -2.0 * double(j) / double(head_size));
                cos(j, t) = Scalar(std::cos(angle)), sin(j, t) = Scalar(std::sin(angle));
            }
    }

    /// Turns rows [0, rows) of m — heads of hd rows each — of every column c by the angles of
    /// position c mod Tn; by the opposite angles when `inverse` (the backward).
    static void rotate(Matrix& m, Eigen::Index rows, Eigen::Index head_size, Eigen::Index Tn, const Matrix& cos,
                       const Matrix& sin, bool inverse) {
        const Eigen::Index half = head_size / 2;
        const Scalar sign = inverse ? Scalar(-1) : Scalar(1);
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            const Scalar* cs = cos.col(c % Tn).data();
            const Scalar* sn = sin.col(c % Tn).data();
            Scalar* column = m.col(c).data();
            for (Eigen::Index r = 0; r < rows; r += head_size) {
                Scalar *a = column + r, *b = column + r + half;
                for (Eigen::Index j = 0; j < half; ++j) {
                    const Scalar x1 = a[j], x2 = b[j], s = sign * sn[j];
                    a[j] = x1 * cs[j] - x2 * s;  // q'ⱼ = qⱼ cos − q_{j+half} sin
                    b[j] = x2 * cs[j] + x1 * s;  // q'_{j+half} = q_{j+half} cos + qⱼ sin
                }
            }
        }
    }
};

}  // namespace neuronka::detail
