#include "autograd/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "autograd/broadcast.hpp"
#include "autograd/grad_mode.hpp"
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

void check_arguments(const std::vector<Tensor<double>>& inputs, const GradcheckOptions& options) {
  if (inputs.empty()) {
    throw ValueError("gradcheck: inputs is empty; pass at least one tensor to differentiate");
  }
  if (!(options.eps > 0) || !std::isfinite(options.eps)) {
    throw ValueError("gradcheck: eps must be a positive finite step, got " +
                     detail::format_number(options.eps));
  }
  if (!(options.atol >= 0) || !std::isfinite(options.atol) || !(options.rtol >= 0) ||
      !std::isfinite(options.rtol)) {
    throw ValueError("gradcheck: atol and rtol must be finite and non-negative, got atol " +
                     detail::format_number(options.atol) + " and rtol " +
                     detail::format_number(options.rtol));
  }
}

// The upstream gradient w of L = sum(w * y).
Tensor<double> upstream_weights(const GradcheckOptions& options, const TensorShape& output_shape) {
  if (options.grad_output) {
    if (options.grad_output->shape() != output_shape) {
      throw ShapeError("gradcheck: grad_output is shaped " +
                       format_shape(options.grad_output->shape()) +
                       " but the function's output is shaped " + format_shape(output_shape));
    }
    return *options.grad_output;
  }
  Tensor<double> weights = Tensor<double>::from_shape(output_shape);
  if (weights.size() == 1) {
    weights.fill(1.0);
    return weights;
  }
  Generator generator(options.seed);
  for (double& weight : weights) weight = generator.uniform(-1.0, 1.0);
  return weights;
}

// L = sum(w * y) for the function at `values`, without recording a graph.
double weighted_output(const GradcheckFunction& function, const std::vector<Tensor<double>>& values,
                       const Tensor<double>& weights) {
  std::vector<Variable<double>> variables;
  variables.reserve(values.size());
  for (const Tensor<double>& value : values) variables.emplace_back(value);

  const Variable<double> output = function(variables);
  if (output.shape() != weights.shape()) {
    throw ShapeError("gradcheck: the function's output is shaped " + format_shape(output.shape()) +
                     " after a step of eps, but " + format_shape(weights.shape()) +
                     " at the inputs; its output shape must not depend on the input values");
  }
  long double total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    total += static_cast<long double>(weights.data()[i]) * output.value().data()[i];
  }
  return static_cast<double>(total);
}

// How far outside its tolerance an element is: above 1 fails. NaN and
// infinite gradients count as infinitely far.
double tolerance_ratio(double abs_error, double numerical, const GradcheckOptions& options) {
  if (!std::isfinite(abs_error)) return std::numeric_limits<double>::infinity();
  const double tolerance = options.atol + options.rtol * std::abs(numerical);
  if (tolerance == 0) return abs_error == 0 ? 0 : std::numeric_limits<double>::infinity();
  return abs_error / tolerance;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFunction& function,
                          const std::vector<Tensor<double>>& inputs,
                          const GradcheckOptions& options) {
  check_arguments(inputs, options);
  GradcheckResult result;
  result.atol = options.atol;
  result.rtol = options.rtol;
  result.inputs_checked = inputs.size();

  // 1. The analytical gradients: one backward pass from L = sum(w * y).
  // An output that does not require grad depends on no input, so every
  // analytical gradient is 0.
  std::vector<Variable<double>> variables;
  for (const Tensor<double>& input : inputs) variables.emplace_back(input, true);
  const Variable<double> output = function(variables);
  const Tensor<double> weights = upstream_weights(options, output.shape());
  if (output.requires_grad()) output.backward(weights);

  // 2. The numerical gradients, one element at a time, compared as they come.
  NoGradGuard no_grad;
  std::vector<Tensor<double>> values = inputs;
  double worst_ratio = -1;
  for (std::size_t input = 0; input < values.size(); ++input) {
    const Tensor<double>& analytical = variables[input].grad();
    double* elements = values[input].data();
    for (std::size_t element = 0; element < values[input].size(); ++element) {
      const double original = elements[element];
      elements[element] = original + options.eps;
      const double plus = weighted_output(function, values, weights);
      elements[element] = original - options.eps;
      const double minus = weighted_output(function, values, weights);
      elements[element] = original;

      const double numerical = (plus - minus) / (2 * options.eps);
      const double backward_value = analytical.data()[element];
      const double abs_error = std::abs(backward_value - numerical);
      const double scale = std::max(std::abs(backward_value), std::abs(numerical));
      const double rel_error = abs_error == 0 ? 0 : abs_error / scale;

      // Written as !(a <= b) so that a NaN error is recorded, not skipped.
      if (!(abs_error <= result.max_abs_error)) result.max_abs_error = abs_error;
      if (!(rel_error <= result.max_rel_error)) result.max_rel_error = rel_error;

      const double ratio = tolerance_ratio(abs_error, numerical, options);
      if (ratio > 1) result.passed = false;
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        result.worst_input = input;
        result.worst_element = element;
        result.worst_input_shape = format_shape(values[input].shape());
        result.worst_analytical = backward_value;
        result.worst_numerical = numerical;
      }
      ++result.elements_checked;
    }
  }
  return result;
}

std::string GradcheckResult::message() const {
  std::ostringstream out;
  out << "gradcheck " << (passed ? "passed" : "failed") << ": " << elements_checked
      << " elements in " << inputs_checked << (inputs_checked == 1 ? " input" : " inputs")
      << ", max abs error " << max_abs_error << ", max rel error " << max_rel_error
      << " (atol " << atol << ", rtol " << rtol << ")";
  if (elements_checked > 0) {
    out << "; " << (passed ? "closest to failing" : "worst") << ": input " << worst_input << ' '
        << worst_input_shape << ", flat element " << worst_element << ", backward "
        << worst_analytical << " vs central difference " << worst_numerical;
  }
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const GradcheckResult& result) {
  return out << result.message();
}

}  // namespace tapegrad
