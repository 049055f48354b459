// Backpropagation, one number at a time, on a network small enough to follow
// by hand: 2 inputs -> 3 sigmoid units -> 2 logits, one sample, fixed weights.
//
//   ./build/examples/backprop_walkthrough
//
// It prints:
//   1. the forward value of every node;
//   2. the tape, which lists the ops in the order they were recorded;
//   3. the gradients in the order backward() wrote them, each beside its
//      central difference (loss(v + step) - loss(v - step)) / (2 step).
// Then it writes the graph as backprop_walkthrough.dot in the working
// directory, and draws it as backprop_walkthrough.svg when Graphviz is installed.
//
// The network and the checks live in examples/backprop_walkthrough.hpp, which
// the tests use too; docs/backprop.md derives every formula printed here.
#include <cstdio>
#include <iostream>
#include <string>

#include "examples/backprop_walkthrough.hpp"
#include "tapegrad.hpp"

using namespace tapegrad;
using namespace backprop_walkthrough;

namespace {

const char* const kDotPath = "backprop_walkthrough.dot";
const char* const kSvgPath = "backprop_walkthrough.svg";

// Formats a tensor of rank 0 to 2 with six decimals. Rows of a matrix after
// the first start on a new line, `indent` spaces in.
std::string format_tensor(const Tensor<double>& tensor, std::size_t indent) {
  const auto number = [](double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "% .6f", value);
    return std::string(buffer);
  };
  const auto row = [&](const double* values, std::size_t length) {
    std::string text = "[";
    for (std::size_t i = 0; i < length; ++i) text += (i > 0 ? ", " : "") + number(values[i]);
    return text + "]";
  };

  if (tensor.dimension() == 0) return number(tensor());
  if (tensor.dimension() == 1) return row(tensor.data(), tensor.size());
  const std::size_t rows = tensor.shape()[0];
  const std::size_t columns = tensor.shape()[1];
  std::string text = "[";
  for (std::size_t r = 0; r < rows; ++r) {
    if (r > 0) text += ",\n" + std::string(indent + 1, ' ');
    text += row(tensor.data() + r * columns, columns);
  }
  return text + "]";
}

void print_value(const Variable<double>& variable) {
  std::printf("  %-7s%-8s = %s\n", variable.name().c_str(), format_shape(variable.shape()).c_str(),
              format_tensor(variable.value(), 20).c_str());
}

}  // namespace

int main() {
  const Parameters parameters;
  const Sample sample;

  // A tape of our own, so that it lists only this network's ops.
  Tape tape;
  const TapeScope tape_scope(tape);

  std::printf("A 2-3-2 network on one sample, in double precision:\n\n"
              "  z1     = x · W1ᵀ + b1\n"
              "  h      = sigmoid(z1)\n"
              "  logits = h · W2ᵀ + b2\n"
              "  loss   = sparse softmax cross-entropy(logits, label %lld)\n\n",
              static_cast<long long>(sample.label(0)));

  // 1. Forward: every op computes its value and records a node on the tape.
  const ForwardPass pass = run_forward(parameters, sample);
  std::printf("1. Forward pass: the value of every node\n\n");
  for (const Variable<double>* variable :
       {&pass.x, &pass.w1, &pass.b1, &pass.z1, &pass.h, &pass.w2, &pass.b2, &pass.logits,
        &pass.loss}) {
    print_value(*variable);
  }

  std::printf("\n2. The tape: one line per recorded op, in the order of recording\n"
              "   (vN is a variable's id, then its name and shape)\n\n");
  tape.print(std::cout);
  std::cout.flush();

  // 3. Backward: seed d loss / d loss = 1 and run the nodes from the last to
  // the first. retain_graph keeps the nodes' inputs, so the graph written
  // below still has every edge.
  pass.loss.backward(/*retain_graph=*/true);
  std::printf("\n3. Backward pass: loss.backward() runs the tape from the last op to the first.\n"
              "   Each op adds its share into its inputs' gradients (d v means d loss / d v):\n");
  bool all_match = true;
  for (const BackwardStep& step : check_gradients(pass, parameters, sample)) {
    std::printf("\n  op %s:  %s\n", step.op.c_str(), step.rule.c_str());
    for (const GradientCheck& check : step.gradients) {
      const bool matches = check.max_abs_difference <= kTolerance;
      all_match = all_match && matches;
      std::printf("    d %s\n", check.name.c_str());
      std::printf("      backward()          %s\n", format_tensor(check.backward, 26).c_str());
      std::printf("      central difference  %s\n",
                  format_tensor(check.central_difference, 26).c_str());
      std::printf("      max |difference|    %.1e%s\n", check.max_abs_difference,
                  matches ? "" : "  MISMATCH");
    }
  }

  // 4. The graph, with each variable's gradient norm, for Graphviz.
  try {
    write_file_atomically(kDotPath, tape.to_dot());
  } catch (const FileError& error) {
    std::fprintf(stderr, "backprop_walkthrough: %s\n", error.what());
    return 1;
  }
  std::printf("\n4. The graph: wrote %s", kDotPath);
  switch (render_svg(kDotPath, kSvgPath)) {
    case SvgStatus::rendered:
      std::printf(" and %s; open the SVG in a web browser.\n", kSvgPath);
      break;
    case SvgStatus::dot_not_found:
      std::printf(".\n   Graphviz's dot program was not found, so no SVG was drawn. Install it\n"
                  "   with `sudo apt-get install graphviz` (or scripts/install-deps), then run\n"
                  "   dot -Tsvg %s -o %s\n",
                  kDotPath, kSvgPath);
      break;
    case SvgStatus::dot_failed:
      std::printf(".\n   Graphviz's dot failed to render it; its message is above.\n");
      all_match = false;
      break;
  }

  if (all_match) {
    std::printf("\nEvery gradient matches its central difference within %.0e.\n", kTolerance);
  } else {
    std::printf("\nSome check failed; see above.\n");
  }
  return all_match ? 0 : 1;
}
