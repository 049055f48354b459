// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_.
// Parameters without a gradient are skipped.
#pragma once

#include <vector>

#include "autograd/variable.hpp"

namespace tapegrad {

// Scales all gradients together so that their global L2 norm is at most
// max_norm, by max_norm / (norm + 1e-6) as PyTorch does, and returns the norm
// before clipping. Throws ValueError for a negative max_norm, and for a norm
// that is NaN or inf, because scaling cannot repair such gradients.
template <class T>
double clip_grad_norm(const std::vector<Variable<T>>& parameters, double max_norm);

// Clamps every gradient element into [-clip_value, clip_value]. Throws
// ValueError for a negative or NaN clip_value.
template <class T>
void clip_grad_value(const std::vector<Variable<T>>& parameters, double clip_value);

}  // namespace tapegrad
