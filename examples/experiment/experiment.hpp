// The experiment: does GELU train a better Fashion-MNIST classifier than ReLU in the same budget?
// One run trains the MLP 784-128-10 with one activation from one seed (its initialisation and its
// batch order), and returns its test accuracy. Everything random comes from the seed, so a run
// reproduces exactly.
#pragma once

#include <neuronka/data/idx.hpp>
#include <neuronka/neuronka.hpp>
#include <neuronka/train/fit.hpp>

#include <cstdint>
#include <string>

namespace experiment {

/// The budget of one run.
struct Setup {
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    std::size_t train_images = 6000;  ///< the first N training images
    int epochs = 2;
    int batch_size = 64;
    float learning_rate = 2e-3f;
};

/// The data every run shares, read once.
struct Data {
    neuronka::Dataset<float, 784> train, test;
    explicit Data(const Setup& s) {
        train = neuronka::read_idx_dataset<float, 784>(s.data_dir + "/train-images-idx3-ubyte.gz",
                                                       s.data_dir + "/train-labels-idx1-ubyte.gz", 10);
        test = neuronka::read_idx_dataset<float, 784>(s.data_dir + "/t10k-images-idx3-ubyte.gz",
                                                      s.data_dir + "/t10k-labels-idx1-ubyte.gz", 10);
        std::vector<std::size_t> first(std::min(s.train_images, train.size()));
        for (std::size_t i = 0; i < first.size(); ++i) first[i] = i;
        train = train.subset(first);
    }
};

template <class Activation>
using Mlp = neuronka::Sequential<neuronka::Dense<float, 784, 128>, Activation, neuronka::Dense<float, 128, 10>>;

/// One run: the test accuracy of the MLP with `Activation`, trained from `seed`.
template <class Activation>
double test_accuracy(std::uint64_t seed, const Data& data, const Setup& s) {
    Mlp<Activation> model(seed);
    neuronka::SoftmaxCrossEntropy<float, 10> loss;
    neuronka::AdamW<float> optimizer({.learning_rate = s.learning_rate});
    neuronka::fit(model, loss, optimizer, data.train, {.epochs = s.epochs, .batch_size = s.batch_size, .seed = seed});
    model.set_mode(neuronka::Mode::evaluation);
    return neuronka::accuracy(model.forward(data.test.x), data.test.labels);
}

}  // namespace experiment
