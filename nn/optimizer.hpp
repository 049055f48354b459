// Optimizer: the base of SGD, Adam and AdamW.
//
// An optimizer keeps handles to the parameters it updates. The training loop
// calls zero_grad(), runs forward and backward, then step(). step() skips
// parameters that are frozen (requires_grad off) or have no gradient yet.
// It throws ValueError, before updating anything, when a gradient it would
// use contains NaN or inf, because the update would spread it into the
// parameters.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "autograd/variable.hpp"
#include "core/tensor.hpp"

namespace tapegrad {

// One named tensor of optimizer state, such as "exp_avg.3" (the first moment
// of parameter 3), for checkpoints.
template <class T>
struct OptimizerStateTensor {
  std::string name;
  Tensor<T> value;
};

template <class T = float>
class Optimizer {
 public:
  // Throws ValueError for an empty parameter list and for a negative or
  // non-finite learning rate. Also throws ValueError, naming both positions,
  // for a variable listed twice, because step() would update it twice.
  // Module::parameters() lists a shared parameter once, so it always gives
  // a valid list.
  Optimizer(std::vector<Variable<T>> parameters, double learning_rate);
  virtual ~Optimizer() = default;

  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Sets every parameter's gradient to zero, keeping its buffer (see
  // Variable::zero_grad). A parameter that the next backward() does not reach
  // has no gradient, so step() skips it.
  void zero_grad();

  // Updates every trainable parameter from its gradient.
  virtual void step() = 0;

  double learning_rate() const { return learning_rate_; }

  // Used by learning-rate schedulers; throws like the constructor.
  void set_learning_rate(double learning_rate);

  const std::vector<Variable<T>>& parameters() const { return parameters_; }

  // The number of step() calls so far.
  std::size_t step_count() const { return step_count_; }

  // The optimizer's state for checkpoints: its buffers as named tensors, and
  // its step count and learning rate. load_state() checks names and shapes
  // and throws ValueError listing every mismatch. It also throws ValueError,
  // naming the tensor and the value, for a buffer element that is NaN or
  // infinite, or negative where the buffer cannot be (Adam's exp_avg_sq),
  // and leaves the optimizer unchanged on any error.
  virtual std::vector<OptimizerStateTensor<T>> state_tensors() const = 0;
  virtual void load_state(const std::vector<OptimizerStateTensor<T>>& tensors,
                          std::size_t step_count, double learning_rate) = 0;

 protected:
  static void check_hyperparameter(bool valid, const char* optimizer, const char* name,
                                   double value, const char* valid_range);

  // Throws ValueError at the first NaN or infinite gradient element of a
  // parameter that step() updates, naming the parameter and the position.
  void check_gradients(const std::string& caller) const;

  // Throws ValueError at the first element of the state tensor `name` that
  // is NaN or infinite, or negative when `non_negative` is set, naming the
  // tensor, the value and its flat index.
  static void check_state_values(const std::string& name, const Tensor<T>& values,
                                 bool non_negative, const char* caller);

  // Sorts state tensors named "<kind>.<parameter index>" into one slot per
  // parameter for each kind, checking each shape against its parameter.
  // Throws ValueError listing every unknown name and wrong shape.
  std::vector<std::vector<std::optional<Tensor<T>>>> match_state(
      const std::vector<OptimizerStateTensor<T>>& tensors, const std::vector<std::string>& kinds,
      const char* caller) const;

  std::vector<Variable<T>> parameters_;
  double learning_rate_;
  std::size_t step_count_ = 0;
};

}  // namespace tapegrad
