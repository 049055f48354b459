// mean_squared_error and its backward: values by hand, central differences,
// float inputs near the float maximum, and every caller error.
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

TEST_CASE_TEMPLATE("mean_squared_error by hand", T, float, double) {
  const Tensor<T> predictions = {{1, 2}, {3, 4}};
  const Tensor<T> targets = {{0, 2}, {5, 3}};

  // p - t = (1, 0, -2, 1); squares (1, 0, 4, 1); mean = 6 / 4 = 1.5
  CHECK(mean_squared_error(predictions, targets) == T(1.5));

  // grad_output * 2 (p - t) / 4 with grad_output 3: 1.5 * (1, 0, -2, 1)
  const Tensor<double> expected_gradient = {{1.5, 0}, {-3, 1.5}};
  CHECK(max_abs_difference(mean_squared_error_backward(3, predictions, targets),
                           expected_gradient) == 0.0);
}

TEST_CASE("mean_squared_error of 0-D tensors") {
  const Tensor<double> prediction = 3.0;
  const Tensor<double> target = 1.0;
  // (3 - 1)^2 = 4; gradient 2 * (3 - 1) = 4.
  CHECK(mean_squared_error(prediction, target) == 4.0);
  const Tensor<double> gradient = mean_squared_error_backward(1, prediction, target);
  CHECK(gradient.dimension() == 0);
  CHECK(gradient() == 4.0);
}

TEST_CASE("mean_squared_error backward matches central differences") {
  Generator generator(41);
  const Tensor<double> predictions = generator.uniform_tensor<double>({3, 2, 2}, -2.0, 2.0);
  const Tensor<double> targets = generator.uniform_tensor<double>({3, 2, 2}, -2.0, 2.0);
  const Tensor<double> numerical = central_differences(
      [&](const Tensor<double>& x) { return mean_squared_error(x, targets); }, predictions);

  SUBCASE("scalar grad_output 0.7") {
    const double difference = max_abs_difference(
        mean_squared_error_backward(0.7, predictions, targets), 0.7 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
  SUBCASE("one-element tensor grad_output -2.5") {
    const Tensor<double> grad_output = {-2.5};
    const double difference = max_abs_difference(
        mean_squared_error_backward(grad_output, predictions, targets), -2.5 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
}

TEST_CASE("mean_squared_error of float squares near the float maximum is finite") {
  // Each square is 1e38; a float sum of four would overflow.
  const Tensor<float> predictions = {1e19f, -1e19f, 1e19f, -1e19f};
  const Tensor<float> targets = {0, 0, 0, 0};
  const float loss = mean_squared_error(predictions, targets);
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(1e38).epsilon(1e-6));

  // A difference of 6e38 overflows float, but its gradient 2 * 6e38 / 8 does not.
  const Tensor<float> far = {3e38f, 0, 0, 0, 0, 0, 0, 0};
  const Tensor<float> near = {-3e38f, 0, 0, 0, 0, 0, 0, 0};
  const Tensor<float> gradient = mean_squared_error_backward(1, far, near);
  CHECK(gradient(0) == doctest::Approx(1.5e38).epsilon(1e-6));
}

TEST_CASE("mean_squared_error errors") {
  const Tensor<double> predictions = {{0, 1, 2}, {3, 4, 5}};
  const Tensor<double> targets = {{0, 1, 0}, {1, 0, 1}};

  const Tensor<double> transposed = xt::zeros<double>({3, 2});
  CHECK_THROWS_AS(mean_squared_error(predictions, transposed), ShapeError);
  CHECK_THROWS_WITH(mean_squared_error(predictions, transposed),
                    "mean_squared_error: predictions are [2, 3] but targets are [3, 2]; they "
                    "must have the same shape");
  CHECK_THROWS_WITH(mean_squared_error_backward(1, predictions, transposed),
                    "mean_squared_error_backward: predictions are [2, 3] but targets are [3, 2]; "
                    "they must have the same shape");

  const Tensor<double> empty = xt::zeros<double>({4, 0});
  CHECK_THROWS_AS(mean_squared_error(empty, empty), ShapeError);
  CHECK_THROWS_WITH(mean_squared_error(empty, empty),
                    "mean_squared_error: predictions are empty (shape [4, 0]); pass at least one "
                    "element");

  const Tensor<double> nan_predictions = {{0, 1, 2}, {kNaN, 4, 5}};
  CHECK_THROWS_AS(mean_squared_error(nan_predictions, targets), ValueError);
  CHECK_THROWS_WITH(mean_squared_error(nan_predictions, targets),
                    "mean_squared_error: predictions contain nan at [1, 0]; predictions must be "
                    "finite");

  const Tensor<double> infinite_targets = {{0, 1, 0}, {1, -kInf, 1}};
  CHECK_THROWS_AS(mean_squared_error_backward(1, predictions, infinite_targets), ValueError);
  CHECK_THROWS_WITH(mean_squared_error_backward(1, predictions, infinite_targets),
                    "mean_squared_error_backward: targets contain -inf at [1, 1]; targets must be "
                    "finite");

  const Tensor<double> no_values = xt::zeros<double>({0});
  CHECK_THROWS_AS(mean_squared_error_backward(no_values, predictions, targets), ShapeError);
  CHECK_THROWS_WITH(mean_squared_error_backward(no_values, predictions, targets),
                    "mean_squared_error_backward: grad_output must be a scalar or have one "
                    "element, but its shape is [0]");
  CHECK_THROWS_WITH(mean_squared_error_backward(kInf, predictions, targets),
                    "mean_squared_error_backward: grad_output is inf; it must be a finite number");
}
