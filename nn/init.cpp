#include "nn/init.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

double leaky_relu_gain(double negative_slope) {
  return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
}

template <class T>
std::size_t chosen_fan(const Tensor<T>& weight, FanMode mode, const char* caller) {
  const Fans fans = compute_fans(weight);
  const std::size_t fan = mode == FanMode::fan_in ? fans.fan_in : fans.fan_out;
  if (fan == 0) {
    throw ShapeError(std::string(caller) + ": the weight shaped " + format_shape(weight.shape()) +
                     " has a fan of 0, so the scale would divide by zero");
  }
  return fan;
}

template <class T>
void fill_normal(Tensor<T>& tensor, Generator& generator, double stddev) {
  for (T& value : tensor) value = static_cast<T>(generator.normal(0.0, stddev));
}

}  // namespace

template <class T>
Fans compute_fans(const Tensor<T>& weight) {
  if (weight.dimension() < 2) {
    throw ShapeError("compute_fans: a weight needs at least 2 dimensions to have fans, but it is " +
                     format_shape(weight.shape()));
  }
  std::size_t receptive_field = 1;
  for (std::size_t axis = 2; axis < weight.dimension(); ++axis) {
    receptive_field *= weight.shape()[axis];
  }
  return {weight.shape()[1] * receptive_field, weight.shape()[0] * receptive_field};
}

template <class T>
void uniform(Tensor<T>& tensor, Generator& generator, double low, double high) {
  for (T& value : tensor) value = static_cast<T>(generator.uniform(low, high));
}

template <class T>
void kaiming_uniform(Tensor<T>& weight, Generator& generator, double negative_slope,
                     FanMode mode) {
  const std::size_t fan = chosen_fan(weight, mode, "kaiming_uniform");
  const double bound = leaky_relu_gain(negative_slope) * std::sqrt(3.0 / static_cast<double>(fan));
  uniform(weight, generator, -bound, bound);
}

template <class T>
void kaiming_normal(Tensor<T>& weight, Generator& generator, double negative_slope,
                    FanMode mode) {
  const std::size_t fan = chosen_fan(weight, mode, "kaiming_normal");
  fill_normal(weight, generator, leaky_relu_gain(negative_slope) / std::sqrt(static_cast<double>(fan)));
}

template <class T>
void xavier_uniform(Tensor<T>& weight, Generator& generator, double gain) {
  const Fans fans = compute_fans(weight);
  const double fan_sum = static_cast<double>(fans.fan_in + fans.fan_out);
  if (fan_sum == 0) {
    throw ShapeError("xavier_uniform: the weight shaped " + format_shape(weight.shape()) +
                     " has fan_in + fan_out = 0");
  }
  const double bound = gain * std::sqrt(6.0 / fan_sum);
  uniform(weight, generator, -bound, bound);
}

template <class T>
void xavier_normal(Tensor<T>& weight, Generator& generator, double gain) {
  const Fans fans = compute_fans(weight);
  const double fan_sum = static_cast<double>(fans.fan_in + fans.fan_out);
  if (fan_sum == 0) {
    throw ShapeError("xavier_normal: the weight shaped " + format_shape(weight.shape()) +
                     " has fan_in + fan_out = 0");
  }
  fill_normal(weight, generator, gain * std::sqrt(2.0 / fan_sum));
}

template <class T>
void zeros(Tensor<T>& tensor) {
  tensor.fill(T(0));
}

#define TAPEGRAD_INSTANTIATE_INIT(T)                                           \
  template Fans compute_fans(const Tensor<T>&);                                \
  template void kaiming_uniform(Tensor<T>&, Generator&, double, FanMode);      \
  template void kaiming_normal(Tensor<T>&, Generator&, double, FanMode);       \
  template void xavier_uniform(Tensor<T>&, Generator&, double);                \
  template void xavier_normal(Tensor<T>&, Generator&, double);                 \
  template void uniform(Tensor<T>&, Generator&, double, double);               \
  template void zeros(Tensor<T>&);

TAPEGRAD_INSTANTIATE_INIT(float)
TAPEGRAD_INSTANTIATE_INIT(double)

}  // namespace tapegrad
