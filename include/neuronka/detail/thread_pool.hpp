/// @file detail/thread_pool.hpp
/// @brief The threads behind neuronka::set_threads: one pool per process, the calling thread plus
/// `threads() - 1` workers that wait for a task list and run one task each.
///
/// Layers never include this file: they run regions through detail/parallel.hpp, which reaches the
/// pool through the entry the pool installs there. A region runs the same slices whether it runs on
/// the pool or on the calling thread alone (when the pool is busy: a second caller, or a region
/// inside a task), so its numbers depend only on the thread count set, never on timing.
#pragma once

#include "parallel.hpp"

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
    int threads() const { return thread_count(); }

    /// Sets the thread count (≥ 1); waits for a running region to finish first.
    void resize(int n) {
        std::lock_guard<std::mutex> region(region_);
        stop();
        stopping_ = false;
        // a worker starts from today's generation, whenever its thread gets to run
        const std::uint64_t now = generation_.load(std::memory_order_relaxed);
        for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, now] { work(i, now); });
        parallelism.threads.store(n, std::memory_order_relaxed);
        parallelism.run.store(n > 1 ? &enter : nullptr, std::memory_order_release);
    }

    /// Runs f(t) for every t in [0, tasks), the caller taking t = 0 (and any beyond the workers),
    /// and returns when all have finished. When the pool is busy the caller runs every task itself, in order.
    template <class F>
    void run(int tasks, F& f) {
        run(
            tasks, [](void* context, int t) { (*static_cast<F*>(context))(t); }, &f);
    }

    /// run, with the task as a function and its context: the one body every region goes through,
    /// compiled once however many kinds of region a program has.
    void run(int tasks, void (*call)(void*, int), void* context) {
        if (tasks <= 1 || !region_.try_lock()) {
            for (int t = 0; t < tasks; ++t) call(context, t);
            return;
        }
        std::lock_guard<std::mutex> region(region_, std::adopt_lock);
        {
            std::lock_guard<std::mutex> lock(m_);
            call_ = call;
            context_ = context;
            tasks_ = tasks;
            pending_.store(int(workers_.size()), std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        call(context, 0);
        for (int t = int(workers_.size()) + 1; t < tasks; ++t) call(context, t);  // more tasks than threads
        for (int spin = 0; spin < spin_limit && pending_.load(std::memory_order_acquire) != 0; ++spin) pause();
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }

private:
    // what regions call through detail::parallelism.run
    static void enter(int tasks, void (*call)(void*, int), void* context) { instance().run(tasks, call, context); }

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
        parallelism.run.store(nullptr, std::memory_order_release);
        parallelism.threads.store(1, std::memory_order_relaxed);
        for (auto& w : workers_) w.join();
        workers_.clear();
    }

    void work(int index, std::uint64_t seen) {
        for (;;) {
            for (int spin = 0; spin < spin_limit && generation_.load(std::memory_order_acquire) == seen; ++spin)
                pause();
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
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    void (*call_)(void*, int) = nullptr;
    void* context_ = nullptr;
    int tasks_ = 0;
    bool stopping_ = false;
};

}  // namespace neuronka::detail
