#include "nn/lr_scheduler.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "core/error.hpp"

namespace tapegrad {

template <class T>
StepLR<T>::StepLR(Optimizer<T>& optimizer, std::size_t step_size, double gamma)
    : LRScheduler<T>(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size == 0) throw ValueError("StepLR: step_size must be at least 1, got 0");
  if (!(std::isfinite(gamma) && gamma >= 0.0)) {
    throw ValueError("StepLR: gamma must be finite and >= 0, got " + std::to_string(gamma));
  }
}

template <class T>
double StepLR<T>::learning_rate_at(std::size_t epoch) const {
  return this->base_learning_rate() * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

template <class T>
CosineAnnealingLR<T>::CosineAnnealingLR(Optimizer<T>& optimizer, std::size_t t_max,
                                        double eta_min)
    : LRScheduler<T>(optimizer), t_max_(t_max), eta_min_(eta_min) {
  if (t_max == 0) throw ValueError("CosineAnnealingLR: t_max must be at least 1, got 0");
  if (!(std::isfinite(eta_min) && eta_min >= 0.0)) {
    throw ValueError("CosineAnnealingLR: eta_min must be finite and >= 0, got " +
                     std::to_string(eta_min));
  }
}

template <class T>
double CosineAnnealingLR<T>::learning_rate_at(std::size_t epoch) const {
  // NOTE: PyTorch's recursive form restarts the cosine after t_max; this
  // closed form holds eta_min from t_max on, the usual single-cycle use.
  if (epoch >= t_max_) return eta_min_;
  const double progress = static_cast<double>(epoch) / static_cast<double>(t_max_);
  return eta_min_ + (this->base_learning_rate() - eta_min_) *
                        (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

template class StepLR<float>;
template class StepLR<double>;
template class CosineAnnealingLR<float>;
template class CosineAnnealingLR<double>;

}  // namespace tapegrad
