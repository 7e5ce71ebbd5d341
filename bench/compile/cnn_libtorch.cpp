// Compile-time bench program (bench/compile_times.cpp): the CNN of cnn_neuronka.cpp (conv 5x5x16, pool,
// conv 5x5x32, pool, dense 128 with dropout, dense 10) trained on random 28x28 images with libtorch's
// C++ API, SGD with momentum.
#include <torch/torch.h>

#include <cstdio>

int main() {
    namespace nn = torch::nn;
    torch::manual_seed(1);
    nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 16, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                         nn::Conv2d(nn::Conv2dOptions(16, 32, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                         nn::Flatten(), nn::Linear(32 * 7 * 7, 128), nn::ReLU(), nn::Dropout(0.5), nn::Linear(128, 10));
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const int B = 16;
    const torch::Tensor x = torch::rand({B, 1, 28, 28}) * 2 - 1, y = torch::arange(B) % 10;
    float loss = 0;
    for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        torch::Tensor l = torch::nn::functional::cross_entropy(model->forward(x), y);
        l.backward();
        opt.step();
        loss = l.item<float>();
    }
    std::printf("loss %.4f\n", loss);
}
