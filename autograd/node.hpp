// Nodes of the autograd graph: one per recorded op.
//
// A node stores its inputs and whatever its backward pass needs, and
// implements backward(grad_output), which adds (+=) each input's share of the
// gradient into that input. To write an op:
//
//   1. compute the result tensor;
//   2. call record_op<YourNode>(result, {inputs...}, extra...), which records
//      a node only when some input requires grad and grad mode is on;
//   3. in YourNode::backward, call accumulate(i, gradient) for each input i.
//
// YourNode derives from Node<T> and names its op in a member
// `static constexpr const char* kOp = "your_op";`. Its backward() may read
// input values (input_value(i)) and the op's own output (output_value()), so
// most nodes need no saved copies. An input that the forward pass broadcast
// gets its gradient summed back with sum_to_shape (autograd/broadcast.hpp),
// and gradcheck (autograd/gradcheck.hpp) tests the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xnoalias.hpp>

#include "autograd/grad_mode.hpp"
#include "autograd/variable.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/recycling_allocator.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {

// What a tape printout shows of one node.
struct NodeSummary {
  std::uint64_t sequence = 0;
  std::string op;
  std::vector<std::uint64_t> input_ids;
  std::vector<std::string> input_names;
  std::vector<std::string> input_shapes;
  std::vector<std::optional<double>> input_grad_norms;  // once backward has reached each input
  std::uint64_t output_id = 0;
  std::string output_name;
  std::string output_shape;
  std::optional<double> grad_norm;  // of the output, once backward has reached it
  bool released = false;
};

// The part of a node that does not depend on the element type, so that one
// tape can list nodes of float and double graphs.
class NodeBase {
 public:
  NodeBase();
  virtual ~NodeBase() = default;
  NodeBase(const NodeBase&) = delete;
  NodeBase& operator=(const NodeBase&) = delete;

  // The op's name, as the tape prints it: "matmul", "relu", ... record_op
  // sets it from NodeType::kOp.
  const char* op() const { return op_; }
  void set_op(const char* op) { op_ = op; }

  virtual NodeSummary summary() const = 0;

  // Position in the order of recording. Every node is recorded after the
  // nodes of its inputs, so decreasing sequence is a topological order.
  std::uint64_t sequence() const { return sequence_; }

  // Whether backward() has freed this node's inputs.
  bool released() const { return released_; }

 protected:
  bool released_ = false;

 private:
  const char* op_ = "op";
  std::uint64_t sequence_;
};

// The inputs of a node. Their storage comes from the recycling allocator,
// like the node itself, because every recorded op creates one such list.
template <class T>
using VariableList = std::vector<Variable<T>, RecyclingAllocator<Variable<T>>>;

template <class T>
class Node : public NodeBase {
 public:
  // Adds this op's contribution to each input's gradient, given
  // grad_output = d(root) / d(output).
  virtual void backward(const Tensor<T>& grad_output) = 0;

  const VariableList<T>& inputs() const { return inputs_; }

  NodeSummary summary() const override;

  // Called by the engine: runs backward() with the output's gradient, checks
  // the result in anomaly mode. Does nothing if no gradient reached the output.
  void run_backward();

  // Frees the inputs and anything saved for backward (see clear_saved()).
  void release();

  // The engine's bookkeeping, not for op authors.
  void set_inputs(VariableList<T> inputs) { inputs_ = std::move(inputs); }
  void set_output(const std::shared_ptr<VariableState<T>>& output) { output_ = output; }
  VariableList<T>& mutable_inputs() { return inputs_; }
  std::uint64_t visit_mark = 0;

 protected:
  const Tensor<T>& input_value(std::size_t index) const { return inputs_[index].value(); }

  // Whether input `index` takes a gradient; backward skips work for others.
  bool needs_grad(std::size_t index) const { return inputs_[index].requires_grad(); }

  // The op's result. Valid during backward(), when the engine holds it.
  const Tensor<T>& output_value() const;

  // Adds `gradient` to the gradient of input `index`, if it requires grad.
  // The gradient must have the input's shape: a mismatch is a bug in the op,
  // reported with both shapes. `gradient` may be a tensor or an xtensor
  // expression, which is evaluated straight into the gradient buffer.
  template <class E>
  void accumulate(std::size_t index, E&& gradient);

  // Adds gradient_at(i) to element i of the gradient of input `index`, for
  // every flat index i, if the input requires grad. For elementwise ops: the
  // loop writes the gradient buffer in place, with no temporary tensor.
  template <class F>
  void accumulate_elementwise(std::size_t index, F gradient_at);

  // The gradient buffer of input `index`, for ops that write into it directly
  // (matmul's GEMM with beta). `fresh` says the buffer holds no gradient yet,
  // so it must be overwritten (beta = 0) rather than added to (beta = 1).
  struct GradSlot {
    Tensor<T>& grad;
    bool fresh;
  };
  GradSlot grad_slot(std::size_t index);

  // Frees tensors saved for backward; nodes that save any override it.
  virtual void clear_saved() {}

 private:
  void check_gradient_shape(std::size_t index, const std::string& gradient_shape) const;

  // What summary() shows of the inputs after release() freed them.
  // The state is held weakly, to show the gradient of an input, such as a
  // parameter, that lives on.
  struct ReleasedInput {
    std::uint64_t id;
    std::string name;
    typename Tensor<T>::shape_type shape;
    std::weak_ptr<VariableState<T>> state;
  };

  VariableList<T> inputs_;
  std::vector<ReleasedInput, RecyclingAllocator<ReleasedInput>> released_inputs_;
  std::weak_ptr<VariableState<T>> output_;
};

// Elementwise loops over fewer elements than twice this run on one thread
// (see parallel_for): below it, waking a second thread costs more than it
// saves.
inline constexpr std::size_t kElementwiseGrain = 16384;

// Returns true when an op on `inputs` records a node: grad mode is on and at
// least one input requires grad.
template <class T>
bool should_record(std::initializer_list<Variable<T>> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Variable<T>& input : inputs) {
    if (input.requires_grad()) return true;
  }
  return false;
}

// Throws AnomalyError if anomaly mode is on and `result` holds NaN or inf.
// `stage` is "forward" or "backward".
template <class T>
void check_anomaly(const char* op, const char* stage, const Tensor<T>& result,
                   const VariableList<T>& inputs);

// Records the node of an op and returns the op's result: the last step of
// every op. NodeType derives from Node<T> and is built from node_args. When
// nothing is recorded (no input requires grad, or grad mode is off), the
// result is a plain leaf and no node is built.
template <class NodeType, class T, class... NodeArgs>
Variable<T> record_op(Tensor<T> result, std::initializer_list<Variable<T>> inputs,
                      NodeArgs&&... node_args);

// ---------------------------------------------------------------------------
// Template definitions.

template <class T>
template <class E>
void Node<T>::accumulate(std::size_t index, E&& gradient) {
  Variable<T>& input = inputs_[index];
  if (!input.requires_grad()) return;

  const auto& shape = input.value().shape();
  if (gradient.dimension() != shape.size() ||
      !std::equal(shape.begin(), shape.end(), gradient.shape().begin())) {
    check_gradient_shape(index, format_shape(gradient.shape()));
  }

  // A tensor given as an rvalue becomes the gradient. Anything else is
  // written into the gradient buffer; it never reads that buffer, so noalias
  // lets xtensor assign without first evaluating into a temporary.
  VariableState<T>& state = *input.state();
  if (state.has_grad) {
    xt::noalias(state.grad) += gradient;
  } else if constexpr (std::is_same_v<std::remove_cvref_t<E>, Tensor<T>> &&
                       !std::is_lvalue_reference_v<E>) {
    recycle(std::move(state.grad));
    state.grad = std::move(gradient);
  } else {
    xt::noalias(grad_slot(index).grad) = gradient;
  }
  state.has_grad = true;
}

template <class T>
template <class F>
void Node<T>::accumulate_elementwise(std::size_t index, F gradient_at) {
  if (!needs_grad(index)) return;
  const GradSlot slot = grad_slot(index);
  T* const grad = slot.grad.data();
  const bool fresh = slot.fresh;
  // The body takes its own copies, which the compiler keeps in registers;
  // values reached through references are reloaded on every iteration,
  // which stops the loops from being vectorised.
  parallel_for(slot.grad.size(), kElementwiseGrain, [=](std::size_t begin, std::size_t end) {
    T* const out = grad;
    const F element_gradient = gradient_at;
    if (fresh) {
      for (std::size_t i = begin; i < end; ++i) out[i] = element_gradient(i);
    } else {
      for (std::size_t i = begin; i < end; ++i) out[i] += element_gradient(i);
    }
  });
}

template <class NodeType, class T, class... NodeArgs>
Variable<T> record_op(Tensor<T> result, std::initializer_list<Variable<T>> inputs,
                      NodeArgs&&... node_args) {
  if (is_anomaly_enabled()) {
    check_anomaly(NodeType::kOp, "forward", result, VariableList<T>(inputs));
  }
  if (!should_record(inputs)) return Variable<T>(std::move(result));

  auto node = std::allocate_shared<NodeType>(RecyclingAllocator<NodeType>(),
                                             std::forward<NodeArgs>(node_args)...);
  node->set_op(NodeType::kOp);
  node->set_inputs(VariableList<T>(inputs));
  return Variable<T>::from_node(std::move(result), std::move(node));
}

}  // namespace tapegrad
