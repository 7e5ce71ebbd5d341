// Helpers shared by the tests.
#pragma once

#include <neuronka/core/random.hpp>

#include <cstdint>

/// A Rows × cols batch of values drawn uniformly from [lo, hi) by a generator seeded with `seed`.
template <int Rows, class T = double>
neuronka::Batch<T, Rows> random_batch(int cols, std::uint64_t seed, double lo = -1, double hi = 1) {
    neuronka::Rng rng(seed);
    neuronka::Batch<T, Rows> x(Rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = T(rng.uniform(lo, hi));
    return x;
}
