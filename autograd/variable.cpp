#include "autograd/variable.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

#include "autograd/node.hpp"
#include "autograd/tape.hpp"
#include "core/error.hpp"
#include "core/recycling_allocator.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

std::uint64_t next_variable_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

}  // namespace

// A default Tensor holds one element, which costs an allocation, so the
// gradient starts shaped [0], which holds none.
template <class T>
VariableState<T>::VariableState(Tensor<T> value, bool requires_grad)
    : value(std::move(value)),
      grad(Tensor<T>::from_shape({0})),
      requires_grad(requires_grad),
      id(next_variable_id()) {}

template <class T>
VariableState<T>::~VariableState() {
  // The next step of a training loop takes these buffers from the pool.
  recycle(std::move(value));
  recycle(std::move(grad));

  // Destroying a node destroys its inputs, whose nodes destroy their inputs,
  // and so on: one stack frame per node. Instead, before a node dies, take
  // the node of every input that only it still holds, and destroy those
  // nodes in this loop. `pending` allocates only when there are such
  // inputs, which a graph released by backward() no longer has.
  std::vector<std::shared_ptr<Node<T>>> pending;
  std::shared_ptr<Node<T>> node = std::move(grad_fn);
  while (node) {
    // A node still used elsewhere is not ours to free.
    if (node.use_count() == 1) {
      for (Variable<T>& input : node->mutable_inputs()) {
        const std::shared_ptr<VariableState<T>>& input_state = input.state();
        if (input_state.use_count() == 1 && input_state->grad_fn) {
          pending.push_back(std::move(input_state->grad_fn));
        }
      }
    }
    // Frees `node` if it was the last owner; its inputs have no nodes left
    // to free recursively.
    node.reset();
    if (pending.empty()) break;
    node = std::move(pending.back());
    pending.pop_back();
  }
}

// States come from the recycling allocator: every recorded op creates one.
template <class T>
Variable<T>::Variable()
    : state_(std::allocate_shared<VariableState<T>>(RecyclingAllocator<VariableState<T>>(),
                                                    Tensor<T>::from_shape({0}), false)) {}

template <class T>
Variable<T>::Variable(Tensor<T> value, bool requires_grad)
    : state_(std::allocate_shared<VariableState<T>>(RecyclingAllocator<VariableState<T>>(),
                                                    std::move(value), requires_grad)) {}

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
  if (!state.has_grad) {
    if (state.grad.shape() != state.value.shape()) {
      recycle(std::move(state.grad));
      state.grad = pooled_tensor<T>(state.value.shape());
    }
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
  // No pass over the buffer: the next backward() writes it instead of adding
  // to it, and grad() fills it with zeros if it is read before then.
  state_->has_grad = false;
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
