// The zero-allocation harness: two independent counters, a replaced global operator new (catches
// std::vector, std::string, ...) and Eigen's own check (EIGEN_RUNTIME_NO_MALLOC), which sees every
// heap block Eigen allocates, the packing buffers of its matrix products included. Include it first
// in exactly one translation unit of a test program, before any Eigen or neuronka header.
#pragma once

#include "count_new.hpp"

namespace no_malloc {
inline std::atomic<long> eigen_mallocs_while_forbidden{0};
}  // namespace no_malloc

#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x)                                       \
    do {                                                      \
        if (!(x)) ++no_malloc::eigen_mallocs_while_forbidden; \
    } while (false)

#include <Eigen/Core>

namespace no_malloc {
/// Allocations made by `steps` calls of `step`: through operator new, and by Eigen while forbidden.
struct Counts {
    long news = 0, eigen = 0;
};
template <class Step>
Counts count(Step&& step, int steps = 3) {
    const long news_before = count_new::allocations.load();
    eigen_mallocs_while_forbidden = 0;
    Eigen::internal::set_is_malloc_allowed(false);
    for (int i = 0; i < steps; ++i) step();
    Eigen::internal::set_is_malloc_allowed(true);
    return {count_new::allocations.load() - news_before, eigen_mallocs_while_forbidden.load()};
}
}  // namespace no_malloc
