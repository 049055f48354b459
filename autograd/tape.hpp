// Tape: the Wengert list of recorded nodes, in the order they were created.
//
// Every op that records a node appends it to the current tape of its thread.
// Each thread has a default tape, so everyday code never names one; a
// TapeScope makes another tape current, for those who want their own list.
//
// The tape does not own its nodes: results own the graph below them (see
// variable.hpp), and the tape keeps weak references, which it drops once
// their nodes are freed. So a loop that never calls backward(), such as an
// evaluation loop without NoGradGuard, does not grow the tape without limit.
//
// The tape serves inspection: print() lists the live nodes, one per line,
// and to_dot() exports them as a Graphviz graph. backward() does not need the
// tape: it follows the inputs of each node from the root and runs the nodes
// it reaches in decreasing order of recording.
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "autograd/node.hpp"

namespace tapegrad {

class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // The tape that ops on this thread record to.
  static Tape& current();

  // Appends a node. Called by the engine when an op records one.
  void record(const std::shared_ptr<NodeBase>& node);

  // The nodes still alive, in the order they were recorded.
  std::vector<std::shared_ptr<NodeBase>> nodes() const;

  // How many recorded nodes are still alive.
  std::size_t size() const;

  // Forgets every node. The nodes themselves live on while results hold them.
  void clear() { entries_.clear(); }

  // One line per live node: index, op, input ids and shapes, output id and
  // shape, and the output gradient's norm once backward has reached it.
  void print(std::ostream& out) const;
  std::string to_string() const;

  // The live graph in Graphviz DOT: variables as ellipses (id, name, shape,
  // gradient norm), ops as boxes, edges in the direction of the forward pass.
  std::string to_dot() const;

 private:
  // Drops entries whose nodes are gone, once the list has doubled since the
  // last cleanup, so that recording stays amortised O(1).
  void drop_expired_entries();

  std::vector<std::weak_ptr<NodeBase>> entries_;
  std::size_t cleanup_threshold_ = 64;
};

// Makes `tape` the current tape of this thread for the scope's lifetime.
class TapeScope {
 public:
  explicit TapeScope(Tape& tape);
  ~TapeScope();
  TapeScope(const TapeScope&) = delete;
  TapeScope& operator=(const TapeScope&) = delete;

 private:
  Tape* previous_;
};

}  // namespace tapegrad
