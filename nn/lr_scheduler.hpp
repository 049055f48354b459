// Learning-rate schedules, stepped once per epoch, by the closed forms in
// PyTorch's documentation (lr₀ is the optimizer's learning rate when the
// scheduler is made, e the number of step() calls so far):
//
//   StepLR             lr = lr₀ · gamma^floor(e / step_size)
//   CosineAnnealingLR  lr = eta_min + (lr₀ − eta_min) · (1 + cos(pi · e / t_max)) / 2
//                      for e <= t_max, and eta_min after.
#pragma once

#include <cstddef>

#include "core/error.hpp"
#include "nn/optimizer.hpp"

namespace tapegrad {

template <class T = float>
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer<T>& optimizer)
      : optimizer_(&optimizer), base_learning_rate_(optimizer.learning_rate()) {}
  virtual ~LRScheduler() = default;

  // Advances one epoch and sets the optimizer's learning rate.
  void step() {
    ++epoch_;
    optimizer_->set_learning_rate(learning_rate_at(epoch_));
  }

  // The learning rate after `epoch` calls of step().
  virtual double learning_rate_at(std::size_t epoch) const = 0;

  std::size_t epoch() const { return epoch_; }
  double base_learning_rate() const { return base_learning_rate_; }

  // Restores the schedule from a checkpoint and sets the optimizer's learning
  // rate to match it. Throws ValueError, and changes nothing, when that rate
  // is not finite and >= 0.
  void restore(std::size_t epoch, double base_learning_rate) {
    const double old_base_learning_rate = base_learning_rate_;
    const std::size_t old_epoch = epoch_;
    base_learning_rate_ = base_learning_rate;
    epoch_ = epoch;
    try {
      optimizer_->set_learning_rate(learning_rate_at(epoch_));
    } catch (const ValueError&) {
      base_learning_rate_ = old_base_learning_rate;
      epoch_ = old_epoch;
      throw;
    }
  }

 private:
  Optimizer<T>* optimizer_;
  double base_learning_rate_;
  std::size_t epoch_ = 0;
};

template <class T = float>
class StepLR : public LRScheduler<T> {
 public:
  // Throws ValueError for step_size 0 or a gamma that is negative or not finite.
  StepLR(Optimizer<T>& optimizer, std::size_t step_size, double gamma = 0.1);

  double learning_rate_at(std::size_t epoch) const override;

 private:
  std::size_t step_size_;
  double gamma_;
};

template <class T = float>
class CosineAnnealingLR : public LRScheduler<T> {
 public:
  // Throws ValueError for t_max 0 or an eta_min that is negative or not finite.
  CosineAnnealingLR(Optimizer<T>& optimizer, std::size_t t_max, double eta_min = 0.0);

  double learning_rate_at(std::size_t epoch) const override;

 private:
  std::size_t t_max_;
  double eta_min_;
};

}  // namespace tapegrad
