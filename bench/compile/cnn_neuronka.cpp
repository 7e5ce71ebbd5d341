// Compile-time bench program (bench/compile_times.sh): a small CNN (conv 5x5x16, pool, conv 5x5x32,
// pool, dense 128 with dropout, dense 10) trained on random 28x28 images, as a user writes it with neuronka. Its
// hand-written twin is cnn_eigen.cpp.
#include <neuronka/neuronka.hpp>

#include <cstdio>
#include <vector>

using namespace neuronka;

int main() {
    using Cnn = Sequential<Conv2D<float, 1, 16, 5, 28, 28, 1, 2>, ReLU, MaxPool2D<float, 16, 28, 28, 2>,
                           Conv2D<float, 16, 32, 5, 14, 14, 1, 2>, ReLU, MaxPool2D<float, 32, 14, 14, 2>, Flatten,
                           Dense<float, 32 * 7 * 7, 128>, ReLU, Dropout<1, 2>, Dense<float, 128, 10>>;
    Cnn model(1);
    SoftmaxCrossEntropy<float, 10> ce;
    SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
    const int B = 16;
    const Batch<float, 784> x = Batch<float, 784>::Random(784, B);
    std::vector<int> y(B);
    for (int i = 0; i < B; ++i) y[std::size_t(i)] = i % 10;
    float loss = 0;
    for (int step = 0; step < 3; ++step) {
        loss = ce.forward(model.forward(x), std::span<const int>(y));
        opt.step(model, x, ce.backward());
    }
    std::printf("loss %.4f\n", loss);
}
