/// @file detail/format.hpp
/// @brief How error messages print numbers (no Eigen, so the cost calculator can use it too).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>

namespace neuronka::detail {

/// A value as a message shows it: the shortest form that reads back to the same value of its type
/// (float or double), so a learning rate of 1e-9 prints as 1e-09 and 0.1f as 0.1, never 0.000000.
template <class S>
std::string format_value(S v) {
    static_assert(std::is_floating_point_v<S>, "format_value: expects float or double");
    char buf[40];
    for (int digits = 6; digits <= std::numeric_limits<S>::max_digits10; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, double(v));
        if (!std::isfinite(v) || S(std::strtod(buf, nullptr)) == v) break;
    }
    return buf;
}

}  // namespace neuronka::detail
