// softmax and log_softmax: values and gradients by hand, gradcheck on rows
// of any rank, large and infinite logits, float against double.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tapegrad.hpp"
#include "tests/autograd_checks.hpp"

using namespace tapegrad;
using autograd_checks::check_float_matches_double;
using autograd_checks::check_gradients;

namespace {

using Inputs = std::vector<Variable<double>>;

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("softmax by hand") {
  // softmax([0, log 3]) = [1, 3] / 4 = [0.25, 0.75].
  const Variable<double> x(Tensor<double>{0, std::log(3.0)}, true);
  const Variable<double> y = softmax(x);
  CHECK(y.value()(0) == doctest::Approx(0.25));
  CHECK(y.value()(1) == doctest::Approx(0.75));

  // dy = [1, 0]: sum(dy * y) = 0.25, so dx = y * (dy - 0.25)
  // = [0.25 · 0.75, 0.75 · -0.25] = [0.1875, -0.1875].
  y.backward(Tensor<double>{1, 0});
  CHECK(x.grad()(0) == doctest::Approx(0.1875));
  CHECK(x.grad()(1) == doctest::Approx(-0.1875));
}

TEST_CASE("log_softmax by hand") {
  // log_softmax([0, log 3]) = [log 0.25, log 0.75].
  const Variable<double> x(Tensor<double>{0, std::log(3.0)}, true);
  const Variable<double> y = log_softmax(x);
  CHECK(y.value()(0) == doctest::Approx(std::log(0.25)));
  CHECK(y.value()(1) == doctest::Approx(std::log(0.75)));

  // dy = [1, 0]: dx = dy - softmax · sum(dy) = [1 - 0.25, 0 - 0.75].
  y.backward(Tensor<double>{1, 0});
  CHECK(x.grad()(0) == doctest::Approx(0.75));
  CHECK(x.grad()(1) == doctest::Approx(-0.75));
}

TEST_CASE("softmax normalises each row of the last axis") {
  Generator generator(51);
  const Variable<double> x(generator.uniform_tensor<double>({2, 3, 4}, -3.0, 3.0));
  const Variable<double> row_sums = sum(softmax(x), -1);
  CHECK(row_sums.shape() == Tensor<double>::shape_type{2, 3});
  for (const double row_sum : row_sums.value()) CHECK(row_sum == doctest::Approx(1.0));
}

TEST_CASE_TEMPLATE("softmax is stable for large logits", T, float, double) {
  const Variable<T> x(Tensor<T>{{1000, 1000}, {1000, 0}, {-1000, -1000}}, true);
  const Tensor<T> probs = softmax(x).value();
  const Tensor<T> expected = {{0.5, 0.5}, {1, 0}, {0.5, 0.5}};
  CHECK(probs == expected);

  // log_softmax([1000, 0]) = [0, -1000], with no overflow.
  const Tensor<T> log_probs = log_softmax(x).value();
  CHECK(log_probs(1, 0) == 0);
  CHECK(log_probs(1, 1) == -1000);

  sum(softmax(x) * log_softmax(x)).backward();
  for (const T value : x.grad()) CHECK(std::isfinite(value));
}

TEST_CASE("softmax of infinite and NaN logits") {
  // -inf is a logit with probability 0; its gradient is 0 too.
  const Variable<double> x(Tensor<double>{{-kInf, 0, 0}, {1, 2, 3}}, true);
  const Tensor<double> probs = softmax(x).value();
  CHECK(probs(0, 0) == 0);
  CHECK(probs(0, 1) == 0.5);
  const Tensor<double> log_probs = log_softmax(x).value();
  CHECK(log_probs(0, 0) == -kInf);
  CHECK(log_probs(0, 1) == doctest::Approx(std::log(0.5)));

  sum(softmax(x)).backward();
  CHECK(x.grad()(0, 0) == 0);

  // NaN or +inf in a row gives a row of NaN; other rows are untouched.
  const Variable<double> bad(Tensor<double>{{std::nan(""), 0}, {kInf, 0}, {-kInf, -kInf}, {0, 0}});
  for (const auto& result : {softmax(bad).value(), log_softmax(bad).value()}) {
    for (std::size_t row = 0; row < 3; ++row) {
      CAPTURE(row);
      CHECK(std::isnan(result(row, 0)));
      CHECK(std::isnan(result(row, 1)));
    }
    CHECK(std::isfinite(result(3, 0)));
  }
}

TEST_CASE("softmax gradcheck") {
  Generator generator(52);
  const std::vector<Tensor<double>> matrix = {
      generator.uniform_tensor<double>({3, 5}, -2.0, 2.0)};
  const std::vector<Tensor<double>> cube = {
      generator.uniform_tensor<double>({2, 3, 4}, -2.0, 2.0)};
  const std::vector<Tensor<double>> vector = {
      generator.uniform_tensor<double>({7}, -2.0, 2.0)};

  for (const auto* inputs : {&matrix, &cube, &vector}) {
    check_gradients([](const Inputs& x) { return softmax(x[0]); }, *inputs);
    check_gradients([](const Inputs& x) { return log_softmax(x[0]); }, *inputs);
  }
  // Composed with other ops, as a loss would use them.
  check_gradients([](const Inputs& x) { return mean(log_softmax(x[0]) * softmax(x[0] * 2)); },
                  matrix);
}

TEST_CASE("softmax float matches double") {
  Generator generator(53);
  const std::vector<Tensor<double>> inputs = {
      generator.uniform_tensor<double>({3, 5}, -5.0, 5.0)};
  check_float_matches_double([](const auto& x) { return softmax(x[0]); }, inputs);
  check_float_matches_double([](const auto& x) { return log_softmax(x[0]); }, inputs);
}

TEST_CASE("softmax errors and empty rows") {
  const Variable<double> scalar(Tensor<double>(1.0));
  CHECK_THROWS_WITH_AS(softmax(scalar), doctest::Contains("softmax: x is 0-D"), ShapeError);
  CHECK_THROWS_WITH_AS(log_softmax(scalar), doctest::Contains("log_softmax: x is 0-D"),
                       ShapeError);

  // Rows of length 0 and a batch of 0 rows give empty results.
  const Variable<double> no_classes(Tensor<double>::from_shape({3, 0}));
  CHECK(softmax(no_classes).shape() == Tensor<double>::shape_type{3, 0});
  const Variable<double> no_rows(Tensor<double>::from_shape({0, 4}));
  CHECK(log_softmax(no_rows).shape() == Tensor<double>::shape_type{0, 4});
}
