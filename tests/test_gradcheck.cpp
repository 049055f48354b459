// gradcheck itself: it passes correct ops, catches a planted backward bug and
// reports where, uses the upstream gradient it is given, and rejects bad options.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

using Inputs = std::vector<Variable<double>>;

// y = x², written as a user would write an op. backward multiplies by
// `factor` · x: 2 is the true derivative, anything else a planted bug.
class SquareNode : public Node<double> {
 public:
  static constexpr const char* kOp = "square";

  explicit SquareNode(double factor) : factor_(factor) {}

  void backward(const Tensor<double>& grad_output) override {
    accumulate(0, grad_output * factor_ * input_value(0));
  }

 private:
  double factor_;
};

Variable<double> square(const Variable<double>& x, double factor) {
  return record_op<SquareNode>(Tensor<double>(x.value() * x.value()), {x}, factor);
}

}  // namespace

TEST_CASE("gradcheck passes a correct op") {
  Generator generator(61);
  const std::vector<Tensor<double>> inputs = {
      generator.uniform_tensor<double>({3, 5}, -1.0, 1.0),
      generator.uniform_tensor<double>({5}, -1.0, 1.0)};
  const GradcheckResult result = gradcheck(
      [](const Inputs& x) { return square(x[0], 2.0) * x[1]; }, inputs);

  CHECK_MESSAGE(result.passed, result.message());
  CHECK(result.inputs_checked == 2);
  CHECK(result.elements_checked == 20);
  CHECK(result.max_abs_error < 1e-8);
  CHECK(result.message().rfind("gradcheck passed: 20 elements in 2 inputs", 0) == 0);
}

TEST_CASE("gradcheck catches a wrong backward") {
  // The planted bug gives x instead of 2x. With an upstream gradient of
  // ones the error is |x|, largest at the element 2.0 (flat index 2).
  const std::vector<Tensor<double>> inputs = {Tensor<double>{0.1, -0.5, 2.0, 0.3}};
  GradcheckOptions options;
  options.grad_output = Tensor<double>{1, 1, 1, 1};
  const GradcheckResult result =
      gradcheck([](const Inputs& x) { return square(x[0], 1.0); }, inputs, options);

  CHECK_FALSE(result.passed);
  CHECK(result.worst_input == 0);
  CHECK(result.worst_element == 2);
  CHECK(result.worst_input_shape == "[4]");
  CHECK(result.max_abs_error == doctest::Approx(2.0).epsilon(1e-6));
  CHECK(result.max_rel_error == doctest::Approx(0.5).epsilon(1e-6));

  const std::string message = result.message();
  CAPTURE(message);
  CHECK(message.find("gradcheck failed") == 0);
  CHECK(message.find("input 0 [4], flat element 2") != std::string::npos);
}

TEST_CASE("gradcheck names the input with the bug") {
  // Only the second input goes through the buggy op.
  const std::vector<Tensor<double>> inputs = {Tensor<double>{1.0, 2.0},
                                              Tensor<double>{{0.5, -0.5}, {1.5, 0.25}}};
  const GradcheckResult result = gradcheck(
      [](const Inputs& x) { return sum(x[0] * 3) + sum(square(x[1], 3.0)); }, inputs);

  CHECK_FALSE(result.passed);
  CHECK(result.worst_input == 1);
  CHECK(result.worst_element == 2);
  CHECK(result.worst_numerical == doctest::Approx(3.0).epsilon(1e-6));
  CHECK(result.worst_analytical == doctest::Approx(4.5));
}

TEST_CASE("gradcheck uses the given upstream gradient") {
  // With w = [1, 0, 0], only y[0] counts, so the bug at x[1] and x[2] hides;
  // with the default random weights it shows.
  const std::vector<Tensor<double>> inputs = {Tensor<double>{0.0, 1.0, 2.0}};
  const auto buggy = [](const Inputs& x) { return square(x[0], 1.0); };

  GradcheckOptions options;
  options.grad_output = Tensor<double>{1, 0, 0};
  CHECK(gradcheck(buggy, inputs, options).passed);
  CHECK_FALSE(gradcheck(buggy, inputs).passed);

  options.grad_output = Tensor<double>{1, 0};
  CHECK_THROWS_WITH_AS(gradcheck(buggy, inputs, options),
                       "gradcheck: grad_output is shaped [2] but the function's output is shaped "
                       "[3]",
                       ShapeError);
}

TEST_CASE("gradcheck of an output without a graph") {
  // A constant output has no gradient, and neither does its central
  // difference, so the check passes with zero error.
  const GradcheckResult result = gradcheck(
      [](const Inputs&) { return Variable<double>(Tensor<double>{1, 2}); },
      {Tensor<double>{3, 4}});
  CHECK(result.passed);
  CHECK(result.max_abs_error == 0);

  // A function that detaches its input has a real derivative that backward
  // never computes: gradcheck fails.
  const GradcheckResult detached = gradcheck(
      [](const Inputs& x) { return x[0].detach() * 2; }, {Tensor<double>{3, 4}});
  CHECK_FALSE(detached.passed);
}

TEST_CASE("gradcheck message and stream output agree") {
  const GradcheckResult result = gradcheck([](const Inputs& x) { return tanh(x[0]); },
                                           {Tensor<double>{0.5}});
  std::ostringstream out;
  out << result;
  CHECK(out.str() == result.message());
  CHECK(out.str().find("1 input,") != std::string::npos);
}

TEST_CASE("gradcheck rejects bad arguments") {
  const auto identity = [](const Inputs& x) { return x[0] * 1; };
  const std::vector<Tensor<double>> inputs = {Tensor<double>{1.0}};

  CHECK_THROWS_WITH_AS(gradcheck(identity, {}), doctest::Contains("gradcheck: inputs is empty"),
                       ValueError);

  GradcheckOptions zero_step;
  zero_step.eps = 0;
  CHECK_THROWS_WITH_AS(gradcheck(identity, inputs, zero_step),
                       doctest::Contains("gradcheck: eps must be a positive finite step"),
                       ValueError);

  GradcheckOptions negative_tolerance;
  negative_tolerance.rtol = -1;
  CHECK_THROWS_WITH_AS(gradcheck(identity, inputs, negative_tolerance),
                       doctest::Contains("atol and rtol must be finite and non-negative"),
                       ValueError);

  // The output's shape depends on the value: at 0.5 a step down changes it.
  const auto unstable = [](const Inputs& x) {
    return x[0].value()(0) >= 0.5 ? x[0] * 1 : reshape(x[0], {1, 1});
  };
  CHECK_THROWS_WITH_AS(gradcheck(unstable, {Tensor<double>{0.5}}),
                       doctest::Contains("its output shape must not depend on the input values"),
                       ShapeError);

  // Exceptions from the function pass through.
  const auto mismatched = [](const Inputs& x) {
    return x[0] + Variable<double>(Tensor<double>{1.0, 2.0});
  };
  CHECK_THROWS_AS(gradcheck(mismatched, {Tensor<double>{1, 2, 3}}), ShapeError);
}
