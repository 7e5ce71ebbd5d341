// A program outside neuronka that uses it: train the lecture's neuron on y = 2x + 1.
#include <neuronka/neuronka.hpp>
#ifdef CONSUMER_SAFETENSORS
#include <neuronka/io/safetensors.hpp>
#endif

#include <cmath>
#include <cstdio>

int main() {
    using namespace neuronka;
    Batch<float, 1> x(1, 8), y(1, 8);
    for (int i = 0; i < 8; ++i) x(i) = float(i) / 4, y(i) = 2 * x(i) + 1;
    Neuron<float, 1> neuron(1);
    MeanSquaredError<float, 1> mse;
    SGD<float> opt({.learning_rate = 0.1f});
    for (int step = 0; step < 2000; ++step) {
        neuron.zero_grad();
        mse.forward(neuron.forward(x), y);
        neuron.backward(x, mse.backward());
        opt.step(neuron);
    }
    std::printf("w = %.4f, b = %.4f (neuronka %d)\n", neuron.w(), neuron.b(), version);
    // A layer large enough for the blocked product (neuronka::compiled's kernels, when linked) and AdamW.
    Sequential<Dense<float, 16, 32>, Tanh, Dense<float, 32, 16>> net(3);
    MeanSquaredError<float, 16> reconstruction;
    AdamW<float> adamw;
    const Batch<float, 16> xs = Batch<float, 16>::Random(16, 64);
    float first = 0, last = 0;
    for (int step = 0; step < 50; ++step) {
        net.zero_grad();
        last = reconstruction.forward(net.forward(xs), xs);
        if (step == 0) first = last;
        net.backward(xs, reconstruction.backward());
        adamw.step(net);
    }
    std::printf("autoencoder loss %.4f -> %.4f\n", first, last);
    if (!(last < first)) return 1;
#ifdef CONSUMER_SAFETENSORS
    save_safetensors(neuron, "neuron.safetensors");
    Neuron<float, 1> copy(2);
    load_safetensors(copy, "neuron.safetensors");
    std::printf("safetensors round trip: w = %.4f, b = %.4f\n", copy.w(), copy.b());
    if (copy.w() != neuron.w() || copy.b() != neuron.b()) return 1;
#endif
    return std::abs(neuron.w() - 2) < 1e-3f && std::abs(neuron.b() - 1) < 1e-3f ? 0 : 1;
}
