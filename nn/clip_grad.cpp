#include "nn/clip_grad.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace tapegrad {

template <class T>
double clip_grad_norm(const std::vector<Variable<T>>& parameters, double max_norm) {
  if (!(max_norm >= 0.0)) {
    throw ValueError("clip_grad_norm: max_norm must be >= 0, got " + std::to_string(max_norm));
  }

  // Squares summed in double, so that a norm near float's limits is exact
  // enough and does not overflow.
  double squares = 0.0;
  for (const Variable<T>& parameter : parameters) {
    if (!parameter.has_grad()) continue;
    for (const T value : parameter.grad()) squares += static_cast<double>(value) * value;
  }
  const double norm = std::sqrt(squares);
  if (!std::isfinite(norm)) {
    std::ostringstream message;
    message << "clip_grad_norm: the gradient norm is " << norm
            << "; a gradient holds NaN or inf (set_detect_anomaly(true) names the op that made it)";
    throw ValueError(message.str());
  }

  const double scale = max_norm / (norm + 1e-6);
  if (scale < 1.0) {
    for (const Variable<T>& parameter : parameters) {
      if (!parameter.has_grad()) continue;
      Variable<T> handle = parameter;
      handle.mutable_grad() *= static_cast<T>(scale);
    }
  }
  return norm;
}

template <class T>
void clip_grad_value(const std::vector<Variable<T>>& parameters, double clip_value) {
  if (!(clip_value >= 0.0)) {
    throw ValueError("clip_grad_value: clip_value must be >= 0, got " +
                     std::to_string(clip_value));
  }
  const T limit = static_cast<T>(clip_value);
  for (const Variable<T>& parameter : parameters) {
    if (!parameter.has_grad()) continue;
    Variable<T> handle = parameter;
    for (T& value : handle.mutable_grad()) value = std::clamp(value, -limit, limit);
  }
}

template double clip_grad_norm(const std::vector<Variable<float>>&, double);
template double clip_grad_norm(const std::vector<Variable<double>>&, double);
template void clip_grad_value(const std::vector<Variable<float>>&, double);
template void clip_grad_value(const std::vector<Variable<double>>&, double);

}  // namespace tapegrad
