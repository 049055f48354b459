// SGD with momentum, dampening, Nesterov momentum and weight decay, by the
// update in PyTorch's torch.optim.SGD documentation. For each parameter p
// with gradient g, at step t (counting from 1):
//
//   g ← g + weight_decay · p
//   if momentum ≠ 0:
//     b ← g                                   at t = 1
//     b ← momentum · b + (1 − dampening) · g  after
//     g ← g + momentum · b  (Nesterov)   or   g ← b
//   p ← p − lr · g
#pragma once

#include <vector>

#include "nn/optimizer.hpp"

namespace tapegrad {

struct SgdOptions {
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

template <class T = float>
class SGD : public Optimizer<T> {
 public:
  // Throws ValueError, naming the value, for a negative or non-finite
  // learning rate, momentum or weight decay, a dampening outside [0, 1], and
  // Nesterov without momentum or with dampening, and for an empty or
  // repeated parameter as the Optimizer constructor does.
  SGD(std::vector<Variable<T>> parameters, double learning_rate, SgdOptions options = {});

  void step() override;

  const SgdOptions& options() const { return options_; }

  // "momentum_buffer.i" for each parameter i that has one.
  std::vector<OptimizerStateTensor<T>> state_tensors() const override;
  void load_state(const std::vector<OptimizerStateTensor<T>>& tensors, std::size_t step_count,
                  double learning_rate) override;

 private:
  SgdOptions options_;
  std::vector<Tensor<T>> momentum_buffers_;
  std::vector<bool> has_momentum_buffer_;
};

}  // namespace tapegrad
