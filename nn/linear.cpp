#include "nn/linear.hpp"

#include <cmath>
#include <string>

#include "autograd/matmul.hpp"
#include "core/error.hpp"
#include "nn/init.hpp"

namespace tapegrad {

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool bias,
                  Generator& generator)
    : in_features_(in_features), out_features_(out_features), has_bias_(bias) {
  if (in_features == 0 || out_features == 0) {
    throw ValueError("Linear: in_features and out_features must be positive, got in_features=" +
                     std::to_string(in_features) + ", out_features=" +
                     std::to_string(out_features));
  }

  // PyTorch's reset_parameters(): kaiming_uniform_(a = sqrt(5)) gives the
  // bound sqrt(2 / (1 + 5)) · sqrt(3 / fan_in) = 1 / sqrt(fan_in).
  Tensor<T> weight = Tensor<T>::from_shape({out_features, in_features});
  kaiming_uniform(weight, generator, /*negative_slope=*/std::sqrt(5.0));
  weight_ = this->register_parameter("weight", std::move(weight));

  if (has_bias_) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    Tensor<T> bias_values = Tensor<T>::from_shape({out_features});
    uniform(bias_values, generator, -bound, bound);
    bias_ = this->register_parameter("bias", std::move(bias_values));
  }
}

template <class T>
Variable<T> Linear<T>::forward(const Variable<T>& input) {
  if (has_bias_) return linear(input, weight_, bias_);
  return linear(input, weight_);
}

template <class T>
const Variable<T>& Linear<T>::bias() const {
  if (!has_bias_) {
    throw GraphError("Linear::bias: this layer was built with bias = false, so it has no bias");
  }
  return bias_;
}

template class Linear<float>;
template class Linear<double>;

}  // namespace tapegrad
