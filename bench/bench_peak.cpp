// The core's measured limit for float32 fused multiply-adds: 12 independent chains of vector FMAs
// (the widest vectors the build targets: 16 floats with AVX-512, 8 with AVX2), long enough to hide
// their latency. GFLOP/s counts each FMA as 2 FLOPs per lane, like the benchmarks' figures, which
// bench/run_all.sh prints next to it. One thread.
#include <algorithm>
#include <chrono>
#include <cstdio>

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
    double best = 0;
    for (int round = 0; round < 7; ++round) best = std::max(best, gflops(50'000'000));
    std::printf("peak: %.1f GFLOP/s float32 FMA on one core (%d-float vectors, best of 7 rounds)\n", best, lanes);
}
