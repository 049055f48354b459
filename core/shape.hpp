// Shape formatting and checks shared by every shape error message.
#pragma once

#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace tapegrad {

// Largest product of the nonzero sizes of a shape that a Tensor can take.
// xtensor computes strides as std::ptrdiff_t products of the trailing sizes,
// so a larger product overflows them even when another size is 0 and the
// tensor has no elements. Readers of shapes from files check against it.
inline constexpr std::size_t kMaxTensorElements =
    static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());

// Formats a shape as "[32, 784]"; a scalar (rank 0) is "[]".
template <class Shape>
std::string format_shape(const Shape& shape) {
  std::ostringstream out;
  out << '[';
  bool first = true;
  for (auto size : shape) {
    if (!first) out << ", ";
    out << size;
    first = false;
  }
  out << ']';
  return out.str();
}

// Throws ShapeError unless `tensor` has exactly `rank` dimensions.
// `argument` names the function and the argument, as in "matmul: a". It is
// a string_view so that a passing check, which runs on every op, builds no
// string.
template <class T>
void check_rank(const Tensor<T>& tensor, std::size_t rank, std::string_view argument) {
  if (tensor.dimension() != rank) {
    throw ShapeError(std::string(argument) + " must be " + std::to_string(rank) +
                     "-D, but its shape is " + format_shape(tensor.shape()));
  }
}

// The same check for a caller that passes its own name and the argument's
// separately, as in check_rank(a, 2, caller, "a"): the message joins them
// only when the check fails.
template <class T>
void check_rank(const Tensor<T>& tensor, std::size_t rank, std::string_view caller,
                std::string_view argument) {
  if (tensor.dimension() != rank) {
    check_rank(tensor, rank, std::string(caller) + ": " + std::string(argument));
  }
}

}  // namespace tapegrad
