// Sigmoid cross-entropy for binary and multi-label classification.
//
// Legend: N number of elements (logits and targets may have any shape, the
// same for both), x logits, t targets in [0, 1], g grad_output (a scalar).
//
//   loss        = mean over all N elements of
//                 max(x, 0) - x * t + log1p(exp(-|x|))
//   d loss / dx = g * (sigmoid(x) - t) / N
//
// The element loss equals -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)),
// computed without overflow for every finite x. Logits of +inf or -inf are allowed:
// the loss is 0 where the target agrees with the saturated side (t = 1 for
// +inf, t = 0 for -inf), +inf otherwise, and the gradient stays finite.
#pragma once

#include <type_traits>

#include "autograd/variable.hpp"
#include "core/tensor.hpp"
#include "losses/checks.hpp"

namespace tapegrad {

namespace detail {

// The backward pass after grad_output has been checked and converted to T.
template <class T>
Tensor<T> sigmoid_cross_entropy_backward(T grad_output, const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets);

}  // namespace detail

// Returns the mean sigmoid cross-entropy over all elements. Throws ShapeError
// if logits and targets differ in shape or are empty, and ValueError for NaN
// logits or targets outside [0, 1].
template <class T>
T sigmoid_cross_entropy(const Tensor<T>& logits, const Tensor<T>& targets);

// Returns the gradient of sigmoid_cross_entropy with respect to the logits,
// scaled by grad_output: a number of any arithmetic type. Throws as the
// forward does, and ValueError for a NaN or infinite grad_output.
template <class T, class G>
  requires std::is_arithmetic_v<G>
Tensor<T> sigmoid_cross_entropy_backward(G grad_output, const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets) {
  const char* caller = "sigmoid_cross_entropy_backward";
  return detail::sigmoid_cross_entropy_backward(detail::grad_output_value<T>(grad_output, caller),
                                                cached_logits, targets);
}

// As above, with grad_output a one-element tensor. Throws ShapeError naming
// its shape if it has another number of elements.
template <class T>
Tensor<T> sigmoid_cross_entropy_backward(const Tensor<T>& grad_output,
                                         const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets) {
  const char* caller = "sigmoid_cross_entropy_backward";
  return detail::sigmoid_cross_entropy_backward(detail::grad_output_value(grad_output, caller),
                                                cached_logits, targets);
}

// The graph form: returns the loss as a scalar Variable. Its node caches the
// targets and the logits, as the input it keeps alive, and its backward
// calls the backward above with the upstream gradient. Throws as the tensor
// form does.
template <class T>
Variable<T> sigmoid_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets);

}  // namespace tapegrad
