// gradcheck: tests an op's backward pass against central differences.
//
// Every op in tapegrad is tested with it, and an op of your own can be too:
//
//   Generator generator(42);
//   const std::vector<Tensor<double>> inputs = {
//       generator.uniform_tensor<double>({3, 5}, -1.0, 1.0)};
//   const GradcheckResult result = gradcheck(
//       [](const std::vector<Variable<double>>& x) { return tanh(x[0]); }, inputs);
//   if (!result.passed) std::cerr << result << '\n';
//
// The function's output y is reduced to the scalar L = sum(w * y), where w is
// an upstream gradient shaped like y. One backward pass gives dL/dx for every
// element of every input. gradcheck compares each with the central difference
// (L(x + eps) - L(x - eps)) / (2 eps), in double precision. An element passes
// when |analytical - numerical| <= atol + rtol * |numerical|, the test of
// numpy.allclose.
//
// The function is called once with gradients, then twice per input element
// under NoGradGuard, so it must return the same values for the same inputs
// (no fresh random numbers). Keep inputs a few eps away from points without
// a derivative, such as relu at 0, and from the edges of a domain, such as
// log near 0: the central difference straddles them and disagrees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "autograd/variable.hpp"
#include "core/tensor.hpp"

namespace tapegrad {

struct GradcheckOptions {
  // The step of the central difference.
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;

  // The upstream gradient w, shaped like the function's output. When unset,
  // w is 1 for an output of one element, and uniform in [-1, 1) drawn from a
  // Generator seeded with `seed` otherwise, so that every output element
  // takes part with its own weight.
  std::optional<Tensor<double>> grad_output;
  std::uint64_t seed = 0;
};

struct GradcheckResult {
  bool passed = true;
  std::size_t inputs_checked = 0;
  std::size_t elements_checked = 0;

  // Over all elements: max |analytical - numerical|, and max of that
  // difference over max(|analytical|, |numerical|), which is 0 where both
  // are 0. NaN when some gradient was NaN.
  double max_abs_error = 0;
  double max_rel_error = 0;

  // The element furthest outside its tolerance, or closest to it when all
  // passed: its input, flat row-major index, and both gradients there.
  std::size_t worst_input = 0;
  std::size_t worst_element = 0;
  std::string worst_input_shape;
  double worst_analytical = 0;
  double worst_numerical = 0;

  // The tolerances that were applied.
  double atol = 0;
  double rtol = 0;

  // Returns one line: whether the check passed, the errors, and where the
  // worst element is.
  std::string message() const;
};

std::ostream& operator<<(std::ostream& out, const GradcheckResult& result);

using GradcheckFunction =
    std::function<Variable<double>(const std::vector<Variable<double>>&)>;

// Compares backward with central differences for every element of every
// input. Throws ValueError for no inputs or for eps <= 0, a negative
// tolerance or a non-finite one, and ShapeError when options.grad_output is
// not shaped like the output or the output's shape changes between calls.
// Exceptions from the function pass through.
GradcheckResult gradcheck(const GradcheckFunction& function,
                          const std::vector<Tensor<double>>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace tapegrad
