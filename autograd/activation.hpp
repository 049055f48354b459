// Elementwise functions of one variable: exp, log, pow, relu, sigmoid, tanh.
//
// They follow IEEE arithmetic like the arithmetic ops: log of a negative
// number is NaN, log(0) is -inf, exp of a large number is inf. Anomaly mode
// (set_detect_anomaly) names the first op that makes one.
#pragma once

#include <type_traits>

#include "autograd/variable.hpp"
#include "core/number.hpp"

namespace tapegrad {

// Returns e^x.
template <class T>
Variable<T> exp(const Variable<T>& x);

// Returns the natural logarithm of x.
template <class T>
Variable<T> log(const Variable<T>& x);

namespace detail {

template <class T>
Variable<T> pow(const Variable<T>& x, T exponent);

}  // namespace detail

// Returns x raised to a number of any arithmetic type, converted to T.
// Throws ValueError for a finite exponent beyond T's largest value.
template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> pow(const Variable<T>& x, S exponent) {
  return detail::pow(x, detail::convert_number<T>(exponent, "pow"));
}

// Returns max(x, 0). NOTE: the gradient at x = 0 is 0, as in PyTorch.
template <class T>
Variable<T> relu(const Variable<T>& x);

// Returns 1 / (1 + e^-x), computed without overflow for inputs of any size.
template <class T>
Variable<T> sigmoid(const Variable<T>& x);

// Returns the hyperbolic tangent of x.
template <class T>
Variable<T> tanh(const Variable<T>& x);

}  // namespace tapegrad
