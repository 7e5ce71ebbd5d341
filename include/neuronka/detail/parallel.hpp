/// @file detail/parallel.hpp
/// @brief What a layer needs to split its work over the threads of neuronka::set_threads: the
/// thread count, and regions that cut [0, n) into slices. Light on purpose (no <thread>, no
/// <mutex>): every layer includes it, while the pool behind it, with its threads and locks, is
/// compiled only where threads.hpp is included.
///
/// A region cuts its work into slices that depend only on the thread count, and runs them on the
/// pool when there is one, else one after another on the calling thread, with the same numbers.
#pragma once

#include <algorithm>
#include <atomic>
#include <utility>

namespace neuronka::detail {

/// Runs call(context, t) for t in [0, tasks) at once, and returns when all have finished: the
/// pool's entry (ThreadPool in thread_pool.hpp sets it while it has workers).
using RunTasks = void (*)(int tasks, void (*call)(void*, int), void* context);

/// The state set_threads changes: the thread count, counting the caller, and the pool's entry
/// (null while the count is 1).
struct Parallelism {
    std::atomic<int> threads{1};
    std::atomic<RunTasks> run{nullptr};
};
inline Parallelism parallelism;

/// Rows × cols × depth from which a product is split over the threads of set_threads (each slice
/// then has at least a quarter of a million multiply-adds, tens of microseconds of work).
inline constexpr long long parallel_product_flops = 1LL << 19;

/// Threads a region may use, counting the caller (1: everything runs on the calling thread).
inline int thread_count() {
    return parallelism.threads.load(std::memory_order_relaxed);
}

/// Runs call(context, t) for every t in [0, tasks): on the pool when there is one, else in order on
/// the calling thread. The one body every region goes through, however many kinds a program has.
inline void run_tasks(int tasks, void (*call)(void*, int), void* context) {
    const RunTasks pool = tasks > 1 ? parallelism.run.load(std::memory_order_acquire) : nullptr;
    if (pool) return pool(tasks, call, context);
    for (int t = 0; t < tasks; ++t) call(context, t);
}

/// Runs f(t) for every t in [0, tasks), as run_tasks; starting it allocates nothing.
template <class F>
void run_tasks(int tasks, F& f) {
    run_tasks(
        tasks, [](void* context, int t) { (*static_cast<F*>(context))(t); }, &f);
}

/// Splits [0, n) into `tasks` ranges, each a multiple of `align` except the last: range t.
inline std::pair<long, long> slice(long n, int tasks, int t, long align = 1) {
    const long per = ((n + tasks - 1) / tasks + align - 1) / align * align;
    const long begin = std::min(n, per * t), end = std::min(n, begin + per);
    return {begin, end};
}

/// How many slices parallel_for cuts [0, n) into: one per thread, each at least min_per_task long.
inline int parallel_tasks(long n, long min_per_task) {
    return int(std::max(1L, std::min<long>(thread_count(), n / std::max(1L, min_per_task))));
}

/// [0, n) cut into `tasks` slices (begin a multiple of `align`), decided once: a region that keeps
/// per-slice partial results sizes them from `tasks` and runs exactly those slices.
struct Slices {
    long n;
    int tasks;
    long align;

    /// Runs f(task, begin, end) for every non-empty slice, on the pool when there is more than one.
    /// One slice or many, f is called through the same entry, so it is compiled once.
    template <class F>
    void run(F&& f) const {
        auto task = [&](int t) {
            const auto [b, e] = slice(n, tasks, t, align);
            if (b < e) f(t, b, e);
        };
        run_tasks(tasks, task);
    }
};

/// The slices of [0, n) for the current thread count: parallel_tasks of them.
inline Slices slices(long n, long min_per_task, long align = 16) {
    return {n, parallel_tasks(n, min_per_task), align};
}

/// Runs f(task, begin, end) for the slices of [0, n) (parallel_tasks of them, begin a multiple of
/// align), on the pool when there is more than one.
template <class F>
void parallel_slices(long n, long min_per_task, F&& f, long align = 16) {
    slices(n, min_per_task, align).run(std::forward<F>(f));
}

/// Runs f(begin, end) over the slices of [0, n), as parallel_slices.
template <class F>
void parallel_for(long n, long min_per_task, F&& f, long align = 16) {
    parallel_slices(
        n, min_per_task, [&](int, long b, long e) { f(b, e); }, align);
}

/// Element-wise work per slice when a loop over columns runs in parallel: about 32 thousand
/// values (an activation or a normalisation of them takes some microseconds, far above the cost
/// of starting a region).
inline constexpr long parallel_elements = 1L << 15;

/// Runs f(begin, end) over slices of the columns [0, cols) of a matrix with `rows` rows, each
/// slice at least parallel_elements values; for loops whose columns are independent.
template <class F>
void parallel_columns(long cols, long rows, F&& f) {
    parallel_for(cols, std::max(1L, parallel_elements / std::max(1L, rows)), std::forward<F>(f), 1);
}

}  // namespace neuronka::detail
