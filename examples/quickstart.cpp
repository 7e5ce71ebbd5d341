// The README's quick start: a 2-8-1 network learns XOR.
#include <neuronka/neuronka.hpp>

#include <cstdio>

int main() {
    using namespace neuronka;
    Sequential<Dense<float, 2, 8>, Tanh, Dense<float, 8, 1>> net(/*seed=*/42);
    BinaryCrossEntropyWithLogits<float, 1> loss;
    SGD<float> opt({.learning_rate = 0.5f, .momentum = 0.9f});

    const Batch<float, 2> x{{0, 0, 1, 1}, {0, 1, 0, 1}};  // one sample per column
    const Batch<float, 1> y{{0, 1, 1, 0}};
    for (int step = 0; step <= 300; ++step) {
        const float l = loss.forward(net.forward(x), y);
        opt.step(net, x, loss.backward());  // backward, each layer updated as its gradients arrive
        if (step % 100 == 0) std::printf("step %3d  loss %.4f\n", step, l);
    }
    const Batch<float, 1> p = net.forward(x).array().logistic().matrix();
    std::printf("p(1 | x) = %.3f %.3f %.3f %.3f  (%zu parameters)\n", p(0), p(1), p(2), p(3), net.parameter_count);
}
