// Compile-time bench program (bench/compile_times.sh): four MLPs trained in one translation unit, as a
// user writes them with neuronka: 1 -> 1 (a neuron), 2-16-16-1 tanh, 64-128-10 relu and
// 784-256-128-10 relu, each a few SGD steps: forward, then opt.step(model, x, dy).
// Its hand-written twin is mlps_eigen.cpp.
#include <neuronka/neuronka.hpp>

#include <cstdio>
#include <vector>

using namespace neuronka;

namespace {
template <class Model, class Loss, class Target>
float train(Model& model, Loss& loss, const Batch<float, Model::in_size>& x, const Target& t, int steps) {
    SGD<float> opt({.learning_rate = 0.01f, .momentum = 0.9f});
    float l = 0;
    for (int s = 0; s < steps; ++s) {
        l = loss.forward(model.forward(x), t);
        opt.step(model, x, loss.backward());
    }
    return l;
}
std::vector<int> labels(int n, int classes) {
    std::vector<int> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[std::size_t(i)] = (i * 7) % classes;
    return v;
}
}  // namespace

int main() {
    const int B = 32;
    Sequential<Dense<float, 1, 1>> neuron(1);
    MeanSquaredError<float, 1> mse1;
    const Batch<float, 1> x1 = Batch<float, 1>::Random(1, B);
    const Batch<float, 1> t1 = (2 * x1.array() + 1).matrix();

    Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 16>, Tanh, Dense<float, 16, 1>> small(2);
    MeanSquaredError<float, 1> mse2;
    const Batch<float, 2> x2 = Batch<float, 2>::Random(2, B);
    const Batch<float, 1> t2 = x2.colwise().prod();

    Sequential<Dense<float, 64, 128>, ReLU, Dense<float, 128, 10>> medium(3);
    SoftmaxCrossEntropy<float, 10> ce3;
    const Batch<float, 64> x3 = Batch<float, 64>::Random(64, B);
    const std::vector<int> y3 = labels(B, 10);

    Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>> large(4);
    SoftmaxCrossEntropy<float, 10> ce4;
    const Batch<float, 784> x4 = Batch<float, 784>::Random(784, B);
    const std::vector<int> y4 = labels(B, 10);

    std::printf("losses: %.4f %.4f %.4f %.4f\n", train(neuron, mse1, x1, t1, 50), train(small, mse2, x2, t2, 50),
                train(medium, ce3, x3, std::span<const int>(y3), 20),
                train(large, ce4, x4, std::span<const int>(y4), 5));
}
