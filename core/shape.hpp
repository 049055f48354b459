// Shape formatting and checks shared by every shape error message.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace tapegrad {

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
// `what` names the function and argument, as in "matmul: a".
template <class T>
void check_rank(const Tensor<T>& tensor, std::size_t rank, const std::string& what) {
  if (tensor.dimension() != rank) {
    throw ShapeError(what + " must be " + std::to_string(rank) + "-D, but its shape is " +
                     format_shape(tensor.shape()));
  }
}

}  // namespace tapegrad
