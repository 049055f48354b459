// The network of the backpropagation walkthrough and the checks of its
// gradients, shared by examples/backprop_walkthrough.cpp, which prints them,
// and tests/test_walkthrough.cpp, which asserts them.
//
// Legend (one sample, so the batch size is 1):
//   x       the input              [1, 2]
//   W1, b1  the hidden layer       [3, 2], [3]
//   z1      = x · W1ᵀ + b1         [1, 3]
//   h       = sigmoid(z1)          [1, 3]
//   W2, b2  the output layer       [2, 3], [2]
//   logits  = h · W2ᵀ + b2         [1, 2]
//   loss    = sparse softmax cross-entropy of the logits and the label
//
// Everything is in double precision, so that central differences agree with
// backward() to about 1e-10.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad.hpp"

namespace backprop_walkthrough {

using tapegrad::Tensor;
using tapegrad::Variable;

// The weights and biases, small and fixed so that every number can be
// followed by hand.
struct Parameters {
  Tensor<double> w1 = {{0.1, -0.2}, {0.4, 0.3}, {-0.5, 0.2}};
  Tensor<double> b1 = {0.1, -0.1, 0.05};
  Tensor<double> w2 = {{0.3, -0.4, 0.2}, {-0.1, 0.5, 0.6}};
  Tensor<double> b2 = {0.0, 0.1};
};

// The one training sample: an input row and its class id.
struct Sample {
  Tensor<double> x = {{0.5, -1.0}};
  Tensor<std::int64_t> label = {0};
};

// Every value of one forward pass. Holding the intermediate variables keeps
// their nodes alive, so the tape still lists every op after backward().
struct ForwardPass {
  Variable<double> x, w1, b1, z1, h, w2, b2, logits, loss;
};

inline Variable<double> named_variable(Tensor<double> value, const char* name,
                                       bool requires_grad) {
  Variable<double> variable(std::move(value), requires_grad);
  variable.set_name(name);
  return variable;
}

// Runs the forward pass, recording its ops on the current tape. The
// parameters require grad; the input does not, because it is data.
inline ForwardPass run_forward(const Parameters& parameters, const Sample& sample) {
  const Variable<double> x = named_variable(sample.x, "x", /*requires_grad=*/false);
  const Variable<double> w1 = named_variable(parameters.w1, "W1", /*requires_grad=*/true);
  const Variable<double> b1 = named_variable(parameters.b1, "b1", /*requires_grad=*/true);
  const Variable<double> w2 = named_variable(parameters.w2, "W2", /*requires_grad=*/true);
  const Variable<double> b2 = named_variable(parameters.b2, "b2", /*requires_grad=*/true);

  Variable<double> z1 = tapegrad::linear(x, w1, b1);
  z1.set_name("z1");
  Variable<double> h = tapegrad::sigmoid(z1);
  h.set_name("h");
  Variable<double> logits = tapegrad::linear(h, w2, b2);
  logits.set_name("logits");
  Variable<double> loss = tapegrad::sparse_softmax_cross_entropy(logits, sample.label);
  loss.set_name("loss");
  return {x, w1, b1, z1, h, w2, b2, logits, loss};
}

// ---------------------------------------------------------------------------
// The loss recomputed from any point of the forward pass onwards, without
// recording, for the central differences below. Each function runs the
// layers after its point and hands over to the next.

inline double loss_from_logits(const Tensor<double>& logits, const Sample& sample) {
  return tapegrad::sparse_softmax_cross_entropy(logits, sample.label);
}

inline double loss_from_h(const Tensor<double>& h, const Parameters& parameters,
                          const Sample& sample) {
  const tapegrad::NoGradGuard no_grad;
  const Variable<double> logits = tapegrad::linear(Variable<double>(h), Variable<double>(parameters.w2),
                                                   Variable<double>(parameters.b2));
  return loss_from_logits(logits.value(), sample);
}

inline double loss_from_z1(const Tensor<double>& z1, const Parameters& parameters,
                           const Sample& sample) {
  const tapegrad::NoGradGuard no_grad;
  return loss_from_h(tapegrad::sigmoid(Variable<double>(z1)).value(), parameters, sample);
}

inline double loss_from_parameters(const Parameters& parameters, const Sample& sample) {
  const tapegrad::NoGradGuard no_grad;
  const Variable<double> z1 = tapegrad::linear(Variable<double>(sample.x),
                                               Variable<double>(parameters.w1),
                                               Variable<double>(parameters.b1));
  return loss_from_z1(z1.value(), parameters, sample);
}

// The step of the central differences. The truncation error is about
// step² · (third derivative) and the rounding error about 1e-16 / step, so
// 1e-6 keeps both near 1e-10 for these values.
inline constexpr double kStep = 1e-6;

// How far backward() and a central difference may differ, element by element.
inline constexpr double kTolerance = 1e-8;

// Estimates d loss / d point, one element at a time:
// (loss(point + step) - loss(point - step)) / (2 · step).
inline Tensor<double> central_difference(const std::function<double(const Tensor<double>&)>& loss_at,
                                         const Tensor<double>& point) {
  Tensor<double> gradient = Tensor<double>::from_shape(point.shape());
  Tensor<double> shifted = point;
  for (std::size_t i = 0; i < point.size(); ++i) {
    const double original = shifted.data()[i];
    shifted.data()[i] = original + kStep;
    const double plus = loss_at(shifted);
    shifted.data()[i] = original - kStep;
    const double minus = loss_at(shifted);
    shifted.data()[i] = original;
    gradient.data()[i] = (plus - minus) / (2 * kStep);
  }
  return gradient;
}

// One gradient that backward() wrote, beside its central difference.
struct GradientCheck {
  std::string name;  // the variable, as the tape names it
  Tensor<double> backward;
  Tensor<double> central_difference;
  double max_abs_difference = 0;
};

// One node run by backward() and the input gradients it wrote.
struct BackwardStep {
  std::string op;
  std::string rule;  // the chain rule this node applies, as a formula
  std::vector<GradientCheck> gradients;
};

inline GradientCheck check_gradient(const Variable<double>& variable,
                                    const std::function<double(const Tensor<double>&)>& loss_at) {
  GradientCheck check;
  check.name = variable.name();
  check.backward = variable.grad();
  check.central_difference = central_difference(loss_at, variable.value());
  for (std::size_t i = 0; i < check.backward.size(); ++i) {
    const double difference =
        std::abs(check.backward.data()[i] - check.central_difference.data()[i]);
    // Written as !(a <= b) so that a NaN difference is kept.
    if (!(difference <= check.max_abs_difference)) check.max_abs_difference = difference;
  }
  return check;
}

// Returns the gradients of `pass`, in the order backward() wrote them: it runs
// the nodes from the last recorded to the first, and each node adds into its
// inputs' gradients. x gets no gradient because it does not require grad.
// REQUIRES: pass.loss.backward() has run.
inline std::vector<BackwardStep> check_gradients(const ForwardPass& pass,
                                                 const Parameters& parameters,
                                                 const Sample& sample) {
  // loss_with(&Parameters::w2) recomputes the loss with W2 replaced.
  const auto loss_with = [&](Tensor<double> Parameters::*field) {
    return [&, field](const Tensor<double>& value) {
      Parameters changed = parameters;
      changed.*field = value;
      return loss_from_parameters(changed, sample);
    };
  };

  std::vector<BackwardStep> steps;
  steps.push_back({pass.loss.grad_fn()->op(),
                   "d logits = (softmax(logits) - onehot(label)) / batch_size, batch_size = 1",
                   {check_gradient(pass.logits, [&](const Tensor<double>& logits) {
                     return loss_from_logits(logits, sample);
                   })}});
  steps.push_back({pass.logits.grad_fn()->op(),
                   "d h = d logits · W2,  d W2 = d logitsᵀ · h,  d b2 = d logits summed over rows",
                   {check_gradient(pass.h,
                                   [&](const Tensor<double>& h) {
                                     return loss_from_h(h, parameters, sample);
                                   }),
                    check_gradient(pass.w2, loss_with(&Parameters::w2)),
                    check_gradient(pass.b2, loss_with(&Parameters::b2))}});
  steps.push_back({pass.h.grad_fn()->op(), "d z1 = d h * h * (1 - h)",
                   {check_gradient(pass.z1, [&](const Tensor<double>& z1) {
                     return loss_from_z1(z1, parameters, sample);
                   })}});
  steps.push_back({pass.z1.grad_fn()->op(),
                   "d W1 = d z1ᵀ · x,  d b1 = d z1 summed over rows  (x needs no gradient)",
                   {check_gradient(pass.w1, loss_with(&Parameters::w1)),
                    check_gradient(pass.b1, loss_with(&Parameters::b1))}});
  return steps;
}

// ---------------------------------------------------------------------------
// Drawing the graph.

enum class SvgStatus {
  rendered,         // the SVG file was written
  dot_not_found,    // Graphviz's dot program is not installed
  dot_failed,       // dot ran and failed, for example on invalid DOT text
};

// Runs Graphviz's `dot -Tsvg dot_path -o svg_path`, found through PATH,
// without a shell, so that no path needs quoting.
inline SvgStatus render_svg(const std::string& dot_path, const std::string& svg_path) {
  std::string program = "dot";
  std::string format = "-Tsvg";
  std::string output_flag = "-o";
  std::string input = dot_path;
  std::string output = svg_path;
  char* arguments[] = {program.data(), format.data(), input.data(), output_flag.data(),
                       output.data(), nullptr};

  pid_t child = 0;
  // glibc's posix_spawnp returns ENOENT when no `dot` is found on PATH.
  if (posix_spawnp(&child, "dot", nullptr, nullptr, arguments, environ) != 0) {
    return SvgStatus::dot_not_found;
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return SvgStatus::dot_failed;
  // A shell reports a missing program with exit status 127; so may some
  // posix_spawnp implementations.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return SvgStatus::dot_not_found;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? SvgStatus::rendered
                                                       : SvgStatus::dot_failed;
}

}  // namespace backprop_walkthrough
