// Variable<T>: a value in the autograd graph, with its gradient.
//
// A Variable is a cheap handle: copies share one VariableState, as Python
// names share one torch.Tensor. The state holds
//   value          the tensor computed by the forward pass,
//   grad           d(root) / d(value), filled by backward(),
//   requires_grad  whether backward() computes a gradient for it,
//   grad_fn        the node that produced it; none for a leaf (a parameter
//                  or an input).
//
// Each node holds its inputs, so a result keeps the graph below it alive, and
// the graph is freed when the last result goes. Nodes never hold their
// output, so the graph has no cycles.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.hpp"

namespace tapegrad {

template <class T>
class Node;

template <class T>
struct VariableState {
  Tensor<T> value;
  Tensor<T> grad;
  bool has_grad = false;
  bool requires_grad = false;
  std::shared_ptr<Node<T>> grad_fn;
  std::uint64_t id = 0;
  std::string name;

  // The gradient starts empty, shaped [0], and is created at the value's
  // shape when backward first reaches this variable.
  VariableState(Tensor<T> value, bool requires_grad);
  VariableState(const VariableState&) = delete;
  VariableState& operator=(const VariableState&) = delete;

  // Frees the graph below this state iteratively: a chain of 100,000 nodes
  // released recursively would overflow the stack.
  ~VariableState();
};

template <class T>
class Variable {
 public:
  // An empty leaf: value of shape [0], no gradient.
  Variable();

  // A leaf holding `value`. Pass requires_grad = true for a parameter.
  explicit Variable(Tensor<T> value, bool requires_grad = false);

  const Tensor<T>& value() const { return state_->value; }

  // The value for in-place updates, as an optimizer step does.
  // NOTE: changing the value of a variable that a recorded node still needs
  // makes that node's backward use the new value; update parameters only
  // after backward(), as optimizers do.
  Tensor<T>& mutable_value() { return state_->value; }

  const typename Tensor<T>::shape_type& shape() const { return state_->value.shape(); }

  // The accumulated gradient, shaped like value(). Before any backward() has
  // reached this variable, or after zero_grad(), it is all zeros.
  const Tensor<T>& grad() const;

  // Whether backward() has written a gradient since the last zero_grad().
  bool has_grad() const { return state_->has_grad; }

  // The gradient for in-place changes, such as clipping. Creates a zero
  // gradient first when there is none.
  Tensor<T>& mutable_grad();

  // Sets the gradient to zeros in O(1): it marks the gradient as not
  // written, keeping its buffer so that a training loop does not allocate
  // one every step. The next backward() overwrites the buffer instead of
  // adding to it. has_grad() is false afterwards, so optimizers skip the
  // variable unless a backward() reaches it, as PyTorch's
  // zero_grad(set_to_none=True) does.
  void zero_grad();

  bool requires_grad() const { return state_->requires_grad; }

  // Freezes or unfreezes a leaf. Throws GraphError on a non-leaf, whose
  // requires_grad follows from its inputs.
  void set_requires_grad(bool requires_grad);

  bool is_leaf() const { return state_->grad_fn == nullptr; }

  // The node that produced this variable; null for a leaf.
  const std::shared_ptr<Node<T>>& grad_fn() const { return state_->grad_fn; }

  // A new leaf sharing nothing with this one: a copy of the value, no graph.
  Variable detach() const;

  // A number unique in the process, shown in tape printouts.
  std::uint64_t id() const { return state_->id; }

  // An optional label for printouts and DOT export, such as "0.weight".
  const std::string& name() const { return state_->name; }
  void set_name(std::string name) { state_->name = std::move(name); }

  // Computes the gradient of this scalar with respect to every variable it
  // depends on, seeding d(this)/d(this) = 1. Throws GraphError on a variable
  // of more than one element (pass grad_output then), on one that does not
  // require grad, and on a graph released by an earlier backward().
  //
  // Leaves accumulate (+=) until zero_grad(). Variables inside the graph hold
  // the gradient of the latest backward() that reached them.
  //
  // Afterwards the walked nodes are released, so the graph's memory is freed,
  // unless retain_graph is true; a second backward() over released nodes
  // throws instead of counting twice.
  void backward(bool retain_graph = false) const;

  // The same with an explicit upstream gradient, shaped like value(), for a
  // variable that is not a scalar.
  void backward(const Tensor<T>& grad_output, bool retain_graph = false) const;

  // The shared state, for nodes and the engine.
  const std::shared_ptr<VariableState<T>>& state() const { return state_; }

  // Creates the result of an op from its value and the node that records it
  // (null when nothing is recorded).
  static Variable from_node(Tensor<T> value, std::shared_ptr<Node<T>> grad_fn);

 private:
  std::shared_ptr<VariableState<T>> state_;
};

}  // namespace tapegrad
