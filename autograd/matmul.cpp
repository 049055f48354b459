// Legend: x, a, b are inputs, W the weight [out_features, in_features], y the
// output, dy = grad_output. ᵀ marks a transpose, which gemm reads through a
// flag instead of a copy.
#include "autograd/matmul.hpp"

#include <algorithm>
#include <string>

#include <xtensor/xmanipulation.hpp>

#include "autograd/broadcast.hpp"
#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/shape.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

template <class T>
class ProductNode : public Node<T> {
 protected:
  // Writes op(a) · op(b) into the gradient of input `index`, or adds it
  // (beta = 1) when that gradient already contains a contribution.
  void accumulate_product(std::size_t index, const Tensor<T>& a, Transpose transpose_a,
                          const Tensor<T>& b, Transpose transpose_b) {
    auto slot = this->grad_slot(index);
    const std::size_t inner = a.shape()[transpose_a == Transpose::yes ? 0 : 1];
    if (inner == 0) {
      // The product of empty matrices is zero. core's gemm scales its output
      // by beta in this case, which would read a fresh, uninitialised buffer.
      if (slot.fresh) slot.grad.fill(T(0));
      return;
    }
    gemm(a, transpose_a, b, transpose_b, T(1), slot.fresh ? T(0) : T(1), slot.grad);
  }
};

// y = a · b;  da = dy · bᵀ  [M, N]·[N, K],  db = aᵀ · dy  [K, M]·[M, N]
template <class T>
class MatmulNode : public ProductNode<T> {
 public:
  static constexpr const char* kOp = "matmul";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& a = this->input_value(0);
    const Tensor<T>& b = this->input_value(1);
    if (this->needs_grad(0)) {
      this->accumulate_product(0, grad_output, Transpose::no, b, Transpose::yes);
    }
    if (this->needs_grad(1)) {
      this->accumulate_product(1, a, Transpose::yes, grad_output, Transpose::no);
    }
  }
};

// y = xᵀ;  dx = dyᵀ
template <class T>
class TransposeNode : public Node<T> {
 public:
  static constexpr const char* kOp = "transpose";

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, Tensor<T>(xt::transpose(grad_output)));
  }
};

// y = x · Wᵀ + bias  [B, in]·[in, out] + [out] over each row
// dx = dy · W   [B, out]·[out, in]
// dW = dyᵀ · x  [out, B]·[B, in]
// dbias = sum over the batch of dy
template <class T>
class LinearNode : public ProductNode<T> {
 public:
  static constexpr const char* kOp = "linear";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& x = this->input_value(0);
    const Tensor<T>& weight = this->input_value(1);
    if (this->needs_grad(0)) {
      this->accumulate_product(0, grad_output, Transpose::no, weight, Transpose::no);
    }
    if (this->needs_grad(1)) {
      this->accumulate_product(1, grad_output, Transpose::yes, x, Transpose::no);
    }
    // The bias was added to every row, so its gradient sums the rows.
    if (this->inputs().size() == 3 && this->needs_grad(2)) {
      const auto slot = this->grad_slot(2);
      sum_rows(grad_output, slot.grad.data(), /*add=*/!slot.fresh);
    }
  }
};

template <class T>
void check_linear_shapes(const Tensor<T>& x, const Tensor<T>& weight) {
  check_rank(x, 2, "linear: x");
  check_rank(weight, 2, "linear: weight");
  if (x.shape()[1] != weight.shape()[1]) {
    // Either side may be the mistake, so the message states the rule and
    // both fixes.
    const std::string in_features = std::to_string(weight.shape()[1]);
    throw ShapeError("linear: x is " + format_shape(x.shape()) + " and weight is " +
                     format_shape(weight.shape()) + " [out_features, in_features], so x must have " +
                     in_features + " columns; pass x shaped [batch, " + in_features +
                     "], or a layer made for " + std::to_string(x.shape()[1]) + " input features");
  }
}

}  // namespace

template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b) {
  // core's matmul checks ranks and inner sizes, naming both shapes.
  return record_op<MatmulNode<T>>(matmul(a.value(), b.value()), {a, b});
}

template <class T>
Variable<T> transpose(const Variable<T>& x) {
  check_rank(x.value(), 2, "transpose: x");
  return record_op<TransposeNode<T>>(Tensor<T>(xt::transpose(x.value())), {x});
}

template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& weight, const Variable<T>& bias) {
  check_linear_shapes(x.value(), weight.value());
  const std::size_t batch_size = x.shape()[0];
  const std::size_t out_features = weight.shape()[0];
  if (bias.value().dimension() != 1 || bias.shape()[0] != out_features) {
    throw ShapeError("linear: bias is " + format_shape(bias.shape()) + " but must be [" +
                     std::to_string(out_features) + "], one value per row of weight " +
                     format_shape(weight.shape()));
  }

  // Start from the bias in every row and let one GEMM add x · Wᵀ (beta = 1).
  Tensor<T> result = pooled_tensor<T>({batch_size, out_features});
  const T* bias_values = bias.value().data();
  for (std::size_t row = 0; row < batch_size; ++row) {
    std::copy(bias_values, bias_values + out_features, result.data() + row * out_features);
  }
  gemm(x.value(), Transpose::no, weight.value(), Transpose::yes, T(1), T(1), result);
  return record_op<LinearNode<T>>(std::move(result), {x, weight, bias});
}

template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& weight) {
  check_linear_shapes(x.value(), weight.value());
  Tensor<T> result = matmul(x.value(), weight.value(), Transpose::no, Transpose::yes);
  return record_op<LinearNode<T>>(std::move(result), {x, weight});
}

template Variable<float> matmul(const Variable<float>&, const Variable<float>&);
template Variable<double> matmul(const Variable<double>&, const Variable<double>&);
template Variable<float> transpose(const Variable<float>&);
template Variable<double> transpose(const Variable<double>&);
template Variable<float> linear(const Variable<float>&, const Variable<float>&,
                                const Variable<float>&);
template Variable<double> linear(const Variable<double>&, const Variable<double>&,
                                 const Variable<double>&);
template Variable<float> linear(const Variable<float>&, const Variable<float>&);
template Variable<double> linear(const Variable<double>&, const Variable<double>&);

}  // namespace tapegrad
