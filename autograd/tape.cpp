#include "autograd/tape.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace tapegrad {
namespace {

Tape*& current_tape_pointer() {
  thread_local Tape default_tape;
  thread_local Tape* current = &default_tape;
  return current;
}

std::string variable_label(std::uint64_t id, const std::string& name) {
  std::string label = "v" + std::to_string(id);
  if (!name.empty()) label += " " + name;
  return label;
}

// Escapes a string for a double-quoted DOT label.
std::string dot_escape(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

// The gradient line of a variable's DOT label; empty before backward.
std::string grad_label(const std::optional<double>& grad_norm) {
  if (!grad_norm) return "";
  std::ostringstream label;
  label << "\\n|grad| = " << std::setprecision(6) << *grad_norm;
  return label.str();
}

}  // namespace

Tape& Tape::current() { return *current_tape_pointer(); }

void Tape::record(const std::shared_ptr<NodeBase>& node) {
  entries_.push_back(node);
  if (entries_.size() >= cleanup_threshold_) drop_expired_entries();
}

void Tape::drop_expired_entries() {
  std::erase_if(entries_, [](const std::weak_ptr<NodeBase>& entry) { return entry.expired(); });
  cleanup_threshold_ = std::max<std::size_t>(64, 2 * entries_.size());
}

std::vector<std::shared_ptr<NodeBase>> Tape::nodes() const {
  std::vector<std::shared_ptr<NodeBase>> live;
  for (const std::weak_ptr<NodeBase>& entry : entries_) {
    if (auto node = entry.lock()) live.push_back(std::move(node));
  }
  return live;
}

std::size_t Tape::size() const {
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(),
      [](const std::weak_ptr<NodeBase>& entry) { return !entry.expired(); }));
}

void Tape::print(std::ostream& out) const {
  const std::vector<std::shared_ptr<NodeBase>> live = nodes();
  for (std::size_t index = 0; index < live.size(); ++index) {
    const NodeSummary node = live[index]->summary();
    out << '#' << index << ' ' << node.op << '(';
    for (std::size_t i = 0; i < node.input_ids.size(); ++i) {
      if (i > 0) out << ", ";
      out << variable_label(node.input_ids[i], node.input_names[i]) << ' ' << node.input_shapes[i];
    }
    out << ") -> " << variable_label(node.output_id, node.output_name) << ' ' << node.output_shape;
    if (node.grad_norm) out << "  |grad| = " << std::setprecision(6) << *node.grad_norm;
    if (node.released) out << "  (released)";
    out << '\n';
  }
}

std::string Tape::to_string() const {
  std::ostringstream out;
  print(out);
  return out.str();
}

std::string Tape::to_dot() const {
  std::ostringstream out;
  out << "digraph tape {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n";

  // A variable may be the output of one node and the input of several; emit
  // each once. Outputs carry a gradient norm, so they take precedence.
  std::vector<std::uint64_t> emitted;
  const auto emit_variable = [&](std::uint64_t id, const std::string& name,
                                 const std::string& shape, const std::string& grad) {
    if (std::find(emitted.begin(), emitted.end(), id) != emitted.end()) return;
    emitted.push_back(id);
    out << "  v" << id << " [shape=ellipse, label=\"" << dot_escape(variable_label(id, name))
        << "\\n" << shape << grad << "\"];\n";
  };

  const std::vector<std::shared_ptr<NodeBase>> live = nodes();
  for (const auto& live_node : live) {
    const NodeSummary node = live_node->summary();
    emit_variable(node.output_id, node.output_name, node.output_shape,
                  grad_label(node.grad_norm));
  }
  for (const auto& live_node : live) {
    const NodeSummary node = live_node->summary();
    // Inputs not emitted above are leaves, such as parameters, or results of
    // nodes already freed.
    for (std::size_t i = 0; i < node.input_ids.size(); ++i) {
      emit_variable(node.input_ids[i], node.input_names[i], node.input_shapes[i],
                    grad_label(node.input_grad_norms[i]));
    }
    out << "  op" << node.sequence << " [shape=box, style=filled, fillcolor=lightgrey, label=\""
        << dot_escape(node.op) << "\"];\n";
    for (const std::uint64_t input_id : node.input_ids) {
      out << "  v" << input_id << " -> op" << node.sequence << ";\n";
    }
    out << "  op" << node.sequence << " -> v" << node.output_id << ";\n";
  }
  out << "}\n";
  return out.str();
}

TapeScope::TapeScope(Tape& tape) : previous_(current_tape_pointer()) {
  current_tape_pointer() = &tape;
}

TapeScope::~TapeScope() { current_tape_pointer() = previous_; }

}  // namespace tapegrad
