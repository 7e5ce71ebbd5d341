// Image augmentation: each transform against its definition (a flip is a mirror image, a shift a
// translation with zeros shifted in, within its range), noise with its standard deviation, the
// same seed giving bitwise the same batches, nothing allocated when warm, errors, and fit() with it.
#include "no_malloc.hpp"  // first: it sets Eigen's malloc check before Eigen is included

#include <neuronka/compose/sequential.hpp>
#include <neuronka/data/augment.hpp>
#include <neuronka/data/dataset.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/fit.hpp>
#include <neuronka/train/loss.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace neuronka;
using Catch::Matchers::Contains;

namespace {
// 2 channels of 5 × 6 images with distinct values 1, 2, ... (no zeros), 12 of them, labelled 0/1
Dataset<double, 60> images() {
    Dataset<double, 60> d;
    d.x.resize(60, 12);
    for (Eigen::Index j = 0; j < 12; ++j)
        for (Eigen::Index i = 0; i < 60; ++i) d.x(i, j) = double(1 + i + 100 * j);
    for (int j = 0; j < 12; ++j) d.labels.push_back(j % 2);
    d.classes = 2;
    return d;
}
double pixel(const Eigen::VectorXd& img, long c, long r, long col) {
    return img(c * 30 + r * 6 + col);
}
// Whether `out` is `in` mirrored (when `flip`) and shifted by (dy, dx) with zeros shifted in.
bool is_transform(const Eigen::VectorXd& out, const Eigen::VectorXd& in, bool flip, long dy, long dx) {
    for (long c = 0; c < 2; ++c)
        for (long r = 0; r < 5; ++r)
            for (long col = 0; col < 6; ++col) {
                const long sr = r - dy, sc = col - dx;
                const double expected =
                    (sr < 0 || sr >= 5 || sc < 0 || sc >= 6) ? 0.0 : pixel(in, c, sr, flip ? 5 - sc : sc);
                if (pixel(out, c, r, col) != expected) return false;
            }
    return true;
}
}  // namespace

TEST_CASE("flips and shifts are mirror images and translations within their range", "[augment]") {
    const Dataset<double, 60> data = images();
    Batches<double, 60> batches(data, 12, 0, false);
    batches.augment({.channels = 2, .height = 5, .width = 6, .max_shift = 2, .horizontal_flip = true, .seed = 3});
    int flipped = 0, shifted = 0, checked = 0;
    for (int epoch = 0; epoch < 20; ++epoch) {
        batches.start_epoch();
        REQUIRE(batches.next());
        for (Eigen::Index j = 0; j < 12; ++j) {
            const Eigen::VectorXd out = batches.x().col(j), in = data.x.col(j);
            bool found = false;
            for (int flip = 0; flip < 2 && !found; ++flip)
                for (long dy = -2; dy <= 2 && !found; ++dy)
                    for (long dx = -2; dx <= 2 && !found; ++dx)
                        if (is_transform(out, in, flip, dy, dx)) {
                            found = true, flipped += flip, shifted += (dy || dx), ++checked;
                        }
            CHECK(found);
        }
    }
    CHECK(checked == 240);
    CHECK(flipped > 80);  // about half of 240
    CHECK(flipped < 160);
    CHECK(shifted > 200);  // 24 of 25 shifts move the image
}

TEST_CASE("noise has the standard deviation asked for", "[augment]") {
    Dataset<double, 60> data = images();
    data.x.setZero();
    Batches<double, 60> batches(data, 12, 0, false);
    batches.augment({.channels = 2, .height = 5, .width = 6, .noise_sd = 0.5, .seed = 1});
    double sum = 0, squares = 0;
    long n = 0;
    for (int epoch = 0; epoch < 50; ++epoch) {
        batches.start_epoch();
        batches.next();
        sum += batches.x().sum(), squares += batches.x().squaredNorm(), n += long(batches.x().size());
    }
    CHECK(std::abs(sum / double(n)) < 0.02);  // 36,000 draws: 4 standard errors of the mean
    CHECK(std::sqrt(squares / double(n)) == Approx(0.5).epsilon(0.02));
}

TEST_CASE("augmentation is reproducible from its seed and allocates nothing when warm", "[augment]") {
    const Dataset<double, 60> data = images();
    const ImageAugmentation a{
        .channels = 2, .height = 5, .width = 6, .max_shift = 1, .horizontal_flip = true, .noise_sd = 0.1, .seed = 9};
    Batches<double, 60> one(data, 4, 5), two(data, 4, 5), other(data, 4, 5);
    one.augment(a), two.augment(a);
    ImageAugmentation b = a;
    b.seed = 10;
    other.augment(b);
    bool differs = false;
    for (int epoch = 0; epoch < 3; ++epoch) {
        one.start_epoch(), two.start_epoch(), other.start_epoch();
        while (one.next()) {
            two.next(), other.next();
            CHECK(one.x() == two.x());
            CHECK(one.labels()[0] == other.labels()[0]);  // the seed of the order is the batches'
            differs = differs || one.x() != other.x();
        }
    }
    CHECK(differs);
    const no_malloc::Counts counts = no_malloc::count([&] {
        one.start_epoch();
        while (one.next()) {
        }
    });
    CHECK(counts.news == 0);
    CHECK(counts.eigen == 0);
}

TEST_CASE("bad augmentation settings are refused, naming them", "[augment][errors]") {
    const Dataset<double, 60> data = images();
    Batches<double, 60> batches(data, 4);
    CHECK_THROWS_WITH(batches.augment({.channels = 1, .height = 5, .width = 6, .horizontal_flip = true}),
                      Contains("an image of 1 x 5 x 6 has 30 values, but a sample has 60"));
    CHECK_THROWS_WITH(batches.augment({.channels = 2, .height = 5, .width = 6, .max_shift = 5}),
                      Contains("max_shift is 5, expected 0 <= max_shift < min(height, width)"));
    CHECK_THROWS_WITH(batches.augment({.channels = 2, .height = 5, .width = 6, .noise_sd = -1}),
                      Contains("noise_sd is -1"));
    batches.augment({});  // the default does nothing, whatever the shape
}

TEST_CASE("fit trains on augmented batches, and leaves the validation set alone", "[augment][fit]") {
    const Dataset<double, 60> data = images();
    Dataset<double, 60> scaled = data;
    scaled.x /= 1000;
    Sequential<Dense<double, 60, 8>, Tanh, Dense<double, 8, 2>> plain(1), augmented(1);
    SoftmaxCrossEntropy<double, 2> ce;
    AdamW<double> o1, o2;
    const History h1 = fit(plain, ce, o1, scaled, scaled, {.epochs = 3, .batch_size = 4});
    const History h2 = fit(
        augmented, ce, o2, scaled, scaled,
        {.epochs = 3, .batch_size = 4, .augment = {.channels = 2, .height = 5, .width = 6, .max_shift = 1, .seed = 2}});
    CHECK(std::isfinite(h2.epochs.back().train_loss));
    CHECK(h1.epochs.back().train_loss != h2.epochs.back().train_loss);  // it saw other images
    // the same fit again: bitwise the same history
    Sequential<Dense<double, 60, 8>, Tanh, Dense<double, 8, 2>> again(1);
    AdamW<double> o3;
    const History h3 = fit(
        again, ce, o3, scaled, scaled,
        {.epochs = 3, .batch_size = 4, .augment = {.channels = 2, .height = 5, .width = 6, .max_shift = 1, .seed = 2}});
    CHECK(h3.epochs.back().train_loss == h2.epochs.back().train_loss);
    CHECK(h3.epochs.back().valid_loss == h2.epochs.back().valid_loss);
}
