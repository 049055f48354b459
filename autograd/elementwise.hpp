// Elementwise arithmetic on variables: add, sub, mul, div, neg, and the
// operators + - * / with variables and numbers.
//
// Two variables combine when their shapes are equal or one broadcasts over
// the other as a scalar, a row or a column (see autograd/broadcast.hpp).
// Other shapes throw ShapeError naming both. A number operand, of
// any arithmetic type, is converted to T and enters the graph as a constant
// 0-D variable named after its value, so tape printouts show it. A finite
// number beyond T's largest value, such as 1e300 for float, throws
// ValueError naming the op and the number.
//
// The ops follow IEEE arithmetic: NaN in gives NaN out, and x / 0 gives inf
// or NaN. Anomaly mode (set_detect_anomaly) names the first op that makes one.
#pragma once

#include <type_traits>

#include "autograd/variable.hpp"
#include "core/number.hpp"

namespace tapegrad {

template <class T>
Variable<T> add(const Variable<T>& a, const Variable<T>& b);

template <class T>
Variable<T> sub(const Variable<T>& a, const Variable<T>& b);

template <class T>
Variable<T> mul(const Variable<T>& a, const Variable<T>& b);

template <class T>
Variable<T> div(const Variable<T>& a, const Variable<T>& b);

template <class T>
Variable<T> neg(const Variable<T>& x);

namespace detail {

// A 0-D leaf that does not require grad, named after `value`.
template <class T>
Variable<T> constant(T value);

}  // namespace detail

// ---------------------------------------------------------------------------
// A variable and a number, in either order. Each throws ValueError for a
// finite number beyond T's largest value. A number broadcasts over any
// shape, so these never throw ShapeError.

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> add(const Variable<T>& x, S scalar) {
  return add(x, detail::constant(detail::convert_number<T>(scalar, "add")));
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> add(S scalar, const Variable<T>& x) {
  return add(detail::constant(detail::convert_number<T>(scalar, "add")), x);
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> sub(const Variable<T>& x, S scalar) {
  return sub(x, detail::constant(detail::convert_number<T>(scalar, "sub")));
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> sub(S scalar, const Variable<T>& x) {
  return sub(detail::constant(detail::convert_number<T>(scalar, "sub")), x);
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> mul(const Variable<T>& x, S scalar) {
  return mul(x, detail::constant(detail::convert_number<T>(scalar, "mul")));
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> mul(S scalar, const Variable<T>& x) {
  return mul(detail::constant(detail::convert_number<T>(scalar, "mul")), x);
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> div(const Variable<T>& x, S scalar) {
  return div(x, detail::constant(detail::convert_number<T>(scalar, "div")));
}

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> div(S scalar, const Variable<T>& x) {
  return div(detail::constant(detail::convert_number<T>(scalar, "div")), x);
}

// ---------------------------------------------------------------------------
// Operators. Only variables and arithmetic types match them, so they never
// take part in expressions on other types, such as tensors.

template <class T>
Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) { return add(a, b); }

template <class T>
Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) { return sub(a, b); }

template <class T>
Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) { return mul(a, b); }

template <class T>
Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) { return div(a, b); }

template <class T>
Variable<T> operator-(const Variable<T>& x) { return neg(x); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator+(const Variable<T>& x, S scalar) { return add(x, scalar); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator+(S scalar, const Variable<T>& x) { return add(scalar, x); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator-(const Variable<T>& x, S scalar) { return sub(x, scalar); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator-(S scalar, const Variable<T>& x) { return sub(scalar, x); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator*(const Variable<T>& x, S scalar) { return mul(x, scalar); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator*(S scalar, const Variable<T>& x) { return mul(scalar, x); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator/(const Variable<T>& x, S scalar) { return div(x, scalar); }

template <class T, class S>
  requires std::is_arithmetic_v<S>
Variable<T> operator/(S scalar, const Variable<T>& x) { return div(scalar, x); }

}  // namespace tapegrad
