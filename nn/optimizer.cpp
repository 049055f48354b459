#include "nn/optimizer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "core/error.hpp"
#include "core/number.hpp"
#include "core/parallel.hpp"
#include "core/shape.hpp"

namespace tapegrad {

template <class T>
void Optimizer<T>::check_hyperparameter(bool valid, const char* optimizer, const char* name,
                                        double value, const char* valid_range) {
  if (valid) return;
  std::ostringstream message;
  message << optimizer << ": " << name << " must be " << valid_range << ", got " << value;
  throw ValueError(message.str());
}

template <class T>
Optimizer<T>::Optimizer(std::vector<Variable<T>> parameters, double learning_rate)
    : parameters_(std::move(parameters)), learning_rate_(learning_rate) {
  if (parameters_.empty()) {
    throw ValueError(
        "Optimizer: got no parameters; pass model.parameters() or the variables to train");
  }
  // Variables are handles, so two entries are the same parameter when they
  // share their state.
  std::unordered_map<const VariableState<T>*, std::size_t> first_index;
  for (std::size_t index = 0; index < parameters_.size(); ++index) {
    const auto [found, inserted] = first_index.emplace(parameters_[index].state().get(), index);
    if (!inserted) {
      throw ValueError("Optimizer: parameter " + std::to_string(index) +
                       " is the same variable as parameter " + std::to_string(found->second) +
                       "; pass each parameter once, because step() would update it twice");
    }
  }
  check_hyperparameter(std::isfinite(learning_rate) && learning_rate >= 0.0, "Optimizer",
                       "learning rate", learning_rate, "finite and >= 0");
}

namespace {

// Counts the NaN and infinite values among `size` values, in parallel. The
// count has no early exit and no branch, so the compiler vectorises it: the
// check runs before every step and reads every gradient.
template <class T>
std::size_t count_non_finite(const T* values, std::size_t size) {
  constexpr std::size_t kGrain = 16384;
  std::atomic<std::size_t> total{0};
  parallel_for(size, kGrain, [&](std::size_t begin, std::size_t end) {
    std::size_t count = 0;
    for (std::size_t i = begin; i < end; ++i) {
      count += !(std::abs(values[i]) <= std::numeric_limits<T>::max());
    }
    total.fetch_add(count, std::memory_order_relaxed);
  });
  return total.load(std::memory_order_relaxed);
}

}  // namespace

template <class T>
void Optimizer<T>::check_gradients(const std::string& caller) const {
  for (std::size_t index = 0; index < parameters_.size(); ++index) {
    const Variable<T>& parameter = parameters_[index];
    if (!parameter.requires_grad() || !parameter.has_grad()) continue;

    const Tensor<T>& grad = parameter.grad();
    const T* begin = grad.data();
    const T* end = begin + grad.size();
    if (count_non_finite(begin, grad.size()) == 0) continue;
    const T* bad = std::find_if(begin, end, [](T value) { return !std::isfinite(value); });
    std::ostringstream message;
    message << caller << ": the gradient of parameter " << index << ", shaped "
            << format_shape(parameter.shape()) << ", is " << *bad << " at flat index "
            << (bad - begin)
            << "; no parameter was updated (set_detect_anomaly(true) names the op that made it)";
    throw ValueError(message.str());
  }
}

template <class T>
void Optimizer<T>::check_state_values(const std::string& name, const Tensor<T>& values,
                                      bool non_negative, const char* caller) {
  const T* begin = values.data();
  const T* end = begin + values.size();
  const T* bad = std::find_if(begin, end, [non_negative](T value) {
    return !std::isfinite(value) || (non_negative && value < T(0));
  });
  if (bad == end) return;
  throw ValueError(std::string(caller) + ": state '" + name + "' contains " +
                   detail::format_number(*bad) + " at flat index " + std::to_string(bad - begin) +
                   "; every element must be finite" + (non_negative ? " and >= 0" : ""));
}

template <class T>
void Optimizer<T>::zero_grad() {
  for (Variable<T>& parameter : parameters_) parameter.zero_grad();
}

template <class T>
void Optimizer<T>::set_learning_rate(double learning_rate) {
  check_hyperparameter(std::isfinite(learning_rate) && learning_rate >= 0.0, "Optimizer",
                       "learning rate", learning_rate, "finite and >= 0");
  learning_rate_ = learning_rate;
}

template <class T>
std::vector<std::vector<std::optional<Tensor<T>>>> Optimizer<T>::match_state(
    const std::vector<OptimizerStateTensor<T>>& tensors, const std::vector<std::string>& kinds,
    const char* caller) const {
  std::vector<std::vector<std::optional<Tensor<T>>>> slots(
      kinds.size(), std::vector<std::optional<Tensor<T>>>(parameters_.size()));
  std::string problems;
  for (const OptimizerStateTensor<T>& tensor : tensors) {
    // Split "exp_avg.12" into the kind "exp_avg" and the index 12.
    const std::size_t dot = tensor.name.rfind('.');
    const std::string kind = dot == std::string::npos ? tensor.name : tensor.name.substr(0, dot);
    const std::string digits = dot == std::string::npos ? "" : tensor.name.substr(dot + 1);
    std::size_t kind_index = kinds.size();
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      if (kinds[k] == kind) kind_index = k;
    }
    const bool numeric = !digits.empty() && digits.size() < 10 &&
                         digits.find_first_not_of("0123456789") == std::string::npos;
    const std::size_t index = numeric ? std::stoul(digits) : parameters_.size();
    if (kind_index == kinds.size() || index >= parameters_.size()) {
      problems += "; unexpected state '" + tensor.name + "'";
      continue;
    }
    if (tensor.value.shape() != parameters_[index].shape()) {
      problems += "; '" + tensor.name + "' is " + format_shape(tensor.value.shape()) +
                  " but parameter " + std::to_string(index) + " is " +
                  format_shape(parameters_[index].shape());
      continue;
    }
    slots[kind_index][index] = tensor.value;
  }
  if (!problems.empty()) {
    throw ValueError(std::string(caller) + ": the state does not match the " +
                     std::to_string(parameters_.size()) + " parameters" + problems);
  }
  return slots;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace tapegrad
