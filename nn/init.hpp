// Weight initialisation, with PyTorch's formulas (torch.nn.init).
//
// For a weight of shape [fan_out, fan_in, k...], fan_in = in · prod(k) and
// fan_out = out · prod(k). Each function overwrites `weight` in place with
// samples from `generator`, so the same seed gives the same weights.
//
//   kaiming_uniform  U(-b, b),  b = gain · sqrt(3 / fan)
//   kaiming_normal   N(0, s²),  s = gain / sqrt(fan)
//                    gain = sqrt(2 / (1 + negative_slope²)), fan = fan_in or fan_out
//   xavier_uniform   U(-b, b),  b = gain · sqrt(6 / (fan_in + fan_out))
//   xavier_normal    N(0, s²),  s = gain · sqrt(2 / (fan_in + fan_out))
//
// They throw ShapeError for a weight of rank below 2 or a fan of 0. They
// throw ValueError, naming the value, for a negative_slope that is not
// finite and a gain that is negative or not finite. They also throw it for
// bounds that are not finite, are out of order or give samples beyond T's
// range.
#pragma once

#include <cstddef>

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace tapegrad {

enum class FanMode { fan_in, fan_out };

struct Fans {
  std::size_t fan_in;
  std::size_t fan_out;
};

// The fans of a weight of rank 2 or more; throws ShapeError for rank < 2.
template <class T>
Fans compute_fans(const Tensor<T>& weight);

template <class T>
void kaiming_uniform(Tensor<T>& weight, Generator& generator, double negative_slope = 0.0,
                     FanMode mode = FanMode::fan_in);

template <class T>
void kaiming_normal(Tensor<T>& weight, Generator& generator, double negative_slope = 0.0,
                    FanMode mode = FanMode::fan_in);

template <class T>
void xavier_uniform(Tensor<T>& weight, Generator& generator, double gain = 1.0);

template <class T>
void xavier_normal(Tensor<T>& weight, Generator& generator, double gain = 1.0);

template <class T>
void uniform(Tensor<T>& tensor, Generator& generator, double low, double high);

template <class T>
void zeros(Tensor<T>& tensor);

}  // namespace tapegrad
