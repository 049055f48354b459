// Checks shared by the autograd op tests: gradcheck with its message on
// failure, and float forward passes against double ones.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "tapegrad.hpp"

namespace autograd_checks {

using tapegrad::GradcheckOptions;
using tapegrad::GradcheckResult;
using tapegrad::Tensor;
using tapegrad::Variable;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Runs gradcheck and checks that it passed, printing its message otherwise.
template <class F>
void check_gradients(F function, const std::vector<Tensor<double>>& inputs,
                     const GradcheckOptions& options = {}) {
  const GradcheckResult result = tapegrad::gradcheck(
      [&](const std::vector<Variable<double>>& x) { return function(x); }, inputs, options);
  CHECK_MESSAGE(result.passed, result.message());
}

// The largest |a - b| over all elements, or infinity when the shapes differ.
// NaN in either tensor counts as infinitely different.
template <class T>
double max_abs_difference(const Tensor<T>& a, const Tensor<double>& b) {
  if (a.shape() != b.shape()) return kInfinity;
  double max = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double difference = std::abs(static_cast<double>(a.data()[i]) - b.data()[i]);
    if (!(difference <= max)) max = difference;
  }
  return std::isnan(max) ? kInfinity : max;
}

// Runs `function`, a generic lambda over a vector of variables, in float and
// in double on the same inputs, and checks that the values agree within
// `tolerance`.
template <class F>
void check_float_matches_double(F function, const std::vector<Tensor<double>>& inputs,
                                double tolerance = 1e-5) {
  std::vector<Variable<float>> float_inputs;
  std::vector<Variable<double>> double_inputs;
  for (const Tensor<double>& input : inputs) {
    float_inputs.emplace_back(Tensor<float>(xt::cast<float>(input)));
    double_inputs.emplace_back(input);
  }
  const Variable<float> float_output = function(float_inputs);
  const Variable<double> double_output = function(double_inputs);
  const double difference = max_abs_difference(float_output.value(), double_output.value());
  CAPTURE(difference);
  CHECK(difference <= tolerance);
}

}  // namespace autograd_checks
