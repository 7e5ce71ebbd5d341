// Compiled by bench_mlp to measure how long a translation unit with a small MLP takes to build:
// once with the headers it needs, once with the umbrella header (-DNEURONKA_PROBE_UMBRELLA).
#ifdef NEURONKA_PROBE_UMBRELLA
#include <neuronka/neuronka.hpp>
#else
#include <neuronka/layers/dense.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/compose/sequential.hpp>
#include <neuronka/train/sgd.hpp>
#endif

int main() {
    using namespace neuronka;
    Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 16>, Tanh, Dense<float, 16, 1>> mlp(1);
    MeanSquaredError<float, 1> mse;
    SGD<float> opt({.learning_rate = 0.01f});
    const Batch<float, 2> x = Batch<float, 2>::Random(2, 32);
    const Batch<float, 1> t = Batch<float, 1>::Random(1, 32);
    for (int i = 0; i < 10; ++i) {
        mlp.zero_grad();
        mse.forward(mlp.forward(x), t);
        mlp.backward_parameters(x, mse.backward());
        opt.step(mlp);
    }
    return mlp.output().allFinite() ? 0 : 1;
}
