// Linear: y = x · weightᵀ + bias, PyTorch's torch.nn.Linear.
//
// Shapes (PyTorch's layout, so weights move between the two unchanged):
//   x [batch_size, in_features], weight [out_features, in_features],
//   bias [out_features], y [batch_size, out_features].
// The product runs as one GEMM with the transpose flag on weight.
#pragma once

#include <cstddef>

#include "core/random.hpp"
#include "nn/module.hpp"

namespace tapegrad {

template <class T = float>
class Linear : public Module<T> {
 public:
  // Initialises as PyTorch does: weight ~ Kaiming-uniform with
  // negative_slope = sqrt(5), which is U(-1/sqrt(in_features), 1/sqrt(in_features)),
  // and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
  // Throws ValueError if in_features or out_features is 0.
  Linear(std::size_t in_features, std::size_t out_features, bool bias = true,
         Generator& generator = default_generator());

  Variable<T> forward(const Variable<T>& input) override;

  std::size_t in_features() const { return in_features_; }
  std::size_t out_features() const { return out_features_; }
  const Variable<T>& weight() const { return weight_; }
  bool has_bias() const { return has_bias_; }
  // Throws GraphError when the layer was built without a bias.
  const Variable<T>& bias() const;

 private:
  std::size_t in_features_;
  std::size_t out_features_;
  bool has_bias_;
  Variable<T> weight_;
  Variable<T> bias_;
};

}  // namespace tapegrad
