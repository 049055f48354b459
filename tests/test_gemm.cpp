// matmul and gemm against a naive triple loop, in every transpose combination.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// The textbook product of op(a) and op(b), one multiply-add at a time, in
// long double so that it is the more accurate side of the comparison.
template <class T>
Tensor<T> naive_product(const Tensor<T>& a, bool transpose_a, const Tensor<T>& b,
                        bool transpose_b) {
  const std::size_t rows = transpose_a ? a.shape()[1] : a.shape()[0];
  const std::size_t inner = transpose_a ? a.shape()[0] : a.shape()[1];
  const std::size_t cols = transpose_b ? b.shape()[0] : b.shape()[1];
  Tensor<T> out = xt::zeros<T>({rows, cols});
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      long double sum = 0;
      for (std::size_t k = 0; k < inner; ++k) {
        const T a_ik = transpose_a ? a(k, i) : a(i, k);
        const T b_kj = transpose_b ? b(j, k) : b(k, j);
        sum += static_cast<long double>(a_ik) * b_kj;
      }
      out(i, j) = static_cast<T>(sum);
    }
  }
  return out;
}

template <class T>
void check_all_transposes(std::size_t rows, std::size_t inner, std::size_t cols) {
  Generator generator(7);
  for (bool transpose_a : {false, true}) {
    for (bool transpose_b : {false, true}) {
      CAPTURE(transpose_a);
      CAPTURE(transpose_b);
      const std::vector<std::size_t> a_shape =
          transpose_a ? std::vector<std::size_t>{inner, rows} : std::vector<std::size_t>{rows, inner};
      const std::vector<std::size_t> b_shape =
          transpose_b ? std::vector<std::size_t>{cols, inner} : std::vector<std::size_t>{inner, cols};
      const Tensor<T> a = generator.uniform_tensor<T>(a_shape, T(-1), T(1));
      const Tensor<T> b = generator.uniform_tensor<T>(b_shape, T(-1), T(1));

      const Tensor<T> product = matmul(a, b, transpose_a ? Transpose::yes : Transpose::no,
                                       transpose_b ? Transpose::yes : Transpose::no);
      const Tensor<T> expected = naive_product(a, transpose_a, b, transpose_b);

      REQUIRE(product.shape() == expected.shape());
      // Each entry sums `inner` products of values in [-1, 1].
      const double tolerance = (sizeof(T) == 4 ? 1e-6 : 1e-14) * static_cast<double>(inner + 1);
      const double max_difference = xt::amax(xt::abs(product - expected))();
      CAPTURE(max_difference);
      CHECK(max_difference <= tolerance);
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("matmul matches the naive product", T, float, double) {
  SUBCASE("1x1x1") { check_all_transposes<T>(1, 1, 1); }
  SUBCASE("3x5x7") { check_all_transposes<T>(3, 5, 7); }
  SUBCASE("129x257x33") { check_all_transposes<T>(129, 257, 33); }
}

TEST_CASE("matmul computes a product by hand") {
  const Tensor<double> a = {{1, 2}, {3, 4}};
  const Tensor<double> b = {{5, 6}, {7, 8}};
  const Tensor<double> expected = {{19, 22}, {43, 50}};
  CHECK(matmul(a, b) == expected);

  // aᵀ · b = [[1·5 + 3·7, 1·6 + 3·8], [2·5 + 4·7, 2·6 + 4·8]]
  const Tensor<double> expected_transposed = {{26, 30}, {38, 44}};
  CHECK(matmul(a, b, Transpose::yes) == expected_transposed);
}

TEST_CASE("matmul with an inner size of 0 gives zeros") {
  const Tensor<float> a = xt::zeros<float>({2, 0});
  const Tensor<float> b = xt::zeros<float>({0, 3});
  const Tensor<float> product = matmul(a, b);
  REQUIRE(product.shape() == std::vector<std::size_t>{2, 3});
  CHECK(xt::all(xt::equal(product, 0.0f)));
}

TEST_CASE("gemm accumulates with beta") {
  const Tensor<double> a = {{1, 2}, {3, 4}};
  const Tensor<double> identity = {{1, 0}, {0, 1}};
  Tensor<double> out = {{10, 20}, {30, 40}};

  gemm(a, Transpose::no, identity, Transpose::no, 2.0, 1.0, out);

  const Tensor<double> expected = {{12, 24}, {36, 48}};
  CHECK(out == expected);
}

TEST_CASE("gemm with inner size 0 and beta 0 ignores the output's contents") {
  const Tensor<double> a = xt::zeros<double>({2, 0});
  const Tensor<double> b = xt::zeros<double>({0, 2});
  Tensor<double> out = {{std::nan(""), 1.0}, {2.0, 3.0}};
  gemm(a, Transpose::no, b, Transpose::no, 1.0, 0.0, out);
  CHECK(xt::all(xt::equal(out, 0.0)));

  Tensor<double> kept = {{1.0, 2.0}, {3.0, 4.0}};
  gemm(a, Transpose::no, b, Transpose::no, 1.0, 2.0, kept);
  CHECK(kept == Tensor<double>{{2.0, 4.0}, {6.0, 8.0}});
}

TEST_CASE("matmul shape errors name both shapes") {
  const Tensor<float> a = xt::zeros<float>({32, 784});
  const Tensor<float> b = xt::zeros<float>({128, 10});
  CHECK_THROWS_AS(matmul(a, b), ShapeError);
  CHECK_THROWS_WITH(matmul(a, b), "matmul: inner sizes differ: a is [32, 784], b is [128, 10]");

  const Tensor<float> vector = xt::zeros<float>({5});
  CHECK_THROWS_WITH(matmul(vector, b), "matmul: a must be 2-D, but its shape is [5]");

  // Also the base classes catch it: one exception hierarchy.
  CHECK_THROWS_AS(matmul(a, b), std::invalid_argument);
}

TEST_CASE("gemm rejects an output of the wrong shape") {
  const Tensor<float> a = xt::zeros<float>({2, 3});
  const Tensor<float> b = xt::zeros<float>({3, 4});
  Tensor<float> out = xt::zeros<float>({4, 2});
  CHECK_THROWS_WITH(gemm(a, Transpose::no, b, Transpose::no, 1.0f, 0.0f, out),
                    "gemm: out is [4, 2] but the product is [2, 4]");
}

TEST_CASE("set_blas_threads rejects zero threads") {
  CHECK_THROWS_WITH(set_blas_threads(0), "set_blas_threads: threads must be at least 1, got 0");
  const int before = blas_threads();
  set_blas_threads(1);
  CHECK(blas_threads() == 1);
  set_blas_threads(before);
}
