// The core's measured limit for float32 fused multiply-adds: 12 independent chains of vector FMAs
// (the widest vectors the build targets: 16 floats with AVX-512, 8 with AVX2), long enough to hide
// their latency. GFLOP/s counts each FMA as 2 FLOPs per lane, like the benchmarks' figures, which
// bench/run_all.sh prints next to it. Then the same on every hardware thread at once, in rounds that
// start together: the limit of the threads together. Where two hardware threads share one core's
// FMA units (SMT siblings, as a virtual machine's vCPUs can be on the host), it is about one thread's,
// and no product bound by multiply-adds can run faster on two threads than on one. Last, how long a
// cache line takes to go from one thread to another and back (two threads passing a counter): every
// product split over threads pays it at least twice, and it varies with where the host runs them.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {
#if defined(__AVX512F__)
constexpr int lanes = 16;
#elif defined(__AVX__)
constexpr int lanes = 8;
#else
constexpr int lanes = 4;
#endif
typedef float Vec __attribute__((vector_size(lanes * sizeof(float))));
constexpr int chains = 12;

double gflops(long iterations) {
    Vec acc[chains], a, b;
    for (int l = 0; l < lanes; ++l) a[l] = 0.999999f, b[l] = 1e-7f;
    for (int c = 0; c < chains; ++c)
        for (int l = 0; l < lanes; ++l) acc[c][l] = float(c + l);
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i)
        for (int c = 0; c < chains; ++c) acc[c] = acc[c] * a + b;  // contracted to one FMA
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    float sum = 0;
    for (int c = 0; c < chains; ++c)
        for (int l = 0; l < lanes; ++l) sum += acc[c][l];
    if (sum == 12345.f) std::printf(" ");  // keeps the chains alive
    return 2.0 * lanes * chains * double(iterations) / seconds * 1e-9;
}
}  // namespace

int main() {
    constexpr int rounds = 7;
    double best = 0;
    for (int round = 0; round < rounds; ++round) best = std::max(best, gflops(50'000'000));
    std::printf("peak: %.1f GFLOP/s float32 FMA on one core (%d-float vectors, best of %d rounds)\n", best, lanes,
                rounds);

    const int n = int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<double> rate(std::size_t(n * rounds));  // rate[round * n + thread]
    std::barrier start(n);
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < rounds; ++round) {
                start.arrive_and_wait();
                rate[std::size_t(round * n + t)] = gflops(50'000'000);
            }
        });
    for (auto& thread : threads) thread.join();
    double all = 0;
    for (int round = 0; round < rounds; ++round) {
        double sum = 0;
        for (int t = 0; t < n; ++t) sum += rate[std::size_t(round * n + t)];
        all = std::max(all, sum);
    }
    std::printf("peak, %d threads at once: %.1f GFLOP/s together, %.2fx one thread's (best of %d rounds)\n", n, all,
                all / best, rounds);
    if (n < 2) return 0;

    double round_trip = 1e30;
    for (int round = 0; round < 3; ++round) {
        alignas(64) std::atomic<long> counter{0};
        constexpr long passes = 100'000;
        std::thread other([&] {
            for (long i = 0; i < passes; ++i) {
                while (counter.load(std::memory_order_acquire) != 2 * i + 1) {
                }
                counter.store(2 * i + 2, std::memory_order_release);
            }
        });
        const auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < passes; ++i) {
            counter.store(2 * i + 1, std::memory_order_release);
            while (counter.load(std::memory_order_acquire) != 2 * i + 2) {
            }
        }
        const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        other.join();
        round_trip = std::min(round_trip, ns / double(passes));
    }
    std::printf("round trip of a cache line between two threads: %.0f ns (best of 3 rounds)\n", round_trip);
}
