/// @file detail/thread_pool.hpp
/// @brief The threads behind neuronka::set_threads: one pool per process, the calling thread plus
/// `threads() - 1` workers that wait for a task list and run one task each.
///
/// A parallel region splits its work into the same slices whether it runs on the pool or on the
/// calling thread alone (when the pool is busy: a second caller, or a region inside a task), so its
/// numbers depend only on the thread count set, never on timing. Starting a region allocates
/// nothing: the task is passed as a function pointer and a pointer to the caller's lambda.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace neuronka::detail {

class ThreadPool {
public:
    static ThreadPool& instance() {
        static ThreadPool pool;
        return pool;
    }
    ~ThreadPool() { stop(); }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    /// Threads a region may use, counting the caller (1: everything runs on the calling thread).
    int threads() const { return threads_.load(std::memory_order_relaxed); }

    /// Sets the thread count (≥ 1); waits for a running region to finish first.
    void resize(int n) {
        std::lock_guard<std::mutex> region(region_);
        stop();
        stopping_ = false;
        // a worker starts from today's generation, whenever its thread gets to run
        const std::uint64_t now = generation_.load(std::memory_order_relaxed);
        for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, now] { work(i, now); });
        threads_.store(n, std::memory_order_relaxed);
    }

    /// Runs f(t) for every t in [0, tasks), the caller taking t = 0 (and any beyond the workers),
    /// and returns when all have finished. When the pool is busy the caller runs every task itself, in order.
    template <class F>
    void run(int tasks, F& f) {
        if (tasks <= 1 || !region_.try_lock()) {
            for (int t = 0; t < tasks; ++t) f(t);
            return;
        }
        std::lock_guard<std::mutex> region(region_, std::adopt_lock);
        {
            std::lock_guard<std::mutex> lock(m_);
            call_ = [](void* context, int t) { (*static_cast<F*>(context))(t); };
            context_ = &f;
            tasks_ = tasks;
            pending_.store(int(workers_.size()), std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        f(0);
        for (int t = int(workers_.size()) + 1; t < tasks; ++t) f(t);  // more tasks than threads
        for (int spin = 0; spin < spin_limit && pending_.load(std::memory_order_acquire) != 0; ++spin) pause();
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }

private:
    // NEURONKA_THREADS=n in the environment sets the starting count (the tests' "threads" label).
    ThreadPool() {
        if (const char* env = std::getenv("NEURONKA_THREADS")) {
            const int n = std::atoi(env);
            if (n > 1 && n <= 256) resize(n);
        }
    }
    static constexpr int spin_limit = 1 << 14;  // about 50 µs of waiting before sleeping

    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#else
        std::this_thread::yield();
#endif
    }

    void stop() {
        {
            std::lock_guard<std::mutex> lock(m_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
        threads_.store(1, std::memory_order_relaxed);
    }

    void work(int index, std::uint64_t seen) {
        for (;;) {
            for (int spin = 0; spin < spin_limit && generation_.load(std::memory_order_acquire) == seen; ++spin) pause();
            void (*call)(void*, int);
            void* context;
            int tasks;
            {
                std::unique_lock<std::mutex> lock(m_);
                wake_.wait(lock, [&] { return stopping_ || generation_.load(std::memory_order_acquire) != seen; });
                if (stopping_) return;
                seen = generation_.load(std::memory_order_acquire);
                call = call_, context = context_, tasks = tasks_;
            }
            if (index < tasks) call(context, index);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lock(m_);
                done_.notify_one();
            }
        }
    }

    std::mutex region_;  // held by the caller of a running region
    std::mutex m_;       // guards the fields below and the condition variables
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    std::atomic<int> threads_{1};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    void (*call_)(void*, int) = nullptr;
    void* context_ = nullptr;
    int tasks_ = 0;
    bool stopping_ = false;
};

/// Splits [0, n) into `tasks` ranges, each a multiple of `align` except the last: range t.
inline std::pair<long, long> slice(long n, int tasks, int t, long align = 1) {
    const long per = ((n + tasks - 1) / tasks + align - 1) / align * align;
    const long begin = std::min(n, per * t), end = std::min(n, begin + per);
    return {begin, end};
}

/// How many slices parallel_for cuts [0, n) into: one per thread, each at least min_per_task long.
inline int parallel_tasks(long n, long min_per_task) {
    return int(std::max(1L, std::min<long>(ThreadPool::instance().threads(), n / std::max(1L, min_per_task))));
}

/// Runs f(task, begin, end) for the slices of [0, n) (parallel_tasks of them, begin a multiple of
/// align), on the pool when there is more than one.
template <class F>
void parallel_slices(long n, long min_per_task, F&& f, long align = 16) {
    const int tasks = parallel_tasks(n, min_per_task);
    if (tasks <= 1) {
        f(0, 0L, n);
        return;
    }
    auto task = [&](int t) {
        const auto [b, e] = slice(n, tasks, t, align);
        if (b < e) f(t, b, e);
    };
    ThreadPool::instance().run(tasks, task);
}

/// Runs f(begin, end) over the slices of [0, n), as parallel_slices.
template <class F>
void parallel_for(long n, long min_per_task, F&& f, long align = 16) {
    parallel_slices(n, min_per_task, [&](int, long b, long e) { f(b, e); }, align);
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
