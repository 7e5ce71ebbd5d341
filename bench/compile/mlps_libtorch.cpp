// Compile-time bench program (bench/compile_times.cpp): the four MLPs of mlps_neuronka.cpp trained
// with libtorch's C++ API, as its documentation writes them: nn::Sequential, SGD with momentum,
// zero_grad / forward / loss / backward / step.
#include <torch/torch.h>

#include <cstdio>

namespace {
float train(torch::nn::Sequential& net, const torch::Tensor& x, const torch::Tensor& t, bool classify, int steps) {
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    float l = 0;
    for (int s = 0; s < steps; ++s) {
        opt.zero_grad();
        const torch::Tensor y = net->forward(x);
        torch::Tensor loss = classify ? torch::nn::functional::cross_entropy(y, t) : torch::mse_loss(y, t);
        loss.backward();
        opt.step();
        l = loss.item<float>();
    }
    return l;
}
}  // namespace

int main() {
    namespace nn = torch::nn;
    torch::manual_seed(1);
    const int B = 32;
    nn::Sequential neuron(nn::Linear(1, 1));
    const torch::Tensor x1 = torch::rand({B, 1}) * 2 - 1, t1 = 2 * x1 + 1;

    nn::Sequential small(nn::Linear(2, 16), nn::Tanh(), nn::Linear(16, 16), nn::Tanh(), nn::Linear(16, 1));
    const torch::Tensor x2 = torch::rand({B, 2}) * 2 - 1, t2 = x2.prod(1, true);

    nn::Sequential medium(nn::Linear(64, 128), nn::ReLU(), nn::Linear(128, 10));
    const torch::Tensor x3 = torch::rand({B, 64}) * 2 - 1, y3 = torch::arange(B) * 7 % 10;

    nn::Sequential large(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10));
    const torch::Tensor x4 = torch::rand({B, 784}) * 2 - 1, y4 = torch::arange(B) * 7 % 10;

    std::printf("losses: %.4f %.4f %.4f %.4f\n", train(neuron, x1, t1, false, 50), train(small, x2, t2, false, 50),
                train(medium, x3, y3, true, 20), train(large, x4, y4, true, 5));
}
