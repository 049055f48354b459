// Softmax cross-entropy with one class id per row (sparse labels).
//
// Legend: B batch size, C classes, x logits [B, C], y labels [B] with class
// ids in [0, C), g grad_output (a scalar), lse(x_b) = log sum_c exp(x_bc).
//
//   loss        = mean_b( lse(x_b) - x_{b, y_b} )
//   d loss / dx = g * (softmax(x_b) - onehot(y_b)) / B   for each row b
//
// Labels may be of any integer type except bool, an enum, or a floating type
// whose values are whole numbers. They are checked and converted to class ids here,
// in every build mode, and the compiled float and double code does the math.
//
// Numerics: the row loss is log(sum_c exp(x_bc - m)) - (x_{b, y_b} - m) with m
// the row maximum, which keeps float precision for logits near 1e8. -inf
// logits are allowed. The loss is +inf when the labelled logit is -inf.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/variable.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "losses/checks.hpp"

namespace tapegrad {

namespace detail {

// True for the label types the sparse loss accepts.
template <class Label>
constexpr bool is_label_type = (std::is_integral_v<Label> && !std::is_same_v<Label, bool>) ||
                               std::is_enum_v<Label> || std::is_floating_point_v<Label>;

// Throws ShapeError for labels that are not 1-D or whose length is not the
// batch size.
[[noreturn]] void throw_labels_shape_error(const std::string& labels_shape, std::size_t labels_rank,
                                           std::size_t batch_size, const char* caller);

// Throws ValueError for a label outside [0, num_classes).
[[noreturn]] void throw_label_out_of_range(const std::string& label, std::size_t row,
                                           std::size_t num_classes, const char* caller);

// Throws ValueError for a floating label with a fractional part.
[[noreturn]] void throw_fractional_label(const std::string& label, std::size_t row,
                                         std::size_t num_classes, const char* caller);

// Returns `label` as a class id in [0, num_classes), or throws ValueError
// naming the row, the value and the valid range.
template <class Label>
std::size_t to_class_id(Label label, std::size_t row, std::size_t num_classes,
                        const char* caller) {
  if constexpr (std::is_enum_v<Label>) {
    return to_class_id(static_cast<std::underlying_type_t<Label>>(label), row, num_classes, caller);
  } else if constexpr (std::is_floating_point_v<Label>) {
    // The range check comes before the cast, because converting a floating
    // value outside the range of std::size_t is undefined behaviour. NaN
    // fails it too.
    if (!(label >= Label(0) && label < static_cast<Label>(num_classes))) {
      throw_label_out_of_range(format_number(label), row, num_classes, caller);
    }
    if (std::trunc(label) != label) {
      throw_fractional_label(format_number(label), row, num_classes, caller);
    }
    // static_cast<Label>(num_classes) may round up, so check again exactly.
    const auto class_id = static_cast<std::size_t>(label);
    if (class_id >= num_classes) {
      throw_label_out_of_range(format_number(label), row, num_classes, caller);
    }
    return class_id;
  } else if constexpr (std::is_signed_v<Label>) {
    const long long value = label;
    if (value < 0 || static_cast<unsigned long long>(value) >= num_classes) {
      throw_label_out_of_range(format_number(value), row, num_classes, caller);
    }
    return static_cast<std::size_t>(value);
  } else {
    const unsigned long long value = label;
    if (value >= num_classes) {
      throw_label_out_of_range(format_number(value), row, num_classes, caller);
    }
    return static_cast<std::size_t>(value);
  }
}

// Checks every label against the logits [B, C] and returns the class ids.
template <class T, class Label>
std::vector<std::size_t> to_class_ids(const Tensor<Label>& labels, const Tensor<T>& logits,
                                      const char* caller) {
  static_assert(is_label_type<Label>,
                "sparse_softmax_cross_entropy: labels must have an integer type other than bool, "
                "an enum type, or a floating type whose values are whole numbers");
  check_logits_shape(logits, caller);
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];
  if (labels.dimension() != 1 || labels.size() != batch_size) {
    throw_labels_shape_error(format_shape(labels.shape()), labels.dimension(), batch_size, caller);
  }

  std::vector<std::size_t> class_ids(batch_size);
  for (std::size_t b = 0; b < batch_size; ++b) {
    class_ids[b] = to_class_id(labels.data()[b], b, num_classes, caller);
  }
  return class_ids;
}

// The loss and its gradient once the labels are class ids in [0, C).
template <class T>
T sparse_softmax_cross_entropy(const Tensor<T>& logits, const std::vector<std::size_t>& class_ids);

template <class T>
Tensor<T> sparse_softmax_cross_entropy_backward(T grad_output, const Tensor<T>& cached_logits,
                                                const std::vector<std::size_t>& class_ids);

// Returns the loss as a graph result whose node caches the class ids.
template <class T>
Variable<T> record_sparse_softmax_cross_entropy(const Variable<T>& logits, T loss,
                                                std::vector<std::size_t> class_ids);

}  // namespace detail

// Returns the mean softmax cross-entropy of logits [B, C] against labels [B].
// Throws ShapeError for logits that are not 2-D, an empty batch, zero classes
// or labels that are not 1-D of length B. Throws ValueError for a label
// outside [0, C) or with a fractional part, NaN or +inf logits, and a row of
// only -inf.
template <class T, class Label>
T sparse_softmax_cross_entropy(const Tensor<T>& logits, const Tensor<Label>& labels) {
  const char* caller = "sparse_softmax_cross_entropy";
  const std::vector<std::size_t> class_ids = detail::to_class_ids(labels, logits, caller);
  return detail::sparse_softmax_cross_entropy(logits, class_ids);
}

// Returns the gradient of sparse_softmax_cross_entropy with respect to the
// logits, scaled by grad_output: a number of any arithmetic type. Throws as
// the forward does, and ValueError for a NaN or infinite grad_output.
template <class T, class Label, class G>
  requires std::is_arithmetic_v<G>
Tensor<T> sparse_softmax_cross_entropy_backward(G grad_output, const Tensor<T>& cached_logits,
                                                const Tensor<Label>& labels) {
  const char* caller = "sparse_softmax_cross_entropy_backward";
  const T grad_value = detail::grad_output_value<T>(grad_output, caller);
  const std::vector<std::size_t> class_ids = detail::to_class_ids(labels, cached_logits, caller);
  return detail::sparse_softmax_cross_entropy_backward(grad_value, cached_logits, class_ids);
}

// As above, with grad_output a one-element tensor. Throws ShapeError naming
// its shape if it has another number of elements.
template <class T, class Label>
Tensor<T> sparse_softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                                const Tensor<T>& cached_logits,
                                                const Tensor<Label>& labels) {
  const char* caller = "sparse_softmax_cross_entropy_backward";
  const T grad_value = detail::grad_output_value(grad_output, caller);
  const std::vector<std::size_t> class_ids = detail::to_class_ids(labels, cached_logits, caller);
  return detail::sparse_softmax_cross_entropy_backward(grad_value, cached_logits, class_ids);
}

// The graph form: returns the loss as a scalar Variable. Its node caches the
// labels, as class ids, and the logits, as the input it keeps alive, and its
// backward calls the backward above with the upstream gradient. Throws as the
// tensor form does.
template <class T, class Label>
Variable<T> sparse_softmax_cross_entropy(const Variable<T>& logits, const Tensor<Label>& labels) {
  const char* caller = "sparse_softmax_cross_entropy";
  std::vector<std::size_t> class_ids = detail::to_class_ids(labels, logits.value(), caller);
  const T loss = detail::sparse_softmax_cross_entropy(logits.value(), class_ids);
  return detail::record_sparse_softmax_cross_entropy(logits, loss, std::move(class_ids));
}

}  // namespace tapegrad
