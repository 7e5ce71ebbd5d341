// Counts heap allocations made through operator new, for the zero-allocation tests. Include it in
// exactly one translation unit of a test program: it replaces the whole non-aligned family of
// global operator new / delete (plain, array, nothrow, sized), all on malloc/free, so that memory
// from any of them may be released by any other.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc-based new pairs with free
#endif

#include <atomic>
#include <cstdlib>
#include <new>

namespace count_new {
inline std::atomic<long> allocations{0};
inline void* allocate(std::size_t n) noexcept {
    ++allocations;
    return std::malloc(n ? n : 1);
}
}  // namespace count_new

void* operator new(std::size_t n) {
    if (void* p = count_new::allocate(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = count_new::allocate(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return count_new::allocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return count_new::allocate(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
