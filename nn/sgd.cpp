#include "nn/sgd.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace tapegrad {

template <class T>
SGD<T>::SGD(std::vector<Variable<T>> parameters, double learning_rate, SgdOptions options)
    : Optimizer<T>(std::move(parameters), learning_rate), options_(options) {
  const auto check = &Optimizer<T>::check_hyperparameter;
  check(std::isfinite(options.momentum) && options.momentum >= 0.0, "SGD", "momentum",
        options.momentum, "finite and >= 0");
  check(options.dampening >= 0.0 && options.dampening <= 1.0, "SGD", "dampening",
        options.dampening, "in [0, 1]");
  check(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0, "SGD",
        "weight_decay", options.weight_decay, "finite and >= 0");
  if (options.nesterov && (options.momentum <= 0.0 || options.dampening != 0.0)) {
    throw ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0, got momentum=" +
                     std::to_string(options.momentum) +
                     ", dampening=" + std::to_string(options.dampening));
  }
  momentum_buffers_.resize(this->parameters_.size());
  has_momentum_buffer_.assign(this->parameters_.size(), false);
}

namespace {

// Parameters of fewer elements are updated on one thread (see parallel_for).
constexpr std::size_t kGrain = 16384;

}  // namespace

template <class T>
void SGD<T>::step() {
  this->check_gradients("SGD::step");

  const T lr = static_cast<T>(this->learning_rate_);
  const T momentum = static_cast<T>(options_.momentum);
  const T dampening = static_cast<T>(options_.dampening);
  const T weight_decay = static_cast<T>(options_.weight_decay);

  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    Variable<T>& parameter = this->parameters_[index];
    if (!parameter.requires_grad() || !parameter.has_grad()) continue;

    T* values = parameter.mutable_value().data();
    const T* grads = parameter.grad().data();
    const std::size_t size = parameter.value().size();

    // Plain SGD needs no buffer: one fused loop.
    if (momentum == T(0)) {
      parallel_for(size, kGrain, [=](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
          values[i] -= lr * (grads[i] + weight_decay * values[i]);
        }
      });
      continue;
    }

    Tensor<T>& buffer = momentum_buffers_[index];
    const bool first_step = !has_momentum_buffer_[index];
    if (first_step) {
      buffer = Tensor<T>::from_shape(parameter.shape());
      has_momentum_buffer_[index] = true;
    }
    T* velocity = buffer.data();
    const bool nesterov = options_.nesterov;
    parallel_for(size, kGrain, [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        const T gradient = grads[i] + weight_decay * values[i];
        velocity[i] =
            first_step ? gradient : momentum * velocity[i] + (T(1) - dampening) * gradient;
        const T update = nesterov ? gradient + momentum * velocity[i] : velocity[i];
        values[i] -= lr * update;
      }
    });
  }
  ++this->step_count_;
}

template <class T>
std::vector<OptimizerStateTensor<T>> SGD<T>::state_tensors() const {
  std::vector<OptimizerStateTensor<T>> tensors;
  for (std::size_t index = 0; index < momentum_buffers_.size(); ++index) {
    if (has_momentum_buffer_[index]) {
      tensors.push_back({"momentum_buffer." + std::to_string(index), momentum_buffers_[index]});
    }
  }
  return tensors;
}

template <class T>
void SGD<T>::load_state(const std::vector<OptimizerStateTensor<T>>& tensors,
                        std::size_t step_count, double learning_rate) {
  const char* caller = "SGD::load_state";
  auto slots = this->match_state(tensors, {"momentum_buffer"}, caller);
  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    if (!slots[0][index]) continue;
    this->check_state_values("momentum_buffer." + std::to_string(index), *slots[0][index],
                             /*non_negative=*/false, caller);
  }
  this->set_learning_rate(learning_rate);
  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    has_momentum_buffer_[index] = slots[0][index].has_value();
    momentum_buffers_[index] = slots[0][index] ? std::move(*slots[0][index]) : Tensor<T>();
  }
  this->step_count_ = step_count;
}

template class SGD<float>;
template class SGD<double>;

}  // namespace tapegrad
