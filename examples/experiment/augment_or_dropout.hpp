// The second experiment: for a small Fashion-MNIST CNN at a fixed budget, does augmenting the
// training images (shifts of up to 2 pixels and horizontal flips) beat dropout before the last
// layer? One run trains one of the two from one seed (initialisation, batch order, dropout masks
// and augmentation draws) and returns its test accuracy.
#pragma once

#include "experiment.hpp"

namespace experiment {

/// conv 5×5 (8 filters) → ReLU → max-pool 2 → dense 64 → ReLU → [dropout ½] → dense 10
template <bool WithDropout>
using SmallCnn = std::conditional_t<
    WithDropout,
    neuronka::Sequential<neuronka::Conv2D<float, 1, 8, 5, 28, 28, 1, 2>, neuronka::ReLU,
                         neuronka::MaxPool2D<float, 8, 28, 28, 2>, neuronka::Dense<float, 8 * 14 * 14, 64>,
                         neuronka::ReLU, neuronka::Dropout<1, 2>, neuronka::Dense<float, 64, 10>>,
    neuronka::Sequential<neuronka::Conv2D<float, 1, 8, 5, 28, 28, 1, 2>, neuronka::ReLU,
                         neuronka::MaxPool2D<float, 8, 28, 28, 2>, neuronka::Dense<float, 8 * 14 * 14, 64>,
                         neuronka::ReLU, neuronka::Dense<float, 64, 10>>>;

/// One run: "augmentation" trains the CNN without dropout on augmented images, "dropout" the CNN
/// with dropout on the images as they are; the same budget (Setup) for both.
inline double cnn_test_accuracy(bool augmentation, std::uint64_t seed, const Data& data, const Setup& s) {
    neuronka::SoftmaxCrossEntropy<float, 10> loss;
    neuronka::AdamW<float> optimizer({.learning_rate = s.learning_rate});
    auto run = [&](auto& model, const neuronka::ImageAugmentation& augment) {
        neuronka::fit(model, loss, optimizer, data.train,
                      {.epochs = s.epochs, .batch_size = s.batch_size, .seed = seed, .augment = augment});
        model.set_mode(neuronka::Mode::evaluation);
        double correct = 0;  // in batches of 1000 images: one batch of 10,000 would need 0.8 GB of patches
        for (Eigen::Index first = 0; first < data.test.x.cols(); first += 1000) {
            const Eigen::Index n = std::min<Eigen::Index>(1000, data.test.x.cols() - first);
            const auto labels = std::span<const int>(data.test.labels).subspan(std::size_t(first), std::size_t(n));
            correct += double(n) * neuronka::accuracy(model.forward(data.test.x.middleCols(first, n)), labels);
        }
        return correct / double(data.test.x.cols());
    };
    if (augmentation) {
        auto model = std::make_unique<SmallCnn<false>>(seed);
        return run(*model,
                   {.channels = 1, .height = 28, .width = 28, .max_shift = 2, .horizontal_flip = true, .seed = seed});
    }
    auto model = std::make_unique<SmallCnn<true>>(seed);
    return run(*model, {});
}

}  // namespace experiment
