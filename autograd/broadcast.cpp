#include "autograd/broadcast.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

// Returns whether `small` combines with the larger `large` as a scalar, a row
// or a column.
bool broadcasts_over(const TensorShape& small, const TensorShape& large) {
  if (is_scalar_shape(small)) return true;
  if (large.size() != 2) return false;

  const std::size_t batch = large[0];
  const std::size_t features = large[1];
  const bool row = (small.size() == 1 && small[0] == features) ||
                   (small.size() == 2 && small[0] == 1 && small[1] == features);
  const bool column = small.size() == 2 && small[0] == batch && small[1] == 1;
  return row || column;
}

std::size_t product(TensorShape::const_iterator begin, TensorShape::const_iterator end) {
  std::size_t result = 1;
  for (auto it = begin; it != end; ++it) result *= *it;
  return result;
}

}  // namespace

bool is_scalar_shape(const TensorShape& shape) {
  return shape.empty() || (shape.size() == 1 && shape[0] == 1);
}

void check_broadcast(const char* op, const TensorShape& a, const TensorShape& b) {
  if (a == b || broadcasts_over(a, b) || broadcasts_over(b, a)) return;
  throw ShapeError(std::string(op) + ": cannot broadcast " + format_shape(a) + " with " +
                   format_shape(b) +
                   "; supported: equal shapes, a scalar, a row [N] or [1, N] over [B, N], "
                   "a column [B, 1] over [B, N]");
}

template <class T>
Tensor<T> sum_over_axis(const Tensor<T>& tensor, std::size_t axis) {
  const TensorShape& shape = tensor.shape();
  if (axis >= shape.size()) {
    throw ShapeError("sum_over_axis: axis " + std::to_string(axis) +
                     " is out of range for a tensor shaped " + format_shape(shape));
  }

  // The row-major tensor is a block [outer, length, inner], where length is
  // the size of the summed axis; the result is [outer, 1, inner].
  const std::size_t outer = product(shape.begin(), shape.begin() + axis);
  const std::size_t length = shape[axis];
  const std::size_t inner = product(shape.begin() + axis + 1, shape.end());

  std::vector<double> sums(outer * inner, 0.0);
  const T* data = tensor.data();
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < length; ++k) {
      const T* slice = data + (o * length + k) * inner;
      double* target = sums.data() + o * inner;
      for (std::size_t i = 0; i < inner; ++i) target[i] += slice[i];
    }
  }

  TensorShape result_shape = shape;
  result_shape[axis] = 1;
  Tensor<T> result = Tensor<T>::from_shape(result_shape);
  std::transform(sums.begin(), sums.end(), result.data(),
                 [](double sum) { return static_cast<T>(sum); });
  return result;
}

template <class T>
void sum_rows(const Tensor<T>& matrix, T* sums, bool add) {
  check_rank(matrix, 2, "sum_rows: matrix");
  const std::size_t rows = matrix.shape()[0];
  const std::size_t cols = matrix.shape()[1];

  // Columns go in blocks whose double sums stay in registers while every row
  // adds to them, so the matrix is read once, row by row.
  constexpr std::size_t kBlockColumns = 64;
  for (std::size_t first = 0; first < cols; first += kBlockColumns) {
    const std::size_t width = std::min(kBlockColumns, cols - first);
    std::array<double, kBlockColumns> block_sums{};
    for (std::size_t row = 0; row < rows; ++row) {
      const T* values = matrix.data() + row * cols + first;
      for (std::size_t j = 0; j < width; ++j) block_sums[j] += values[j];
    }
    for (std::size_t j = 0; j < width; ++j) {
      const T sum = static_cast<T>(block_sums[j]);
      sums[first + j] = add ? sums[first + j] + sum : sum;
    }
  }
}

template <class T>
Tensor<T> sum_to_shape(const Tensor<T>& gradient, const TensorShape& shape) {
  const TensorShape& from = gradient.shape();
  if (from == shape) return gradient;

  // `shape` must broadcast to the gradient's shape: aligned from the right,
  // each of its sizes equals the gradient's or is 1.
  const std::size_t extra = from.size() >= shape.size() ? from.size() - shape.size() : 0;
  bool broadcastable = shape.size() <= from.size();
  for (std::size_t i = 0; broadcastable && i < shape.size(); ++i) {
    broadcastable = shape[i] == 1 || shape[i] == from[extra + i];
  }
  if (!broadcastable) {
    throw ShapeError("sum_to_shape: a gradient shaped " + format_shape(from) +
                     " cannot be summed to " + format_shape(shape) +
                     ", which does not broadcast to it");
  }

  // The input lacks the leading `extra` axes: fold them into one and sum it.
  Tensor<T> result = gradient;
  if (extra > 0) {
    TensorShape folded = {product(from.begin(), from.begin() + extra)};
    folded.insert(folded.end(), from.begin() + extra, from.end());
    result.reshape(folded);
    result = sum_over_axis(result, 0);
    result.reshape(TensorShape(from.begin() + extra, from.end()));
  }

  // Axes where the input has size 1 were repeated: sum them.
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] == 1 && result.shape()[axis] != 1) result = sum_over_axis(result, axis);
  }
  return result;
}

template Tensor<float> sum_over_axis(const Tensor<float>&, std::size_t);
template Tensor<double> sum_over_axis(const Tensor<double>&, std::size_t);
template void sum_rows(const Tensor<float>&, float*, bool);
template void sum_rows(const Tensor<double>&, double*, bool);
template Tensor<float> sum_to_shape(const Tensor<float>&, const TensorShape&);
template Tensor<double> sum_to_shape(const Tensor<double>&, const TensorShape&);

}  // namespace tapegrad
