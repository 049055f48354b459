// Matrix products on variables: matmul, transpose and linear (a fully
// connected layer's x · weightᵀ + bias).
//
// Backward passes call core's gemm with transpose flags, so no transposed
// copy is made, and write into the gradient buffers directly.
#pragma once

#include "autograd/variable.hpp"

namespace tapegrad {

// Returns a · b for 2-D a [M, K] and b [K, N]. Throws ShapeError naming both
// shapes for other ranks or differing inner sizes.
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b);

// Returns the transpose of a 2-D x. Throws ShapeError for other ranks.
template <class T>
Variable<T> transpose(const Variable<T>& x);

// Returns x · weightᵀ + bias, as torch.nn.functional.linear does, with
// x [batch_size, in_features], weight [out_features, in_features] and bias
// [out_features]. Records one node. Throws ShapeError naming the shapes when
// they do not fit together.
template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& weight, const Variable<T>& bias);

// Returns x · weightᵀ, for a layer without bias.
template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& weight);

}  // namespace tapegrad
