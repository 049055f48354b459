// Dropout: inverted dropout, as torch.nn.Dropout.
//
// In training mode each element is zeroed with probability p and the others
// are scaled by 1 / (1 - p), so the expected value is unchanged and
// evaluation needs no rescaling. In evaluation mode it is the identity.
#pragma once

#include "core/random.hpp"
#include "nn/module.hpp"

namespace tapegrad {

template <class T = float>
class Dropout : public Module<T> {
 public:
  // Throws ValueError unless 0 <= p <= 1. The generator must outlive the
  // module; with p = 1 every element is zeroed.
  explicit Dropout(double p = 0.5, Generator& generator = default_generator());

  Variable<T> forward(const Variable<T>& input) override;

  double p() const { return p_; }

 private:
  double p_;
  Generator* generator_;
};

}  // namespace tapegrad
