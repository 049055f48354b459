#include "losses/checks.hpp"

#include <string>
#include <vector>

#include "core/kernels.hpp"
#include "core/shape.hpp"

namespace tapegrad::detail {
namespace {

template <class T>
constexpr T kInfinity = std::numeric_limits<T>::infinity();

// Formats the position of element `flat_index` of a row-major tensor, as
// "[1, 2]" for a 2-D tensor.
template <class Shape>
std::string format_position(const Shape& shape, std::size_t flat_index) {
  std::vector<std::size_t> position(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    position[axis] = flat_index % shape[axis];
    flat_index /= shape[axis];
  }
  return format_shape(position);
}

std::string format_row_column(std::size_t row, std::size_t column) {
  return "[" + std::to_string(row) + ", " + std::to_string(column) + "]";
}

}  // namespace

template <class T>
void check_logits_shape(const Tensor<T>& logits, const char* caller) {
  if (logits.dimension() != 2) {
    throw ShapeError(std::string(caller) +
                     ": logits must be 2-D [batch, classes], but their shape is " +
                     format_shape(logits.shape()));
  }
  if (logits.shape()[0] == 0) {
    throw ShapeError(std::string(caller) + ": the batch is empty: logits are " +
                     format_shape(logits.shape()) + "; pass at least one row");
  }
  if (logits.shape()[1] == 0) {
    throw ShapeError(std::string(caller) + ": there are no classes: logits are " +
                     format_shape(logits.shape()) + "; pass at least one column");
  }
}

template <class T>
void check_logits_row(const T* row, std::size_t row_index, std::size_t num_classes,
                      const char* caller) {
  // The SIMD scan decides; the offending column is searched for only when
  // the row is invalid.
  if (row_is_valid_logits(row, num_classes)) return;

  for (std::size_t column = 0; column < num_classes; ++column) {
    if (row[column] < kInfinity<T>) continue;
    throw ValueError(std::string(caller) + ": logits contain " + format_number(row[column]) +
                     " at " + format_row_column(row_index, column) +
                     "; logits must be finite or -inf");
  }
  throw ValueError(std::string(caller) + ": row " + std::to_string(row_index) +
                   " of the logits is all -inf; at least one logit per row must be finite");
}

template <class T>
void check_targets_row(const T* row, std::size_t row_index, std::size_t num_classes,
                       const char* caller) {
  bool valid = true;
  for (std::size_t column = 0; column < num_classes; ++column) {
    valid &= row[column] >= T(0) && row[column] < kInfinity<T>;
  }
  if (valid) return;

  std::size_t column = 0;
  while (row[column] >= T(0) && row[column] < kInfinity<T>) ++column;
  throw ValueError(std::string(caller) + ": targets contain " + format_number(row[column]) +
                   " at " + format_row_column(row_index, column) +
                   "; targets must be finite and at least 0");
}

template <class T>
void check_same_shape(const Tensor<T>& a, const char* a_name, const Tensor<T>& b,
                      const char* b_name, const char* caller) {
  if (a.shape() != b.shape()) {
    throw ShapeError(std::string(caller) + ": " + a_name + " are " + format_shape(a.shape()) +
                     " but " + b_name + " are " + format_shape(b.shape()) +
                     "; they must have the same shape");
  }
}

template <class T>
void check_not_empty(const Tensor<T>& tensor, const char* name, const char* caller) {
  if (tensor.size() == 0) {
    throw ShapeError(std::string(caller) + ": " + name + " are empty (shape " +
                     format_shape(tensor.shape()) + "); pass at least one element");
  }
}

template <class T>
void check_range(const Tensor<T>& tensor, T low, T high, const char* name,
                 const char* requirement, const char* caller) {
  const T* values = tensor.data();
  const std::size_t size = tensor.size();
  bool valid = true;
  for (std::size_t i = 0; i < size; ++i) valid &= values[i] >= low && values[i] <= high;
  if (valid) return;

  std::size_t index = 0;
  while (values[index] >= low && values[index] <= high) ++index;
  throw ValueError(std::string(caller) + ": " + name + " contain " + format_number(values[index]) +
                   " at " + format_position(tensor.shape(), index) + "; " + name + " " +
                   requirement);
}

void throw_invalid_grad_output(const std::string& value, const std::string& reason,
                               const char* caller) {
  throw ValueError(std::string(caller) + ": grad_output is " + value + "; " + reason);
}

template <class T>
T grad_output_value(const Tensor<T>& grad_output, const char* caller) {
  if (grad_output.size() != 1) {
    throw ShapeError(std::string(caller) +
                     ": grad_output must be a scalar or have one element, but its shape is " +
                     format_shape(grad_output.shape()));
  }
  const T value = *grad_output.data();
  if (!std::isfinite(value)) {
    throw_invalid_grad_output(format_number(value), "it must be a finite number", caller);
  }
  return value;
}

#define TAPEGRAD_INSTANTIATE_LOSS_CHECKS(T)                                                   \
  template void check_logits_shape(const Tensor<T>&, const char*);                           \
  template void check_logits_row(const T*, std::size_t, std::size_t, const char*);           \
  template void check_targets_row(const T*, std::size_t, std::size_t, const char*);          \
  template void check_same_shape(const Tensor<T>&, const char*, const Tensor<T>&, const char*, \
                                 const char*);                                               \
  template void check_not_empty(const Tensor<T>&, const char*, const char*);                 \
  template void check_range(const Tensor<T>&, T, T, const char*, const char*, const char*);  \
  template T grad_output_value(const Tensor<T>&, const char*);

TAPEGRAD_INSTANTIATE_LOSS_CHECKS(float)
TAPEGRAD_INSTANTIATE_LOSS_CHECKS(double)

}  // namespace tapegrad::detail
