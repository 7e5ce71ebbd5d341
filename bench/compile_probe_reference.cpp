// The hand-written counterpart of compile_probe.cpp: the same 2-16-16-1 training loop in plain Eigen.
#include "reference_mlp.hpp"

int main() {
    reference::MLP mlp({2, 16, 16, 1}, reference::Act::tanh, reference::Loss::mse, 0.01f);
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(2, 32), t = Eigen::MatrixXf::Random(1, 32);
    for (int i = 0; i < 10; ++i) mlp.step(x, t, {});
    return 0;
}
