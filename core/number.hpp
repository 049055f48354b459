// Numbers in error messages, and the checked conversion of a caller's number
// to a tensor's element type.
#pragma once

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>
#include <type_traits>

#include "core/error.hpp"

namespace tapegrad::detail {

// Formats a number for an error message: integers (character types included)
// as decimal numbers, floating-point values in the shortest form that reads
// back exactly ("2.5", "1e+300", "nan", "-inf").
template <class V>
std::string format_number(V value) {
  if constexpr (std::is_floating_point_v<V>) {
    // The sign of a NaN carries no meaning, and to_chars would print "-nan".
    if (std::isnan(value)) return "nan";
    char buffer[64];
    const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return result.ec == std::errc() ? std::string(buffer, result.ptr) : std::string("?");
  } else if constexpr (std::is_signed_v<V>) {
    return std::to_string(static_cast<long long>(value));
  } else {
    return std::to_string(static_cast<unsigned long long>(value));
  }
}

// Converts `number`, of any arithmetic type, to T (float or double) for the
// function `caller`. Throws ValueError naming the number if it is finite but
// beyond T's largest finite value, because that conversion is undefined
// behaviour. NaN and infinities convert unchanged. Every standard integer
// type fits in a float, so only floating numbers are checked.
template <class T, class S>
T convert_number(S number, const char* caller) {
  static_assert(std::is_arithmetic_v<S>, "convert_number: the number must be arithmetic");
  if constexpr (std::is_floating_point_v<S>) {
    constexpr T largest = std::numeric_limits<T>::max();
    if (std::isfinite(number) &&
        static_cast<long double>(std::abs(number)) > static_cast<long double>(largest)) {
      const bool is_float = std::is_same_v<T, float>;
      throw ValueError(std::string(caller) + ": the number " + format_number(number) +
                       " is beyond the largest " + (is_float ? "float" : "double") + ", " +
                       format_number(largest) + "; use a smaller number" +
                       (is_float ? " or Variable<double>" : ""));
    }
  }
  return static_cast<T>(number);
}

}  // namespace tapegrad::detail
