// Tape printouts and DOT export of a small network, before and after
// backward; the DOT text is checked by Graphviz when it is installed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "tests/temporary_directory.hpp"

using namespace tapegrad;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string label(const Variable<double>& variable) {
  std::string text = "v" + std::to_string(variable.id());
  if (!variable.name().empty()) text += " " + variable.name();
  return text;
}

// loss = sum(relu(x · weightᵀ + bias)) with
//   x = [[1, 2, 3], [0, 1, 1]], weight = [[1, 0, -1], [2, 1, 0]], bias = [10, -30]
//   hidden = [[1 - 3 + 10, 2 + 2 - 30], [-1 + 10, 1 - 30]] = [[8, -26], [9, -29]]
//   loss = 8 + 9 = 17
// Backward: d loss/d activated is all ones (norm 2), d loss/d hidden =
// [[1, 0], [1, 0]] (norm √2), d loss/d weight = [[1, 3, 4], [0, 0, 0]]
// (norm √26) and d loss/d bias = [2, 0] (norm 2).
struct SmallNetwork {
  Variable<double> x{Tensor<double>{{1, 2, 3}, {0, 1, 1}}};
  Variable<double> weight{Tensor<double>{{1, 0, -1}, {2, 1, 0}}, true};
  Variable<double> bias{Tensor<double>{10, -30}, true};
  Variable<double> hidden;
  Variable<double> activated;
  Variable<double> loss;

  SmallNetwork() {
    x.set_name("x");
    weight.set_name("weight");
    bias.set_name("bias");
    hidden = linear(x, weight, bias);
    activated = relu(hidden);
    loss = sum(activated);
    loss.set_name("loss");
  }
};

}  // namespace

TEST_CASE("tape print before and after backward") {
  Tape tape;
  TapeScope scope(tape);
  SmallNetwork network;

  const std::vector<std::string> before = lines_of(tape.to_string());
  REQUIRE(before.size() == 3);
  CHECK(before[0] == "#0 linear(" + label(network.x) + " [2, 3], " + label(network.weight) +
                         " [2, 3], " + label(network.bias) + " [2]) -> " +
                         label(network.hidden) + " [2, 2]");
  CHECK(before[1] == "#1 relu(" + label(network.hidden) + " [2, 2]) -> " +
                         label(network.activated) + " [2, 2]");
  CHECK(before[2] == "#2 sum(" + label(network.activated) + " [2, 2]) -> v" +
                         std::to_string(network.loss.id()) + " loss []");
  CHECK(network.loss.value()() == 17);

  // The results are held by the network, so their released nodes still print.
  network.loss.backward();
  const std::vector<std::string> after = lines_of(tape.to_string());
  REQUIRE(after.size() == 3);
  CHECK(after[0] == before[0] + "  |grad| = 1.41421  (released)");
  CHECK(after[1] == before[1] + "  |grad| = 2  (released)");
  CHECK(after[2] == before[2] + "  |grad| = 1  (released)");
}

TEST_CASE("tape print with the graph retained") {
  Tape tape;
  TapeScope scope(tape);
  const Variable<double> x(Tensor<double>{1, 2}, true);
  // Temporaries: only the tape's weak references and the result's graph
  // keep these nodes.
  const Variable<double> loss = sum(exp(x) * 2);
  loss.backward(/*retain_graph=*/true);

  const std::string text = tape.to_string();
  CAPTURE(text);
  CHECK(lines_of(text).size() == 3);
  CHECK(text.find("(released)") == std::string::npos);
  CHECK(text.find("#0 exp(") == 0);
  CHECK(text.find("#1 mul(") != std::string::npos);
  CHECK(text.find("v" + std::to_string(x.id()) + " [2]") != std::string::npos);
}

TEST_CASE("empty tape prints nothing") {
  Tape tape;
  CHECK(tape.to_string().empty());
  CHECK(tape.to_dot() == "digraph tape {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n}\n");
}

TEST_CASE("tape DOT export shows leaf gradients") {
  Tape tape;
  TapeScope scope(tape);
  SmallNetwork network;
  network.loss.backward();
  const std::string dot = tape.to_dot();
  CAPTURE(dot);

  const std::string weight_id = "v" + std::to_string(network.weight.id());
  CHECK(dot.find("  " + weight_id + " [shape=ellipse, label=\"" + weight_id +
                 " weight\\n[2, 3]\\n|grad| = 5.09902\"];") != std::string::npos);
  CHECK(dot.find(" bias\\n[2]\\n|grad| = 2\"") != std::string::npos);
  // x does not require grad, so it has no gradient line.
  CHECK(dot.find(" x\\n[2, 3]\"") != std::string::npos);
  CHECK(dot.find(weight_id + " -> op") != std::string::npos);
}

TEST_CASE("tape DOT export is valid Graphviz") {
  if (!std::filesystem::exists("/usr/bin/dot")) {
    MESSAGE("skipped: /usr/bin/dot is not installed, so the DOT text is not parsed");
    return;
  }
  Tape tape;
  TapeScope scope(tape);
  SmallNetwork network;
  // A name with quotes and a backslash must be escaped in the label.
  network.weight.set_name("layer \"one\" \\ weight");
  const Variable<double> extra = softmax(network.hidden) / 3;
  network.loss.backward();

  TemporaryDirectory folder;
  write_file_bytes(folder.file("tape.dot"), tape.to_dot());
  const std::string command = "/usr/bin/dot -Tsvg '" + folder.file("tape.dot") + "' -o '" +
                              folder.file("tape.svg") + "'";
  const int status = std::system(command.c_str());
  CHECK(status == 0);
  CHECK(read_file_bytes(folder.file("tape.svg")).find("<svg") != std::string::npos);
}
