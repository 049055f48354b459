// The backward pass: the chain rule applied in reverse order of recording.
//
// 1. Collect the nodes that the root depends on, following inputs from the
//    root's node (a list that grows while it is scanned, so deep graphs
//    cannot overflow the stack).
// 2. Sort them by decreasing sequence. A node is recorded after the nodes of
//    its inputs, so every node runs after all the nodes that use its output:
//    its output gradient is complete when it runs.
// 3. Seed the root's gradient and run each node's backward, which adds into
//    its inputs' gradients.
// 4. Release the nodes unless the caller retains the graph.
#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "autograd/node.hpp"
#include "autograd/variable.hpp"
#include "core/error.hpp"
#include "core/recycling_allocator.hpp"
#include "core/shape.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

std::uint64_t next_visit_mark() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

template <class T>
std::string released_graph_message(const Node<T>& node) {
  return "backward: the graph through op '" + std::string(node.op()) +
         "' was already released by an earlier backward(); pass retain_graph = true to the "
         "first backward() to run it twice, or run the forward pass again";
}

template <class T>
using NodeList = std::vector<std::shared_ptr<Node<T>>, RecyclingAllocator<std::shared_ptr<Node<T>>>>;

// Step 1: every node reachable from `root`, each once. Nodes are appended
// to `reached` as they are found and scanned in that order (breadth first),
// so one list serves as both the work queue and the result.
template <class T>
NodeList<T> collect_nodes(const std::shared_ptr<Node<T>>& root) {
  const std::uint64_t mark = next_visit_mark();
  NodeList<T> reached = {root};
  root->visit_mark = mark;
  for (std::size_t next = 0; next < reached.size(); ++next) {
    const Node<T>& node = *reached[next];
    if (node.released()) throw GraphError(released_graph_message(node));

    for (const Variable<T>& input : node.inputs()) {
      const std::shared_ptr<Node<T>>& input_node = input.grad_fn();
      if (input_node && input_node->visit_mark != mark) {
        input_node->visit_mark = mark;
        reached.push_back(input_node);
      }
    }
  }
  return reached;
}

template <class T>
void run_backward(const Variable<T>& root, Tensor<T> grad_output, bool retain_graph) {
  if (!root.requires_grad()) {
    throw GraphError("backward: variable " + std::to_string(root.id()) +
                     " does not require grad, so no gradient can flow from it; create the "
                     "parameters it depends on with requires_grad = true");
  }
  if (grad_output.shape() != root.shape()) {
    throw ShapeError("backward: grad_output is shaped " + format_shape(grad_output.shape()) +
                     " but the variable is shaped " + format_shape(root.shape()));
  }

  VariableState<T>& root_state = *root.state();
  if (root.is_leaf()) {
    if (root_state.has_grad) {
      root_state.grad += grad_output;
    } else {
      root_state.grad = std::move(grad_output);
      root_state.has_grad = true;
    }
    return;
  }

  // Steps 1 and 2.
  NodeList<T> nodes = collect_nodes(root.grad_fn());
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) {
    return a->sequence() > b->sequence();
  });

  // Step 3. Results inside the graph hold this pass's gradient only, so they
  // start empty; leaves keep accumulating.
  for (const auto& node : nodes) {
    for (const Variable<T>& input : node->inputs()) {
      if (!input.is_leaf()) input.state()->has_grad = false;
    }
  }
  root_state.grad = std::move(grad_output);
  root_state.has_grad = true;
  for (const auto& node : nodes) node->run_backward();

  // Step 4. Released nodes drop their inputs, so the graph's memory goes as
  // soon as the last result holding it goes.
  if (!retain_graph) {
    for (const auto& node : nodes) node->release();
  }
}

}  // namespace

template <class T>
void Variable<T>::backward(bool retain_graph) const {
  if (state_->value.size() != 1) {
    throw GraphError("backward: variable " + std::to_string(id()) + " is shaped " +
                     format_shape(shape()) +
                     ", not a scalar; pass grad_output, a tensor of the same shape, to "
                     "backward(grad_output)");
  }
  Tensor<T> seed = pooled_tensor<T>(shape());
  seed.fill(T(1));
  run_backward(*this, std::move(seed), retain_graph);
}

template <class T>
void Variable<T>::backward(const Tensor<T>& grad_output, bool retain_graph) const {
  Tensor<T> seed = pooled_tensor<T>(grad_output.shape());
  std::copy(grad_output.begin(), grad_output.end(), seed.begin());
  run_backward(*this, std::move(seed), retain_graph);
}

template void Variable<float>::backward(bool) const;
template void Variable<double>::backward(bool) const;
template void Variable<float>::backward(const Tensor<float>&, bool) const;
template void Variable<double>::backward(const Tensor<double>&, bool) const;

}  // namespace tapegrad
