/// @file
/// @brief Seeded augmentation of image batches: random shifts (a crop of the zero-padded image),
/// horizontal flips and Gaussian noise, applied by Batches to each batch it draws.
#pragma once

#include "../core/config.hpp"
#include "../core/random.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace neuronka {

/**
 * @brief What to do to each training image, drawn anew for every image of every batch from one
 * generator seeded with `seed`: the same seed gives bitwise the same batches on one platform.
 * Images are one per column, channel-major (channel, row, column), as Conv2D reads them.
 *
 *     flip      with probability ½, column x ← W − 1 − x                (horizontal_flip)
 *     shift     by (dy, dx), each uniform in [−max_shift, max_shift], zeros shifted in —
 *               torchvision's RandomCrop(H, padding = max_shift)
 *     noise     + N(0, noise_sd²) on every value                          (noise_sd > 0)
 *
 * The default does nothing. `Batches::augment(a)` or `FitOptions::augment` applies it to training
 * batches only; validation and test data are never changed.
 */
struct ImageAugmentation {
    int channels = 1;              ///< C
    int height = 0;                ///< H
    int width = 0;                 ///< W
    int max_shift = 0;             ///< largest shift in pixels, each direction (0: none)
    bool horizontal_flip = false;  ///< mirror half of the images left to right
    double noise_sd = 0;           ///< standard deviation of the added Gaussian noise (0: none)
    std::uint64_t seed = 0;        ///< the generator of every draw

    /// Whether it changes anything.
    bool enabled() const { return max_shift > 0 || horizontal_flip || noise_sd > 0; }
    /// Throws, naming the setting, unless the settings are valid for samples of `features` values.
    void check(long features) const {
        auto bad = [](const std::string& what) { throw std::invalid_argument("ImageAugmentation: " + what); };
        if (channels < 1 || height < 1 || width < 1)
            bad("channels, height and width are " + std::to_string(channels) + ", " + std::to_string(height) + ", " +
                std::to_string(width) +
                ", expected >= 1. Hint: set the image shape, e.g. {.channels = 1, .height "
                "= 28, .width = 28, ...}");
        if (long(channels) * height * width != features)
            bad("an image of " + std::to_string(channels) + " x " + std::to_string(height) + " x " +
                std::to_string(width) + " has " + std::to_string(long(channels) * height * width) +
                " values, but a sample has " + std::to_string(features) + ". Hint: samples are C·H·W images");
        if (max_shift < 0 || max_shift >= std::min(height, width))
            bad("max_shift is " + std::to_string(max_shift) + ", expected 0 <= max_shift < min(height, width)");
        if (!(noise_sd >= 0) || !std::isfinite(noise_sd))
            bad("noise_sd is " + detail::format_value(noise_sd) + ", expected a finite value >= 0");
    }

    /// Applies the augmentation to every column of `x` (C·H·W × B) in place, drawing from `rng`;
    /// `scratch` (C·H·W) is what an image is copied to first: allocation-free once sized.
    template <class Scalar>
    void apply(Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x, Rng& rng,
               Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& scratch) const {
        const long H = height, W = width, plane = H * W;
        scratch.resize(x.rows());
        for (Eigen::Index b = 0; b < x.cols(); ++b) {
            const bool flip = horizontal_flip && rng.below(2) == 1;
            const long dy = max_shift ? long(rng.below(std::uint64_t(2 * max_shift + 1))) - max_shift : 0;
            const long dx = max_shift ? long(rng.below(std::uint64_t(2 * max_shift + 1))) - max_shift : 0;
            if (flip || dy || dx) {
                scratch = x.col(b);
                Scalar* out = x.col(b).data();
                for (long c = 0; c < channels; ++c)
                    for (long r = 0; r < H; ++r)
                        for (long col = 0; col < W; ++col) {  // out(r, col) = in(r − dy, col − dx), mirrored first
                            const long sr = r - dy, sc0 = col - dx;
                            const long sc = flip ? W - 1 - sc0 : sc0;
                            out[c * plane + r * W + col] = (sr >= 0 && sr < H && sc0 >= 0 && sc0 < W)
                                                               ? scratch(c * plane + sr * W + sc)
                                                               : Scalar(0);
                        }
            }
            if (noise_sd > 0)
                for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, b) += Scalar(noise_sd * rng.normal());
        }
    }
};

}  // namespace neuronka
