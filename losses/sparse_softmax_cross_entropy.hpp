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
//
// The overloads that take CrossEntropyOptions add a reduction (mean, sum or
// none), class weights, ignore_index and label smoothing, with the formulas
// of losses/cross_entropy_options.hpp. For class ids they are
//
//   l_b = -sum_c w_c * ((1 - eps) * [c == y_b] + eps / C) * log softmax(x_b)_c,
//         and l_b = 0 when y_b equals ignore_index
//   mean = sum_b l_b / sum_{b not ignored} w_{y_b}
//
// NOTE: when every sample is ignored, or every counted sample has weight 0,
// the mean is 0 with a zero gradient. PyTorch divides by zero there.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/variable.hpp"
#include "core/recycling_allocator.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "losses/checks.hpp"
#include "losses/cross_entropy_options.hpp"

namespace tapegrad {

namespace detail {

// The labels of a batch as class ids in [0, C), or kIgnoredClassId. Every
// call of the loss creates one list and its node keeps it until backward,
// so the list comes from the recycling allocator, like the node.
using ClassIds = std::vector<std::size_t, RecyclingAllocator<std::size_t>>;

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

// The class id that marks a sample whose label equals ignore_index.
inline constexpr std::size_t kIgnoredClassId = std::numeric_limits<std::size_t>::max();

// Whether `label` has the value ignore_index. The comparison is exact for
// every label type, because long double represents every int64, float and
// double exactly. A NaN label matches nothing, and an unsigned label never
// matches a negative ignore_index.
template <class Label>
bool is_ignored_label(Label label, std::int64_t ignore_index) {
  if constexpr (std::is_enum_v<Label>) {
    return is_ignored_label(static_cast<std::underlying_type_t<Label>>(label), ignore_index);
  } else if constexpr (std::is_floating_point_v<Label>) {
    return static_cast<long double>(label) == static_cast<long double>(ignore_index);
  } else if constexpr (std::is_signed_v<Label>) {
    return static_cast<long long>(label) == static_cast<long long>(ignore_index);
  } else {
    return ignore_index >= 0 &&
           static_cast<unsigned long long>(label) == static_cast<unsigned long long>(ignore_index);
  }
}

// Checks every label against the logits [B, C] and returns the class ids.
// A label equal to ignore_index, when one is given, becomes kIgnoredClassId
// without a range check.
template <class T, class Label>
ClassIds to_class_ids(const Tensor<Label>& labels, const Tensor<T>& logits,
                                      std::optional<std::int64_t> ignore_index,
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

  // The optional is read once, before the loop: GCC 12 otherwise compares
  // each label with the payload of a disengaged optional before it tests
  // has_value(), which valgrind reports as a read of uninitialised memory.
  const bool has_ignore_index = ignore_index.has_value();
  const std::int64_t ignored = ignore_index.value_or(0);
  ClassIds class_ids(batch_size);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const Label label = labels.data()[b];
    if (has_ignore_index && is_ignored_label(label, ignored)) {
      class_ids[b] = kIgnoredClassId;
    } else {
      class_ids[b] = to_class_id(label, b, num_classes, caller);
    }
  }
  return class_ids;
}

template <class T, class Label>
ClassIds to_class_ids(const Tensor<Label>& labels, const Tensor<T>& logits,
                                      const char* caller) {
  return to_class_ids(labels, logits, std::nullopt, caller);
}

// The loss and its gradient once the labels are class ids in [0, C).
template <class T>
T sparse_softmax_cross_entropy(const Tensor<T>& logits, const ClassIds& class_ids);

template <class T>
Tensor<T> sparse_softmax_cross_entropy_backward(T grad_output, const Tensor<T>& cached_logits,
                                                const ClassIds& class_ids);

// Returns the loss as a graph result whose node caches the class ids.
template <class T>
Variable<T> record_sparse_softmax_cross_entropy(const Variable<T>& logits, T loss,
                                                ClassIds class_ids);

// The loss with options and its gradient, once the labels are class ids in
// [0, C) or kIgnoredClassId.
template <class T>
Tensor<T> sparse_softmax_cross_entropy(const Tensor<T>& logits,
                                       const ClassIds& class_ids,
                                       const CrossEntropyOptions& options);

template <class T>
Tensor<T> sparse_softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                                const Tensor<T>& cached_logits,
                                                const ClassIds& class_ids,
                                                const CrossEntropyOptions& options);

// Returns the loss with options as a graph result whose node caches the
// class ids and the options.
template <class T>
Variable<T> record_sparse_softmax_cross_entropy(const Variable<T>& logits, Tensor<T> loss,
                                                ClassIds class_ids,
                                                const CrossEntropyOptions& options);

}  // namespace detail

// Returns the mean softmax cross-entropy of logits [B, C] against labels [B].
// Throws ShapeError for logits that are not 2-D, an empty batch, zero classes
// or labels that are not 1-D of length B. Throws ValueError for a label
// outside [0, C) or with a fractional part, NaN or +inf logits, and a row of
// only -inf.
template <class T, class Label>
T sparse_softmax_cross_entropy(const Tensor<T>& logits, const Tensor<Label>& labels) {
  const char* caller = "sparse_softmax_cross_entropy";
  const detail::ClassIds class_ids = detail::to_class_ids(labels, logits, caller);
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
  const detail::ClassIds class_ids = detail::to_class_ids(labels, cached_logits, caller);
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
  const detail::ClassIds class_ids = detail::to_class_ids(labels, cached_logits, caller);
  return detail::sparse_softmax_cross_entropy_backward(grad_value, cached_logits, class_ids);
}

// The graph form: returns the loss as a scalar Variable. Its node caches the
// labels, as class ids, and the logits, as the input it keeps alive, and its
// backward calls the backward above with the upstream gradient. Throws as the
// tensor form does.
template <class T, class Label>
Variable<T> sparse_softmax_cross_entropy(const Variable<T>& logits, const Tensor<Label>& labels) {
  const char* caller = "sparse_softmax_cross_entropy";
  detail::ClassIds class_ids = detail::to_class_ids(labels, logits.value(), caller);
  const T loss = detail::sparse_softmax_cross_entropy(logits.value(), class_ids);
  return detail::record_sparse_softmax_cross_entropy(logits, loss, std::move(class_ids));
}

// Returns the softmax cross-entropy with options: a 0-D tensor for
// Reduction::mean and Reduction::sum, the per-sample losses [B] for
// Reduction::none. Labels equal to options.ignore_index may have any value;
// the others are checked as in the form without options. Throws as that form
// does, and for invalid options (see detail::check_cross_entropy_options).
template <class T, class Label>
Tensor<T> sparse_softmax_cross_entropy(const Tensor<T>& logits, const Tensor<Label>& labels,
                                       const CrossEntropyOptions& options) {
  const char* caller = "sparse_softmax_cross_entropy";
  const detail::ClassIds class_ids =
      detail::to_class_ids(labels, logits, options.ignore_index, caller);
  return detail::sparse_softmax_cross_entropy(logits, class_ids, options);
}

// Returns the gradient of the loss above with respect to the logits, given
// grad_output shaped like that loss: a scalar or one-element tensor for mean
// and sum, [B] for none. Throws as the forward does, ShapeError for a
// grad_output of another shape, and ValueError for a NaN or infinite one.
template <class T, class Label>
Tensor<T> sparse_softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                                const Tensor<T>& cached_logits,
                                                const Tensor<Label>& labels,
                                                const CrossEntropyOptions& options) {
  const char* caller = "sparse_softmax_cross_entropy_backward";
  const detail::ClassIds class_ids =
      detail::to_class_ids(labels, cached_logits, options.ignore_index, caller);
  return detail::sparse_softmax_cross_entropy_backward(grad_output, cached_logits, class_ids,
                                                       options);
}

// The graph form with options: returns the loss above as a Variable, whose
// node caches the class ids and the options. Throws as the tensor form does.
template <class T, class Label>
Variable<T> sparse_softmax_cross_entropy(const Variable<T>& logits, const Tensor<Label>& labels,
                                         const CrossEntropyOptions& options) {
  const char* caller = "sparse_softmax_cross_entropy";
  detail::ClassIds class_ids =
      detail::to_class_ids(labels, logits.value(), options.ignore_index, caller);
  Tensor<T> loss = detail::sparse_softmax_cross_entropy(logits.value(), class_ids, options);
  return detail::record_sparse_softmax_cross_entropy(logits, std::move(loss),
                                                     std::move(class_ids), options);
}

}  // namespace tapegrad
