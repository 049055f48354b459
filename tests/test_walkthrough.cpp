// The backpropagation walkthrough (examples/backprop_walkthrough.hpp): its
// forward values against plain arithmetic, its gradients against central
// differences, its graph rendered by Graphviz, and the example program run
// as the README runs it.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "examples/backprop_walkthrough.hpp"
#include "tapegrad.hpp"
#include "tests/temporary_directory.hpp"

using namespace tapegrad;
using namespace backprop_walkthrough;

namespace {

bool graphviz_installed() { return std::filesystem::exists("/usr/bin/dot"); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

double sigmoid_of(double value) { return 1 / (1 + std::exp(-value)); }

// The forward pass written out with loops over plain numbers.
struct PlainForward {
  std::vector<double> z1, h, logits;
  double loss = 0;
};

PlainForward plain_forward(const Parameters& parameters, const Sample& sample) {
  PlainForward result;
  for (std::size_t unit = 0; unit < 3; ++unit) {
    double z = parameters.b1(unit);
    for (std::size_t input = 0; input < 2; ++input) {
      z += sample.x(0, input) * parameters.w1(unit, input);
    }
    result.z1.push_back(z);
    result.h.push_back(sigmoid_of(z));
  }
  for (std::size_t output = 0; output < 2; ++output) {
    double logit = parameters.b2(output);
    for (std::size_t unit = 0; unit < 3; ++unit) logit += result.h[unit] * parameters.w2(output, unit);
    result.logits.push_back(logit);
  }
  const double log_sum_exp = std::log(std::exp(result.logits[0]) + std::exp(result.logits[1]));
  result.loss = log_sum_exp - result.logits[static_cast<std::size_t>(sample.label(0))];
  return result;
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout, then stderr
};

// Runs `command` through the shell and returns its exit code and output.
RunResult run(const std::string& command) {
  RunResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, count);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace

TEST_CASE("walkthrough forward matches plain arithmetic") {
  Tape tape;
  const TapeScope scope(tape);
  const Parameters parameters;
  const Sample sample;
  const ForwardPass pass = run_forward(parameters, sample);
  const PlainForward expected = plain_forward(parameters, sample);

  // z1 = [0.5 · 0.1 + 1 · 0.2 + 0.1, 0.5 · 0.4 - 1 · 0.3 - 0.1, -0.5 · 0.5 - 1 · 0.2 + 0.05].
  CHECK(pass.z1.value()(0, 0) == doctest::Approx(0.35).epsilon(1e-12));
  CHECK(pass.z1.value()(0, 1) == doctest::Approx(-0.2).epsilon(1e-12));
  CHECK(pass.z1.value()(0, 2) == doctest::Approx(-0.4).epsilon(1e-12));
  for (std::size_t unit = 0; unit < 3; ++unit) {
    CHECK(pass.h.value()(0, unit) == doctest::Approx(expected.h[unit]).epsilon(1e-12));
  }
  for (std::size_t output = 0; output < 2; ++output) {
    CHECK(pass.logits.value()(0, output) == doctest::Approx(expected.logits[output]).epsilon(1e-12));
  }
  CHECK(pass.loss.value()() == doctest::Approx(expected.loss).epsilon(1e-12));
}

TEST_CASE("walkthrough gradients match central differences") {
  Tape tape;
  const TapeScope scope(tape);
  const Parameters parameters;
  const Sample sample;
  const ForwardPass pass = run_forward(parameters, sample);
  pass.loss.backward(/*retain_graph=*/true);
  const std::vector<BackwardStep> steps = check_gradients(pass, parameters, sample);

  // backward() runs the nodes from the last recorded to the first.
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].op == std::string("sparse_softmax_cross_entropy"));
  CHECK(steps[1].op == std::string("linear"));
  CHECK(steps[2].op == std::string("sigmoid"));
  CHECK(steps[3].op == std::string("linear"));

  std::vector<std::string> names;
  for (const BackwardStep& step : steps) {
    for (const GradientCheck& check : step.gradients) {
      names.push_back(check.name);
      CAPTURE(check.name);
      CAPTURE(check.max_abs_difference);
      CHECK(check.backward.shape() == check.central_difference.shape());
      CHECK(check.max_abs_difference <= kTolerance);
    }
  }
  CHECK(names == std::vector<std::string>{"logits", "h", "W2", "b2", "z1", "W1", "b1"});
}

TEST_CASE("walkthrough logits gradient by hand") {
  Tape tape;
  const TapeScope scope(tape);
  const Sample sample;
  const ForwardPass pass = run_forward(Parameters(), sample);
  pass.loss.backward();

  const double logit0 = pass.logits.value()(0, 0);
  const double logit1 = pass.logits.value()(0, 1);
  const double probability0 = std::exp(logit0) / (std::exp(logit0) + std::exp(logit1));
  REQUIRE(sample.label(0) == 0);
  CHECK(pass.logits.grad()(0, 0) == doctest::Approx(probability0 - 1).epsilon(1e-12));
  CHECK(pass.logits.grad()(0, 1) == doctest::Approx(1 - probability0).epsilon(1e-12));
}

TEST_CASE("check_gradient flags a wrong gradient") {
  const Parameters parameters;
  const Sample sample;
  Variable<double> b2(parameters.b2, /*requires_grad=*/true);
  b2.set_name("b2");
  b2.mutable_grad() = Tensor<double>{0.5, -0.5};

  const GradientCheck check = check_gradient(b2, [&](const Tensor<double>& value) {
    Parameters changed = parameters;
    changed.b2 = value;
    return loss_from_parameters(changed, sample);
  });
  CAPTURE(check.central_difference);
  CHECK(check.max_abs_difference > 0.1);
}

TEST_CASE("walkthrough tape after backward") {
  Tape tape;
  const TapeScope scope(tape);
  const ForwardPass pass = run_forward(Parameters(), Sample());
  pass.loss.backward(/*retain_graph=*/true);

  const std::string text = tape.to_string();
  CAPTURE(text);
  const std::vector<std::string> lines = lines_of(text);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("#0 linear(v" + std::to_string(pass.x.id()) + " x [1, 2], ") == 0);
  CHECK(lines[1].find("#1 sigmoid(") == 0);
  CHECK(lines[2].find("#2 linear(") == 0);
  CHECK(lines[3].find("#3 sparse_softmax_cross_entropy(") == 0);
  for (const std::string& line : lines) {
    CHECK(line.find("|grad| = ") != std::string::npos);
    CHECK(line.find("(released)") == std::string::npos);
  }
}

TEST_CASE("walkthrough DOT renders with Graphviz") {
  if (!graphviz_installed()) {
    MESSAGE("skipped: /usr/bin/dot is not installed (sudo apt-get install graphviz)");
    return;
  }
  Tape tape;
  const TapeScope scope(tape);
  const ForwardPass pass = run_forward(Parameters(), Sample());
  pass.loss.backward(/*retain_graph=*/true);
  const std::string dot = tape.to_dot();
  CAPTURE(dot);
  for (const char* name : {"x", "W1", "b1", "z1", "h", "W2", "b2", "logits", "loss"}) {
    CHECK(dot.find(std::string(" ") + name + "\\n[") != std::string::npos);
  }

  TemporaryDirectory folder;
  write_file_bytes(folder.file("walkthrough.dot"), dot);
  CHECK(render_svg(folder.file("walkthrough.dot"), folder.file("walkthrough.svg")) ==
        SvgStatus::rendered);
  const std::string svg = read_file_bytes(folder.file("walkthrough.svg"));
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("sparse_softmax_cross_entropy") != std::string::npos);
}

TEST_CASE("render_svg reports invalid DOT") {
  if (!graphviz_installed()) {
    MESSAGE("skipped: /usr/bin/dot is not installed (sudo apt-get install graphviz)");
    return;
  }
  TemporaryDirectory folder;
  write_file_bytes(folder.file("broken.dot"), "digraph tape { v1 -> ");
  CHECK(render_svg(folder.file("broken.dot"), folder.file("broken.svg")) == SvgStatus::dot_failed);
  CHECK(render_svg(folder.file("missing.dot"), folder.file("missing.svg")) ==
        SvgStatus::dot_failed);
}

TEST_CASE("render_svg reports a missing dot program") {
  TemporaryDirectory folder;
  write_file_bytes(folder.file("graph.dot"), "digraph tape {}\n");

  // An empty folder as the whole PATH hides dot wherever it is installed.
  const char* saved_path = std::getenv("PATH");
  const std::string previous_path = saved_path != nullptr ? saved_path : "";
  ::setenv("PATH", folder.path().c_str(), 1);
  const SvgStatus status = render_svg(folder.file("graph.dot"), folder.file("graph.svg"));
  ::setenv("PATH", previous_path.c_str(), 1);

  CHECK(status == SvgStatus::dot_not_found);
  CHECK_FALSE(std::filesystem::exists(folder.file("graph.svg")));
}

TEST_CASE("walkthrough program writes its graph") {
  const char* program = std::getenv("TAPEGRAD_BACKPROP_WALKTHROUGH");
  if (program == nullptr) {
    MESSAGE("skipped: TAPEGRAD_BACKPROP_WALKTHROUGH is not set; run this test through meson test");
    return;
  }
  TemporaryDirectory folder;
  const RunResult result =
      run("cd '" + folder.path().string() + "' && '" + std::string(program) + "'");
  CAPTURE(result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output.find("Every gradient matches its central difference") != std::string::npos);
  CHECK(result.output.find("#3 sparse_softmax_cross_entropy(") != std::string::npos);

  const std::string dot = read_file_bytes(folder.file("backprop_walkthrough.dot"));
  CHECK(dot.find("digraph tape {") == 0);
  if (graphviz_installed()) {
    CHECK(read_file_bytes(folder.file("backprop_walkthrough.svg")).find("<svg") !=
          std::string::npos);
  }
}

TEST_CASE("walkthrough program without Graphviz") {
  const char* program = std::getenv("TAPEGRAD_BACKPROP_WALKTHROUGH");
  if (program == nullptr) {
    MESSAGE("skipped: TAPEGRAD_BACKPROP_WALKTHROUGH is not set; run this test through meson test");
    return;
  }
  // An empty folder as the program's whole PATH hides dot.
  TemporaryDirectory folder;
  const std::filesystem::path empty = folder.path() / "empty";
  std::filesystem::create_directory(empty);
  const RunResult result = run("cd '" + folder.path().string() + "' && PATH='" + empty.string() +
                               "' '" + std::string(program) + "'");
  CAPTURE(result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output.find("sudo apt-get install graphviz") != std::string::npos);
  CHECK(std::filesystem::exists(folder.file("backprop_walkthrough.dot")));
  CHECK_FALSE(std::filesystem::exists(folder.file("backprop_walkthrough.svg")));
}
