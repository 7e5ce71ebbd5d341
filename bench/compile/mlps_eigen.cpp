// Compile-time bench program (bench/compile_times.sh): the four MLPs of mlps_neuronka.cpp written by
// hand with Eigen (bench/reference_mlp.hpp, the benchmarks' hand-written trainer), the same steps.
#include "../reference_mlp.hpp"

#include <cstdio>
#include <vector>

namespace {
float train(reference::MLP& model, const Eigen::MatrixXf& x, const Eigen::MatrixXf& t, const std::vector<int>& labels,
            int steps) {
    for (int s = 0; s < steps; ++s) model.step(x, t, labels);
    return model.predict(x.col(0))(0);
}
std::vector<int> labels(int n, int classes) {
    std::vector<int> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[std::size_t(i)] = (i * 7) % classes;
    return v;
}
}  // namespace

int main() {
    using reference::Act, reference::Loss, reference::MLP;
    const int B = 32;
    MLP neuron({1, 1}, Act::identity, Loss::mse, 0.01f);
    const Eigen::MatrixXf x1 = Eigen::MatrixXf::Random(1, B);
    const Eigen::MatrixXf t1 = (2 * x1.array() + 1).matrix();

    MLP small({2, 16, 16, 1}, Act::tanh, Loss::mse, 0.01f);
    const Eigen::MatrixXf x2 = Eigen::MatrixXf::Random(2, B);
    const Eigen::MatrixXf t2 = x2.colwise().prod();

    MLP medium({64, 128, 10}, Act::relu, Loss::softmax_ce, 0.01f);
    const Eigen::MatrixXf x3 = Eigen::MatrixXf::Random(64, B);

    MLP large({784, 256, 128, 10}, Act::relu, Loss::softmax_ce, 0.01f);
    const Eigen::MatrixXf x4 = Eigen::MatrixXf::Random(784, B);

    std::printf("outputs: %.4f %.4f %.4f %.4f\n", train(neuron, x1, t1, {}, 50), train(small, x2, t2, {}, 50),
                train(medium, x3, {}, labels(B, 10), 20), train(large, x4, {}, labels(B, 10), 5));
}
