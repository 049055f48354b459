// Adam and AdamW, by the updates in PyTorch's torch.optim.Adam and AdamW
// documentation (without amsgrad). For each parameter p with gradient g, at
// step t (counting from 1):
//
//   Adam:   g ← g + weight_decay · p
//   AdamW:  p ← p − lr · weight_decay · p      (decoupled weight decay)
//   m ← β1 · m + (1 − β1) · g
//   v ← β2 · v + (1 − β2) · g²
//   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
//   p ← p − lr · m̂ / (sqrt(v̂) + eps)
#pragma once

#include <vector>

#include "nn/optimizer.hpp"

namespace tapegrad {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

template <class T = float>
class Adam : public Optimizer<T> {
 public:
  // Throws ValueError, naming the value, for a negative or non-finite
  // learning rate or weight decay, an eps that is not finite and > 0, or
  // betas outside [0, 1), and for an empty or repeated parameter as the
  // Optimizer constructor does.
  Adam(std::vector<Variable<T>> parameters, double learning_rate = 1e-3, AdamOptions options = {});

  void step() override;

  const AdamOptions& options() const { return options_; }

  // "exp_avg.i" and "exp_avg_sq.i" for each parameter i that has taken a step.
  std::vector<OptimizerStateTensor<T>> state_tensors() const override;
  void load_state(const std::vector<OptimizerStateTensor<T>>& tensors, std::size_t step_count,
                  double learning_rate) override;

 protected:
  // AdamW's constructor: the same checks, and decoupled weight decay.
  Adam(std::vector<Variable<T>> parameters, double learning_rate, AdamOptions options,
       bool decoupled_weight_decay, const char* name);

 private:
  AdamOptions options_;
  bool decoupled_weight_decay_;
  const char* name_;
  std::vector<Tensor<T>> exp_avg_;     // m, the first moment
  std::vector<Tensor<T>> exp_avg_sq_;  // v, the second moment
  std::vector<std::size_t> parameter_steps_;
};

// AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, 2019).
// PyTorch's default weight decay for AdamW is 0.01, and so is this one's.
template <class T = float>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<Variable<T>> parameters, double learning_rate = 1e-3,
        AdamOptions options = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01});
};

}  // namespace tapegrad
