// T6: training throughput of neuronka's Fashion-MNIST CNN (examples/fashion_mnist.cpp) against the
// hand-written im2col + Eigen version (reference_cnn.hpp), in the same run. Single thread, float32,
// plain SGD lr 0.01, batch 64, dropout on, checks on as shipped; neuronka trains with
// `opt.step(model, x, dy)`. Rounds alternate between the two; each reports the median images/s
// over the rounds, the ratio neuronka / hand-written, and neuronka's achieved GFLOP/s (counted
// FLOPs of a training step from the model's type / wall time). Then the batch-1 latency of the
// shared prediction path (predict) against the hand-written inference.
#include "latency.hpp"
#include "reference_cnn.hpp"
#include "timing.hpp"

#include <neuronka/neuronka.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace neuronka;
using bench::Clock;
using bench::median;

namespace {
using Cnn = Sequential<Conv2D<float, 1, 16, 5, 28, 28, 1, 2>, ReLU, MaxPool2D<float, 16, 28, 28, 2>,
                       Conv2D<float, 16, 32, 5, 14, 14, 1, 2>, ReLU, MaxPool2D<float, 32, 14, 14, 2>, Flatten,
                       Dense<float, 32 * 7 * 7, 128>, ReLU, Dropout<1, 2>, Dense<float, 128, 10>>;
}  // namespace

int main() {
    bench::print_backend();
    Eigen::setNbThreads(1);
    const int B = 64, batches = 4;
    Rng rng(1);
    std::vector<Eigen::MatrixXf> xs;
    std::vector<std::vector<int>> labels;
    for (int k = 0; k < batches; ++k) {
        xs.push_back(Eigen::MatrixXf::NullaryExpr(784, B, [&] { return float(rng.uniform(0, 1)); }));
        std::vector<int> l(B);
        for (auto& v : l) v = int(rng.below(10));
        labels.push_back(l);
    }
    std::vector<Batch<float, 784>> batches_ours(xs.begin(), xs.end());
    Cnn model(1);
    SoftmaxCrossEntropy<float, 10> ce;
    SGD<float> opt({.learning_rate = 0.01f});
    reference::CNN ref(0.01f);
    auto ours = [&](int k) {
        ce.forward(model.forward(batches_ours[std::size_t(k)]), std::span<const int>(labels[std::size_t(k)]));
        opt.step(model, batches_ours[std::size_t(k)], ce.backward());
    };
    auto theirs = [&](int k) { ref.step(xs[std::size_t(k)], labels[std::size_t(k)]); };
    const int steps = 6;
    auto time = [&](auto&& step) {
        const auto t0 = Clock::now();
        for (int s = 0; s < steps; ++s) step(s % batches);
        return double(steps) * B / std::chrono::duration<double>(Clock::now() - t0).count();
    };
    {  // the two schemes of the reference compute the same step
        reference::CNN a_copy = ref, b_copy = ref;
        a_copy.set_batched(false), b_copy.set_batched(true);
        for (int k = 0; k < 3; ++k)
            a_copy.step(xs[std::size_t(k)], labels[std::size_t(k)]),
                b_copy.step(xs[std::size_t(k)], labels[std::size_t(k)]);
        std::printf("reference check: after 3 steps the two schemes' conv weights differ by at most %.2g\n",
                    double(a_copy.max_weight_difference(b_copy)));
    }
    time(ours), time(theirs);  // warm-up: buffers, caches
    // The reference takes the faster of its two schemes: per-image GEMMs or one GEMM per batch.
    std::vector<double> per_image, batched;
    for (int round = 0; round < 3; ++round) {
        ref.set_batched(false), per_image.push_back(time(theirs));
        ref.set_batched(true), batched.push_back(time(theirs));
    }
    const bool use_batched = median(batched) > median(per_image);
    ref.set_batched(use_batched);
    std::vector<double> a, b;
    for (int round = 0; round < 9; ++round) a.push_back(time(ours)), b.push_back(time(theirs));
    using First = std::remove_cvref_t<decltype(model.layer<0>())>;
    const double flops = step_cost<Cnn>(1).flops() - First::cost().forward_flops;  // no dx for the input
    std::printf(
        "T6 Fashion-MNIST CNN (conv5x5x16, pool, conv5x5x32, pool, 1568-128 dropout 0.5, 10), batch %d, SGD, "
        "float32, 1 thread\n",
        B);
    std::printf("%-12s %10s %9s\n", "", "images/s", "GFLOP/s");
    std::printf("%-12s %10.0f %9.1f\n", "neuronka", median(a), median(a) * flops / 1e9);
    std::printf("%-12s %10.0f %9.1f\n", "reference", median(b), median(b) * flops / 1e9);
    std::printf(
        "ratio neuronka / hand-written: %.2fx (median of 9 interleaved rounds; the reference's convolution: %s,\n"
        "  per image %.0f images/s, batched %.0f images/s)\n",
        median(a) / median(b), use_batched ? "batched" : "per image", median(per_image), median(batched));

    std::vector<Batch<float, 784>> images;
    std::vector<Eigen::MatrixXf> columns;
    for (int k = 0; k < 16; ++k) images.emplace_back(xs[0].col(k)), columns.emplace_back(xs[0].col(k));
    Cnn::Workspace ws;
    ref.set_batched(false);
    float sink = 0;
    bench::print_latency(
        "Fashion-MNIST CNN", [&](int k) { sink += model.predict(images[std::size_t(k)], ws)(0); },
        [&](int k) { sink += ref.predict(columns[std::size_t(k)])(0); }, 16);
    if (sink == 12345.f) std::printf(" ");  // keeps the results alive
}
