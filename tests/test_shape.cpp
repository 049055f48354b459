// Shape formatting and rank checks.
#include <doctest/doctest.h>

#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

TEST_CASE("format_shape writes brackets and commas") {
  CHECK(format_shape(std::vector<std::size_t>{}) == "[]");
  CHECK(format_shape(std::vector<std::size_t>{7}) == "[7]");
  CHECK(format_shape(std::vector<std::size_t>{32, 784}) == "[32, 784]");

  const Tensor<float> tensor = xt::zeros<float>({2, 3, 4});
  CHECK(format_shape(tensor.shape()) == "[2, 3, 4]");
}

TEST_CASE("check_rank names the argument and its shape") {
  const Tensor<double> matrix = xt::zeros<double>({3, 5});
  CHECK_NOTHROW(check_rank(matrix, 2, "f: x"));
  CHECK_THROWS_AS(check_rank(matrix, 1, "f: x"), ShapeError);
  CHECK_THROWS_WITH(check_rank(matrix, 1, "f: x"), "f: x must be 1-D, but its shape is [3, 5]");
}

TEST_CASE("check_rank joins caller and argument") {
  const Tensor<double> matrix = xt::zeros<double>({3, 5});
  CHECK_NOTHROW(check_rank(matrix, 2, "f", "x"));
  CHECK_THROWS_AS(check_rank(matrix, 3, "f", "x"), ShapeError);
  CHECK_THROWS_WITH(check_rank(matrix, 3, "f", "x"), "f: x must be 3-D, but its shape is [3, 5]");
}

TEST_CASE("every error type is an invalid_argument") {
  CHECK_THROWS_AS(throw ShapeError("s"), std::invalid_argument);
  CHECK_THROWS_AS(throw ValueError("v"), std::invalid_argument);
  CHECK_THROWS_AS(throw FileError("f"), std::invalid_argument);
  CHECK_THROWS_AS(throw GraphError("g"), Error);
}
