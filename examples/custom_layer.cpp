// Adds a layer that tapegrad does not have, SiLU (x · sigmoid(x)), and trains
// a network with it:
//
//   ./build/examples/custom_layer
//
//   1. the op: a Node subclass with backward(), and silu(), which computes
//      the forward pass and records the node (examples/custom_layer.hpp);
//   2. its checks: the forward pass against values worked out by hand, and
//      backward against central differences with gradcheck;
//   3. the layer: a Module that applies silu, used in a Sequential;
//   4. training: the network learns to tell two interleaved spirals apart.
//
// docs/extending.md walks through the same steps for ops, layers, losses and
// optimizers inside the library.
#include <cmath>
#include <cstdio>
#include <vector>

#include "examples/custom_layer.hpp"
#include "tapegrad.hpp"

using namespace tapegrad;
using namespace custom_layer;

constexpr int kPrintEvery = 150;               // training steps between loss lines
constexpr double kAccuracyGoal = 0.95;         // the exit status is 1 below this
constexpr std::uint64_t kGradcheckSeed = 11;   // the inputs of the gradient check

int main() {
  // 2a. The forward pass against the formula, worked out by hand:
  //     silu(-2) = -2 / (1 + e²), silu(0) = 0, silu(1) = 1 / (1 + e⁻¹).
  const Tensor<double> inputs = {-2.0, 0.0, 1.0};
  const std::vector<double> expected = {-2 / (1 + std::exp(2.0)), 0.0, 1 / (1 + std::exp(-1.0))};
  const Tensor<double> outputs = silu(Variable<double>(inputs)).value();
  std::printf("1. silu forward against hand-computed values\n");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::printf("   silu(%+.1f) = %+.9f   expected %+.9f\n", inputs(i), outputs(i), expected[i]);
  }

  // 2b. Backward against central differences, in double, on inputs from -4
  //     to 4 with every output element weighted differently.
  Generator generator(kGradcheckSeed);
  const GradcheckResult check = gradcheck(
      [](const std::vector<Variable<double>>& x) { return silu(x[0]); },
      {generator.uniform_tensor<double>({4, 5}, -4.0, 4.0)});
  std::printf("\n2. %s\n", check.message().c_str());

  // 3 and 4. A 2 -> 32 -> SiLU -> 32 -> SiLU -> 2 network learns the spirals.
  const TrainingSettings settings;
  std::printf("\n3. Training 2 -> %zu -> SiLU -> %zu -> SiLU -> 2 on %zu spiral points with Adam\n",
              settings.hidden_width, settings.hidden_width, 2 * settings.points_per_class);
  const TrainingResult result = train_spiral_classifier(settings, [](int step, float loss) {
    if (step == 1 || step % kPrintEvery == 0) std::printf("   step %4d  loss %.4f\n", step, loss);
  });
  std::printf("   training accuracy %.1f%%\n", 100 * result.accuracy);

  return check.passed && result.accuracy >= kAccuracyGoal ? 0 : 1;
}
