#include "autograd/node.hpp"

#include <atomic>
#include <cmath>

#include "autograd/tape.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

std::uint64_t next_sequence() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

// The L2 norm of a variable's gradient, or nothing before backward reaches it.
template <class T>
std::optional<double> grad_norm(const VariableState<T>& state) {
  if (!state.has_grad) return std::nullopt;
  double squares = 0;
  for (const T value : state.grad) squares += static_cast<double>(value) * value;
  return std::sqrt(squares);
}

}  // namespace

NodeBase::NodeBase() : sequence_(next_sequence()) {}

template <class T>
void check_anomaly(const char* op, const char* stage, const Tensor<T>& result,
                   const VariableList<T>& inputs) {
  for (std::size_t i = 0; i < result.size(); ++i) {
    const T value = result.data()[i];
    if (std::isfinite(value)) continue;

    std::string input_shapes;
    for (const Variable<T>& input : inputs) {
      if (!input_shapes.empty()) input_shapes += ", ";
      input_shapes += format_shape(input.shape());
    }
    throw AnomalyError(std::string("anomaly detected: the ") + stage + " of op '" + op +
                       "' produced " + (std::isnan(value) ? "NaN" : "inf") + " at flat index " +
                       std::to_string(i) + " of a result shaped " + format_shape(result.shape()) +
                       "; its inputs are " + input_shapes);
  }
}

template <class T>
const Tensor<T>& Node<T>::output_value() const {
  const std::shared_ptr<VariableState<T>> output = output_.lock();
  // The engine holds the output while it runs backward().
  assert(output != nullptr);
  return output->value;
}

template <class T>
typename Node<T>::GradSlot Node<T>::grad_slot(std::size_t index) {
  VariableState<T>& state = *inputs_[index].state();
  const bool fresh = !state.has_grad;
  if (fresh && state.grad.shape() != state.value.shape()) {
    recycle(std::move(state.grad));
    state.grad = pooled_tensor<T>(state.value.shape());
  }
  state.has_grad = true;
  return {state.grad, fresh};
}

template <class T>
void Node<T>::check_gradient_shape(std::size_t index, const std::string& gradient_shape) const {
  throw ShapeError(std::string("backward of op '") + op() + "' produced a gradient shaped " +
                   gradient_shape + " for input " + std::to_string(index) + ", which is shaped " +
                   format_shape(inputs_[index].shape()) +
                   "; the gradient must have its input's shape");
}

template <class T>
void Node<T>::run_backward() {
  const std::shared_ptr<VariableState<T>> output = output_.lock();
  if (output == nullptr || !output->has_grad) return;

  backward(output->grad);

  if (is_anomaly_enabled()) {
    for (const Variable<T>& input : inputs_) {
      if (input.requires_grad() && input.has_grad()) {
        check_anomaly(op(), "backward", input.state()->grad, inputs_);
      }
    }
  }
}

template <class T>
void Node<T>::release() {
  // Keep what a printout shows of the inputs, which are about to be freed.
  // Shapes are formatted only if a printout asks, because every training
  // step releases its whole graph.
  released_inputs_.clear();
  released_inputs_.reserve(inputs_.size());
  for (const Variable<T>& input : inputs_) {
    released_inputs_.push_back({input.id(), input.name(), input.shape(), input.state()});
  }
  inputs_.clear();
  inputs_.shrink_to_fit();
  clear_saved();
  released_ = true;
}

template <class T>
NodeSummary Node<T>::summary() const {
  NodeSummary result;
  result.sequence = sequence();
  result.op = op();
  result.released = released();
  for (const Variable<T>& input : inputs_) {
    result.input_ids.push_back(input.id());
    result.input_names.push_back(input.name());
    result.input_shapes.push_back(format_shape(input.shape()));
    result.input_grad_norms.push_back(grad_norm(*input.state()));
  }
  for (const ReleasedInput& input : released_inputs_) {
    result.input_ids.push_back(input.id);
    result.input_names.push_back(input.name);
    result.input_shapes.push_back(format_shape(input.shape));
    const auto state = input.state.lock();
    result.input_grad_norms.push_back(state ? grad_norm(*state) : std::nullopt);
  }
  if (const auto output = output_.lock()) {
    result.output_id = output->id;
    result.output_name = output->name;
    result.output_shape = format_shape(output->value.shape());
    result.grad_norm = grad_norm(*output);
  }
  return result;
}

template class Node<float>;
template class Node<double>;
template void check_anomaly(const char*, const char*, const Tensor<float>&,
                            const VariableList<float>&);
template void check_anomaly(const char*, const char*, const Tensor<double>&,
                            const VariableList<double>&);

}  // namespace tapegrad
