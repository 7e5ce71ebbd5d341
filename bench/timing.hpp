// What every benchmark times with: a steady clock and the median of a set of rounds; and the line
// that says which kernels the products ran on.
#pragma once

#ifdef NEURONKA_USE_BLAS
#include <neuronka/detail/blas.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

/// The median of the rounds (the upper one of an even count).
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Seconds since t0.
inline double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// One line: whether this run's large products go to the BLAS (a NAME_blas build) and why, and
/// what a program on this CPU decides without NEURONKA_BLAS (bench/run_all.sh quotes it).
inline void print_backend() {
#ifdef NEURONKA_USE_BLAS
    const auto& now = neuronka::detail::blas_status();
    const auto automatic = neuronka::detail::decide_blas(false);
    std::printf("backend: %s (%s); by default on this CPU: %s (%s)\n", now.use ? "BLAS" : "Eigen's kernels",
                now.why.c_str(), automatic.use ? "BLAS" : "Eigen's kernels", automatic.why.c_str());
#else
    std::printf("backend: Eigen's kernels (built without NEURONKA_USE_BLAS)\n");
#endif
}

}  // namespace bench
