// sum, mean, reshape and flatten: values by hand, gradients by gradcheck,
// float against double, axis and shape errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "tests/autograd_checks.hpp"

using namespace tapegrad;
using autograd_checks::check_float_matches_double;
using autograd_checks::check_gradients;

namespace {

using Inputs = std::vector<Variable<double>>;
using Shape = Tensor<double>::shape_type;

const Tensor<double> kMatrix = {{1, 2, 3}, {4, 5, 6}};

}  // namespace

TEST_CASE("sum and mean of all elements by hand") {
  // 1 + 2 + 3 + 4 + 5 + 6 = 21, a 0-D result; its gradient is 1 everywhere.
  const Variable<double> x(kMatrix, true);
  const Variable<double> total = sum(x);
  CHECK(total.shape() == Shape{});
  CHECK(total.value()() == 21);
  total.backward();
  CHECK(x.grad() == Tensor<double>(xt::ones<double>({2, 3})));

  // mean = 21 / 6 = 3.5; its gradient is 1/6 everywhere.
  const Variable<double> z(kMatrix, true);
  const Variable<double> average = mean(z);
  CHECK(average.value()() == 3.5);
  average.backward();
  CHECK(z.grad() == Tensor<double>(xt::full_like(kMatrix, 1.0 / 6)));
}

TEST_CASE("sum along an axis by hand") {
  const Variable<double> x(kMatrix, true);

  // Axis 0 adds the rows: [1 + 4, 2 + 5, 3 + 6].
  CHECK(sum(x, 0).value() == Tensor<double>{5, 7, 9});
  // Axis 1, and -1 with it, adds each row: [1 + 2 + 3, 4 + 5 + 6].
  CHECK(sum(x, 1).value() == Tensor<double>{6, 15});
  CHECK(sum(x, -1).value() == Tensor<double>{6, 15});
  CHECK(sum(x, -2).value() == Tensor<double>{5, 7, 9});
  CHECK(sum(x, 1, true).shape() == Shape{2, 1});
  CHECK(sum(x, 0, true).shape() == Shape{1, 3});

  // dy = [10, 20] for the row sums repeats along each row.
  sum(x, 1).backward(Tensor<double>{10, 20});
  CHECK(x.grad() == Tensor<double>{{10, 10, 10}, {20, 20, 20}});
}

TEST_CASE("mean along an axis by hand") {
  const Variable<double> x(kMatrix, true);

  // Column means [2.5, 3.5, 4.5]; row means [2, 5].
  CHECK(mean(x, 0).value() == Tensor<double>{2.5, 3.5, 4.5});
  const Variable<double> row_means = mean(x, -1, true);
  CHECK(row_means.shape() == Shape{2, 1});
  CHECK(row_means.value()(0, 0) == 2);
  CHECK(row_means.value()(1, 0) == 5);

  // dy = [3, 6, 9] for the column means: each column's gradient is dy / 2.
  mean(x, 0).backward(Tensor<double>{3, 6, 9});
  CHECK(x.grad() == Tensor<double>{{1.5, 3, 4.5}, {1.5, 3, 4.5}});
}

TEST_CASE("reshape and flatten by hand") {
  const Variable<double> x(kMatrix, true);
  const Variable<double> y = reshape(x, {3, 2});
  CHECK(y.value() == Tensor<double>{{1, 2}, {3, 4}, {5, 6}});

  // The gradient comes back in x's shape, in the same row-major order.
  y.backward(Tensor<double>{{1, 2}, {3, 4}, {5, 6}});
  CHECK(x.grad() == kMatrix);

  const Variable<double> images(Tensor<double>::from_shape({4, 2, 3, 5}), true);
  const Variable<double> flat = flatten(images);
  CHECK(flat.shape() == Shape{4, 30});
  CHECK(std::string(flat.grad_fn()->op()) == "flatten");
  CHECK(flatten(Variable<double>(Tensor<double>::from_shape({0, 2, 3}))).shape() == Shape{0, 6});
  CHECK(flatten(x).shape() == Shape{2, 3});
}

TEST_CASE("reductions and reshapes gradcheck") {
  Generator generator(31);
  const std::vector<Tensor<double>> matrix = {
      generator.uniform_tensor<double>({3, 5}, -1.0, 1.0)};
  const std::vector<Tensor<double>> cube = {
      generator.uniform_tensor<double>({2, 3, 4}, -1.0, 1.0)};

  check_gradients([](const Inputs& x) { return sum(x[0]); }, matrix);
  check_gradients([](const Inputs& x) { return mean(x[0]); }, matrix);
  for (const std::ptrdiff_t axis : {0, 1, -1, -2}) {
    for (const bool keepdims : {false, true}) {
      CAPTURE(axis);
      CAPTURE(keepdims);
      check_gradients([=](const Inputs& x) { return sum(x[0], axis, keepdims); }, matrix);
      check_gradients([=](const Inputs& x) { return mean(x[0], axis, keepdims); }, matrix);
    }
  }
  // The middle axis of a 3-D tensor has elements on both sides.
  check_gradients([](const Inputs& x) { return sum(x[0], 1); }, cube);
  check_gradients([](const Inputs& x) { return mean(x[0], 1, true); }, cube);
  check_gradients([](const Inputs& x) { return reshape(x[0], {5, 3}); }, matrix);
  check_gradients([](const Inputs& x) { return reshape(x[0], {15}); }, matrix);
  check_gradients([](const Inputs& x) { return flatten(x[0]); }, cube);
  // A 0-D input reduces to itself.
  check_gradients([](const Inputs& x) { return sum(x[0]); }, {Tensor<double>(0.25)});
}

TEST_CASE("reductions float match double") {
  Generator generator(32);
  const std::vector<Tensor<double>> inputs = {
      generator.uniform_tensor<double>({3, 5}, -1.0, 1.0)};
  check_float_matches_double([](const auto& x) { return sum(x[0]); }, inputs);
  check_float_matches_double([](const auto& x) { return mean(x[0]); }, inputs);
  check_float_matches_double([](const auto& x) { return sum(x[0], 0); }, inputs);
  check_float_matches_double([](const auto& x) { return mean(x[0], -1, true); }, inputs);
  check_float_matches_double([](const auto& x) { return reshape(x[0], {5, 3}); }, inputs, 1e-7);
}

TEST_CASE("sum keeps float precision") {
  // Floats near 1e8 are 8 apart, so a float running sum of 1e8 and then 100
  // ones never moves from 1e8. Accumulating in double adds all 100.
  Tensor<float> values = xt::ones<float>({101});
  values(0) = 1e8f;
  const Variable<float> x(values);
  CHECK(sum(x).value()() == static_cast<float>(100000100.0));
  CHECK(sum(x, 0).value()(0) == static_cast<float>(100000100.0));
}

TEST_CASE("reduce and reshape errors") {
  const Variable<double> x(kMatrix, true);

  CHECK_THROWS_WITH_AS(sum(x, 2),
                       "sum: axis 2 is out of range for x of rank 2, shaped [2, 3]; valid axes "
                       "are -2 to 1",
                       ShapeError);
  CHECK_THROWS_WITH_AS(mean(x, -3), doctest::Contains("mean: axis -3 is out of range"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(sum(Variable<double>(Tensor<double>(1.0)), 0),
                       doctest::Contains("a 0-D tensor has no axes"), ShapeError);

  const Variable<double> empty(Tensor<double>::from_shape({0, 3}));
  CHECK(sum(empty).value()() == 0);
  CHECK_THROWS_WITH_AS(mean(empty), "mean: x is empty, shaped [0, 3], so its mean is undefined",
                       ValueError);
  CHECK_THROWS_WITH_AS(mean(empty, 0), doctest::Contains("has size 0"), ValueError);
  CHECK(mean(empty, 1).shape() == Shape{0});

  CHECK_THROWS_WITH_AS(reshape(x, {4, 2}),
                       "reshape: cannot reshape x, shaped [2, 3] (6 elements), into [4, 2] "
                       "(8 elements)",
                       ShapeError);
  CHECK_THROWS_WITH_AS(flatten(Variable<double>(Tensor<double>{1, 2, 3})),
                       doctest::Contains("flatten: x must have a batch dimension and at least "
                                         "one more, but it is shaped [3]"),
                       ShapeError);
}
