// Legend: a and b are the inputs, y the output, dy = grad_output = d(root)/dy.
//
// Each node computes its input gradients in the output's shape. An input
// that was broadcast took part in several output elements, so its gradient
// is summed back to its own shape (accumulate_unbroadcast).
#include "autograd/elementwise.hpp"

#include <sstream>
#include <utility>

#include "autograd/broadcast.hpp"
#include "autograd/node.hpp"

namespace tapegrad {
namespace {

template <class T>
class BinaryNode : public Node<T> {
 protected:
  // Adds `gradient`, shaped like the output, to input `index`, summed over
  // the axes along which that input was broadcast.
  void accumulate_unbroadcast(std::size_t index, Tensor<T> gradient) {
    const TensorShape& input_shape = this->input_value(index).shape();
    if (gradient.shape() == input_shape) {
      this->accumulate(index, std::move(gradient));
    } else {
      this->accumulate(index, sum_to_shape(gradient, input_shape));
    }
  }
};

// y = a + b;  da = dy,  db = dy
template <class T>
class AddNode : public BinaryNode<T> {
 public:
  static constexpr const char* kOp = "add";

  void backward(const Tensor<T>& grad_output) override {
    if (this->needs_grad(0)) this->accumulate_unbroadcast(0, grad_output);
    if (this->needs_grad(1)) this->accumulate_unbroadcast(1, grad_output);
  }
};

// y = a - b;  da = dy,  db = -dy
template <class T>
class SubNode : public BinaryNode<T> {
 public:
  static constexpr const char* kOp = "sub";

  void backward(const Tensor<T>& grad_output) override {
    if (this->needs_grad(0)) this->accumulate_unbroadcast(0, grad_output);
    if (this->needs_grad(1)) this->accumulate_unbroadcast(1, -grad_output);
  }
};

// y = a * b;  da = dy * b,  db = dy * a
template <class T>
class MulNode : public BinaryNode<T> {
 public:
  static constexpr const char* kOp = "mul";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& a = this->input_value(0);
    const Tensor<T>& b = this->input_value(1);
    if (this->needs_grad(0)) this->accumulate_unbroadcast(0, grad_output * b);
    if (this->needs_grad(1)) this->accumulate_unbroadcast(1, grad_output * a);
  }
};

// y = a / b;  da = dy / b,  db = -dy * a / b²
template <class T>
class DivNode : public BinaryNode<T> {
 public:
  static constexpr const char* kOp = "div";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& a = this->input_value(0);
    const Tensor<T>& b = this->input_value(1);
    if (this->needs_grad(0)) this->accumulate_unbroadcast(0, grad_output / b);
    if (this->needs_grad(1)) this->accumulate_unbroadcast(1, -grad_output * a / (b * b));
  }
};

// y = -x;  dx = -dy
template <class T>
class NegNode : public Node<T> {
 public:
  static constexpr const char* kOp = "neg";

  void backward(const Tensor<T>& grad_output) override { this->accumulate(0, -grad_output); }
};

}  // namespace

template <class T>
Variable<T> add(const Variable<T>& a, const Variable<T>& b) {
  check_broadcast("add", a.shape(), b.shape());
  return record_op<AddNode<T>>(Tensor<T>(a.value() + b.value()), {a, b});
}

template <class T>
Variable<T> sub(const Variable<T>& a, const Variable<T>& b) {
  check_broadcast("sub", a.shape(), b.shape());
  return record_op<SubNode<T>>(Tensor<T>(a.value() - b.value()), {a, b});
}

template <class T>
Variable<T> mul(const Variable<T>& a, const Variable<T>& b) {
  check_broadcast("mul", a.shape(), b.shape());
  return record_op<MulNode<T>>(Tensor<T>(a.value() * b.value()), {a, b});
}

template <class T>
Variable<T> div(const Variable<T>& a, const Variable<T>& b) {
  check_broadcast("div", a.shape(), b.shape());
  return record_op<DivNode<T>>(Tensor<T>(a.value() / b.value()), {a, b});
}

template <class T>
Variable<T> neg(const Variable<T>& x) {
  return record_op<NegNode<T>>(Tensor<T>(-x.value()), {x});
}

template <class T>
Variable<T> detail::constant(T value) {
  Variable<T> result{Tensor<T>(value)};
  std::ostringstream name;
  name << value;
  result.set_name(name.str());
  return result;
}

template Variable<float> add(const Variable<float>&, const Variable<float>&);
template Variable<double> add(const Variable<double>&, const Variable<double>&);
template Variable<float> sub(const Variable<float>&, const Variable<float>&);
template Variable<double> sub(const Variable<double>&, const Variable<double>&);
template Variable<float> mul(const Variable<float>&, const Variable<float>&);
template Variable<double> mul(const Variable<double>&, const Variable<double>&);
template Variable<float> div(const Variable<float>&, const Variable<float>&);
template Variable<double> div(const Variable<double>&, const Variable<double>&);
template Variable<float> neg(const Variable<float>&);
template Variable<double> neg(const Variable<double>&);
template Variable<float> detail::constant(float);
template Variable<double> detail::constant(double);

}  // namespace tapegrad
