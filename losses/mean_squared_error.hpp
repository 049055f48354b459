// Mean squared error.
//
// Legend: N number of elements (predictions and targets may have any shape,
// the same for both), p predictions, t targets, g grad_output (a scalar).
//
//   loss        = mean over all N elements of (p - t)^2
//   d loss / dp = g * 2 * (p - t) / N
//
// The gradient with respect to the targets is the negative of d loss / dp;
// the backward returns only d loss / dp.
#pragma once

#include <type_traits>

#include "autograd/variable.hpp"
#include "core/tensor.hpp"
#include "losses/checks.hpp"

namespace tapegrad {

namespace detail {

// The backward pass after grad_output has been checked and converted to T.
template <class T>
Tensor<T> mean_squared_error_backward(T grad_output, const Tensor<T>& predictions,
                                      const Tensor<T>& targets);

}  // namespace detail

// Returns the mean of (predictions - targets)^2 over all elements. Throws
// ShapeError if the shapes differ or are empty, and ValueError for NaN or
// infinite values.
template <class T>
T mean_squared_error(const Tensor<T>& predictions, const Tensor<T>& targets);

// Returns the gradient of mean_squared_error with respect to the predictions,
// scaled by grad_output: a number of any arithmetic type. Throws as the
// forward does, and ValueError for a NaN or infinite grad_output.
template <class T, class G>
  requires std::is_arithmetic_v<G>
Tensor<T> mean_squared_error_backward(G grad_output, const Tensor<T>& predictions,
                                      const Tensor<T>& targets) {
  const char* caller = "mean_squared_error_backward";
  return detail::mean_squared_error_backward(detail::grad_output_value<T>(grad_output, caller),
                                             predictions, targets);
}

// As above, with grad_output a one-element tensor. Throws ShapeError naming
// its shape if it has another number of elements.
template <class T>
Tensor<T> mean_squared_error_backward(const Tensor<T>& grad_output, const Tensor<T>& predictions,
                                      const Tensor<T>& targets) {
  const char* caller = "mean_squared_error_backward";
  return detail::mean_squared_error_backward(detail::grad_output_value(grad_output, caller),
                                             predictions, targets);
}

// The graph form: returns the loss as a scalar Variable. Its node caches the
// targets and the predictions, as the input it keeps alive, and its backward
// calls the backward above with the upstream gradient. Throws as the tensor
// form does.
template <class T>
Variable<T> mean_squared_error(const Variable<T>& predictions, const Tensor<T>& targets);

}  // namespace tapegrad
