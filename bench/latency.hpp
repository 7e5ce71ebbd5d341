// Batch-1 latency: microseconds per call of neuronka's predict() and of a hand-written inference on
// the same inputs, one sample per call, in interleaved rounds; prints the medians and their ratio.
#pragma once

#include "timing.hpp"

#include <cstdio>
#include <vector>

namespace bench {

/// ours(k) and theirs(k) each run the k-th input (k < inputs) through one model.
template <class Ours, class Theirs>
void print_latency(const char* what, Ours&& ours, Theirs&& theirs, int inputs) {
    int calls = 1;  // per round: about 20 ms of the hand-written version
    for (;;) {
        const auto t0 = Clock::now();
        for (int s = 0; s < calls; ++s) theirs(s % inputs);
        if (std::chrono::duration<double>(Clock::now() - t0).count() > 0.02) break;
        calls *= 2;
    }
    auto time = [&](auto&& run) {
        const auto t0 = Clock::now();
        for (int s = 0; s < calls; ++s) run(s % inputs);
        return 1e6 * std::chrono::duration<double>(Clock::now() - t0).count() / calls;
    };
    time(ours), time(theirs);  // warm-up: workspaces, caches
    std::vector<double> a, b;
    for (int round = 0; round < 9; ++round) a.push_back(time(ours)), b.push_back(time(theirs));
    std::printf(
        "%s, batch 1, 1 thread: neuronka predict %.2f us/sample, hand-written %.2f us/sample, "
        "ratio (hand-written time / neuronka time) %.2fx (median of 9 interleaved rounds)\n",
        what, median(a), median(b), median(b) / median(a));
}

}  // namespace bench
