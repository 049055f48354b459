// exp, log, pow, relu, sigmoid, tanh: values by hand, gradients by gradcheck
// away from kinks and domain edges, float against double, extreme inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tapegrad.hpp"
#include "tests/autograd_checks.hpp"

using namespace tapegrad;
using autograd_checks::check_float_matches_double;
using autograd_checks::check_gradients;

namespace {

using Inputs = std::vector<Variable<double>>;

// Uniform values with |x| in [0.1, 1] and random signs, so that an eps step
// never crosses 0.
Tensor<double> away_from_zero(Generator& generator, std::vector<std::size_t> shape) {
  Tensor<double> values = generator.uniform_tensor<double>(shape, -1.0, 1.0);
  for (double& value : values) value = std::copysign(0.1 + 0.9 * std::abs(value), value);
  return values;
}

template <class T>
bool all_finite(const Tensor<T>& tensor) {
  for (const T value : tensor) {
    if (!std::isfinite(value)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("exp and log by hand") {
  // exp([0, 1, log 2]) = [1, e, 2], and d exp(x)/dx = exp(x).
  const Variable<double> x(Tensor<double>{0, 1, std::log(2.0)}, true);
  const Variable<double> y = exp(x);
  CHECK(y.value()(0) == 1);
  CHECK(y.value()(1) == doctest::Approx(M_E));
  CHECK(y.value()(2) == doctest::Approx(2));
  sum(y).backward();
  CHECK(x.grad()(2) == doctest::Approx(2));

  // log([1, 4]) = [0, log 4], and d log(x)/dx = 1/x = [1, 0.25].
  const Variable<double> z(Tensor<double>{1, 4}, true);
  const Variable<double> logs = log(z);
  CHECK(logs.value()(0) == 0);
  CHECK(logs.value()(1) == doctest::Approx(std::log(4.0)));
  sum(logs).backward();
  CHECK(z.grad() == Tensor<double>{1, 0.25});
}

TEST_CASE("pow by hand") {
  // [2, 3]^3 = [8, 27]; d/dx = 3x² = [12, 27].
  const Variable<double> x(Tensor<double>{2, 3}, true);
  const Variable<double> cube = pow(x, 3);
  CHECK(cube.value() == Tensor<double>{8, 27});
  sum(cube).backward();
  CHECK(x.grad() == Tensor<double>{12, 27});

  // 4^0.5 = 2; d/dx = 0.5 · 4^-0.5 = 0.25.
  const Variable<double> four(Tensor<double>{4}, true);
  const Variable<double> root = pow(four, 0.5f);
  CHECK(root.value()(0) == 2);
  sum(root).backward();
  CHECK(four.grad()(0) == 0.25);

  // x^0 = 1 has gradient 0, also at x = 0 where the general formula would
  // give 0 · 0^-1 = NaN.
  const Variable<double> zero(Tensor<double>{0, 2}, true);
  const Variable<double> one = pow(zero, 0);
  CHECK(one.value() == Tensor<double>{1, 1});
  sum(one).backward();
  CHECK(zero.grad() == Tensor<double>{0, 0});
}

TEST_CASE("relu by hand") {
  // relu([-1, 0, 2]) = [0, 0, 2]. NOTE: the gradient at exactly 0 is 0.
  const Variable<double> x(Tensor<double>{-1, 0, 2}, true);
  const Variable<double> y = relu(x);
  CHECK(y.value() == Tensor<double>{0, 0, 2});
  y.backward(Tensor<double>{5, 5, 5});
  CHECK(x.grad() == Tensor<double>{0, 0, 5});

  // NaN passes through, as IEEE arithmetic would.
  CHECK(std::isnan(relu(Variable<double>(Tensor<double>{std::nan("")})).value()(0)));
}

TEST_CASE("sigmoid and tanh by hand") {
  // sigmoid(0) = 0.5, with derivative 0.5 · (1 - 0.5) = 0.25;
  // tanh(0) = 0, with derivative 1 - 0² = 1.
  const Variable<double> x(Tensor<double>{0}, true);
  sum(sigmoid(x) + tanh(x)).backward();
  CHECK(sigmoid(x).value()(0) == 0.5);
  CHECK(tanh(x).value()(0) == 0);
  CHECK(x.grad()(0) == 1.25);

  // sigmoid(log 3) = 1 / (1 + 1/3) = 0.75.
  CHECK(sigmoid(Variable<double>(Tensor<double>{std::log(3.0)})).value()(0) ==
        doctest::Approx(0.75));
}

TEST_CASE_TEMPLATE("sigmoid and tanh stay finite at +-200", T, float, double) {
  const Variable<T> x(Tensor<T>{-200, -95, 0, 95, 200}, true);
  const Variable<T> s = sigmoid(x);
  const Variable<T> t = tanh(x);
  CHECK(all_finite(s.value()));
  CHECK(all_finite(t.value()));
  CHECK(s.value()(0) >= 0);
  CHECK(s.value()(4) == 1);
  CHECK(t.value()(0) == -1);
  CHECK(t.value()(4) == 1);
  // e^95 overflows float, so 1 / (1 + e^95) would be 0; the stable form
  // gives e^-95 (about 5.5e-42, a subnormal float).
  CHECK(s.value()(1) > 0);
  const double relative_error = std::abs(s.value()(1) / std::exp(-95.0) - 1);
  CHECK(relative_error < 0.01);

  sum(s + t).backward();
  CHECK(all_finite(x.grad()));
}

TEST_CASE("activations gradcheck") {
  Generator generator(41);
  const std::vector<Tensor<double>> signed_inputs = {
      generator.uniform_tensor<double>({3, 5}, -2.0, 2.0)};
  // log, fractional and negative powers need positive inputs, and stay a
  // distance of 0.5 from their edge at 0, where the derivative blows up.
  const std::vector<Tensor<double>> positive_inputs = {
      generator.uniform_tensor<double>({3, 5}, 0.5, 2.0)};
  // relu has a kink at 0: |x| >= 0.1 keeps both eps steps on one side.
  const std::vector<Tensor<double>> off_kink_inputs = {away_from_zero(generator, {3, 5})};

  check_gradients([](const Inputs& x) { return exp(x[0]); }, signed_inputs);
  check_gradients([](const Inputs& x) { return log(x[0]); }, positive_inputs);
  check_gradients([](const Inputs& x) { return pow(x[0], 3); }, signed_inputs);
  check_gradients([](const Inputs& x) { return pow(x[0], 2.0); }, signed_inputs);
  check_gradients([](const Inputs& x) { return pow(x[0], 0.5); }, positive_inputs);
  check_gradients([](const Inputs& x) { return pow(x[0], -1.5); }, positive_inputs);
  check_gradients([](const Inputs& x) { return relu(x[0]); }, off_kink_inputs);
  check_gradients([](const Inputs& x) { return sigmoid(x[0]); }, signed_inputs);
  check_gradients([](const Inputs& x) { return tanh(x[0]); }, signed_inputs);
}

TEST_CASE("activations float match double") {
  Generator generator(42);
  const std::vector<Tensor<double>> signed_inputs = {
      generator.uniform_tensor<double>({3, 5}, -2.0, 2.0)};
  const std::vector<Tensor<double>> positive_inputs = {
      generator.uniform_tensor<double>({3, 5}, 0.5, 2.0)};

  check_float_matches_double([](const auto& x) { return exp(x[0]); }, signed_inputs);
  check_float_matches_double([](const auto& x) { return log(x[0]); }, positive_inputs);
  check_float_matches_double([](const auto& x) { return pow(x[0], 3); }, signed_inputs);
  check_float_matches_double([](const auto& x) { return pow(x[0], 0.5); }, positive_inputs);
  check_float_matches_double([](const auto& x) { return relu(x[0]); }, signed_inputs);
  check_float_matches_double([](const auto& x) { return sigmoid(x[0]); }, signed_inputs);
  check_float_matches_double([](const auto& x) { return tanh(x[0]); }, signed_inputs);
}

TEST_CASE("activations follow IEEE at domain edges") {
  // log(0) = -inf, log(-1) = NaN, exp(1000) = inf: no exception without
  // anomaly mode.
  const Tensor<double> logs = log(Variable<double>(Tensor<double>{0, -1})).value();
  CHECK(logs(0) == -INFINITY);
  CHECK(std::isnan(logs(1)));
  CHECK(exp(Variable<double>(Tensor<double>{1000})).value()(0) == INFINITY);
  CHECK(std::isnan(pow(Variable<double>(Tensor<double>{-8}), 1.0 / 3).value()(0)));
}
