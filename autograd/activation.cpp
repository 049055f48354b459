// Legend: x is the input, y the output, dy = grad_output. Where the
// derivative is a function of y, backward reads the saved output instead of
// recomputing it.
#include "autograd/activation.hpp"

#include <algorithm>
#include <cmath>

#include <xtensor/xmath.hpp>

#include "autograd/node.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

// y = e^x;  dx = dy * y
template <class T>
class ExpNode : public Node<T> {
 public:
  static constexpr const char* kOp = "exp";

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, grad_output * this->output_value());
  }
};

// y = log(x);  dx = dy / x
template <class T>
class LogNode : public Node<T> {
 public:
  static constexpr const char* kOp = "log";

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, grad_output / this->input_value(0));
  }
};

// y = x^p;  dx = dy * p * x^(p - 1)
template <class T>
class PowNode : public Node<T> {
 public:
  static constexpr const char* kOp = "pow";

  explicit PowNode(T exponent) : exponent_(exponent) {}

  void backward(const Tensor<T>& grad_output) override {
    // x^0 is constant. Its gradient is 0 even at x = 0, where the formula
    // would give 0 * 0^-1 = 0 * inf = NaN.
    if (exponent_ == T(0)) {
      this->accumulate(0, Tensor<T>(xt::zeros<T>(grad_output.shape())));
      return;
    }
    const Tensor<T>& x = this->input_value(0);
    this->accumulate(0, grad_output * exponent_ * xt::pow(x, exponent_ - T(1)));
  }

 private:
  T exponent_;
};

// y = max(x, 0);  dx = dy where x > 0, else 0
// NOTE: relu has no derivative at x = 0; like PyTorch, backward uses 0 there.
template <class T>
class ReluNode : public Node<T> {
 public:
  static constexpr const char* kOp = "relu";

  void backward(const Tensor<T>& grad_output) override {
    const T* x = this->input_value(0).data();
    const T* dy = grad_output.data();
    this->accumulate_elementwise(0, [=](std::size_t i) { return x[i] > T(0) ? dy[i] : T(0); });
  }
};

// y = 1 / (1 + e^-x);  dx = dy * y * (1 - y)
template <class T>
class SigmoidNode : public Node<T> {
 public:
  static constexpr const char* kOp = "sigmoid";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& y = this->output_value();
    this->accumulate(0, grad_output * y * (T(1) - y));
  }
};

// y = tanh(x);  dx = dy * (1 - y²)
template <class T>
class TanhNode : public Node<T> {
 public:
  static constexpr const char* kOp = "tanh";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& y = this->output_value();
    this->accumulate(0, grad_output * (T(1) - y * y));
  }
};

// e^-x overflows for x below about -88 in float (-709 in double), so a
// negative x uses the equal form e^x / (1 + e^x), where e^x only underflows
// towards 0. NaN fails the comparison and comes out as NaN.
template <class T>
T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T exp_x = std::exp(x);
  return exp_x / (T(1) + exp_x);
}

}  // namespace

template <class T>
Variable<T> exp(const Variable<T>& x) {
  return record_op<ExpNode<T>>(Tensor<T>(xt::exp(x.value())), {x});
}

template <class T>
Variable<T> log(const Variable<T>& x) {
  return record_op<LogNode<T>>(Tensor<T>(xt::log(x.value())), {x});
}

template <class T>
Variable<T> detail::pow(const Variable<T>& x, T exponent) {
  return record_op<PowNode<T>>(Tensor<T>(xt::pow(x.value(), exponent)), {x}, exponent);
}

template <class T>
Variable<T> relu(const Variable<T>& x) {
  const Tensor<T>& value = x.value();
  Tensor<T> result = pooled_tensor<T>(value.shape());
  const T* in = value.data();
  T* out = result.data();
  // Comparing x < 0, rather than taking max(x, 0), keeps relu(NaN) = NaN.
  parallel_for(value.size(), kElementwiseGrain, [=](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) out[i] = in[i] < T(0) ? T(0) : in[i];
  });
  return record_op<ReluNode<T>>(std::move(result), {x});
}

template <class T>
Variable<T> sigmoid(const Variable<T>& x) {
  const Tensor<T>& value = x.value();
  Tensor<T> result = Tensor<T>::from_shape(value.shape());
  std::transform(value.data(), value.data() + value.size(), result.data(), stable_sigmoid<T>);
  return record_op<SigmoidNode<T>>(std::move(result), {x});
}

template <class T>
Variable<T> tanh(const Variable<T>& x) {
  return record_op<TanhNode<T>>(Tensor<T>(xt::tanh(x.value())), {x});
}

template Variable<float> exp(const Variable<float>&);
template Variable<double> exp(const Variable<double>&);
template Variable<float> log(const Variable<float>&);
template Variable<double> log(const Variable<double>&);
template Variable<float> detail::pow(const Variable<float>&, float);
template Variable<double> detail::pow(const Variable<double>&, double);
template Variable<float> relu(const Variable<float>&);
template Variable<double> relu(const Variable<double>&);
template Variable<float> sigmoid(const Variable<float>&);
template Variable<double> sigmoid(const Variable<double>&);
template Variable<float> tanh(const Variable<float>&);
template Variable<double> tanh(const Variable<double>&);

}  // namespace tapegrad
