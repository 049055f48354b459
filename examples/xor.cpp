// Learns XOR, the classic function that no single linear layer can learn:
// a hidden layer with a nonlinearity is needed.
//
//   x1 x2 | x1 XOR x2
//    0  0 |  0
//    0  1 |  1
//    1  0 |  1
//    1  1 |  0
//
// The network maps two inputs to two logits (class 0 and class 1) and trains
// on all four rows at once with sparse softmax cross-entropy and SGD.
#include <cstdio>

#include "tapegrad.hpp"

using namespace tapegrad;

constexpr std::size_t kHiddenWidth = 8;  // units in the hidden layer
constexpr int kSteps = 2000;             // full-batch SGD steps
constexpr int kPrintEvery = 250;         // steps between loss lines
constexpr double kLearningRate = 0.5;
constexpr std::uint64_t kSeed = 7;

int main() {
  // The four input rows and their labels.
  const Tensor<float> inputs = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  const Tensor<std::int64_t> labels = {0, 1, 1, 0};

  // 2 -> 8 -> tanh -> 2.
  Generator generator(kSeed);
  Sequential<float> model(Linear<float>(2, kHiddenWidth, /*bias=*/true, generator), Tanh<float>(),
                          Linear<float>(kHiddenWidth, 2, /*bias=*/true, generator));
  SGD<float> optimizer(model.parameters(), kLearningRate, {.momentum = 0.9});

  // The training loop: zero_grad, forward, loss, backward, step.
  for (int step = 1; step <= kSteps; ++step) {
    optimizer.zero_grad();
    const Variable<float> logits = model(Variable<float>(inputs));
    const Variable<float> loss = sparse_softmax_cross_entropy(logits, labels);
    loss.backward();
    optimizer.step();

    if (step % kPrintEvery == 0) std::printf("step %4d  loss %.6f\n", step, loss.value()());
  }

  // Predictions: the class with the larger logit.
  NoGradGuard no_grad;
  const Tensor<float> logits = model(Variable<float>(inputs)).value();
  int correct = 0;
  for (std::size_t row = 0; row < 4; ++row) {
    const int predicted = logits(row, 1) > logits(row, 0) ? 1 : 0;
    correct += predicted == labels(row);
    std::printf("%g XOR %g -> %d (expected %d)\n", inputs(row, 0), inputs(row, 1), predicted,
                static_cast<int>(labels(row)));
  }
  std::printf("accuracy %d/4\n", correct);
  return correct == 4 ? 0 : 1;
}
