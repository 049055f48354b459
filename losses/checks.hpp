// Input checks shared by the losses.
//
// Every check throws ShapeError or ValueError with a message that starts with
// the caller's name (for example "softmax_cross_entropy"), names the offending
// value or shape, and states the valid range. Logits of the softmax losses are
// [B, C]: B rows (the batch), C classes.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>

#include "core/error.hpp"
#include "core/number.hpp"
#include "core/tensor.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad::detail {

// Throws ShapeError unless logits are 2-D [B, C] with B >= 1 and C >= 1.
template <class T>
void check_logits_shape(const Tensor<T>& logits, const char* caller);

// Throws ValueError at the first NaN or +inf in row `row_index` of the logits,
// naming its [row, column], or if every logit in the row is -inf, because
// then the row has no softmax. Single -inf logits are allowed.
template <class T>
void check_logits_row(const T* row, std::size_t row_index, std::size_t num_classes,
                      const char* caller);

// Throws ValueError at the first NaN, infinite or negative target in row
// `row_index`, naming its [row, column].
template <class T>
void check_targets_row(const T* row, std::size_t row_index, std::size_t num_classes,
                       const char* caller);

// Throws ShapeError unless `a` and `b` have the same shape; the message
// names both shapes.
template <class T>
void check_same_shape(const Tensor<T>& a, const char* a_name, const Tensor<T>& b,
                      const char* b_name, const char* caller);

// Throws ShapeError if `tensor` has no elements.
template <class T>
void check_not_empty(const Tensor<T>& tensor, const char* name, const char* caller);

// Throws ValueError at the first element outside [low, high], NaN included,
// naming the value and its position. Infinite bounds allow infinities.
// `requirement` completes the message, as in "must be in [0, 1]".
template <class T>
void check_range(const Tensor<T>& tensor, T low, T high, const char* name,
                 const char* requirement, const char* caller);

// Returns the value of a one-element grad_output. Throws ShapeError naming
// its shape if it has another number of elements, and ValueError if the value
// is NaN or infinite, because an infinite factor turns the zero entries of a
// gradient into NaN.
template <class T>
T grad_output_value(const Tensor<T>& grad_output, const char* caller);

// Throws ValueError for a grad_output that is not finite or does not fit in
// the logits' type.
[[noreturn]] void throw_invalid_grad_output(const std::string& value, const std::string& reason,
                                            const char* caller);

// Converts a scalar grad_output of any arithmetic type to T, with the checks
// of the tensor version. Floating values are checked before the conversion,
// because converting a value beyond T's range is undefined behaviour.
template <class T, class G>
T grad_output_value(G grad_output, const char* caller) {
  static_assert(std::is_arithmetic_v<G>, "grad_output must be a number or a one-element tensor");
  if constexpr (std::is_floating_point_v<G>) {
    if (!std::isfinite(grad_output)) {
      throw_invalid_grad_output(format_number(grad_output), "it must be a finite number", caller);
    }
    if (static_cast<long double>(std::abs(grad_output)) >
        static_cast<long double>(std::numeric_limits<T>::max())) {
      throw_invalid_grad_output(format_number(grad_output),
                                "its magnitude must be at most " +
                                    format_number(std::numeric_limits<T>::max()),
                                caller);
    }
  }
  return static_cast<T>(grad_output);
}

// Returns a 0-D tensor that contains `value`, its buffer taken from the tensor
// pool: the result of every loss that reduces a batch to one number.
template <class T>
Tensor<T> scalar_tensor(T value) {
  Tensor<T> result = pooled_tensor<T>({});
  result() = value;
  return result;
}

}  // namespace tapegrad::detail
