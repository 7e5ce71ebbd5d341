/// @file
/// @brief Opt-in multithreading: `neuronka::set_threads(n)`.
///
/// neuronka runs on the calling thread unless told otherwise. With `set_threads(n)`, the work of a
/// step is cut into at most n slices that run at once: large matrix products (by columns of the
/// batch, rows of the result, or their depth), attention by (sequence, head), convolution by image,
/// element-wise layers, LayerNorm and the softmax loss by columns, and the optimisers' updates of
/// large parameters. Work too small to pay for a second thread stays on one. The slices depend only
/// on the thread count, so a run with a fixed thread count is bitwise reproducible; a different
/// thread count may change the last bits of sums. docs/threads.md has the details and the figures.
#pragma once

#include "../detail/thread_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace neuronka {

/**
 * @brief Sets how many threads neuronka uses, counting the caller: 1 (the default) runs everything
 * on the calling thread; 0 means one per hardware thread. Call it between training steps, not while
 * another thread is inside neuronka; it waits for a running parallel region to finish.
 * @throws std::invalid_argument for n < 0 or n > 256.
 */
inline void set_threads(int n) {
    if (n < 0 || n > 256)
        throw std::invalid_argument("set_threads: " + std::to_string(n) +
                                    " threads; expected 1 to 256, or 0 for one per hardware thread");
    if (n == 0) n = int(std::max(1u, std::thread::hardware_concurrency()));
    detail::ThreadPool::instance().resize(n);
}

/// The thread count set by set_threads (1 unless changed).
inline int threads() {
    return detail::thread_count();
}

namespace detail {
/// NEURONKA_THREADS=n in the environment starts a program that includes this header with n threads:
/// layers never start the pool themselves, so it is started here, before main, when asked for.
inline const bool threads_from_environment = [] {
    if (std::getenv("NEURONKA_THREADS")) ThreadPool::instance();
    return true;
}();
}  // namespace detail

}  // namespace neuronka
