// T1-T4: training throughput of neuronka against the hand-written Eigen MLP, in the same run.
// Single thread, float32, plain SGD lr 0.01, checks on as shipped. neuronka trains with
// `opt.step(model, x, dy)` (backward fused with the update); the reference (reference_mlp.hpp) fuses
// the update into its backward sweep too, in whichever of two ways is faster on the task. Rounds
// alternate between the two implementations; each reports the median samples/s over the rounds and
// the ratio neuronka / hand-written.
// Also prints achieved GFLOP/s (counted FLOPs of a training step / wall time) and the batch-1
// latency of the Fashion-MNIST MLP's shared prediction path against hand-written matrix-vector
// inference. Compile time is measured by bench_compile (compile_times.cpp).
#include "latency.hpp"
#include "reference_mlp.hpp"
#include "timing.hpp"

#include <neuronka/neuronka.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace neuronka;
using bench::Clock;
using bench::median;

namespace {

// FLOPs of one training step per sample: forward 2·MACs per layer; backward 2·MACs for dW of every
// layer and 2·MACs for dx of every layer but the first.
double step_flops_per_sample(const std::vector<int>& sizes) {
    double macs = 0, first = double(sizes[0]) * sizes[1];
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) macs += double(sizes[l]) * sizes[l + 1];
    return 2 * macs + 2 * macs + 2 * (macs - first);
}

struct Data {
    std::vector<Eigen::MatrixXf> x, y;
    std::vector<std::vector<int>> labels;
};

Data make_data(int in, int out, int batch, int batches) {
    Data d;
    Rng rng(1);
    for (int k = 0; k < batches; ++k) {
        d.x.push_back(Eigen::MatrixXf::NullaryExpr(in, batch, [&] { return float(rng.uniform(-1, 1)); }));
        d.y.push_back(Eigen::MatrixXf::NullaryExpr(out, batch, [&] { return float(rng.uniform(-1, 1)); }));
        std::vector<int> l(batch);
        for (auto& v : l) v = int(rng.below(std::uint64_t(out)));
        d.labels.push_back(l);
    }
    return d;
}

template <class Model, class Loss, bool classify>
void run_task(const char* id, const char* what, const std::vector<int>& sizes, reference::Act act, int batch) {
    constexpr int In = Model::in_size, Out = Model::out_size;
    const Data data = make_data(In, Out, batch, 8);
    std::vector<Batch<float, In>> xs(data.x.begin(), data.x.end());
    std::vector<Batch<float, Out>> ys(data.y.begin(), data.y.end());
    Model model(1);
    Loss loss;
    SGD<float> opt({.learning_rate = 0.01f});
    reference::MLP ref(sizes, act, classify ? reference::Loss::softmax_ce : reference::Loss::mse, 0.01f);

    auto neuronka_step = [&](int k) {
        if constexpr (classify)
            loss.forward(model.forward(xs[k]), std::span<const int>(data.labels[k]));
        else
            loss.forward(model.forward(xs[k]), ys[k]);
        opt.step(model, xs[k], loss.backward());  // backward fused with the update
    };
    auto reference_step = [&](int k) { ref.step(data.x[k], data.y[k], data.labels[k]); };

    // Calibrate steps per round to ~40 ms of the reference.
    int steps = 1;
    for (;;) {
        const auto t0 = Clock::now();
        for (int s = 0; s < steps; ++s) reference_step(s % 8);
        if (std::chrono::duration<double>(Clock::now() - t0).count() > 0.04) break;
        steps *= 2;
    }
    auto time = [&](auto&& step) {
        const auto t0 = Clock::now();
        for (int s = 0; s < steps; ++s) step(s % 8);
        return double(steps) * batch / std::chrono::duration<double>(Clock::now() - t0).count();
    };
    time(neuronka_step), time(reference_step);  // warm-up: buffers, caches
    // The reference takes the faster of its two fusions on this task: the update done by the
    // product itself (W −= η dy xᵀ), or a dW buffer written with = and then applied.
    std::vector<double> gemm_into_w, dw_buffer;
    for (int round = 0; round < 5; ++round) {
        ref.fused_gemm = true, gemm_into_w.push_back(time(reference_step));
        ref.fused_gemm = false, dw_buffer.push_back(time(reference_step));
    }
    ref.fused_gemm = median(gemm_into_w) >= median(dw_buffer);
    std::vector<double> ours, theirs;
    for (int round = 0; round < 15; ++round)
        ours.push_back(time(neuronka_step)), theirs.push_back(time(reference_step));
    const double a = median(ours), b = median(theirs);
    std::printf("%-3s %-34s %12.0f %12.0f %7.2fx %9.1f  %s\n", id, what, a, b, a / b,
                a * step_flops_per_sample(sizes) / 1e9, ref.fused_gemm ? "W -= lr dy x^T" : "dW buffer");
}

}  // namespace

int main() {
    bench::print_backend();
    {
        Eigen::setNbThreads(1);
        std::printf(
            "neuronka vs hand-written Eigen, float32, 1 thread, SGD lr 0.01, median of 15 interleaved rounds\n");
        std::printf("%-3s %-34s %12s %12s %8s %9s  %s\n", "", "task", "neuronka/s", "reference/s", "ratio", "GFLOP/s",
                    "reference's update");
        using reference::Act;
        run_task<Neuron<float, 1>, MeanSquaredError<float, 1>, false>("T1", "neuron 1->1, MSE, batch 32", {1, 1},
                                                                      Act::identity, 32);
        run_task<Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 16>, Tanh, Dense<float, 16, 1>>,
                 MeanSquaredError<float, 1>, false>("T2", "2-16-16-1 tanh, MSE, batch 32", {2, 16, 16, 1}, Act::tanh,
                                                    32);
        run_task<Sequential<Dense<float, 64, 128>, ReLU, Dense<float, 128, 10>>, SoftmaxCrossEntropy<float, 10>, true>(
            "T3", "64-128-10 relu, softmax CE, batch 64", {64, 128, 10}, Act::relu, 64);
        run_task<Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>>,
                 SoftmaxCrossEntropy<float, 10>, true>("T4", "784-256-128-10 relu, softmax CE, b 64",
                                                       {784, 256, 128, 10}, Act::relu, 64);
        std::printf("\n");
        using FashionMlp =
            Sequential<Dense<float, 784, 256>, ReLU, Dense<float, 256, 128>, ReLU, Dense<float, 128, 10>>;
        const FashionMlp model(1);
        FashionMlp::Workspace ws;
        reference::MLP ref({784, 256, 128, 10}, Act::relu, reference::Loss::softmax_ce, 0.01f);
        const Data data = make_data(784, 10, 1, 64);
        std::vector<Batch<float, 784>> xs(data.x.begin(), data.x.end());
        std::vector<Eigen::VectorXf> vs(data.x.begin(), data.x.end());
        float sink = 0;
        bench::print_latency(
            "Fashion-MNIST MLP 784-256-128-10", [&](int k) { sink += model.predict(xs[std::size_t(k)], ws)(0); },
            [&](int k) { sink += ref.predict(vs[std::size_t(k)])(0); }, 64);
        if (sink == 12345.f) std::printf(" ");  // keeps the results alive
    }
}
