// Reductions on variables: sum and mean, over all elements or along one axis.
#pragma once

#include <cstddef>

#include "autograd/variable.hpp"

namespace tapegrad {

// Returns the sum of all elements of x as a 0-D variable, which is 0 for an
// empty x.
template <class T>
Variable<T> sum(const Variable<T>& x);

// Returns the mean of all elements of x as a 0-D variable. Throws ValueError
// for an empty x, whose mean is undefined.
template <class T>
Variable<T> mean(const Variable<T>& x);

// Returns the sum of x along `axis`. A negative axis counts from the end, as
// in NumPy: -1 is the last axis. The result drops the axis, or keeps it with
// size 1 when keepdims is true. Throws ShapeError naming the axis and x's
// rank when the axis is out of range.
template <class T>
Variable<T> sum(const Variable<T>& x, std::ptrdiff_t axis, bool keepdims = false);

// Returns the mean of x along `axis`, with the axis rules of sum. Throws
// ValueError when the axis has size 0.
template <class T>
Variable<T> mean(const Variable<T>& x, std::ptrdiff_t axis, bool keepdims = false);

}  // namespace tapegrad
