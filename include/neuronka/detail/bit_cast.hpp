/// @file
/// @brief detail::bit_cast: std::bit_cast where the standard library has it, else the same copy of
/// the object representation through memcpy (Emscripten 3.1's libc++ has no std::bit_cast), so the
/// readers and writers of files compile for WebAssembly too.
#pragma once

#include <bit>
#include <cstring>
#include <type_traits>

namespace neuronka::detail {

/// The bits of `from` as a `To` of the same size.
template <class To, class From>
To bit_cast(const From& from) noexcept {
    static_assert(sizeof(To) == sizeof(From) && std::is_trivially_copyable_v<To> && std::is_trivially_copyable_v<From>);
#if defined(__cpp_lib_bit_cast)
    return std::bit_cast<To>(from);
#else
    To to;
    std::memcpy(&to, &from, sizeof(To));
    return to;
#endif
}

}  // namespace neuronka::detail
