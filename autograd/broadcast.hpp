// Broadcasting in the autograd ops: which shapes a binary op accepts, and how
// backward sums a gradient back to an input's shape.
//
// Broadcasting is explicit. A binary op combines two shapes only in these
// cases, in either operand order, and throws ShapeError for anything else, so
// that a shape mistake never broadcasts silently:
//
//   equal shapes                        [B, N] with [B, N]
//   a scalar with any shape             [] or [1] with [B, N], [N], ...
//   a row over a matrix, as a bias      [N] or [1, N] with [B, N]
//   a column over a matrix              [B, 1] with [B, N]
//
// Each case is also a NumPy broadcast, so xtensor computes the forward pass.
// An input that was broadcast took part in many output elements, so its
// gradient is the sum of theirs: sum_to_shape.
#pragma once

#include <cstddef>

#include "core/tensor.hpp"

namespace tapegrad {

// The shape type of every Tensor<T>.
using TensorShape = Tensor<float>::shape_type;

// Returns whether a shape counts as a scalar operand: 0-D, or [1].
bool is_scalar_shape(const TensorShape& shape);

// Throws ShapeError naming `op` and both shapes unless a and b combine in one
// of the cases above.
void check_broadcast(const char* op, const TensorShape& a, const TensorShape& b);

// Sums `tensor` over `axis`, keeping that axis with size 1. Accumulates in
// double, so that a float sum over many elements keeps its precision.
template <class T>
Tensor<T> sum_over_axis(const Tensor<T>& tensor, std::size_t axis);

// Sums a 2-D `matrix` [rows, cols] over its rows, in double, and writes the
// column sums to `sums` [cols], or adds them to it when `add` is true. The
// bias gradient of linear writes into its gradient buffer this way, with no
// temporary tensor. Throws ShapeError, naming the shape, unless `matrix` is
// 2-D.
template <class T>
void sum_rows(const Tensor<T>& matrix, T* sums, bool add);

// Sums `gradient` over the axes along which an input of `shape` was
// broadcast, so that the result has `shape`. `shape` must broadcast to the
// gradient's shape under NumPy rules; a shape equal to the gradient's returns
// a copy.
template <class T>
Tensor<T> sum_to_shape(const Tensor<T>& gradient, const TensorShape& shape);

}  // namespace tapegrad
