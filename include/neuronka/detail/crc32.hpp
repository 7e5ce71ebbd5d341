/// @file detail/crc32.hpp
/// @brief CRC-32 (the IEEE 802.3 / zlib polynomial, reflected 0xEDB88320), table-driven.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace neuronka::detail {

inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}();

/// Continues a CRC-32 over `n` bytes; start with crc = 0.
inline std::uint32_t crc32(const unsigned char* data, std::size_t n, std::uint32_t crc = 0) {
    crc = ~crc;
    for (std::size_t i = 0; i < n; ++i) crc = crc32_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

}  // namespace neuronka::detail
