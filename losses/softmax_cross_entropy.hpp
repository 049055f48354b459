// Softmax cross-entropy with dense targets: probabilities per row, not
// necessarily one-hot.
//
// Legend: B batch size, C classes, x logits [B, C], t targets [B, C],
// g grad_output (a scalar), lse(x_b) = log sum_c exp(x_bc).
//
//   loss        = mean_b( lse(x_b) * sum_c t_bc - sum_c t_bc * x_bc )
//   d loss / dx = g * (softmax(x_b) * sum_c t_bc - t_b) / B   for each row b
//
// When every target row sums to 1 these are the familiar -sum t log softmax(x)
// and softmax(x) - t. The general form is the exact derivative for any
// non-negative targets.
//
// Numerics: each row is shifted by its maximum m, so the row loss is
// log(sum_c exp(x_bc - m)) * sum_c t_bc - sum_c t_bc * (x_bc - m), which keeps
// float precision for logits near 1e8. A logit of -inf with target 0 adds
// nothing to the loss and gets gradient 0. Target mass on a -inf logit makes
// the loss +inf.
//
// The overloads that take CrossEntropyOptions add a reduction (mean, sum or
// none), class weights and label smoothing, with the formulas of
// losses/cross_entropy_options.hpp. For dense targets they are
//
//   l_b = -sum_c w_c * ((1 - eps) * t_bc + eps / C) * log softmax(x_b)_c
//
// and the mean divides sum_b l_b by B, not by a sum of weights, as PyTorch
// does for probability targets.
#pragma once

#include <type_traits>

#include "autograd/variable.hpp"
#include "core/tensor.hpp"
#include "losses/checks.hpp"
#include "losses/cross_entropy_options.hpp"

namespace tapegrad {

namespace detail {

// The backward pass after grad_output has been checked and converted to T.
template <class T>
Tensor<T> softmax_cross_entropy_backward(T grad_output, const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets);

}  // namespace detail

// Returns the mean softmax cross-entropy of logits [B, C] against targets
// [B, C]. Throws ShapeError for logits that are not 2-D, an empty batch, zero
// classes or targets of another shape. Throws ValueError for NaN or +inf
// logits, a row of only -inf, and NaN, infinite or negative targets.
template <class T>
T softmax_cross_entropy(const Tensor<T>& logits, const Tensor<T>& targets);

// Returns the gradient of softmax_cross_entropy with respect to the logits,
// scaled by grad_output: a number of any arithmetic type. Throws as the
// forward does, and ValueError for a NaN or infinite grad_output.
template <class T, class G>
  requires std::is_arithmetic_v<G>
Tensor<T> softmax_cross_entropy_backward(G grad_output, const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets) {
  const char* caller = "softmax_cross_entropy_backward";
  return detail::softmax_cross_entropy_backward(detail::grad_output_value<T>(grad_output, caller),
                                                cached_logits, targets);
}

// As above, with grad_output a one-element tensor. Throws ShapeError naming
// its shape if it has another number of elements.
template <class T>
Tensor<T> softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                         const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets) {
  const char* caller = "softmax_cross_entropy_backward";
  return detail::softmax_cross_entropy_backward(detail::grad_output_value(grad_output, caller),
                                                cached_logits, targets);
}

// The graph form: returns the loss as a scalar Variable. Its node caches the
// targets and the logits, as the input it keeps alive, and its backward
// calls the backward above with the upstream gradient. Throws as the tensor
// form does.
template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets);

// Returns the softmax cross-entropy with options: a 0-D tensor for
// Reduction::mean and Reduction::sum, the per-sample losses [B] for
// Reduction::none. Throws as the form without options does, and for invalid
// options (see detail::check_cross_entropy_options) or a set ignore_index,
// which only class labels can use.
template <class T>
Tensor<T> softmax_cross_entropy(const Tensor<T>& logits, const Tensor<T>& targets,
                                const CrossEntropyOptions& options);

// Returns the gradient of the loss above with respect to the logits, given
// grad_output shaped like that loss: a scalar or one-element tensor for mean
// and sum, [B] for none. Throws as the forward does, ShapeError for a
// grad_output of another shape, and ValueError for a NaN or infinite one.
template <class T>
Tensor<T> softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                         const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets,
                                         const CrossEntropyOptions& options);

// The graph form with options: returns the loss above as a Variable, whose
// node caches the targets and the options. Throws as the tensor form does.
template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets,
                                  const CrossEntropyOptions& options);

}  // namespace tapegrad
