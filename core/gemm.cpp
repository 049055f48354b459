#include "core/gemm.hpp"

#include <cblas.h>

#include <string>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/shape.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

struct GemmSizes {
  blasint rows;    // rows of op(a) and of the result
  blasint inner;   // columns of op(a), rows of op(b)
  blasint cols;    // columns of op(b) and of the result
};

// Checks ranks and inner sizes and returns the sizes of op(a) · op(b).
template <class T>
GemmSizes gemm_sizes(const Tensor<T>& a, Transpose transpose_a, const Tensor<T>& b,
                     Transpose transpose_b, const char* caller) {
  check_rank(a, 2, caller, "a");
  check_rank(b, 2, caller, "b");

  const bool ta = transpose_a == Transpose::yes;
  const bool tb = transpose_b == Transpose::yes;
  const std::size_t a_rows = ta ? a.shape()[1] : a.shape()[0];
  const std::size_t a_inner = ta ? a.shape()[0] : a.shape()[1];
  const std::size_t b_inner = tb ? b.shape()[1] : b.shape()[0];
  const std::size_t b_cols = tb ? b.shape()[0] : b.shape()[1];
  if (a_inner != b_inner) {
    throw ShapeError(std::string(caller) + ": inner sizes differ: a is " + format_shape(a.shape()) +
                     (ta ? " (transposed)" : "") + ", b is " + format_shape(b.shape()) +
                     (tb ? " (transposed)" : ""));
  }
  return {static_cast<blasint>(a_rows), static_cast<blasint>(a_inner),
          static_cast<blasint>(b_cols)};
}

// Row-major leading dimension: the stored row length, whether or not the
// operand is used transposed. BLAS rejects a leading dimension of 0.
template <class T>
blasint leading_dimension(const Tensor<T>& matrix) {
  return static_cast<blasint>(matrix.shape()[1] > 0 ? matrix.shape()[1] : 1);
}

CBLAS_TRANSPOSE blas_flag(Transpose transpose) {
  return transpose == Transpose::yes ? CblasTrans : CblasNoTrans;
}

void call_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, const GemmSizes& s, float alpha,
               const float* a, blasint lda, const float* b, blasint ldb, float beta, float* c,
               blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, s.rows, s.cols, s.inner, alpha, a, lda, b, ldb, beta, c, ldc);
}

void call_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, const GemmSizes& s, double alpha,
               const double* a, blasint lda, const double* b, blasint ldb, double beta, double* c,
               blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, s.rows, s.cols, s.inner, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Products below this many floating-point operations run on one thread:
// about 40 us of work at 100 GFLOP/s, against a few microseconds to hand
// half of it to another thread.
constexpr double kMinParallelFlops = 4e6;

// Blocks start at multiples of this many rows or columns, so that every
// block but the last fills whole SIMD registers (16 floats in AVX-512).
constexpr std::size_t kBlockGrain = 16;

// Computes the product on num_threads() threads, each running a
// single-threaded BLAS call on a block of output columns or rows. Every
// block rereads, and BLAS repacks, the whole of the operand that is not
// split: splitting columns shares op(a) [rows, inner], splitting rows shares
// op(b) [inner, cols], so the longer output side is split.
template <class T>
void parallel_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, const GemmSizes& s, T alpha,
                   const T* a, blasint lda, const T* b, blasint ldb, T beta, T* c, blasint ldc) {
  const double flops = 2.0 * s.rows * s.cols * s.inner;
  if (num_threads() == 1 || flops < kMinParallelFlops) {
    call_gemm(ta, tb, s, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }

  if (s.cols >= s.rows) {
    parallel_for(static_cast<std::size_t>(s.cols), kBlockGrain,
                 [&](std::size_t begin, std::size_t end) {
                   const auto first = static_cast<blasint>(begin);
                   const GemmSizes block = {s.rows, s.inner, static_cast<blasint>(end - begin)};
                   // Column j of op(b) is column j of b, or row j when b is transposed.
                   const T* b_block = tb == CblasTrans ? b + first * ldb : b + first;
                   call_gemm(ta, tb, block, alpha, a, lda, b_block, ldb, beta, c + first, ldc);
                 });
  } else {
    parallel_for(static_cast<std::size_t>(s.rows), kBlockGrain,
                 [&](std::size_t begin, std::size_t end) {
                   const auto first = static_cast<blasint>(begin);
                   const GemmSizes block = {static_cast<blasint>(end - begin), s.inner, s.cols};
                   // Row i of op(a) is row i of a, or column i when a is transposed.
                   const T* a_block = ta == CblasTrans ? a + first : a + first * lda;
                   call_gemm(ta, tb, block, alpha, a_block, lda, b, ldb, beta, c + first * ldc,
                             ldc);
                 });
  }
}

}  // namespace

template <class T>
void gemm(const Tensor<T>& a, Transpose transpose_a, const Tensor<T>& b, Transpose transpose_b,
          T alpha, T beta, Tensor<T>& out) {
  const GemmSizes sizes = gemm_sizes(a, transpose_a, b, transpose_b, "gemm");
  check_rank(out, 2, "gemm: out");
  if (out.shape()[0] != static_cast<std::size_t>(sizes.rows) ||
      out.shape()[1] != static_cast<std::size_t>(sizes.cols)) {
    throw ShapeError("gemm: out is " + format_shape(out.shape()) + " but the product is [" +
                     std::to_string(sizes.rows) + ", " + std::to_string(sizes.cols) + "]");
  }
  if (out.size() == 0) return;

  // An inner size of 0 makes the product a zero matrix: out = beta · out.
  // beta = 0 must not read `out`, which may be uninitialised (as BLAS does).
  if (sizes.inner == 0) {
    if (beta == T(0)) {
      out.fill(T(0));
    } else {
      out *= beta;
    }
    return;
  }

  parallel_gemm(blas_flag(transpose_a), blas_flag(transpose_b), sizes, alpha, a.data(),
                leading_dimension(a), b.data(), leading_dimension(b), beta, out.data(),
                leading_dimension(out));
}

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, Transpose transpose_a,
                 Transpose transpose_b) {
  const GemmSizes sizes = gemm_sizes(a, transpose_a, b, transpose_b, "matmul");
  Tensor<T> out = pooled_tensor<T>(
      {static_cast<std::size_t>(sizes.rows), static_cast<std::size_t>(sizes.cols)});
  if (sizes.inner == 0) {
    out.fill(T(0));
    return out;
  }
  if (out.size() == 0) return out;

  parallel_gemm(blas_flag(transpose_a), blas_flag(transpose_b), sizes, T(1), a.data(),
                leading_dimension(a), b.data(), leading_dimension(b), T(0), out.data(),
                leading_dimension(out));
  return out;
}

void set_blas_threads(int threads) {
  if (threads < 1) {
    throw ValueError("set_blas_threads: threads must be at least 1, got " +
                     std::to_string(threads));
  }
  openblas_set_num_threads(threads);
}

int blas_threads() { return openblas_get_num_threads(); }

template Tensor<float> matmul(const Tensor<float>&, const Tensor<float>&, Transpose, Transpose);
template Tensor<double> matmul(const Tensor<double>&, const Tensor<double>&, Transpose, Transpose);
template void gemm(const Tensor<float>&, Transpose, const Tensor<float>&, Transpose, float, float,
                   Tensor<float>&);
template void gemm(const Tensor<double>&, Transpose, const Tensor<double>&, Transpose, double,
                   double, Tensor<double>&);

}  // namespace tapegrad
