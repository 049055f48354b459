// Shape changes on variables: reshape and flatten. Both copy the values in
// row-major order into the new shape, and backward reshapes the gradient back.
#pragma once

#include <cstddef>
#include <vector>

#include "autograd/variable.hpp"

namespace tapegrad {

// Returns x with the given shape. Throws ShapeError naming both shapes when
// the element counts differ.
template <class T>
Variable<T> reshape(const Variable<T>& x, const std::vector<std::size_t>& shape);

// Returns x as [batch_size, rest]: dimension 0 is kept and the others are
// flattened into one, as torch.nn.Flatten does. Throws ShapeError for x of
// rank below 2, which has nothing to flatten.
template <class T>
Variable<T> flatten(const Variable<T>& x);

}  // namespace tapegrad
