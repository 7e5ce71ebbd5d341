/// @file version.hpp
/// @brief neuronka's version, read by CMake from this file.
#pragma once

#define NEURONKA_VERSION_MAJOR 0  ///< incompatible changes
#define NEURONKA_VERSION_MINOR 4  ///< additions
#define NEURONKA_VERSION_PATCH 0  ///< fixes

namespace neuronka {
/// The version as one number: major * 10000 + minor * 100 + patch.
inline constexpr int version = NEURONKA_VERSION_MAJOR * 10000 + NEURONKA_VERSION_MINOR * 100 + NEURONKA_VERSION_PATCH;
}  // namespace neuronka
