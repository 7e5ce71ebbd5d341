// Compile-time bench program (bench/compile_times.sh): the CNN of cnn_neuronka.cpp written by hand
// with Eigen (bench/reference_cnn.hpp, the benchmarks' hand-written im2col CNN).
#include "../reference_cnn.hpp"

#include <cstdio>
#include <vector>

int main() {
    reference::CNN model(0.01f);
    const int B = 16;
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(784, B);
    std::vector<int> y(B);
    for (int i = 0; i < B; ++i) y[std::size_t(i)] = i % 10;
    for (int step = 0; step < 3; ++step) model.step(x, y);
    std::printf("trained %d steps\n", 3);
}
