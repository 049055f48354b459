// sigmoid_cross_entropy and its backward: values by hand, logits of +-100
// and +-inf, central differences, float against double, and every caller
// error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Returns d f / d x by central differences. The step balances truncation
// error (step^2) against rounding error (1e-16 / step) for losses of order 1.
template <class Function>
Tensor<double> central_differences(const Function& f, Tensor<double> x) {
  constexpr double step = 1e-5;
  Tensor<double> gradient = xt::zeros<double>(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x.data()[i];
    x.data()[i] = saved + step;
    const double above = f(x);
    x.data()[i] = saved - step;
    const double below = f(x);
    x.data()[i] = saved;
    gradient.data()[i] = (above - below) / (2 * step);
  }
  return gradient;
}

template <class T>
double max_abs_difference(const Tensor<T>& a, const Tensor<double>& b) {
  const Tensor<double> a_double = xt::cast<double>(a);
  return xt::amax(xt::abs(a_double - b))();
}

}  // namespace

TEST_CASE_TEMPLATE("sigmoid_cross_entropy by hand", T, float, double) {
  const Tensor<T> logits = {T(0), static_cast<T>(std::log(3.0))};
  const Tensor<T> targets = {1, 0};

  // x = 0,    t = 1: max(0, 0) - 0 * 1 + log1p(e^0) = ln 2
  // x = ln 3, t = 0: ln 3 - 0 + log1p(e^-ln 3) = ln 3 + ln(4/3) = ln 4
  // mean = (ln 2 + ln 4) / 2 = 1.5 ln 2 = 1.039721
  CHECK(sigmoid_cross_entropy(logits, targets) == doctest::Approx(1.039721).epsilon(1e-6));

  // (sigmoid(x) - t) / 2 = ((0.5 - 1) / 2, (0.75 - 0) / 2)
  const Tensor<double> expected_gradient = {-0.25, 0.375};
  CHECK(max_abs_difference(sigmoid_cross_entropy_backward(1, logits, targets),
                           expected_gradient) < 1e-6);
}

TEST_CASE("sigmoid_cross_entropy multi-label by hand") {
  // Two samples, three labels each, soft targets. With sigmoid(ln 3) = 0.75:
  //   x = ln 3, t = 0.5: ln 3 - 0.5 ln 3 + ln(4/3) = 0.5 ln 3 + ln(4/3)
  //   x = -ln 3, t = 0.25: 0 + 0.25 ln 3 + ln(4/3)
  //   x = 0, t = 0.5: ln 2
  const double ln3 = std::log(3.0);
  const Tensor<double> logits = {{ln3, -ln3, 0}, {0, ln3, -ln3}};
  const Tensor<double> targets = {{0.5, 0.25, 0.5}, {0.5, 0.5, 0.25}};
  const double expected = (2 * (0.5 * ln3 + std::log(4.0 / 3)) +
                           2 * (0.25 * ln3 + std::log(4.0 / 3)) + 2 * std::log(2.0)) /
                          6;
  CHECK(sigmoid_cross_entropy(logits, targets) == doctest::Approx(expected).epsilon(1e-12));

  // (sigmoid - t) / 6: (0.75 - 0.5, 0.25 - 0.25, 0.5 - 0.5) / 6 in each row.
  const Tensor<double> expected_gradient = {{0.25 / 6, 0, 0}, {0, 0.25 / 6, 0}};
  CHECK(max_abs_difference(sigmoid_cross_entropy_backward(1, logits, targets),
                           expected_gradient) < 1e-12);
}

TEST_CASE("sigmoid_cross_entropy is finite and exact at logits of 100") {
  // log1p(e^-100) = 3.720075976020836e-44: e^-100 to double precision, as
  // log1p(y) = y - y^2 / 2 + ... and y^2 is far below double precision.
  const double tail = 3.720075976020836e-44;

  SUBCASE("targets that agree with the sign: only the tail remains") {
    const Tensor<double> logits = {100, -100};
    const Tensor<double> targets = {1, 0};
    CHECK(sigmoid_cross_entropy(logits, targets) == doctest::Approx(tail).epsilon(1e-15).scale(0));

    // In float the tail is a subnormal number; it is rounded once, from double.
    const Tensor<float> float_logits = {100, -100};
    const Tensor<float> float_targets = {1, 0};
    CHECK(sigmoid_cross_entropy(float_logits, float_targets) == static_cast<float>(tail));
  }
  SUBCASE("targets against the sign and soft targets") {
    // Element losses 100 * (1 - 0) = 100, 100 * 1 = 100, 100 * (1 - 0.3) = 70,
    // 100 * 0.3 = 30, each plus the tail: mean = 300 / 4 = 75.
    const Tensor<float> logits = {100, -100, 100, -100};
    const Tensor<float> targets = {0, 1, 0.3f, 0.3f};
    const float loss = sigmoid_cross_entropy(logits, targets);
    CHECK(std::isfinite(loss));
    CHECK(loss == doctest::Approx(75.0).epsilon(1e-6));

    // sigmoid(+-100) - t over 4: (1 - 0, 0 - 1, 1 - 0.3, 0 - 0.3) / 4.
    const Tensor<double> expected_gradient = {0.25, -0.25, 0.175, -0.075};
    CHECK(max_abs_difference(sigmoid_cross_entropy_backward(1, logits, targets),
                             expected_gradient) < 1e-7);
  }
}

TEST_CASE("sigmoid_cross_entropy infinite logits") {
  SUBCASE("that agree with the target give 0") {
    const Tensor<double> logits = {kInf, -kInf};
    const Tensor<double> targets = {1, 0};
    CHECK(sigmoid_cross_entropy(logits, targets) == 0.0);
    const Tensor<double> gradient = sigmoid_cross_entropy_backward(1, logits, targets);
    CHECK(gradient(0) == 0.0);
    CHECK(gradient(1) == 0.0);
  }
  SUBCASE("that disagree give +inf and a finite gradient") {
    const Tensor<double> logits = {kInf, 0};
    const Tensor<double> targets = {0.5, 0.5};
    CHECK(sigmoid_cross_entropy(logits, targets) == kInf);
    const Tensor<double> gradient = sigmoid_cross_entropy_backward(1, logits, targets);
    CHECK(gradient(0) == 0.25);
    CHECK(gradient(1) == 0.0);
  }
}

TEST_CASE("sigmoid_cross_entropy backward matches central differences") {
  Generator generator(31);
  const Tensor<double> logits = generator.uniform_tensor<double>({3, 4}, -4.0, 4.0);
  const Tensor<double> targets = generator.uniform_tensor<double>({3, 4}, 0.0, 1.0);
  const Tensor<double> numerical = central_differences(
      [&](const Tensor<double>& x) { return sigmoid_cross_entropy(x, targets); }, logits);

  SUBCASE("scalar grad_output 0.7") {
    const double difference = max_abs_difference(
        sigmoid_cross_entropy_backward(0.7, logits, targets), 0.7 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
  SUBCASE("one-element tensor grad_output -2.5") {
    const Tensor<double> grad_output = {-2.5};
    const double difference = max_abs_difference(
        sigmoid_cross_entropy_backward(grad_output, logits, targets), -2.5 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
}

TEST_CASE("sigmoid_cross_entropy float matches double") {
  Generator generator(32);
  const Tensor<float> logits = generator.uniform_tensor<float>({16, 8}, -50.0f, 50.0f);
  const Tensor<float> targets = generator.uniform_tensor<float>({16, 8}, 0.0f, 1.0f);
  const Tensor<double> logits_double = xt::cast<double>(logits);
  const Tensor<double> targets_double = xt::cast<double>(targets);

  const double expected = sigmoid_cross_entropy(logits_double, targets_double);
  CHECK(sigmoid_cross_entropy(logits, targets) == doctest::Approx(expected).epsilon(1e-6));

  const Tensor<double> expected_gradient =
      sigmoid_cross_entropy_backward(1, logits_double, targets_double);
  CHECK(max_abs_difference(sigmoid_cross_entropy_backward(1, logits, targets),
                           expected_gradient) < 1e-7);
}

TEST_CASE("sigmoid_cross_entropy errors") {
  const Tensor<double> logits = {{0, 1, 2}, {3, 4, 5}};
  const Tensor<double> targets = {{0, 1, 0}, {1, 0, 1}};

  const Tensor<double> transposed = xt::zeros<double>({3, 2});
  CHECK_THROWS_AS(sigmoid_cross_entropy(logits, transposed), ShapeError);
  CHECK_THROWS_WITH(sigmoid_cross_entropy(logits, transposed),
                    "sigmoid_cross_entropy: logits are [2, 3] but targets are [3, 2]; they must "
                    "have the same shape");

  const Tensor<double> empty = xt::zeros<double>({0, 3});
  CHECK_THROWS_AS(sigmoid_cross_entropy(empty, empty), ShapeError);
  CHECK_THROWS_WITH(sigmoid_cross_entropy_backward(1, empty, empty),
                    "sigmoid_cross_entropy_backward: logits are empty (shape [0, 3]); pass at "
                    "least one element");

  const Tensor<double> nan_logits = {{0, 1, 2}, {3, 4, kNaN}};
  CHECK_THROWS_AS(sigmoid_cross_entropy(nan_logits, targets), ValueError);
  CHECK_THROWS_WITH(sigmoid_cross_entropy(nan_logits, targets),
                    "sigmoid_cross_entropy: logits contain nan at [1, 2]; logits must not be NaN");

  const Tensor<double> above_one = {{0, 1.5, 0}, {1, 0, 1}};
  CHECK_THROWS_AS(sigmoid_cross_entropy(logits, above_one), ValueError);
  CHECK_THROWS_WITH(sigmoid_cross_entropy(logits, above_one),
                    "sigmoid_cross_entropy: targets contain 1.5 at [0, 1]; targets must be in "
                    "[0, 1]");
  const Tensor<double> negative = {{0, 1, 0}, {-0.25, 0, 1}};
  CHECK_THROWS_WITH(sigmoid_cross_entropy_backward(1, logits, negative),
                    "sigmoid_cross_entropy_backward: targets contain -0.25 at [1, 0]; targets "
                    "must be in [0, 1]");

  // The position has one index per axis.
  Tensor<double> cube_targets = xt::zeros<double>({2, 2, 3});
  cube_targets(1, 0, 2) = kNaN;
  const Tensor<double> cube_logits = xt::zeros<double>({2, 2, 3});
  CHECK_THROWS_WITH(sigmoid_cross_entropy(cube_logits, cube_targets),
                    "sigmoid_cross_entropy: targets contain nan at [1, 0, 2]; targets must be in "
                    "[0, 1]");

  const Tensor<double> two_values = {1, 2};
  CHECK_THROWS_AS(sigmoid_cross_entropy_backward(two_values, logits, targets), ShapeError);
  CHECK_THROWS_WITH(sigmoid_cross_entropy_backward(two_values, logits, targets),
                    "sigmoid_cross_entropy_backward: grad_output must be a scalar or have one "
                    "element, but its shape is [2]");
  CHECK_THROWS_AS(sigmoid_cross_entropy_backward(kNaN, logits, targets), ValueError);
  CHECK_THROWS_WITH(sigmoid_cross_entropy_backward(kNaN, logits, targets),
                    "sigmoid_cross_entropy_backward: grad_output is nan; it must be a finite "
                    "number");
}
