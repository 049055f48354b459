// Legend, per row of the last axis: x is the input, y the output,
// dy = grad_output, s = softmax(x).
//
//   y = softmax(x);      dx = y * (dy - sum(dy * y))
//   y = log_softmax(x);  dx = dy - s * sum(dy),  with s = exp(y)
#include "autograd/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/kernels.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

// The rows of the last axis: a row-major tensor is `count` rows of `length`.
struct Rows {
  std::size_t count;
  std::size_t length;
};

template <class T>
Rows rows_of(const Tensor<T>& x, const char* op) {
  if (x.dimension() == 0) {
    throw ShapeError(std::string(op) +
                     ": x is 0-D, but it needs at least one axis to normalise over");
  }
  const std::size_t length = x.shape().back();
  return {length == 0 ? 0 : x.size() / length, length};
}

// The kernels expect finite values or -inf. NaN and +inf are handled here.
template <class T>
bool has_nan_or_plus_inf(const T* row, std::size_t length) {
  for (std::size_t i = 0; i < length; ++i) {
    if (std::isnan(row[i]) || row[i] == std::numeric_limits<T>::infinity()) return true;
  }
  return false;
}

template <class T>
void fill_nan(T* row, std::size_t length) {
  std::fill(row, row + length, std::numeric_limits<T>::quiet_NaN());
}

template <class T>
class SoftmaxNode : public Node<T> {
 public:
  static constexpr const char* kOp = "softmax";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& y = this->output_value();
    const Rows rows = rows_of(y, kOp);
    Tensor<T> grad_input = Tensor<T>::from_shape(y.shape());
    for (std::size_t r = 0; r < rows.count; ++r) {
      const T* y_row = y.data() + r * rows.length;
      const T* dy_row = grad_output.data() + r * rows.length;
      T* dx_row = grad_input.data() + r * rows.length;

      T dot = 0;
      for (std::size_t i = 0; i < rows.length; ++i) dot += dy_row[i] * y_row[i];
      for (std::size_t i = 0; i < rows.length; ++i) dx_row[i] = y_row[i] * (dy_row[i] - dot);
    }
    this->accumulate(0, std::move(grad_input));
  }
};

template <class T>
class LogSoftmaxNode : public Node<T> {
 public:
  static constexpr const char* kOp = "log_softmax";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& y = this->output_value();
    const Rows rows = rows_of(y, kOp);
    Tensor<T> grad_input = Tensor<T>::from_shape(y.shape());
    for (std::size_t r = 0; r < rows.count; ++r) {
      const T* y_row = y.data() + r * rows.length;
      const T* dy_row = grad_output.data() + r * rows.length;
      T* dx_row = grad_input.data() + r * rows.length;

      T grad_sum = 0;
      for (std::size_t i = 0; i < rows.length; ++i) grad_sum += dy_row[i];
      for (std::size_t i = 0; i < rows.length; ++i) {
        dx_row[i] = dy_row[i] - std::exp(y_row[i]) * grad_sum;
      }
    }
    this->accumulate(0, std::move(grad_input));
  }
};

}  // namespace

template <class T>
Variable<T> softmax(const Variable<T>& x) {
  const Tensor<T>& logits = x.value();
  const Rows rows = rows_of(logits, "softmax");
  Tensor<T> probs = Tensor<T>::from_shape(logits.shape());
  for (std::size_t r = 0; r < rows.count; ++r) {
    const T* row = logits.data() + r * rows.length;
    T* probs_row = probs.data() + r * rows.length;
    if (has_nan_or_plus_inf(row, rows.length)) {
      fill_nan(probs_row, rows.length);
    } else {
      row_softmax(row, rows.length, probs_row);
    }
  }
  return record_op<SoftmaxNode<T>>(std::move(probs), {x});
}

template <class T>
Variable<T> log_softmax(const Variable<T>& x) {
  const Tensor<T>& logits = x.value();
  const Rows rows = rows_of(logits, "log_softmax");
  Tensor<T> result = Tensor<T>::from_shape(logits.shape());
  for (std::size_t r = 0; r < rows.count; ++r) {
    const T* row = logits.data() + r * rows.length;
    T* result_row = result.data() + r * rows.length;
    if (has_nan_or_plus_inf(row, rows.length)) {
      fill_nan(result_row, rows.length);
      continue;
    }
    // A row of only -inf has logsumexp -inf, and -inf - (-inf) is NaN.
    const T logsumexp = row_logsumexp(row, rows.length);
    for (std::size_t i = 0; i < rows.length; ++i) result_row[i] = row[i] - logsumexp;
  }
  return record_op<LogSoftmaxNode<T>>(std::move(result), {x});
}

template Variable<float> softmax(const Variable<float>&);
template Variable<double> softmax(const Variable<double>&);
template Variable<float> log_softmax(const Variable<float>&);
template Variable<double> log_softmax(const Variable<double>&);

}  // namespace tapegrad
