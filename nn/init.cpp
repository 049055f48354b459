#include "nn/init.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/number.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

// Generator::normal's samples lie within this many standard deviations of
// the mean: sqrt(-2 ln(2^-53)) = sqrt(106 ln 2) is about 8.572, because its
// uniform numbers have 53 bits.
constexpr double kMaxNormalDeviations = 8.58;

double leaky_relu_gain(double negative_slope, const char* caller) {
  if (!std::isfinite(negative_slope)) {
    throw ValueError(std::string(caller) + ": negative_slope must be finite, got " +
                     detail::format_number(negative_slope));
  }
  return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
}

// The origin of a scale set by `gain`, for check_fits' message.
std::string from_gain(double gain) { return " (from gain " + detail::format_number(gain) + ")"; }

void check_gain(double gain, const char* caller) {
  if (!(std::isfinite(gain) && gain >= 0.0)) {
    throw ValueError(std::string(caller) + ": gain must be finite and >= 0, got " +
                     detail::format_number(gain));
  }
}

// Throws ValueError unless every sample up to `magnitude` converts to T:
// converting a double beyond T's range is undefined behaviour.
template <class T>
void check_fits(double magnitude, const char* caller, const std::string& description) {
  if (!(magnitude <= static_cast<double>(std::numeric_limits<T>::max()))) {
    throw ValueError(std::string(caller) + ": " + description + " gives samples up to " +
                     detail::format_number(magnitude) + ", beyond the largest " +
                     (sizeof(T) == 4 ? "float" : "double") + ", " +
                     detail::format_number(std::numeric_limits<T>::max()) +
                     "; use a smaller scale");
  }
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

// `origin`, such as " (from gain 2)", follows the scale in the error message
// to name the argument that set it. It is empty when the caller passed the
// scale itself.
template <class T>
void fill_normal(Tensor<T>& tensor, Generator& generator, double stddev, const char* caller,
                 const std::string& origin) {
  check_fits<T>(kMaxNormalDeviations * stddev, caller,
                "the standard deviation " + detail::format_number(stddev) + origin);
  for (T& value : tensor) value = static_cast<T>(generator.normal(0.0, stddev));
}

template <class T>
void fill_uniform(Tensor<T>& tensor, Generator& generator, double low, double high,
                  const char* caller, const std::string& origin) {
  if (!(std::isfinite(low) && std::isfinite(high) && low <= high)) {
    throw ValueError(std::string(caller) + ": low and high must be finite with low <= high, " +
                     "got low=" + detail::format_number(low) +
                     ", high=" + detail::format_number(high));
  }
  check_fits<T>(std::max(std::abs(low), std::abs(high)), caller,
                "the range [" + detail::format_number(low) + ", " + detail::format_number(high) +
                    ")" + origin);
  for (T& value : tensor) value = static_cast<T>(generator.uniform(low, high));
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
  fill_uniform(tensor, generator, low, high, "uniform", "");
}

template <class T>
void kaiming_uniform(Tensor<T>& weight, Generator& generator, double negative_slope,
                     FanMode mode) {
  const char* caller = "kaiming_uniform";
  const double gain = leaky_relu_gain(negative_slope, caller);
  const std::size_t fan = chosen_fan(weight, mode, caller);
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan));
  fill_uniform(weight, generator, -bound, bound, caller, "");
}

template <class T>
void kaiming_normal(Tensor<T>& weight, Generator& generator, double negative_slope,
                    FanMode mode) {
  const char* caller = "kaiming_normal";
  const double gain = leaky_relu_gain(negative_slope, caller);
  const std::size_t fan = chosen_fan(weight, mode, caller);
  fill_normal(weight, generator, gain / std::sqrt(static_cast<double>(fan)), caller, "");
}

template <class T>
void xavier_uniform(Tensor<T>& weight, Generator& generator, double gain) {
  check_gain(gain, "xavier_uniform");
  const Fans fans = compute_fans(weight);
  const double fan_sum = static_cast<double>(fans.fan_in + fans.fan_out);
  if (fan_sum == 0) {
    throw ShapeError("xavier_uniform: the weight shaped " + format_shape(weight.shape()) +
                     " has fan_in + fan_out = 0");
  }
  const double bound = gain * std::sqrt(6.0 / fan_sum);
  fill_uniform(weight, generator, -bound, bound, "xavier_uniform", from_gain(gain));
}

template <class T>
void xavier_normal(Tensor<T>& weight, Generator& generator, double gain) {
  check_gain(gain, "xavier_normal");
  const Fans fans = compute_fans(weight);
  const double fan_sum = static_cast<double>(fans.fan_in + fans.fan_out);
  if (fan_sum == 0) {
    throw ShapeError("xavier_normal: the weight shaped " + format_shape(weight.shape()) +
                     " has fan_in + fan_out = 0");
  }
  fill_normal(weight, generator, gain * std::sqrt(2.0 / fan_sum), "xavier_normal",
              from_gain(gain));
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
