#include "nn/adam.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/number.hpp"
#include "core/shape.hpp"

namespace tapegrad {

template <class T>
Adam<T>::Adam(std::vector<Variable<T>> parameters, double learning_rate, AdamOptions options)
    : Adam(std::move(parameters), learning_rate, options, false, "Adam") {}

template <class T>
Adam<T>::Adam(std::vector<Variable<T>> parameters, double learning_rate, AdamOptions options,
              bool decoupled_weight_decay, const char* name)
    : Optimizer<T>(std::move(parameters), learning_rate),
      options_(options),
      decoupled_weight_decay_(decoupled_weight_decay),
      name_(name) {
  const auto check = &Optimizer<T>::check_hyperparameter;
  check(options.beta1 >= 0.0 && options.beta1 < 1.0, name, "beta1", options.beta1, "in [0, 1)");
  check(options.beta2 >= 0.0 && options.beta2 < 1.0, name, "beta2", options.beta2, "in [0, 1)");
  // PyTorch allows eps = 0, but then a gradient element that is 0 from the
  // start gives m / sqrt(v) = 0 / 0 = NaN.
  check(std::isfinite(options.eps) && options.eps > 0.0, name, "eps", options.eps,
        "finite and > 0");
  check(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0, name,
        "weight_decay", options.weight_decay, "finite and >= 0");
  exp_avg_.resize(this->parameters_.size());
  exp_avg_sq_.resize(this->parameters_.size());
  parameter_steps_.assign(this->parameters_.size(), 0);
}

template <class T>
void Adam<T>::step() {
  this->check_gradients(std::string(name_) + "::step");

  const double lr = this->learning_rate_;
  const T beta1 = static_cast<T>(options_.beta1);
  const T beta2 = static_cast<T>(options_.beta2);
  const T eps = static_cast<T>(options_.eps);
  const T weight_decay = static_cast<T>(options_.weight_decay);

  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    Variable<T>& parameter = this->parameters_[index];
    if (!parameter.requires_grad() || !parameter.has_grad()) continue;

    if (parameter_steps_[index] == 0) {
      exp_avg_[index] = xt::zeros<T>(parameter.shape());
      exp_avg_sq_[index] = xt::zeros<T>(parameter.shape());
    }
    const std::size_t t = ++parameter_steps_[index];

    // The bias corrections fold into one step size and one divisor, in
    // double: 1 − β2ᵗ underflows no sooner than in float.
    const double bias_correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t));
    const double bias_correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t));
    const T step_size = static_cast<T>(lr / bias_correction1);
    const T inverse_sqrt_correction2 = static_cast<T>(1.0 / std::sqrt(bias_correction2));
    const T decay_factor = static_cast<T>(1.0 - lr * options_.weight_decay);

    T* values = parameter.mutable_value().data();
    const T* grads = parameter.grad().data();
    T* m = exp_avg_[index].data();
    T* v = exp_avg_sq_[index].data();
    const std::size_t size = parameter.value().size();
    for (std::size_t i = 0; i < size; ++i) {
      T gradient = grads[i];
      if (decoupled_weight_decay_) {
        values[i] *= decay_factor;
      } else {
        gradient += weight_decay * values[i];
      }
      m[i] = beta1 * m[i] + (T(1) - beta1) * gradient;
      v[i] = beta2 * v[i] + (T(1) - beta2) * gradient * gradient;
      // m̂ / (sqrt(v̂) + eps) = (m / c1) / (sqrt(v) / sqrt(c2) + eps)
      values[i] -= step_size * m[i] / (std::sqrt(v[i]) * inverse_sqrt_correction2 + eps);
    }
  }
  ++this->step_count_;
}

template <class T>
std::vector<OptimizerStateTensor<T>> Adam<T>::state_tensors() const {
  std::vector<OptimizerStateTensor<T>> tensors;
  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    if (parameter_steps_[index] == 0) continue;
    tensors.push_back({"exp_avg." + std::to_string(index), exp_avg_[index]});
    tensors.push_back({"exp_avg_sq." + std::to_string(index), exp_avg_sq_[index]});
    Tensor<T> steps = {static_cast<T>(parameter_steps_[index])};
    tensors.push_back({"step." + std::to_string(index), std::move(steps)});
  }
  return tensors;
}

template <class T>
void Adam<T>::load_state(const std::vector<OptimizerStateTensor<T>>& tensors,
                         std::size_t step_count, double learning_rate) {
  const std::string caller = std::string(name_) + "::load_state";

  // "step.i" is shaped [1], not like parameter i, so it is matched apart.
  std::vector<OptimizerStateTensor<T>> moments;
  std::vector<std::size_t> steps(this->parameters_.size(), 0);
  for (const OptimizerStateTensor<T>& tensor : tensors) {
    const std::string prefix = "step.";
    if (tensor.name.rfind(prefix, 0) != 0) {
      moments.push_back(tensor);
      continue;
    }
    const std::string digits = tensor.name.substr(prefix.size());
    const bool numeric = !digits.empty() && digits.size() < 10 &&
                         digits.find_first_not_of("0123456789") == std::string::npos;
    const std::size_t index = numeric ? std::stoul(digits) : this->parameters_.size();
    if (index >= this->parameters_.size()) {
      throw ValueError(caller + ": unexpected state '" + tensor.name +
                       "'; expected step.<parameter index> for one of the " +
                       std::to_string(this->parameters_.size()) + " parameters");
    }
    if (tensor.value.size() != 1) {
      throw ValueError(caller + ": state '" + tensor.name + "' is shaped " +
                       format_shape(tensor.value.shape()) +
                       "; it must hold one whole count >= 1");
    }
    // The bound keeps the conversion to size_t defined: a larger value, inf
    // included, has no size_t value.
    const T count = tensor.value.flat(0);
    const bool valid_count = count >= T(1) &&
                             count < static_cast<T>(std::numeric_limits<std::size_t>::max()) &&
                             count == std::floor(count);
    if (!valid_count) {
      throw ValueError(caller + ": state '" + tensor.name + "' is " +
                       detail::format_number(count) + "; it must be one whole count >= 1");
    }
    steps[index] = static_cast<std::size_t>(count);
  }

  auto slots = this->match_state(moments, {"exp_avg", "exp_avg_sq"}, caller.c_str());
  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    const std::string suffix = "." + std::to_string(index);
    if (slots[0][index]) {
      this->check_state_values("exp_avg" + suffix, *slots[0][index], /*non_negative=*/false,
                               caller.c_str());
    }
    if (slots[1][index]) {
      this->check_state_values("exp_avg_sq" + suffix, *slots[1][index], /*non_negative=*/true,
                               caller.c_str());
    }
  }
  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    const bool complete = slots[0][index] && slots[1][index] && steps[index] > 0;
    const bool absent = !slots[0][index] && !slots[1][index] && steps[index] == 0;
    if (!complete && !absent) {
      throw ValueError(caller + ": parameter " + std::to_string(index) +
                       " needs exp_avg, exp_avg_sq and step together, but some are missing");
    }
  }

  this->set_learning_rate(learning_rate);
  for (std::size_t index = 0; index < this->parameters_.size(); ++index) {
    parameter_steps_[index] = steps[index];
    exp_avg_[index] = slots[0][index] ? std::move(*slots[0][index]) : Tensor<T>();
    exp_avg_sq_[index] = slots[1][index] ? std::move(*slots[1][index]) : Tensor<T>();
  }
  this->step_count_ = step_count;
}

template <class T>
AdamW<T>::AdamW(std::vector<Variable<T>> parameters, double learning_rate, AdamOptions options)
    : Adam<T>(std::move(parameters), learning_rate, options, true, "AdamW") {}

template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;

}  // namespace tapegrad
