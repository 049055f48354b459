#include "nn/dropout.hpp"

#include <string>

#include "autograd/elementwise.hpp"
#include "core/error.hpp"

namespace tapegrad {

template <class T>
Dropout<T>::Dropout(double p, Generator& generator) : p_(p), generator_(&generator) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw ValueError("Dropout: p must be in [0, 1], got " + std::to_string(p));
  }
}

template <class T>
Variable<T> Dropout<T>::forward(const Variable<T>& input) {
  if (!this->is_training() || p_ == 0.0) return input;

  // mask = keep / (1 - p), where keep ~ Bernoulli(1 - p). With p = 1 nothing
  // is kept and the scale is never used.
  const T scale = p_ < 1.0 ? static_cast<T>(1.0 / (1.0 - p_)) : T(0);
  Tensor<T> mask = Tensor<T>::from_shape(input.shape());
  for (T& value : mask) value = generator_->uniform() >= p_ ? scale : T(0);

  // y = x · mask;  dx = dy · mask (the mask is a constant)
  return mul(input, Variable<T>(std::move(mask)));
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace tapegrad
