// A new op, SiLU, added from outside the library: its node, its op function,
// a module that wraps it, a toy dataset and a training loop. Shared by
// examples/custom_layer.cpp, which prints what happens, and
// tests/test_custom_layer.cpp, which asserts it. docs/extending.md explains
// each step.
//
// SiLU (sigmoid linear unit, also called swish) is x · sigmoid(x): smooth
// everywhere, unlike relu, and slightly negative for negative x.
//
// Legend: x is the input, y the output, dy = grad_output, s = sigmoid(x).
//
//   y  = x · s
//   dx = dy · (s + x · s · (1 - s)) = dy · s · (1 + x · (1 - s))
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numbers>
#include <vector>

#include "tapegrad.hpp"

namespace custom_layer {

using tapegrad::Tensor;
using tapegrad::Variable;

// ---------------------------------------------------------------------------
// 1. The op: a node with backward, and a function that computes the forward
//    pass and records the node.

// 1 / (1 + e^-x), written so that e^-x never overflows: for negative x the
// equal form e^x / (1 + e^x) only underflows towards 0. NaN stays NaN.
template <class T>
T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T exp_x = std::exp(x);
  return exp_x / (T(1) + exp_x);
}

// y = x · s;  dx = dy · s · (1 + x · (1 - s))
template <class T>
class SiluNode : public tapegrad::Node<T> {
 public:
  static constexpr const char* kOp = "silu";

  // The forward pass computed s for every element; keeping it saves
  // computing e^-x again in backward.
  explicit SiluNode(Tensor<T> sigmoid_of_input) : sigmoid_of_input_(std::move(sigmoid_of_input)) {}

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& x = this->input_value(0);
    const Tensor<T>& s = sigmoid_of_input_;
    this->accumulate(0, grad_output * s * (T(1) + x * (T(1) - s)));
  }

 protected:
  // backward() frees the node's inputs and saved tensors afterwards, unless
  // the caller retains the graph.
  void clear_saved() override { sigmoid_of_input_ = Tensor<T>(); }

 private:
  Tensor<T> sigmoid_of_input_;
};

// Returns x · sigmoid(x), element by element, for x of any shape.
template <class T>
Variable<T> silu(const Variable<T>& x) {
  const Tensor<T>& value = x.value();
  Tensor<T> sigmoid_of_input = Tensor<T>::from_shape(value.shape());
  for (std::size_t i = 0; i < value.size(); ++i) {
    sigmoid_of_input.data()[i] = stable_sigmoid(value.data()[i]);
  }
  Tensor<T> result = value * sigmoid_of_input;

  // record_op builds the node only when x requires grad and grad mode is on,
  // so evaluation under NoGradGuard saves nothing.
  return tapegrad::record_op<SiluNode<T>>(std::move(result), {x}, std::move(sigmoid_of_input));
}

// ---------------------------------------------------------------------------
// 2. The layer: a module without parameters, so that Sequential can hold it.

template <class T = float>
class SiLU : public tapegrad::Module<T> {
 public:
  Variable<T> forward(const Variable<T>& input) override { return silu(input); }
};

// ---------------------------------------------------------------------------
// 3. A dataset that a linear model cannot separate: two interleaved spirals.

struct Spirals {
  Tensor<float> points;         // [2 · points_per_class, 2]
  Tensor<std::int64_t> labels;  // [2 · points_per_class], 0 or 1
};

// Draws `points_per_class` points on each of two spirals of 1.5 turns that
// wind around each other, with Gaussian noise of standard deviation `noise`.
// The radius grows from 0 to 1, so points lie in about [-1, 1]².
inline Spirals make_spirals(std::size_t points_per_class, double noise,
                            tapegrad::Generator& generator) {
  const std::size_t count = 2 * points_per_class;
  Spirals data{Tensor<float>::from_shape({count, 2}), Tensor<std::int64_t>::from_shape({count})};
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t label = static_cast<std::int64_t>(i % 2);
    const double radius = generator.uniform();
    // Class 1 is class 0 turned by half a circle.
    const double angle = 3 * std::numbers::pi * radius + std::numbers::pi * static_cast<double>(label);
    data.points(i, 0) = static_cast<float>(radius * std::cos(angle) + generator.normal(0, noise));
    data.points(i, 1) = static_cast<float>(radius * std::sin(angle) + generator.normal(0, noise));
    data.labels(i) = label;
  }
  return data;
}

// ---------------------------------------------------------------------------
// 4. A network that uses the new layer, and its training loop.

struct TrainingSettings {
  std::size_t points_per_class = 200;  // spiral points of each class
  double noise = 0.03;                 // standard deviation added to each coordinate
  std::size_t hidden_width = 32;       // units in each hidden layer
  int steps = 1500;                    // full-batch Adam steps
  double learning_rate = 0.01;
  std::uint64_t seed = 3;
};

struct TrainingResult {
  float initial_loss = 0;  // the loss of step 1, before any update
  float final_loss = 0;    // the loss of the last step, before its update
  double accuracy = 0;     // after training, on the training points, from 0 to 1
};

// 2 -> hidden -> SiLU -> hidden -> SiLU -> 2.
inline tapegrad::Sequential<float> make_spiral_classifier(std::size_t hidden_width,
                                                          tapegrad::Generator& generator) {
  using tapegrad::Linear;
  return tapegrad::Sequential<float>(Linear<float>(2, hidden_width, /*bias=*/true, generator),
                                     SiLU<float>(),
                                     Linear<float>(hidden_width, hidden_width, /*bias=*/true, generator),
                                     SiLU<float>(),
                                     Linear<float>(hidden_width, 2, /*bias=*/true, generator));
}

// The share of rows whose larger logit is at their label.
inline double accuracy(const Tensor<float>& logits, const Tensor<std::int64_t>& labels) {
  std::size_t correct = 0;
  for (std::size_t row = 0; row < labels.size(); ++row) {
    const std::int64_t predicted = logits(row, 1) > logits(row, 0) ? 1 : 0;
    if (predicted == labels(row)) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

// Trains the classifier on spirals drawn with `settings`. Calls `on_step`,
// when given, after every step with the step number (from 1) and its loss.
inline TrainingResult train_spiral_classifier(
    const TrainingSettings& settings,
    const std::function<void(int step, float loss)>& on_step = nullptr) {
  tapegrad::Generator generator(settings.seed);
  const Spirals data = make_spirals(settings.points_per_class, settings.noise, generator);
  tapegrad::Sequential<float> model = make_spiral_classifier(settings.hidden_width, generator);
  tapegrad::Adam<float> optimizer(model.parameters(), settings.learning_rate);
  const Variable<float> inputs(data.points);

  TrainingResult result;
  for (int step = 1; step <= settings.steps; ++step) {
    optimizer.zero_grad();
    const Variable<float> logits = model(inputs);
    const Variable<float> loss = tapegrad::sparse_softmax_cross_entropy(logits, data.labels);
    loss.backward();
    optimizer.step();

    if (step == 1) result.initial_loss = loss.value()();
    result.final_loss = loss.value()();
    if (on_step) on_step(step, loss.value()());
  }

  const tapegrad::NoGradGuard no_grad;
  result.accuracy = accuracy(model(inputs).value(), data.labels);
  return result;
}

}  // namespace custom_layer
