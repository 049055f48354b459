#include "autograd/variable.hpp"

#include <atomic>
#include <vector>

#include "autograd/node.hpp"
#include "autograd/tape.hpp"
#include "core/error.hpp"

namespace tapegrad {
namespace {

std::uint64_t next_variable_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

}  // namespace

template <class T>
VariableState<T>::VariableState() : id(next_variable_id()) {}

template <class T>
VariableState<T>::~VariableState() {
  // Destroying a node destroys its inputs, whose nodes destroy their inputs,
  // and so on: one stack frame per node. Instead, before a node dies, take
  // the node of every input that only it still holds, and destroy those
  // nodes in this loop.
  std::vector<std::shared_ptr<Node<T>>> pending;
  if (grad_fn) pending.push_back(std::move(grad_fn));
  while (!pending.empty()) {
    std::shared_ptr<Node<T>> node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() != 1) continue;  // still used elsewhere: not ours to free

    for (Variable<T>& input : node->mutable_inputs()) {
      const std::shared_ptr<VariableState<T>>& input_state = input.state();
      if (input_state.use_count() == 1 && input_state->grad_fn) {
        pending.push_back(std::move(input_state->grad_fn));
      }
    }
    // `node` is freed here; its inputs have no nodes left to free recursively.
  }
}

template <class T>
Variable<T>::Variable() : state_(std::make_shared<VariableState<T>>()) {
  state_->value = Tensor<T>::from_shape({0});
}

template <class T>
Variable<T>::Variable(Tensor<T> value, bool requires_grad)
    : state_(std::make_shared<VariableState<T>>()) {
  state_->value = std::move(value);
  state_->requires_grad = requires_grad;
}

template <class T>
Variable<T> Variable<T>::from_node(Tensor<T> value, std::shared_ptr<Node<T>> grad_fn) {
  Variable<T> result(std::move(value), grad_fn != nullptr);
  if (grad_fn) {
    grad_fn->set_output(result.state_);
    Tape::current().record(grad_fn);
    result.state_->grad_fn = std::move(grad_fn);
  }
  return result;
}

template <class T>
const Tensor<T>& Variable<T>::grad() const {
  VariableState<T>& state = *state_;
  if (!state.has_grad && state.grad.shape() != state.value.shape()) {
    state.grad = xt::zeros<T>(state.value.shape());
  } else if (!state.has_grad) {
    state.grad.fill(T(0));
  }
  return state.grad;
}

template <class T>
Tensor<T>& Variable<T>::mutable_grad() {
  grad();
  state_->has_grad = true;
  return state_->grad;
}

template <class T>
void Variable<T>::zero_grad() {
  if (state_->has_grad) state_->grad.fill(T(0));
}

template <class T>
void Variable<T>::set_requires_grad(bool requires_grad) {
  if (!is_leaf()) {
    throw GraphError("set_requires_grad: variable " + std::to_string(id()) +
                     " is the result of op '" + state_->grad_fn->op() +
                     "', and only leaves can change requires_grad; use detach() for a leaf copy");
  }
  state_->requires_grad = requires_grad;
}

template <class T>
Variable<T> Variable<T>::detach() const {
  return Variable<T>(state_->value, false);
}

template struct VariableState<float>;
template struct VariableState<double>;
template class Variable<float>;
template class Variable<double>;

}  // namespace tapegrad
