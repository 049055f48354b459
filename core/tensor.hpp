// The tensor type of tapegrad: an alias of xtensor's row-major n-d array.
//
// Being an alias, not a wrapper, a Tensor<T> is an xt::xarray<T>: storage,
// views, broadcasting and printing come from xtensor, and template argument
// deduction works on every function that takes one. T is float for training
// and double for gradient checks.
#pragma once

#include <xtensor/xarray.hpp>
#include <xtensor/xio.hpp>

namespace tapegrad {

template <class T>
using Tensor = xt::xarray<T>;

}  // namespace tapegrad
