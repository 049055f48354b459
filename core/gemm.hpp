// Matrix multiplication through BLAS. This is the one place that calls BLAS.
//
// Transposes are passed to cblas_?gemm as flags, so no transposed copy is
// ever made: backward passes use them to multiply by a transpose for free.
#pragma once

#include "core/tensor.hpp"

namespace tapegrad {

enum class Transpose { no, yes };

// Returns op(a) · op(b), where op transposes when its flag is Transpose::yes.
// Both operands must be 2-D and agree on the inner size; otherwise throws
// ShapeError with both shapes.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, Transpose transpose_a = Transpose::no,
                 Transpose transpose_b = Transpose::no);

// Computes out = alpha · op(a) · op(b) + beta · out, in place. `out` must
// already have the result's shape. beta = 1 accumulates, as a backward pass
// does into a gradient.
template <class T>
void gemm(const Tensor<T>& a, Transpose transpose_a, const Tensor<T>& b, Transpose transpose_b,
          T alpha, T beta, Tensor<T>& out);

// Sets how many threads BLAS may use; 1 keeps GEMM on the calling thread.
void set_blas_threads(int threads);

// Returns how many threads BLAS uses now.
int blas_threads();

}  // namespace tapegrad
